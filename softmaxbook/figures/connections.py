"""Interactive figures of the connections between the chapters (chapters 2 and 4).

Two :class:`softmaxbook.interactive.Figure` descriptions, each with an ``announce_*``
function that states the one or two numbers that matter at a slider position:

* :func:`simplex_figure` (chapter 4, entropy duality): on the 2-simplex, the level sets
  of pᵀx + H(p)/λ for x = (1, x₂, −1), its maximiser softmax(λx) and the path that
  maximiser follows as λ grows (from the centre, maximum entropy, to the corner of the
  argmax); beside it λ⁻¹LSE(λx) against max(x) + (log 3)/λ, both marked at the slider's λ.
  Sliders: ``lam`` and ``x2``.
* :func:`race_figure` (chapter 2, from logits to weights): the seeded three-class data
  and the loss gap ℓ(Wₖ) − ℓ* per iteration, on a log scale, of gradient descent,
  Böhning's fixed-curvature step and Newton. Slider: ``sep``, the distance of the class
  centres from the origin.

Their announce sentences are the readouts under the figures (not notes on the plots).

The draw functions are pure (their numbers come from :mod:`softmaxbook.duality` and
:mod:`softmaxbook.regression`) and are exported so that tests can compare every frame.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from softmaxbook import checks, duality, regression
from softmaxbook.i18n import N_, Message, _
from softmaxbook.interactive import PALETTE, Axes, Figure, HLine, Line, Points, Slider, Text, decades, joined, number

__all__ = [
    "SIMPLEX_LAMS", "SIMPLEX_X2", "simplex_x", "draw_simplex", "announce_simplex", "simplex_figure",
    "RACE_SEPS", "RACE_ITERATIONS", "race_results", "draw_race", "announce_race", "race_figure",
]

# ------------------------------------------------------------------ entropy duality on the simplex
#: Slider grid of lambda: 9 values from 0.21 to 13.5 (ratio 2**0.75 = 1.68), 1 included.
SIMPLEX_LAMS = 2.0 ** np.arange(-2.25, 4.0, 0.75)
#: Slider grid of the middle score x2 in x = (1, x2, -1).
SIMPLEX_X2 = np.linspace(-1.5, 1.5, 7)
#: Fine lambda grid of the maximiser path and of the value curve.
_PATH_LAMS = np.geomspace(0.05, 100.0, 41)
_XLIM, _YLIM = (-0.14, 1.14), (-0.12, 0.98)
_CENTRE = np.full(3, 1 / 3)


def simplex_x(x2: float) -> np.ndarray:
    """The scores of the simplex figure: ``x = (1, x2, -1)``."""
    return np.array([1.0, float(x2), -1.0])


def _frac(u: float, v: float) -> tuple[float, float]:
    """Plane point -> axes fractions of the triangle panel (for Text labels)."""
    return (u - _XLIM[0]) / (_XLIM[1] - _XLIM[0]), (v - _YLIM[0]) / (_YLIM[1] - _YLIM[0])


def draw_simplex(lam: float, x2: float) -> list:
    """Traces of the simplex figure at ``lambda = lam`` and ``x = (1, x2, -1)``."""
    x = simplex_x(x2)
    u, v, _values = duality.level_sets(x, lam, resolution=18)
    u, v = np.round(u, 3), np.round(v, 3)  # a thousandth of the triangle: below a pixel, lighter pages
    p_star = duality.maximiser(x, lam)
    pu, pv = duality.to_plane(duality.maximiser_path(x, _PATH_LAMS))
    su, sv = duality.to_plane(p_star)
    cu, cv = duality.to_plane(_CENTRE)
    tri = duality.CORNERS[[0, 1, 2, 0]]
    values, bound = duality.value_curve(x, _PATH_LAMS)
    val = duality.value(x, lam)
    corner_text = [f"e{sub}: x{sub} = {number(x[k])}" for k, sub in enumerate("₁₂₃")]
    # corner labels: below the bottom corners (e₁ from its corner rightwards, e₂ leftwards
    # from its corner) and to the right of the top corner, clear of the triangle and its dots
    return [
        Line(tri[:, 0], tri[:, 1], width=1.2, color=PALETTE.black),
        Line(u, v, width=1.0, label=_("level sets of pᵀx + H(p)/λ"), color=PALETTE.blue),
        Line(pu, pv, dash=True, width=1.5, label=_("softmax(λx) as λ grows"), color=PALETTE.purple),
        Points([cu], [cv], size=5, label=_("centre: maximum entropy"), color=PALETTE.grey),
        Points([su], [sv], size=8, label=_("maximiser softmax(λx)"), color=PALETTE.vermilion),
        Text(*_frac(-0.03, -0.03), corner_text[0], color=PALETTE.black),
        Text(*_frac(1.03, -0.03), corner_text[1], align="right", color=PALETTE.black),
        Text(*_frac(0.56, 0.93), corner_text[2], color=PALETTE.black),
        Line(_PATH_LAMS, values, panel=1, label=_("λ⁻¹LSE(λx) = max of pᵀx + H(p)/λ"), color=PALETTE.blue),
        Line(_PATH_LAMS, bound, panel=1, dash=True, width=1.5, label="max(x) + (log 3)/λ", color=PALETTE.green),
        HLine(float(np.max(x)), panel=1, label="max(x)", color=PALETTE.black),
        Points([lam], [val], panel=1, size=8, color=PALETTE.vermilion),
        Points([lam], [float(np.max(x)) + math.log(3) / lam], panel=1, size=8, color=PALETTE.green),
    ]


def announce_simplex(params: dict) -> str:
    """The key numbers of the simplex figure at ``params = {"lam": ..., "x2": ...}``.

    The maximiser ``softmax(lambda x)`` with its entropy, and the gap
    ``lambda^-1 LSE(lambda x) - max(x)`` against its bound ``(log 3)/lambda``.
    """
    lam, x = checks.lam(params["lam"]), simplex_x(params["x2"])
    p = duality.maximiser(x, lam)
    gap = duality.value(x, lam) - float(np.max(x))
    return _("softmax(λx) = ({p}), entropy {entropy}; λ⁻¹LSE(λx) − max(x) = {gap} ≤ (log 3)/λ = {bound}").format(
        p=f"{p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}", entropy=f"{duality.entropy(p):.3f}", gap=number(gap),
        bound=number(math.log(3) / lam))


def simplex_figure() -> Figure:
    """The interactive figure of the entropy duality on the 3-simplex (chapter 4)."""
    return Figure(
        draw_simplex,
        sliders=[Slider("lam", SIMPLEX_LAMS, label=_("λ (inverse temperature)"), default=1.0),
                 Slider("x2", SIMPLEX_X2, label=_("x₂ in x = (1, x₂, −1)"), default=0.0, fmt="{:+.1f}")],
        announce=announce_simplex,
        axes=[Axes(xlim=_XLIM, ylim=_YLIM, xticks=[], yticks=[], title=_("the simplex of p = (p₁, p₂, p₃)")),
              Axes(xlabel="λ", ylabel=_("value"), xscale="log", ylim=(0.0, 7.0),
                   title=_("λ⁻¹LSE(λx) between max(x) and max(x) + (log 3)/λ"))],
        caption=_("First panel: level sets of pᵀx + H(p)/λ on the triangle of probability vectors p, for "
                  "x = (1, x₂, −1); the level sets close in on the maximiser softmax(λx) (red dot), which "
                  "follows the dashed path from the centre (uniform p, maximum entropy log 3) to "
                  "the corner of the largest score as λ grows. Second panel: the maximum value λ⁻¹LSE(λx) stays "
                  "between max(x) and max(x) + (log 3)/λ (dots at the slider's λ): softmax is the argmax "
                  "regularised by entropy, and the gap is at most the largest entropy divided by λ."),
        alt=_("Two panels with sliders for lambda and for the middle score x2. First: a triangle with "
              "closed level curves around a red dot, the maximiser, which moves along a dashed path "
              "from the centre of the triangle towards a corner as lambda grows. Second: against lambda "
              "on a log axis, a decreasing curve between a horizontal line at max(x) and a dashed curve "
              "max(x) + log(3)/lambda, with dots on both curves at the current lambda."),
        width=10.0, height=4.6,
    )


# ------------------------------------------------------------------ the race of the three methods
#: Slider grid of the class separation (non-separable data for every value: finite optimum).
RACE_SEPS = np.arange(0.5, 2.76, 0.25)
#: Iterations run by every method in the race figure.
RACE_ITERATIONS = 60
#: Gaps below this are rounding noise of the loss (about 0.1-1): drawn at this floor.
_FLOOR = 1e-15
#: The methods of the race: the key of regression.race (an English message id) and colour.
_METHODS = ((N_("gradient descent"), PALETTE.blue), (N_("Böhning"), PALETTE.green), (N_("Newton"), PALETTE.vermilion))
_CLASS_COLOURS = (PALETTE.blue, PALETTE.vermilion, PALETTE.green)


@lru_cache(maxsize=None)
def race_results(sep: float) -> dict:
    """Data and race at separation ``sep`` (50 points per class, seed 0), cached.

    Returns the dict of :func:`softmaxbook.regression.race` plus ``"X"``, ``"y"`` and
    ``"gaps"`` (ℓ(Wₖ) − ℓ* per method, raised to the floor ``1e-15`` where smaller).
    """
    X, y = regression.make_dataset(50, float(sep), seed=0)
    res = dict(regression.race(X, y, RACE_ITERATIONS))
    res["X"], res["y"] = X, y
    res["gaps"] = {name: np.maximum(res[name] - res["optimum"], _FLOOR) for name, _colour in _METHODS}
    return res


def _iterations_to(gap: np.ndarray, tol: float) -> int | None:
    below = gap <= tol
    return int(np.argmax(below)) if below.any() else None


def draw_race(sep: float) -> list:
    """Traces of the race figure at separation ``sep``."""
    res = race_results(float(sep))
    X, y = res["X"], res["y"]
    k = np.arange(RACE_ITERATIONS + 1)
    traces = [Points(X[y == c, 0], X[y == c, 1], size=3, label=_("class {number}").format(number=c + 1), color=col)
              for c, col in enumerate(_CLASS_COLOURS)]
    traces += [Line(k, res["gaps"][name], panel=1, label=Message(name), color=col) for name, col in _METHODS]
    return traces


def announce_race(params: dict) -> str:
    """The key numbers of the race at ``params = {"sep": ...}``: iterations each method needs to get
    within 1e-6 of the optimal loss (or its gap after the last iteration)."""
    res = race_results(float(params["sep"]))
    parts = []
    for name, _colour in _METHODS:
        n = _iterations_to(res[name] - res["optimum"], 1e-6)
        gap = res[name][-1] - res["optimum"]
        parts.append(_("{method} {n}").format(method=Message(name), n=n) if n is not None else
                     _("{method} > {n} (gap {gap})").format(method=Message(name), n=RACE_ITERATIONS,
                                                            gap=number(gap, ".0e")))
    return _("iterations to ℓ* + 10⁻⁶: {methods}").format(methods=joined(_(", "), parts))


def race_figure() -> Figure:
    """The interactive race of gradient descent, Böhning and Newton (chapter 2)."""
    return Figure(
        draw_race,
        sliders=[Slider("sep", RACE_SEPS, label=_("separation of the classes"), default=2.0, fmt="{:.2f}")],
        announce=announce_race,
        axes=[Axes(xlabel=_("feature 1"), ylabel=_("feature 2"), title=_("the data (50 points per class)")),
              Axes(xlabel=_("iteration k"), ylabel="ℓ(Wₖ) − ℓ*", yscale="log", ylim=(3e-16, 3.0),
                   yticks=decades(-15, 0, 3)[0], yticklabels=decades(-15, 0, 3)[1],
                   title=_("loss above the optimum"))],
        caption=_("Softmax regression on three seeded Gaussian classes (features and a constant), started "
                  "at W = 0. Second panel: the loss above its minimum ℓ* per iteration, log scale, for gradient "
                  "descent with step 1/L, Böhning's fixed curvature ½(I − 11ᵀ/3) ⊗ mean xxᵀ (inverted "
                  "once) and Newton's method (the Hessian H ⊗ xxᵀ, which is also the Fisher information). "
                  "Newton reaches the rounding floor (gaps below 10⁻¹⁵ are drawn at 10⁻¹⁵) in a handful of "
                  "iterations at every separation; the "
                  "fixed-curvature methods converge linearly, and more slowly as the classes move apart."),
        alt=_("Two panels with a slider for the separation of the classes. First: a scatter plot of three "
              "coloured clouds of points that move apart as the slider increases. Second: three curves of "
              "the loss gap against the iteration on a log scale; the Newton curve drops steeply to "
              "10 to the minus 15 within a few iterations, the other two decrease along straight lines."),
        width=10.0, height=4.4,
    )
