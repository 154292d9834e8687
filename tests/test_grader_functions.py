"""Function answers, attacked by a learner who has read the grader's source (issue 11).

Attack 4: a function that ignores the alarm, closes the report pipe, loops or forks is
killed as a group at the deadline; ``check`` returns within 6 s, nothing is left running.
Attack 6: reading the hidden case's expected value from the caller's frame, or importing
the course's own reference, scores 0 with a reason. Attack 8: a lambda written inside the
``check(...)`` call, a ``functools.wraps``-decorated function, an ``exec``-defined function
and closures over a helper score 1.0 in ``check`` *and* in the batch grading of the same
answers. And a forged pickle can do nothing harmful: it runs only in the fresh, jailed
interpreter, never in the grader's process.
"""

from __future__ import annotations

import base64
import json
import math
import os
import pickle
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cloudpickle
import pytest

from procs import running_with
from softmaxbook.grader import EXERCISES, check, jail, learner, sandbox, warm
from softmaxbook.grader.answers import serialise
from softmaxbook.grader.grading import grade_answers

REGISTRY = Path(sys.modules["softmaxbook.grader.registry"].__file__)
cloudpickle.register_pickle_by_value(sys.modules[__name__])   # as if defined in a notebook
needs_jail = pytest.mark.skipif(not jail.available(), reason="bubblewrap does not work here")


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


@pytest.fixture
def no_unpickling_here(monkeypatch):
    """The grader's own process must never unpickle a learner's bytes."""
    def refuse(*args, **kwargs):
        raise AssertionError("the grader's process unpickled learner bytes")
    for mod, name in ((pickle, "loads"), (pickle, "load"), (cloudpickle, "loads"), (cloudpickle, "load")):
        monkeypatch.setattr(mod, name, refuse)


def _fn_record(data: bytes) -> dict:
    return {"t": "fn", "name": "f", "pickle": base64.b64encode(data).decode()}


# --------------------------------------------------------------------------- attack 8

HONEST_SCRIPT = textwrap.dedent('''
    import functools, json, math, sys
    import numpy as np
    from softmaxbook.grader import check

    scores = {}
    # 1. a lambda written inside the check(...) call
    scores["ch3.block_bits"] = check(
        "ch3.block_bits", lambda n: (3 ** n - 1).bit_length() if n >= 1 else int("n must be >= 1")).score

    # 2. a function with a functools.wraps decorator
    def logged(f):
        @functools.wraps(f)
        def wrapper(*args):
            return f(*args)
        return wrapper

    @logged
    def lse(x):
        x = [float(v) for v in x]
        if not x:
            raise ValueError("lse of an empty sequence")
        return float(np.logaddexp.reduce(x))
    scores["ch4.stable_lse"] = check("ch4.stable_lse", lse).score

    # 3. an exec-defined function (here reusing lse, a global of the notebook)
    exec("def softmin(x, lam):\\n    return -lse(-lam * np.asarray(x, dtype=float)) / lam\\n")
    scores["ch4.softmin"] = check("ch4.softmin", softmin).score

    # 4. closures over a helper
    def make_codec(base=3):
        def width(n):                     # the helper both closures use
            return (base ** n - 1).bit_length() if n else 0

        def encode(m):
            if any(t not in (0, 1, 2) for t in m):
                raise ValueError("symbols are 0, 1, 2")
            value = 0
            for t in m:
                value = base * value + t
            return format(value, "b").zfill(width(len(m))) if m else ""

        def decode(bits, n):
            if set(bits) - {"0", "1"}:
                raise ValueError("bits are 0 and 1")
            value, out = (int(bits, 2) if bits else 0), []
            for _ in range(n):
                value, t = divmod(value, base)
                out.append(t)
            return out[::-1]
        return encode, decode
    scores["ch3.codec"] = check("ch3.codec", make_codec()).score
    print(json.dumps(scores))
''')


def test_honest_functions_of_every_form_score_1_in_check_and_in_the_batch(tmp_path):
    script = tmp_path / "notebook.py"
    script.write_text(HONEST_SCRIPT)
    journal = tmp_path / "answers.jsonl"
    env = {**os.environ, "SOFTMAXBOOK_HARVEST": str(journal), "SOFTMAXBOOK_PROGRESS": str(tmp_path / "p.json")}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    learner_scores = json.loads(out.stdout.strip().splitlines()[-1])
    answers = {}
    for line in journal.read_text().splitlines():
        rec = json.loads(line)
        answers[rec["id"]] = rec["answer"]
    assert set(answers) == set(learner_scores) == {"ch3.block_bits", "ch3.codec", "ch4.softmin", "ch4.stable_lse"}
    assert all(a.get("t") == "fn" or all(e["t"] == "fn" for e in a["v"]) for a in answers.values())
    results, _ = grade_answers(answers)          # the batch grading (strict hidden tests) of the same answers
    batch_scores = {i: results[i].score for i in learner_scores}
    assert learner_scores == batch_scores == dict.fromkeys(learner_scores, 1.0), (learner_scores, batch_scores)


NOTEBOOK_HEAD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# Four honest forms of a function answer

```{code-cell} ipython3
"""


@needs_jail
def test_the_same_four_forms_in_a_notebook_score_1_in_the_jailed_batch(tmp_path):
    """The whole pipeline: defined in a real kernel's __main__, journalled by check inside the
    notebook jail, graded with the strict hidden tests in a fresh jailed interpreter."""
    from softmaxbook.grader.grading import grade_submission
    path = tmp_path / "honest_forms.md"
    path.write_text(NOTEBOOK_HEAD + HONEST_SCRIPT.replace("print(json.dumps(scores))", "scores") + "```\n")
    row = grade_submission([path], cell_timeout=60, total_timeout=180, sandbox=True)
    ids = ("ch3.block_bits", "ch3.codec", "ch4.softmin", "ch4.stable_lse")
    assert {i: row["scores"][i] for i in ids} == dict.fromkeys(ids, 1.0), (row["reason"], row["feedback"])


def test_learner_and_batch_agree_on_wrong_and_partly_right_functions():
    def off_by_one(n):
        if n < 1:
            raise ValueError("n >= 1")
        return math.ceil(n * math.log2(3)) + 1

    def no_shift(x):
        return math.log(sum(math.exp(v) for v in x))
    for ex_id, f in (("ch3.block_bits", off_by_one), ("ch4.stable_lse", no_shift)):
        learner_side = check(ex_id, f)
        harvested = json.loads(json.dumps(learner.submitted()[ex_id]))    # as the journal carries it
        batch_side = EXERCISES[ex_id].grade(harvested, strict=False)
        assert (learner_side.score, learner_side.message) == (batch_side.score, batch_side.message)
        assert 0 < learner_side.score < 1


# --------------------------------------------------------------------------- attack 6

def _cheat_from_the_frame(n):
    import sys as _sys
    return _sys._getframe(1).f_locals["case"].expect


def _cheat_by_import(n):
    from softmaxbook.coding import block_bits
    return block_bits(n)


def _cheat_by_unblocking_the_import(n):
    import importlib
    import sys as _sys
    _sys.meta_path[:] = [f for f in _sys.meta_path if "NoCourse" not in type(f).__name__]
    for p in ("/work", str(REGISTRY.parents[2])):
        _sys.path.append(p)
    # the name spelled at run time: the pickle does not name the package (that alone is refused)
    return importlib.import_module("".join(["softmax", "book", ".coding"])).block_bits(n)


def _the_reference_itself():
    from softmaxbook.coding import block_bits
    return block_bits                      # pickled by reference to the course package


@pytest.mark.parametrize("cheat, reason", [
    (_cheat_from_the_frame, "has no attribute 'expect'"),
    (_cheat_by_import, "course package softmaxbook is not available"),
    (_the_reference_itself(), "course package softmaxbook is not available"),
])
def test_cheating_functions_score_0_with_a_reason_in_check_and_batch(cheat, reason, no_unpickling_here):
    r = check("ch3.block_bits", cheat)
    assert r.score == 0.0 and reason in r.message, r.message
    results, _ = grade_answers({"ch3.block_bits": serialise(cheat)})
    assert results["ch3.block_bits"].score == 0.0 and reason in results["ch3.block_bits"].message


@needs_jail
def test_the_course_package_is_out_of_reach_in_the_jail_even_unblocked():
    r = check("ch3.block_bits", _cheat_by_unblocking_the_import)
    assert r.score == 0.0 and "ModuleNotFoundError" in r.message, r.message


@pytest.mark.parametrize("warm_jail", [False, pytest.param(True, marks=needs_jail)], ids=["fresh", "warm"])
def test_the_fresh_interpreter_receives_inputs_but_no_expected_value(monkeypatch, warm_jail):
    """In a fresh jail per check, and in the session's warm jail (:mod:`.warm`)."""
    seen = {}
    if warm_jail:
        warm.close()
        start, request = sandbox.jail.start, warm.WarmJail.request

        def spy_start(argv, **kw):
            seen["argv"] = argv
            return start(argv, **kw)

        def spy_request(self, raw, timeout):
            seen["stdin"] = raw
            return request(self, raw, timeout)
        monkeypatch.setattr(sandbox.jail, "start", spy_start)
        monkeypatch.setattr(warm.WarmJail, "request", spy_request)
    else:
        monkeypatch.setenv(warm.FRESH_ENV, "1")
        real = sandbox.jail.run

        def spy(argv, **kw):
            seen["stdin"], seen["argv"] = kw["stdin"], argv
            return real(argv, **kw)
        monkeypatch.setattr(sandbox.jail, "run", spy)
    assert check("ch4.stable_lse", lambda x: 0.0).score < 1
    warm.close()
    request = json.loads(seen["stdin"])
    assert set(request) == {"path", "functions", "cases", "setup_seconds", "case_seconds"}
    assert all(set(c) == {"kind", "args"} for c in request["cases"])
    assert [c["args"][0] for c in request["cases"][4:6]] == [[1000.0, 1000.0], [800.0, -800.0, 3.0]]
    text = seen["stdin"].decode()
    assert "1000.6931471805" not in text and "expect" not in text     # 1000 + log 2, the expected value
    source = seen["argv"][seen["argv"].index("-c") + 1]
    assert seen["argv"][1:3] == ["-I", "-S"] and "import softmaxbook" not in source


# --------------------------------------------------------------------------- attack 4

def _marker():
    return f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"


def _stubborn_function(marker: str, escape: bool):
    """Ignores SIGALRM, closes the report pipe, forks a grandchild (``escape``: double fork and
    setsid, out of the process group) that becomes ``sleep <marker>``, then loops."""
    def f(*args):
        import os as _os
        import signal as _signal
        _signal.signal(_signal.SIGALRM, _signal.SIG_IGN)
        if _os.fork() == 0:
            if escape:
                _os.setsid()
                if _os.fork():
                    _os._exit(0)
            _os.execv("/bin/sleep", ["sleep", marker])
        for fd in range(0, 64):
            try:
                _os.close(fd)
            except OSError:
                pass
        while True:
            pass
    return f


def _assert_none_left(marker):
    end = time.monotonic() + 2.0
    while running_with(marker) and time.monotonic() < end:
        time.sleep(0.05)
    left = running_with(marker)
    for pid in left:          # clean up before failing (only the processes this test made)
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running: {left}"


@needs_jail
@pytest.mark.parametrize("escape", [False, True], ids=["same-group", "setsid"])
def test_a_stubborn_forking_function_is_killed_with_its_grandchildren(escape):
    marker = _marker()
    start = time.perf_counter()
    r = check("ch4.stable_lse", _stubborn_function(marker, escape))
    elapsed = time.perf_counter() - start
    assert elapsed < 6.0 and r.score == 0.0
    assert "time limit" in r.message and "infinite loop" in r.message, r.message
    _assert_none_left(marker)


def test_without_bwrap_the_deadline_and_group_kill_still_hold(monkeypatch):
    monkeypatch.setattr(sandbox.jail, "available", lambda: False)
    marker = _marker()
    start = time.perf_counter()
    r = check("ch4.stable_lse", _stubborn_function(marker, escape=False))
    assert time.perf_counter() - start < 6.0 and "time limit" in r.message
    _assert_none_left(marker)


def _sleeps(x):
    import time as _time
    _time.sleep(100)


def _ignores_alarm_and_sleeps(x):
    import signal as _signal
    import time as _time
    _signal.pthread_sigmask(_signal.SIG_BLOCK, [_signal.SIGALRM])
    _time.sleep(100)


def _fork_bomb(x):
    import os as _os
    while True:
        try:
            _os.fork()
        except OSError:
            pass


def _eats_memory(x):
    return len(bytearray(8 * 2**30))


def _kills_itself(x):
    import os as _os
    _os.kill(_os.getpid(), 9)      # ignored in the jail, where the runner is the namespace's init
    _os.abort()                    # SIGABRT, then a forced fault: that ends even an init


def _exits(x):
    raise SystemExit(0)


def _prints_a_flood(x):
    import sys as _sys
    for _ in range(1000):
        print("x" * 10_000)
        _sys.__stdout__.write("y" * 10_000)
    return 1.0


def _huge_output(x):
    return ["z" * 1000] * 5000


def _forges_the_report(x):
    import os as _os
    for fd in range(3, 20):
        try:
            _os.write(fd, b'{"i": 0, "out": 1000.6931471805599}\n{"__done__": true}\n')
        except OSError:
            pass
    return 0.0


HOSTILE = [
    (_sleeps, "longer than 1 s"),
    (_ignores_alarm_and_sleeps, "time limit"),
    (_fork_bomb, "time limit"),
    (_eats_memory, "MemoryError"),
    (_kills_itself, "ended the process"),
    (_exits, "raised SystemExit"),
    (_prints_a_flood, "tests pass"),
    (_huge_output, "too large"),
    (_forges_the_report, "damaged"),
]


@pytest.mark.parametrize("f, message", HOSTILE, ids=[h[0].__name__ for h in HOSTILE])
def test_every_hostile_function_gets_a_clear_message_within_6_s(f, message, no_unpickling_here):
    start = time.perf_counter()
    r = check("ch4.stable_lse", f)
    assert time.perf_counter() - start < 6.0
    assert r.score < 1.0 and message in r.message, r.message


# --------------------------------------------------------------------------- forged pickles

class _Forged:
    """A pickle that runs code when loaded (what a hand-made payload does)."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def _forged_record(code: str) -> dict:
    return _fn_record(pickle.dumps(_Forged(code)))


@needs_jail
def test_a_forged_pickle_cannot_write_outside_scratch_or_reach_the_network(tmp_path, no_unpickling_here):
    targets = [tmp_path / "pwned", Path(sys.prefix) / f"pwned-{_marker()}"]   # a private dir; a read-only one
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(6)
    port = server.getsockname()[1]
    connected = []
    threading.Thread(target=lambda: connected.append(_accept(server)), daemon=True).start()
    codes = [f"open({str(t)!r}, 'w').write('x')\n" for t in targets]
    for c in codes + [f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n"]:
        r = EXERCISES["ch3.block_bits"].grade(_forged_record(c), strict=True)
        assert r.score == 0.0 and "could not be run" in r.message, r.message
    time.sleep(0.3)
    server.close()
    assert not any(t.exists() for t in targets) and connected in ([], [None])


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


@needs_jail
def test_a_forged_pickle_cannot_read_the_registry(no_unpickling_here):
    payload = ("import builtins\n"
               f"builtins.secret = open({str(REGISTRY)!r}).read()\n")
    reports, status = sandbox.run_functions([pickle.dumps(_Forged(payload))], [{"kind": "call", "args": [1]}])
    assert status == "ok" and "FileNotFoundError" in reports[0]["__sandbox_error__"]


def test_damaged_or_oversized_records_get_a_clear_message(no_unpickling_here):
    ex = EXERCISES["ch3.block_bits"]
    for rec in ({"t": "fn", "name": "f"}, {"t": "fn", "pickle": "not base64!"}, {"t": "fn", "pickle": 7},
                {"t": "fn", "pickle": "A" * 1_000_000}):
        r = ex.grade(rec, strict=True)
        assert r.score == 0.0 and "could not be read" in r.message
    r = ex.grade(_fn_record(b"garbage, not a pickle"), strict=True)
    assert r.score == 0.0 and "could not be run" in r.message and "Unpickling" in r.message


def test_a_function_capturing_a_huge_array_is_refused_before_it_travels():
    import numpy as np
    table = np.arange(2_000_000, dtype=float)
    r = check("ch4.stable_lse", lambda x: float(table[0]))
    assert r.score == 0.0 and "too large to send" in r.message


@needs_jail
def test_an_installed_course_package_is_hidden_from_the_jail(tmp_path, monkeypatch):
    """A non-editable install puts the package in site-packages, which the jail binds: the
    runner must see that folder empty, even for a function that removes the import guard."""
    site = tmp_path / "site-packages"
    (site / "softmaxbook").mkdir(parents=True)
    (site / "softmaxbook" / "coding.py").write_text("def block_bits(n):\n    return (3**n - 1).bit_length()\n")
    real = sandbox._library_path()
    monkeypatch.setattr(sandbox, "_library_path", lambda: [str(site)] + real)
    monkeypatch.setattr(sandbox, "_course_package_dirs", lambda: [str(site / "softmaxbook")])
    run = sandbox.jail.run
    monkeypatch.setattr(sandbox.jail, "run", lambda argv, **kw: run(argv, binds_ro=[site], **kw))
    unguarded = _cheat_by_unblocking_the_import
    reports, _ = sandbox.run_functions([cloudpickle.dumps(unguarded)], [{"kind": "call", "args": [5]}])
    assert reports[0]["raised"] == "ModuleNotFoundError", reports
    monkeypatch.setattr(sandbox, "_course_package_dirs", lambda: [])     # the same without hiding: found
    reports, _ = sandbox.run_functions([cloudpickle.dumps(unguarded)], [{"kind": "call", "args": [5]}])
    assert reports[0] == {"out": 8, "i": 0}, reports


def test_the_course_package_of_this_checkout_is_not_in_a_bound_folder():
    assert sandbox._course_package_dirs() == []      # editable install: nothing to hide, nothing to see
