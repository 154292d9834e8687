"""What figure text must never show (shared by the figure-module tests and the browser tests).

A reader sees or hears figure text in titles, axis and tick labels, legends, notes, slider
labels and values, heatmap cells, the readout, the Data tables, captions and alt text.
It is typeset like the prose: pᵢ, ℓ(Wₖ), eᶿ, 3×10⁻⁵, −1.5.
"""

from __future__ import annotations

import re

#: (pattern, why) of raw notation.
RAW = [
    (re.compile(r"_"), "underscore notation (write pᵢ, Wₖ)"),
    (re.compile(r"\^"), "caret notation (write eᶿ, 10⁻⁶)"),
    (re.compile(r"(?<![\w.])[-−]0(?:\.0+)?(?![\d.])"), "a signed zero"),
    (re.compile(r"\de[-+−]?\d"), "a computer exponent (write 3×10⁻⁵)"),
    (re.compile(r"(?<!\w)-(?=\d)"), "a hyphen as minus sign (write −)"),
    (re.compile(r"\$"), "TeX"),
]


def raw_notation(text: str) -> list[str]:
    """Why ``text`` is not typeset like the prose (empty when it is)."""
    return [why for pattern, why in RAW if pattern.search(str(text))]
