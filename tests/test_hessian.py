"""Chapter 2: the Hessian of the loss is the covariance of the one-hot label."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmaxbook import hessian as hs

logit_vectors = arrays(
    float, st.integers(2, 6), elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False)
)


def _softmax(o):  # written out here so the tests do not trust the module's softmax
    e = np.exp(np.asarray(o) - np.max(o))
    return e / e.sum()


def _loss(y):
    return lambda o: -np.sum(y * np.log(_softmax(o)))


# ------------------------------------------------------------------ the matrix
def test_covariance_of_one_hot_label_for_spec_probabilities():
    H = hs.categorical_covariance([0.2, 0.3, 0.5])
    np.testing.assert_allclose(np.diag(H), [0.16, 0.21, 0.25])
    assert np.isclose(H[0, 1], -0.06) and np.isclose(H[1, 2], -0.15) and np.isclose(H[0, 2], -0.10)
    np.testing.assert_allclose(H @ np.ones(3), 0.0, atol=1e-15)


@pytest.mark.parametrize("bad", [[0.5, 0.6], [1.2, -0.2], [[0.5, 0.5]], [], [np.nan, 1.0]])
def test_categorical_covariance_rejects_non_probabilities(bad):
    with pytest.raises(ValueError, match="probability|vector|NaN"):
        hs.categorical_covariance(bad)


def test_softmax_hessian_of_equal_logits():
    # p = (1/3, 1/3, 1/3): diagonal 2/9, off-diagonal -1/9
    H = hs.softmax_hessian([4.0, 4.0, 4.0])
    np.testing.assert_allclose(H, (np.eye(3) * 3 - 1) / 9, rtol=1e-14)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(logit_vectors)
def test_consequences_hold_for_random_logits(o):
    H = hs.softmax_hessian(o)
    p = _softmax(o)
    ev = np.linalg.eigvalsh(H)
    assert ev.min() > -1e-14  # positive semidefinite
    assert ev.max() <= 0.5 + 1e-12  # Böhning
    np.testing.assert_allclose(H @ np.ones(o.size), 0.0, atol=1e-14)
    assert np.trace(H) == pytest.approx(1 - np.sum(p**2), abs=1e-14)
    # B - H is positive semidefinite (Böhning's bound in the PSD order)
    assert np.linalg.eigvalsh(hs.bohning_bound(o.size) - H).min() > -1e-12
    # the information-matrix equality: expected outer product of the gradient under the model
    np.testing.assert_allclose(hs.expected_gradient_outer(p), H, atol=1e-14)


def test_bohning_bound_values():
    np.testing.assert_allclose(hs.bohning_bound(2), [[0.25, -0.25], [-0.25, 0.25]])
    B = hs.bohning_bound(4)
    assert np.linalg.eigvalsh(B) == pytest.approx([0.0, 0.5, 0.5, 0.5], abs=1e-15)
    with pytest.raises(ValueError, match="positive integer"):
        hs.bohning_bound(0)


def test_the_half_bound_is_attained_for_two_classes_and_approached_for_three():
    np.testing.assert_allclose(np.linalg.eigvalsh(hs.softmax_hessian([0.7, 0.7])), [0.0, 0.5], atol=1e-15)
    for t in (2.0, 10.0, 30.0):
        lam = hs.largest_eigenvalue(hs.softmax_hessian([t, t, 0.0]))
        assert lam < 0.5
        # p = (q, q, 1 - 2q), eigenvalue q: tends to 1/2 as t grows
        q = _softmax([t, t, 0.0])[0]
        assert lam == pytest.approx(q, rel=1e-12)
    # for t < 0 the largest eigenvalue is tr H - p_1, not p_1
    H, q = hs.softmax_hessian([-2.0, -2.0, 0.0]), _softmax([-2.0, -2.0, 0.0])[0]
    assert hs.largest_eigenvalue(H) == pytest.approx(np.trace(H) - q, rel=1e-12) and hs.largest_eigenvalue(H) > q + 0.1


def test_largest_eigenvalue_checks_its_input():
    assert hs.largest_eigenvalue(np.diag([1.0, 3.0, 2.0])) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="symmetric"):
        hs.largest_eigenvalue([[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="square"):
        hs.largest_eigenvalue([1.0, 2.0])


# ------------------------------------------------------------------ finite differences
def test_finite_differences_on_a_quadratic_are_exact_to_rounding():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: 0.5 * x @ A @ x + x[0]
    np.testing.assert_allclose(hs.finite_difference_hessian(f, [0.3, -0.7]), A, atol=1e-6)
    np.testing.assert_allclose(hs.finite_difference_gradient(f, [0.3, -0.7]), A @ [0.3, -0.7] + [1, 0], atol=1e-8)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(logit_vectors, st.data())
def test_finite_difference_hessian_of_the_loss_is_diag_p_minus_ppT(o, data):
    k = data.draw(st.integers(0, o.size - 1))
    y = np.eye(o.size)[k]
    np.testing.assert_allclose(hs.finite_difference_hessian(_loss(y), o), hs.softmax_hessian(o), atol=1e-6)


def test_finite_difference_arguments_are_checked():
    with pytest.raises(ValueError, match="step h"):
        hs.finite_difference_hessian(np.sum, [1.0, 2.0], h=0.0)
    with pytest.raises(TypeError, match="function"):
        hs.finite_difference_gradient(3.0, [1.0, 2.0])


# ------------------------------------------------------------------ Monte Carlo
def test_sampled_one_hot_rows_are_one_hot_and_seeded():
    Y = hs.sample_one_hot([0.2, 0.3, 0.5], 1000, seed=3)
    assert Y.shape == (1000, 3) and np.all(Y.sum(axis=1) == 1) and set(np.unique(Y)) == {0.0, 1.0}
    np.testing.assert_array_equal(Y, hs.sample_one_hot([0.2, 0.3, 0.5], 1000, seed=3))
    assert np.abs(Y.mean(axis=0) - [0.2, 0.3, 0.5]).max() < 0.06
    with pytest.raises(ValueError, match="positive integer"):
        hs.sample_one_hot([0.5, 0.5], 0)


def test_monte_carlo_covariance_converges_to_H():
    p = np.array([0.2, 0.3, 0.5])
    H = hs.categorical_covariance(p)
    assert np.abs(hs.monte_carlo_covariance(p, 10**6, seed=0) - H).max() < 3e-3
    # same estimator as numpy's covariance of the sampled rows (bias=True)
    Y = hs.sample_one_hot(p, 500, seed=7)
    m = Y.mean(axis=0)
    np.testing.assert_allclose(np.diag(m) - np.outer(m, m), np.cov(Y.T, bias=True), atol=1e-14)


def test_monte_carlo_error_shrinks_like_one_over_sqrt_n():
    sizes = np.array([100, 1000, 10000, 100000])
    err = hs.monte_carlo_errors([0.2, 0.3, 0.5], sizes, repeats=30, seed=0)
    slope = np.polyfit(np.log(sizes), np.log(err), 1)[0]
    assert -0.6 < slope < -0.4
    assert np.all(np.diff(err) < 0)


# ------------------------------------------------------------------ Newton
def test_newton_converges_quadratically_to_a_soft_label():
    y = np.array([0.2, 0.3, 0.5])
    o = np.zeros(3)
    errs = []
    for _ in range(6):
        o = hs.newton_step(o, y)
        errs.append(np.abs(_softmax(o) - y).max())
    assert errs[-1] < 1e-13
    # quadratic: error_{k+1} <~ C error_k^2 while the error is still visible
    assert errs[2] < 10 * errs[1] ** 2 and errs[1] < 10 * errs[0] ** 2
    assert abs(hs.newton_step([0.0, 0.0, 0.0], y).sum()) < 1e-12  # step orthogonal to 1


def test_bohning_step_decreases_the_loss_and_converges_linearly():
    y = np.array([0.2, 0.3, 0.5])
    o = np.array([3.0, -2.0, 0.0])
    B = hs.bohning_bound(3)
    np.testing.assert_allclose(np.linalg.pinv(B) @ (_softmax(o) - y), 2 * (_softmax(o) - y), atol=1e-12)
    losses, errs = [], []
    for _ in range(40):
        o = hs.bohning_step(o, y)
        losses.append(_loss(y)(o))
        errs.append(np.abs(_softmax(o) - y).max())
    assert np.all(np.diff(losses) <= 1e-15)
    assert errs[-1] < 1e-6 and errs[5] > 1e-4  # converges, but not in a handful of steps


def test_bohning_quadratic_is_an_upper_bound_and_its_minimiser_is_the_fixed_step():
    rng = np.random.default_rng(5)
    y = np.array([0.2, 0.3, 0.5])
    for _ in range(200):
        o, d = 3 * rng.standard_normal(3), 3 * rng.standard_normal(3)
        loss, bound = hs.bohning_majoriser(o, y, d)
        assert loss <= bound + 1e-12
    o = np.array([3.0, -2.0, 0.0])
    step = hs.bohning_step(o, y) - o
    at_step = hs.bohning_majoriser(o, y, step)
    assert at_step[0] <= at_step[1] < hs.bohning_majoriser(o, y, np.zeros(3))[1]
    assert hs.bohning_majoriser(o, y, np.zeros(3))[0] == pytest.approx(_loss(y)(o), rel=1e-14)
    with pytest.raises(ValueError, match="same length"):
        hs.bohning_majoriser(o, y, [1.0, 2.0])


def test_softmax_output_variance_is_far_below_mu_one_minus_mu():
    mu, var = hs.softmax_output_moments(200_000, 3, seed=2)
    assert mu == pytest.approx(1 / 3, abs=3e-3)  # symmetry: each class has mean 1/3
    assert 0.04 < var < 0.06 and var < mu * (1 - mu) / 4
    mu2, var2 = hs.softmax_output_moments(200_000, 2, seed=2)
    assert mu2 == pytest.approx(0.5, abs=3e-3) and var2 < 0.25
    with pytest.raises(ValueError, match="positive integer"):
        hs.softmax_output_moments(0)


def test_slip_hessians_are_zero_and_diag_p_and_the_right_one_is_diag_p_minus_ppT():
    d = hs.sym_slip_hessians(3)
    P = sp.Matrix(sp.symbols("p_1:4", positive=True))
    assert d["p constant"] == sp.zeros(3, 3)
    assert d["Z constant"] == sp.diag(*P)
    assert sp.simplify(d["correct"] - (sp.diag(*P) - P * P.T)) == sp.zeros(3, 3)


def test_newton_step_checks_shapes():
    with pytest.raises(ValueError, match="entries"):
        hs.newton_step([0.0, 0.0], [0.2, 0.3, 0.5])


# ------------------------------------------------------------------ sympy
def test_sympy_hessian_of_the_loss_is_diag_p_minus_ppT_without_y():
    o, y, H, P = hs.sym_loss_hessian(3)
    assert all(sp.simplify(e) == 0 for e in H - P)
    assert H.free_symbols <= set(o)  # no label symbol left


def test_sympy_hessian_without_the_constraint_is_sum_y_times_P():
    o, y, H, P = hs.sym_loss_hessian(2, impose_sum=False)
    assert set(y) & H.free_symbols
    assert all(sp.simplify(e) == 0 for e in H - (y[0] + y[1]) * P)


def test_sympy_covariance_entry_by_entry():
    p, cov = hs.sym_categorical_covariance(3)
    for i in range(3):
        for j in range(3):
            expected = p[i] * (1 - p[i]) if i == j else -p[i] * p[j]
            assert sp.expand(cov[i, j] - expected) == 0


# ------------------------------------------------------------------ wrong answers
def test_wrong_hessians_differ_from_the_right_one_where_the_spec_says():
    o = np.array([0.5, -1.0, 1.5])
    p, H = _softmax(o), hs.softmax_hessian(o)
    D = hs.wrong_hessian_diagonal(o)
    np.testing.assert_allclose(np.diag(D), np.diag(H), rtol=1e-14)
    off = ~np.eye(3, dtype=bool)
    assert np.all(D[off] == 0) and np.all(H[off] < 0)
    S = hs.wrong_hessian_delta_sum(o)
    assert np.all(S[off] == 0)
    np.testing.assert_allclose(np.diag(S), p - np.sum(p**2), rtol=1e-13)  # sum_k p_k d_ik d_ik - sum_k p_k^2
    for W in (D, S):
        assert np.abs(W @ np.ones(3)).max() > 1e-3  # the right H annihilates 1; these do not
    # the zero matrix does annihilate 1, but finite differences see a positive curvature
    fd = hs.finite_difference_hessian(_loss(np.eye(3)[0]), o)
    assert np.diag(fd).min() > 0.05
    np.testing.assert_allclose(fd, H, atol=1e-6)


def test_wrong_gradient_index_is_yTp_minus_y():
    o, y = np.array([0.5, -1.0, 1.5]), np.array([0.0, 1.0, 0.0])
    p = _softmax(o)
    g = hs.wrong_gradient_index(o, y)
    np.testing.assert_allclose(g, y @ p - y, rtol=1e-14)
    right = hs.finite_difference_gradient(_loss(y), o)
    np.testing.assert_allclose(right, p - y, atol=1e-8)
    assert np.abs(g - right).max() > 0.1


@settings(max_examples=50, deadline=None, derandomize=True)
@given(arrays(float, st.integers(3, 6), elements=st.floats(-8, 8, allow_nan=False, allow_infinity=False)))
def test_the_half_bound_is_never_attained_for_three_or_more_classes(o):
    H, p = hs.softmax_hessian(o), _softmax(o)
    assert hs.largest_eigenvalue(H) < 0.5
    # the equality case of the proof: for v = e_i - e_j the gap to |v|^2 / 2 is
    # sum of the other p_k plus (p_i - p_j)^2, zero only if p_i = p_j = 1/2
    for i, j in ((0, 1), (0, 2), (1, 2)):
        v = np.zeros(o.size)
        v[i], v[j] = 1.0, -1.0
        others = p.sum() - p[i] - p[j]
        assert 1.0 - v @ H @ v == pytest.approx(others + (p[i] - p[j]) ** 2, abs=1e-12)


def test_consequence_excess_is_zero_where_the_inequalities_are_tight():
    ex = hs.consequence_excess([0.0, 0.0], [1.0, -1.0])  # two classes, p = (1/2, 1/2): all tight
    assert ex["Var[v_K] - (max v - min v)^2/4"] == pytest.approx(0.0, abs=1e-15)
    assert ex["(max v - min v)^2/4 - |v|^2/2"] == pytest.approx(0.0, abs=1e-15)
    assert ex["-(smallest eigenvalue of B - H)"] == pytest.approx(0.0, abs=1e-15)
    ex3 = hs.consequence_excess([1.0, 0.0, -1.0], [1.0, 0.0, 0.0])
    assert ex3["Var[v_K] - (max v - min v)^2/4"] < -0.01  # Var[v_K] = p_1(1 - p_1) < 1/4
    assert ex3["(max v - min v)^2/4 - |v|^2/2"] == pytest.approx(-0.25)
    assert all(value < 1e-14 for value in ex3.values())
    with pytest.raises(ValueError, match="entries"):
        hs.consequence_excess([0.0, 1.0], [1.0, 2.0, 3.0])


def test_softmax_output_sample_stays_strictly_inside_the_unit_interval():
    s = hs.softmax_output_sample(100_000, 3, seed=5)
    assert s.shape == (100_000,) and 0 < s.min() and s.max() < 1
    np.testing.assert_array_equal(s, hs.softmax_output_sample(100_000, 3, seed=5))
    assert hs.softmax_output_moments(1000, 3, seed=5) == pytest.approx((s[:1000].mean(), s[:1000].var()))
