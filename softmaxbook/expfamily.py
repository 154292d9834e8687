"""Softmax as an exponential family (chapter 1).

The categorical distribution of a one-hot label ``Y`` written in natural
parameters (the logits ``o``)::

    P(Y = y | o) = exp(o^T y - A(o)),   A(o) = LSE(o) = log sum_j exp(o_j).

Numeric functions work on numpy arrays; the ``sym_*`` functions build the same
objects in sympy so that the chapter can derive ``grad A = softmax = E[Y]`` exactly;
:func:`diag_minus_outer` is the package's one copy of ``diag(p) - p p^T = Cov[Y]``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from softmaxbook import checks
from softmaxbook.lse import logsumexp

__all__ = [
    "as_label", "check_probability_vector",
    "softmax", "log_partition", "sigmoid", "log_pmf", "cross_entropy", "cross_entropy_grad",
    "diag_minus_outer", "mle_logits", "categorical_pmf", "multinomial_pmf",
    "log_multinomial_coefficient", "dirichlet_log_density", "dirichlet_log_evidence",
    "sequential_log_evidence",
    "sym_logits", "sym_log_partition", "sym_softmax", "sym_gradient", "sym_hessian",
    "sym_cross_entropy", "sym_one_hot_moments",
    "sym_binary_log_partition", "sym_sigmoid", "is_zero",
]


# ------------------------------------------------------------------ validation
def check_probability_vector(p, name: str = "p", atol: float = 1e-9) -> np.ndarray:
    """Return ``p`` as a float vector after checking ``p_i >= 0`` and ``sum p = 1`` (chapter 1)."""
    a = checks.vector(p, name)
    if np.any(a < -atol):
        raise ValueError(f"{name} is not a probability vector: negative entries {a[a < -atol]}")
    if abs(a.sum() - 1.0) > atol * max(1, a.size):
        raise ValueError(f"{name} is not a probability vector: its entries sum to {a.sum():.12g}, not 1")
    return a


def as_label(y, C: int, name: str = "y") -> np.ndarray:
    """A label: a one-hot vector, or any ``y >= 0`` with ``sum y = 1`` (soft label), of length C."""
    y = check_probability_vector(y, name)
    if y.size != C:
        raise ValueError(f"{name} has {y.size} entries but there are {C} classes (logits)")
    return y


# ------------------------------------------------------------------ numerics
def softmax(o, axis=-1):
    """``p_i = exp(o_i) / sum_j exp(o_j)``, computed stably by subtracting the maximum (chapter 1).

    Works along ``axis`` of an array of logits. Raises ``ValueError`` on empty,
    NaN or infinite logits and ``TypeError`` on non-numbers.
    """
    o = checks.vector(o, "o", batch=True)
    z = np.exp(o - np.max(o, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


def log_partition(o):
    """``A(o) = LSE(o) = log sum_j exp(o_j)``, the log-partition of the categorical family (chapter 1).

    For a matrix of logits, one value per row (last axis).
    """
    o = checks.vector(o, "o", batch=True)
    return logsumexp(o, axis=-1) if o.ndim > 1 else float(logsumexp(o))


def sigmoid(t):
    """The logistic function ``1 / (1 + exp(-t))``, stable for large ``|t|`` (chapter 1)."""
    t = checks.real_array(t, "t")
    return np.where(t >= 0, 1.0 / (1.0 + np.exp(-np.abs(t))), np.exp(-np.abs(t)) / (1.0 + np.exp(-np.abs(t))))


def log_pmf(y, o) -> float:
    """``log P(Y = y | o) = o^T y - A(o)`` for a one-hot ``y`` (chapter 1)."""
    o = checks.vector(o, "o", batch=True)
    if o.ndim != 1:
        raise ValueError(f"o must be one vector of logits, got shape {o.shape}")
    y = as_label(y, o.size)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"y must be one-hot for a probability mass, got {y}")
    return float(o @ y - log_partition(o))


def cross_entropy(y, o) -> float:
    """``l(y, softmax(o)) = -sum_j y_j log softmax(o)_j``, computed as ``A(o) - y^T o`` (chapter 1).

    ``y`` is one-hot or any vector with ``y >= 0`` and ``sum y = 1``.
    """
    o = checks.vector(o, "o", batch=True)
    if o.ndim != 1:
        raise ValueError(f"o must be one vector of logits, got shape {o.shape}")
    y = as_label(y, o.size)
    return float(log_partition(o) - y @ o)


def cross_entropy_grad(y, o) -> np.ndarray:
    """``dl/do_i = p_i - y_i`` (chapter 1)."""
    o = checks.vector(o, "o", batch=True)
    if o.ndim != 1:
        raise ValueError(f"o must be one vector of logits, got shape {o.shape}")
    y = as_label(y, o.size)
    return softmax(o) - y


def diag_minus_outer(p):
    """``diag(p) - p p^T``: the covariance of a one-hot ``Y ~ Categorical(p)`` and the Hessian
    of the loss and of ``A = LSE`` at ``p = softmax(o)`` (chapters 1 and 2).

    The one place in the package that writes this matrix. ``p`` is a sympy column vector
    (exact result) or an array whose last axis holds probability vectors (one matrix per
    vector, so an ``(n, C)`` array gives ``(n, C, C)``). Numeric input is checked: finite,
    non-negative entries summing to 1 (``ValueError`` otherwise).
    """
    if isinstance(p, sp.MatrixBase):
        p = sp.Matrix(p)
        if 1 not in p.shape:
            raise ValueError(f"p must be a sympy vector, got a {p.shape[0]}x{p.shape[1]} matrix")
        p = p.reshape(len(p), 1)
        return sp.diag(*p) - p * p.T
    a = checks.real_array(p, "p")
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"p must be a non-empty vector (or array of vectors), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < -1e-12) or np.any(np.abs(a.sum(axis=-1) - 1) > 1e-9 * a.shape[-1]):
        raise ValueError(f"p must hold probability vectors (entries >= 0 summing to 1), got {a}")
    a = np.clip(a, 0.0, None)
    return a[..., :, None] * np.eye(a.shape[-1]) - a[..., :, None] * a[..., None, :]


def categorical_pmf(y, p) -> float:
    """``P(Y = y) = prod_j p_j^{y_j}`` for a one-hot ``y`` (chapter 1)."""
    p = check_probability_vector(p)
    y = as_label(y, p.size)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"y must be one-hot, got {y}")
    return float(p[np.argmax(y)])


def _counts(counts, C: int | None = None) -> np.ndarray:
    """Class counts as an int array (non-negative integers; ``C`` of them if given)."""
    k = checks.real_array(counts, "counts")
    if k.ndim != 1 or k.size == 0 or (C is not None and k.size != C) or not np.all(np.isfinite(k)) \
            or np.any(k < 0) or np.any(k > 2**53) or np.any(k != np.round(k)):
        what = f"{C} " if C is not None else ""
        raise ValueError(f"counts must be {what}non-negative integers, got {counts!r}")
    return k.astype(int)


def log_multinomial_coefficient(counts) -> float:
    """``log(n! / prod_j n_j!)``, ``n = sum counts``: the log of the number of label sequences
    with these class counts (chapter 1)."""
    k = _counts(counts)
    return float(math.lgamma(k.sum() + 1) - sum(math.lgamma(c + 1) for c in k))


def multinomial_pmf(counts, p) -> float:
    """``P(N = counts) = n! / prod_j counts_j! * prod_j p_j^{counts_j}``, ``n = sum counts`` trials
    (chapter 1: with ``n = 1`` it is the categorical distribution)."""
    p = check_probability_vector(p)
    k = _counts(counts, p.size)
    if np.any((p == 0) & (k > 0)):
        return 0.0
    return float(np.exp(log_multinomial_coefficient(k) + np.sum(k[k > 0] * np.log(p[k > 0]))))


def _alpha(alpha) -> np.ndarray:
    a = checks.real_array(alpha, "alpha")
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"alpha must be a vector of positive numbers, got {alpha!r}")
    return a


def _log_beta(a: np.ndarray) -> float:
    """``log B(a) = sum log Gamma(a_j) - log Gamma(sum a)``, the Dirichlet normaliser."""
    return float(sum(math.lgamma(x) for x in a) - math.lgamma(a.sum()))


def dirichlet_log_density(p, alpha) -> float:
    """Log-density of the Dirichlet distribution ``Dir(alpha)`` at a point ``p`` of the simplex (chapter 1)::

        log Gamma(sum alpha) - sum log Gamma(alpha_j) + sum (alpha_j - 1) log p_j.

    It is the conjugate prior of the categorical family: observing class counts ``n``
    turns ``Dir(alpha)`` into ``Dir(alpha + n)``.
    """
    p = check_probability_vector(p)
    a = _alpha(alpha)
    if a.shape != p.shape:
        raise ValueError(f"alpha must be {p.size} positive numbers, got {alpha!r}")
    if np.any(p <= 0):
        raise ValueError("the Dirichlet density is evaluated inside the simplex: every p_j must be > 0")
    return float(np.sum((a - 1) * np.log(p)) - _log_beta(a))


def dirichlet_log_evidence(counts, alpha) -> float:
    """Log marginal likelihood of one observed label SEQUENCE with class counts ``n`` under the
    prior ``p ~ Dir(alpha)`` (chapter 1)::

        log integral prod_j p_j^{n_j} Dir(p; alpha) dp = log B(alpha + n) - log B(alpha).

    It is the constant ``log prior + log likelihood - log posterior`` (the same at every ``p``).
    The counts themselves, in any order, have probability larger by the multinomial
    coefficient: add :func:`log_multinomial_coefficient`.
    """
    a = _alpha(alpha)
    n = _counts(counts, a.size)
    return _log_beta(a + n) - _log_beta(a)


def sequential_log_evidence(labels, alpha) -> float:
    """The same marginal likelihood as :func:`dirichlet_log_evidence`, label by label, with no
    Gamma function: the chain rule with the posterior predictive (chapter 1)::

        P(y_t = j | y_1 .. y_{t-1}) = (alpha_j + n_j^{(t)}) / (sum alpha + t - 1),

    ``n_j^{(t)}`` the count of class ``j`` before ``t`` (Pólya's urn). ``labels`` are class
    indices ``0 .. C-1`` with ``C = len(alpha)``.
    """
    a = _alpha(alpha)
    y = np.asarray(labels)
    if y.ndim == 1 and y.size == 0:
        return 0.0  # no label: probability 1
    if y.ndim != 1 or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= a.size:
        raise ValueError(f"labels must be a vector of class indices in 0..{a.size - 1}")
    seen = np.zeros(a.size)
    total = 0.0
    for t, j in enumerate(y):
        total += math.log((a[j] + seen[j]) / (a.sum() + t))
        seen[j] += 1
    return total


def mle_logits(labels) -> np.ndarray:
    """Maximum-likelihood logits for one-hot ``labels`` (an ``(n, C)`` array): moment matching (chapter 1).

    Setting the gradient of the mean loss, ``softmax(o) - mean(labels)``, to zero gives
    ``softmax(o) = ybar``: the model mean of ``T(Y) = Y`` equals the empirical mean. The
    solution is ``o = log ybar`` up to an added constant; we return the one with
    ``sum o = 0``. A class never observed has ``ybar_j = 0``: then no finite maximiser
    exists (the likelihood keeps growing as ``o_j -> -inf``) and ``ValueError`` is raised.
    """
    Y = checks.real_array(labels, "labels")
    if Y.ndim != 2 or Y.shape[0] == 0:
        raise ValueError(f"labels must be an (n, C) array of one-hot rows with n >= 1, got shape {Y.shape}")
    if not np.all((Y == 0) | (Y == 1)) or not np.all(Y.sum(axis=1) == 1):
        raise ValueError("every row of labels must be one-hot (a single 1, zeros elsewhere)")
    ybar = Y.mean(axis=0)
    if np.any(ybar == 0):
        missing = (np.flatnonzero(ybar == 0) + 1).tolist()     # classes are counted from 1, as in the text
        raise ValueError(
            f"{'class' if len(missing) == 1 else 'classes'} {', '.join(map(str, missing))} never observed: "
            "the maximum-likelihood logit is -inf"
        )
    o = np.log(ybar)
    return o - o.mean()


# ------------------------------------------------------------------ sympy
def sym_logits(C: int, name: str = "o") -> sp.Matrix:
    """Column vector of real symbols ``o_1 ... o_C`` (chapter 1)."""
    C = checks.positive_int(C, "the number of classes C")
    return sp.Matrix(sp.symbols(f"{name}_1:{C + 1}", real=True))


def sym_log_partition(o: sp.Matrix) -> sp.Expr:
    """``A(o) = log sum_j exp(o_j)`` as a sympy expression (chapter 1)."""
    return sp.log(sum(sp.exp(oj) for oj in o))


def sym_softmax(o: sp.Matrix) -> sp.Matrix:
    """``softmax(o)`` as a sympy column vector (chapter 1)."""
    Z = sum(sp.exp(oj) for oj in o)
    return sp.Matrix([sp.exp(oj) / Z for oj in o])


def sym_gradient(expr: sp.Expr, o: sp.Matrix) -> sp.Matrix:
    """Column vector of partial derivatives ``d expr / d o_i`` (chapter 1)."""
    return sp.Matrix([sp.diff(expr, oi) for oi in o])


def sym_hessian(expr: sp.Expr, o: sp.Matrix) -> sp.Matrix:
    """Matrix of second derivatives ``d^2 expr / d o_i d o_j`` (sympy's ``hessian``; chapter 1)."""
    return sp.hessian(expr, list(o))


def sym_cross_entropy(y: sp.Matrix, o: sp.Matrix) -> sp.Expr:
    """``-sum_j y_j log softmax(o)_j`` written literally, before any simplification (chapter 1)."""
    p = sym_softmax(o)
    return -sum(yj * sp.log(pj) for yj, pj in zip(y, p))


def sym_one_hot_moments(p: sp.Matrix) -> tuple[sp.Matrix, sp.Matrix]:
    """``E[Y]`` and ``Cov[Y]`` of one-hot ``Y``, computed from the definition (chapter 1).

    ``Y`` takes the value ``e_k`` (the k-th unit vector) with probability ``p_k``::

        E[Y] = sum_k p_k e_k,   Cov[Y] = sum_k p_k (e_k - E[Y]) (e_k - E[Y])^T.

    The caller decides what ``p`` is (free symbols, or softmax of symbolic logits);
    the sum over outcomes uses ``sum p = 1`` only if ``p`` satisfies it.
    """
    p = sp.Matrix(p)
    C = p.shape[0]
    E = [sp.Matrix.eye(C)[:, k] for k in range(C)]
    mean = sp.zeros(C, 1)
    for k in range(C):
        mean += p[k] * E[k]
    cov = sp.zeros(C, C)
    for k in range(C):
        d = E[k] - mean
        cov += p[k] * d * d.T
    return mean, cov


def sym_binary_log_partition(theta: sp.Symbol | None = None) -> tuple[sp.Symbol, sp.Expr]:
    """Two classes with logits ``(theta, 0)``: ``A(theta) = log(1 + e^theta)`` (chapter 1)."""
    theta = sp.Symbol("theta", real=True) if theta is None else theta
    return theta, sym_log_partition(sp.Matrix([theta, 0]))


def sym_sigmoid(t: sp.Expr) -> sp.Expr:
    """``sigma(t) = 1 / (1 + e^-t)`` in sympy (chapter 1)."""
    return 1 / (1 + sp.exp(-t))


def is_zero(expr) -> bool:
    """True when sympy proves that ``expr`` (a scalar or matrix) simplifies to exactly 0 (chapter 1)."""
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(e) == 0 for e in expr)
    return sp.simplify(expr) == 0
