"""The warm jail of a learner's session (softmaxbook/grader/warm.py), attacked as a learner
who has read its source would: an answer that leaves state behind (patched builtins, math or
numpy, a thread writing forged results, a detached process, a huge global, a file, IPC
objects) does not change the verdict of the next, honest answer; a jail that fails, answers
malformed or has served its uses is replaced; its first process cannot be reached."""

from __future__ import annotations

import os
import secrets
import sys
import time

import cloudpickle
import pytest

from procs import running_with
from softmaxbook.grader import check, jail, processes, sandbox, warm

cloudpickle.register_pickle_by_value(sys.modules[__name__])   # as if defined in a notebook
pytestmark = pytest.mark.skipif(not jail.available(), reason="bubblewrap does not work here")


@pytest.fixture(autouse=True)
def fresh_session(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))
    monkeypatch.delenv(warm.FRESH_ENV, raising=False)
    warm.close()
    yield
    warm.close()


def honest_lse(x):
    import numpy as np
    x = np.asarray(x, dtype=float)
    m = np.max(x)
    if np.isinf(m):
        return float(m)
    return float(m + np.log(np.sum(np.exp(x - m))))


def honest_block_bits(n):
    import math
    if n < 1:
        raise ValueError("n must be >= 1")
    return sum([(3 ** n - 1).bit_length()]) + int(math.log2(4)) - 2     # wrong if sum or log2 were patched


def wrong_lse(x):
    return 0.0


def right(ex_id, fn):
    """The verdict of ``fn`` checked in a fresh jail (the reference the warm one must agree with)."""
    os.environ[warm.FRESH_ENV] = "1"
    try:
        return check(ex_id, fn)
    finally:
        del os.environ[warm.FRESH_ENV]


def _patch_everything(x):
    """Patches builtins, math and numpy as deeply as Python lets it, then answers right."""
    import builtins
    import math
    import numpy as np
    builtins.sum = lambda *a, **k: 42
    builtins.max = lambda *a, **k: 42
    math.log2 = lambda v: 0.0
    math.log = lambda *a: 0.0
    np.exp = lambda v: v * 0
    np.log = lambda v: v * 0
    np.max = lambda v, *a, **k: 0.0
    try:
        np.ndarray.__add__ = lambda a, b: 0
    except TypeError:
        pass
    return 0.0


def _thread_forging_results(x):
    """Leaves a thread that writes forged, right-looking results to every descriptor."""
    import json as _json
    import os as _os
    import threading

    def forge():
        line = "".join(_json.dumps({"i": i, "out": 1000.6931471805599}) + "\n" for i in range(40)).encode()
        while True:
            for fd in range(64):
                try:
                    _os.write(fd, line)
                except OSError:
                    pass
    threading.Thread(target=forge, daemon=False).start()
    time.sleep(0.05)
    return 0.0


def _detached_process(marker):
    def f(x):
        import os as _os
        if _os.fork() == 0:
            _os.setsid()
            if _os.fork():
                _os._exit(0)
            _os.execv("/bin/sleep", ["sleep", marker])
        return 0.0
    return f


def _huge_global(x):
    import builtins
    builtins.BALLAST = bytearray(600 * 2**20)     # 600 MiB of a 1 GiB budget
    return 0.0


def _leaves_a_file(x):
    with open("/tmp/left-behind", "w") as f:
        f.write("x")
    return 0.0


def _leaves_shared_memory(x):
    import ctypes
    libc = ctypes.CDLL(None)
    libc.shmget(0, 1 << 20, 0o1600)           # IPC_PRIVATE, IPC_CREAT | 0600: outlives the process
    return 0.0


@pytest.mark.parametrize("first", [_patch_everything, _thread_forging_results, _huge_global],
                         ids=["patches builtins, math, numpy", "thread forging results", "huge global"])
def test_state_an_answer_leaves_does_not_reach_the_next_in_the_same_jail(first):
    reference_right, reference_wrong = right("ch4.stable_lse", honest_lse), right("ch4.stable_lse", wrong_lse)
    assert reference_right.passed and not reference_wrong.passed
    check("ch4.stable_lse", first)
    jailed = warm.current()
    assert jailed is not None
    for fn, ref in ((honest_lse, reference_right), (wrong_lse, reference_wrong), (honest_lse, reference_right)):
        r = check("ch4.stable_lse", fn)
        assert (r.passed, r.score, r.message) == (ref.passed, ref.score, ref.message)
    assert check("ch3.block_bits", honest_block_bits).passed
    assert warm.current() is jailed          # the same jail served them all: isolation, not replacement


def test_a_detached_process_is_killed_before_the_answer_comes_back():
    marker = f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    check("ch4.stable_lse", honest_lse)
    jailed = warm.current()
    check("ch4.stable_lse", _detached_process(marker))
    assert warm.current() is jailed       # killed by the jail's init, not by replacing the jail
    left = running_with(marker)
    for pid in left:
        os.kill(pid, 9)
    assert not left, f"left running: {left}"
    assert check("ch4.stable_lse", honest_lse).passed


@pytest.mark.parametrize("first", [_leaves_a_file, _leaves_shared_memory], ids=["file in /tmp", "System V shm"])
def test_a_jail_an_answer_left_something_in_is_replaced(first):
    check("ch4.stable_lse", honest_lse)
    before = warm.current()
    check("ch4.stable_lse", first)
    assert warm.current() is None and not before.usable
    assert check("ch4.stable_lse", honest_lse).passed
    assert warm.current() is not None and warm.current() is not before


def test_a_timeout_is_judged_and_the_next_check_is_fast_again():
    def stuck(x):
        import signal as _signal
        _signal.signal(_signal.SIGALRM, _signal.SIG_IGN)
        while True:
            pass
    start = time.perf_counter()
    r = check("ch4.stable_lse", stuck)
    assert time.perf_counter() - start < 6.0 and "time limit" in r.message, r.message
    assert check("ch4.stable_lse", honest_lse).passed


def test_output_past_the_cap_is_malformed_and_the_next_answer_unaffected():
    def flood(x):
        import os as _os
        _os.write(3, b"1" * (3 * 2**20))   # the result channel is a low descriptor: try them all
        for fd in range(64):
            try:
                _os.write(fd, b"x" * (3 * 2**20))
            except OSError:
                pass
        return 0.0
    r = check("ch4.stable_lse", flood)
    assert not r.passed
    assert check("ch4.stable_lse", honest_lse).passed


def test_its_first_process_cannot_be_reached_from_an_answer():
    def probe(x):
        import os as _os
        import signal as _signal
        found = []
        for path in ("/proc/1/mem", "/proc/1/fd/1", "/proc/1/fd/0", "/proc/1/environ"):
            try:
                _os.close(_os.open(path, _os.O_RDWR if "fd" in path else _os.O_RDONLY))
                found.append(path)
            except OSError:
                pass
        for sig in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGKILL):
            try:
                _os.kill(1, sig)
            except OSError:
                pass
        return ",".join(found) or "none"
    with sandbox.learner_session():
        results, status = sandbox.run_functions([cloudpickle.dumps(probe)], [{"kind": "call", "args": [0]}])
        jailed = warm.current()
        assert (results, status) == ([{"out": "none", "i": 0}], "ok")
        assert sandbox.run_functions([cloudpickle.dumps(lambda x: x + 1)], [{"kind": "call", "args": [1]}]) == \
            ([{"out": 2, "i": 0}], "ok")
        assert warm.current() is jailed      # it survived the signals


def test_a_jail_is_replaced_after_its_uses(monkeypatch):
    monkeypatch.setattr(warm, "MAX_USES", 2)
    check("ch4.stable_lse", honest_lse)
    first = warm.current()
    check("ch4.stable_lse", honest_lse)
    assert warm.current() is None and not first.usable
    assert check("ch4.stable_lse", honest_lse).passed and warm.current() is not first


MALFORMED, LATE, ENDED = (b"", False, True), (b"", True, False), (b"", False, False)


@pytest.mark.parametrize("reply, seen", [
    (b"999999999 exited 1\n", MALFORMED), (b"2 forged 1\n[]", MALFORMED), (b"x" * 200, MALFORMED),
    (b"2 exited 1\n[]extra", MALFORMED), (b"5 exited 1\nab", LATE), (b"", LATE), (None, ENDED)],
    ids=["too large", "unknown end", "no line", "trailing bytes", "short", "nothing", "ended"])
def test_a_malformed_late_or_missing_reply_ends_the_jail(reply, seen):
    answer = ("sys.exit(0)" if reply is None
              else f"sys.stdout.buffer.write({reply!r}); sys.stdout.flush(); time.sleep(30)")
    fake = ("import sys, time\nsys.stdout.buffer.write(b'ready\\n'); sys.stdout.flush()\n"
            f"sys.stdin.buffer.readline()\n{answer}\n")
    jailed = warm.WarmJail([sys.executable, "-I", "-S"], fake, [], sandbox.FUNCTION_LIMITS, {}, [])
    start = time.perf_counter()
    assert jailed.request(b"{}", 0.5) == seen
    assert not jailed.usable and time.perf_counter() - start < 0.5 + warm.REPLY_GRACE + 1.0


def test_the_batch_path_never_uses_the_warm_jail():
    """Outside a learner's check (the batch grader), every run is a fresh jail."""
    assert sandbox.run_functions([cloudpickle.dumps(lambda x: x)], [{"kind": "call", "args": [3]}]) == \
        ([{"out": 3, "i": 0}], "ok")
    assert warm.current() is None


def test_the_codec_pair_runs_in_two_children_and_agrees_with_a_fresh_jail():
    def encode(message):
        import builtins
        builtins.LEFT = "from the encoder"      # would make the decoder fail if it reached it
        if any(type(t) is not int or t not in (0, 1, 2) for t in message):
            raise ValueError("symbols are 0, 1, 2")
        return "".join(format(t, "02b") for t in message)

    def decode(bits, n):
        import builtins
        if set(bits) - {"0", "1"}:
            raise ValueError("bits are 0/1")
        return [] if hasattr(builtins, "LEFT") else [int(bits[2 * i:2 * i + 2], 2) for i in range(n)]
    ref = right("ch3.codec", (encode, decode))
    r = check("ch3.codec", (encode, decode))
    assert (r.passed, r.score, r.message) == (ref.passed, ref.score, ref.message)
    assert r.score > 0.5, r.message           # the round trips pass: the decoder never saw LEFT


def test_a_jail_that_died_between_checks_is_replaced_not_judged():
    """(bwrap dies with the thread that started it: a check from a thread that has ended.)"""
    assert check("ch4.stable_lse", honest_lse).passed
    first = warm.current()
    os.killpg(first.jailed.proc.pid, 9)
    time.sleep(0.2)
    assert check("ch4.stable_lse", honest_lse).passed
    assert warm.current() is not first


def test_a_forked_copy_of_the_kernel_leaves_the_parents_jail_alone():
    assert check("ch4.stable_lse", honest_lse).passed
    jailed = warm.current()
    pid = os.fork()
    if pid == 0:     # a forked kernel (multiprocessing, say) ending: its exit must not kill our jail
        warm.close()
        os._exit(0)
    os.waitpid(pid, 0)
    assert warm.current() is jailed and not processes.exited(jailed.jailed.proc.pid)
    assert check("ch4.stable_lse", honest_lse).passed and warm.current() is jailed
