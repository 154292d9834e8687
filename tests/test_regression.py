"""Chapter 2, from logits to weights: the Hessian H (x) x x^T, the race, empirical Fisher."""

import numpy as np
import pytest
import sympy as sp

from softmaxbook import hessian as hs
from softmaxbook import regression as rg

RNG = np.random.default_rng(0)


def _loss_vec(w, X, y, C):  # the mean loss written out, as a function of vec W
    W = w.reshape(C, -1)
    O = X @ W.T
    m = O.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))).ravel()
    return np.mean(lse - O[np.arange(len(y)), y])


@pytest.fixture(scope="module")
def data():
    return rg.make_dataset(50, 2.0, seed=0)


def test_dataset_is_seeded_balanced_and_has_a_bias_column(data):
    X, y = data
    X2, y2 = rg.make_dataset(50, 2.0, seed=0)
    np.testing.assert_array_equal(X, X2)
    assert X.shape == (150, 3) and np.all(X[:, 2] == 1) and np.bincount(y).tolist() == [50, 50, 50]
    means = np.array([X[y == c, :2].mean(axis=0) for c in range(3)])
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0, atol=0.35)  # centres on the circle
    assert rg.make_dataset(4, 1.0, bias=False)[0].shape == (12, 2)


def test_gradient_matches_finite_differences(data):
    X, y = data
    W = RNG.normal(size=(3, 3))
    g = rg.loss_gradient(W, X, y)
    h, E = 1e-6, np.eye(9)
    fd = np.array([(_loss_vec(W.ravel() + h * e, X, y, 3) - _loss_vec(W.ravel() - h * e, X, y, 3)) / (2 * h) for e in E])
    np.testing.assert_allclose(g.ravel(), fd, atol=1e-8)
    assert rg.mean_loss(W, X, y) == pytest.approx(_loss_vec(W.ravel(), X, y, 3), rel=1e-14)


def test_hessian_is_the_kronecker_form_and_matches_finite_differences(data):
    X, y = data
    W = RNG.normal(size=(3, 3))
    K = rg.loss_hessian(W, X)
    per = sum(rg.example_hessian(W, x) for x in X) / len(X)
    np.testing.assert_allclose(K, per, atol=1e-15)
    h, E = 1e-4, np.eye(9) * 1e-4
    w = W.ravel()
    fd = np.array([[(_loss_vec(w + E[i] + E[j], X, y, 3) - _loss_vec(w + E[i] - E[j], X, y, 3)
                     - _loss_vec(w - E[i] + E[j], X, y, 3) + _loss_vec(w - E[i] - E[j], X, y, 3)) / (4 * h * h)
                    for j in range(9)] for i in range(9)])
    np.testing.assert_allclose(K, fd, atol=1e-6)


def test_hessian_is_psd_with_the_shift_null_space(data):
    X, _ = data
    for scale in (0.0, 1.0, 5.0):
        K = rg.loss_hessian(RNG.normal(size=(3, 3)) * scale, X)
        eig = np.linalg.eigvalsh(K)
        assert eig.min() > -1e-14 and np.sum(eig < 1e-12) == 3  # null space {1 (x) v}: dimension d = 3
        v = RNG.normal(size=3)
        np.testing.assert_allclose(K @ np.kron(np.ones(3), v), 0.0, atol=1e-14)
        # Böhning's bound dominates: B - K is PSD
        assert np.linalg.eigvalsh(rg.bohning_curvature(X, 3) - K).min() > -1e-12


def test_single_example_hessian_is_h_kron_xxT_and_ignores_the_label():
    W = RNG.normal(size=(4, 2))
    x = np.array([0.5, -2.0])
    p = np.exp(W @ x) / np.exp(W @ x).sum()
    H = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(rg.example_hessian(W, x), np.kron(H, np.outer(x, x)), rtol=1e-13, atol=1e-16)
    # the loss Hessian of one example is the same whatever its label
    for label in range(4):
        assert np.allclose(rg.loss_hessian(W, x[None, :]), rg.example_hessian(W, x), atol=1e-15)
        assert rg.mean_loss(W, x[None, :], [label]) > 0


@pytest.mark.parametrize("stacking", ["rows", "columns"])
def test_sympy_hessian_of_the_literal_loss_is_the_kronecker_form(stacking):
    W, x, y, hess, kron = rg.sym_weight_hessian(2, 2, stacking=stacking)
    assert hess.shape == (4, 4)
    assert not (hess.free_symbols & y.free_symbols)  # the labels cancel because they sum to 1
    assert all(sp.simplify(e) == 0 for e in hess - kron)
    vals = {s: float(v) for s, v in zip(list(W) + list(x), RNG.normal(size=6))}
    Wn = np.array([[vals[W[i, j]] for j in range(2)] for i in range(2)])
    xn = np.array([vals[x[0]], vals[x[1]]])
    np.testing.assert_allclose(np.array(hess.subs(vals), dtype=float), rg.example_hessian(Wn, xn, stacking),
                               atol=1e-12)


def test_sympy_hessian_without_the_constraint_is_sum_y_times_the_kronecker_form():
    W, x, y, hess, kron = rg.sym_weight_hessian(3, 1, impose_sum=False)
    assert set(y) <= hess.free_symbols  # here the labels do not cancel
    assert all(sp.simplify(e) == 0 for e in hess - sum(y) * kron)


def test_the_two_stackings_are_two_different_matrices_that_match_finite_differences():
    W, x = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    for stacking, order in (("rows", "C"), ("columns", "F")):
        np.testing.assert_array_equal(rg.vec(W, stacking), W.ravel(order=order))
        loss = lambda w: rg.mean_loss(w.reshape(4, 3, order=order), x[None, :], [1])
        H_fd = hs.finite_difference_hessian(loss, rg.vec(W, stacking))
        np.testing.assert_allclose(H_fd, rg.example_hessian(W, x, stacking), atol=1e-6)
    rows, cols = rg.example_hessian(W, x, "rows"), rg.example_hessian(W, x, "columns")
    assert np.abs(rows - cols).max() > 0.05
    # the same matrix up to the permutation that takes vec(W^T) to vec(W)
    perm = np.arange(12).reshape(4, 3).ravel(order="F")
    np.testing.assert_allclose(rows[np.ix_(perm, perm)], cols, atol=1e-15)
    with pytest.raises(ValueError, match="stacking"):
        rg.example_hessian(W, x, "diagonal")
    with pytest.raises(ValueError, match="stacking"):
        rg.vec(W, "C")


def test_newton_direction_pinv_and_reference_class_give_the_same_probabilities(data):
    X, y = data
    W = RNG.normal(size=(3, 3))
    pinv, ref = rg.newton_direction(W, X, y, "pinv"), rg.newton_direction(W, X, y, "reference")
    np.testing.assert_allclose(pinv.sum(axis=0), 0.0, atol=1e-12)  # minimum norm: orthogonal to 1 (x) v
    np.testing.assert_array_equal(ref[-1], 0.0)  # the reference class does not move
    diff = pinv - ref
    np.testing.assert_allclose(diff, np.tile(diff[0], (3, 1)), atol=1e-10)  # they differ by 1 v^T
    assert np.abs(diff[0]).max() > 1e-3
    P = lambda V: np.exp(X @ V.T) / np.exp(X @ V.T).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P(W + pinv), P(W + ref), atol=1e-12)
    # both solve the Newton system
    K, g = rg.loss_hessian(W, X), rg.loss_gradient(W, X, y).ravel()
    for step in (pinv, ref):
        np.testing.assert_allclose(K @ step.ravel(), -g, atol=1e-10)
    with pytest.raises(ValueError, match="fix"):
        rg.newton_direction(W, X, y, "ridge")
    X_dep = np.hstack([X, X[:, :1]])  # a repeated feature: the reduced system is singular too
    with pytest.raises(ValueError, match="linearly dependent"):
        rg.newton_direction(np.zeros((3, 4)), X_dep, y, "reference")


def test_newton_beats_bohning_beats_gradient_descent_in_iterations(data):
    X, y = data
    res = rg.race(X, y, 60)
    l_star = res["optimum"]
    assert np.abs(rg.loss_gradient(res["W_star"], X, y)).max() < 1e-12  # a true minimum
    for name in ("gradient descent", "Böhning", "Newton"):
        assert res[name].shape == (61,) and res[name][0] == pytest.approx(np.log(3))
        assert np.all(np.diff(res[name]) <= 1e-15)  # every method is monotone here

    def first_below(name, tol):
        hit = np.flatnonzero(res[name] - l_star <= tol)
        return int(hit[0]) if hit.size else 10**9

    assert first_below("Newton", 1e-10) <= 8
    assert first_below("Newton", 1e-6) < first_below("Böhning", 1e-2) < first_below("gradient descent", 1e-2)
    assert res["Böhning"][-1] < res["gradient descent"][-1]
    # linear convergence of the fixed-curvature methods: the gap ratio settles below 1
    gap = res["Böhning"] - l_star
    ratio = gap[41:61] / gap[40:60]
    assert 0.8 < ratio.mean() < 1.0 and np.ptp(ratio) < 0.05


def test_fisher_equals_hessian_everywhere(data):
    X, y = data
    for W in (np.zeros((3, 3)), RNG.normal(size=(3, 3))):
        np.testing.assert_allclose(rg.fisher(W, X), rg.loss_hessian(W, X), atol=1e-15)


def test_empirical_fisher_is_not_the_fisher_away_from_the_optimum_and_close_at_it():
    X, y = rg.make_dataset(500, 2.0, seed=0)
    W_star, _ = rg.newton(X, y, 30)
    away, at = rg.fisher_gap(np.zeros((3, 3)), X, y), rg.fisher_gap(W_star, X, y)
    assert away > 0.5 and at < 0.1 and rg.fisher_gap(2 * W_star, X, y) > 1.0
    G = rg.empirical_fisher(W_star, X, y)
    P = np.exp(X @ W_star.T)
    P /= P.sum(axis=1, keepdims=True)
    R = P - np.eye(3)[y]
    manual = sum(np.outer(np.kron(r, x), np.kron(r, x)) for r, x in zip(R, X)) / len(y)
    np.testing.assert_allclose(G, manual, atol=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: rg.make_dataset(0), "positive integer"),
    (lambda: rg.make_dataset(5, -1.0), "separation"),
    (lambda: rg.mean_loss(np.zeros((3, 2)), np.ones((4, 3)), [0, 1, 2, 0]), "shape"),
    (lambda: rg.mean_loss(np.zeros((3, 3)), np.ones((4, 3)), [0, 1, 3, 0]), "labels must lie"),
    (lambda: rg.mean_loss(np.zeros((3, 3)), np.ones((4, 3)), [0, 1]), "one label per row"),
    (lambda: rg.mean_loss(np.zeros((3, 3)), [[np.nan, 1, 1]], [0]), "NaN"),
    (lambda: rg.loss_gradient(np.zeros((3, 3)), "abc", [0]), "string"),
    (lambda: rg.example_hessian(np.zeros((3, 2)), [1.0, 2.0, 3.0]), "shape"),
    (lambda: rg.example_hessian(np.zeros((3, 2)), [1.0, np.inf]), "infinite"),
    (lambda: rg.example_hessian(np.zeros((3, 2)), "ab"), "string"),
    (lambda: rg.gradient_descent(np.ones((3, 2)), [0, 1, 2], iterations=0), "iterations"),
    (lambda: rg.bohning_descent(np.ones((3, 2)), [0, 1, 2]), "linearly dependent"),
    (lambda: rg.one_hot([0, 3], 3), "class indices"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
