"""Exercise notebooks as shipped, solved and wrong copies, and the batch grader against
hostile submissions (loops, crashes, malformed files, tampering, a killed run)."""

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
from nbrun import execute
from softmaxbook.grader import EXERCISES
from softmaxbook.grader.batch import feedback_name, grade_folder

FIX = ROOT / "tests" / "fixtures"
EXERCISE_NOTEBOOKS = sorted((ROOT / "exercises").glob("ex*.md"))
sys.path.insert(0, str(FIX))
import submissions  # noqa: E402


def _rows(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=lambda p: p.stem)
def test_shipped_notebook_says_not_answered_yet_for_every_task(path, tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))
    nb = execute(path)
    ids = submissions.answer_ids(path.read_text())
    assert ids and set(ids) <= set(EXERCISES)
    outputs = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not any(o.output_type == "error" for o in cell.outputs)
        found = submissions._ID.findall(cell.source)
        if found:
            outputs[found[0]] = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
    assert set(outputs) == set(ids)
    assert all("not answered yet" in text for text in outputs.values()), outputs


def test_every_exercise_has_an_answer_cell_in_some_notebook():
    ids = [i for nb in EXERCISE_NOTEBOOKS for i in submissions.answer_ids(nb.read_text())]
    assert sorted(ids) == sorted(EXERCISES)


def test_committed_fixtures_match_the_generator():
    for kind, answers in (("solved", submissions.SOLVED), ("wrong", submissions.WRONG)):
        for nb in EXERCISE_NOTEBOOKS:
            assert (FIX / kind / nb.name).read_text() == submissions.render(nb.read_text(), answers), (kind, nb.name)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One batch run over solved, wrong and hostile submissions."""
    subs = tmp_path_factory.mktemp("submissions")
    shutil.copytree(FIX / "solved", subs / "learner_solved")
    shutil.copytree(FIX / "wrong", subs / "learner_wrong")
    for f in sorted((FIX / "hostile").iterdir()):
        shutil.copy(f, subs / f.name)
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    log = []
    start = time.perf_counter()
    grade_folder(subs, out, workers=2, cell_timeout=4, total_timeout=25, log=log.append)
    return subs, out, log, time.perf_counter() - start


def test_solved_copies_score_100_percent(batch):
    _, out, _, _ = batch
    row = _rows(out)["learner_solved"]
    assert row["status"] == "graded" and row["percent"] == "100.0" and row["reason"] == ""
    assert all(float(row[i]) == 1.0 for i in EXERCISES)


def test_wrong_copies_score_less_and_get_named_feedback(batch):
    _, out, _, _ = batch
    row = _rows(out)["learner_wrong"]
    assert float(row["percent"]) < 25
    assert all(float(row[i]) < 1 for i in EXERCISES)
    feedback = (out.parent / "grades_feedback" / feedback_name("learner_wrong")).read_text()
    for named in ("off-diagonal entries should be −p_i p_j", "costs 3 bits per symbol: worse than 2",
                  "λ → −∞ gives min(x)", "not a soft minimum of anything", "Wrong index", "partition function",
                  "exp overflows", "soft *max*", "2n bits"):
        assert named in feedback, named


def test_one_row_per_submission_with_a_reason_for_each_broken_one(batch):
    subs, out, log, _ = batch
    rows = _rows(out)
    assert set(rows) == {"learner_solved", "learner_wrong"} | {f.name for f in (FIX / "hostile").iterdir()}
    header = next(csv.reader(open(out)))
    assert header[:2] == ["submission", "status"] and header[2:2 + len(EXERCISES)] == list(EXERCISES)
    assert header[-4:] == ["total", "max", "percent", "reason"]
    assert "malformed notebook" in rows["malformed.ipynb"]["reason"]
    assert "kernel died" in rows["crash_exit.md"]["reason"]
    assert "kernel died" in rows["crash_kill.md"]["reason"]
    assert "time limit for the whole notebook" in rows["stubborn_loop.md"]["reason"]
    # Answers checked before the crash or the endless cell are kept (journalled by check).
    assert float(rows["crash_exit.md"]["ch4.limit"]) == 1.0 and rows["crash_exit.md"]["status"] == "graded"
    assert float(rows["stubborn_loop.md"]["ch4.limit"]) == 1.0
    assert rows["crash_kill.md"]["status"] == "error"
    assert "no graded answer found" in rows["missing_cells.ipynb"]["reason"]
    assert "unknown exercise ids: ch2.hesian, ch9.nothing" in rows["wrong_ids.md"]["reason"]
    # A top-level loop is interrupted; the answer after it still counts.
    assert float(rows["loop.md"]["ch4.limit"]) == 1.0
    assert any(line.startswith("[") and "%" in line for line in log)  # progress lines


def test_tampering_gains_nothing(batch):
    _, out, _, _ = batch
    rows = _rows(out)
    wrong = rows["learner_wrong"]
    tampered = rows["tampered_check.md"]
    # Patched package: the wrong (diagonal-only) Hessian still scores as in the honest wrong copy.
    assert tampered["ch2.hessian"] == wrong["ch2.hessian"]
    # Forged verdicts and a fake check that records nothing count for nothing.
    for ex_id in ("ch4.limit", "ch3.huffman_rate", "ch4.gap", "ch2.covariance"):
        assert float(tampered[ex_id]) == 0.0, ex_id
    assert float(tampered["total"]) < 1
    # Outputs edited to say "correct — score 100%" are ignored: graded like the wrong copy.
    edited = rows["edited_outputs.ipynb"]
    for ex_id in EXERCISES:
        if ex_id.startswith("ch2."):
            assert edited[ex_id] == wrong[ex_id], ex_id
    assert float(edited["percent"]) < 5


def test_rerun_skips_unchanged_submissions_and_regrades_changed_ones(batch):
    subs, out, _, _ = batch
    before = out.read_text()
    log = []
    start = time.perf_counter()
    grade_folder(subs, out, workers=2, cell_timeout=4, total_timeout=25, log=log.append)
    assert time.perf_counter() - start < 3
    assert "11 already graded and unchanged, 0 to grade" in log[0]
    assert out.read_text() == before
    # Change one submission: only it is graded again.
    target = subs / "wrong_ids.md"
    target.write_text(target.read_text().replace('check("ch9.nothing", 1)', 'check("ch4.limit", "a")'))
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=4, total_timeout=25, log=log.append)
    assert "10 already graded and unchanged, 1 to grade" in log[0]
    assert float(_rows(out)["wrong_ids.md"]["ch4.limit"]) == 1.0


def test_a_killed_batch_resumes_with_nothing_lost(batch, tmp_path):
    subs, out, _, _ = batch
    expected = _rows(out)
    names = ["learner_wrong", "missing_cells.ipynb", "crash_exit.md", "tampered_check.md"]
    mine = tmp_path / "subs"
    mine.mkdir()
    for name in names:
        src = subs / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, mine / name)
    gradebook = tmp_path / "grades.csv"
    state = tmp_path / "grades.csv.state.json"
    cmd = [sys.executable, "-m", "softmaxbook", "grade", str(mine), "-o", str(gradebook),
           "--cell-timeout", "4", "--total-timeout", "25"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if state.exists() and len(json.loads(state.read_text() or "{}")) >= 1:
                break
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    graded_before_kill = len(json.loads(state.read_text()))
    assert 1 <= graded_before_kill < len(names)
    assert len(_rows(gradebook)) == graded_before_kill      # the partial gradebook is complete CSV
    out2 = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"{graded_before_kill} already graded and unchanged" in out2.stdout
    rows = _rows(gradebook)
    assert set(rows) == set(names)
    for name in names:
        assert {k: v for k, v in rows[name].items()} == expected[name], name


def test_gradebook_neutralises_spreadsheet_formulas_in_names_and_reasons():
    from softmaxbook.grader.batch import _csv_text
    row = {"scores": {}, "status": "error", "reason": "=cmd|' /C calc'!A0"}
    text = _csv_text([("@SUM(A1).ipynb", row)])
    record = list(csv.reader(text.splitlines()))[1]
    assert record[0] == "'@SUM(A1).ipynb" and record[-1].startswith("'=")


def test_cli_refuses_a_missing_folder(tmp_path):
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "grade", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "is not a folder" in out.stderr
