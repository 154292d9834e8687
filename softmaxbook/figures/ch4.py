"""Figures of chapter 4 (LogSumExp, the real soft maximum).

* :func:`lse_gap` -- static: LSE(a, 0) above max(a, 0), and the gap on a log scale;
* :func:`lse_lambda` -- interactive: the smooth maximum and the soft-min of (t, 0, 0)
  inside their bands, and the soft-argmax weight, with a slider on λ;
  :func:`announce_lse_lambda` gives the numbers its caption says matter (the readout),
  and the figure marks them at t = 1;
* :func:`gumbel_errors` -- static: the Monte Carlo errors of the Gumbel-max estimates of
  LSE(x) + γ and softmax(x) against the number of draws, with their standard errors.

The static figures are drawn for the screen (:func:`softmaxbook.interactive.static_figure`):
matplotlib figures that the website shows as SVG with real text.
"""

from __future__ import annotations

import math

import numpy as np

from .. import checks, gumbel, lse
from ..expfamily import softmax
from ..i18n import _
from ..interactive import PALETTE, Axes, Band, Figure, HLine, Line, Points, Slider, decades, number, static_figure

#: Grid of t for x = (t, 0, 0) in :func:`lse_lambda`.
T_GRID = np.linspace(-3, 3, 61)

#: Slider grid of λ in :func:`lse_lambda`.
LAMBDAS = np.geomspace(0.25, 64, 25)


def lse_gap_traces(a=np.linspace(-6, 6, 401)) -> list:
    """The traces of :func:`lse_gap`: LSE(a, 0), max(a, 0) and the gap at a = 0; the gap on a log scale."""
    a = np.asarray(a, dtype=float)
    return [
        Line(a, lse.logsumexp(np.stack([a, np.zeros_like(a)]), axis=0), label="LSE(a, 0)", color=PALETTE.blue),
        Line(a, np.maximum(a, 0), dash=True, width=1.5, label="max(a, 0)", color=PALETTE.black),
        Points([0.0], [math.log(2)], size=8, label=_("at a = 0: gap log 2"), color=PALETTE.vermilion),
        Line(a, lse.lse_gap(a, 0.0), panel=1, label=_("gap log(1 + exp(−|a|))"), color=PALETTE.vermilion),
        Line(a, np.exp(-np.abs(a)), panel=1, dash=True, width=1.5, label="exp(−|a|)", color=PALETTE.black),
        HLine(math.log(2), panel=1, dash=False, label="log 2", color=PALETTE.grey),
    ]


def lse_gap():
    """LSE(a, 0) against max(a, 0), and the gap log(1 + exp(−|a|)) against exp(−|a|), log scale.

    A :class:`~softmaxbook.interactive.ScreenFigure` (a matplotlib figure shown on the
    website as SVG with real text), closed: shown once, as the cell's result.
    """
    import matplotlib.pyplot as plt

    fig = static_figure(
        lse_gap_traces(),
        [Axes(xlabel="a   (b = 0)", ylabel=_("value")),
         Axes(xlabel="a   (b = 0)", ylabel="LSE(a, 0) − max(a, 0)", yscale="log")],
        alt=_("Two panels against a from −6 to 6. Left: the smooth curve LSE(a, 0) lies above the kinked "
              "dashed line max(a, 0), closest far from the kink and log 2 above it at a = 0 (a dot). "
              "Right: on a log scale, the gap peaks at log 2 at a = 0 and falls on both sides along "
              "the dashed curve exp(−|a|)."),
        width=9.0, height=3.4,
    )
    plt.close(fig)        # shown once, as the returned object, not again by the inline backend
    return fig


#: Numbers of draws N at which :func:`gumbel_errors` measures (first N of one stream).
GUMBEL_SIZES = np.unique(np.geomspace(10, 10**6, 26).round().astype(np.int64))


def gumbel_traces(r: dict) -> list:
    """The traces of :func:`gumbel_errors` from :func:`softmaxbook.gumbel.running_errors` ``r``."""
    traces = []
    for k, (err, se, what) in enumerate(((r["max_error"], r["max_se"], _("|mean of the maxima − (LSE + γ)|")),
                                         (r["softmax_error"], r["softmax_se"], _("largest |frequency − softmax|")))):
        traces += [Line(r["N"], err, panel=k, label=what, color=PALETTE.vermilion),
                   Points(r["N"], err, panel=k, size=5, color=PALETTE.vermilion),
                   Line(r["N"], se, panel=k, dash=True, width=1.5, label=_("standard error ∝ 1/√N"),
                        color=PALETTE.black)]
    return traces


def gumbel_errors(x=(1.0, 0.0, -1.0), seed: int = 0):
    """Errors of the Gumbel-max estimates against N, log-log, with their ``1/sqrt(N)`` standard errors.

    Left: ``|mean of max_i(x_i + G_i) - (LSE(x) + gamma)|`` and the standard error
    ``(pi/sqrt 6)/sqrt(N)``; right: the largest ``|frequency of the argmax - softmax(x)|``
    and the largest binomial standard error. Numbers from :func:`softmaxbook.gumbel.running_errors`.
    A :class:`~softmaxbook.interactive.ScreenFigure` (a matplotlib figure shown on the
    website as SVG with real text), closed: shown once, as the cell's result.
    """
    import matplotlib.pyplot as plt

    r = gumbel.running_errors(x, GUMBEL_SIZES, seed=seed)
    values = np.concatenate([r["max_error"], r["max_se"], r["softmax_error"], r["softmax_se"]])
    lo, hi = (int(f(np.log10(values[values > 0]))) for f in (lambda v: np.floor(v.min()), lambda v: np.ceil(v.max())))
    (n, n_text), (e, e_text) = decades(1, 6), decades(lo, hi)
    shared = dict(xlabel=_("number of draws N"), ylabel=_("error"), xscale="log", yscale="log", ylim=(10.0**lo, 10.0**hi),
                  xticks=n, xticklabels=n_text, yticks=e, yticklabels=e_text)
    fig = static_figure(
        gumbel_traces(r),
        [Axes(title=_("mean of max(x + G) against LSE(x) + γ"), **shared),
         Axes(title=_("argmax frequencies against softmax(x)"), **shared)],
        alt=_("Two log-log panels against the number of draws N from 10 to a million, on the same error "
              "scale. In each, the error of a Gumbel-max estimate (dots) falls with N along a dashed "
              "standard-error line of slope −1/2, within a small factor of it."),
        width=9.0, height=3.4,
    )
    plt.close(fig)        # shown once, as the returned object, not again by the inline backend
    return fig


def lse_lambda_curves(lam: float, t=T_GRID) -> dict[str, np.ndarray]:
    """For x = (t, 0, 0): max, min, λ⁻¹LSE(λx), the soft-min, the band width and softmax(λx)₁."""
    X = np.stack([t, np.zeros_like(t), np.zeros_like(t)], axis=1)
    return {"max": X.max(axis=1), "min": X.min(axis=1),
            "smooth_max": lse.smooth_max(X, lam, axis=1), "soft_min": lse.soft_min(X, lam, axis=1),
            "width": np.full_like(t, math.log(3) / lam), "weight": softmax(lam * X, axis=1)[:, 0]}


def announce_lse_lambda(params: dict) -> str:
    """What matters at ``params["lam"]``: the band width (log 3)/λ and, at t = 1, the excess and the weight."""
    lam = checks.lam(params["lam"])
    c = lse_lambda_curves(lam, np.array([1.0]))
    return _("λ = {lam} (T = 1/λ = {temperature}): band width (log 3)/λ = {width}; "
             "at t = 1, λ⁻¹LSE − max = {excess} and softmax(λx)₁ = {weight}").format(
        lam=number(lam), temperature=number(1 / lam), width=number(c["width"][0]),
        excess=number(c["smooth_max"][0] - c["max"][0]), weight=number(c["weight"][0]))


def lse_lambda() -> Figure:
    """Interactive figure: smooth max and soft-min of (t, 0, 0) in their bands, and softmax(λx)₁."""
    t = T_GRID
    step = np.where(t > 0, 1.0, np.where(t < 0, 0.0, 1 / 3))

    def draw(lam):
        # the numbers of the readout (announce_lse_lambda) are marked at t = 1
        c = lse_lambda_curves(lam, t)
        at1 = lse_lambda_curves(lam, np.array([1.0]))
        return [
            Band(t, c["max"], c["max"] + c["width"], label=_("band (max)"), color=PALETTE.sky),
            Line(t, c["smooth_max"], label="λ⁻¹LSE(λx)", color=PALETTE.blue),
            Band(t, c["min"] - c["width"], c["min"], label=_("band (min)"), color=PALETTE.orange),
            Line(t, c["soft_min"], label=_("soft-min"), color=PALETTE.vermilion),
            Line(t, c["max"], dash=True, width=1.2, label="max(x)", color=PALETTE.black),
            Line(t, c["min"], dash=True, width=1.2, label="min(x)", color=PALETTE.grey),
            Points([1.0], at1["smooth_max"], size=8, color=PALETTE.blue),
            Line(t, c["weight"], panel=1, label="softmax(λx)₁", color=PALETTE.green),
            Line(t, step, panel=1, dash=True, width=1.2, label=_("λ → ∞ (1/3 at the tie)"), color=PALETTE.black),
            Points([1.0], at1["weight"], panel=1, size=8, color=PALETTE.green),
        ]

    return Figure(
        draw,
        sliders=[Slider("lam", LAMBDAS, label=_("λ (inverse temperature)"), default=1.0)],
        announce=announce_lse_lambda,
        axes=[Axes(xlabel="t   (x = (t, 0, 0))", ylabel=_("value"), ylim=(-7.5, 7.5)),
              Axes(xlabel="t   (x = (t, 0, 0))", ylabel=_("weight of x₁"), ylim=(-0.05, 1.05))],
        caption=_("First panel, for x = (t, 0, 0): λ⁻¹LSE(λx) inside the band from max(x) to "
                  "max(x) + (log 3)/λ, and the soft-min −λ⁻¹LSE(−λx) inside the band from "
                  "min(x) − (log 3)/λ to min(x). At t = 0 all entries are equal and both curves touch "
                  "the outer edges of their bands. Second panel: the soft-argmax weight softmax(λx)₁ of the "
                  "first entry, which tends to the step 0, 1/3 (the three-way tie at t = 0), 1. The dots "
                  "mark t = 1, whose numbers the line under the figure gives."),
        alt=_("Two panels with a slider for lambda. First: curves of the smooth maximum and the soft-min "
              "of (t, 0, 0) against t, each inside a shaded band of width log(3)/lambda next to the "
              "dashed max and min; the bands shrink as lambda grows. Second: the softmax weight of the "
              "first entry, an S-shaped curve that sharpens into a step at t = 0."),
        width=9.0, height=4.0,
    )
