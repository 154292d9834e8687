"""Issue 26, state and trust: a grader that is never silently wrong, grades that follow the key,
overrides that last, and Ctrl-C. Each test starts from the failure as the issue reports it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from softmaxbook.grader import key, overrides, registry, selftest
from softmaxbook.grader.batch import grade_folder
from softmaxbook.grader.gradebook import Outputs

FIX = ROOT / "tests" / "fixtures"
EX2 = "ex2_hessian.md"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def _rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def _changes(out: Path) -> list[dict]:
    path = Outputs(out).changes
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- never silently wrong

def test_a_grader_whose_python_imports_another_checkout_refuses_to_grade(tmp_path):
    """The reported failure, built as it happened: the package is copied to another folder (a
    second checkout) and the grader started from there with this checkout's virtual environment,
    whose editable install points here. The grader imports the copy (the current folder comes
    first on ``python -m``'s path) and mounts it in the jail; the notebooks' kernel imports this
    checkout, which the jail does not show. Before: the whole class 0 %, exit 0."""
    other = tmp_path / "other_checkout"
    shutil.copytree(ROOT / "softmaxbook", other / "softmaxbook", ignore=shutil.ignore_patterns("__pycache__"))
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(FIX / "solved" / EX2, subs / "alice.md")
    out = tmp_path / "out" / "grades.csv"
    proc = subprocess.run([PY, "-m", "softmaxbook", "grade", str(subs), "-o", str(out), "--cell-timeout", "30"],
                          cwd=other, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    err = proc.stderr
    assert "self-test failed" in err and "ModuleNotFoundError" in err
    assert f"imports softmaxbook from {ROOT / 'softmaxbook'}" in err and f"runs the package at {other / 'softmaxbook'}" in err
    assert "Fix: install this checkout" in err and "Nothing was graded." in err
    assert not out.exists() and "Traceback" not in err


def test_the_self_test_passes_here_and_names_its_seconds(tmp_path):
    proc = subprocess.run([PY, "-m", "softmaxbook", "grade", "--self-test"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("self-test passed in ") and "4 solved notebooks full marks, a shipped one 0" in line
    print(line)


def test_solved_notebooks_hold_the_key_answers_and_a_wrong_cell_is_named():
    """Every assignment's notebook from exercises/, its answer cells the key's right answers."""
    made = selftest.entries()
    assert sorted(made) == ["selftest_ex1_shipped.ipynb"] + [f"selftest_ex{i}_solved.ipynb" for i in range(1, 5)]
    nb = json.loads(made["selftest_ex2_solved.ipynb"][1])
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert sources[9] == "answer = 'a'\n\ncheck(\"ch2.whose_variance\", answer)"   # cell 10 as shipped
    assert "answer = ..." not in "".join(sources) and "import" in sources[1] + sources[2]
    shipped = json.loads(made["selftest_ex1_shipped.ipynb"][1])
    assert any("..." in "".join(c["source"]) for c in shipped["cells"])


def test_the_verdict_asks_full_marks_of_solved_and_zero_of_shipped():
    good = {"status": "graded", "reason": "", "notes": [], "scores": {"a": 1.0, "b": 1.0}}
    zero = {"status": "unanswered", "reason": "", "notes": [], "scores": {"a": 0.0}}
    assert selftest.verdict({"s": "full", "z": "zero"}, {"s": good, "z": zero}) == []
    half = {**good, "scores": {"a": 1.0, "b": 0.5}, "notes": ["cell 6 raised NameError"]}
    said = selftest.verdict({"s": "full", "z": "zero"}, {"s": half, "z": good})
    assert said[0] == "s scored 75 %, graded (expected 100 %, graded): cell 6 raised NameError"
    assert said[1].startswith("z scored 100 %, graded (expected 0 %, unanswered)")
    assert selftest.verdict({"x": "full"}, {}) == ["x: no result came back"]


def test_a_run_where_every_entry_of_an_assignment_is_zero_ends_with_a_warning():
    zero = {"assignment": "ex2", "status": "unanswered", "scores": {"ch2.gradient": 0.0}}
    some = {"assignment": "ex4", "status": "graded", "scores": {"ch4.gap": 1.0}}
    wrong = {"assignment": "ex4", "status": "graded", "scores": {"ch4.gap": 0.0}}
    said = selftest.all_zero([("a", zero), ("b", dict(zero)), ("c", some), ("d", wrong)])
    assert len(said) == 1 and said[0].startswith("warning: every one of the 2 entries of ex2 got 0")


# --------------------------------------------------------------------------- grades follow the key

def _edited_key(tmp_path: Path, monkeypatch) -> None:
    """A copy of the key whose ch2.whose_variance has another correct option (b) and another
    feedback text for option c, loaded as the registry (the run's processes fork from this one)."""
    copy = tmp_path / "key"
    shutil.copytree(key.HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    text = (copy / "ch2.toml").read_text(encoding="utf-8")
    start = text.index('id = "ch2.whose_variance"')
    end = text.find("[[exercise]]", start)
    part = text[start:end if end > 0 else len(text)]
    new = part.replace('correct = "a"', 'correct = "b"').replace(
        'c = "The logits are parameters here', 'c = "Logits are parameters in this model')
    assert new != part and new.count('correct = "b"') == 1
    (copy / "ch2.toml").write_text(text.replace(part, new), encoding="utf-8")
    monkeypatch.setattr(key, "HERE", copy)
    monkeypatch.setattr(registry, "EXERCISES", key.load())


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    """Chapter-2 notebooks: solved (option a), wrong (option b), another wrong one answering c;
    graded once with the key as shipped."""
    subs = tmp_path_factory.mktemp("semester")
    shutil.copy(FIX / "solved" / EX2, subs / "alice.md")
    shutil.copy(FIX / "wrong" / EX2, subs / "bob.md")
    (subs / "carol.md").write_text((FIX / "wrong" / EX2).read_text().replace(
        "answer = 'b'", "answer = 'c'").replace("whose = 'b'", "whose = 'c'"))
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=30, total_timeout=120, log=log.append)
    return subs, out, log


def test_a_key_change_regrades_exactly_the_changed_exercise_and_logs_it(semester, tmp_path, monkeypatch):
    subs, out, first = semester
    base = tmp_path / "run"
    shutil.copytree(out.parent, base)
    out = base / "grades.csv"
    before = _rows(out)
    assert any(line.startswith("self-test passed in ") for line in first)
    assert before["carol.md"]["ch2.whose_variance"] == "0.000" and before["alice.md"]["ch2.whose_variance"] == "1.000"
    _edited_key(tmp_path, monkeypatch)
    log = []
    start = time.perf_counter()
    grade_folder(subs, out, workers=2, cell_timeout=30, total_timeout=120, log=log.append, self_test=False)
    seconds = time.perf_counter() - start
    after = _rows(out)
    moved = {(n, c) for n in before for c in before[n] if before[n][c] != after[n][c]}
    assert moved == {("alice.md", "ch2.whose_variance"), ("bob.md", "ch2.whose_variance"),
                     ("alice.md", "total"), ("bob.md", "total"), ("alice.md", "percent"), ("bob.md", "percent")}
    assert after["bob.md"]["ch2.whose_variance"] == "1.000" and after["alice.md"]["ch2.whose_variance"] == "0.000"
    assert any("the answer key changed for ch2.whose_variance: 3 submissions graded again" in s for s in log)
    assert any("0 to grade" in s for s in log)   # no notebook ran again
    changes = _changes(out)
    assert {(c["submission"], c["exercise"], c["from"], c["to"]) for c in changes} == {
        ("alice.md", "ch2.whose_variance", "1.000", "0.000"), ("bob.md", "ch2.whose_variance", "0.000", "1.000")}
    assert all(c["why"] == "the answer key changed: ch2.whose_variance" and c["when"] for c in changes)
    feedback = "".join(p.read_text() for p in (base / "grades_feedback").glob("carol*.md"))
    assert "Logits are parameters in this model" in feedback   # the new feedback text reached carol
    state = json.loads(Outputs(out).state.read_text())
    assert state["alice.md"]["row"]["previous"]["why"] == "the answer key changed: ch2.whose_variance"
    assert seconds < 60, seconds
    # The same key again: nothing to do. --regrade: every notebook runs again, nothing moves.
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=30, total_timeout=120, log=log.append, self_test=False)
    assert any("3 already graded and unchanged, 0 to grade" in s for s in log)
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=30, total_timeout=120, log=log.append, self_test=False,
                 regrade=True)
    assert any("3 to grade" in s and "all of them" in s for s in log)
    assert _rows(out) == after and len(_changes(out)) == 2


# --------------------------------------------------------------------------- overrides that last

def test_an_override_lasts_across_reruns_and_a_resubmission_keeps_its_history(semester, tmp_path):
    subs0, out0, _ = semester
    subs, base = tmp_path / "subs", tmp_path / "run"
    shutil.copytree(subs0, subs)
    shutil.copytree(out0.parent, base)
    out = base / "grades.csv"
    ovr = tmp_path / "overrides.csv"
    ovr.write_text("submission,exercise,score,reason\nbob.md,ch2.gradient,0.5,"
                   "\"the sign is wrong but the structure is right (TA, Ana)\"\n", encoding="utf-8")
    for _ in range(2):   # applied on every run, never lost
        grade_folder(subs, out, workers=2, cell_timeout=30, total_timeout=120, log=[].append, self_test=False,
                     overrides_csv=ovr)
        row = _rows(out)["bob.md"]
        assert row["ch2.gradient"] == "0.500" and "override ch2.gradient: 0.000 -> 0.500" in row["reason"]
        assert "(TA, Ana)" in row["reason"]
    fb = "".join(p.read_text() for p in (base / "grades_feedback").glob("bob*.md"))
    assert "Changed by your instructor from 0% to 50%: the sign is wrong" in fb
    assert "Scores set by hand (overrides)" in (base / "grades_report.html").read_text()
    assert [(c["submission"], c["from"], c["to"], c["why"][:9]) for c in _changes(out)] == [
        ("bob.md", "0.000", "0.500", "override:")]
    # bob resubmits the solved notebook: the override stays, the history keeps the old result
    shutil.copy(FIX / "solved" / EX2, subs / "bob.md")
    grade_folder(subs, out, workers=2, cell_timeout=30, total_timeout=120, log=[].append, self_test=False,
                 overrides_csv=ovr)
    row = _rows(out)["bob.md"]
    assert row["ch2.gradient"] == "0.500" and row["ch2.hessian"] == "1.000"
    state = json.loads(Outputs(out).state.read_text())["bob.md"]
    assert state["row"]["previous"]["why"] == "resubmitted (its files changed)" and state["history"]
    assert state["row"]["previous"]["total"] < 4
    assert any(c["why"] == "resubmitted (its files changed)" and c["exercise"] == "ch2.hessian"
               for c in _changes(out))


@pytest.mark.parametrize("text, said", [
    ("submission,exercise,score,reason\nzed.md,ch2.gradient,1,ok\n", "line 2: unknown submission 'zed.md'"),
    ("submission,exercise,score,reason\nbob.md,ch2.nope,1,ok\n", "line 2: unknown exercise 'ch2.nope'"),
    ("submission,exercise,score,reason\nbob.md,ch2.gradient,1.5,ok\n", "line 2: the score 1.5 is outside 0..1"),
    ("submission,exercise,score,reason\nbob.md,ch2.gradient,-0,ok\nbob.md,ch2.gradient,nan,x\n",
     "line 3: the score nan is outside"),
    ("submission,exercise,score,reason\nbob.md,ch2.gradient,half,ok\n", "line 2: the score 'half' is not a number"),
    ("submission,exercise,score,reason\nbob.md,ch2.gradient,1,ok\n\nbob.md,ch2.gradient,0,no\n",
     "line 4: bob.md / ch2.gradient is overridden twice (also on line 2)"),
    ("submission,exercise,score\nbob.md,ch2.gradient,1\n", "line 1: the columns submission, exercise, score, "
     "reason are needed; missing reason"),
    ("submission,exercise,score,reason\nbob.md,ch2.gradient,1,\n", "line 2: no reason given"),
    ("submission,exercise,score,reason\nbob.md,ch2.gradient,1,fine, really\n", "line 2: more fields than columns"),
])
def test_a_bad_overrides_file_is_refused_naming_its_line(tmp_path, text, said):
    path = tmp_path / "o.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(overrides.BadOverrides) as err:
        overrides.read(path, ["bob.md", "alice.md"])
    assert said in str(err.value)


def test_an_overrides_file_not_in_utf8_is_refused_naming_its_line(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes("submission,exercise,score,reason\nbob.md,ch2.gradient,1,très bien\n".encode("latin-1"))
    with pytest.raises(overrides.BadOverrides, match="line 2: not UTF-8"):
        overrides.read(path, ["bob.md"])


def test_an_override_for_an_exercise_of_another_assignment_is_named_not_applied():
    row = {"assignment": "ex2", "status": "graded", "reason": "", "scores": {"ch2.gradient": 0.0}}
    got, problems = overrides.apply("bob.md", row, {("bob.md", "ch4.gap"): {"score": 1.0, "reason": "x", "line": 3}})
    assert got["scores"] == {"ch2.gradient": 0.0} and problems and "line 3" in problems[0]


# --------------------------------------------------------------------------- Ctrl-C

def test_ctrl_c_stops_promptly_with_one_line_and_no_traceback(tmp_path):
    """The 2 s goal is measured by bench/bench_grader.py --only interrupt; here: one line, no
    traceback, exit 130, and no wait for the pool (a hang guard, not a timing)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(6):
        shutil.copy(FIX / "solved" / EX2, subs / f"learner{i}.md")
    out = tmp_path / "grades.csv"
    proc = subprocess.Popen([PY, "-m", "softmaxbook", "grade", str(subs), "-o", str(out), "-j", "2"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and not list((tmp_path).glob("grades.csv.state.json")):
            time.sleep(0.05)   # past the self-test, into the class (the first row is written)
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)   # as a terminal's Ctrl-C: the whole foreground group
        start = time.perf_counter()
        stdout, stderr = proc.communicate(timeout=30)
        seconds = time.perf_counter() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    print(f"Ctrl-C: exited after {seconds:.2f} s")
    assert stderr.strip() == "stopped; rerun to resume", stderr
    assert proc.returncode == 130 and seconds < 15, seconds


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_an_overrides_file_that_is_a_pipe_a_device_or_huge_is_refused_without_hanging(tmp_path, kind):
    path = tmp_path / "o.csv"
    if kind == "fifo":
        os.mkfifo(path)            # no writer: opening it for reading must not wait for one
    elif kind == "device":
        path = Path("/dev/zero")   # endless
    else:
        path.write_bytes(b"submission,exercise,score,reason\n" + b"x" * (overrides.MAX_BYTES + 1))
    with pytest.raises(overrides.BadOverrides, match="not a regular file|too large"):
        overrides.read(path, ["bob.md"])
