"""The forked sandbox (hard timeout, crash isolation) and the comparison helpers."""

from __future__ import annotations

import math
import os
import time

import numpy as np
import sympy as sp

from softmaxbook.grader import compare, sandbox


def test_reports_come_back_as_plain_data():
    reports, status = sandbox.run(lambda emit: [emit({"i": k, "out": float(np.float64(k) / 2)}) for k in range(3)])
    assert status == "ok"
    assert reports == [{"i": 0, "out": 0.0}, {"i": 1, "out": 0.5}, {"i": 2, "out": 1.0}]


def test_an_infinite_loop_is_killed_at_the_deadline():
    def task(emit):
        emit({"started": True})
        while True:
            pass
    start = time.perf_counter()
    reports, status = sandbox.run(task, timeout=1.0)
    elapsed = time.perf_counter() - start
    assert status == "timeout"
    assert reports == [{"started": True}]
    assert 0.9 < elapsed < 2.5


def test_a_loop_that_swallows_the_step_alarm_is_still_killed():
    def task(emit):
        sandbox.step_alarm(0.1)
        while True:
            try:
                time.sleep(0.01)
            except BaseException:
                pass
    _, status = sandbox.run(task, timeout=0.8)
    assert status == "timeout"


def test_a_child_that_exits_or_kills_itself_is_reported_as_crashed():
    reports, status = sandbox.run(lambda emit: [emit(1), os._exit(0)], timeout=2)
    assert (reports, status) == ([1], "crashed")  # exit code 0, but the task never finished
    reports, status = sandbox.run(lambda emit: os.kill(os.getpid(), 9), timeout=2)
    assert status == "crashed" and reports == []


def test_an_exception_in_the_child_is_reported_not_raised():
    reports, status = sandbox.run(lambda emit: 1 / 0)
    assert status == "ok"
    assert "ZeroDivisionError" in reports[0]["__sandbox_error__"]


def test_memory_is_limited_in_the_child():
    def task(emit):
        try:
            _ = bytearray(4 * 2**30)
            emit({"allocated": True})
        except MemoryError:
            emit({"allocated": False})
    reports, status = sandbox.run(task, memory_mb=256)
    assert reports == [{"allocated": False}]


def test_the_parent_survives_and_stays_usable():
    sandbox.run(lambda emit: os.kill(os.getpid(), 9), timeout=1)
    reports, status = sandbox.run(lambda emit: emit(41 + 1))
    assert (reports, status) == ([42], "ok")


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
