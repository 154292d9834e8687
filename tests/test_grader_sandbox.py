"""The function sandbox (fresh interpreter, deadline, schema-checked reports, portable
fallback) and the comparison helpers."""

from __future__ import annotations

import math
import sys
import time

import pytest
import sympy as sp

from softmaxbook.grader import compare, sandbox


def test_close_handles_nan_and_infinities():
    assert compare.close(math.nan, math.nan)
    assert not compare.close(math.nan, 1.0)
    assert compare.close(math.inf, math.inf) and not compare.close(math.inf, -math.inf)
    assert compare.close(1.0 + 1e-12, 1.0) and not compare.close(1.001, 1.0)


def test_symbolic_verdicts_prove_equal_and_refute_unequal_entries():
    x = sp.Symbol("x", real=True)
    points = [{x: sp.Float(v, 30)} for v in (-1.3, 0.2, 0.7, 2.1)]
    refs = [sp.exp(x) / (1 + sp.exp(x)) ** 2, sp.log(1 + sp.exp(x))]
    ref_values = compare.evaluate(refs, points)
    sig = 1 / (1 + sp.exp(-x))
    values, verdicts, status = compare.symbolic_verdicts([sig * (1 - sig), sp.log(1 + sp.exp(-x))],
                                                         refs, ref_values, points)
    assert status == "ok"
    assert verdicts[0] in ("symbolic", "numeric") and verdicts[1] is False


# --------------------------------------------------------------------------- function answers

def _pickled(f):
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # as if defined in a notebook
    return cloudpickle.dumps(f)


def _ok_then_stuck(x):
    import signal as _signal
    if x >= 2:
        _signal.signal(_signal.SIGALRM, _signal.SIG_IGN)
        while True:
            pass
    return x * 10


CALLS = [{"kind": "call", "args": [k]} for k in range(4)]


@pytest.mark.parametrize("portable", [False, True], ids=["jail", "portable"])
def test_reports_before_the_deadline_are_kept_and_the_rest_killed(portable, monkeypatch):
    if portable:   # the fallback where jail.run cannot work (Windows)
        monkeypatch.setattr(sandbox, "_has_jail_tools", lambda: False)
    start = time.perf_counter()
    reports, status = sandbox.run_functions([_pickled(_ok_then_stuck)], CALLS, timeout=2.0)
    assert time.perf_counter() - start < 3.5
    assert status == "timeout"
    assert reports == [{"out": 0, "i": 0}, {"out": 10, "i": 1}]
    reports, status = sandbox.run_functions([_pickled(lambda x: [x, None, "s", 1.5])], CALLS[:2])
    assert (reports, status) == ([{"out": [0, None, "s", 1.5], "i": 0}, {"out": [1, None, "s", 1.5], "i": 1}], "ok")


def test_an_early_exit_is_reported_as_crashed():
    def exits(x):
        import os as _os
        if x == 1:
            _os._exit(0)
        return x
    reports, status = sandbox.run_functions([_pickled(exits)], CALLS)
    assert (reports, status) == ([{"out": 0, "i": 0}], "crashed")


@pytest.mark.parametrize("line", [
    b'{"i": 0, "out": 1, "verdict": "pass"}',         # an unknown key (a verdict is never accepted)
    b'{"i": 7, "out": 1}',                            # no such case
    b'{"i": true, "out": 1}',                         # a bool is not an index
    b'{"i": 0, "out": {"a": 1}}',                     # not plain data
    b'{"i": 0, "out": "' + b"x" * 2000 + b'"}',       # a string over the cap
    b'{"i": 0, "out": ' + b"[" * 50 + b"]" * 50 + b"}",  # nested too deeply
    b'{"i": 0, "len": -1}',
    b"not json",
    b"\xff\xfe",
])
def test_malformed_reports_count_for_nothing(line):
    good = b'{"i": 1, "out": 2.5}\n{"__done__": true}\n'
    assert sandbox.parse_case_results(good, 3) == ([{"i": 1, "out": 2.5}], True)
    assert sandbox.parse_case_results(line + b"\n" + good, 3) == (None, False)


def test_duplicates_and_lines_after_the_end_count_for_nothing():
    assert sandbox.parse_case_results(b'{"i": 0, "out": 1}\n{"i": 0, "out": 2}\n', 3) == (None, False)
    assert sandbox.parse_case_results(b'{"__done__": true}\n{"i": 0, "out": 2}\n', 3) == (None, False)


def test_decode_pickle_refuses_what_is_not_base64_or_too_large():
    assert sandbox.decode_pickle("aGVsbG8=") == b"hello"
    for bad in (None, 7, "", "not base64!", "é", "A" * 700_000, ["aGVsbG8="]):
        assert sandbox.decode_pickle(bad) is None


def test_a_runner_that_cannot_start_says_so(monkeypatch, tmp_path):
    broken = tmp_path / "runner.py"
    broken.write_text("raise SystemExit('no numpy here')\n")
    monkeypatch.setattr(sandbox, "_runner_source", lambda: broken.read_text())
    reports, status = sandbox.run_functions([b"x"], CALLS)
    assert status == "crashed" and "failed to start" in reports[0]["__sandbox_error__"]
    assert "no numpy here" in reports[0]["__sandbox_error__"]
