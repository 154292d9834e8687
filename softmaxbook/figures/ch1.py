"""Figures of chapter 1 (softmax as an exponential family).

:func:`bernoulli_explorer` is the chapter's interactive figure (two classes, slider θ):
the log-partition A(θ) with its tangent, whose slope is the mean σ(θ) of the label, and
the curvature σ(θ)(1 − σ(θ)) against the sample variance of seeded Bernoulli draws; the
slider's θ is marked on every curve, so that "slope = mean, curvature = variance" reads
off the picture. :func:`announce_bernoulli_explorer` says in words what it shows at one
slider position (the figure's readout).
"""

from __future__ import annotations

import numpy as np

from softmaxbook import expfamily as ef
from softmaxbook.i18n import _
from softmaxbook.interactive import PALETTE, Axes, Figure, Line, Points, Slider, VLine, number

__all__ = ["bernoulli_data", "draw_bernoulli", "bernoulli_explorer", "announce_bernoulli_explorer"]

#: Slider grid of θ = o₁ − o₂.
GRID = np.linspace(-5, 5, 21)


def bernoulli_data(draws: int = 20_000, seed: int = 0) -> dict:
    """The fixed curves and dots of :func:`bernoulli_explorer`.

    ``theta`` (fine grid), ``A`` = log(1 + e^θ), ``mean`` = A'(θ) = σ(θ),
    ``curvature`` = A''(θ) = σ(θ)(1 − σ(θ)); ``theta_mc`` (the slider grid), ``var_mc`` = sample
    variance of ``draws`` seeded Bernoulli labels at each, and ``max_err``, the largest gap
    between those dots and the curvature.
    """
    if not isinstance(draws, int) or isinstance(draws, bool) or draws < 2:
        raise ValueError(f"draws must be an integer >= 2, got {draws!r}")
    t = np.linspace(GRID[0], GRID[-1], 201)
    rng = np.random.default_rng(seed)
    var_mc = np.array([np.var(rng.random(draws) < ef.sigmoid(ti)) for ti in GRID])
    s, s_mc = ef.sigmoid(t), ef.sigmoid(GRID)
    return {"theta": t, "A": np.logaddexp(0.0, t), "mean": s, "curvature": s * (1 - s), "theta_mc": GRID,
            "var_mc": var_mc, "draws": draws, "max_err": float(np.max(np.abs(var_mc - s_mc * (1 - s_mc))))}


_DATA = None


def _data() -> dict:
    global _DATA
    if _DATA is None:
        _DATA = bernoulli_data()
    return _DATA


def draw_bernoulli(theta: float) -> list:
    """The traces of :func:`bernoulli_explorer` at ``θ = theta``: the point of A at θ and the
    values σ(θ) and σ(θ)(1 − σ(θ)) at θ are marked in the colour of their curves."""
    d = _data()
    slope, a = float(ef.sigmoid(theta)), float(np.logaddexp(0.0, theta))
    span = np.array([theta - 2.0, theta + 2.0])
    mean, var = PALETTE.purple, PALETTE.black
    return [
        Line(d["theta"], d["A"], label="A(θ) = log(1 + eᶿ)", color=PALETTE.blue, panel=0),
        Line(span, a + slope * (span - theta), dash=True, label=_("tangent, slope σ(θ) = E[Y₁]"),
             color=PALETTE.vermilion, panel=0),
        Points([theta], [a], size=8, color=PALETTE.vermilion, panel=0),
        Line(d["theta"], d["mean"], label="A′(θ) = σ(θ)", color=mean, panel=1),
        Line(d["theta"], d["curvature"], label="A″(θ) = σ(θ)(1 − σ(θ))", color=var, panel=1),
        Points(d["theta_mc"], d["var_mc"], size=4, label=_("sample variance of Y₁ ({draws} draws)").format(draws=f"{d['draws']:,}"),
               color=PALETTE.blue, panel=1),
        VLine(theta, color=PALETTE.vermilion, panel=1),
        Points([theta], [slope], size=9, color=mean, panel=1),
        Points([theta], [slope * (1 - slope)], size=9, color=var, panel=1),
    ]


def bernoulli_explorer() -> Figure:
    """Two classes, slider θ: A(θ) and its tangent; σ, σ(1 − σ) and sampled variances."""
    return Figure(
        draw_bernoulli,
        sliders=[Slider("theta", GRID, label="θ = o₁ − o₂", default=1.0)],
        announce=announce_bernoulli_explorer,
        axes=[Axes(xlabel="θ", ylabel="A(θ)", ylim=(0, 7)),
              Axes(xlabel="θ", ylabel=_("value"), ylim=(0, 1.05))],
        caption=_("Two classes. First panel: the log-partition A(θ) = log(1 + eᶿ) and its tangent at the "
                  "slider's θ; the slope is σ(θ), the probability of class 1, i.e. the mean of Y₁. Second panel: "
                  "that mean, the curvature A″(θ) = σ(θ)(1 − σ(θ)), and the sample variance of seeded "
                  "Bernoulli draws at each θ of the slider (dots); the large dots mark σ(θ) and σ(θ)(1 − σ(θ)) "
                  "at the slider's θ: the slope of A is the mean of the label, its curvature the variance."),
        alt=_("Two panels. First: the convex curve log(1 + e to the theta) with a dashed tangent line at "
              "the selected theta. Second: the S-shaped sigmoid, a bell-shaped curvature curve peaking at "
              "0.25, dots of sampled variances on it, a vertical line at the selected theta and large dots "
              "where it crosses the sigmoid and the curvature curve. Slider for theta."),
        width=9.0, height=3.6,
    )


def announce_bernoulli_explorer(params: dict) -> str:
    """What :func:`bernoulli_explorer` shows at ``params = {"theta": ...}``, in one line.

    >>> announce_bernoulli_explorer({"theta": 0.0})
    'θ = 0: slope of A = σ(θ) = 0.500 (mean of Y₁), curvature σ(1 − σ) = 0.250 (its variance)'
    """
    try:
        theta = float(params["theta"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"params must give a number for 'theta', got {params!r}") from None
    s = float(ef.sigmoid(theta))
    return _("θ = {theta}: slope of A = σ(θ) = {slope} (mean of Y₁), "
             "curvature σ(1 − σ) = {curvature} (its variance)").format(
        theta=number(theta, "g"), slope=f"{s:.3f}", curvature=f"{s * (1 - s):.3f}")
