"""Chapter 4: the stable LogSumExp, smooth max / soft-min and their bounds (softmaxbook.lse)."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmaxbook.lse import (
    exp_overflow_threshold,
    logsumexp,
    logsumexp_mp,
    lse_gap,
    pruned_logsumexp,
    pruning_tip_example,
    pruning_margin,
    smooth_max,
    soft_min,
    ulp_error,
)

RNG = np.random.default_rng(404)


def test_logsumexp_matches_the_naive_formula_where_it_is_safe():
    x = np.array([0.5, -1.0, 2.0])
    assert logsumexp(x) == pytest.approx(np.log(np.exp(x).sum()), rel=1e-15)


def test_logsumexp_does_not_overflow_past_709():
    assert logsumexp([1000.0, 1000.0]) == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)
    assert logsumexp(np.float32([100.0, 100.0])) == pytest.approx(100 + math.log(2), rel=1e-6)


def test_overflow_thresholds_are_log_of_the_largest_float():
    assert exp_overflow_threshold(np.float64) == pytest.approx(709.782712893384, abs=1e-9)
    assert exp_overflow_threshold(np.float32) == pytest.approx(88.72283935546875, abs=1e-5)
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.float64(709.79))) and np.isfinite(np.exp(np.float64(709.78)))
        assert np.isinf(np.exp(np.float32(88.73))) and np.isfinite(np.exp(np.float32(88.72)))


def test_logsumexp_rejects_empty_input_with_a_clear_message():
    with pytest.raises(ValueError, match="empty"):
        logsumexp([])
    with pytest.raises(ValueError, match="empty axis"):
        logsumexp(np.zeros((3, 0)), axis=1)


@pytest.mark.parametrize(
    "x, expected",
    [([-np.inf, -np.inf], -np.inf), ([np.inf, 0.0], np.inf), ([np.inf, np.inf], np.inf),
     ([np.nan, 1.0], np.nan), ([np.inf, np.nan], np.nan), ([-np.inf, 3.0], 3.0), ([5.0], 5.0),
     ([1e308, 1e308], 1e308), ([-1e308, -1e308], -1e308)],
)
def test_edge_cases(x, expected):
    with np.errstate(all="raise"):  # no floating-point warning escapes either
        r = logsumexp(x)
    if np.isnan(expected):
        assert np.isnan(r)
    else:
        assert r == expected


def test_edge_cases_along_an_axis():
    x = np.array([[1.0, 2.0], [np.inf, 0.0], [-np.inf, -np.inf], [np.nan, 0.0], [1000.0, 1000.0]])
    r = logsumexp(x, axis=1)
    assert r[0] == pytest.approx(math.log(math.e + math.e**2))
    assert r[1] == np.inf and r[2] == -np.inf and np.isnan(r[3])
    assert r[4] == pytest.approx(1000 + math.log(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    x = RNG.standard_normal((4, 5)).astype(dtype)
    assert logsumexp(x).dtype == dtype
    assert logsumexp(x, axis=0).dtype == dtype
    assert logsumexp([1, 2, 3]).dtype == np.float64  # integers are computed in float64


def test_rejects_complex_and_strings():
    with pytest.raises(TypeError, match="real numbers"):
        logsumexp([1j, 2.0])
    with pytest.raises(TypeError):
        logsumexp(["a"])


@pytest.mark.parametrize("axis", [0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2)])
def test_axis_and_keepdims_agree_with_a_loop(axis):
    x = RNG.normal(scale=50, size=(3, 4, 5))
    r = logsumexp(x, axis=axis)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % 3 for a in axes)
    moved = np.moveaxis(x, axes, range(-len(axes), 0))
    expected = np.array([float(logsumexp_mp(v)) for v in moved.reshape(*moved.shape[: 3 - len(axes)], -1)
                         .reshape(-1, np.prod([x.shape[a] for a in axes]))]).reshape(r.shape)
    np.testing.assert_allclose(r, expected, rtol=4e-16, atol=0)
    kept = logsumexp(x, axis=axis, keepdims=True)
    assert kept.shape == tuple(1 if d in axes else s for d, s in enumerate(x.shape))
    assert logsumexp(x, keepdims=True).shape == (1, 1, 1)


def test_bad_axes_are_clear_errors():
    with pytest.raises(ValueError, match="out of range"):
        logsumexp(np.zeros(3), axis=1)
    with pytest.raises(ValueError, match="repeated"):
        logsumexp(np.zeros((2, 2)), axis=(0, 0))
    with pytest.raises(TypeError, match="axis"):
        logsumexp(np.zeros(3), axis=0.5)


def test_chunked_paths_cross_block_boundaries_exactly(monkeypatch):
    import softmaxbook.lse as lse

    monkeypatch.setattr(lse, "CHUNK", 1000)  # force many blocks on small inputs
    x = np.random.default_rng(1).normal(scale=3, size=10_003)
    x[7_500] = 40.0  # the maximum sits in a later block
    assert ulp_error(logsumexp(x), logsumexp_mp(x)) <= 2
    X = np.random.default_rng(2).normal(scale=3, size=(37, 300))
    X[30, 5] = 1e3  # a shifted column and row among direct ones
    for axis in (0, 1):
        got = logsumexp(X, axis=axis)
        ref = [logsumexp_mp(v) for v in np.moveaxis(X, axis, -1)]
        assert max(ulp_error(g, r) for g, r in zip(got, ref)) <= 2


def test_axis_zero_keeps_small_terms_where_the_answer_is_below_one():
    X = np.array([[0.0, -0.5], [-30.0, -40.0]])  # LSE of the columns: ~9.4e-14 and ~-0.5
    got = logsumexp(X, axis=0)
    assert ulp_error(got[0], logsumexp_mp(X[:, 0])) <= 1
    assert ulp_error(got[1], logsumexp_mp(X[:, 1])) <= 1


def test_accuracy_against_mpmath_on_hostile_inputs():
    rng = np.random.default_rng(11)
    worst = 0.0
    for _ in range(400):
        n = int(rng.integers(1, 30))
        scale = 10.0 ** rng.uniform(-300, 300)
        x = rng.standard_normal(n) * scale
        if rng.random() < 0.2:
            x[rng.integers(n)] = -np.inf
        worst = max(worst, ulp_error(logsumexp(x), logsumexp_mp(x)))
    assert worst <= 2


def test_small_terms_keep_their_digits_through_log1p():
    # log(1 + e^-30) = 9.357622968839...e-14: a naive m + log(sum) returns ~9.37e-14 (0.1 % off)
    r = logsumexp([0.0, -30.0])
    assert ulp_error(r, logsumexp_mp([0.0, -30.0])) <= 1
    assert logsumexp([0.0, -800.0]) == 0.0


def test_translation_equivariance():
    x = RNG.normal(size=7)
    for c in (-1e3, -2.5, 0.0, 3.0, 1e3):
        assert logsumexp(x + c) == pytest.approx(logsumexp(x) + c, rel=1e-13, abs=1e-12)


# -------------------------------------------------------------- smooth max and soft-min
def test_gap_is_log2_at_a_tie_and_decreases_to_zero():
    assert lse_gap(3.0, 3.0) == pytest.approx(math.log(2), rel=1e-15)
    d = np.linspace(0, 40, 81)
    g = lse_gap(0.0, d)
    assert np.all(np.diff(g) < 0) and np.all(g > 0)
    a, b = RNG.normal(size=(2, 100)) * 5
    np.testing.assert_allclose(lse_gap(a, b), [logsumexp([p, q]) - max(p, q) for p, q in zip(a, b)],
                               atol=1e-14)


@pytest.mark.parametrize("lam", [0.1, 1.0, 7.0, 100.0])
def test_smooth_max_lies_within_log_n_over_lambda_above_max(lam):
    for n in (2, 3, 10):
        x = RNG.normal(size=n)
        s = smooth_max(x, lam)
        # strictly above in exact arithmetic; in floats the gap may round away at large lambda
        assert x.max() <= s <= x.max() + math.log(n) / lam + 1e-15
        t = soft_min(x, lam)
        assert x.min() - math.log(n) / lam - 1e-15 <= t <= x.min()
    assert smooth_max([0.0, -1.0], lam) > 0.0 > soft_min([0.0, 1.0], lam)


def test_bound_is_attained_exactly_when_all_entries_are_equal():
    for lam in (0.5, 2.0):
        assert smooth_max(np.full(5, 1.25), lam) == pytest.approx(1.25 + math.log(5) / lam, rel=1e-15)
        assert soft_min(np.full(5, 1.25), lam) == pytest.approx(1.25 - math.log(5) / lam, rel=1e-15)


def test_limits_in_lambda():
    x = np.array([0.3, -1.0, 2.0, 1.9])
    assert smooth_max(x, 1e6) == pytest.approx(2.0, abs=1e-6)
    assert smooth_max(x, -1e6) == pytest.approx(-1.0, abs=1e-6)
    assert soft_min(x, 1e6) == pytest.approx(-1.0, abs=1e-6)
    assert smooth_max(x, 1e-6) > 1e6  # diverges like log(n)/lambda as lambda -> 0+


@pytest.mark.parametrize("lam", [0, 0.0, float("inf"), float("nan")])
def test_lambda_must_be_finite_and_non_zero(lam):
    with pytest.raises(ValueError, match="lambda"):
        smooth_max([1.0, 2.0], lam)


def test_soft_min_rejects_negative_lambda_and_strings():
    with pytest.raises(ValueError, match="lambda must be a positive, finite number"):
        soft_min([1.0, 2.0], -1.0)
    with pytest.raises(TypeError):
        smooth_max([1.0, 2.0], "2")


def test_mpmath_reference_and_ulp_error():
    with mpmath.workdps(60):
        assert abs(logsumexp_mp([0.0, 0.0]) - mpmath.log(2)) < mpmath.mpf(10) ** -55
    assert ulp_error(1.0, mpmath.mpf(1)) == 0.0
    assert ulp_error(1.0 + 2**-52, mpmath.mpf(1)) == pytest.approx(1.0)
    assert ulp_error(np.inf, logsumexp_mp([np.inf])) == 0.0
    assert ulp_error(1.0, logsumexp_mp([np.inf])) == math.inf


finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 12), elements=finite))
def test_property_between_max_and_max_plus_log_n(x):
    r = logsumexp(x)
    m = x.max()
    assert m <= r <= m + math.log(x.size) * (1 + 1e-15) + abs(m) * 4e-16


@settings(max_examples=100, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e5, 1e5)))
def test_property_close_to_mpmath(x):
    ref = logsumexp_mp(x)
    # absolute error bounded by a few ulps of the largest magnitude involved (backward stability)
    scale = max(abs(float(ref)), float(np.abs(x).max()), 1.0)
    assert abs(float(logsumexp(x)) - float(ref)) <= 4 * np.spacing(scale)


@settings(max_examples=100, deadline=None)
@given(x=arrays(np.float64, st.integers(2, 8), elements=st.floats(-50, 50)))
def test_property_float32_agrees_with_float64(x):
    r32 = logsumexp(x.astype(np.float32))
    assert r32.dtype == np.float32
    assert abs(float(r32) - float(logsumexp(x.astype(np.float32).astype(np.float64)))) <= 4 * np.spacing(
        np.float32(max(abs(float(r32)), np.abs(x).max(), 1.0)))


# ------------------------------------------------------------------ skipping what cannot matter
def _reference(x):
    """mpmath LSE of the terms within log(n) + 60 of the maximum (the others change it by < e^-60)."""
    f = x[np.isfinite(x)]
    if not f.size or np.isnan(x).any():
        return logsumexp_mp(x)
    return logsumexp_mp(f[f >= f.max() - math.log(x.size) - 60])


def test_pruning_margin_formula():
    eps = np.finfo(float).eps
    assert pruning_margin(10**6, 245.0) == pytest.approx(math.log(1e6) + math.log(32 / eps) - math.log(245))
    assert pruning_margin(10, 0.2) == pytest.approx(math.log(10) + math.log(32 / eps))
    assert pruning_margin(10, 0.2, np.float32) < 30  # float32 needs a far smaller margin


def test_logsumexp_skips_most_exponentials_on_spread_out_data():
    x = np.random.default_rng(0).normal(scale=50, size=10**6)
    r, kept = pruned_logsumexp(x)
    assert kept < 1000
    threshold = x.max() - pruning_margin(x.size, x.max())
    assert kept == np.count_nonzero(x >= threshold)
    assert ulp_error(r, _reference(x)) <= 1.0
    assert ulp_error(logsumexp(x, prune=False), _reference(x)) <= 1.0
    assert logsumexp(x, axis=0) == r  # a 1-D vector along its one axis takes the same path


def test_no_pruning_without_spread():
    x = np.random.default_rng(1).uniform(0, 1, size=10**5)
    r, kept = pruned_logsumexp(x)
    assert kept == x.size and r == logsumexp(x) == logsumexp(x, prune=False)


@pytest.mark.parametrize("seed", range(6))
def test_pruned_logsumexp_stays_within_2_ulp_on_hostile_large_inputs(seed):
    rng = np.random.default_rng(seed)
    for trial in range(8):
        n = int(rng.integers(4096, 12_000))
        scale = 10.0 ** rng.uniform(0, 5)
        offset = rng.choice([0.0, 700.0, -745.0, 1e6, -1e6, 1e10])
        x = rng.normal(scale=scale, size=n) + offset
        if trial % 3 == 0:
            x[rng.random(n) < 0.2] = -np.inf
        ill = trial % 4 == 1
        if ill:  # an answer close to 0: ill-conditioned, no float algorithm gets a few ulps
            x -= logsumexp(x) + rng.normal(scale=1e-6)
        r, ref = logsumexp(x), _reference(x)
        if ill:  # the absolute error is that of rounding numbers of the size of max(x)
            bound = 4 * np.finfo(float).eps * (abs(np.max(x)) + 1)
            assert abs(float(r) - float(ref)) <= bound
        else:
            assert ulp_error(r, ref) <= 2.0, (seed, trial)


def test_pruned_logsumexp_float32_and_special_values():
    rng = np.random.default_rng(5)
    x32 = rng.normal(scale=40, size=50_000).astype(np.float32)
    r, kept = pruned_logsumexp(x32)
    assert r.dtype == np.float32 and kept < 2000 and logsumexp(x32) == r
    assert ulp_error(r, _reference(x32.astype(np.float64)), dtype=np.float32) <= 2.0
    x = rng.normal(scale=50, size=10_000)
    x[17] = np.nan
    assert math.isnan(logsumexp(x)) and pruned_logsumexp(x)[1] == x.size
    x[17] = np.inf
    assert logsumexp(x) == math.inf
    assert logsumexp(np.full(5000, -np.inf)) == -math.inf
    assert pruned_logsumexp([1.0, 2.0]) == (logsumexp([1.0, 2.0]), 2)  # short: every entry
    assert logsumexp(x.reshape(100, 100), keepdims=True).shape == (1, 1)
    with pytest.raises(ValueError, match="empty"):
        pruned_logsumexp([])
    with pytest.raises(TypeError, match="prune"):
        logsumexp(x, prune="yes")


# ------------------------------------------------ what pruning guarantees (issue 22)
@pytest.mark.parametrize("seed", range(4))
def test_skipped_terms_move_the_exact_lse_by_at_most_a_sixteenth_of_an_ulp(seed):
    rng = np.random.default_rng(100 + seed)
    x = rng.normal(scale=float(rng.uniform(20, 80)), size=20_000) + rng.uniform(-300, 300)
    r, kept = pruned_logsumexp(x)
    assert kept < x.size // 10
    threshold = x.max() - pruning_margin(x.size, x.max())
    with mpmath.workdps(60):
        exact_all = logsumexp_mp(x)
        exact_kept = logsumexp_mp(x[x >= threshold])
        moved = float((exact_all - exact_kept) / mpmath.mpf(float(np.spacing(abs(r)))))
    assert 0 < moved <= 1 / 16
    # so the pruned result is as accurate as the LSE of the kept entries, plus 1/16 ulp
    assert ulp_error(r, exact_all) <= ulp_error(r, exact_kept) + 1 / 16 + 1e-9


def test_pruning_can_change_the_last_bit():
    x = pruning_tip_example()
    r, kept = pruned_logsumexp(x)
    full = logsumexp(x, prune=False)
    assert kept == 2 and r == logsumexp(x) != full
    assert abs(r - full) == np.spacing(r)                # one ulp apart
    assert float(logsumexp_mp(x[:2])) == r and float(logsumexp_mp(x)) == full  # both correctly rounded
    with mpmath.workdps(60):
        assert abs(logsumexp_mp(x) - logsumexp_mp(x[:2])) <= np.spacing(r) / 16
    with pytest.raises(ValueError, match="from 4096"):
        pruning_tip_example(n=100)
