"""Chapter 4, streaming LogSumExp: the associative (m, s) merge and online softmax."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmaxbook import streaming as sm

blocks = arrays(float, st.integers(0, 20), elements=st.floats(-700, 700, allow_nan=False, allow_infinity=False))


def _lse_mp(x):  # an independent reference: exact sum with math.fsum after the shift
    m = max(x)
    return m + math.log(math.fsum(math.exp(v - m) for v in x))


def test_summary_and_finish():
    m, s = sm.summarize([1.0, 0.0, -1.0])
    assert m == 1.0 and s == pytest.approx(1 + math.exp(-1) + math.exp(-2))
    assert sm.finish((m, s)) == pytest.approx(1.4076059644443804, rel=1e-15)
    assert sm.summarize([]) == sm.EMPTY and sm.finish(sm.EMPTY) == -math.inf
    assert sm.summarize([-np.inf, -np.inf]) == sm.EMPTY


def test_merge_formula_on_numbers():
    m, s = sm.merge((2.0, 1.5), (0.0, 3.0))
    assert m == 2.0 and s == pytest.approx(1.5 + 3.0 * math.exp(-2.0))
    assert sm.merge(sm.EMPTY, (0.5, 2.0)) == (0.5, 2.0) == sm.merge((0.5, 2.0), sm.EMPTY)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(a=blocks, b=blocks, c=blocks)
def test_merge_is_associative_and_commutative(a, b, c):
    A, B, C = sm.summarize(a), sm.summarize(b), sm.summarize(c)
    left, right = sm.merge(sm.merge(A, B), C), sm.merge(A, sm.merge(B, C))
    assert left[0] == right[0]
    assert left[1] == pytest.approx(right[1], rel=1e-14)
    assert sm.merge(A, B) == pytest.approx(sm.merge(B, A), rel=1e-15)
    whole = np.concatenate([a, b, c])
    if whole.size:
        assert left[0] == whole.max()
        assert sm.finish(left) == pytest.approx(_lse_mp(whole.tolist()), rel=1e-14, abs=1e-13)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=arrays(float, st.integers(1, 300), elements=st.floats(-50, 50, allow_nan=False)), size=st.integers(1, 70))
def test_online_softmax_equals_two_pass_form(x, size):
    np.testing.assert_allclose(sm.online_softmax(x, size), sm.two_pass_softmax(x), rtol=1e-13, atol=1e-300)
    assert sm.streaming_logsumexp(sm.blocks_of(x, size)) == pytest.approx(_lse_mp(x.tolist()), rel=1e-14, abs=1e-13)


def test_online_weighted_sum_is_attention_output():
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 30, 1000)
    scores[::7] = -np.inf  # masked positions, as in causal attention
    V = rng.normal(size=(1000, 5))
    for block in (1, 16, 64, 1000):
        np.testing.assert_allclose(sm.online_weighted_sum(scores, V, block), sm.two_pass_softmax(scores) @ V,
                                   rtol=1e-12, atol=1e-14)


def test_streaming_from_a_generator_reads_each_block_once():
    seen = []

    def gen():
        for k in range(5):
            blk = np.arange(k * 10, k * 10 + 10, dtype=float)
            seen.append(k)
            yield blk
    assert sm.streaming_logsumexp(gen()) == pytest.approx(_lse_mp(list(range(50))), rel=1e-15)
    assert seen == [0, 1, 2, 3, 4]


def test_float16_overflow_threshold_and_naive_formula():
    assert sm.float16_overflow() == pytest.approx(math.log(65504), rel=1e-15)
    assert round(sm.float16_overflow(), 2) == 11.09
    assert sm.naive_logsumexp([11.0, 0.0]) == pytest.approx(11.0, abs=0.01)
    assert sm.naive_logsumexp([11.1, 0.0]) == math.inf  # exp(11.1) > 65504 in float16
    assert sm.naive_logsumexp([11.1, 0.0], np.float32) == pytest.approx(11.1, rel=1e-5)
    # the merge has no trouble: LSE(12, 0) = 12.000006
    assert sm.streaming_logsumexp([[12.0], [0.0]]) == pytest.approx(12 + math.log1p(math.exp(-12)))


@pytest.mark.parametrize("call, message", [
    (lambda: sm.merge((1.0,), (0.0, 1.0)), "pair"),
    (lambda: sm.merge((np.nan, 1.0), (0.0, 1.0)), "not a summary"),
    (lambda: sm.merge((0.0, 0.0), (0.0, 1.0)), "not a summary"),
    (lambda: sm.merge((-np.inf, 1.0), (0.0, 1.0)), "not a summary"),
    (lambda: sm.summarize([[1.0]]), "1-D"),
    (lambda: sm.summarize([1.0, np.nan]), "NaN"),
    (lambda: sm.summarize("12"), "string"),
    (lambda: sm.blocks_of([1.0], 0), "block size"),
    (lambda: sm.online_softmax([], 4), "x is an empty vector"),
    (lambda: sm.two_pass_softmax([-np.inf]), "-inf"),
    (lambda: sm.online_weighted_sum([1.0, 2.0], [1.0], 2), "one entry"),
    (lambda: sm.online_weighted_sum([1.0], [1.0], 0), "block size"),
    (lambda: sm.naive_logsumexp([1.0], np.int32), "floating"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
