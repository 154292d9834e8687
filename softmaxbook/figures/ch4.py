"""Figures of chapter 4 (LogSumExp, the real soft maximum).

* :func:`lse_gap` -- static: LSE(a, 0) above max(a, 0), and the gap on a log scale;
* :func:`lse_lambda` -- interactive: the smooth maximum and the soft-min of (t, 0, 0)
  inside their bands, and the soft-argmax weight, with a slider on λ;
  :func:`announce_lse_lambda` gives the numbers its caption says matter;
* :func:`gumbel_errors` -- static: the Monte Carlo errors of the Gumbel-max estimates of
  LSE(x) + γ and softmax(x) against the number of draws, with their standard errors.
"""

from __future__ import annotations

import math

import numpy as np

from .. import gumbel, lse
from ..expfamily import softmax
from ..interactive import Axes, Band, Figure, Line, Slider, Text

#: Grid of t for x = (t, 0, 0) in :func:`lse_lambda`.
T_GRID = np.linspace(-3, 3, 61)

#: Slider grid of λ in :func:`lse_lambda`.
LAMBDAS = np.geomspace(0.25, 64, 25)


def lse_gap():
    """Matplotlib figure: LSE(a, 0) against max(a, 0), and the gap log(1 + e^−|a|) against e^−|a|."""
    import matplotlib.pyplot as plt

    a = np.linspace(-6, 6, 401)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax1.plot(a, lse.logsumexp(np.stack([a, np.zeros_like(a)]), axis=0), color="#0072B2", label="LSE(a, 0)")
    ax1.plot(a, np.maximum(a, 0), "--", color="#000000", lw=1.2, label="max(a, 0)")
    ax1.annotate("gap log 2 at a = 0", xy=(0, math.log(2)), xytext=(-5.5, 2.5), arrowprops={"arrowstyle": "->"})
    ax1.set(xlabel="a  (b = 0)", ylabel="value")
    ax1.legend()
    ax2.semilogy(a, lse.lse_gap(a, 0.0), color="#D55E00", label="gap log(1 + e^−|a|)")
    ax2.semilogy(a, np.exp(-np.abs(a)), ":", color="#000000", label="e^−|a|")
    ax2.axhline(math.log(2), color="#999999", lw=1, label="log 2")
    ax2.set(xlabel="a  (b = 0)", ylabel="LSE(a, 0) − max(a, 0)")
    ax2.legend(fontsize="small")
    fig.tight_layout()
    plt.close(fig)        # shown once, as the returned object, not again by the inline backend
    return fig


#: Numbers of draws N at which :func:`gumbel_errors` measures (first N of one stream).
GUMBEL_SIZES = np.unique(np.geomspace(10, 10**6, 26).round().astype(np.int64))


def gumbel_errors(x=(1.0, 0.0, -1.0), seed: int = 0):
    """Matplotlib figure: errors of the Gumbel-max estimates against N, log-log, with ``1/sqrt(N)`` lines.

    Left: ``|mean of max_i(x_i + G_i) - (LSE(x) + gamma)|`` and the standard error
    ``(pi/sqrt 6)/sqrt(N)``; right: the largest ``|frequency of the argmax - softmax(x)|``
    and the largest binomial standard error. Numbers from :func:`softmaxbook.gumbel.running_errors`.
    """
    import matplotlib.pyplot as plt

    r = gumbel.running_errors(x, GUMBEL_SIZES, seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, err, se, what in ((axes[0], r["max_error"], r["max_se"], "|mean of the maxima − (LSE + γ)|"),
                              (axes[1], r["softmax_error"], r["softmax_se"], "largest |frequency − softmax|")):
        ax.loglog(r["N"], err, "o-", ms=3, color="#D55E00", label=what)
        ax.loglog(r["N"], se, "--", color="#000000", lw=1.2, label="standard error ∝ 1/√N")
        ax.set(xlabel="number of draws N")
        ax.legend(fontsize="small")
    axes[0].set_ylabel("error")
    fig.tight_layout()
    plt.close(fig)        # shown once, as the returned object, not again by the inline backend
    return fig


def _lam(params: dict) -> float:
    lam = float(params["lam"])
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError(f"λ must be a finite number > 0, got {params['lam']!r}")
    return lam


def lse_lambda_curves(lam: float, t=T_GRID) -> dict[str, np.ndarray]:
    """For x = (t, 0, 0): max, min, λ⁻¹LSE(λx), the soft-min, the band width and softmax(λx)₁."""
    X = np.stack([t, np.zeros_like(t), np.zeros_like(t)], axis=1)
    return {"max": X.max(axis=1), "min": X.min(axis=1),
            "smooth_max": lse.smooth_max(X, lam, axis=1), "soft_min": lse.soft_min(X, lam, axis=1),
            "width": np.full_like(t, math.log(3) / lam), "weight": softmax(lam * X, axis=1)[:, 0]}


def announce_lse_lambda(params: dict) -> str:
    """What matters at ``params["lam"]``: the band width (log 3)/λ and, at t = 1, the excess and the weight."""
    lam = _lam(params)
    c = lse_lambda_curves(lam, np.array([1.0]))
    return (f"λ = {lam:.3g}: band width (log 3)/λ = {c['width'][0]:.3g}; at t = 1, "
            f"λ⁻¹LSE − max = {c['smooth_max'][0] - c['max'][0]:.3g} and softmax(λx)₁ = {c['weight'][0]:.3g}")


def lse_lambda() -> Figure:
    """Interactive figure: smooth max and soft-min of (t, 0, 0) in their bands, and softmax(λx)₁."""
    t = T_GRID
    step = np.where(t > 0, 1.0, np.where(t < 0, 0.0, 1 / 3))

    def draw(lam):
        c = lse_lambda_curves(lam, t)
        return [
            Band(t, c["max"], c["max"] + c["width"], label="band (max)", color="#56B4E9"),
            Line(t, c["smooth_max"], label="λ⁻¹LSE(λx)", color="#0072B2"),
            Band(t, c["min"] - c["width"], c["min"], label="band (min)", color="#E69F00"),
            Line(t, c["soft_min"], label="soft-min", color="#D55E00"),
            Line(t, c["max"], dash=True, width=1.2, label="max(x)", color="#000000"),
            Line(t, c["min"], dash=True, width=1.2, label="min(x)", color="#777777"),
            Text(0.03, 0.97, f"λ = {lam:.3g},  T = 1/λ = {1 / lam:.3g},  band width (log 3)/λ = "
                 f"{c['width'][0]:.3g}", color="#000000"),
            Line(t, c["weight"], panel=1, label="softmax(λx)₁", color="#009E73"),
            Line(t, step, panel=1, dash=True, width=1.2, label="λ → ∞ (1/3 at the tie)", color="#000000"),
        ]

    return Figure(
        draw,
        sliders=[Slider("lam", LAMBDAS, label="λ (inverse temperature)", default=1.0)],
        announce=announce_lse_lambda,
        axes=[Axes(xlabel="t   (x = (t, 0, 0))", ylabel="value", ylim=(-7.5, 7.5)),
              Axes(xlabel="t   (x = (t, 0, 0))", ylabel="weight of x₁", ylim=(-0.05, 1.05))],
        caption="First panel, for x = (t, 0, 0): λ⁻¹LSE(λx) inside the band from max(x) to "
                "max(x) + (log 3)/λ, and the soft-min −λ⁻¹LSE(−λx) inside the band from "
                "min(x) − (log 3)/λ to min(x). At t = 0 all entries are equal and both curves touch "
                "the outer edges of their bands. Second panel: the soft-argmax weight softmax(λx)₁ of the "
                "first entry, which tends to the step 0, 1/3 (the three-way tie at t = 0), 1.",
        alt="Two panels with a slider for lambda. First: curves of the smooth maximum and the soft-min "
            "of (t, 0, 0) against t, each inside a shaded band of width log(3)/lambda next to the "
            "dashed max and min; the bands shrink as lambda grows. Second: the softmax weight of the "
            "first entry, an S-shaped curve that sharpens into a step at t = 0.",
        width=9.0, height=4.0,
    )
