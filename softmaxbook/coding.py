"""Coding three equiprobable symbols (chapter 3).

Three symbols of probability 1/3 each ("trits") carry ``log2 3 = 1.58496...`` bits.
This module holds what chapter 3 computes with:

* :func:`entropy_bits`, :func:`kraft_sum`, :func:`block_bits`, :func:`block_code_table`,
  :func:`record_block_lengths` -- the limits and the fixed-length block codes;
* :func:`is_prefix_free`, :func:`is_uniquely_decodable` (Sardinas--Patterson),
  :func:`parses`, :func:`prefix_decode` and :func:`extension_counts` -- which codes can
  be decoded, how many ways a bit string splits, what a prefix-free code makes of any
  bit string, and the count behind McMillan's proof;
* :func:`overhead_split` -- the excess ``L - H`` of a code as mismatch plus unused code space;
* :func:`huffman_lengths`, :func:`canonical_code`, :func:`huffman_code`,
  :func:`huffman_block_rate` -- a real (heap-based) Huffman construction, also on blocks;
* :func:`encode` and :func:`decode` -- an exact trit coder by base conversion of blocks
  of ``n`` trits (any ``n >= 1``), vectorised with numpy for ``n <= 40`` and with
  Python integers beyond.

Bit strings are numpy ``uint8`` arrays of 0s and 1s (``decode`` also accepts a
string such as ``"0110"``); trit messages are arrays of 0, 1 and 2.
"""

from __future__ import annotations

import heapq
import itertools
import math
from fractions import Fraction

import numpy as np

#: Entropy of three equiprobable symbols, in bits per symbol.
LOG2_3 = math.log2(3)

#: Largest block length whose values ``< 3**n`` fit in an unsigned 64-bit integer.
NUMPY_MAX_N = 40

#: Default block length of :func:`encode`: 29 trits in 46 bits (1.5862 bits/trit).
DEFAULT_N = 29


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"block length must be an integer n >= 1, got {n!r}")
    return int(n)


def block_bits(n: int) -> int:
    """Bits of a fixed-length code for a block of ``n`` trits: ``ceil(n log2 3)`` (chapter 3).

    Computed exactly as the bit length of ``3**n - 1`` (no floating point).
    """
    n = _check_n(n)
    return (3**n - 1).bit_length()


def entropy_bits(probs) -> float:
    """Shannon entropy ``-sum p log2 p`` in bits of a probability vector (chapter 3)."""
    p = [float(q) for q in probs]
    if not p:
        raise ValueError("entropy of an empty probability vector is undefined")
    if any(not math.isfinite(q) or q < 0 for q in p):
        raise ValueError(f"probabilities must be finite and >= 0, got {probs!r}")
    if abs(sum(p) - 1) > 1e-9:
        raise ValueError(f"probabilities must sum to 1, they sum to {sum(p)!r}")
    return -sum(q * math.log2(q) for q in p if q > 0)


def kraft_sum(lengths) -> Fraction:
    """``sum_i 2**(-l_i)`` exactly (chapter 3).

    Kraft--McMillan: every uniquely decodable code has a sum <= 1, and for lengths with
    a sum <= 1 a prefix code exists (:func:`canonical_code` builds it).
    """
    ls = list(lengths)
    if any(isinstance(l, bool) or not isinstance(l, (int, np.integer)) or l < 1 for l in ls):
        raise ValueError(f"codeword lengths must be integers >= 1, got {ls!r}")
    return sum((Fraction(1, 2**int(l)) for l in ls), Fraction(0))


def block_code_table(n_max: int = 41) -> list[tuple[int, int, float]]:
    """Rows ``(n, bits, bits per symbol)`` of fixed-length block codes, n = 1..n_max (chapter 3)."""
    return [(n, block_bits(n), block_bits(n) / n) for n in range(1, _check_n(n_max) + 1)]


def record_block_lengths(n_max: int = 41) -> list[int]:
    """Block lengths whose bits/symbol beats every shorter block (compared exactly) (chapter 3)."""
    records, best = [], None
    for n in range(1, _check_n(n_max) + 1):
        rate = Fraction(block_bits(n), n)
        if best is None or rate < best:
            records.append(n)
            best = rate
    return records


def digits_needed(count: int, base: int = 3) -> int:
    """Fewest base-``base`` digits that can label ``count`` distinct values (chapter 3).

    The smallest ``k`` with ``base**k >= count``, by exact integer arithmetic
    (e.g. 2 trits label 0..7 because 9 >= 8).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    if isinstance(base, bool) or not isinstance(base, int) or base < 2:
        raise ValueError(f"base must be an integer >= 2, got {base!r}")
    k, cap = 0, 1
    while cap < count:
        k, cap = k + 1, cap * base
    return k


# ------------------------------------------------------------------------ Huffman
def huffman_lengths(weights) -> list[int]:
    """Codeword lengths of a binary Huffman code for ``weights`` (chapter 3).

    The classic construction: a heap of subtrees, repeatedly merging the two
    lightest. Weights are probabilities or counts (ints and Fractions stay exact).
    A single symbol gets length 1.
    """
    w = list(weights)
    if not w:
        raise ValueError("a Huffman code needs at least one symbol")
    if any(not (q >= 0) or (isinstance(q, float) and not math.isfinite(q)) for q in w):
        raise ValueError(f"Huffman weights must be finite and >= 0, got {w!r}")
    if len(w) == 1:
        return [1]
    heap = [(q, i) for i, q in enumerate(w)]  # (weight, node id); ids break ties
    heapq.heapify(heap)
    parent = [0] * len(w)
    while len(heap) > 1:
        q1, a = heapq.heappop(heap)
        q2, b = heapq.heappop(heap)
        node = len(parent)
        parent.append(node)  # placeholder; the root stays its own parent
        parent[a] = parent[b] = node
        heapq.heappush(heap, (q1 + q2, node))
    depth = [0] * len(parent)
    for node in range(len(parent) - 2, -1, -1):  # parents are created after their children
        depth[node] = depth[parent[node]] + 1
    return depth[: len(w)]


def canonical_code(lengths) -> list[str]:
    """The canonical prefix code with the given lengths (shorter codewords first) (chapter 3)."""
    ls = [int(l) for l in lengths]
    if kraft_sum(ls) > 1:
        raise ValueError(f"no prefix code has lengths {ls}: Kraft sum {kraft_sum(ls)} > 1")
    order = sorted(range(len(ls)), key=lambda i: (ls[i], i))
    code, value, prev = [""] * len(ls), 0, ls[order[0]]
    for rank, i in enumerate(order):
        if rank:
            value = (value + 1) << (ls[i] - prev)
        prev = ls[i]
        code[i] = format(value, f"0{ls[i]}b")
    return code


def huffman_code(weights) -> list[str]:
    """A Huffman code for ``weights`` as codeword strings (canonical form) (chapter 3)."""
    return canonical_code(huffman_lengths(weights))


def is_prefix_free(codewords) -> bool:
    """True if no codeword is a prefix of another (chapter 3)."""
    words = sorted(codewords)
    return all(not b.startswith(a) for a, b in zip(words, words[1:]))


def _check_codewords(codewords) -> list[str]:
    words = list(codewords)
    if not words or any(not isinstance(w, str) or not w or set(w) - {"0", "1"} for w in words):
        raise ValueError(f"codewords must be non-empty strings of 0s and 1s, got {words!r}")
    return words


def parses(bits: str, codewords) -> list[tuple[int, ...]]:
    """Every way to split ``bits`` into codewords, as tuples of symbol indices (chapter 3).

    A code is uniquely decodable when no bit string has two parses; ``{0, 01, 10}``
    is not: ``"010"`` parses as ``0|10`` and as ``01|0``.
    """
    words = _check_codewords(codewords)
    ways = [[] for _ in range(len(bits) + 1)]
    ways[0] = [()]
    for end in range(1, len(bits) + 1):
        for i, w in enumerate(words):
            if bits.endswith(w, 0, end) and len(w) <= end:
                ways[end] += [p + (i,) for p in ways[end - len(w)]]
    return ways[len(bits)]


def is_uniquely_decodable(codewords) -> bool:
    """Sardinas--Patterson test: can every concatenation of codewords be split only one way? (chapter 3)

    Works on the "dangling suffixes": what is left when one codeword (or suffix) is a
    proper prefix of another. The code is uniquely decodable iff no dangling suffix is
    itself a codeword. Prefix-free codes have none; ``{0, 01}`` has the suffix ``1``,
    which is not a codeword, so it is uniquely decodable without being prefix-free.
    """
    words = _check_codewords(codewords)
    if len(set(words)) != len(words):
        return False
    code = set(words)

    def dangling(heads, tails):
        return {t[len(h):] for h in heads for t in tails if len(t) > len(h) and t.startswith(h)}

    suffixes, seen = dangling(code, code), set()
    while suffixes and frozenset(suffixes) not in seen:
        if suffixes & code:
            return False
        seen.add(frozenset(suffixes))
        suffixes = dangling(code, suffixes) | dangling(suffixes, code)
    return True


def extension_counts(codewords, k: int) -> dict[int, tuple[int, int]]:
    """For every total length ``m``: how many sequences of ``k`` codewords have it, and how
    many distinct bit strings they spell (chapter 3, McMillan's proof).

    Returns ``{m: (sequences, strings)}``. A code is uniquely decodable exactly when no
    two sequences spell the same string, so then ``sequences == strings <= 2**m`` for
    every ``m`` and every ``k``; that count is the whole of McMillan's proof of the
    Kraft--McMillan inequality. Enumerates all ``len(codewords)**k`` sequences, so keep
    that below about a million.
    """
    words = _check_codewords(codewords)
    k = _check_n(k)
    if len(words) ** k > 2_000_000:
        raise ValueError(f"{len(words)}**{k} sequences is too many to enumerate; lower k")
    seqs: dict[int, int] = {}
    spelt: dict[int, set] = {}
    for combo in itertools.product(words, repeat=k):
        text = "".join(combo)
        seqs[len(text)] = seqs.get(len(text), 0) + 1
        spelt.setdefault(len(text), set()).add(text)
    return {m: (seqs[m], len(spelt[m])) for m in sorted(seqs)}


def average_length(codewords, probs) -> float:
    """Expected codeword length ``sum p_i |c_i|`` in bits (chapter 3)."""
    c, p = list(codewords), list(probs)
    if len(c) != len(p):
        raise ValueError(f"{len(c)} codewords but {len(p)} probabilities")
    return sum(q * len(word) for word, q in zip(c, p))


def overhead_split(lengths, probs) -> tuple[float, float]:
    """``L - H`` of a code split into its two causes, in bits per symbol (chapter 3).

    With ``c = sum_j 2**(-l_j)`` (the Kraft sum) and ``r_i = 2**(-l_i) / c``, the
    probabilities the lengths are built for,
    ``L - H = D(p || r) + log2(1 / c)``: the first term prices the classes wrongly
    (the *mismatch*), the second leaves code space unused. Returns
    ``(D(p || r), log2(1 / c))``. For three equiprobable symbols Huffman's lengths
    ``(1, 2, 2)`` give ``(5/3 - log2 3, 0)`` and the 2-bit code ``(0, log2(4/3))``.
    """
    ls = list(lengths)
    c = kraft_sum(ls)
    p = [float(q) for q in probs]
    if len(p) != len(ls):
        raise ValueError(f"{len(ls)} codeword lengths but {len(p)} probabilities")
    entropy_bits(p)  # checks p
    if c > 1:
        raise ValueError(f"lengths {ls} have Kraft sum {c} > 1: no uniquely decodable code has them")
    r = [2.0 ** -l / float(c) for l in ls]
    mismatch = sum(q * math.log2(q / ri) for q, ri in zip(p, r) if q > 0)
    return max(mismatch, 0.0), math.log2(float(1 / c))


def prefix_decode(bits: str, codewords) -> tuple[list[int], str]:
    """Decode ``bits`` with a prefix-free code, codeword by codeword (chapter 3).

    Returns ``(symbols, rest)``: the indices of the codewords read, and the bits left
    over at the end that do not complete a codeword (empty when the string decodes
    exactly). Raises ``ValueError`` when the code is not prefix-free, or when no
    codeword matches (possible only for a code whose Kraft sum is below 1).
    """
    words = _check_codewords(codewords)
    if not is_prefix_free(words) or len(set(words)) != len(words):
        raise ValueError(f"{words} is not prefix-free: reading codeword by codeword is ambiguous")
    if not isinstance(bits, str):
        raise TypeError(f"bits must be a string of 0s and 1s such as '0110', got {type(bits).__name__}")
    if set(bits) - {"0", "1"}:
        raise ValueError("a bit string holds only the characters 0 and 1")
    index = {w: i for i, w in enumerate(words)}
    longest = max(map(len, words))
    out, start, end = [], 0, 1
    while end <= len(bits):
        i = index.get(bits[start:end])
        if i is not None:
            out.append(i)
            start = end
        elif end - start >= longest:
            raise ValueError(f"no codeword matches the bits at position {start}")
        end += 1
    return out, bits[start:]


def huffman_block_rate(n: int) -> Fraction:
    """Bits per trit of a Huffman code built on the ``3**n`` equiprobable blocks of ``n`` trits.

    Chapter 3. A real heap-based construction over ``3**n`` leaves (n <= 10 keeps it
    under a few seconds); exact, as a Fraction.
    """
    n = _check_n(n)
    if n > 10:
        raise ValueError(f"n = {n} means 3**{n} leaves; build Huffman trees for n <= 10 "
                         "(equiprobable_huffman_bits gives the same total in closed form)")
    total = sum(huffman_lengths([1] * 3**n))
    return Fraction(total, n * 3**n)


def equiprobable_huffman_bits(m: int) -> int:
    """Total codeword length of an optimal prefix code for ``m`` equiprobable outcomes.

    Chapter 3. With ``k = floor(log2 m)``: ``2m - 2**(k+1)`` words of length ``k + 1``
    and the rest of length ``k``, total ``k m + 2(m - 2**k)``. The tests check it
    against :func:`huffman_lengths`; it extends the Huffman curve to large blocks.
    """
    if isinstance(m, bool) or not isinstance(m, int) or m < 2:
        raise ValueError(f"need an integer m >= 2 outcomes, got {m!r}")
    k = m.bit_length() - 1
    return k * m + 2 * (m - 2**k)


# ------------------------------------------------------------------- the trit coder
def _as_trits(trits) -> np.ndarray:
    t = np.asarray(trits)
    if t.ndim != 1:
        raise ValueError(f"a message is a 1-D sequence of trits, got shape {t.shape}")
    if t.size == 0:
        return np.zeros(0, dtype=np.uint8)
    if t.dtype.kind not in "iu":
        raise TypeError(f"trits must be integers 0, 1 or 2, got an array of dtype {t.dtype}")
    if t.min() < 0 or t.max() > 2:
        i = int(np.argmax((t < 0) | (t > 2)))
        raise ValueError(f"symbols must be 0, 1 or 2; position {i} holds {t[i].item()!r}")
    return t.astype(np.uint8, copy=False)


def elias_gamma(v: int) -> str:
    """Elias gamma code of an integer ``v >= 1``: (bit length - 1) zeros, then ``v`` in binary (chapter 3).

    It has no word for 0, which is why :func:`encode` writes the message length plus one.
    """
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"the gamma code writes integers v >= 1, got {v!r}")
    s = format(int(v), "b")
    return "0" * (len(s) - 1) + s


def _gamma(v: int) -> list[int]:
    return [int(c) for c in elias_gamma(v)]


def header_bits(length: int, n: int) -> int:
    """Bits of the header of :func:`encode`: gamma codes of ``n`` and ``length + 1`` (chapter 3).

    The length is written plus one because a message may be empty and the gamma code
    has no word for 0.
    """
    return len(elias_gamma(_check_n(n))) + len(elias_gamma(int(length) + 1))


def encoded_bits(length: int, n: int = DEFAULT_N) -> int:
    """Exact length of ``encode`` output for a message of ``length`` trits (chapter 3)."""
    n, length = _check_n(n), int(length)
    full, rest = divmod(length, n)
    return header_bits(length, n) + full * block_bits(n) + (block_bits(rest) if rest else 0)


def _values_to_bits_numpy(v: np.ndarray, b: int) -> np.ndarray:
    """(B,) uint64 -> (B, b) bits, most significant first."""
    nbytes = (b + 7) // 8
    octets = v.astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - nbytes:]
    return np.unpackbits(octets, axis=1)[:, 8 * nbytes - b:]


def _bits_to_values_numpy(bits: np.ndarray) -> np.ndarray:
    """(B, b) bits -> (B,) uint64, b <= 64."""
    rows, b = bits.shape
    nbytes = (b + 7) // 8
    padded = np.zeros((rows, 8), dtype=np.uint8)
    if b % 8:
        aligned = np.zeros((rows, 8 * nbytes), dtype=np.uint8)
        aligned[:, 8 * nbytes - b:] = bits
    else:
        aligned = bits
    padded[:, 8 - nbytes:] = np.packbits(aligned, axis=1)
    return padded.view(">u8").ravel().astype(np.uint64)


def _encode_blocks(blocks: np.ndarray, method: str) -> np.ndarray:
    """(B, k) trits -> (B * block_bits(k),) bits."""
    rows, k = blocks.shape
    b = block_bits(k)
    if method == "numpy":
        v = blocks[:, 0].astype(np.uint64)
        for j in range(1, k):
            v *= np.uint64(3)
            v += blocks[:, j]
        return _values_to_bits_numpy(v, b).ravel()
    # Python integers: any k (3**k may exceed 2**64).
    out = np.empty(rows * b, dtype=np.uint8)
    digits = (blocks + ord("0")).astype(np.uint8)
    for r in range(rows):
        value = int(digits[r].tobytes().decode("ascii"), 3)
        out[r * b:(r + 1) * b] = np.frombuffer(format(value, f"0{b}b").encode("ascii"), np.uint8) - ord("0")
    return out


def _decode_blocks(bits: np.ndarray, k: int, method: str, first_block: int) -> np.ndarray:
    """(B * block_bits(k),) bits -> (B, k) trits; raises on a value >= 3**k."""
    b = block_bits(k)
    rows = bits.size // b
    grid = bits.reshape(rows, b)
    limit = 3**k
    if method == "numpy":
        v = _bits_to_values_numpy(grid)
        over = v >= np.uint64(limit)
        if over.any():
            r = int(np.argmax(over))
            _corrupt_block(first_block + r, int(v[r]), k)
        out = np.empty((rows, k), dtype=np.uint8)
        three = np.uint64(3)
        for j in range(k - 1, -1, -1):
            q = v // three
            out[:, j] = v - q * three
            v = q
        return out
    out = np.empty((rows, k), dtype=np.uint8)
    chars = (grid + ord("0")).astype(np.uint8)
    for r in range(rows):
        value = int(chars[r].tobytes().decode("ascii"), 2)
        if value >= limit:
            _corrupt_block(first_block + r, value, k)
        for j in range(k - 1, -1, -1):
            value, out[r, j] = divmod(value, 3)
    return out


def _corrupt_block(index: int, value: int, k: int):
    raise ValueError(f"corrupt bit string: block {index} holds the value {value}, but a block of "
                     f"{k} trits is below 3**{k} = {3**k}")


def _method(n: int, method: str) -> str:
    if method not in ("auto", "numpy", "python"):
        raise ValueError(f"method must be 'auto', 'numpy' or 'python', got {method!r}")
    if method == "auto":
        return "numpy" if n <= NUMPY_MAX_N else "python"
    if method == "numpy" and n > NUMPY_MAX_N:
        raise ValueError(f"blocks of n = {n} trits exceed 64 bits (3**{n} > 2**64); use method='python'")
    return method


def encode(trits, n: int = DEFAULT_N, method: str = "auto") -> np.ndarray:
    """Encode a message of trits (0, 1, 2) into bits, ``n`` trits per block (chapter 3).

    Layout: Elias gamma code of ``n``, Elias gamma code of ``len(trits) + 1`` (plus one:
    an empty message has length 0, which the gamma code cannot write), then each
    block of ``n`` trits read as a base-3 number and written in ``block_bits(n)`` bits,
    and the last partial block of ``r`` trits (if any) in ``block_bits(r)`` bits.
    Leading zero trits survive because every block has a fixed width.

    ``method``: ``"numpy"`` (vectorised over blocks, ``n <= 40``), ``"python"`` (Python
    integers, any ``n``) or ``"auto"`` (numpy when it fits). Both give the same bits.
    Returns a ``uint8`` array of 0s and 1s; :func:`decode` inverts it.
    """
    n = _check_n(n)
    how = _method(n, method)
    t = _as_trits(trits)
    full, rest = divmod(t.size, n)
    parts = [np.array(_gamma(n) + _gamma(t.size + 1), dtype=np.uint8)]
    if full:
        parts.append(_encode_blocks(t[: full * n].reshape(full, n), how))
    if rest:
        parts.append(_encode_blocks(t[full * n:].reshape(1, rest), _method(rest, method)))
    return np.concatenate(parts)


def as_bits(bits) -> np.ndarray:
    """A bit string as a uint8 array of 0s and 1s (chapter 3): a str of ``0``/``1`` characters
    or a 1-D sequence of integers 0 and 1; ``ValueError`` names the first bad position."""
    if isinstance(bits, str):
        b = np.frombuffer(bits.encode("ascii", errors="replace"), dtype=np.uint8) - np.uint8(ord("0"))
    else:
        b = np.asarray(bits)
        if b.ndim != 1:
            raise ValueError(f"a bit string is 1-D, got shape {b.shape}")
        if b.size and b.dtype.kind not in "iub":
            raise TypeError(f"bits must be integers 0 or 1, got an array of dtype {b.dtype}")
    bad = (b != 0) & (b != 1)
    if bad.any():
        i = int(np.argmax(bad))
        shown = bits[i] if isinstance(bits, str) else b[i].item()
        raise ValueError(f"a bit string holds only 0 and 1; position {i} holds {shown!r}")
    return b.astype(np.uint8, copy=False)


def _read_gamma(b: np.ndarray, pos: int, what: str) -> tuple[int, int]:
    ones = np.flatnonzero(b[pos: pos + 65])
    if ones.size == 0:
        if b.size - pos <= 64:
            raise ValueError(f"truncated bit string: the header ends inside the {what}")
        raise ValueError(f"corrupt header: the {what} is longer than 64 bits")
    zeros = int(ones[0])
    end = pos + 2 * zeros + 1
    if end > b.size:
        raise ValueError(f"truncated bit string: the header ends inside the {what}")
    value = int("".join(map(str, b[pos + zeros: end].tolist())), 2)
    return value, end


def decode(bits, method: str = "auto") -> np.ndarray:
    """Decode bits produced by :func:`encode` back into the exact message (chapter 3).

    Raises ``ValueError`` for anything that is not a bit string of that layout: a
    symbol other than 0/1, a truncated or over-long string, a malformed header, or a
    block whose value is not below ``3**n``. (A flipped bit that leaves every block
    valid decodes to another message: the code has no redundancy to notice it.)
    """
    b = as_bits(bits)
    n, pos = _read_gamma(b, 0, "block length n")
    length1, pos = _read_gamma(b, pos, "message length")
    length = length1 - 1
    full, rest = divmod(length, n)
    available = b.size - pos
    # block_bits(k) >= k: refuse absurd headers before computing 3**n for a huge n
    if length > available:
        raise ValueError(f"truncated or corrupt bit string: the header announces {length} trits, "
                         f"but only {available} bits follow")
    need = full * block_bits(n) + (block_bits(rest) if rest else 0)
    if available < need:
        raise ValueError(f"truncated bit string: {length} trits in blocks of {n} need {need} bits "
                         f"after the header, only {available} follow")
    if available > need:
        raise ValueError(f"corrupt bit string: {available - need} bits left over after "
                         f"{length} trits (blocks of {n})")
    out = np.empty(length, dtype=np.uint8)
    split = pos + full * block_bits(n) if full else pos
    if full:
        out[: full * n] = _decode_blocks(b[pos:split], n, _method(n, method), 0).ravel()
    if rest:
        out[full * n:] = _decode_blocks(b[split:], rest, _method(rest, method), full).ravel()
    return out
