"""Chapter 4, Gumbel-max: E[max(x + G)] = LSE(x) + gamma and argmax(x + G) ~ softmax(x)."""

import math

import numpy as np
import pytest

from softmaxbook import gumbel as gb

X = np.array([1.0, 0.0, -1.0])


def test_constants():
    assert gb.EULER_GAMMA == pytest.approx(0.5772156649015329, rel=1e-15)
    assert gb.MAX_STD == pytest.approx(math.sqrt(math.pi**2 / 6), rel=1e-15)


def test_exact_expectation_for_the_spec_vector():
    lse = math.log(math.e + 1 + 1 / math.e)
    assert gb.expected_max(X) == pytest.approx(lse + 0.5772156649015329, rel=1e-15)
    assert round(gb.expected_max(X), 4) == 1.9848


def test_spec_monte_carlo_figure_and_its_standard_error():
    """10**6 draws, seed 0: 1.9829 against 1.9848, 1.5 standard errors apart."""
    mean, se = gb.max_estimate(X, 10**6, seed=0)
    assert round(mean, 4) == 1.9829
    assert se == pytest.approx(gb.MAX_STD / 1000, rel=0.01)  # sample sd close to pi/sqrt 6
    assert abs(mean - gb.expected_max(X)) < 3 * se


def test_draws_do_not_depend_on_the_chunking():
    x = np.array([0.3, -2.0, 1.5, 0.0])
    m1, k1 = gb.gumbel_max_draws(x, 1000, seed=7)
    g = np.random.default_rng(7).gumbel(size=(1000, 4))
    np.testing.assert_array_equal(k1, np.argmax(x + g, axis=1))
    np.testing.assert_array_equal(m1, np.max(x + g, axis=1))


def test_argmax_frequencies_match_softmax_within_their_standard_errors():
    freq, se = gb.argmax_frequencies(X, 200_000, seed=1)
    p = np.exp(X) / np.exp(X).sum()
    assert freq.sum() == pytest.approx(1.0)
    assert np.all(np.abs(freq - p) < 4 * se)
    np.testing.assert_allclose(se, np.sqrt(p * (1 - p) / 200_000))


def test_a_shift_of_x_shifts_the_mean_and_keeps_the_frequencies():
    m0, k0 = gb.gumbel_max_draws(X, 5000, seed=3)
    m1, k1 = gb.gumbel_max_draws(X + 10.0, 5000, seed=3)
    np.testing.assert_allclose(m1 - m0, 10.0, rtol=1e-12)
    np.testing.assert_array_equal(k0, k1)


def test_errors_shrink_like_one_over_root_n():
    sizes = np.array([100, 1000, 10_000, 100_000, 1_000_000])
    r = gb.running_errors(X, sizes, seed=0)
    np.testing.assert_allclose(r["max_se"] * np.sqrt(sizes), gb.MAX_STD)
    assert np.all(np.diff(np.log10(r["max_se"])) == pytest.approx(-0.5))
    assert np.all(r["max_error"] < 4 * r["max_se"]) and np.all(r["softmax_error"] < 4 * r["softmax_se"])
    # over four decades, the error falls by roughly the predicted factor 100
    assert 10 < r["max_error"][0] / r["max_error"][-1] < 1000
    assert r["max_error"][-1] == pytest.approx(abs(1.98294206 - gb.expected_max(X)), abs=1e-7)


@pytest.mark.parametrize("call, message", [
    (lambda: gb.max_estimate(X, 0), "positive integer"),
    (lambda: gb.max_estimate(X, 2.5), "positive integer"),
    (lambda: gb.max_estimate([[1.0, 2.0]], 10), "one vector"),
    (lambda: gb.expected_max([np.inf, 0.0]), "infinite"),
    (lambda: gb.running_errors(X, [0, 10]), "positive integers"),
    (lambda: gb.running_errors(X, [1.5]), "positive integers"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_running_errors_count_wins_without_a_one_hot_table():
    x = np.linspace(0.0, -3.0, 2000)  # many indices: a one-hot table of all draws would be large
    r = gb.running_errors(x, [10, 1000], seed=3)
    _, winners = gb.gumbel_max_draws(x, 1000, seed=3)
    p = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    expected = np.abs(np.bincount(winners, minlength=x.size) / 1000 - p).max()
    assert r["softmax_error"][1] == pytest.approx(expected, rel=1e-12)
