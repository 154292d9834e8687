"""Figures of chapter 3 (coding three equiprobable symbols).

:func:`block_rates` is the interactive figure of the rates of block codes;
:func:`announce_block_rates` gives, for one slider position, the numbers its caption
says matter (the figure's readout). Everything drawn comes from :mod:`softmaxbook.coding`.
"""

from __future__ import annotations

import numpy as np

from .. import coding
from ..i18n import _
from ..interactive import PALETTE, Axes, Figure, HLine, Line, Points, Slider

#: Largest block length drawn.
N_MAX = 41


def block_rate_curves(n_max: int = N_MAX) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n, fixed block code, Huffman on blocks)``, in bits per trit, for n = 1..n_max."""
    ns = np.arange(1, n_max + 1)
    fixed = np.array([coding.block_bits(int(n)) / n for n in ns])
    huffman = np.array([coding.equiprobable_huffman_bits(3 ** int(n)) / (int(n) * 3 ** int(n)) for n in ns])
    return ns, fixed, huffman


def _block_length(params: dict) -> int:
    n = int(round(float(params["n"])))
    if not 1 <= n <= N_MAX:
        raise ValueError(f"block length n must be between 1 and {N_MAX}, got {params['n']!r}")
    return n


def announce_block_rates(params: dict) -> str:
    """What matters at block length ``params["n"]``: both rates and their excess over log₂3."""
    n = _block_length(params)
    ns, fixed, huffman = block_rate_curves(n)
    over, h_over = (100 * (rate[-1] / coding.LOG2_3 - 1) for rate in (fixed, huffman))
    return _("n = {n}: fixed block code {bits} bits, {rate} bits per trit (+{over} % over log₂3); "
             "Huffman on blocks {huffman} (+{huffman_over} %)").format(
        n=n, bits=coding.block_bits(n), rate=f"{fixed[-1]:.4f}", over=f"{over:.2f}",
        huffman=f"{huffman[-1]:.4f}", huffman_over=f"{h_over:.2f}")


def block_rates() -> Figure:
    """Bits per trit of the fixed block code and of Huffman on blocks, against log₂3, with a slider on n."""
    ns, fixed, huffman = block_rate_curves()
    H = coding.LOG2_3
    records = ", ".join(map(str, coding.record_block_lengths(N_MAX)))

    def draw(n):
        # the numbers at n (bits per block, excess in %) are the figure's readout, under it
        i = _block_length({"n": n}) - 1
        b, h = fixed[i], huffman[i]
        return [
            Line(ns, fixed, label=_("fixed block code"), color=PALETTE.blue),
            Line(ns, huffman, label=_("Huffman on blocks"), dash=True, color=PALETTE.vermilion),
            HLine(H, label=_("entropy log₂3 = {value}").format(value=f"{H:.5f}"), color=PALETTE.green),
            Points([ns[i], ns[i]], [b, h], size=9, label=_("block length n"), color=PALETTE.purple),
            Line(ns, fixed - H, panel=1, label=_("fixed block code"), color=PALETTE.blue),
            Line(ns, huffman - H, panel=1, dash=True, label=_("Huffman on blocks"), color=PALETTE.vermilion),
            Line(ns, 1 / ns, panel=1, dash=True, width=1.2, label=_("bound 1/n"), color=PALETTE.black),
            Points([ns[i], ns[i]], [b - H, h - H], panel=1, size=9, color=PALETTE.purple),
        ]

    return Figure(
        draw,
        sliders=[Slider("n", ns, label=_("block length n"), default=5, fmt="{:.0f}", unit=(_("trit"), _("trits")))],
        announce=announce_block_rates,
        axes=[Axes(xlabel=_("block length n (trits)"), ylabel=_("bits per trit"), ylim=(1.56, 2.06)),
              Axes(xlabel=_("block length n (trits)"), ylabel=_("bits per trit above log₂3"),
                   yscale="log", ylim=(5e-5, 1.5), legend=False)],
        caption=_("First panel: bits per trit of the fixed-length block code ⌈n log₂3⌉/n and of Huffman’s code "
                  "on the 3ⁿ blocks, against the entropy log₂3. Second panel: the excess over log₂3 on a log "
                  "scale, always below the bound 1/n. The records of the block code are n = {records}; "
                  "both codes zigzag down towards log₂3.").format(records=records),
        alt=_("Two line charts against the block length n from 1 to {n_max}. First: bits per trit of the fixed "
              "block code and of Huffman on blocks zigzag from 2 and 5/3 down towards the entropy line "
              "log₂3. Second: their excess over the entropy on a log scale, under a dashed 1/n curve. "
              "A slider selects n and marks both codes at that n.").format(n_max=N_MAX),
        width=10.0, height=4.0,
    )
