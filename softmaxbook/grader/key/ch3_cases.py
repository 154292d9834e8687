"""Hidden tests of chapter 3's function exercises (``ch3.block_bits``, ``ch3.codec``): the
cases (inputs and what is expected; the sandbox receives only the inputs), the judge, the
diagnoses of wrong outputs, a right solution and one function per declared misconception.
Referenced by name from ``ch3.toml``."""

from __future__ import annotations

import dataclasses
import itertools
import math
from functools import lru_cache

import numpy as np

from ... import coding
from ...i18n import _
from ..hidden import Case, Hidden, judge_codec, judge_int


def _block_cases():
    cases = [Case((n,), coding.block_bits(n), _("wrong number of bits")) for n in (1, 2, 3, 4, 5, 10, 17, 29, 41, 100)]
    cases += [Case((n,), coding.block_bits(n), _("wrong number of bits for a large block (exact integer arithmetic "
                   "avoids the rounding of floating point)")) for n in (1000, 4096, 20000)]
    cases.append(Case((0,), "raises", _("n = 0 (or less) should raise ValueError")))
    cases.append(Case((-3,), "raises", _("a negative n should raise ValueError")))
    return cases


def _block_diagnose(case, rep):
    out, n = rep.get("out"), case.args[0]
    if not isinstance(out, (int, float)) or case.expect == "raises":
        return None
    if out == 2 * n and n > 2:
        return _("2n bits (2 bits per trit) is a fixed-length code, but not the fewest bits: a block of n trits has only 3^n outcomes")
    if out == 3 * n:
        return _("3n bits is the one-hot code: it costs 3 bits per symbol, worse than 2")
    if math.isfinite(out) and out != int(out):
        return _("bits come in whole numbers: round up")
    if out == case.expect - 1:
        return _("rounding down is too few bits: 3^n outcomes do not fit; round up")
    return None


def _block_twin(case, rng):
    """Another block length, not one of the public cases' (an invalid ``n`` is a rule). Lengths
    1 and 2 have none: the fewest bits there (2 and 4) are also 2n, the answer of the commonest
    mistake, so any twin would fail that answer where ``check`` passes it; and a table of those
    two values is the answer itself, worked out by hand."""
    n = case.args[0]
    if n <= 2:
        return None
    m = int(rng.integers(n + 1, 2 * n + 50))
    while m in _public_args(_block_cases):
        m += 1
    return dataclasses.replace(case, args=(m,), expect=coding.block_bits(m))


def _codec_twin(case, rng):
    """Another message of the same length, not one of the public cases' (error cases are rules),
    that starts with 0 exactly when the case's message does (a code that drops leading zeros
    fails both or neither, as in ``check``); for a length with few messages (3**n <= 27), every
    such message, so that no fixed fallback of a decoder (all zeros, say) passes by a lucky draw."""
    if case.kind not in ("roundtrip", "rate"):
        return None
    message, public = tuple(case.args[0]), _public_args(_codec_cases)
    n, leading_zero = len(message), message[:1] == (0,)

    def alike(m):
        return m not in public and (m[:1] == (0,)) == leading_zero

    if n <= 3:
        others = [list(m) for m in itertools.product(range(3), repeat=n) if alike(m)]
        return [dataclasses.replace(case, args=(m,)) for m in others] or None
    for _attempt in range(50):
        drawn = tuple(rng.integers(0, 3, size=n).tolist())
        if alike(drawn):
            return dataclasses.replace(case, args=(list(drawn),))
    return None


@lru_cache(maxsize=None)
def _public_args(*makers) -> frozenset:
    """The first argument of every public case of ``makers`` (lists as tuples)."""
    return frozenset(tuple(a) if isinstance(a, list) else a for make in makers for a in (c.args[0] for c in make()))


def _codec_cases():
    rng = np.random.default_rng(7)
    rt = _("the round trip decode(encode(message), len(message)) must give back the message exactly")
    cases = [Case((list(rng.integers(0, 3, size=n).tolist()),), kind="roundtrip", hint=rt) for n in (1, 5, 12, 40)]
    cases += [
        Case(([0, 0, 0, 1, 2, 0],), kind="roundtrip", hint=_("a message starting with zeros is not recovered: keep leading zeros (fixed-length blocks)")),
        Case(([0] * 10,), kind="roundtrip", hint=_("an all-zero message is not recovered: keep leading zeros")),
        Case(([2, 1, 0, 2, 2, 1, 1],), kind="roundtrip", hint=_("a last partial block (7 trits) is not recovered")),
        Case((list(rng.integers(0, 3, size=1000).tolist()),), kind="rate", limit=1.6,
             hint=_("the round trip fails on a long message")),
        Case(([0, 3, 1],), kind="encode_error", hint=_("encode should raise ValueError for a symbol outside {0, 1, 2}")),
        Case(("01x1", 2), kind="decode_error", hint=_("decode should raise ValueError for a character other than 0/1")),
    ]
    rng = np.random.default_rng(8)
    cases += [Case((list(rng.integers(0, 3, size=n).tolist()),), kind="roundtrip",
                   hint=_("the round trip fails for some message lengths")) for n in (2, 3, 4, 6, 7, 11, 13, 99, 101)]
    cases += [Case(([2] * 20,), kind="roundtrip", hint=_("an all-2 message is not recovered")),
              Case((list(rng.integers(0, 3, size=3000).tolist()),), kind="rate", limit=1.6, hint=_("long messages")),
              Case((["a", 1],), kind="encode_error", hint=_("encode should reject non-integer symbols"))]
    return cases


BLOCK_BITS_SOLUTION = '''def block_bits(n):
    """The fewest bits of a fixed-length code for a block of n trits."""
    if not isinstance(n, int) or n < 1:
        raise ValueError("n must be a positive integer")
    return (3**n - 1).bit_length()'''

CODEC_SOLUTION = '''BLOCK = 5


def _width(m):
    """Bits of a fixed-length code for m trits."""
    return (3**m - 1).bit_length()


def encode(trits):
    """List of trits (0, 1, 2) -> string of '0'/'1' (5 trits per byte)."""
    out = []
    for k in range(0, len(trits), BLOCK):
        chunk, value = trits[k:k + BLOCK], 0
        for t in chunk:
            if t not in (0, 1, 2) or isinstance(t, bool):
                raise ValueError(f"not a trit: {t!r}")
            value = 3 * value + t
        out.append(format(value, f"0{_width(len(chunk))}b"))
    return "".join(out)


def decode(bits, length):
    """String of '0'/'1' -> list of the `length` trits of the message."""
    if set(bits) - {"0", "1"}:
        raise ValueError("bits must be '0'/'1'")
    trits, pos = [], 0
    for k in range(0, length, BLOCK):
        m = min(BLOCK, length - k)
        value = int(bits[pos:pos + _width(m)], 2)
        pos += _width(m)
        chunk = []
        for _ in range(m):
            value, t = divmod(value, 3)
            chunk.append(t)
        trits += chunk[::-1]
    return trits'''

BLOCK_BITS = Hidden(
    _block_cases, judge_int, _block_diagnose, solution=BLOCK_BITS_SOLUTION, twin=_block_twin,
    misconceptions={
        _("2n bits (2 bits per trit) is a fixed-length code, but not the fewest bits: a block of n trits has only 3^n outcomes"):
            "def block_bits(n):\n    return 2 * n",
        _("3n bits is the one-hot code: it costs 3 bits per symbol, worse than 2"):
            "def block_bits(n):\n    if n < 1:\n        raise ValueError(n)\n    return 3 * n",
        _("bits come in whole numbers: round up"):
            "import math\n\ndef block_bits(n):\n    if n < 1:\n        raise ValueError(n)\n    return n * math.log2(3)",
        _("rounding down is too few bits: 3^n outcomes do not fit; round up"):
            "import math\n\ndef block_bits(n):\n    if n < 1:\n        raise ValueError(n)\n"
            "    return math.floor(n * math.log2(3))",
    })

CODEC = Hidden(
    _codec_cases, judge_codec, solution=CODEC_SOLUTION, twin=_codec_twin,
    misconceptions={
        _("a one-hot code (100, 010, 001) costs 3 bits per symbol: worse than 2"):
            '''def encode(trits):
    return "".join({0: "100", 1: "010", 2: "001"}[t] for t in trits)


def decode(bits, length):
    return [{"100": 0, "010": 1, "001": 2}[bits[3 * k:3 * k + 3]] for k in range(length)]''',
        _("2 bits per symbol (00, 01, 10; 11 unused) is the problem, not the cure"):
            '''def encode(trits):
    if any(t not in (0, 1, 2) for t in trits):
        raise ValueError("not a trit")
    return "".join(format(t, "02b") for t in trits)


def decode(bits, length):
    if set(bits) - {"0", "1"}:
        raise ValueError("bits")
    return [int(bits[2 * k:2 * k + 2], 2) for k in range(length)]''',
        _("keep leading zeros"):
            '''def encode(m):
    return format(int("".join(map(str, m)) or "0", 3), "b")


def decode(bits, length):
    v, out = int(bits, 2), []
    while v:
        v, t = divmod(v, 3)
        out.append(t)
    return out[::-1]''',
    })
