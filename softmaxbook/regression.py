"""From logits to weights: softmax regression in the weight matrix (chapter 2, "Going further").

With logits ``o = W x`` (``W`` of shape ``C x d``, ``x`` of length ``d``) the loss of one
example is ``l(W) = LSE(W x) - y^T W x``. Its gradient is ``(p - y) x^T`` and its Hessian
is a Kronecker product, whose order depends on how ``W`` is flattened:

* rows of ``W`` stacked, ``vec(W^T) = W.ravel()`` (numpy's default, used throughout this
  module): ``hess l = H (x) x x^T``;
* columns stacked, the standard ``vec(W) = W.ravel(order="F")``: ``hess l = x x^T (x) H``,

with ``p = softmax(W x)`` and ``H = diag(p) - p p^T`` of chapter 2. A Kronecker product of
two positive semidefinite matrices is positive semidefinite, so softmax regression is
convex in ``W``. It is singular along ``1 (x) v`` in ``vec(W^T)`` (adding the same vector
``v`` to every row of ``W`` changes no probability), so a Newton step needs a
pseudo-inverse, a reference class or a ridge (:func:`newton_direction`). ``H`` does not
contain ``y`` (the link is canonical), so the Hessian equals its expectation over labels
drawn from the model, the Fisher information, at every ``W``: Newton's method, Fisher
scoring and IRLS are the same iteration. The *empirical* Fisher ``mean_i g_i g_i^T``
built from the observed labels is another matrix; it approaches the Fisher only at the
optimum of a well-specified model (Kunstner, Balles & Hennig, NeurIPS 2019).

The module also generates a seeded three-class dataset and races three minimisers of
the mean loss: gradient descent with step ``1 / L``, Böhning's fixed-curvature step
(the bound ``B = (I - 1 1^T / C)/2 (x) mean x x^T``, factorised once) and Newton.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import sympy as sp

from softmaxbook import checks
from softmaxbook.expfamily import diag_minus_outer, softmax
from softmaxbook.hessian import bohning_bound, expected_gradient_outer
from softmaxbook.lse import logsumexp

__all__ = [
    "make_dataset", "one_hot", "vec", "mean_loss", "loss_gradient", "example_hessian", "loss_hessian",
    "bohning_curvature", "gradient_descent", "bohning_descent", "newton_direction", "newton", "race",
    "empirical_fisher", "fisher", "fisher_gap", "sym_weight_hessian",
]


# ------------------------------------------------------------------ validation
def _features(X) -> np.ndarray:
    """Features as a finite float array of shape ``(n, d)`` with ``n, d >= 1``."""
    X = checks.real_array(X, "X")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be an (n, d) array of features with n, d >= 1, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite features")
    return X


def _data(X, y, C: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Features ``(n, d)`` as floats, labels ``(n,)`` as ints in ``0..C-1``; returns ``(X, y, C)``."""
    X = _features(X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must hold one label per row of X ({X.shape[0]}), got shape {y.shape}")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError("labels y must be class indices 0, 1, ..., C-1 (integers)")
    y = y.astype(np.intp)
    C = int(y.max()) + 1 if C is None else C
    if y.min() < 0 or y.max() >= C:
        raise ValueError(f"labels must lie in 0..{C - 1}, got values from {y.min()} to {y.max()}")
    return X, y, C


def _model_data(W, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Checked ``(W, X, y, C)``: the number of classes C is the number of rows of ``W``."""
    C = np.asarray(W).shape[0] if np.ndim(W) == 2 else None
    X, y, C = _data(X, y, C)
    return _weights(W, C, X.shape[1]), X, y, C


def _model_features(W, X) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(W, X)`` for functions that need no labels."""
    W = checks.real_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must be a (C, d) matrix, got shape {W.shape}")
    X = _features(X)
    return _weights(W, W.shape[0], X.shape[1]), X


def _weights(W, C: int, d: int) -> np.ndarray:
    W = checks.real_array(W, "W")
    if W.shape != (C, d):
        raise ValueError(f"W must have shape (C, d) = ({C}, {d}), got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W contains NaN or infinite weights")
    return W


def one_hot(y, C: int) -> np.ndarray:
    """Rows ``e_{y_i}`` of the ``C x C`` identity (chapter 2)."""
    C = checks.positive_int(C, "the number of classes C")
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= C)):
        raise ValueError(f"y must be a vector of class indices in 0..{C - 1}")
    return np.eye(C)[y]


# ------------------------------------------------------------------ data
def make_dataset(n_per_class: int = 50, separation: float = 2.0, seed: int = 0, bias: bool = True):
    """A seeded three-class dataset in the plane (chapter 2).

    Class ``c`` is ``N(mu_c, I)`` with centres ``mu_c`` on a circle of radius
    ``separation`` at angles 90°, 210° and 330°; ``n_per_class`` points each. With
    ``bias`` a constant feature 1 is appended, so ``d = 3`` and the softmax model with
    logits ``W x`` contains the true posterior (equal covariances make the log-odds
    linear): the model is well specified. Returns ``(X, y)`` with ``X`` of shape
    ``(3 n_per_class, d)`` and integer labels ``y``.
    """
    n = checks.positive_int(n_per_class, "n_per_class")
    if isinstance(separation, bool) or not isinstance(separation, numbers.Real) \
            or not (math.isfinite(separation) and separation >= 0):
        raise ValueError(f"separation must be a finite number >= 0, got {separation!r}")
    angles = np.deg2rad([90.0, 210.0, 330.0])
    centres = separation * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n)
    X = centres[y] + rng.standard_normal((3 * n, 2))
    if bias:
        X = np.hstack([X, np.ones((3 * n, 1))])
    return X, y


# ------------------------------------------------------------------ loss, gradient, Hessian
def mean_loss(W, X, y) -> float:
    """Mean cross-entropy ``(1/n) sum_i [LSE(W x_i) - o_{i, y_i}]`` (chapter 2)."""
    W, X, y, _ = _model_data(W, X, y)
    O = X @ W.T
    return float(np.mean(logsumexp(O, axis=1) - O[np.arange(y.size), y]))


def loss_gradient(W, X, y) -> np.ndarray:
    """``(1/n) sum_i (p_i - y_i) x_i^T``, shape ``(C, d)`` like ``W`` (chapter 2)."""
    W, X, y, C = _model_data(W, X, y)
    P = softmax(X @ W.T, axis=1)
    return (P - one_hot(y, C)).T @ X / y.size


_STACKINGS = ("rows", "columns")


def _stacking(stacking: str) -> str:
    if stacking not in _STACKINGS:
        raise ValueError(f"stacking must be 'rows' (vec of W transposed) or 'columns' (vec W), got {stacking!r}")
    return stacking


def vec(W, stacking: str = "rows") -> np.ndarray:
    """``W`` flattened: ``"rows"`` stacks its rows, ``vec(W^T) = W.ravel()``; ``"columns"`` stacks
    its columns, the standard ``vec(W) = W.ravel(order="F")`` (chapter 2)."""
    W = checks.real_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must be a (C, d) matrix, got shape {W.shape}")
    return W.ravel(order="C" if _stacking(stacking) == "rows" else "F")


def example_hessian(W, x, stacking: str = "rows") -> np.ndarray:
    """Hessian of one example's loss in the flattened weights (chapter 2)::

        rows stacked, vec(W^T) = W.ravel():       H (x) x x^T
        columns stacked, vec(W) = W.ravel("F"):   x x^T (x) H

    ``H = diag(p) - p p^T`` at ``p = softmax(W x)``. No label is needed: the Hessian
    of the cross-entropy in the logits does not depend on it.
    """
    stacking = _stacking(stacking)
    x = checks.vector(x, "x")
    W = checks.real_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must be a (C, d) matrix, got shape {W.shape}")
    W = _weights(W, W.shape[0], x.size)
    p = softmax(W @ x)
    H, xx = diag_minus_outer(p), np.outer(x, x)
    return np.kron(H, xx) if stacking == "rows" else np.kron(xx, H)


def loss_hessian(W, X) -> np.ndarray:
    """Hessian of the mean loss in ``vec(W^T) = W.ravel()``: ``(1/n) sum_i H_i (x) x_i x_i^T`` (chapter 2).

    Shape ``(C d, C d)``. It is positive semidefinite, with the null space
    ``{1 (x) v}`` (adding the same row ``v`` to every row of ``W`` changes no softmax)
    when the features span ``R^d``.
    """
    W, X = _model_features(W, X)
    C, d = W.shape
    P = softmax(X @ W.T, axis=1)
    Hs = diag_minus_outer(P)  # one H per example, shape (n, C, C)
    K = np.einsum("nce,nj,nk->cjek", Hs, X, X) / X.shape[0]
    return K.reshape(C * d, C * d)


def bohning_curvature(X, C: int = 3) -> np.ndarray:
    """Böhning's fixed bound on :func:`loss_hessian`: ``(I - 1 1^T/C)/2 (x) (1/n) sum_i x_i x_i^T``.

    Chapter 2. Since every ``H_i <= (I - 1 1^T/C)/2``, it exceeds the Hessian in the PSD
    order at every ``W``.
    """
    X = _features(X)
    return np.kron(bohning_bound(C), X.T @ X / X.shape[0])


# ------------------------------------------------------------------ the race
def _run(step, W0, X, y, iterations):
    W = W0.copy()
    losses = [mean_loss(W, X, y)]
    for _ in range(iterations):
        W = step(W)
        losses.append(mean_loss(W, X, y))
    return W, np.array(losses)


def _start(X, y, C, W0, iterations):
    X, y, C = _data(X, y, C)
    iterations = checks.positive_int(iterations, "iterations")
    W0 = np.zeros((C, X.shape[1])) if W0 is None else _weights(W0, C, X.shape[1])
    return X, y, C, W0, iterations


def gradient_descent(X, y, iterations: int = 50, C: int = 3, W0=None):
    """Gradient descent with the step ``1/L``, ``L = lambda_max(Böhning bound)`` (chapter 2).

    ``L`` bounds the largest eigenvalue of the Hessian everywhere, so every step lowers
    the loss. Returns ``(W, losses)`` with the mean loss before and after each iteration.
    """
    X, y, C, W0, iterations = _start(X, y, C, W0, iterations)
    L = 0.5 * float(np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])
    return _run(lambda W: W - loss_gradient(W, X, y) / L, W0, X, y, iterations)


def bohning_descent(X, y, iterations: int = 50, C: int = 3, W0=None):
    """Newton's step with Böhning's fixed curvature ``B`` instead of the Hessian (chapter 2).

    ``B = (I - 1 1^T/C)/2 (x) S`` with ``S = (1/n) sum x_i x_i^T``. On the gradient
    (whose rows sum to zero) ``B^+`` acts as ``G -> 2 G S^-1``: ``S`` is inverted once,
    before the first iteration, and every step costs a matrix product. Returns
    ``(W, losses)``.
    """
    X, y, C, W0, iterations = _start(X, y, C, W0, iterations)
    S = X.T @ X / X.shape[0]
    try:
        S_inv = np.linalg.inv(np.linalg.cholesky(S))  # the one factorisation
    except np.linalg.LinAlgError:
        raise ValueError("the features are linearly dependent (X^T X is singular): "
                         "Böhning's curvature cannot be inverted") from None
    S_inv = S_inv.T @ S_inv
    return _run(lambda W: W - 2.0 * loss_gradient(W, X, y) @ S_inv, W0, X, y, iterations)


def newton_direction(W, X, y, fix: str = "pinv") -> np.ndarray:
    """The Newton step ``Delta`` (shape ``(C, d)``) of the mean loss at ``W`` (chapter 2).

    The Hessian is singular along ``1 (x) v`` (adding ``v`` to every row of ``W``), so
    ``hess Delta = -grad`` has many solutions; the gradient is orthogonal to that null
    space (its rows sum to zero), so solutions exist. Two ways to pick one:

    * ``"pinv"``: the minimum-norm solution (least squares, i.e. the pseudo-inverse):
      the step whose rows sum to zero;
    * ``"reference"``: class ``C`` is the reference class, its row of ``W`` is never
      moved, and the reduced system of the other ``(C - 1) d`` weights is regular.

    Both steps give the same probabilities (they differ by some ``1 v^T``). A third
    way, a ridge ``hess + eps I``, is regular too but solves a slightly different problem.
    """
    W, X, y, C = _model_data(W, X, y)
    d = X.shape[1]
    g = loss_gradient(W, X, y).ravel()
    K = loss_hessian(W, X)
    if fix == "pinv":
        return np.linalg.lstsq(K, -g, rcond=1e-12)[0].reshape(C, d)
    if fix == "reference":
        free = slice(0, (C - 1) * d)
        try:
            step = np.linalg.solve(K[free, free], -g[free])
        except np.linalg.LinAlgError:
            raise ValueError("the reduced Hessian is singular: the features are linearly dependent") from None
        return np.vstack([step.reshape(C - 1, d), np.zeros((1, d))])
    raise ValueError(f"fix must be 'pinv' or 'reference', got {fix!r}")


def newton(X, y, iterations: int = 50, C: int = 3, W0=None):
    """Newton's method on the mean loss (= Fisher scoring = IRLS here; chapter 2).

    Each step is :func:`newton_direction` with the pseudo-inverse (the Hessian is
    singular along ``1 (x) v``). The full step is taken unless it raises the loss, then
    it is halved until it does not (never needed on the course's data, where Newton
    converges from ``W = 0``). Returns ``(W, losses)``.
    """
    X, y, C, W0, iterations = _start(X, y, C, W0, iterations)

    def step(W):
        delta = newton_direction(W, X, y)
        now, t = mean_loss(W, X, y), 1.0
        while mean_loss(W + t * delta, X, y) > now and t > 1e-10:
            t /= 2
        return W + t * delta

    return _run(step, W0, X, y, iterations)


def race(X, y, iterations: int = 50, C: int = 3) -> dict[str, np.ndarray]:
    """Mean loss per iteration of the three methods from ``W = 0`` (chapter 2).

    Returns a dict with ``"gradient descent"``, ``"Böhning"`` and ``"Newton"`` (arrays of
    ``iterations + 1`` losses), ``"optimum"`` (the smallest loss reached, by Newton run
    until it stalls: the reference ``l*``) and ``"W_star"``.
    """
    X, y, C = _data(X, y, C)
    iterations = checks.positive_int(iterations, "iterations")
    W_star, ref = newton(X, y, max(iterations, 30), C)
    out = {
        "gradient descent": gradient_descent(X, y, iterations, C)[1],
        "Böhning": bohning_descent(X, y, iterations, C)[1],
        "Newton": ref[: iterations + 1],
    }
    out["optimum"] = float(min(ref.min(), *(v.min() for v in out.values())))
    out["W_star"] = W_star
    return out


# ------------------------------------------------------------------ Fisher
def _per_example_gradients(W, X, y, C):
    P = softmax(X @ W.T, axis=1)
    R = P - one_hot(y, C)  # (n, C)
    return np.einsum("nc,nj->ncj", R, X).reshape(X.shape[0], -1)


def empirical_fisher(W, X, y) -> np.ndarray:
    """``(1/n) sum_i g_i g_i^T`` with ``g_i = vec((p_i - e_{y_i}) x_i^T)`` at the OBSERVED labels (chapter 2)."""
    W, X, y, C = _model_data(W, X, y)
    G = _per_example_gradients(W, X, y, C)
    return G.T @ G / y.size


def fisher(W, X) -> np.ndarray:
    """The Fisher information ``(1/n) sum_i E_{y ~ p_i}[g g^T]`` with labels drawn from the model (chapter 2).

    Computed from its definition, outcome by outcome (``hessian.expected_gradient_outer``
    per example, times ``x_i x_i^T``); it equals :func:`loss_hessian` at every ``W``.
    """
    W, X = _model_features(W, X)
    P = softmax(X @ W.T, axis=1)
    return sum(np.kron(expected_gradient_outer(p), np.outer(x, x)) for p, x in zip(P, X)) / X.shape[0]


def fisher_gap(W, X, y) -> float:
    """``||empirical Fisher - Fisher||_F / ||Fisher||_F`` at ``W`` (chapter 2)."""
    F = fisher(W, X)
    return float(np.linalg.norm(empirical_fisher(W, X, y) - F) / np.linalg.norm(F))


# ------------------------------------------------------------------ sympy
def sym_weight_hessian(C: int = 3, d: int = 2, impose_sum: bool = True, stacking: str = "rows"):
    """The Hessian of the cross-entropy ``-sum_j y_j log softmax(W x)_j`` in the flattened
    weights, derived in sympy from the loss written literally (chapter 2).

    Returns ``(W, x, y, hess, kron)``: symbol matrices ``W`` (``C x d``), ``x`` and ``y``
    (columns), the Hessian by differentiation in the order of ``vec(W, stacking)``
    (``"rows"``: ``w_11, w_12, ...``; ``"columns"``: ``w_11, w_21, ...``), each entry
    simplified, and the Kronecker form built from ``p = softmax(W x)``: ``H (x) x x^T``
    for rows, ``x x^T (x) H`` for columns. With ``impose_sum`` the last label is
    ``1 - y_1 - ... - y_{C-1}`` and ``hess`` equals ``kron`` with no ``y`` left in it;
    without it, ``hess = (y_1 + ... + y_C) kron``.
    """
    C, d, stacking = checks.positive_int(C, "C"), checks.positive_int(d, "d"), _stacking(stacking)
    W = sp.Matrix(C, d, lambda i, j: sp.Symbol(f"w_{i + 1}{j + 1}", real=True))
    x = sp.Matrix(sp.symbols(f"x_1:{d + 1}", real=True))
    y = sp.Matrix(sp.symbols(f"y_1:{C + 1}", real=True))
    if impose_sum:
        y[C - 1] = 1 - sum(y[:C - 1])
    o = W * x
    Z = sum(sp.exp(oc) for oc in o)
    p = sp.Matrix([sp.exp(oc) / Z for oc in o])
    loss = -sum(yc * sp.log(pc) for yc, pc in zip(y, p))
    order = list(W) if stacking == "rows" else list(W.T)  # list() of a sympy Matrix is row-major
    hess = sp.hessian(loss, order).applyfunc(lambda e: sp.simplify(sp.expand_log(e, force=True)))
    H, xx = diag_minus_outer(p), x * x.T
    kron = sp.kronecker_product(H, xx) if stacking == "rows" else sp.kronecker_product(xx, H)
    return W, x, y, hess, kron
