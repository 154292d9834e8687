"""The Hessian of the softmax cross-entropy loss is a covariance (chapter 2).

``H = d^2 l / do do^T = diag(p) - p p^T = Cov[Y]`` for one-hot ``Y ~ Categorical(p)``,
``p = softmax(o)``, whatever the label ``y`` (as long as ``sum y = 1``).

The module has three kinds of functions:

* the matrix itself and its consequences (``softmax_hessian``, ``bohning_bound``,
  ``newton_step``, ...);
* independent ways to compute it (``sym_loss_hessian`` exactly in sympy,
  ``finite_difference_hessian`` numerically, ``monte_carlo_covariance`` by sampling,
  ``expected_gradient_outer`` from the information-matrix equality);
* the wrong formulas in circulation (``wrong_*``, ``sym_slip_hessians``) and the
  computations that refute them (``softmax_output_moments``, ``bohning_majoriser``).

The matrix ``diag(p) - p p^T`` itself is :func:`softmaxbook.expfamily.diag_minus_outer`.

It imports numpy, sympy, chapter 1's :mod:`softmaxbook.expfamily` (softmax, probability
vectors) and the input checks of :mod:`softmaxbook.checks`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import sympy as sp

from softmaxbook import checks
from softmaxbook.expfamily import check_probability_vector, cross_entropy, diag_minus_outer, softmax

__all__ = [
    "categorical_covariance", "softmax_hessian", "finite_difference_gradient",
    "finite_difference_hessian", "sample_one_hot", "monte_carlo_covariance",
    "monte_carlo_errors", "expected_gradient_outer", "bohning_bound", "consequence_excess", "largest_eigenvalue",
    "newton_step", "bohning_step", "bohning_majoriser",
    "softmax_output_sample", "softmax_output_moments", "sym_loss_hessian", "sym_categorical_covariance", "sym_slip_hessians",
    "wrong_hessian_diagonal", "wrong_hessian_delta_sum", "wrong_gradient_index",
]


# ------------------------------------------------------------------ validation
# Chapter 2 builds on chapter 1: probability vectors and softmax come from there; vectors,
# counts and steps are checked by softmaxbook.checks.
def _probabilities(p, name: str = "p", atol: float = 1e-9) -> np.ndarray:
    return np.clip(check_probability_vector(p, name, atol), 0.0, None)


# ------------------------------------------------------------------ the matrix
def categorical_covariance(p) -> np.ndarray:
    """``Cov[Y] = diag(p) - p p^T`` for a one-hot ``Y ~ Categorical(p)`` (chapter 2).

    Raises ``ValueError`` if ``p`` is not a probability vector.
    """
    return diag_minus_outer(_probabilities(p))


def softmax_hessian(o) -> np.ndarray:
    """Hessian of the cross-entropy loss in the logits: ``diag(p) - p p^T``, ``p = softmax(o)`` (chapter 2)."""
    return diag_minus_outer(softmax(checks.vector(o, "o")))


# ------------------------------------------------------------------ numerical derivatives
def finite_difference_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` (error O(h^2); chapter 2)."""
    if not callable(f):
        raise TypeError("f must be a function of a vector returning a number")
    x, h = checks.vector(x, "x"), checks.positive_number(h, "the step h")
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def finite_difference_hessian(f: Callable[[np.ndarray], float], x, h: float = 1e-4) -> np.ndarray:
    """Central second differences of ``f`` at ``x`` (chapter 2)::

        H_ij ~ [f(x+h e_i+h e_j) - f(x+h e_i-h e_j) - f(x-h e_i+h e_j) + f(x-h e_i-h e_j)] / 4h^2

    Truncation error is O(h^2), rounding error O(eps / h^2): ``h ~ 1e-4`` balances them.
    """
    if not callable(f):
        raise TypeError("f must be a function of a vector returning a number")
    x, h = checks.vector(x, "x"), checks.positive_number(h, "the step h")
    n = x.size
    H = np.empty((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (
                f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j]) + f(x - E[i] - E[j])
            ) / (4 * h * h)
    return H


# ------------------------------------------------------------------ Monte Carlo
def sample_one_hot(p, n: int, seed: int = 0) -> np.ndarray:
    """``n`` one-hot rows drawn from ``Categorical(p)`` with ``np.random.default_rng(seed)`` (chapter 2)."""
    p = _probabilities(p)
    n = checks.positive_int(n, "the sample size n")
    k = np.random.default_rng(seed).choice(p.size, size=n, p=p / p.sum())
    return np.eye(p.size)[k]


def monte_carlo_covariance(p, n: int, seed: int = 0) -> np.ndarray:
    """Empirical covariance (divided by ``n``) of ``n`` sampled one-hot vectors (chapter 2).

    It estimates ``diag(p) - p p^T``; the error shrinks like ``1/sqrt(n)``. Uses the
    class counts only, so ``n`` in the millions is cheap.
    """
    p = _probabilities(p)
    n = checks.positive_int(n, "the sample size n")
    counts = np.random.default_rng(seed).multinomial(n, p / p.sum())
    return diag_minus_outer(counts / n)  # the mean of the one-hot vectors is the class frequencies


def monte_carlo_errors(p, sizes, repeats: int = 20, seed: int = 0) -> np.ndarray:
    """Root-mean-square (over ``repeats`` seeded runs) of the largest entry error ``|Cov_N - H|`` (chapter 2)."""
    p = _probabilities(p)
    repeats = checks.positive_int(repeats, "repeats")
    sizes = [checks.positive_int(int(n) if float(n).is_integer() else n, "every sample size") for n in np.atleast_1d(sizes)]
    H = categorical_covariance(p)
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        errs = [np.abs(monte_carlo_covariance(p, n, seed=int(s)) - H).max()
                for s in rng.integers(0, 2**63 - 1, size=repeats)]
        out.append(np.sqrt(np.mean(np.square(errs))))
    return np.array(out)


def expected_gradient_outer(p) -> np.ndarray:
    """``E_{K ~ p}[(p - e_K)(p - e_K)^T]``: the expected outer product of the loss gradient
    when the label ``K`` is drawn from the model itself (chapter 2). By the information-matrix
    equality (second Bartlett identity) it equals the Hessian ``diag(p) - p p^T``."""
    p = _probabilities(p)
    F = np.zeros((p.size, p.size))
    for k in range(p.size):
        g = p.copy()
        g[k] -= 1.0
        F += p[k] * np.outer(g, g)
    return F


# ------------------------------------------------------------------ consequences
def bohning_bound(C: int) -> np.ndarray:
    """Böhning's bound ``B = (I - 1 1^T / C) / 2`` with ``H <= B`` in the PSD order (chapter 2)."""
    C = checks.positive_int(C, "the number of classes C")
    return 0.5 * (np.eye(C) - np.ones((C, C)) / C)


def consequence_excess(o, v) -> dict[str, float]:
    """How far each consequence of ``H = Cov[Y]`` is from failing at logits ``o``, direction ``v``
    (chapter 2). Every value is ``<= 0`` when the statement holds (up to rounding)::

        -lambda_min(H),  |H 1|,  |tr H - (1 - sum p^2)|,
        Var[v_K] - (max v - min v)^2 / 4          (Popoviciu),
        (max v - min v)^2 / 4 - |v|^2 / 2,
        -lambda_min(B - H)                        (Böhning's bound B)

    with ``Var[v_K] = v^T H v``. Values of order 1e-16 are rounding.
    """
    o = checks.vector(o, "o")
    v = checks.vector(v, "v")
    if v.size != o.size:
        raise ValueError(f"v has {v.size} entries but o has {o.size}")
    p, H = softmax(o), softmax_hessian(o)
    spread = np.ptp(v) ** 2 / 4
    return {
        "-(smallest eigenvalue of H)": -float(np.linalg.eigvalsh(H)[0]),
        "|H 1|": float(np.abs(H.sum(axis=1)).max()),
        "|tr H - (1 - sum p^2)|": float(abs(np.trace(H) - (1 - p @ p))),
        "Var[v_K] - (max v - min v)^2/4": float(v @ H @ v - spread),
        "(max v - min v)^2/4 - |v|^2/2": float(spread - v @ v / 2),
        "-(smallest eigenvalue of B - H)": -float(np.linalg.eigvalsh(bohning_bound(o.size) - H)[0]),
    }


def largest_eigenvalue(H) -> float:
    """Largest eigenvalue of a symmetric matrix (chapter 2)."""
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.size == 0:
        raise ValueError(f"H must be a non-empty square matrix, got shape {H.shape}")
    if not np.allclose(H, H.T):
        raise ValueError("H must be symmetric")
    return float(np.linalg.eigvalsh(H)[-1])


def newton_step(o, y) -> np.ndarray:
    """One Newton step for the loss ``l(y, softmax(o))``: ``o - H^+ (p - y)`` (chapter 2).

    ``H`` is singular (``H 1 = 0``), so the step uses its pseudo-inverse: the gradient
    ``p - y`` sums to zero and lies in the range of ``H``, and the step taken is the one
    orthogonal to the direction ``1`` that the loss ignores.
    """
    o = checks.vector(o, "o")
    y = _probabilities(y, "y")
    if y.size != o.size:
        raise ValueError(f"y has {y.size} entries but o has {o.size}")
    p = softmax(o)
    return o - np.linalg.pinv(diag_minus_outer(p), rcond=1e-12, hermitian=True) @ (p - y)


def bohning_step(o, y) -> np.ndarray:
    """One step with Böhning's fixed curvature ``B`` instead of ``H``: ``o - B^+ (p - y) = o - 2 (p - y)``
    (chapter 2). Because ``H <= B``, the step never increases the loss; it converges
    linearly, not quadratically like :func:`newton_step`, but ``B`` never changes.
    """
    o = checks.vector(o, "o")
    y = _probabilities(y, "y")
    if y.size != o.size:
        raise ValueError(f"y has {y.size} entries but o has {o.size}")
    return o - 2.0 * (softmax(o) - y)


def bohning_majoriser(o, y, delta) -> tuple[float, float]:
    """The loss after a move ``delta`` and Böhning's quadratic upper bound on it (chapter 2)::

        l(o + delta) <= l(o) + g^T delta + delta^T B delta / 2,   g = p - y,  B = (I - 1 1^T / C) / 2.

    The bound holds for every ``delta`` because ``H <= B`` at every point on the segment
    (Taylor with the mean-value form of the remainder). Returns ``(loss, bound)``.
    """
    o = checks.vector(o, "o")
    y = _probabilities(y, "y")
    d = checks.vector(delta, "delta")
    if not y.size == o.size == d.size:
        raise ValueError(f"o, y and delta must have the same length, got {o.size}, {y.size}, {d.size}")
    loss = cross_entropy(y, o)
    bound = loss + (softmax(o) - y) @ d + 0.5 * d @ bohning_bound(o.size) @ d
    return cross_entropy(y, o + d), float(bound)


def softmax_output_sample(n: int, C: int = 3, seed: int = 0) -> np.ndarray:
    """``softmax(z)_1`` for ``n`` seeded draws ``z ~ N(0, I_C)`` (chapter 2).

    A random variable in ``[0, 1]`` with mean ``mu`` has variance at most ``mu (1 - mu)``,
    with equality only when it takes the values 0 and 1; ``softmax(z)_1`` never does.
    """
    n, C = checks.positive_int(n, "the sample size n"), checks.positive_int(C, "the number of classes C")
    return softmax(np.random.default_rng(seed).standard_normal((n, C)))[:, 0]


def softmax_output_moments(n: int, C: int = 3, seed: int = 0) -> tuple[float, float]:
    """Mean ``mu`` and variance of :func:`softmax_output_sample` (chapter 2)."""
    s = softmax_output_sample(n, C, seed)
    return float(s.mean()), float(s.var())


# ------------------------------------------------------------------ sympy
def sym_loss_hessian(C: int = 3, impose_sum: bool = True):
    """Hessian of ``-sum_j y_j log softmax(o)_j`` in sympy (chapter 2).

    Returns ``(o, y, H, P)`` with symbol vectors ``o`` and ``y``, the Hessian ``H`` and
    ``P = diag(p) - p p^T`` for ``p = softmax(o)``. With ``impose_sum`` the last label
    entry is replaced by ``1 - y_1 - ... - y_{C-1}`` (a label sums to one), and the
    Hessian no longer contains ``y`` at all.
    """
    C = checks.positive_int(C, "C")
    o = sp.Matrix(sp.symbols(f"o_1:{C + 1}", real=True))
    y = sp.Matrix(sp.symbols(f"y_1:{C + 1}", real=True))
    if impose_sum:
        y[C - 1] = 1 - sum(y[:C - 1])
    Z = sum(sp.exp(oj) for oj in o)
    p = sp.Matrix([sp.exp(oj) / Z for oj in o])
    loss = -sum(yj * sp.log(pj) for yj, pj in zip(y, p))
    H = sp.hessian(loss, list(o)).applyfunc(lambda e: sp.simplify(sp.expand_log(e, force=True)))
    return o, y, H, diag_minus_outer(p)


def sym_slip_hessians(C: int = 3) -> dict[str, sp.Matrix]:
    """Differentiate the gradient ``g_i = e^{o_i} / Z - y_i`` once more, three ways (chapter 2).

    * ``"p constant"``: ``p`` treated as a constant inside ``p - y`` -> the zero matrix;
    * ``"Z constant"``: ``Z = sum_j e^{o_j}`` held fixed (a quotient-rule slip) -> ``diag(p)``;
    * ``"correct"``: ``Z`` differentiated too -> ``diag(p) - p p^T``.

    Each result is written in the symbols ``p_1 ... p_C``.
    """
    C = checks.positive_int(C, "C")
    o = sp.Matrix(sp.symbols(f"o_1:{C + 1}", real=True))
    y = sp.symbols(f"y_1:{C + 1}", real=True)
    P = sp.Matrix(sp.symbols(f"p_1:{C + 1}", positive=True))
    Zs = sp.Symbol("Z", positive=True)
    Z = sum(sp.exp(oj) for oj in o)
    back = {sp.exp(o[k]): P[k] * Zs for k in range(C)}

    def jac(g):
        J = sp.Matrix(C, C, lambda i, j: sp.diff(g[i], o[j]))
        return J.applyfunc(lambda e: sp.simplify(e.subs(Z, Zs).subs(back)))

    frozen = sp.Matrix([P[i] - y[i] for i in range(C)])
    quotient = sp.Matrix([sp.exp(o[i]) / Zs - y[i] for i in range(C)])
    full = sp.Matrix([sp.exp(o[i]) / Z - y[i] for i in range(C)])
    return {"p constant": jac(frozen), "Z constant": jac(quotient), "correct": jac(full)}


def sym_categorical_covariance(C: int = 3):
    """``Cov[Y]`` of one-hot ``Y ~ Categorical(p)`` from the definition, entry by entry (chapter 2).

    Returns ``(p, cov)`` with symbols ``p = (p_1, ..., p_C)`` and
    ``cov[i, j] = E[Y_i Y_j] - E[Y_i] E[Y_j]``, where ``E[f(Y)] = sum_k p_k f(e_k)`` sums
    over the C outcomes ``Y = e_k``. (``sum p = 1`` makes it a distribution; the formula
    for each entry does not need it.)
    """
    C = checks.positive_int(C, "C")
    p = sp.Matrix(sp.symbols(f"p_1:{C + 1}", positive=True))
    outcomes = [sp.Matrix.eye(C)[:, k] for k in range(C)]

    def expect(f):
        return sum(p[k] * f(outcomes[k]) for k in range(C))

    cov = sp.zeros(C, C)
    for i in range(C):
        for j in range(C):
            cov[i, j] = sp.expand(expect(lambda e: e[i] * e[j]) - expect(lambda e: e[i]) * expect(lambda e: e[j]))
    return p, cov


# ------------------------------------------------------------------ wrong answers
def wrong_hessian_diagonal(o) -> np.ndarray:
    """WRONG (partial answer): only the diagonal ``p_j (1 - p_j)``, covariances dropped (chapter 2)."""
    p = softmax(checks.vector(o, "o"))
    return np.diag(p * (1 - p))


def wrong_hessian_delta_sum(o) -> np.ndarray:
    """WRONG: ``H_ij = sum_k p_k (delta_ik delta_jk - p_k delta_ij)``, evaluated literally (chapter 2).

    For ``i != j`` every term has ``delta_ik delta_jk = 0`` and ``delta_ij = 0``: it gives 0
    instead of ``-p_i p_j``.
    """
    p = softmax(checks.vector(o, "o"))
    C = p.size
    d = np.eye(C)
    return np.einsum("k,ik,jk->ij", p, d, d) - np.einsum("k,k,ij->ij", p, p, d)


def wrong_gradient_index(o, y) -> np.ndarray:
    """WRONG index: ``dl/do_i = -sum_j y_j (delta_ij - p_j)`` (correct: ``p_i - y_i``; chapter 2).

    It equals ``y^T p - y_i``.
    """
    o = checks.vector(o, "o")
    y = _probabilities(y, "y")
    if y.size != o.size:
        raise ValueError(f"y has {y.size} entries but o has {o.size}")
    p = softmax(o)
    d = np.eye(o.size)
    return -np.einsum("j,ij->i", y, d - p[None, :])
