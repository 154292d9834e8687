"""Chapter 3, cross-entropy is a code length: the exact arithmetic coder."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softmaxbook import arithmetic as ac


def _softmax_rows(O):
    E = np.exp(O - O.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@st.composite
def messages(draw, max_len=120):
    """A model (one softmax row per symbol, logits up to +-12, so some probabilities are tiny)
    and a message whose symbols need not be likely under it."""
    C = draw(st.integers(1, 6))
    n = draw(st.integers(0, max_len))
    logits = draw(st.lists(st.floats(-12, 12, allow_nan=False), min_size=n * C, max_size=n * C))
    symbols = draw(st.lists(st.integers(0, C - 1), min_size=n, max_size=n))
    P = _softmax_rows(np.array(logits, dtype=float).reshape(n, C)) if n else np.zeros((0, C))
    return np.array(symbols, dtype=np.int64), P


@settings(max_examples=150, deadline=None, derandomize=True)
@given(msg=messages(), bits=st.sampled_from([8, 16, 32, 48]))
def test_round_trip_is_exact(msg, bits):
    symbols, P = msg
    code = ac.encode(symbols, P, bits)
    assert set(np.unique(code).tolist()) <= {0, 1}
    np.testing.assert_array_equal(ac.decode(code, P, bits=bits), symbols)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(msg=messages(), bits=st.sampled_from([8, 16, 32]))
def test_code_length_is_below_the_cross_entropy_plus_two_bits(msg, bits):
    symbols, P = msg
    n = symbols.size
    length = ac.encode(symbols, P, bits).size
    # exactly, for the quantised model the coder uses: 2**length * R < 4 with R = prod f / 2**(bits n)
    F = ac.quantise(P, bits) if n else np.zeros((0, P.shape[1]), dtype=np.int64)
    R = math.prod(int(F[t, s]) for t, s in enumerate(symbols))
    assert (R << length) < 4 << (bits * n)
    assert length <= ac.quantised_bits(symbols, P, bits) + 2
    # no code is shorter than ceil(-log2 R): a code of l bits names an interval of width 2**-l inside R
    assert length >= math.ceil(ac.quantised_bits(symbols, P, bits) - 1e-9)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(msg=messages(max_len=200))
def test_code_length_against_the_float_model(msg):
    """Against sum -log2 p of the float model: 2 bits plus the quantisation's share.

    floor(p 2**32) loses at most 1 of p 2**32, i.e. -log2(1 - 2**-32/p) bits for that
    symbol; the rest of the rounding only shortens the code (up to C units taken from
    the largest entry, which has at least 2**32/C of them).
    """
    symbols, P = msg
    n, C = symbols.size, P.shape[1]
    p_y = P[np.arange(n), symbols]
    slack = float(np.sum(-np.log2(1 - np.minimum(2.0**-32 / np.maximum(p_y, 2.0**-31), 0.5) - C * C * 2.0**-32)))
    assert ac.encode(symbols, P).size <= ac.ideal_bits(symbols, P) + 2 + slack
    if n and p_y.min() > 2**-20:
        assert slack < n * 2**-11


def test_quantise_keeps_every_symbol_and_the_total():
    F = ac.quantise([[1.0, 0.0, 0.0], [0.5, 0.25, 0.25], [1 / 3, 1 / 3, 1 / 3]], bits=8)
    assert F.sum(axis=1).tolist() == [256, 256, 256] and F.min() >= 1
    assert F[0].tolist() == [254, 1, 1] and F[1].tolist() == [128, 64, 64]
    assert sorted(F[2].tolist()) == [85, 85, 86]
    assert ac.quantise([0.5, 0.5], bits=4).tolist() == [8, 8]


def test_known_codes():
    # equiprobable bits: the code of a bit string is the bit string (interval [z, z+1)/2**n)
    assert ac.encode([1, 0, 1, 1], [0.5, 0.5]).tolist() == [1, 0, 1, 1]
    # trits: 3**10 = 59049 blocks need 16 bits; the coder spends ceil(10 log2 3) + at most 1
    code = ac.encode([2, 0, 1, 1, 0, 2, 2, 1, 0, 0], np.full(3, 1 / 3))
    assert 16 <= code.size <= 17
    assert ac.encode([], np.zeros((0, 4))).size == 0


def test_a_softmax_model_on_labels_codes_to_its_cross_entropy():
    rng = np.random.default_rng(0)
    O = rng.normal(0, 2, size=(2000, 3))
    P = _softmax_rows(O)
    y = ac.sample_symbols(P, seed=1)
    code = ac.encode(y, P)
    ideal = ac.ideal_bits(y, P)
    assert ideal <= code.size <= ideal + 2
    assert ideal == pytest.approx(-np.log2(P[np.arange(2000), y]).sum())
    np.testing.assert_array_equal(ac.decode(code, P), y)


def test_mismatched_model_costs_kl_extra_bits():
    rng = np.random.default_rng(3)
    P = _softmax_rows(rng.normal(0, 2, size=(4000, 3)))
    Q = _softmax_rows(np.log(P) + rng.normal(0, 0.7, size=P.shape))  # a perturbed model
    y = ac.sample_symbols(P, seed=4)
    cost = ac.mismatch_cost(y, P, Q)
    assert abs(cost["measured"] - cost["realised"]) <= 2  # each code is within 2 bits of its ideal
    assert cost["predicted"] == pytest.approx(np.sum(P * np.log2(P / Q)), rel=1e-12)
    assert cost["predicted"] > 100
    # the realised excess is a sum of independent terms with mean KL: within a few standard deviations
    t = np.log2(P[np.arange(4000), y] / Q[np.arange(4000), y])
    sd = np.sqrt(np.sum(P * np.log2(P / Q) ** 2) - np.sum(np.sum(P * np.log2(P / Q), axis=1) ** 2))
    assert cost["realised"] == pytest.approx(t.sum())
    assert abs(cost["realised"] - cost["predicted"]) < 4 * sd
    assert cost["predicted_sd"] == pytest.approx(sd, rel=1e-9)
    # one model vector for every symbol: the variance of one term, times n
    p, q = np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])
    one = ac.mismatch_cost(np.array([0, 1, 2, 0]), p, q)
    terms = np.log2(p / q)
    assert one["predicted_sd"] == pytest.approx(np.sqrt(4 * (p @ terms**2 - (p @ terms) ** 2)))


def test_kl_bits_values():
    assert ac.kl_bits([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert ac.kl_bits([1.0, 0.0], [0.5, 0.5]) == pytest.approx(1.0)
    assert ac.kl_bits([0.5, 0.5], [1.0, 0.0]) == math.inf


def test_corrupted_codes_are_refused():
    P = np.full((30, 3), 1 / 3)
    y = np.arange(30) % 3
    code = ac.encode(y, P)
    for bad in (code[:-1], np.append(code, 0), np.append(code, 1)):
        with pytest.raises(ValueError, match="corrupt"):
            ac.decode(bad, P)
    flipped = code.copy()
    flipped[5] ^= 1
    try:
        out = ac.decode(flipped, P)
    except ValueError as exc:
        assert "corrupt" in str(exc)
    else:  # a flip that lands on another message's exact code is decoded as that message
        assert not np.array_equal(out, y) and np.array_equal(ac.encode(out, P), flipped)


@pytest.mark.parametrize("call, message", [
    (lambda: ac.encode([0, 1], [[0.5, 0.5]]), "1 probability vectors for 2 symbols"),
    (lambda: ac.encode([0, 2], [0.5, 0.5]), "0..1"),
    (lambda: ac.encode([0, -1], [0.5, 0.5]), "position 1 holds -1"),
    (lambda: ac.encode([0.5], [0.5, 0.5]), "integers"),
    (lambda: ac.encode([0], [0.5, 0.6]), "sums to"),
    (lambda: ac.encode([0], [1.5, -0.5]), ">= 0"),
    (lambda: ac.encode([0], [0.5, 0.5], bits=1), "bits"),
    (lambda: ac.encode([0], "ab"), "string"),
    (lambda: ac.decode([0, 1], [0.5, 0.5]), "pass the number of symbols"),
    (lambda: ac.decode([0, 2], [0.5, 0.5], n=2), "only 0 and 1"),
    (lambda: ac.decode([[0, 1]], [[0.5, 0.5]]), "1-D"),
    (lambda: ac.quantise(np.full(300, 1 / 300), bits=8), "more bits"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_single_flips_are_refused_or_decode_to_the_message_whose_code_they_are():
    """What the decoder's check guarantees, and what it cannot (issue 22)."""
    rng = np.random.default_rng(21)
    P = _softmax_rows(rng.normal(0, 1.5, size=(40, 3)))
    y = ac.sample_symbols(P, seed=22)
    code = ac.encode(y, P)
    outcomes = ac.single_flips(code, P)
    assert len(outcomes) == code.size
    refused = [i for i, out in enumerate(outcomes) if out is None]
    accepted = [i for i, out in enumerate(outcomes) if out is not None]
    assert refused and accepted                          # both kinds occur on this message
    for i in accepted:
        flipped = code.copy()
        flipped[i] ^= 1
        assert not np.array_equal(outcomes[i], y)
        np.testing.assert_array_equal(ac.encode(outcomes[i], P), flipped)
    for i in refused:
        flipped = code.copy()
        flipped[i] ^= 1
        with pytest.raises(ValueError, match="corrupt"):
            ac.decode(flipped, P)
