"""Figures of chapter 2 (the Hessian of the loss is the variance).

:func:`hessian_explorer` is the course's one interactive figure of ``H = diag(p) − ppᵀ``
over the logits ``(o₁, o₂, 0)``; :func:`announce_hessian_explorer` says in words what it
shows at one slider position. :func:`errors` is the static figure of the two numerical
confirmations.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from softmaxbook import expfamily as ef
from softmaxbook import hessian as hs
from softmaxbook.interactive import Axes, Bars, Figure, Heatmap, HLine, Slider

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
        Bars([1, 2, 3], s["p"], panel=0),
        Heatmap(s["H"], vmax=0.25, panel=1),
        Bars([1, 2, 3], np.clip(s["eig"], 0.0, None), panel=2, label="eigenvalues of H"),
        HLine(0.5, panel=2, label="Böhning bound ½"),
    ]


def hessian_explorer() -> Figure:
    """Sliders o₁, o₂ (o₃ = 0): p = softmax(o), H = diag(p) − ppᵀ and its eigenvalues against ½."""
    ticks = dict(xticks=[0, 1, 2], xticklabels=["1", "2", "3"], yticks=[0, 1, 2], yticklabels=["1", "2", "3"])
    return Figure(
        draw_hessian,
        sliders=[Slider("o1", GRID, label="o₁", default=2.0), Slider("o2", GRID, label="o₂", default=2.0)],
        announce=announce_hessian_explorer,
        axes=[
            Axes(xlabel="class i", ylabel="p_i = E[Y_i]", ylim=(0, 1.05), xticks=[1, 2, 3], legend=False),
            Axes(xlabel="j", ylabel="i", title="H = diag(p) − ppᵀ = Cov[Y]", **ticks),
            Axes(xlabel="eigenvalue (sorted)", ylabel="value", ylim=(0, 0.6), xticks=[1, 2, 3],
                 xticklabels=["λ₁ = 0", "λ₂", "λmax"]),
        ],
        caption="Logits (o₁, o₂, 0). First panel: the mean p = softmax(o) of the one-hot label. Second panel: "
                "H = diag(p) − ppᵀ, which is Cov[Y]; every row sums to zero. Third panel: its eigenvalues "
                "against Böhning's bound ½: one is always 0 (the direction 1), and the largest comes "
                "near ½ only when two classes share almost all the probability.",
        alt="Three panels. First: bars of the three class probabilities. Second: a 3 by 3 heatmap of the "
            "Hessian, positive on the diagonal and negative off it. Third: bars of its three sorted "
            "eigenvalues under a dashed line at one half. Sliders for o1 and o2.",
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
    return f"o = ({o1:g}, {o2:g}, 0): p = ({p}), largest eigenvalue of H {s['eig'][-1]:.3f}, bound 0.5"


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


def errors(o, label):
    """Left, finite-difference error against the step h; right, Monte Carlo error against N.

    Returns ``(fig, data)`` with ``data`` from :func:`error_curves`.
    """
    steps = np.geomspace(1e-7, 1e-1, 25)
    sizes = np.unique(np.geomspace(10, 10**6, 21).astype(int))
    d = error_curves(o, label, steps, sizes)
    eps = np.finfo(float).eps
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    ax1.loglog(steps, d["fd"], "o-", color="#0072B2", ms=4, label="max |H_fd − H|")
    ax1.loglog(steps, steps**2 / 12, "--", color="#009E73", label="h²/12 (truncation)")
    ax1.loglog(steps, eps / steps**2, ":", color="#D55E00", label="ε/h² (rounding)")
    ax1.set_ylim(1e-11, 1e-1)
    ax1.set_xlabel("finite-difference step h")
    ax1.set_ylabel("largest entry error")
    ax1.legend(fontsize="small")
    ax2.loglog(sizes, d["mc"], "o-", color="#0072B2", ms=4, label="Monte Carlo error (RMS of 20 runs)")
    ax2.loglog(sizes, np.exp(d["intercept"]) * sizes ** d["slope"], "--", color="#D55E00",
               label=f"fit: slope {d['slope']:.2f}")
    ax2.set_xlabel("number of samples N")
    ax2.set_ylabel("largest entry error")
    ax2.legend(fontsize="small")
    fig.tight_layout()
    return fig, d
