"""Chapter 1: the categorical distribution as an exponential family."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmaxbook import expfamily as ef

logit_vectors = arrays(
    float, st.integers(2, 6), elements=st.floats(-30, 30, allow_nan=False, allow_infinity=False)
)


# ------------------------------------------------------------------ softmax, A
def test_softmax_is_a_probability_vector_invariant_to_shifts():
    o = np.array([1.0, 2.0, 3.0])
    p = ef.softmax(o)
    assert np.isclose(p.sum(), 1.0)
    np.testing.assert_allclose(ef.softmax(o + 100.0), p, rtol=1e-12)
    np.testing.assert_allclose(p, np.exp(o) / np.exp(o).sum(), rtol=1e-12)


def test_softmax_of_known_values():
    # softmax(log 2, log 3, log 5) = (2, 3, 5) / 10
    np.testing.assert_allclose(ef.softmax(np.log([2.0, 3.0, 5.0])), [0.2, 0.3, 0.5], rtol=1e-14)
    np.testing.assert_allclose(ef.softmax([0.0, 0.0, 0.0, 0.0]), [0.25] * 4)


def test_softmax_rows_and_huge_logits():
    P = ef.softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    np.testing.assert_allclose(P, [[0.5, 0.5], [0.25, 0.75]], rtol=1e-14)


@pytest.mark.parametrize("bad, err", [([], ValueError), ([1.0, np.nan], ValueError),
                                      ([np.inf, 0.0], ValueError), (3.0, ValueError),
                                      ("abc", TypeError), ([[1, 2], [3]], TypeError)])
def test_softmax_rejects_bad_logits_with_a_message(bad, err):
    with pytest.raises(err, match="logit|numbers|empty|NaN|scalar"):
        ef.softmax(bad)


def test_log_partition_values():
    assert ef.log_partition([0.0, 0.0, 0.0]) == pytest.approx(np.log(3.0), rel=1e-15)
    assert ef.log_partition(np.log([2.0, 3.0, 5.0])) == pytest.approx(np.log(10.0), rel=1e-15)
    np.testing.assert_allclose(ef.log_partition([[0.0, 0.0], [1000.0, 1000.0]]),
                               [np.log(2.0), 1000.0 + np.log(2.0)], rtol=1e-15)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(logit_vectors, st.floats(-50, 50))
def test_redundancy_softmax_invariant_and_A_equivariant(o, c):
    np.testing.assert_allclose(ef.softmax(o + c), ef.softmax(o), rtol=1e-9, atol=1e-15)
    assert ef.log_partition(o + c) == pytest.approx(ef.log_partition(o) + c, rel=1e-12, abs=1e-9)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(logit_vectors)
def test_diag_minus_outer_of_softmax_is_the_covariance_of_the_one_hot_label(o):
    p = ef.softmax(o)
    cov = ef.diag_minus_outer(p)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(cov @ np.ones(o.size), 0.0, atol=1e-14)
    assert np.linalg.eigvalsh(cov).min() > -1e-14
    # the covariance from its definition: sum_k p_k (e_k - p)(e_k - p)^T
    E = np.eye(o.size)
    direct = sum(p[k] * np.outer(E[k] - p, E[k] - p) for k in range(o.size))
    np.testing.assert_allclose(cov, direct, atol=1e-14)


def test_covariance_has_rank_C_minus_1_for_interior_p():
    cov = ef.diag_minus_outer(ef.softmax([0.3, -1.0, 2.0, 0.5]))
    assert np.linalg.matrix_rank(cov, tol=1e-12) == 3


# ------------------------------------------------------------------ loss and gradient
def test_cross_entropy_matches_negative_log_softmax():
    o, y = np.array([1.0, -0.5, 2.0]), np.array([0.0, 1.0, 0.0])
    assert ef.cross_entropy(y, o) == pytest.approx(-np.log(ef.softmax(o)[1]), rel=1e-14)
    # uniform logits: loss log 3 for any label
    assert ef.cross_entropy([0.2, 0.3, 0.5], [0.0, 0.0, 0.0]) == pytest.approx(np.log(3.0))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(logit_vectors, st.data())
def test_cross_entropy_is_A_minus_y_dot_o_for_soft_labels(o, data):
    w = data.draw(arrays(float, o.size, elements=st.floats(0.01, 1.0)))
    y = w / w.sum()
    literal = -np.sum(y * np.log(ef.softmax(o)))
    assert ef.cross_entropy(y, o) == pytest.approx(literal, rel=1e-9, abs=1e-9)


def test_gradient_is_p_minus_y_and_matches_finite_differences():
    o, y = np.array([0.3, -1.2, 0.8]), np.array([0.0, 0.0, 1.0])
    g = ef.cross_entropy_grad(y, o)
    np.testing.assert_allclose(g, ef.softmax(o) - y, rtol=1e-15)
    h = 1e-6
    fd = [(ef.cross_entropy(y, o + h * e) - ef.cross_entropy(y, o - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, atol=1e-8)
    assert abs(g.sum()) < 1e-15


@pytest.mark.parametrize("y", [[0.5, 0.6, -0.1], [0.5, 0.6, 0.0], [1.0, 0.0], ["a", "b", "c"]])
def test_labels_must_be_probability_vectors_of_the_right_length(y):
    with pytest.raises((ValueError, TypeError), match="probability|classes|negative|sum|real numbers"):
        ef.cross_entropy(y, [0.0, 1.0, 2.0])


def test_log_pmf_is_the_log_of_softmax_and_sums_to_one():
    o = np.array([0.1, 2.0, -1.0])
    probs = [np.exp(ef.log_pmf(e, o)) for e in np.eye(3)]
    np.testing.assert_allclose(probs, ef.softmax(o), rtol=1e-14)
    with pytest.raises(ValueError, match="one-hot"):
        ef.log_pmf([0.5, 0.5, 0.0], o)


def test_check_probability_vector_accepts_and_rejects():
    np.testing.assert_allclose(ef.check_probability_vector([0.2, 0.8]), [0.2, 0.8])
    with pytest.raises(ValueError, match="sum to 1.1"):
        ef.check_probability_vector([0.3, 0.8])
    with pytest.raises(ValueError, match="vector"):
        ef.check_probability_vector([[0.5, 0.5]])


# ------------------------------------------------------------------ MLE
def test_mle_is_moment_matching():
    labels = np.eye(3)[[0, 0, 1, 2, 2, 2, 2, 1, 0, 2]]  # frequencies 0.3, 0.2, 0.5
    o = ef.mle_logits(labels)
    np.testing.assert_allclose(ef.softmax(o), [0.3, 0.2, 0.5], rtol=1e-14)
    assert abs(o.sum()) < 1e-14
    # the gradient of the mean loss vanishes there, and the mean loss is smallest there
    grad = np.mean([ef.cross_entropy_grad(y, o) for y in labels], axis=0)
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)
    mean_loss = lambda v: np.mean([ef.cross_entropy(y, v) for y in labels])
    rng = np.random.default_rng(0)
    assert all(mean_loss(o + 0.1 * rng.standard_normal(3)) > mean_loss(o) for _ in range(20))


def test_mle_without_a_class_has_no_finite_solution():
    with pytest.raises(ValueError, match="^class 3 never observed"):     # classes counted from 1, as the text does
        ef.mle_logits(np.eye(3)[[0, 1, 1]])
    with pytest.raises(ValueError, match="^classes 1, 3 never observed"):
        ef.mle_logits(np.eye(3)[[1, 1]])
    with pytest.raises(ValueError, match="one-hot"):
        ef.mle_logits([[0.5, 0.5, 0.0]])


# ------------------------------------------------------------------ sigmoid
def test_sigmoid_values_and_stability():
    np.testing.assert_allclose(ef.sigmoid([0.0, np.log(3.0), -np.log(3.0)]), [0.5, 0.75, 0.25], rtol=1e-15)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ef.sigmoid([-800.0, 800.0])
    np.testing.assert_allclose(s, [0.0, 1.0], atol=1e-300)
    # two-class softmax with logits (t, 0) is the sigmoid
    t = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(ef.softmax(np.stack([t, 0 * t], axis=1))[:, 0], ef.sigmoid(t), rtol=1e-14)


# ------------------------------------------------------------------ sympy
def test_sympy_gradient_of_A_is_softmax_and_hessian_is_covariance():
    o = ef.sym_logits(3)
    A = ef.sym_log_partition(o)
    p = ef.sym_softmax(o)
    assert ef.is_zero(ef.sym_gradient(A, o) - p)
    H = ef.sym_hessian(A, o)
    assert ef.is_zero(H - ef.diag_minus_outer(p))
    mean, cov = ef.sym_one_hot_moments(p)
    assert ef.is_zero(mean - p) and ef.is_zero(cov - H)
    assert ef.is_zero(H * sp.ones(3, 1))


def test_sympy_cross_entropy_is_A_minus_y_dot_o_given_sum_one():
    o = ef.sym_logits(3)
    y1, y2 = sp.symbols("y_1 y_2", real=True)
    y = sp.Matrix([y1, y2, 1 - y1 - y2])
    lit = ef.sym_cross_entropy(y, o)
    closed = ef.sym_log_partition(o) - (y.T * o)[0]
    assert ef.is_zero(sp.expand_log(lit - closed, force=True))
    assert ef.is_zero(ef.sym_gradient(lit, o) - (ef.sym_softmax(o) - y))
    # without sum y = 1 they differ: the identity really uses it
    y_free = sp.Matrix(sp.symbols("y_1:4", real=True))
    assert not ef.is_zero(sp.expand_log(ef.sym_cross_entropy(y_free, o)
                                        - ef.sym_log_partition(o) + (y_free.T * o)[0], force=True))


def test_sympy_binary_case_is_sigmoid_and_bernoulli_variance():
    theta, A = ef.sym_binary_log_partition()
    assert sp.simplify(A - sp.log(1 + sp.exp(theta))) == 0
    s = ef.sym_sigmoid(theta)
    assert ef.is_zero(sp.diff(A, theta) - s)
    assert ef.is_zero(sp.diff(A, theta, 2) - s * (1 - s))
    assert not ef.is_zero(sp.diff(A, theta, 2) - s)


def test_sym_moments_use_the_definition_and_is_zero_detects_nonzero():
    p = sp.Matrix(sp.symbols("p_1:3", positive=True))
    mean, cov = ef.sym_one_hot_moments(p)
    # E[Y] = sum_k p_k e_k = p; Var[Y_1] = p_1 - 2 p_1^2 + p_1^2 (p_1 + p_2): it equals
    # p_1 (1 - p_1) only once p_1 + p_2 = 1
    assert sp.expand(mean - p) == sp.zeros(2, 1)
    assert sp.expand(cov[0, 0] - p[0] * (1 - p[0])) != 0
    assert sp.expand((cov[0, 0] - p[0] * (1 - p[0])).subs(p[1], 1 - p[0])) == 0
    assert not ef.is_zero(sp.Matrix([[0, 1]]))
    with pytest.raises(ValueError, match="positive integer"):
        ef.sym_logits(0)


# ------------------------------------------------------------------ the one matrix, conjugacy, multinomial
def test_diag_minus_outer_numeric_batched_and_exact():
    p = np.array([0.2, 0.3, 0.5])
    H = ef.diag_minus_outer(p)
    np.testing.assert_allclose(H, [[0.16, -0.06, -0.10], [-0.06, 0.21, -0.15], [-0.10, -0.15, 0.25]], atol=1e-15)
    batch = ef.diag_minus_outer(np.stack([p, [0.5, 0.5, 0.0]]))
    assert batch.shape == (2, 3, 3)
    np.testing.assert_allclose(batch[0], H)
    np.testing.assert_allclose(batch[1][:2, :2], [[0.25, -0.25], [-0.25, 0.25]])
    q = sp.Matrix(sp.symbols("q1:3", positive=True))
    assert ef.diag_minus_outer(q) == sp.Matrix([[q[0] - q[0] ** 2, -q[0] * q[1]], [-q[0] * q[1], q[1] - q[1] ** 2]])
    assert ef.diag_minus_outer(q.T).shape == (2, 2)


@pytest.mark.parametrize("bad", [[0.5, 0.6], [], [np.nan, 1.0], [1.5, -0.5], 0.3])
def test_diag_minus_outer_refuses_non_probabilities(bad):
    with pytest.raises(ValueError, match="probability|non-empty"):
        ef.diag_minus_outer(bad)


def test_multinomial_with_one_trial_is_the_categorical():
    p = [0.2, 0.3, 0.5]
    for k, e in enumerate(np.eye(3)):
        assert ef.multinomial_pmf(e, p) == pytest.approx(ef.categorical_pmf(e, p)) == pytest.approx(p[k])
    assert ef.multinomial_pmf([1, 1, 0], p) == pytest.approx(2 * 0.2 * 0.3)
    assert ef.multinomial_pmf([0, 2, 0], [0.5, 0.0, 0.5]) == 0.0
    with pytest.raises(ValueError, match="non-negative integers"):
        ef.multinomial_pmf([0.5, 0.5, 0], p)
    with pytest.raises(ValueError, match="one-hot"):
        ef.categorical_pmf([0.5, 0.5, 0.0], p)


def test_dirichlet_values_and_conjugacy():
    assert ef.dirichlet_log_density([0.2, 0.3, 0.5], [1, 1, 1]) == pytest.approx(np.log(2.0))  # uniform on the simplex
    alpha, counts = np.array([2.0, 1.0, 3.0]), np.array([4, 0, 1])
    rng = np.random.default_rng(0)
    gaps = [ef.dirichlet_log_density(p, alpha) + counts @ np.log(p) - ef.dirichlet_log_density(p, alpha + counts)
            for p in rng.dirichlet(np.ones(3), size=20)]
    assert np.ptp(gaps) < 1e-12  # prior x likelihood / posterior does not depend on p
    with pytest.raises(ValueError, match="positive"):
        ef.dirichlet_log_density([0.2, 0.3, 0.5], [1, 0, 1])
    with pytest.raises(ValueError, match="inside the simplex"):
        ef.dirichlet_log_density([0.5, 0.5, 0.0], [1, 1, 1])


def test_marginal_likelihood_of_a_sequence_by_gamma_functions_and_label_by_label():
    # two labels 0 then 1 under Dir(1, 1): P = 1/2 * 1/3 (Polya's urn)
    assert ef.sequential_log_evidence([0, 1], [1.0, 1.0]) == pytest.approx(np.log(1 / 6), rel=1e-14)
    assert ef.dirichlet_log_evidence([1, 1], [1.0, 1.0]) == pytest.approx(np.log(1 / 6), rel=1e-14)
    rng = np.random.default_rng(4)
    alpha = np.array([0.5, 2.0, 3.0, 1.0])
    seq = rng.choice(4, size=60)
    counts = np.bincount(seq, minlength=4)
    by_label = ef.sequential_log_evidence(seq, alpha)
    assert ef.dirichlet_log_evidence(counts, alpha) == pytest.approx(by_label, rel=1e-12)
    # the order does not matter for a sequence, and the counts add the multinomial coefficient
    assert ef.sequential_log_evidence(rng.permutation(seq), alpha) == pytest.approx(by_label, rel=1e-12)
    # it is the constant log prior + log likelihood - log posterior
    q = rng.dirichlet(np.ones(4))
    const = ef.dirichlet_log_density(q, alpha) + counts @ np.log(q) - ef.dirichlet_log_density(q, alpha + counts)
    assert const == pytest.approx(by_label, rel=1e-12)
    assert ef.sequential_log_evidence([], alpha) == 0.0


def test_log_multinomial_coefficient_counts_the_sequences():
    assert ef.log_multinomial_coefficient([1, 1]) == pytest.approx(np.log(2))
    assert ef.log_multinomial_coefficient([2, 1, 0]) == pytest.approx(np.log(3))
    assert ef.log_multinomial_coefficient([3]) == 0.0
    for bad in ([-1, 2], [0.5, 1], [np.nan, 1], [1e300, 1], []):
        with pytest.raises(ValueError, match="non-negative integers"):
            ef.log_multinomial_coefficient(bad)


@pytest.mark.parametrize("labels, alpha, message", [
    ([0, 3], [1.0, 1.0, 1.0], "class indices"),
    ([0.5, 1], [1.0, 1.0], "class indices"),
    ([0, 1], [1.0, 0.0], "positive"),
    ([0, 1], [[1.0, 1.0]], "positive"),
])
def test_sequential_evidence_rejects_bad_input(labels, alpha, message):
    with pytest.raises(ValueError, match=message):
        ef.sequential_log_evidence(labels, alpha)
