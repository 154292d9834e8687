"""Chapter 4, entropy duality: LSE(x) = max over the simplex of p^T x + H(p)."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmaxbook import duality as du

scores = arrays(float, st.integers(2, 6), elements=st.floats(-8, 8, allow_nan=False, allow_infinity=False))
X = np.array([1.0, 0.0, -1.0])


def _lse(x):  # written out here so that the tests do not trust the package's LSE
    return math.log(sum(math.exp(v) for v in x))


def test_spec_value_three_ways():
    """x = (1, 0, -1): 1.40761 as LSE, as the objective at softmax(x) and by mirror ascent."""
    ways = du.three_ways(X)
    assert round(ways["lse"], 5) == 1.40761
    for v in ways.values():
        assert v == pytest.approx(_lse(X), abs=1e-12)
    e = np.exp(X)
    np.testing.assert_allclose(du.maximiser(X), e / e.sum(), rtol=1e-15)


def test_entropy_values():
    assert du.entropy([1.0, 0.0, 0.0]) == 0.0
    assert du.entropy(np.full(4, 0.25)) == pytest.approx(math.log(4), rel=1e-15)
    assert du.entropy([0.5, 0.5]) == pytest.approx(math.log(2))
    np.testing.assert_allclose(du.entropy([[1, 0], [0.5, 0.5]]), [0.0, math.log(2)])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=scores, lam=st.floats(0.1, 20))
def test_softmax_beats_every_other_point_and_attains_the_lse(x, lam):
    best = du.objective(du.maximiser(x, lam), x, lam)
    assert best == pytest.approx(du.value(x, lam), abs=1e-9 * max(1, abs(best)))
    rng = np.random.default_rng(0)
    others = rng.dirichlet(np.ones(x.size), size=200)
    assert np.all(du.objective(others, x, lam) <= best + 1e-12)
    corners = np.eye(x.size)  # H = 0 there: the objective is x_i itself
    np.testing.assert_allclose(du.objective(corners, x, lam), x)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=scores, lam=st.floats(0.1, 20))
def test_value_lies_between_max_and_max_plus_log_n_over_lambda(x, lam):
    v = du.value(x, lam)
    assert np.max(x) - 1e-12 <= v <= du.gap_bound(x, lam) + 1e-12
    assert du.gap_bound(x, lam) == pytest.approx(np.max(x) + math.log(x.size) / lam)


def test_gap_is_the_maximum_entropy_over_lambda_when_all_scores_tie():
    x = np.full(5, 0.3)
    for lam in (0.5, 2.0, 7.0):
        assert du.value(x, lam) - 0.3 == pytest.approx(math.log(5) / lam, rel=1e-14)
        np.testing.assert_allclose(du.maximiser(x, lam), 0.2)


def test_mirror_ascent_converges_geometrically_at_the_predicted_rate():
    lam, step = 1.0, 0.5  # error factor |1 - step/lambda| = 1/2 per iteration in log p
    r = du.mirror_ascent(X, lam, step=step, tol=0.0, iterations=16)
    assert not r.converged and r.iterations == 16
    gaps = du.value(X, lam) - r.history
    assert np.all(gaps > 0) and np.all(np.diff(r.history) > 0)  # ascent, from below
    # the objective gap is quadratic in the error of log p: it shrinks by about 1/4 per step
    ratios = gaps[5:15] / gaps[4:14]
    np.testing.assert_allclose(ratios, 0.25, rtol=0.05)
    np.testing.assert_allclose(r.p, du.maximiser(X, lam), atol=1e-4)


def test_mirror_ascent_step_lambda_lands_in_one_step_and_stops():
    r = du.mirror_ascent(X, 2.0, step=2.0)
    np.testing.assert_allclose(r.p, du.maximiser(X, 2.0), rtol=1e-12)
    assert r.converged and r.iterations == 2  # the second step changes nothing


def test_mirror_ascent_from_another_start_with_a_small_step():
    r = du.mirror_ascent([2.0, -1.0, 0.5, 0.0], 3.0, step=0.6, p0=[0.7, 0.1, 0.1, 0.1], iterations=2000)
    assert r.converged
    assert r.value == pytest.approx(du.value([2.0, -1.0, 0.5, 0.0], 3.0), abs=1e-11)


def test_sympy_closed_form_for_two_scores():
    a, b, t, f, t_star, f_star = du.sym_duality_two()
    assert sp.simplify(t_star - sp.exp(a) / (sp.exp(a) + sp.exp(b))) == 0
    assert sp.simplify(f_star - sp.log(sp.exp(a) + sp.exp(b))) == 0
    assert sp.simplify(sp.diff(f, t, 2) + 1 / (t * (1 - t))) == 0  # concave: a maximum
    assert float(f_star.subs({a: 1, b: -1})) == pytest.approx(_lse([1, -1]))


def test_simplex_grid_covers_the_triangle():
    P, tris = du.simplex_grid(4)
    assert P.shape == (15, 3) and tris.shape == (16, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    u, v = du.to_plane(P[tris])  # every small triangle has area 1/16 of the big one
    area = 0.5 * np.abs((u[:, 1] - u[:, 0]) * (v[:, 2] - v[:, 0]) - (u[:, 2] - u[:, 0]) * (v[:, 1] - v[:, 0]))
    np.testing.assert_allclose(area, math.sqrt(3) / 4 / 16)


def test_level_set_points_have_the_level_value():
    for lam in (0.5, 1.0, 4.0):
        u, v, levels = du.level_sets(X, lam, resolution=40)
        assert len(levels) == 6 and np.all(np.diff(levels) > 0) and levels[-1] < du.value(X, lam)
        ok = ~np.isnan(u)
        # back from the plane to barycentric coordinates: p2 = u - v/sqrt3, p3 = 2v/sqrt3
        p3 = 2 * v[ok] / math.sqrt(3)
        p2 = u[ok] - v[ok] / math.sqrt(3)
        P = np.clip(np.stack([1 - p2 - p3, p2, p3], axis=1), 0, 1)
        P /= P.sum(axis=1, keepdims=True)
        f = du.objective(P, X, lam)
        # each point lies on one of the levels, up to the interpolation error of the grid
        dist = np.min(np.abs(f[:, None] - levels[None, :]), axis=1)
        assert dist.max() < 0.02 * (levels[-1] - levels[0])


def test_maximiser_path_goes_from_the_centre_to_the_argmax_corner():
    path = du.maximiser_path(X, [1e-3, 1.0, 1e3])
    np.testing.assert_allclose(path[0], 1 / 3, atol=1e-3)
    np.testing.assert_allclose(path[-1], [1, 0, 0], atol=1e-12)
    assert np.all(np.diff(du.entropy(du.maximiser_path(X, np.geomspace(0.01, 100, 30)))) < 0)
    vals, bound = du.value_curve(X, [0.5, 2.0])
    np.testing.assert_allclose(vals, [du.value(X, 0.5), du.value(X, 2.0)])
    np.testing.assert_allclose(bound, 1 + math.log(3) / np.array([0.5, 2.0]))


@pytest.mark.parametrize("call, message", [
    (lambda: du.value(X, 0.0), "positive"),
    (lambda: du.value(X, -1.0), "positive"),
    (lambda: du.value(X, "2"), "real number"),
    (lambda: du.value([], 1.0), "empty"),
    (lambda: du.value([1.0, np.nan], 1.0), "NaN"),
    (lambda: du.objective([0.5, 0.6, 0.0], X), "sum"),
    (lambda: du.objective([0.5, 0.5], X), "entries"),
    (lambda: du.entropy([[0.5, 0.7]]), "probability"),
    (lambda: du.mirror_ascent(X, step=-1), "step"),
    (lambda: du.mirror_ascent(X, iterations=0), "iterations"),
    (lambda: du.mirror_ascent(X, p0=[1.0, 0.0, 0.0]), "p0"),
    (lambda: du.level_sets([1.0, 2.0]), "3 entries"),
    (lambda: du.simplex_grid(0), "resolution"),
    (lambda: du.to_plane([0.5, 0.5]), "3 barycentric"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_conjugate_of_lse_is_minus_the_entropy():
    for p in ([0.2, 0.3, 0.5], [0.7, 0.1, 0.1, 0.1], [0.5, 0.5]):
        assert du.lse_conjugate(p) == pytest.approx(-du.entropy(p), abs=1e-10)
    with pytest.raises(ValueError, match="every entry > 0"):
        du.lse_conjugate([1.0, 0.0])


# ------------------------------------------------ A* = -H on the simplex, +inf off it (issue 22)
def test_conjugate_is_attained_on_the_line_log_p_plus_c():
    p = np.array([0.2, 0.3, 0.5])
    for c in (-3.0, 0.0, 2.5):
        assert du.conjugate_objective(p, np.log(p) + c) == pytest.approx(-du.entropy(p), abs=1e-14)
    thetas = np.random.default_rng(5).normal(scale=3, size=(500, 3))
    assert max(du.conjugate_objective(p, t) for t in thetas) < -du.entropy(p)
    assert du.conjugate_escape(p) is None and du.conjugate_escape([1.0, 0.0, 0.0]) is None


@pytest.mark.parametrize("p", [[0.5, 0.3, 0.1], [0.5, 0.5, 0.5], [0.7, 0.5, -0.2], [1.2, -0.2, 0.0]])
def test_off_the_simplex_the_conjugate_objective_grows_without_bound(p):
    d, s = du.conjugate_escape(p)
    assert s > 0
    values = [du.conjugate_objective(p, t * d) for t in (0.0, 10.0, 100.0, 1000.0)]
    for t, v in zip((0.0, 10.0, 100.0, 1000.0), values):
        assert v >= s * t - math.log(3) - 1e-9
    assert np.all(np.diff(values) > 0) and values[-1] > 100 * s
    if abs(sum(p) - 1) > 1e-12:                          # along +-1 the formula is exact
        assert values[-1] == pytest.approx(1000 * s - math.log(3), rel=1e-12)


def test_conjugate_functions_reject_bad_input():
    with pytest.raises(ValueError, match="3 entries"):
        du.conjugate_objective([0.5, 0.5], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        du.conjugate_escape([np.nan, 1.0])
