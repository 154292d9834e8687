"""Figures of chapter 2 (the Hessian of the loss is the variance).

:func:`hessian_explorer` is the course's one interactive figure of ``H = diag(p) − ppᵀ``
over the logits ``(o₁, o₂, 0)``; :func:`announce_hessian_explorer` says in words what it
shows at one slider position. :func:`errors` is the static figure of the two numerical
confirmations, drawn for the screen (:func:`softmaxbook.interactive.static_figure`).
"""

from __future__ import annotations

import numpy as np

from softmaxbook import expfamily as ef
from softmaxbook import hessian as hs
from softmaxbook.i18n import _
from softmaxbook.interactive import (PALETTE, Axes, Bars, Figure, Heatmap, HLine, Line, Points, Slider,
                                     decades, number, static_figure)

__all__ = ["hessian_state", "draw_hessian", "hessian_explorer", "announce_hessian_explorer",
           "error_curves", "errors"]

#: Slider grid of o₁ and o₂ (o₃ = 0).
GRID = np.linspace(-6, 6, 13)


def hessian_state(o1: float, o2: float) -> dict:
    """``p``, ``H`` and the sorted eigenvalues of ``H`` for the logits ``(o1, o2, 0)``."""
    p = ef.softmax([o1, o2, 0.0])
    H = ef.diag_minus_outer(p)
    return {"p": p, "H": H, "eig": np.linalg.eigvalsh(H)}


def draw_hessian(o1: float, o2: float) -> list:
    """The traces of :func:`hessian_explorer` at one slider position."""
    s = hessian_state(o1, o2)
    return [
        Bars([1, 2, 3], s["p"], color=PALETTE.blue, panel=0),
        Heatmap(s["H"], vmax=0.25, panel=1),
        Bars([1, 2, 3], np.clip(s["eig"], 0.0, None), color=PALETTE.green, panel=2, label=_("eigenvalues of H")),
        HLine(0.5, color=PALETTE.black, panel=2, label=_("Böhning bound ½")),
    ]


def hessian_explorer() -> Figure:
    """Sliders o₁, o₂ (o₃ = 0): p = softmax(o), H = diag(p) − ppᵀ and its eigenvalues against ½."""
    ticks = dict(xticks=[0, 1, 2], xticklabels=["1", "2", "3"], yticks=[0, 1, 2], yticklabels=["1", "2", "3"])
    return Figure(
        draw_hessian,
        sliders=[Slider("o1", GRID, label="o₁", default=2.0), Slider("o2", GRID, label="o₂", default=2.0)],
        announce=announce_hessian_explorer,
        axes=[
            Axes(xlabel=_("class i"), ylabel="pᵢ = E[Yᵢ]", ylim=(0, 1.05), xticks=[1, 2, 3], legend=False),
            Axes(xlabel="j", ylabel="i", title="H = diag(p) − ppᵀ = Cov[Y]", **ticks),
            Axes(xlabel=_("eigenvalue (sorted)"), ylabel=_("value"), ylim=(0, 0.6), xticks=[1, 2, 3],
                 xticklabels=["λ₁ = 0", "λ₂", "λₘₐₓ"]),
        ],
        caption=_("Logits (o₁, o₂, 0). First panel: the mean p = softmax(o) of the one-hot label. Second panel: "
                  "H = diag(p) − ppᵀ, which is Cov[Y]; every row sums to zero. Third panel: its eigenvalues "
                  "against Böhning's bound ½: one is always 0 (the direction 1), and the largest comes "
                  "near ½ only when two classes share almost all the probability."),
        alt=_("Three panels. First: bars of the three class probabilities. Second: a 3 by 3 heatmap of the "
              "Hessian, positive on the diagonal and negative off it. Third: bars of its three sorted "
              "eigenvalues under a dashed line at one half. Sliders for o1 and o2."),
        width=10.0, height=3.6,
    )


def announce_hessian_explorer(params: dict) -> str:
    """What :func:`hessian_explorer` shows at ``params = {"o1": ..., "o2": ...}``, in one line.

    >>> announce_hessian_explorer({"o1": 0.0, "o2": 0.0})
    'o = (0, 0, 0): p = (0.33, 0.33, 0.33), largest eigenvalue of H 0.333, bound 0.5'
    """
    try:
        o1, o2 = float(params["o1"]), float(params["o2"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"params must give numbers for 'o1' and 'o2', got {params!r}") from None
    s = hessian_state(o1, o2)
    p = ", ".join(f"{v:.2f}" for v in s["p"])
    return _("o = ({o1}, {o2}, 0): p = ({p}), largest eigenvalue of H {largest}, bound 0.5").format(
        o1=number(o1, "g"), o2=number(o2, "g"), p=p, largest=f"{s['eig'][-1]:.3f}")


def error_curves(o, label, steps, sizes, repeats: int = 20, seed: int = 0) -> dict:
    """Errors of the two numerical confirmations against ``H = diag(p) − ppᵀ`` at the logits ``o``.

    ``fd``: largest entry error of central finite differences of the loss (label ``label``)
    for each step in ``steps``; ``mc``: root-mean-square over ``repeats`` seeded runs of the
    largest entry error of the covariance of N sampled one-hot labels, for each N in
    ``sizes``; ``slope``, ``intercept``: the least-squares line of log ``mc`` on log N;
    ``best_step``: the step with the smallest finite-difference error.
    """
    p = ef.softmax(o)
    H = ef.diag_minus_outer(p)
    loss = lambda v: ef.cross_entropy(label, v)
    fd = np.array([np.abs(hs.finite_difference_hessian(loss, o, h) - H).max() for h in steps])
    mc = hs.monte_carlo_errors(p, sizes, repeats=repeats, seed=seed)
    slope, intercept = np.polyfit(np.log(sizes), np.log(mc), 1)
    return {"steps": np.asarray(steps), "fd": fd, "sizes": np.asarray(sizes), "mc": mc,
            "slope": float(slope), "intercept": float(intercept), "best_step": float(steps[int(np.argmin(fd))])}


def error_traces(d: dict) -> list:
    """The traces of :func:`errors` from the curves ``d`` of :func:`error_curves`."""
    steps, sizes, eps = d["steps"], d["sizes"], np.finfo(float).eps
    return [
        Line(steps, d["fd"], label=_("finite differences"), color=PALETTE.blue),
        Points(steps, d["fd"], size=5, color=PALETTE.blue),
        Line(steps, steps**2 / 12, dash=True, label=_("h²/12 (truncation)"), color=PALETTE.green),
        Line(steps, eps / steps**2, dash=True, width=1.5, label=_("ε/h² (rounding)"), color=PALETTE.vermilion),
        Line(sizes, d["mc"], panel=1, label=_("Monte Carlo (RMS of 20 runs)"), color=PALETTE.blue),
        Points(sizes, d["mc"], panel=1, size=5, color=PALETTE.blue),
        Line(sizes, np.exp(d["intercept"]) * sizes ** d["slope"], panel=1, dash=True,
             label=_("fit: slope {slope}").format(slope=number(d["slope"], ".2f")), color=PALETTE.vermilion),
    ]


def errors(o, label):
    """Left, finite-difference error against the step h; right, Monte Carlo error against N.

    Returns ``(fig, data)``: ``fig`` a :class:`~softmaxbook.interactive.ScreenFigure` (a
    matplotlib figure, left open for ``plt.show()``, displayed on the website as SVG with
    real text), ``data`` from :func:`error_curves`.
    """
    steps = np.geomspace(1e-7, 1e-1, 25)
    sizes = np.unique(np.geomspace(10, 10**6, 21).astype(int))
    d = error_curves(o, label, steps, sizes)
    (h, h_text), (err, err_text), (n, n_text) = decades(-7, -1, 2), decades(-11, -1, 2), decades(1, 6)
    lo, hi = np.floor(np.log10(d["mc"].min())), np.ceil(np.log10(d["mc"].max()))
    mc, mc_text = decades(lo, hi)
    fig = static_figure(
        error_traces(d),
        [Axes(xlabel=_("finite-difference step h"), ylabel=_("largest entry error"), xscale="log", yscale="log",
              ylim=(1e-11, 1e-1), xticks=h, xticklabels=h_text, yticks=err, yticklabels=err_text),
         Axes(xlabel=_("number of samples N"), ylabel=_("largest entry error"), xscale="log", yscale="log",
              ylim=(10.0**lo, 10.0**hi), xticks=n, xticklabels=n_text, yticks=mc, yticklabels=mc_text)],
        alt=_("Two log-log panels. Left: the largest entry error of central finite differences against "
              "the step h falls along the dashed truncation line h²/12 as h shrinks, then rises along the "
              "rounding line ε/h², with a minimum in between. Right: the Monte Carlo error against the "
              "number of samples N falls along a fitted straight line of slope about −1/2."),
        width=8.4, height=3.4,
    )
    return fig, d
