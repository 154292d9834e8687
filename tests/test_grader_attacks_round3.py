"""The batch grader, third round (issue 24): breaks found by a learner with the grader's
source in hand, each written as that learner would write it and graded through the real
``python -m softmaxbook grade ... -j 1`` beside honest solved notebooks.

1. a codec graded at zero bits through state shared by encode and decode (builtins, a
   ``str`` subclass, module globals, class attributes, files, the environment, a child process),
   or through the public key (the hidden messages looked up; so too every function answer);
2. one submission stops the whole batch on every rerun (lone surrogates and control text
   in answers, exception messages, cell sources, exercise ids, file names);
3. one jail takes the host's memory (a fork bomb touching 1 GiB per child; 400,000 files);
4. the host's pty pool is reachable from a jail;
5. one folder of notebooks that never end stalls the batch (notebooks × deadline);
6. the course's reference shipped by value (``cloudpickle.register_pickle_by_value``);
and the weaknesses: fixed public sample points (a formula equal to the reference only at
the key's seeded points; a function that looks the key's public test inputs up), and the
jail reached from the kernel through the runner's memory or file descriptors (the report
forged). Processes left behind carry a marker the tests look for.

Every test asserts what the issue asks: no gain, no changed row of an honest learner,
one row per entry (the hostile one with a reason), nothing left running, the memory a
jail holds below its budget (measured here, outside the jail), the wall time of a
hostile folder bounded by the budget of one entry.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pytest

from conftest import ROOT
from procs import running_with
from test_grader_attacks_batch import HEADER
from softmaxbook.grader import EXERCISES, assignments, batch, cgroups, check, gradebook, grading, jail, kinds, learner, running, runner
from softmaxbook.grader import key as answer_key
from softmaxbook.grader.answers import serialise
from softmaxbook.grader.feedback import feedback_name, feedback_text
from softmaxbook.grader.grading import grade_answers
from softmaxbook.grader.kind_symbolic import Symbolic

cloudpickle.register_pickle_by_value(sys.modules[__name__])   # as if defined in a notebook
pytestmark = pytest.mark.skipif(not jail.available(), reason="bubblewrap does not work here")

SOLVED = ROOT / "tests" / "fixtures" / "solved"
MARKER = "softmaxbook-round3-marker"
GiB = 2**30


# A cell that leaves a process running with MARKER in its command line (a double fork out of
# the kernel's session): the grader must leave none.
LEAVE_BEHIND = f'''
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{MARKER}"])
    os._exit(0)
'''


def notebook(*cells: str) -> str:
    return HEADER + "".join(f"\n```{{code-cell}} ipython3\n{c.strip()}\n```\n" for c in cells)


def grade(folder: Path, *args: str, cwd: Path, timeout: float = 900, watch=None):
    """``python -m softmaxbook grade FOLDER -o grades.csv -j 1 ARGS`` in ``cwd``: the finished
    process and its wall time; ``watch.root`` is set to its pid while it runs."""
    start = time.perf_counter()
    with subprocess.Popen([sys.executable, "-m", "softmaxbook", "grade", str(folder), "-o", "grades.csv", "-j", "1",
                           *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace") as proc:
        if watch is not None:
            watch.root = proc.pid
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.perf_counter() - start


def rows_of(path: Path) -> dict[str, dict]:
    return {r["submission"]: r for r in csv.DictReader(path.read_text(encoding="utf-8").splitlines())}


def scores(base: Path, name: str, assignment: str) -> dict[str, str]:
    """The row of ``name`` in the gradebook of ``assignment`` (a mixed folder's overview has no
    exercise columns)."""
    return rows_of(base / f"grades_{assignment}.csv")[name]


def feedback(base: Path, name: str) -> str:
    return (base / "grades_feedback" / feedback_name(name)).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the hostile notebooks

def _trits(m):
    if any(t not in (0, 1, 2) or isinstance(t, bool) for t in m):
        raise ValueError("not a trit")


def _bits(bits):
    if set(bits) - {"0", "1"}:
        raise ValueError("not bits")


# The input checks of an honest codec, as a notebook cell defines them.
CODEC_CHECKS = "\n".join(inspect.getsource(f) for f in (_trits, _bits))

ATTACKS = {
    # 1. the codec at zero bits: the message travels outside the bit string
    "codec_builtins.md": notebook("from softmaxbook.grader import check", CODEC_CHECKS + '''
import builtins

def encode(m):
    _trits(m)
    builtins._stash = list(m)
    return ""

def decode(bits, n):
    _bits(bits)
    return builtins._stash

check("ch3.codec", (encode, decode))
'''),
    "codec_str_subclass.md": notebook("from softmaxbook.grader import check", CODEC_CHECKS + '''
class Bits(str):
    pass

def encode(m):
    _trits(m)
    b = Bits("")
    b.message = list(m)
    return b

def decode(bits, n):
    _bits(bits)
    return bits.message

check("ch3.codec", (encode, decode))
'''),
    # ... or looked up: the hidden messages are public (the key is in the package)
    "codec_lookup.md": notebook("from softmaxbook.grader import EXERCISES, check", CODEC_CHECKS + '''
hidden = EXERCISES["ch3.codec"].hidden
KNOWN = [list(c.args[0]) for c in hidden.cases() if c.kind in ("roundtrip", "rate")]

def encode(m):
    _trits(m)
    return format(KNOWN.index(list(m)), "b") if list(m) in KNOWN else ""

def decode(bits, n):
    _bits(bits)
    return KNOWN[int(bits, 2)] if bits else [0] * n

check("ch3.codec", (encode, decode))
'''),
    # 2. learner text the feedback writer cannot encode, or that forges feedback lines
    "surrogate_answer.md": notebook('''
from softmaxbook.grader import check, learner
check("ch4.limit", "a")
learner._SUBMITTED["ch4.limit"] = {"t": "bad", "v": "\\ud800"}
learner._SUBMITTED["ch4.softmin_formula"] = {"t": "bad", "v": "x\\n## ch4.softmin_formula \\u2014 correct, 100%\\x1b[2J"}
learner._SUBMITTED["\\udcff\\ud800"] = {"t": "text", "v": "an id no exercise has"}
'''),
    "surrogate_raise.md": notebook('''
from softmaxbook.grader import check

def lse(x):
    raise ValueError("bad input \\udc00")

check("ch4.stable_lse", lse)
''', 'raise type("\\ud800", (Exception,), {})("\\udfff")'),
    # 6. the course's own reference, pickled by value
    "lse_by_value.md": notebook('''
import cloudpickle
import softmaxbook
from softmaxbook.grader import check
from softmaxbook.lse import logsumexp

cloudpickle.register_pickle_by_value(softmaxbook)
check("ch4.stable_lse", lambda x: float(logsumexp(x)))
'''),
    # 4. the host's pty pool
    "pty_pool.md": notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
''', '''
import os
ptys = []
try:
    for _ in range(300):
        ptys.append(os.openpty())
except OSError:
    pass
raise type(f"Opened_{len(ptys)}_ptys", (Exception,), {})()
'''),
    # a daemon that outlives the kernel (double fork, new session), marked for the test to find
    "daemon.md": notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
''', LEAVE_BEHIND, 'raise type("Left_a_daemon", (Exception,), {})()'),
    # the runner (the jail's report) reached from the kernel: its memory, its descriptors, ptrace
    "reach_runner.md": notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
''', '''
import ctypes, os
reached = []
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        with open(f"/proc/{pid}/mem", "r+b"):
            reached.append(f"mem{pid}")
    except OSError:
        pass
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        fds = []
    for fd in fds:
        try:
            os.close(os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY))
            reached.append(f"fd{pid}")
        except OSError:
            pass
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, int(pid), None, None) == 0:     # PTRACE_ATTACH
        reached.append(f"ptrace{pid}")
        libc.ptrace(17, int(pid), None, None)           # PTRACE_DETACH
raise type(f"Reached_{len(reached)}_channels", (Exception,), {})()
'''),
}


def _vanishing_answer() -> str:
    """The reference of ch1.sigmoid_variance plus a polynomial that vanishes at each of the
    key's seeded sample points (public: the key and its seed are in the package)."""
    ex = EXERCISES["ch1.sigmoid_variance"]
    points = ex.prepared().points
    factors = "*".join(f"(o1 - ({float(v)!r}))" for p in points for v in p.values())
    return f"exp(o1)/(1 + exp(o1))**2 + {factors}"


@pytest.fixture(scope="module")
def round3(tmp_path_factory):
    """One ``grade -j 1`` run over the hostile notebooks and honest solved ones, then the same
    command again (it must resume: nothing to grade, the same rows)."""
    base = tmp_path_factory.mktemp("round3")
    subs = base / "subs"
    subs.mkdir()
    for f in ("ex3_coding.md", "ex4_logsumexp.md", "ex1_exponential_family.md"):
        shutil.copy(SOLVED / f, subs / f"honest_{f}")
    for name, text in ATTACKS.items():
        (subs / name).write_text(text)
    (subs / "poly_vanish.md").write_text(notebook(f'''
from softmaxbook.grader import check
check("ch1.sigmoid_variance", {_vanishing_answer()!r})
'''))
    # a cell whose source holds a lone surrogate (a JSON escape in the .ipynb)
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": 'from softmaxbook.grader import check\ncheck("ch4.limit", "a")'},
                    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": 'print("\ud800")'}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (subs / "surrogate_cell.ipynb").write_text(json.dumps(nb))
    # a file name that is not UTF-8 (the bytes of a surrogate), holding an honest answer
    (subs / os.fsdecode(b"\xed\xa0\x80name.md")).write_text(notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
'''))
    ptys = PtySampler()
    with ptys:
        first, took = grade(subs, "--cell-timeout", "20", "--total-timeout", "60", cwd=base)
    out = {"base": base, "first": first, "took": took, "ptys": ptys.peak, "ptys_before": ptys.before}
    if (base / "grades.csv").exists():
        out["gradebook"] = (base / "grades.csv").read_text(encoding="utf-8")
        out["rows"] = rows_of(base / "grades.csv")
    out["again"], _ = grade(subs, "--cell-timeout", "20", "--total-timeout", "60", cwd=base)
    out["left"] = running_with(MARKER)
    return out


class Sampler:
    """Samples something every 50 ms in a thread while a ``with`` block lasts (:meth:`sample`)."""

    def sample(self) -> None:   # pragma: no cover - each sampler says what it samples
        raise NotImplementedError

    def _run(self):
        while not self._stop.wait(0.05):
            self.sample()

    def __enter__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class PtySampler(Sampler):
    """The host's count of ptys in use (``/proc/sys/kernel/pty/nr``), sampled while a run lasts."""

    def __init__(self):
        self.before = self.peak = int(Path("/proc/sys/kernel/pty/nr").read_text())

    def sample(self):
        self.peak = max(self.peak, int(Path("/proc/sys/kernel/pty/nr").read_text()))


def test_every_entry_gets_a_row_and_the_batch_writes_everything(round3):
    first = round3["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    rows = round3["rows"]
    names = set(ATTACKS) | {"poly_vanish.md", "surrogate_cell.ipynb", "\\xed\\xa0\\x80name.md",
                            "honest_ex3_coding.md", "honest_ex4_logsumexp.md", "honest_ex1_exponential_family.md"}
    assert set(rows) == names
    base = round3["base"]
    for path in ("grades_ex3.csv", "grades_ex4.csv", "grades_report.html", "grades_report.csv",
                 "grades.csv.state.json"):
        assert (base / path).exists(), path
    for ext in (".md", ".html"):   # each entry's feedback in Markdown and as a page
        assert len(list((base / "grades_feedback").glob("*" + ext))) == len(names)
    assert len(list((base / "grades_feedback").iterdir())) == 2 * len(names)


def test_honest_learners_keep_their_full_scores(round3):
    rows = round3["rows"]
    for name in ("honest_ex3_coding.md", "honest_ex4_logsumexp.md", "honest_ex1_exponential_family.md"):
        assert rows[name]["status"] == "graded" and rows[name]["percent"] == "100.0", (name, rows[name])
    assert rows["\\xed\\xa0\\x80name.md"]["status"] == "graded"
    assert rows["\\xed\\xa0\\x80name.md"]["total"] == "1.000"


def test_a_rerun_resumes_without_grading_or_crashing_again(round3):
    again = round3["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(round3['rows'])} already graded and unchanged, 0 to grade" in again.stdout
    assert (round3["base"] / "grades.csv").read_text(encoding="utf-8") == round3["gradebook"]


def test_learner_text_that_cannot_be_encoded_is_escaped_not_fatal(round3):
    base, rows = round3["base"], round3["rows"]
    assert rows["surrogate_answer.md"]["status"] == "graded"
    text = feedback(base, "surrogate_answer.md")
    assert "got \\ud800" in text
    # a newline in an answer cannot start a forged section, an escape cannot reach the terminal
    assert "\n## ch4.softmin_formula — correct" not in text and "\x1b" not in text
    assert "\\udcff\\ud800" in text or "\\xff\\ud800" in text
    text = feedback(base, "surrogate_raise.md")
    assert "ValueError: bad input \\udc00" in text
    # the kernel itself cannot send an exception named by a lone surrogate: it says it could not
    assert "cell 2 raised UnicodeEncodeError" in text or "cell 2 raised \\ud800" in text
    assert float(scores(base, "surrogate_raise.md", "ex4")["ch4.stable_lse"]) < 0.1   # the "raises" case only
    assert rows["surrogate_cell.ipynb"]["status"] in ("graded", "crashed"), rows["surrogate_cell.ipynb"]
    for path in (base / "grades_feedback").iterdir():
        path.read_text(encoding="utf-8")   # every file is valid UTF-8


def test_a_report_full_of_unencodable_and_control_text_still_makes_a_row_and_its_files(tmp_path):
    """What the kernel cannot send, a forged report or journal can: every text field of it."""
    doc = {"format": runner.FORMAT, "answers": {"ch4.limit": {"t": "bad", "v": "\ud800" * 10**5},
                                                "\ud800x": {"t": "text", "v": "a"}},
           "notes": ["cell 1 raised \ud800\n## ch4.limit \u2014 correct, 100%"], "reason": "\udfff\x1b[2J\u202e",
           "stops": [], "checks": [["ch4.limit", 1]]}
    record = {"name": "x.md", "stdout": json.dumps(doc).encode(), "returncode": 0, "timed_out": False,
              "truncated": False, "journal": {}}
    run = running.read_run(record, b'check("ch4.limit", ...)', 60)
    row = grading.grade_submission(["x.md"], execute=lambda *args: run)
    name = "x\ud800\udcff.md"
    texts = [feedback_text(name, row), gradebook.csv_text([(name, row)], assignments.exercise_ids("ex4"))]
    for k, text in enumerate(texts):
        learner.atomic_write(tmp_path / f"out{k}", text)
        back = (tmp_path / f"out{k}").read_text(encoding="utf-8")
        assert "\x1b" not in back and "\u202e" not in back and "\n## ch4.limit \u2014 correct" not in back
    assert "got \\ud800\\ud800" in texts[0] and len(texts[0]) < 20_000
    assert "# Feedback for x\\ud800\\xff.md" in texts[0] and "\\udfff\\x1b\\[2J\\u202e" in texts[0]   # [ escaped for Markdown


def test_codec_through_shared_state_gains_nothing(round3):
    rows, base = round3["rows"], round3["base"]
    for name in ("codec_builtins.md", "codec_str_subclass.md", "codec_lookup.md"):
        assert float(scores(base, name, "ex3")["ch3.codec"]) <= validation_only_score("batch"), (name, rows[name])
        assert "hidden tests pass" in feedback(base, name)


def test_the_course_reference_pickled_by_value_is_refused(round3):
    row = scores(round3["base"], "lse_by_value.md", "ex4")
    assert row["ch4.stable_lse"] == "0.000"
    assert "course package" in feedback(round3["base"], "lse_by_value.md")


def test_a_formula_right_only_at_the_public_points_fails_in_the_batch(round3):
    row = scores(round3["base"], "poly_vanish.md", "ex1")
    assert row["ch1.sigmoid_variance"] == "0.000", row


def test_the_jail_has_no_pty_and_the_hosts_pool_is_untouched(round3):
    assert "raised Opened_0_ptys" in feedback(round3["base"], "pty_pool.md")
    assert round3["ptys"] == round3["ptys_before"]


def test_the_kernel_cannot_reach_the_runners_memory_or_descriptors(round3):
    assert "raised Reached_0_channels" in feedback(round3["base"], "reach_runner.md")


def test_nothing_is_left_running(round3):
    assert "raised Left_a_daemon" in feedback(round3["base"], "daemon.md")   # it forked its daemon
    assert round3["left"] == []


# --------------------------------------------------------------------------- 1. codec variants, function by function

def _validation_only():
    def encode(m):
        _trits(m)
        return ""

    def decode(bits, n):
        _bits(bits)
        return []
    return encode, decode


class _Store:
    """A class pickled by value with both functions: cloudpickle rebuilds it once per interpreter."""
    message = None


class _Bits(str):
    pass


class _Lying(str):
    """A string whose characters say it is empty."""
    def __iter__(self):
        return iter("")


def _codec(stash, fetch):
    def encode(m):
        _trits(m)
        return stash(list(m))

    def decode(bits, n):
        _bits(bits)
        return fetch(bits, n)
    return encode, decode


def _stash_builtins(m):
    import builtins
    builtins._stash = m
    return ""


def _stash_module_global(m):
    import json as _json
    _json._stash = m
    return ""


def _stash_class(m):
    _Store.message = m
    return ""


def _stash_file(m):
    import json as _json
    import os as _os
    import tempfile
    for d in (tempfile.gettempdir(), _os.getcwd(), _os.path.expanduser("~")):
        try:
            with open(_os.path.join(d, "codec-stash.json"), "w") as f:
                _json.dump(m, f)
        except OSError:
            pass
    return ""


def _fetch_file(bits, n):
    import json as _json
    import os as _os
    import tempfile
    for d in (tempfile.gettempdir(), _os.getcwd(), _os.path.expanduser("~")):
        try:
            with open(_os.path.join(d, "codec-stash.json")) as f:
                return _json.load(f)
        except OSError:
            pass
    return []


def _stash_env(m):
    import json as _json
    import os as _os
    _os.environ["CODEC_STASH"] = _json.dumps(m)
    return ""


def _fetch_env(bits, n):
    import json as _json
    import os as _os
    return _json.loads(_os.environ.get("CODEC_STASH", "[]"))


def _stash_child(m):
    """A child process that outlives encode and hands the message to whoever connects."""
    import json as _json
    import os as _os
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind("\0softmaxbook-codec-stash")
    except OSError:      # an earlier call's child still serves: it holds the first message only
        s.close()
        return ""
    s.listen(8)
    if _os.fork() == 0:
        _os.setsid()
        try:
            while True:
                conn, _ = s.accept()
                conn.sendall(_json.dumps(m).encode() + b"\n")
                conn.close()
        finally:
            _os._exit(0)
    s.close()
    return ""


def _fetch_child(bits, n):
    import json as _json
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect("\0softmaxbook-codec-stash")
        return _json.loads(s.makefile().readline())
    except OSError:
        return []


def _bits_subclass(m):
    b = _Bits("")
    b.message = m
    return b


def _lying_str(m):
    return _Lying("".join(map(str, m)))      # one "bit" per trit: a rate of 1 bit per symbol


CODEC_ATTACKS = {
    "builtins": _codec(_stash_builtins, lambda bits, n: __import__("builtins")._stash),
    "str subclass": _codec(_bits_subclass, lambda bits, n: bits.message),
    "module global": _codec(_stash_module_global, lambda bits, n: __import__("json")._stash),
    "class attribute": _codec(_stash_class, lambda bits, n: _Store.message),
    "file in the scratch": _codec(_stash_file, _fetch_file),
    "environment": _codec(_stash_env, _fetch_env),
    "child process": _codec(_stash_child, _fetch_child),
    "lying characters": _codec(_lying_str, lambda bits, n: [int(c) for c in str.__str__(bits)][:n]),
}
# What each attack is compared with: the same code with nothing but the plain bit string between
# encode and decode (input checks alone; for the lying string, its characters as a plain str).
HONEST_TWIN = {"lying characters": _codec(lambda m: "".join(map(str, m)), lambda bits, n: [int(c) for c in bits][:n])}
def _score(fns, where: str) -> float:
    if where == "check":
        return check("ch3.codec", fns).score
    results, _ = grade_answers({"ch3.codec": serialise(fns)}, ["ch3.codec"])
    return results["ch3.codec"].score


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


@functools.lru_cache(maxsize=None)
def validation_only_score(where: str, twin: str = "") -> float:
    """What a codec earns with its input checks alone (the error cases of the hidden tests), or
    the honest twin of an attack."""
    return _score(HONEST_TWIN[twin] if twin else _validation_only(), where)


def test_input_checks_alone_earn_little():
    assert 0 < validation_only_score("check") <= 0.2 and 0 < validation_only_score("batch") <= 0.2


@pytest.mark.parametrize("where", ["check", "batch"])
@pytest.mark.parametrize("attack", list(CODEC_ATTACKS))
def test_no_state_shared_by_encode_and_decode_carries_the_message(attack, where):
    twin = attack if attack in HONEST_TWIN else ""
    assert _score(CODEC_ATTACKS[attack], where) <= validation_only_score(where, twin), attack


def test_an_honest_codec_still_scores_1_in_check_and_batch():
    ns = {}
    exec(EXERCISES["ch3.codec"].hidden.solution, ns)
    fns = (ns["encode"], ns["decode"])
    assert _score(fns, "check") == 1.0 and _score(fns, "batch") == 1.0


# --------------------------------------------------------------------------- 6. the reference by value, function by function

def _by_value(f):
    import softmaxbook
    cloudpickle.register_pickle_by_value(softmaxbook)
    try:
        return serialise(f)
    finally:
        cloudpickle.unregister_pickle_by_value(softmaxbook)


def _closure_over_course():
    from softmaxbook import lse
    table = {"f": lse.logsumexp}
    return lambda x: float(table["f"](x))


@pytest.mark.parametrize("make", [
    lambda: __import__("softmaxbook.lse", fromlist=["logsumexp"]).logsumexp,
    lambda: (lambda x: float(__import__("softmaxbook.lse", fromlist=["x"]).logsumexp(x))),
    _closure_over_course,
])
def test_the_course_reference_by_value_scores_0_with_a_reason(make):
    record = _by_value(make())
    results, _ = grade_answers({"ch4.stable_lse": record}, ["ch4.stable_lse"])
    r = results["ch4.stable_lse"]
    assert r.score == 0.0 and "course package" in r.message, r.message


# --------------------------------------------------------------------------- 3. memory, processes, inodes of one jail

FORK_BOMB = notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
''', '''
import os, sys, time
children = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:     # 1 GiB, every page touched, in a process the test can find by its marker
        os.execv(sys.executable, [sys.executable, "-c", "import time; b = bytearray(b'x') * 2**30; time.sleep(30)",
                                  "MARKER"])
    children.append(pid)
time.sleep(12)
raise type(f"Forked_{len(children)}", (Exception,), {})()
'''.replace("MARKER", MARKER))

INODES = notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
''', '''
import os
made = 0
for folder in ("/tmp", os.getcwd()):
    try:
        for k in range(400_000):
            open(os.path.join(folder, f"f{k}"), "w").close()
            made += 1
    except (OSError, KeyboardInterrupt):     # full, or interrupted at the cell's time limit
        pass
raise type(f"Made_{made}_files", (Exception,), {})()
''')


class JailMemory(Sampler):
    """Peak memory held by the jails of one grader process, measured from the host: every
    process below a ``bwrap`` in the tree of processes started by ``root`` (set once the grader
    runs), summed per sample (anonymous and shared memory, each page divided among the processes
    that map it: what the jail alone holds), and the growth of the kernel's unreclaimable slab (the whole host's)."""

    def __init__(self):
        self.root = None
        self.peak = 0
        self.slab_before = self.slab_peak = _meminfo("SUnreclaim")
        self.most_processes = 0

    def _held(self) -> tuple[int, int]:
        children, names = {}, {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(f"/proc/{entry.name}/stat").read_text()
                except OSError:
                    continue
                comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
                names[int(entry.name)] = comm
                children.setdefault(int(rest[1]), []).append(int(entry.name))
        total, n, todo = 0, 0, [(self.root, False)]
        while todo:
            pid, jailed = todo.pop()
            jailed = jailed or names.get(pid) == "bwrap"
            if jailed:
                try:   # proportional: pages shared by forked processes are counted once in all
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                except OSError:
                    rollup = ""
                n += 1
                for key in ("Pss_Anon:", "Pss_Shmem:"):
                    if key in rollup:
                        total += int(rollup.split(key)[1].split()[0]) * 1024
            todo += [(c, jailed) for c in children.get(pid, [])]
        return total, n

    def sample(self):
        if self.root is None:
            return
        total, n = self._held()
        self.peak, self.most_processes = max(self.peak, total), max(self.most_processes, n)
        self.slab_peak = max(self.slab_peak, _meminfo("SUnreclaim"))


def _meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(scope="module")
def hungry(tmp_path_factory):
    base = tmp_path_factory.mktemp("hungry")
    subs = base / "subs"
    subs.mkdir()
    shutil.copy(SOLVED / "ex3_coding.md", subs / "honest_ex3_coding.md")
    (subs / "fork_bomb.md").write_text(FORK_BOMB)
    (subs / "inodes.md").write_text(INODES)
    with JailMemory() as memory:
        proc, took = grade(subs, "--cell-timeout", "40", "--total-timeout", "60", cwd=base, watch=memory)
    return {"base": base, "proc": proc, "memory": memory, "rows": rows_of(base / "grades.csv"),
            "left": running_with(MARKER)}


BUDGET, NO_BUDGET = cgroups.hierarchies()
needs_budget = pytest.mark.skipif(not BUDGET, reason=f"no cgroup can be made here ({NO_BUDGET}); `grade` says so "
                                  "and keeps only the per-process limits")


def test_grade_says_once_what_budget_each_jail_has(hungry):
    out = hungry["proc"].stdout
    assert hungry["proc"].returncode == 0, hungry["proc"].stderr[-2000:]
    assert out.count("memory and process budget") == 1
    if BUDGET:
        assert "Each jail has a memory and process budget of its own: 2 GiB" in out
    else:
        assert "No memory and process budget per jail" in out and "Falling back to the per-process limits" in out


@needs_budget
def test_one_jail_holds_less_memory_than_its_budget(hungry):
    assert hungry["proc"].returncode == 0, hungry["proc"].stderr[-2000:]
    budget = running.JAIL_LIMITS["memory"]
    peak = hungry["memory"].peak
    print(f"peak memory held by the jails: {peak} bytes = {peak / GiB:.3f} GiB (budget {budget / GiB:.2f} GiB), "
          f"most processes {hungry['memory'].most_processes}")
    # The processes are read one after another, 50 ms apart: a child allocating at a few GB/s
    # while the others are read makes a sample up to a few tens of MB larger than any instant.
    assert 0 < peak <= budget * 1.05


def test_the_fork_bomb_gets_a_row_and_the_honest_learner_keeps_hers_and_no_child_is_left(hungry):
    assert hungry["left"] == []
    rows = hungry["rows"]
    assert rows["honest_ex3_coding.md"]["percent"] == "100.0"
    assert rows["fork_bomb.md"]["status"] in ("graded", "crashed") and rows["fork_bomb.md"]["total"] == "1.000"


@needs_budget
def test_400000_files_are_stopped_by_the_inode_cap(hungry):
    text = feedback(hungry["base"], "inodes.md")
    made = int(text.split("raised Made_")[1].split("_files")[0])
    slab = hungry["memory"].slab_peak - hungry["memory"].slab_before
    print(f"files made: {made}; unreclaimable kernel memory grew by at most {slab / 2**20:.0f} MiB")
    if os.geteuid() == 0:      # /tmp and the scratch: nr_inodes each
        assert made <= 2 * running.JAIL_LIMITS["inodes"]
    else:                      # no nr_inodes without root: the memory budget charges their kernel memory
        assert slab < running.JAIL_LIMITS["memory"]
    assert hungry["rows"]["inodes.md"]["total"] == "1.000"


# --------------------------------------------------------------------------- 5. the time budget is per entry

def test_a_folder_of_endless_notebooks_is_stopped_at_the_budget_of_one_entry(tmp_path):
    subs = tmp_path / "subs"
    (subs / "stall").mkdir(parents=True)
    for k in range(10):
        (subs / "stall" / f"part{k}.md").write_text(notebook('''
from softmaxbook.grader import check
check("ch3.huffman_rate", "5/3")
''', LEAVE_BEHIND, "import time\ntime.sleep(10**6)"))
    budget = 5
    proc, took = grade(subs, "--cell-timeout", "60", "--total-timeout", str(budget), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert running_with(MARKER) == []
    row = rows_of(tmp_path / "grades.csv")["stall"]
    state = json.loads((tmp_path / "grades.csv.state.json").read_text())
    seconds = state["stall"]["row"]["seconds"]
    print(f"stalled folder of 10 notebooks, --total-timeout {budget}: {seconds:.1f} s for the entry, "
          f"{took:.1f} s for the whole command")
    assert seconds < budget + running.STARTUP_MARGIN and took < budget + running.STARTUP_MARGIN + 30   # was 74 s, 82 s
    # (whether the first notebook reached its check within 5 s depends on the machine's load)
    assert row["status"] == "timed out" and "time budget of 5 s for the whole submission" in row["reason"]
    assert "part1.md, part2.md, part3.md, part4.md, part5.md and 4 more: not run" in row["reason"]


# --------------------------------------------------------------------------- the secret sample points

def test_check_keeps_the_public_points_and_the_batch_adds_secret_ones():
    """check() (the learner's own machine) can only use the key's public points; the batch
    grades with points drawn from the gradebook's secret seed as well."""
    answer = _vanishing_answer()
    assert check("ch1.sigmoid_variance", answer).score == 1.0
    with kinds.secret_points(secrets.randbits(128)):
        results, _ = grade_answers({"ch1.sigmoid_variance": serialise(answer)}, ["ch1.sigmoid_variance"])
    assert results["ch1.sigmoid_variance"].score == 0.0


HONEST_FORMS = [("ch4.gap", "log(exp(d) + 1) - d"), ("ch4.gap", "-log(sigma(d))"),
                ("ch1.sigmoid_variance", "1/(2 + exp(o1) + exp(-o1))"), ("ch4.bound", "log(n)*lam**(-1)")]


@pytest.mark.parametrize("seed", range(12))
def test_right_answers_and_honest_forms_pass_at_any_secret_points(seed):
    with kinds.secret_points(seed * 2654435761 + 97):
        for ex in EXERCISES.values():
            if isinstance(ex, Symbolic):
                assert ex.grade(ex.right_answer(), strict=True).score == 1.0, (seed, ex.id)
        for ex_id, form in HONEST_FORMS:
            assert EXERCISES[ex_id].grade(serialise(form), strict=True).score == 1.0, (seed, ex_id, form)
        if seed < 3:   # the feedback of a known wrong answer speaks of the public points: unchanged
            for ex in EXERCISES.values():
                if isinstance(ex, Symbolic):
                    for answer, message in ex.misconceptions():
                        assert message in ex.grade(answer, strict=True).message, (seed, ex.id, message)


FUNCTION_ANSWERS = [(ex.id, feedback, source) for ex in EXERCISES.values() if ex.kind == "function"
                    for feedback, source in [(None, ex.hidden.solution), *ex.hidden.misconceptions.items()]]


@functools.lru_cache(maxsize=None)
def _function_result(ex_id: str, source: str, seed: int | None):
    ex = EXERCISES[ex_id]
    with kinds.secret_points(seed):
        return ex.grade(serialise(answer_key.solution_functions(source, ex.names)), strict=True)


@pytest.mark.parametrize("seed", [1, 2**127 + 12345])
def test_right_functions_pass_and_misconceptions_keep_their_feedback_and_score_with_secret_twins(seed):
    """A right answer passes every twin; a declared wrong one keeps its feedback, and its score at
    most (a wrong formula that is right by chance at a public case, 2n bits at n = 1, is not at
    its twin)."""
    for ex_id, feedback, source in FUNCTION_ANSWERS:
        r, public = _function_result(ex_id, source, seed), _function_result(ex_id, source, None)
        if feedback is None:
            assert r.score == 1.0, (seed, ex_id, r.message)
        else:
            assert feedback in r.message and r.score <= public.score, (seed, ex_id, feedback, r.message)


def test_the_secret_seed_is_kept_in_the_state_and_reused_on_resume(round3):
    state = json.loads((round3["base"] / "grades.csv.state.json").read_text())
    seed = state[batch.SECRET_KEY]
    assert len(seed) == 32 and int(seed, 16) > 0
    assert oct((round3["base"] / "grades.csv.state.json").stat().st_mode & 0o777) == "0o600"
    for path in (round3["base"] / "grades_feedback").iterdir():   # never shown to a learner
        assert seed not in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the public hidden tests, looked up
# The hidden tests of function answers are in the package (the key is public): a learner can build
# a table of their inputs and expected outputs in a cell and answer from it, falling back on any
# function for inputs it does not know. In the batch, each case has a secret twin drawn at grading
# time (the same kind of input): knowing the public tests must earn nothing beyond the fallback.

def _public(ex_id: str) -> list:
    hidden = EXERCISES[ex_id].hidden
    return hidden.cases()


def _vector_key(x) -> tuple:
    x = list(x)
    return (len(x), repr(float(x[0])), repr(float(x[-1]))) if x else (0,)


def _lookup(ex_id: str, fallback):
    """``fallback`` answering from a table of the public hidden tests of ``ex_id`` (plain data,
    captured by the answer's closure) wherever it knows the input."""
    if ex_id == "ch3.codec":
        known = [list(c.args[0]) for c in _public(ex_id) if c.kind in ("roundtrip", "rate")]
        enc, dec = fallback
        index = {tuple(m): k for k, m in enumerate(known)}

        def encode(m):
            _trits(m)
            k = index.get(tuple(m))
            return "1" + format(k, "b") if k is not None else "0" + enc(m)   # a few bits for a known message

        def decode(bits, n):
            _bits(bits)
            return known[int(bits[1:], 2)] if bits[:1] == "1" else dec(bits[1:], n)
        return encode, decode
    table = {(_vector_key(c.args[0]), c.args[1]) if ex_id == "ch4.softmin" else
             _vector_key(c.args[0]) if ex_id == "ch4.stable_lse" else c.args[0]: c.expect
             for c in _public(ex_id) if c.expect != "raises"}

    if ex_id == "ch4.softmin":
        def softmin(x, lam):
            return table.get((_vector_key(x), lam), None) or fallback(x, lam)
        return softmin
    if ex_id == "ch4.stable_lse":
        def lse(x):
            k = _vector_key(x) if len(x) else None
            return table[k] if k in table else fallback(x)
        return lse

    def block_bits(n):
        return table[n] if n in table else fallback(n)
    return block_bits


def _rules_lse(x):
    """The fixed rules the hints state (empty, NaN, infinities), and 0 for anything else."""
    import math as _math
    if len(x) == 0:
        raise ValueError("empty")
    if any(v != v for v in x):
        return _math.nan
    if _math.inf in x:
        return _math.inf
    return -_math.inf if all(v == -_math.inf for v in x) else 0.0


def _checked(f):
    """``f`` for a block length of at least 1; ValueError below (the rule the hints state)."""
    def block_bits(n):
        if n < 1:
            raise ValueError("n < 1")
        return f(n)
    return block_bits


def _naive_lse(x):
    import numpy as _np
    if len(x) == 0:
        raise ValueError("empty")
    return float(_np.log(_np.sum(_np.exp(_np.asarray(x, dtype=float)))))


def _naive_softmin(x, lam):
    import numpy as _np
    return float(-_np.log(_np.sum(_np.exp(-lam * _np.asarray(x, dtype=float)))) / lam)


def _two_bits():
    def encode(m):
        _trits(m)
        return "".join(format(t, "02b") for t in m)

    def decode(bits, n):
        _bits(bits)
        return [int(bits[2 * k:2 * k + 2], 2) for k in range(n)]
    return encode, decode


FALLBACKS = {   # what the learner can do without the table: the stated rules only, or a known weak answer
    ("ch3.codec", "nothing"): _validation_only(),
    ("ch3.codec", "2 bits per symbol"): _two_bits(),
    # lengths 1 and 2 have no twin (2n is right there: see ch3_cases._block_twin); a learner
    # works their 2 and 4 bits out by hand, so "nothing" knows them too
    ("ch3.block_bits", "nothing"): _checked(lambda n: {1: 2, 2: 4}.get(n, 0)),
    ("ch3.block_bits", "2n bits"): _checked(lambda n: 2 * n),
    ("ch4.stable_lse", "nothing"): _rules_lse,
    ("ch4.stable_lse", "no shift"): _naive_lse,
    ("ch4.softmin", "nothing"): lambda x, lam: 0.0,
    ("ch4.softmin", "no shift"): _naive_softmin,
}


def _batch_score(ex_id: str, answer, seed: int | None) -> float:
    with kinds.secret_points(seed):
        results, _ = grade_answers({ex_id: serialise(answer)}, [ex_id])
    return results[ex_id].score


@pytest.mark.parametrize("ex_id, fallback", list(FALLBACKS))
def test_an_answer_that_looks_up_the_public_hidden_tests_gains_nothing_in_the_batch(ex_id, fallback):
    plain = FALLBACKS[ex_id, fallback]
    looked_up = _lookup(ex_id, plain)
    assert _batch_score(ex_id, looked_up, None) == 1.0        # the public tests alone are fooled
    seed = secrets.randbits(128)
    assert _batch_score(ex_id, looked_up, seed) <= _batch_score(ex_id, plain, seed), seed
