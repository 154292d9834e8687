"""Chapter 3: block codes, Huffman, and the exact trit coder (softmaxbook.coding)."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softmaxbook.coding import (
    extension_counts,
    overhead_split,
    prefix_decode,
    LOG2_3,
    average_length,
    block_bits,
    block_code_table,
    canonical_code,
    decode,
    digits_needed,
    elias_gamma,
    encode,
    encoded_bits,
    entropy_bits,
    equiprobable_huffman_bits,
    header_bits,
    huffman_block_rate,
    huffman_code,
    huffman_lengths,
    is_prefix_free,
    is_uniquely_decodable,
    parses,
    kraft_sum,
    record_block_lengths,
)


# ------------------------------------------------------------------ limits and block codes
@pytest.mark.parametrize("n", range(1, 42))
def test_block_bits_is_ceil_n_log2_3(n):
    assert block_bits(n) == math.ceil(n * math.log2(3))


def test_block_bits_is_the_fewest_bits_that_label_3_to_the_n_blocks():
    for n in range(1, 42):
        b = block_bits(n)
        assert 2 ** (b - 1) < 3**n <= 2**b


def test_entropy_of_three_equiprobable_symbols_is_log2_3():
    assert entropy_bits([1 / 3] * 3) == pytest.approx(math.log2(3), rel=1e-15)
    assert entropy_bits([0.5, 0.5, 0.0]) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [[], [0.5, 0.6], [-0.5, 1.5], [float("nan"), 1.0]])
def test_entropy_rejects_non_distributions(bad):
    with pytest.raises(ValueError):
        entropy_bits(bad)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_block_bits_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match="n >= 1"):
        block_bits(bad)


def test_block_table_matches_the_spec():
    spec = {1: 2, 2: 4, 3: 5, 4: 7, 5: 8, 10: 16, 17: 27, 29: 46, 41: 65}
    rows = {n: (bits, rate) for n, bits, rate in block_code_table(41)}
    assert len(rows) == 41
    for n, bits in spec.items():
        assert rows[n][0] == bits
        assert rows[n][1] == pytest.approx(bits / n)
    assert rows[41][1] == pytest.approx(1.5854, abs=5e-5)


def test_record_setting_block_lengths_are_the_spec_list():
    assert record_block_lengths(41) == [1, 3, 5, 17, 29, 41]


def test_block_rate_is_not_monotone_and_overhead_is_below_one_over_n():
    rates = [Fraction(block_bits(n), n) for n in range(1, 42)]
    assert rates[3] > rates[2]  # n = 4 (1.75) is worse than n = 3 (5/3)
    for n, r in enumerate(rates, start=1):
        assert 0 < r - Fraction(LOG2_3) < Fraction(1, n)


def test_five_trits_fit_a_byte_but_six_do_not():
    assert block_bits(5) == 8 and 3**5 <= 2**8 < 3**6


def test_pam3_two_trits_cover_0_to_7():
    assert digits_needed(8, 3) == 2
    assert digits_needed(9, 3) == 2 and digits_needed(10, 3) == 3
    assert digits_needed(3**41, 3) == 41 and digits_needed(1, 2) == 0
    with pytest.raises(ValueError):
        digits_needed(0)


# ---------------------------------------------------------------------------- Huffman
def test_kraft_sum_is_exact():
    assert kraft_sum([1, 2, 2]) == 1
    assert kraft_sum([2, 2, 2]) == Fraction(3, 4)
    assert kraft_sum([3, 3, 3]) == Fraction(3, 8)
    with pytest.raises(ValueError):
        kraft_sum([0, 1])


def test_huffman_for_three_equiprobable_symbols_is_0_10_11():
    code = huffman_code([1, 1, 1])
    assert sorted(code) == ["0", "10", "11"]
    assert is_prefix_free(code)
    assert average_length(code, [Fraction(1, 3)] * 3) == Fraction(5, 3)


def test_huffman_matches_a_textbook_example():
    # weights 0.4, 0.2, 0.2, 0.1, 0.1: optimal average length 2.2 bits
    lengths = huffman_lengths([0.4, 0.2, 0.2, 0.1, 0.1])
    assert sum(l * p for l, p in zip(lengths, [0.4, 0.2, 0.2, 0.1, 0.1])) == pytest.approx(2.2)
    assert kraft_sum(lengths) == 1


def test_huffman_of_a_dyadic_distribution_reaches_the_entropy():
    p = [0.5, 0.25, 0.125, 0.125]
    assert huffman_lengths(p) == [1, 2, 3, 3]


def test_canonical_code_rejects_impossible_lengths():
    with pytest.raises(ValueError, match="Kraft"):
        canonical_code([1, 1, 2])


@pytest.mark.parametrize(
    "n, spec",
    [(1, 1.6667), (2, 1.6111), (3, 1.6049), (4, 1.6049), (5, 1.5893), (6, 1.5992), (7, 1.5896), (8, 1.5939)],
)
def test_huffman_on_blocks_reproduces_the_spec(n, spec):
    assert float(huffman_block_rate(n)) == pytest.approx(spec, abs=5e-5)


def test_huffman_on_blocks_is_not_monotone():
    rates = [huffman_block_rate(n) for n in range(1, 9)]
    assert rates[5] > rates[4] and rates[7] > rates[6]


@pytest.mark.parametrize("m", [2, 3, 5, 8, 9, 27, 100, 243, 729])
def test_closed_form_equals_real_huffman_for_equiprobable_outcomes(m):
    assert equiprobable_huffman_bits(m) == sum(huffman_lengths([1] * m))


# ---------------------------------------------------------------------------- the coder
RNG = np.random.default_rng(2026)


@pytest.mark.parametrize("n", range(1, 42))
def test_round_trip_for_every_length_mod_n(n):
    for length in sorted({0, 1, n - 1, n, n + 1, 2 * n + (n // 2), 3 * n}):
        msg = RNG.integers(0, 3, length)
        bits = encode(msg, n)
        assert bits.size == encoded_bits(length, n)
        assert np.array_equal(decode(bits), msg)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 17, 29, 40])
def test_numpy_and_python_integer_paths_give_identical_bits(n):
    msg = RNG.integers(0, 3, 5 * n + 3)
    a, b = encode(msg, n, method="numpy"), encode(msg, n, method="python")
    assert np.array_equal(a, b)
    assert np.array_equal(decode(a, method="python"), msg)


def test_largest_block_values_round_trip_at_the_64_bit_edge():
    for n in (40, 41, 50):  # 3**40 - 1 < 2**64 <= 3**41 - 1
        msg = np.full(2 * n + 1, 2)
        assert np.array_equal(decode(encode(msg, n)), msg)
    with pytest.raises(ValueError, match="64 bits"):
        encode([0, 1], 41, method="numpy")


def test_block_bits_are_the_base_3_value_in_binary():
    # trits 2,1,0 -> 2*9 + 1*3 + 0 = 21 = 10101 in block_bits(3) = 5 bits
    bits = encode([2, 1, 0], 3)
    assert "".join(map(str, bits[-5:])) == "10101"
    assert bits.size == header_bits(3, 3) + 5


def test_leading_zeros_and_all_zero_messages_survive():
    for msg in ([0], [0, 0, 0, 0, 0, 1], [0] * 100, [0] * 29 + [2]):
        assert decode(encode(msg)).tolist() == msg


def test_empty_message():
    bits = encode([])
    assert bits.size == header_bits(0, 29)
    assert decode(bits).size == 0


def test_whole_message_as_one_block_is_within_n_log2_3_plus_1_body_bits():
    msg = RNG.integers(0, 3, 1500)
    bits = encode(msg, n=1500)
    body = bits.size - header_bits(1500, 1500)
    assert 1500 * LOG2_3 <= body < 1500 * LOG2_3 + 1
    assert np.array_equal(decode(bits), msg)


def test_rate_on_a_million_trits_is_below_1_5863():
    msg = np.random.default_rng(7).integers(0, 3, 10**6, dtype=np.uint8)
    bits = encode(msg, 29)
    assert bits.size / msg.size <= 1.5863
    assert np.array_equal(decode(bits), msg)


def test_decode_accepts_a_string_of_bits():
    bits = encode([1, 2, 0, 0], 2)
    assert decode("".join(map(str, bits))).tolist() == [1, 2, 0, 0]


@pytest.mark.parametrize(
    "bad, err, match",
    [([0, 1, 3], ValueError, "position 2 holds 3"), ([-1], ValueError, "0, 1 or 2"),
     ([0.0, 1.0], TypeError, "integers"), ([[0, 1]], ValueError, "1-D"), (["a"], TypeError, "integers")],
)
def test_encode_rejects_symbols_outside_0_1_2(bad, err, match):
    with pytest.raises(err, match=match):
        encode(bad)


def test_decode_rejects_truncated_and_over_long_bit_strings():
    bits = encode(RNG.integers(0, 3, 100), 29)
    with pytest.raises(ValueError, match="truncated"):
        decode(bits[:-1])
    with pytest.raises(ValueError, match="left over"):
        decode(np.r_[bits, 0])
    for cut in range(0, 12):  # inside the header
        with pytest.raises(ValueError, match="truncated"):
            decode(bits[:cut])


def test_decode_rejects_non_bits_and_block_values_too_large():
    with pytest.raises(ValueError, match="position 1 holds '2'"):
        decode("0210")
    with pytest.raises(TypeError):
        decode(np.array([0.5, 1.0]))
    # one block of 3 trits: the 5-bit value 11111 = 31 >= 27 is not a valid block
    bits = encode([2, 2, 2], 3)
    bits[-5:] = 1
    with pytest.raises(ValueError, match="block 0 holds the value 31"):
        decode(bits)


def test_decode_rejects_a_header_announcing_more_trits_than_bits():
    # n = 1, then the gamma code of 2**20 + 1 claims a million trits; nothing follows
    header = [1] + [0] * 20 + [1] + [0] * 19 + [1]
    with pytest.raises(ValueError, match="truncated"):
        decode(header)
    with pytest.raises(ValueError, match="64 bits"):
        decode([1] + [0] * 70 + [1])


@pytest.mark.parametrize("bad", [0, -3, 1.5, True])
def test_encode_rejects_bad_block_lengths(bad):
    with pytest.raises(ValueError, match="n >= 1"):
        encode([0, 1], bad)


@settings(max_examples=150, deadline=None)
@given(msg=st.lists(st.integers(0, 2), max_size=200), n=st.integers(1, 45))
def test_round_trip_property(msg, n):
    bits = encode(msg, n)
    assert decode(bits).tolist() == msg
    assert bits.size == encoded_bits(len(msg), n)


@settings(max_examples=60, deadline=None)
@given(msg=st.lists(st.integers(0, 2), min_size=1, max_size=60), n=st.integers(1, 12))
def test_different_messages_give_different_bit_strings(msg, n):
    other = list(msg)
    other[-1] = (other[-1] + 1) % 3
    assert not np.array_equal(encode(msg, n), encode(other, n))


# ------------------------------------------------------------------ unique decodability
@pytest.mark.parametrize("code, prefix_free, ud", [
    (["0", "01"], False, True),                      # the chapter's example
    (["0", "01", "11"], False, True),
    (["0", "10", "11"], True, True),
    (["100", "010", "001"], True, True),
    (["0", "01", "10"], False, False),               # 010 = 0|10 = 01|0
    (["1", "011", "01110", "1110", "10011"], False, False),
    (["0", "0"], False, False),
])
def test_sardinas_patterson_separates_prefix_free_from_uniquely_decodable(code, prefix_free, ud):
    assert is_prefix_free(code) is prefix_free
    assert is_uniquely_decodable(code) is ud


def _all_encodings(code, max_symbols):
    import itertools
    for k in range(1, max_symbols + 1):
        for msg in itertools.product(range(len(code)), repeat=k):
            yield msg, "".join(code[i] for i in msg)


@pytest.mark.parametrize("code", [["0", "01"], ["0", "01", "11"], ["0", "01", "10"], ["1", "011", "01110", "1110", "10011"]])
def test_unique_decodability_agrees_with_brute_force_parsing(code):
    ambiguous = any(len(parses(bits, code)) > 1 for _, bits in _all_encodings(code, 5))
    assert ambiguous is (not is_uniquely_decodable(code))
    for msg, bits in _all_encodings(code, 4):
        assert msg in parses(bits, code)


def test_parses_lists_both_readings_of_an_ambiguous_string():
    assert sorted(parses("010", ["0", "01", "10"])) == [(0, 2), (1, 0)]
    assert parses("0010", ["0", "01"]) == [(0, 1, 0)]
    assert parses("1", ["0", "01"]) == []


@pytest.mark.parametrize("bad", [[], [""], ["0", "2"], [0, 1]])
def test_codeword_checks_reject_non_codes(bad):
    with pytest.raises(ValueError, match="codewords"):
        is_uniquely_decodable(bad)


def test_kraft_mcmillan_holds_for_uniquely_decodable_codes_that_are_not_prefix_free():
    for code in (["0", "01"], ["0", "01", "11"]):
        assert is_uniquely_decodable(code) and not is_prefix_free(code)
        assert kraft_sum(map(len, code)) <= 1


# ------------------------------------------------------------------ the header
def test_elias_gamma_codes_and_the_plus_one_of_the_length():
    assert [elias_gamma(v) for v in (1, 2, 5, 8)] == ["1", "010", "00101", "0001000"]
    assert header_bits(7, 5) == len(elias_gamma(5)) + len(elias_gamma(8)) == 12
    bits = "".join(map(str, encode([0] * 7, n=5)))
    assert bits.startswith(elias_gamma(5) + elias_gamma(8)) and len(bits) == 12 + 8 + 4
    assert header_bits(0, 5) == 6                    # the empty message: length 0 sent as 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_elias_gamma_rejects_what_it_cannot_write(bad):
    with pytest.raises(ValueError, match="v >= 1"):
        elias_gamma(bad)


# ------------------------------------------------ claim Z7: mismatch against unused code space
def test_overhead_split_of_the_huffman_and_the_2_bit_code():
    """Z7: Huffman's excess is all mismatch, the 2-bit code's all unused space, five times more."""
    third = [Fraction(1, 3)] * 3
    mismatch, unused = overhead_split([1, 2, 2], third)
    assert mismatch == pytest.approx(5 / 3 - math.log2(3), abs=1e-15) and unused == 0
    assert round(mismatch, 4) == 0.0817
    mismatch2, unused2 = overhead_split([2, 2, 2], third)
    assert mismatch2 == pytest.approx(0, abs=1e-15) and unused2 == pytest.approx(math.log2(4 / 3))
    assert round(unused2, 3) == 0.415 and 5 < unused2 / mismatch < 5.1


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 8), min_size=2, max_size=6), st.integers(0, 2**32 - 1))
def test_overhead_split_adds_up_to_L_minus_H(lengths, seed):
    if kraft_sum(lengths) > 1:
        with pytest.raises(ValueError, match="Kraft sum"):
            overhead_split(lengths, [1 / len(lengths)] * len(lengths))
        return
    p = np.random.default_rng(seed).dirichlet(np.ones(len(lengths)))
    mismatch, unused = overhead_split(lengths, p)
    L = float(np.dot(p, lengths))
    assert mismatch >= 0 and unused >= 0
    assert mismatch + unused == pytest.approx(L - entropy_bits(p), abs=1e-12)


def test_overhead_split_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="3 codeword lengths but 2"):
        overhead_split([1, 2, 2], [0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        overhead_split([1, 2, 2], [0.5, 0.5, 0.5])


# ------------------------------------------------ claim Z9: what a prefix code makes of any bit string
def test_prefix_decode_reads_codewords_and_returns_what_is_left():
    code = ["0", "10", "11"]
    assert prefix_decode("010110", code) == ([0, 1, 2, 0], "")
    assert prefix_decode("1", code) == ([], "1")          # ends inside a codeword
    assert prefix_decode("0101", code) == ([0, 1], "1")
    assert prefix_decode("", code) == ([], "")
    rng = np.random.default_rng(7)
    msg = rng.integers(0, 3, 500).tolist()
    assert prefix_decode("".join(code[s] for s in msg), code) == (msg, "")


def test_a_flipped_bit_in_a_huffman_stream_changes_the_symbols_that_follow():
    code = ["0", "10", "11"]
    msg = [1, 1, 1, 0, 2, 0]
    bits = "".join(code[s] for s in msg)                  # 10 10 10 0 11 0
    flipped = "0" + bits[1:]                              # 0 0 10 10 0 11 0: the framing shifts
    out, rest = prefix_decode(flipped, code)
    assert rest == "" and out == [0, 0, 1, 1, 0, 2, 0] and len(out) == len(msg) + 1


def test_prefix_decode_rejects_what_it_cannot_read():
    with pytest.raises(ValueError, match="not prefix-free"):
        prefix_decode("01", ["0", "01"])
    with pytest.raises(ValueError, match="no codeword matches"):
        prefix_decode("0011", ["00", "01"])              # Kraft sum 1/2: "1..." is no codeword
    with pytest.raises(ValueError, match="only the characters"):
        prefix_decode("012", ["0", "10", "11"])
    with pytest.raises(TypeError, match="string of 0s and 1s"):
        prefix_decode([0, 1], ["0", "10", "11"])


# ------------------------------------------------ McMillan's count
def test_extension_counts_behind_mcmillans_proof():
    for code in (["0", "01"], ["0", "10", "11"], ["1", "10", "100"]):   # uniquely decodable
        c = kraft_sum(map(len, code))
        for k in (1, 3, 6):
            counts = extension_counts(code, k)
            assert all(seqs == strings <= 2**m for m, (seqs, strings) in counts.items())
            assert sum(Fraction(seqs, 2**m) for m, (seqs, _) in counts.items()) == c**k
    counts = extension_counts(["0", "1", "01"], 6)              # not uniquely decodable
    assert any(seqs > strings for seqs, strings in counts.values())
    assert any(seqs > 2**m for m, (seqs, _) in counts.items())  # Kraft sum 5/4: (5/4)^k outgrows k l_max
    with pytest.raises(ValueError, match="too many"):
        extension_counts(["0", "10", "11"], 20)
