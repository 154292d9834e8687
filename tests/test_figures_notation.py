"""Every figure of softmaxbook.figures, read as text: notation typeset like the prose, colours by name.

What a reader sees or hears of a figure (titles, axis labels, tick labels, legends, notes,
slider labels and values, heatmap cells, the readout sentences, caption and alt text) must
not show raw notation (``p_i``, ``e^θ``), a signed zero ("-0.000"), a computer exponent
("3e-05") or a hyphen for a minus sign (tests/figure_text.py). The browser tests check the
same on the pages, including what the page script adds (the Data tables).
"""

from __future__ import annotations

import inspect
import pkgutil
import re
from importlib import import_module
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import softmaxbook.figures  # noqa: E402
from figure_text import raw_notation  # noqa: E402
from softmaxbook.interactive import PALETTE, Figure, ScreenFigure  # noqa: E402

MODULES = sorted(m.name for m in pkgutil.iter_modules(softmaxbook.figures.__path__))
#: Figure functions that need arguments: the arguments the chapters pass.
ARGUMENTS = {("ch2", "errors"): (np.log([2.0, 3.0, 5.0]), np.array([0.0, 1.0, 0.0]))}

def figures():
    """(name, description) of every figure the figure modules build, static ones included."""
    found = []
    for mod_name in MODULES:
        mod = import_module(f"softmaxbook.figures.{mod_name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != mod.__name__:
                continue
            required = [p for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
            if required and (mod_name, name) not in ARGUMENTS:
                continue  # not a figure builder (those take no argument, or are listed in ARGUMENTS)
            result = fn(*ARGUMENTS.get((mod_name, name), ()))
            for r in result if isinstance(result, tuple) else (result,):
                if isinstance(r, ScreenFigure):
                    matplotlib.pyplot.close(r)
                    r = r.description
                if isinstance(r, Figure):
                    found.append((f"{mod_name}.{name}", r))
    return found


FIGURES = figures()


def test_every_figure_of_the_chapters_is_scanned():
    names = {n for n, _ in FIGURES}
    assert {"ch1.bernoulli_explorer", "ch2.hessian_explorer", "ch2.errors", "ch3.block_rates", "ch4.lse_gap",
            "ch4.lse_lambda", "ch4.gumbel_errors", "connections.simplex_figure", "connections.race_figure"} <= names


def texts(fig: Figure) -> list[tuple[str, str]]:
    """(where, text) of everything a reader sees or hears of ``fig``, at every position."""
    P = fig.payload()
    out = [("caption", fig.caption), ("alt", fig.alt), ("title", P["title"])]
    for k, pn in enumerate(P["panels"]):
        out += [(f"panel {k} {key}", pn[key]) for key in ("xlabel", "ylabel", "title")]
        out += [(f"panel {k} tick", label) for key in ("xticks", "yticks") for _, label in pn[key]]
    out += [(f"trace {i} label", t["label"]) for i, t in enumerate(P["traces"]) if t["label"]]
    for s in P["sliders"]:
        out += [("slider label", s["label"])] + [("slider value", v) for v in s["text"]]
    out += [("readout", a) for a in P["announce"] if a]
    for f, frame in enumerate(P["frames"]):
        for i, t in enumerate(P["traces"]):
            data = dict(t["static"]) | (frame[i] or {})
            if t["kind"] == "text":
                out.append((f"note of trace {i} at frame {f}", data["text"]))
            elif t["kind"] == "heatmap":
                out += [(f"heatmap cell at frame {f}", c) for c in data["text"]]
    return out


@pytest.mark.parametrize("name, fig", FIGURES, ids=[n for n, _ in FIGURES])
def test_figure_text_is_typeset_like_the_prose(name, fig):
    bad = sorted({f"{where}: {text!r} ({why})" for where, text in texts(fig) for why in raw_notation(text)})
    assert not bad, "\n".join(bad[:20])


@pytest.mark.parametrize("text", ["p_i = E[Y_i]", "l(W_k) − l*", "log(1 + e^θ)", "−0.000", "-0.00", "gap 3e-05",
                                  "o = (-6, 0, 0)", "$x$"])
def test_the_scan_finds_raw_notation(text):
    assert raw_notation(text)


@pytest.mark.parametrize("text", ["pᵢ = E[Yᵢ]", "ℓ(Wₖ) − ℓ*", "log(1 + eᶿ)", "0.000", "−0.005", "3×10⁻⁵",
                                  "o = (−6, 0, 0)", "x₂ in x = (1, x₂, −1)", "log-log", "+0.0"])
def test_the_scan_passes_typeset_text(text):
    assert not raw_notation(text)


@pytest.mark.parametrize("name, fig", FIGURES, ids=[n for n, _ in FIGURES])
def test_figure_colours_come_from_the_palette(name, fig):
    colours = {t["color"] for t in fig.payload()["traces"]} - {None}
    assert colours <= set(PALETTE), colours - set(PALETTE)


def test_figure_modules_name_their_colours():
    """No colour literal in softmaxbook/figures/: PALETTE.blue, not "#0072B2"."""
    root = Path(softmaxbook.figures.__file__).parent
    literal = re.compile(r"""["']#(?:[0-9A-Fa-f]{3}){1,2}["']|["'](?:rgb|hsl)a?\(""")
    found = [f"{p.name}:{n}: {line.strip()}" for p in sorted(root.glob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if literal.search(line)]
    assert not found, "\n".join(found)
