"""Entropy duality: LogSumExp is the entropy-regularised maximum (chapter 4).

For a vector ``x`` of ``n`` scores and ``lambda > 0``::

    lambda^-1 LSE(lambda x) = max_{p in simplex} ( p^T x + H(p) / lambda ),

with ``H(p) = -sum_i p_i log p_i`` in nats; the maximiser is ``softmax(lambda x)``.
At ``lambda = 1`` this is ``LSE(x) = max_p (p^T x + H(p))``. Since ``0 <= H <= log n``,
the value lies between ``max(x)`` and ``max(x) + (log n)/lambda``: softmax is the
argmax regularised by entropy, and the gap ``(log n)/lambda`` is the largest entropy
divided by ``lambda``.

The module checks the identity three ways -- the closed form ``lambda^-1 LSE(lambda x)``,
the objective evaluated at ``softmax(lambda x)``, and a numeric maximiser over the
simplex (:func:`mirror_ascent`, exponentiated gradient) -- plus a sympy derivation
for ``n = 2`` (:func:`sym_duality_two`); :func:`lse_conjugate` computes the conjugate
``A*(p) = sup_x (p^T x - LSE(x))``, which is ``-H(p)`` on the simplex, and
:func:`conjugate_escape` shows why it is ``+inf`` off it. It also computes what the
interactive figure on the 3-simplex draws: the objective on a barycentric grid, its level
sets as polylines (:func:`level_sets`), the path of the maximiser as ``lambda`` varies and
``lambda^-1 LSE(lambda x)`` against ``max(x) + (log n)/lambda``.

It imports numpy, sympy, chapter 1's softmax, chapter 4's ``logsumexp`` and the input
checks of :mod:`softmaxbook.checks` (lambda: finite and > 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from softmaxbook import checks
from softmaxbook.expfamily import check_probability_vector, softmax
from softmaxbook.lse import logsumexp

__all__ = [
    "entropy", "objective", "maximiser", "value", "gap_bound", "three_ways", "lse_conjugate",
    "conjugate_objective", "conjugate_escape",
    "AscentResult", "mirror_ascent", "sym_duality_two",
    "simplex_grid", "to_plane", "CORNERS", "level_sets", "maximiser_path", "value_curve",
]

#: Corners of the 2-simplex (e_1, e_2, e_3) in the plane: an equilateral triangle.
CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2]])


# ------------------------------------------------------------------ validation
def _simplex_points(p, n: int | None = None, atol: float = 1e-9) -> np.ndarray:
    """Probability vectors along the last axis (any leading shape), checked."""
    a = checks.real_array(p, "p")
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"p must be a non-empty probability vector (or an array of them), got shape {a.shape}")
    if n is not None and a.shape[-1] != n:
        raise ValueError(f"p has {a.shape[-1]} entries per vector but x has {n}")
    if a.ndim == 1:
        return np.clip(check_probability_vector(a, "p", atol), 0.0, None)
    if not np.all(np.isfinite(a)) or np.any(a < -atol) or np.any(np.abs(a.sum(axis=-1) - 1) > atol * a.shape[-1]):
        raise ValueError("every p must be a probability vector: finite entries >= 0 summing to 1")
    return np.clip(a, 0.0, None)


# ------------------------------------------------------------------ the identity
def entropy(p) -> np.ndarray | float:
    """Shannon entropy ``H(p) = -sum_i p_i log p_i`` in nats, with ``0 log 0 = 0`` (chapter 4).

    ``p`` is a probability vector or an array of them (last axis); between 0 (a corner
    of the simplex) and ``log n`` (the uniform vector).
    """
    p = _simplex_points(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    h = terms.sum(axis=-1)
    return float(h) if h.ndim == 0 else h


def objective(p, x, lam=1.0):
    """``p^T x + H(p) / lambda``, the entropy-regularised score of ``p`` (chapter 4).

    ``p`` may be an array of probability vectors (last axis), e.g. a grid on the simplex.
    """
    x, lam = checks.vector(x), checks.lam(lam)
    p = _simplex_points(p, x.size)
    f = p @ x + np.asarray(entropy(p)) / lam
    return float(f) if np.ndim(f) == 0 else f


def maximiser(x, lam=1.0) -> np.ndarray:
    """The maximiser of :func:`objective` over the simplex: ``softmax(lambda x)`` (chapter 4)."""
    return softmax(checks.lam(lam) * checks.vector(x))


def value(x, lam=1.0) -> float:
    """The maximum of :func:`objective`: ``lambda^-1 LSE(lambda x)`` (chapter 4)."""
    lam = checks.lam(lam)
    return float(logsumexp(lam * checks.vector(x))) / lam


def gap_bound(x, lam=1.0) -> float:
    """``max(x) + (log n)/lambda``, the upper end of ``max(x) <= value(x, lam) <= ...`` (chapter 4)."""
    x, lam = checks.vector(x), checks.lam(lam)
    return float(np.max(x) + math.log(x.size) / lam)


def three_ways(x, lam=1.0, **ascent) -> dict[str, float]:
    """The maximum of ``p^T x + H(p)/lambda`` computed three ways (chapter 4).

    ``"lse"``: ``lambda^-1 LSE(lambda x)``; ``"at_softmax"``: the objective evaluated at
    ``softmax(lambda x)``; ``"numeric"``: the value reached by :func:`mirror_ascent`,
    which knows only the objective and its gradient (keywords are passed to it).
    For ``x = (1, 0, -1)``, ``lambda = 1`` all three are 1.40761.
    """
    x, lam = checks.vector(x), checks.lam(lam)
    return {
        "lse": value(x, lam),
        "at_softmax": objective(maximiser(x, lam), x, lam),
        "numeric": mirror_ascent(x, lam, **ascent).value,
    }


def conjugate_objective(p, theta) -> float:
    """``p^T theta - LSE(theta)``, whose supremum over ``theta`` is ``A*(p)`` (chapter 4).

    ``p`` is any real vector here, on the simplex or off it: the point of the function is
    to see where the supremum is finite.
    """
    theta = checks.vector(theta, "theta")
    q = checks.vector(p, "p")
    if q.shape != theta.shape:
        raise ValueError(f"p must have {theta.size} entries, as theta has, got {q.size}")
    return float(q @ theta - logsumexp(theta))


def conjugate_escape(p, atol: float = 1e-12):
    """For ``p`` off the simplex, a direction ``d`` and a rate ``s > 0`` with
    ``p^T (t d) - LSE(t d) >= s t - log n`` for every ``t >= 0``; ``None`` on the simplex.

    Chapter 4: the reason why ``A*(p) = +inf`` off the simplex. If ``sum p != 1``, take
    ``d = sign(sum p - 1) 1``: then ``p^T (t d) - LSE(t d) = |sum p - 1| t - log n`` exactly.
    Otherwise some ``p_k < 0``; take ``d = -e_k``: ``LSE(-t e_k) <= log n`` for ``t >= 0``, so
    the objective is at least ``-p_k t - log n``. Returns ``(d, s)``.
    """
    q = checks.vector(p, "p")
    excess = float(q.sum()) - 1.0
    if abs(excess) > atol:
        return np.full(q.size, math.copysign(1.0, excess)), abs(excess)
    k = int(np.argmin(q))
    if q[k] < -atol:
        return -np.eye(q.size)[k], float(-q[k])
    return None


def lse_conjugate(p, iterations: int = 2000, tol: float = 1e-14) -> float:
    """The convex conjugate ``A*(p) = sup_x (p^T x - LSE(x))``, computed numerically (chapter 4).

    Gradient ascent in ``x`` from ``x = 0`` with step 1 (the gradient ``p - softmax(x)`` is
    1/2-Lipschitz, since ``H <= I/2``). For ``p`` inside the simplex the objective is
    concave with its stationary points where ``softmax(x) = p``, i.e. ``x = log p + c 1``,
    and the value there is ``sum p_i log p_i = -H(p)``: on the simplex the conjugate of
    the log-partition is minus the entropy (off it, :func:`conjugate_escape` shows the
    supremum is infinite). ``p`` must have every entry > 0 (on the boundary the supremum
    is only approached as some ``x_i -> -inf``).
    """
    p = _simplex_points(p)
    if p.ndim != 1 or np.any(p <= 0):
        raise ValueError("p must be one probability vector with every entry > 0 "
                         "(on the boundary the supremum is not attained)")
    iterations = checks.positive_int(iterations, "iterations")
    x = np.zeros(p.size)
    value = -float(logsumexp(x))
    for _ in range(int(iterations)):
        x = x + (p - softmax(x))
        new = float(p @ x - logsumexp(x))
        if abs(new - value) <= tol:
            return new
        value = new
    return value


# ------------------------------------------------------------------ numeric maximiser
@dataclass
class AscentResult:
    """What :func:`mirror_ascent` returns: the final point, its objective value, the
    objective after every iteration (``history[0]`` at the start) and whether the
    stopping rule was met."""

    p: np.ndarray
    value: float
    history: np.ndarray
    iterations: int
    converged: bool


def mirror_ascent(x, lam=1.0, step=None, iterations: int = 500, tol: float = 1e-13, p0=None) -> AscentResult:
    """Maximise ``f(p) = p^T x + H(p)/lambda`` over the simplex by exponentiated gradient (chapter 4).

    Mirror ascent with the entropy as mirror map: ``p <- p * exp(step * grad f(p))``,
    renormalised, where ``grad f(p) = x - (log p + 1)/lambda``. The update keeps every
    ``p_i > 0`` and ``sum p = 1`` without any projection, and uses nothing but the
    gradient: it does not know that the answer is a softmax. It is run in the log domain
    (``log p`` is the state), which is what makes it stable.

    ``step`` defaults to ``lambda / 2``. Written for ``log p``, the update is
    ``log p <- (1 - step/lambda) log p + step x + const``, so the error shrinks by the
    factor ``|1 - step/lambda|`` per iteration (any ``0 < step < 2 lambda`` converges;
    ``step = lambda`` lands on the maximiser in one step). Stops when the objective
    changes by less than ``tol`` in an iteration, or after ``iterations``. ``p0`` is
    the start (default: uniform); its entries must be positive.
    """
    x, lam = checks.vector(x), checks.lam(lam)
    step = lam / 2 if step is None else checks.positive_number(step, "step")
    iterations = checks.positive_int(iterations, "iterations")
    if p0 is None:
        logp = np.full(x.size, -math.log(x.size))
    else:
        p0 = _simplex_points(p0, x.size)
        if p0.ndim != 1 or np.any(p0 <= 0):
            raise ValueError("the start p0 must be one probability vector with every entry > 0 "
                             "(exponentiated gradient cannot leave a face of the simplex)")
        logp = np.log(p0)

    def f(lp):
        p = np.exp(lp)
        return float(p @ x - p @ lp / lam)

    history = [f(logp)]
    converged = False
    for _ in range(int(iterations)):
        grad = x - (logp + 1.0) / lam
        logp = logp + step * grad
        logp -= logsumexp(logp)  # renormalise: sum exp(logp) = 1
        history.append(f(logp))
        if abs(history[-1] - history[-2]) <= tol:
            converged = True
            break
    p = np.exp(logp)
    return AscentResult(p=p, value=history[-1], history=np.array(history), iterations=len(history) - 1,
                        converged=converged)


# ------------------------------------------------------------------ sympy, n = 2
def sym_duality_two():
    """The duality for two scores, derived in sympy (chapter 4).

    With ``p = (t, 1 - t)`` and scores ``(a, b)`` the objective is
    ``f(t) = t a + (1 - t) b - t log t - (1 - t) log(1 - t)``. Returns
    ``(a, b, t, f, t_star, f_star)``: sympy solves ``f'(t) = 0`` for ``t_star`` and
    substitutes it; ``f_star`` simplifies to ``log(e^a + e^b)`` and ``t_star`` to
    ``e^a / (e^a + e^b)``, the two-class softmax. ``f''(t) = -1/(t(1 - t)) < 0``, so
    it is the maximum.
    """
    a, b = sp.symbols("a b", real=True)
    t = sp.Symbol("t", positive=True)
    f = t * a + (1 - t) * b - t * sp.log(t) - (1 - t) * sp.log(1 - t)
    solutions = sp.solve(sp.Eq(sp.diff(f, t), 0), t)
    if len(solutions) != 1:
        raise RuntimeError(f"sympy found {len(solutions)} stationary points, expected one: {solutions}")
    t_star = sp.simplify(solutions[0])
    f_star = sp.simplify(sp.expand_log(f.subs(t, t_star), force=True))
    return a, b, t, f, t_star, f_star


# ------------------------------------------------------------------ the 3-simplex figure
def simplex_grid(resolution: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric grid ``p = (i, j, k)/resolution`` with ``i + j + k = resolution`` (chapter 4).

    Returns ``(P, triangles)``: ``P`` of shape ``(m, 3)`` (every grid point, corners and
    edges included) and ``triangles``, an ``(r**2, 3)`` array of indices into ``P``
    that tiles the triangle with ``resolution**2`` small triangles.
    """
    r = checks.positive_int(resolution, "resolution")
    index, points = {}, []
    for i in range(r + 1):
        for j in range(r + 1 - i):
            index[i, j] = len(points)
            points.append((r - i - j, i, j))  # weights of e_1, e_2, e_3
    tris = []
    for i in range(r):
        for j in range(r - i):
            tris.append((index[i, j], index[i + 1, j], index[i, j + 1]))
            if i + j < r - 1:
                tris.append((index[i + 1, j], index[i + 1, j + 1], index[i, j + 1]))
    return np.array(points, dtype=float) / r, np.array(tris, dtype=np.intp)


def to_plane(p) -> tuple[np.ndarray, np.ndarray]:
    """Plane coordinates ``(u, v)`` of points of the 2-simplex: ``p @ CORNERS`` (chapter 4)."""
    p = np.asarray(p, dtype=float)
    if p.shape[-1:] != (3,):
        raise ValueError(f"points of the 2-simplex have 3 barycentric coordinates, got shape {p.shape}")
    uv = p @ CORNERS
    return uv[..., 0], uv[..., 1]


def _chain(segments: list[tuple[tuple, tuple]]) -> list[list[tuple]]:
    """Join segments that share end points into polylines (fewer breaks to store)."""
    ends: dict[tuple, list[int]] = {}
    for k, (a, b) in enumerate(segments):
        ends.setdefault(a, []).append(k)
        ends.setdefault(b, []).append(k)
    used = [False] * len(segments)
    lines = []
    for k in range(len(segments)):
        if used[k]:
            continue
        used[k] = True
        line = list(segments[k])
        for forward in (True, False):
            while True:
                tip = line[-1] if forward else line[0]
                nxt = next((j for j in ends[tip] if not used[j]), None)
                if nxt is None:
                    break
                used[nxt] = True
                a, b = segments[nxt]
                other = b if a == tip else a
                if forward:
                    line.append(other)
                else:
                    line.insert(0, other)
        lines.append(line)
    return lines


def level_sets(x, lam=1.0, levels=None, resolution: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level sets of ``p^T x + H(p)/lambda`` on the 2-simplex, as polylines in the plane (chapter 4).

    ``x`` has 3 entries. The objective is evaluated on :func:`simplex_grid` and each
    level is traced by linear interpolation along the edges of the small triangles
    (marching triangles). ``levels`` defaults to six values between the smallest value
    on the grid and the maximum ``lambda^-1 LSE(lambda x)``, at fractions
    0.2, 0.4, 0.6, 0.8, 0.9, 0.97 of the way up. Returns ``(u, v, levels)``: ``u`` and
    ``v`` hold every polyline one after another, separated by NaN (a gap when drawn).
    """
    x, lam = checks.vector(x), checks.lam(lam)
    if x.size != 3:
        raise ValueError(f"level sets are drawn on the 2-simplex: x needs 3 entries, got {x.size}")
    P, tris = simplex_grid(resolution)
    F = objective(P, x, lam)
    if levels is None:
        lo, hi = float(F.min()), value(x, lam)
        levels = lo + (hi - lo) * np.array([0.2, 0.4, 0.6, 0.8, 0.9, 0.97])
    levels = checks.vector(np.atleast_1d(checks.real_array(levels, "levels")), "levels")
    U, V = to_plane(P)
    us, vs = [], []
    for c in levels:
        segments = []
        for tri in tris:
            above = F[tri] >= c
            if above.all() or not above.any():
                continue
            cut = []
            for a, b in ((0, 1), (1, 2), (2, 0)):
                ia, ib = tri[a], tri[b]
                if above[a] != above[b]:
                    w = (c - F[ia]) / (F[ib] - F[ia])
                    cut.append((round(float(U[ia] + w * (U[ib] - U[ia])), 12),
                                round(float(V[ia] + w * (V[ib] - V[ia])), 12)))
            if len(cut) == 2 and cut[0] != cut[1]:
                segments.append((cut[0], cut[1]))
        for line in _chain(segments):
            us += [pt[0] for pt in line] + [math.nan]
            vs += [pt[1] for pt in line] + [math.nan]
    return np.array(us), np.array(vs), levels


def maximiser_path(x, lams) -> np.ndarray:
    """``softmax(lambda x)`` for every ``lambda`` in ``lams``, one row each (chapter 4).

    As ``lambda`` grows the rows move from the uniform vector (maximum entropy) to the
    corner of the argmax (to the middle of an edge or face when the maximum is tied).
    """
    x, lams = checks.vector(x), checks.lams(lams)
    return softmax(lams[:, None] * x[None, :], axis=1)


def value_curve(x, lams) -> tuple[np.ndarray, np.ndarray]:
    """``(lambda^-1 LSE(lambda x), max(x) + (log n)/lambda)`` for every ``lambda`` in ``lams`` (chapter 4)."""
    x, lams = checks.vector(x), checks.lams(lams)
    vals = logsumexp(lams[:, None] * x[None, :], axis=1) / lams
    return vals, np.max(x) + math.log(x.size) / lams
