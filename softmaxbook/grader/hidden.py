"""Hidden tests of function answers (graded exercises, chapters 3 and 4): a :class:`Case`
is one input with what is expected of it, a judge compares the sandbox's plain case result
(:mod:`.sandbox`) with it, and a diagnosis names the misconception a wrong output reveals.

The cases themselves live with the key, one Python module per chapter
(``key/ch3_cases.py``, ``key/ch4_cases.py``); the function answers run in
:mod:`.sandbox`, which only ever receives the inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from ..i18n import _
from . import compare, sandbox


@dataclass
class Case:
    args: tuple
    expect: object = None           # expected value, or the string "raises"
    hint: str = ""                  # what a failure of this case usually means
    kind: str = "call"              # "call", "roundtrip", "rate", "encode_error", "decode_error"
    limit: float = 0.0              # for "rate": max bits/symbol


@dataclass
class Hidden:
    """The hidden tests of one function exercise: ``cases()`` (run alike by ``check`` and by
    the batch grader, so that "Correct" in a notebook is full marks in the gradebook),
    ``judge(case, result) -> (ok, hint)`` (``result``: the case result), and ``diagnose(case, result)`` ->
    the misconception a failing output reveals (or ``None``). ``misconceptions`` maps each
    diagnosis (or judge hint that names one) to the source of a function showing it, so a
    test checks that every one of them is recognised; ``solution`` is a right answer's
    source. Sources define the functions the exercise asks for, and nothing else is needed.
    ``twin(case, rng)`` draws a secret twin of a case from ``rng``: the same kind of input, no
    easier, with what it expects (``None`` for a fixed rule: an empty input, only infinities; a
    list of cases where one draw could be guessed, e.g. every other message of a short length).
    Where the batch grades with a secret seed, a case passes only if its twins pass too, so
    an answer that looks the public cases up (the key is in the package) gains nothing."""

    cases: Callable[[], list]
    judge: Callable | None = None
    diagnose: Callable | None = None
    misconceptions: dict = field(default_factory=dict)
    solution: str = ""              # the source of a right answer (the test submissions use it)
    twin: Callable | None = None


def _failure(rep):
    if rep.get("timeout"):
        return _("a test took longer than {seconds} s (an infinite loop?)").format(seconds=f"{sandbox.CASE_SECONDS:g}")
    if "raised" in rep:
        if rep.get("msg"):
            return _("your function raised {error}: {message}").format(error=rep["raised"], message=rep["msg"])
        return _("your function raised {error}").format(error=rep["raised"])
    return ""


def judge_value(case, rep, rtol=1e-9, atol=1e-12):
    """Compare a scalar output with the expected value (nan/inf aware) or expect an error."""
    if case.expect == "raises":
        if rep.get("raised") in ("ValueError", "TypeError"):
            return True, ""
        return False, case.hint
    if "out" not in rep:
        return False, _failure(rep) or case.hint
    out = rep["out"]
    if isinstance(out, list) and len(out) == 1:
        out = out[0]
    if not isinstance(out, (int, float)) or isinstance(out, bool):
        return False, _("expected a number, your function returned {type}").format(type=type(out).__name__)
    return compare.close(float(out), float(case.expect), rtol=rtol, atol=atol), case.hint


def judge_int(case, rep):
    if case.expect == "raises":
        return judge_value(case, rep)
    if "out" not in rep:
        return False, _failure(rep) or case.hint
    out = rep["out"]
    if isinstance(out, bool) or not isinstance(out, (int, float)):
        return False, _("expected an integer number of bits, your function returned {type}").format(type=type(out).__name__)
    if isinstance(out, float) and math.isfinite(out) and out != int(out):
        return False, _("bits come in whole numbers: the block length must be an integer (round up)")
    return out == case.expect, case.hint


def judge_codec(case, rep):
    if case.kind in ("encode_error", "decode_error"):
        if rep.get("ellipsis"):
            return False, _("encode/decode still return ...")
        return rep.get("raised") in ("ValueError", "TypeError"), case.hint
    if rep.get("ellipsis"):
        return False, _("encode still returns ...")
    if "len" not in rep:
        return False, _failure(rep) or case.hint
    if rep.get("back") != list(case.args[0]):
        return False, case.hint
    if case.kind == "rate":
        rate = rep["len"] / len(case.args[0])
        if rate > case.limit + 1e-12:
            if rate >= 3 - 1e-9:
                return False, _("a one-hot code (100, 010, 001) costs 3 bits per symbol: worse than 2")
            if rate >= 2 - 1e-9:
                return False, _("2 bits per symbol (00, 01, 10; 11 unused) is the problem, not the cure: "
                                "it wastes log2 4 − log2 3 ≈ 0.415 bits; code several trits together")
            return False, _("your rate is {rate} bits/symbol; block coding reaches {limit} or less").format(
                rate=f"{rate:.3f}", limit=f"{case.limit:.3f}")
    return True, ""
