"""Interactive figures: live in a kernel, kernel-free on the website.

One description gives both. A chapter writes a *pure* function of the slider values
that returns what is drawn (a list of traces), and the sliders with their grids::

    from softmaxbook.interactive import Axes, Figure, Line, Slider

    def draw(lam):
        return [Line(x, lse_max(lam * x) / lam, label=r"$\\lambda^{-1}$LSE")]

    Figure(draw, sliders=[Slider("lam", np.geomspace(0.1, 50, 41), label="λ")],
           axes=[Axes(xlabel="x", ylabel="value")], caption="...", alt="...")

Displayed as the last expression of a cell, the figure gives one output with two
representations:

* ``application/vnd.jupyter.widget-view+json``: ipywidgets sliders redrawing a
  matplotlib figure, for a running kernel (Jupyter, Binder);
* ``text/html``: a self-contained kernel-free figure. Every frame (every point of the
  slider grid) is computed in Python when the notebook runs and embedded as JSON; a
  small script (``static/kfig.js``, inlined, no CDN) redraws an SVG from it.

The book's configuration drops the widget view from HTML builds, so the website
shows the kernel-free figure and JupyterLab the live one. Both draw the traces that
the same ``draw`` function returns for the same slider values.

The kernel-free figure is meant for every reader: text in CSS px that stacks on a phone,
labelled sliders that speak their values, work with the keyboard and stay on screen with
the panels they drive, one sentence per position (``announce=``, precomputed like the
frames) shown under the figure and read by a polite live region, a "Data" table of the
numbers drawn, colours that follow the theme's dark mode.

A figure without sliders is a *static* figure drawn the same way (:func:`static_figure`):
a matplotlib figure, for ``plt.show()`` and ``savefig``, whose rich display is the
kernel-free SVG, so that its text is real text sized in CSS px on the website too.

Figure text is plain Unicode typeset like the prose: pᵢ, E[Yᵢ], ℓ(Wₖ), eᶿ, 10⁻⁶, never
``p_i`` or ``e^θ``; numbers go through :func:`number` (a minus sign, no "−0.000", no
``1e-05``). Colours are named: ``PALETTE.blue``, ``PALETTE.vermilion``, ...

Figure text in the reader's language (:mod:`softmaxbook.i18n`): every text a reader sees
(labels, titles, legends, slider labels and units, notes, readouts, caption, alt text) may
be a message, ``_("value")``; the payload carries every language in the book build and the
script shows the page's (``document.documentElement.lang``), the live view the session's.

Traces (each takes ``panel=k`` to pick one of the figure's axes, default 0):
:class:`Line`, :class:`Points`, :class:`Band`, :class:`Bars`, :class:`Heatmap`,
:class:`HLine`, :class:`VLine`, :class:`Text`.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
import uuid
from collections import namedtuple
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
from matplotlib.figure import Figure as _MplFigure

from . import i18n
from .i18n import Message, _

Palette = namedtuple("Palette", "blue vermilion green purple orange sky black yellow grey")
#: The colours of every figure, by name: the Okabe-Ito palette (distinguishable with the
#: common colour-vision deficiencies) and a neutral grey (4.5:1 on white). The page script
#: (static/kfig.js) draws each with a CSS custom property that follows the dark mode, so a
#: figure names these colours, never a literal.
PALETTE = Palette(blue="#0072B2", vermilion="#D55E00", green="#009E73", purple="#CC79A7",
                  orange="#E69F00", sky="#56B4E9", black="#000000", yellow="#F0E442", grey="#767676")
#: The colours a trace gets when it names none: those of PALETTE with at least 3:1 contrast
#: on the light page (orange, sky blue and yellow fall below it; use them for fills).
DEFAULT_CYCLE = [PALETTE.blue, PALETTE.vermilion, PALETTE.green, PALETTE.purple, PALETTE.black]

#: Significant digits kept in the precomputed frames (the JSON embedded in pages).
DIGITS = 4

#: Upper bound on frames (points of the slider grid) of one figure; keeps pages light.
MAX_FRAMES = 2500


def _plain_text(text, what: str):
    """Labels are drawn as SVG text and by matplotlib alike: plain Unicode, no TeX."""
    if text is not None and "$" in str(text):
        raise ValueError(
            f"{what} {text!r}: labels are plain text shown in SVG and matplotlib alike; "
            "write λ, ⁻¹, ≤, ² in Unicode instead of $...$ TeX"
        )
    return text


def joined(sep, parts) -> Message | str:
    """``parts`` (messages or text) joined by ``sep`` (text, or a message: ``_(", ")`` is "，"
    in Chinese), in every language of the course.

    >>> joined(_(", "), ["λ = 1", _("value")]).text("zh_CN")
    'λ = 1，值'
    """
    parts = list(parts)
    if not parts:
        return ""  # not Message(""): gettext's id "" is the catalogue's header
    kwargs = {f"p{k}": part for k, part in enumerate(parts)} | {"sep": sep}
    return Message("{sep}".join("{p%d}" % k for k in range(len(parts))), kwargs)


_SUPERSCRIPT = str.maketrans("+-0123456789", "⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_EXPONENT = re.compile(r"(\d(?:\.\d*)?)e([+-]?)0*(\d+)")
_MINUS = re.compile(r"-(?=[\d.])")
_SIGNED_ZERO = re.compile(r"−(0(?:\.0*)?)(?![\d.])")


def tidy(text: str) -> str:
    """Numbers in ``text`` as the prose writes them: ``1e-05`` → ``1×10⁻⁵``, a minus sign
    (−) for the hyphen, and no sign on a zero that rounding made negative (−0.000 → 0.000).

    >>> tidy("-0.000, -1.5e-05 and 3e+02")
    '0.000, −1.5×10⁻⁵ and 3×10²'
    """
    text = _EXPONENT.sub(lambda m: f"{m[1]}×10{(m[2].replace('+', '') + m[3]).translate(_SUPERSCRIPT)}", text)
    return _SIGNED_ZERO.sub(r"\1", _MINUS.sub("−", text))


def number(value: float, spec: str = ".3g") -> str:
    """``value`` formatted with ``spec`` (as :func:`format`), then :func:`tidy`: a figure's numbers.

    >>> number(-0.0001, ".3f"), number(2.5e-5), number(-6)
    ('0.000', '2.5×10⁻⁵', '−6')
    """
    return tidy(format(value, spec))


def _vector(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    return a


def _round(a: np.ndarray) -> list:
    """Round to DIGITS significant digits for JSON; non-finite values become None (gaps)."""
    out = []
    for v in np.asarray(a, dtype=float).ravel().tolist():
        out.append(float(f"{v:.{DIGITS}g}") if math.isfinite(v) else None)
    return out


# --------------------------------------------------------------------------- traces
@dataclass
class Trace:
    """Base class of what a draw function returns; ``panel`` selects the axes."""

    panel: int = field(default=0, kw_only=True)
    label: str | None = field(default=None, kw_only=True)
    color: str | None = field(default=None, kw_only=True)

    kind = "trace"
    #: names of the numeric arrays of this trace (serialised, compared, scaled)
    arrays: ClassVar[tuple[str, ...]] = ()
    #: names of the arrays that are one-dimensional and of one common length
    vectors: ClassVar[tuple[str, ...]] = ()
    #: names of non-numeric fields that may change from frame to frame
    texts: ClassVar[tuple[str, ...]] = ()
    #: True when the panel's y axis must point down (row 0 of a matrix at the top)
    flips_y: ClassVar[bool] = False

    def __post_init__(self):
        _plain_text(self.label, "trace label")
        for name in self.vectors:
            setattr(self, name, _vector(getattr(self, name), f"{type(self).__name__} {name}"))
        sizes = [getattr(self, name).size for name in self.vectors]
        if len(set(sizes)) > 1:
            listed = ", ".join(f"{n} {k}" for n, k in zip(self.vectors, sizes))
            raise ValueError(f"{type(self).__name__} arrays differ in length: {listed}")

    def data(self) -> dict[str, list]:
        return {name: _round(getattr(self, name)) for name in self.arrays}

    def style(self) -> dict[str, Any]:
        """Fields that must stay the same in every frame."""
        return {"kind": self.kind, "panel": self.panel, "label": self.label, "color": self.color}

    def extent(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y values that the axes must show (for automatic limits)."""
        return np.array([]), np.array([])

    def draw_mpl(self, ax, color: str) -> None:
        """Draw this trace on the matplotlib axes ``ax`` (the live widget's view)."""
        raise NotImplementedError(f"{type(self).__name__} has no matplotlib drawing")


@dataclass
class Line(Trace):
    """A polyline through ``(x, y)``; NaN or inf leaves a gap."""

    x: Any
    y: Any
    dash: bool = field(default=False, kw_only=True)
    width: float = field(default=2.0, kw_only=True)
    kind = "line"
    arrays = vectors = ("x", "y")

    def style(self):
        return super().style() | {"dash": self.dash, "width": self.width}

    def extent(self):
        return self.x, self.y

    def draw_mpl(self, ax, color):
        ax.plot(self.x, self.y, color=color, lw=self.width, ls="--" if self.dash else "-", label=self.label)


@dataclass
class Points(Line):
    """Markers at ``(x, y)``."""

    size: float = field(default=6.0, kw_only=True)
    kind = "points"

    def style(self):
        return Trace.style(self) | {"size": self.size}

    def draw_mpl(self, ax, color):
        ax.plot(self.x, self.y, "o", color=color, ms=self.size, label=self.label)


@dataclass
class Band(Trace):
    """The region between ``y1`` and ``y2`` over ``x`` (filled, translucent)."""

    x: Any
    y1: Any
    y2: Any
    kind = "band"
    arrays = vectors = ("x", "y1", "y2")

    def extent(self):
        return np.concatenate([self.x, self.x]), np.concatenate([self.y1, self.y2])

    def draw_mpl(self, ax, color):
        ax.fill_between(self.x, self.y1, self.y2, color=color, alpha=0.2, label=self.label, lw=0)


@dataclass
class Bars(Trace):
    """Vertical bars of ``heights`` at positions ``x`` (width 0.8 by default)."""

    x: Any
    heights: Any
    width: float = field(default=0.8, kw_only=True)
    kind = "bars"
    arrays = vectors = ("x", "heights")

    def style(self):
        return super().style() | {"width": self.width}

    def extent(self):
        h = self.width / 2
        return np.concatenate([self.x - h, self.x + h]), np.concatenate([self.heights, [0.0]])

    def draw_mpl(self, ax, color):
        ax.bar(self.x, self.heights, width=self.width, color=color, label=self.label)


@dataclass
class Heatmap(Trace):
    """A matrix drawn as coloured cells (row 0 at the top), values written in the cells.

    Cell ``(i, j)`` covers ``x`` in ``[j - 0.5, j + 0.5]`` and ``y`` in ``[i - 0.5, i + 0.5]``
    with the y axis pointing down, as ``imshow`` draws it. Colours run from blue
    (``-vmax``) through white (0) to red (``+vmax``).
    """

    z: Any
    vmax: float = field(default=1.0, kw_only=True)
    fmt: str = field(default="{:.3f}", kw_only=True)
    kind = "heatmap"
    arrays = ("z",)
    flips_y = True

    def __post_init__(self):
        super().__post_init__()
        self.z = np.asarray(self.z, dtype=float)
        if self.z.ndim != 2:
            raise ValueError(f"Heatmap z must be a matrix, got shape {self.z.shape}")
        if not self.vmax > 0:
            raise ValueError("Heatmap vmax must be positive")

    def texts_of_cells(self) -> list[str]:
        """The text of every cell, row by row (``fmt``, then :func:`tidy`: no "−0.000")."""
        return [tidy(self.fmt.format(v)) for v in self.z.ravel()]

    def data(self):
        return {"z": _round(self.z), "text": self.texts_of_cells()}

    def style(self):
        return super().style() | {"shape": list(self.z.shape), "vmax": self.vmax}

    def extent(self):
        r, c = self.z.shape
        return np.array([-0.5, c - 0.5]), np.array([-0.5, r - 0.5])

    def draw_mpl(self, ax, color):
        ax.imshow(self.z, cmap="RdBu_r", vmin=-self.vmax, vmax=self.vmax, aspect="auto")
        for (i, j), text in zip(np.ndindex(*self.z.shape), self.texts_of_cells()):
            ax.text(j, i, text, ha="center", va="center", fontsize="small")


@dataclass
class _Rule(Trace):
    """A line across the whole panel at one coordinate (``arrays[0]``, "x" or "y")."""

    dash: bool = field(default=True, kw_only=True)

    def position(self) -> np.ndarray:
        return np.atleast_1d(float(getattr(self, self.arrays[0])))

    def data(self):
        return {self.arrays[0]: _round(self.position())}

    def style(self):
        return super().style() | {"dash": self.dash}

    def extent(self):
        v, none = self.position(), np.array([])
        return (none, v) if self.arrays[0] == "y" else (v, none)

    def draw_mpl(self, ax, color):
        across = ax.axhline if self.arrays[0] == "y" else ax.axvline
        across(self.position()[0], color=color, ls="--" if self.dash else "-", lw=1.2, label=self.label)


@dataclass
class HLine(_Rule):
    """A horizontal line across the panel at height ``y``."""

    y: float
    kind = "hline"
    arrays = ("y",)


@dataclass
class VLine(_Rule):
    """A vertical line across the panel at ``x``."""

    x: float
    kind = "vline"
    arrays = ("x",)


@dataclass
class Text(Trace):
    """Text whose top is at ``(x, y)`` in axes fractions (0..1, origin bottom left).

    ``align`` says which end of the text is at ``x``: "left" (default), "right" or
    "center". On the page the text stays on one line, moved inside the plot if it would
    stick out, unless it is wider than the plot: then it wraps (never inside brackets).
    """

    x: float
    y: float
    text: str
    align: str = field(default="left", kw_only=True)
    kind = "text"
    texts = ("text",)

    def __post_init__(self):
        super().__post_init__()
        _plain_text(self.text, "text")
        if self.align not in ("left", "right", "center"):
            raise ValueError(f"Text align must be 'left', 'right' or 'center', got {self.align!r}")

    def data(self):
        return {"text": i18n.texts(self.text) if isinstance(self.text, Message) else str(self.text)}

    def style(self):
        return super().style() | {"x": float(self.x), "y": float(self.y), "align": self.align}

    def draw_mpl(self, ax, color):
        # text is written in the text colour, legible in every mode (series colours are not)
        ax.text(self.x, self.y, self.text, transform=ax.transAxes, va="top", ha=self.align)


# ---------------------------------------------------------------------- description
@dataclass
class Slider:
    """A control: a ``name`` (keyword of the draw function) moving over a grid of ``values``.

    ``unit`` (optional) follows the value where it is spoken and shown: one word
    ("samples"), or its singular and plural (``("trit", "trits")``: "1 trit", "5 trits").
    """

    name: str
    values: Sequence[float]
    label: str | None = None
    default: float | None = None
    fmt: str = "{:.3g}"
    unit: str | tuple[str, str] = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"slider name must be a Python identifier, got {self.name!r}")
        self.values = [float(v) for v in np.asarray(self.values, dtype=float).ravel()]
        if not 2 <= len(self.values) or not all(map(math.isfinite, self.values)):
            raise ValueError(f"slider {self.name!r} needs at least two finite values")
        if self.label is None:
            self.label = self.name
        _plain_text(self.label, "slider label")
        units = (self.unit, self.unit) if isinstance(self.unit, str) else tuple(self.unit)
        if len(units) != 2 or not all(isinstance(u, str) for u in units):
            raise ValueError(f"slider unit must be a word or (singular, plural), got {self.unit!r}")
        self._units = [_plain_text(u, "slider unit") for u in units]
        target = self.values[len(self.values) // 2] if self.default is None else float(self.default)
        self.index = int(np.argmin(np.abs(np.asarray(self.values) - target)))

    def text(self, value: float) -> str:
        """The value as shown next to the slider (``fmt``, :func:`tidy`, then the unit).

        A message when the unit is one (``_("trits")``): "5 trits", "5个三进制位".
        """
        shown = tidy(self.fmt.format(value))
        unit = self._units[shown != "1"]
        if isinstance(unit, Message):
            return _("{value} {unit}").format(value=shown, unit=unit)
        return f"{shown} {unit}".strip()


@dataclass
class Axes:
    """One panel: labels, optional title, scales and limits (automatic when None)."""

    xlabel: str = ""
    ylabel: str = ""
    title: str = ""
    xscale: str = "linear"
    yscale: str = "linear"
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    xticks: Sequence[float] | None = None
    xticklabels: Sequence[str] | None = None
    yticks: Sequence[float] | None = None
    yticklabels: Sequence[str] | None = None
    legend: bool = True

    def __post_init__(self):
        for text in (self.xlabel, self.ylabel, self.title):
            _plain_text(text, "axis text")
        for s in (self.xscale, self.yscale):
            if s not in ("linear", "log"):
                raise ValueError(f"axis scale must be 'linear' or 'log', got {s!r}")


class Figure:
    """An interactive figure from a draw function and its sliders (see the module doc).

    ``draw(**values)`` must return a list of traces with the same kinds, in the same
    order and with the same styles for every slider position. The constructor computes
    every frame at once (so a bad draw function fails when the cell runs, with the
    slider values that broke it). With no slider, ``draw()`` gives the one frame of a
    static figure (see :func:`static_figure`).

    ``announce(values)`` (optional) returns, for the slider values of one position (the
    keywords of ``draw``), the sentence that explains it, e.g. "λ = 4: λ⁻¹LSE − max = 0.12,
    bound 0.27": shown under the figure as its readout and read by a screen reader when a
    slider reaches the position. Like the frames, the texts are computed for every
    position when the cell runs. Without it, the text names the slider values and repeats
    the figure's text annotations (:class:`Text`) at that position.
    """

    def __init__(
        self,
        draw: Callable[..., Sequence[Trace]],
        sliders: Sequence[Slider],
        axes: Sequence[Axes] | Axes = (),
        *,
        caption: str = "",
        alt: str,
        title: str = "",
        width: float = 7.0,
        height: float = 3.6,
        announce: Callable[[dict], str] | None = None,
    ):
        names = [s.name for s in sliders]
        if len(set(names)) != len(names):
            raise ValueError(f"slider names must differ: {names}")
        if not alt or not alt.strip():
            raise ValueError("alt text is required: describe what the figure shows for screen readers")
        _plain_text(title, "figure title")
        if announce is not None and not callable(announce):
            raise TypeError(f"announce must be a function of the slider values, got {type(announce).__name__}")
        self.draw, self.sliders = draw, list(sliders)
        self.axes = [axes] if isinstance(axes, Axes) else list(axes) or [Axes()]
        self.caption, self.alt, self.title = caption, alt, title
        self.width, self.height = width, height
        n_frames = math.prod(len(s.values) for s in self.sliders)
        if n_frames > MAX_FRAMES:
            raise ValueError(f"{n_frames} slider positions; at most {MAX_FRAMES} keep the page light")
        self._frames = [self._traces(idx) for idx in self.positions()]
        self._check_consistent()
        self._announcements = [self._announce(announce, idx, traces)
                               for idx, traces in zip(self.positions(), self._frames)]

    # ---------------------------------------------------------------- computation
    def positions(self):
        """Every combination of slider indices, first slider slowest (row-major)."""
        return itertools.product(*(range(len(s.values)) for s in self.sliders))

    def values_at(self, idx: Sequence[int]) -> dict[str, float]:
        return {s.name: s.values[i] for s, i in zip(self.sliders, idx)}

    def _traces(self, idx) -> list[Trace]:
        values = self.values_at(idx)
        try:
            traces = list(self.draw(**values))
        except Exception as exc:
            raise RuntimeError(f"draw({values}) failed: {exc!r}") from exc
        for t in traces:
            if not isinstance(t, Trace):
                raise TypeError(f"draw({values}) returned {type(t).__name__}, not a trace")
            if not 0 <= t.panel < len(self.axes):
                raise ValueError(f"trace on panel {t.panel}, but the figure has {len(self.axes)} axes")
        return traces

    def _announce(self, announce, idx, traces) -> str:
        """The live-region text of position ``idx`` (see the class doc)."""
        values = self.values_at(idx)
        if announce is None:
            said = joined(_(", "), [joined(" = ", [s.label, s.text(s.values[i])]) for s, i in zip(self.sliders, idx)])
            notes = joined(_("; "), [t.text if isinstance(t.text, Message) else " ".join(str(t.text).split())
                                     for t in traces if isinstance(t, Text) and str(t.text).strip()])
            return joined(_(": "), [part for part in (said, notes) if part])
        try:
            text = announce(values)
        except Exception as exc:
            raise RuntimeError(f"announce({values}) failed: {exc!r}") from exc
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"announce({values}) must return non-empty text, got {text!r}")
        return text if isinstance(text, Message) else " ".join(text.split())

    def announcement(self, idx: Sequence[int]) -> str:
        """What the live region says at slider indices ``idx`` (computed at construction)."""
        return self._announcements[self._flat(idx)]

    def _flat(self, idx: Sequence[int]) -> int:
        return int(np.ravel_multi_index(tuple(idx), [len(s.values) for s in self.sliders]))

    def _check_consistent(self):
        first = [t.style() for t in self._frames[0]]
        for idx, traces in zip(self.positions(), self._frames):
            if [t.style() for t in traces] != first:
                raise ValueError(
                    f"draw({self.values_at(idx)}) returns traces of other kinds or styles than at the "
                    "first position; every position must draw the same traces"
                )
        self._styles = first
        for k, style in enumerate(first):
            if style["color"] is None and style["kind"] != "text":  # text: the text colour
                style["color"] = DEFAULT_CYCLE[k % len(DEFAULT_CYCLE)]

    def frame(self, idx: Sequence[int]) -> list[Trace]:
        """The traces drawn at slider indices ``idx`` (computed at construction)."""
        return self._frames[self._flat(idx)]

    def _limits(self, k: int, ax: Axes):
        xs, ys = [np.array([])], [np.array([])]
        for traces in self._frames:
            for t in traces:
                if t.panel == k:
                    x, y = t.extent()
                    xs.append(np.asarray(x, float))
                    ys.append(np.asarray(y, float))
        return _auto(np.concatenate(xs), ax.xlim, ax.xscale), _auto(np.concatenate(ys), ax.ylim, ax.yscale)

    def payload(self) -> dict:
        """Everything the kernel-free figure needs, as JSON-ready data."""
        frames = [[t.data() for t in traces] for traces in self._frames]
        # Fields that never change (an x grid, a reference line) are stored once, in
        # traces[i]["static"]; frames keep only what varies (None when nothing does).
        static = []
        for i in range(len(self._styles)):
            first = frames[0][i]
            static.append({k: v for k, v in first.items() if all(f[i][k] == v for f in frames)})
        t = i18n.texts  # every language in the book build; kfig.js shows the page's
        return {
            "title": t(self.title),
            "size": [int(self.width * 100), int(self.height * 100)],
            "sliders": [
                {"name": s.name, "label": t(s.label), "values": s.values, "index": s.index,
                 "text": [t(s.text(v)) for v in s.values]}
                for s in self.sliders
            ],
            "announce": [t(a) for a in self._announcements],
            "panels": [pn | {k: t(pn[k]) for k in ("xlabel", "ylabel", "title")} for pn in self._panel_specs()],
            "traces": [st | {"label": t(st["label"]), "static": static[i]} for i, st in enumerate(self._styles)],
            "words": {key: t(word) for key, word in _words().items()},
            "frames": [
                [{k: v for k, v in d.items() if k not in static[i]} or None for i, d in enumerate(f)]
                for f in frames
            ],
        }

    # ---------------------------------------------------------------- matplotlib
    def figure(self, idx: Sequence[int] | None = None):
        """A matplotlib figure of the position ``idx`` (default: the sliders' defaults)."""
        import matplotlib.pyplot as plt

        if i18n.language() != i18n.LANGUAGES[0]:
            i18n.use_cjk_font()  # the session's language has characters DejaVu Sans lacks
        idx = [s.index for s in self.sliders] if idx is None else idx
        static = {} if self.sliders else {"FigureClass": ScreenFigure}
        with plt.ioff():
            fig, axs = plt.subplots(1, len(self.axes), figsize=(self.width, self.height), squeeze=False, **static)
        if static:
            fig.description = self
        self._draw_mpl(fig, axs[0], idx)
        return fig

    def _draw_mpl(self, fig, axs, idx):
        for ax in axs:
            ax.clear()
        for style, t in zip(self._styles, self.frame(idx)):
            t.draw_mpl(axs[t.panel], style["color"])
        for ax, spec, pp in zip(axs, self.axes, self._panel_specs()):
            ax.set_xscale(spec.xscale)
            ax.set_yscale(spec.yscale)
            ax.set_xlim(pp["xlim"])
            ax.set_ylim(pp["ylim"][::-1] if pp["yflip"] else pp["ylim"])
            ax.set_xticks([t for t, _label in pp["xticks"]], [s for _tick, s in pp["xticks"]])
            ax.set_yticks([t for t, _label in pp["yticks"]], [s for _tick, s in pp["yticks"]])
            ax.set_xlabel(spec.xlabel)
            ax.set_ylabel(spec.ylabel)
            ax.set_title(spec.title)
            if spec.legend and ax.get_legend_handles_labels()[1]:
                ax.legend(fontsize="small")
        values = ", ".join(f"{s.label} = {s.text(s.values[i])}" for s, i in zip(self.sliders, idx))
        title = f"{self.title}  ({values})" if self.title and values else self.title or values
        if title:
            fig.suptitle(title, fontsize="medium")
        fig.tight_layout()

    def _panel_specs(self) -> list[dict]:
        """Limits and ticks of every panel: fixed over all frames, so nothing jumps."""
        if not hasattr(self, "_panels"):
            self._panels = []
            for k, ax in enumerate(self.axes):
                xlim, ylim = self._limits(k, ax)
                self._panels.append({
                    "xlabel": ax.xlabel, "ylabel": ax.ylabel, "title": ax.title,
                    "xscale": ax.xscale, "yscale": ax.yscale, "xlim": xlim, "ylim": ylim,
                    "yflip": any(type(t).flips_y and t.panel == k for t in self._frames[0]),
                    "xticks": _ticks(xlim, ax.xscale, ax.xticks, ax.xticklabels),
                    "yticks": _ticks(ylim, ax.yscale, ax.yticks, ax.yticklabels),
                    "legend": ax.legend,
                })
        return self._panels

    # ---------------------------------------------------------------- display
    def widget(self):
        """The live version: ipywidgets sliders redrawing a matplotlib figure."""
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
        from IPython.display import display

        controls = [
            widgets.SelectionSlider(
                options=[(s.text(v), i) for i, v in enumerate(s.values)],
                value=s.index, description=s.label, continuous_update=True,
                style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
            )
            for s in self.sliders
        ]
        out = widgets.Output()
        readout = widgets.HTML()  # the sentence of the position, as under the kernel-free figure
        fig = self.figure()

        def redraw(*_):
            idx = [c.value for c in controls]
            self._draw_mpl(fig, np.atleast_1d(fig.axes[: len(self.axes)]), idx)
            readout.value = html.escape(self.announcement(idx))
            with out:
                out.clear_output(wait=True)
                display(fig)

        for c in controls:
            c.observe(redraw, names="value")
        redraw()
        plt.close(fig)
        caption = widgets.HTML(f"<em>{html.escape(self.caption)}</em>") if self.caption else None
        return widgets.VBox([*controls, out, readout] + ([caption] if caption else []))

    def html(self) -> str:
        """The kernel-free version: SVG + inlined script + precomputed frames.

        The figure is named by its caption and the SVG by the alt text; the script adds
        the sliders, the readout with its polite live region, and the "Data" table (see
        ``static/kfig.js``).
        """
        fid = "kfig-" + uuid.uuid4().hex[:10]
        data = json.dumps(self.payload(), separators=(",", ":"), allow_nan=False)
        data = data.replace("</", "<\\/")  # never close the script element early
        caption = f"<figcaption>{i18n.html(self.caption)}</figcaption>" if self.caption else ""
        alt = i18n.html(self.alt)  # escaped, quotes too; the book keeps the page's language
        named = "" if caption else f' aria-label="{alt}"'
        return (
            f'<figure class="kfig mathjax_ignore tex2jax_ignore" id="{fid}"{named}>'
            + ('<div class="kfig-controls"></div>' if self.sliders else "")
            + f'<svg class="kfig-svg" role="img" aria-label="{alt}" '
            f'viewBox="0 0 {int(self.width * 100)} {int(self.height * 100)}" '
            f'preserveAspectRatio="xMidYMid meet"></svg>'
            f'<script type="application/json" class="kfig-data">{data}</script>'
            f"<script>{_script()}\nwindow.softmaxbookFigure(document.getElementById({json.dumps(fid)}));</script>"
            f"{caption}</figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        what = "interactive figure" if self.sliders else "figure"
        bundle = {"text/plain": f"<{what}: {self.alt}>", "text/html": self.html()}
        try:
            if self.sliders:
                bundle.update(self.widget()._repr_mimebundle_() or {})
        except Exception:  # no widget front end (plain Python): the static views remain
            pass
        return bundle


class ScreenFigure(_MplFigure):
    """The matplotlib figure of a static :class:`Figure` (its ``description``).

    It is a matplotlib figure in every respect (``plt.show()``, ``savefig``, its axes),
    but where HTML is shown (the website, JupyterLab) it displays as the description's
    kernel-free SVG, whose text is real text in CSS px; IPython adds the PNG of the
    matplotlib drawing for front ends that show no HTML.
    """

    description: Figure | None = None

    def _repr_mimebundle_(self, include=None, exclude=None):
        return None if self.description is None else {"text/html": self.description.html()}


def static_figure(traces: Sequence[Trace], axes: Sequence[Axes] | Axes = (), *, alt: str, title: str = "",
                  caption: str = "", width: float = 7.0, height: float = 3.6) -> ScreenFigure:
    """A figure without sliders, drawn for the screen: its ``traces`` on its ``axes``.

    Returns the :class:`ScreenFigure` of ``Figure(lambda: traces, sliders=[], ...)``,
    registered with pyplot like the figures of ``plt.subplots`` (``plt.show()`` shows it;
    a function that returns it as a cell's result closes it first with ``plt.close``, or
    the inline backend shows it a second time).
    """
    traces = list(traces)
    return Figure(lambda: traces, [], axes, alt=alt, title=title, caption=caption,
                  width=width, height=height).figure()


def _words() -> dict[str, Message]:
    """The script's own words (the "Data" disclosure), in the reader's language."""
    return {"data": _("Data"), "dataAt": _("Data at {position}"), "panel": _("panel {number}"),
            "inPanel": _("{name} ({panel})"),
            "lower": _("lower"), "upper": _("upper"), "line": _("curve"), "points": _("markers"),
            "band": _("band"), "bars": _("bars"), "heatmap": _("matrix"), "hline": _("horizontal line"),
            "vline": _("vertical line"), "text": _("note")}


def _script() -> str:
    return resources.files("softmaxbook").joinpath("static/kfig.js").read_text(encoding="utf-8")


def _auto(values: np.ndarray, lim, scale: str) -> list[float]:
    if lim is not None:
        return [float(lim[0]), float(lim[1])]
    v = values[np.isfinite(values)]
    if scale == "log":
        v = v[v > 0]
    if v.size == 0:
        return [1.0, 10.0] if scale == "log" else [0.0, 1.0]
    lo, hi = float(v.min()), float(v.max())
    if scale == "log":
        if lo == hi:
            return [lo / 2, hi * 2]
        pad = (math.log10(hi) - math.log10(lo)) * 0.05
        return [lo / 10**pad, hi * 10**pad]
    if lo == hi:
        return [lo - 1.0, hi + 1.0]
    pad = (hi - lo) * 0.05
    return [lo - pad, hi + pad]


def _ticks(lim, scale, ticks, labels) -> list[list]:
    """Tick positions and labels, computed once in Python with matplotlib's locators."""
    if ticks is not None:
        labels = labels if labels is not None else [f"{t:g}" for t in ticks]
        return [[float(t), str(s)] for t, s in zip(ticks, labels)]
    from matplotlib import ticker

    lo, hi = lim
    inside = lambda locs: [float(t) for t in locs if lo - 1e-9 * abs(hi - lo) <= t <= hi + 1e-9 * abs(hi - lo)]
    if scale == "log":
        locs = inside(ticker.LogLocator(numticks=8).tick_values(lo, hi))
        for subs in ((1.0, 2.0, 5.0), tuple(range(1, 10))):
            if len(locs) >= 3:
                break
            locs = inside(ticker.LogLocator(subs=subs, numticks=30).tick_values(lo, hi))
        exponents = [round(math.log10(t)) for t in locs]
        if all(abs(t - 10.0**e) <= 1e-9 * t for t, e in zip(locs, exponents)) and (
                min(locs) < 1e-3 or max(locs) >= 1e4):  # one style on the axis: 10⁻⁴ ... 1, not 10⁻⁴ ... 0.1
            return [[t, _power_of_ten(e)] for t, e in zip(locs, exponents)]
        return [[t, _log_label(t)] for t in locs]
    return [[t, number(t, "g")] for t in inside(ticker.MaxNLocator(nbins=6).tick_values(lo, hi))]


def _power_of_ten(e: int) -> str:
    return "1" if e == 0 else "10" + str(e).translate(_SUPERSCRIPT)


def decades(lo: int, hi: int, step: int = 1) -> tuple[list[float], list[str]]:
    """Ticks 10^lo, 10^(lo + step), ... up to 10^hi of a log axis, and their labels (10⁻⁷, ...).

    >>> decades(-3, 1, 2)
    ([0.001, 0.1, 10.0], ['10⁻³', '10⁻¹', '10¹'])
    """
    exponents = range(int(lo), int(hi) + 1, int(step))
    return [10.0**e for e in exponents], [_power_of_ten(e) for e in exponents]


def _log_label(t: float) -> str:
    """Plain numbers (0.02, 50) in the everyday range, 10⁻⁶ style outside it."""
    if 1e-3 <= t < 1e4:
        return number(t, "g")
    e = round(math.log10(t))
    if abs(t - 10.0**e) <= 1e-9 * t:
        return _power_of_ten(e)
    return number(t, "g")
