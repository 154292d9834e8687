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
from procs import rows as state_rows
from softmaxbook.grader import EXERCISES
from softmaxbook.grader.batch import grade_folder
from softmaxbook.grader.feedback import feedback_name
from softmaxbook.grader.lms import read_roster

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


EX4 = ["ch4.gap", "ch4.bound", "ch4.limit", "ch4.softmin_formula", "ch4.softmin", "ch4.stable_lse"]
ROSTER = {"learner_solved": "1001", "learner_wrong": "1002", "ex4_solved.md": "1004", "ex4_wrong.md": "1005",
          "ex4_shipped.md": "1006"}


def _without_cell(text: str, ex_id: str) -> str:
    """The notebook with the code cell that checks ``ex_id`` deleted."""
    start = text.index(f'check("{ex_id}"')
    begin = text.rindex("```{code-cell}", 0, start)
    end = text.index("```", start) + 3
    return text[:begin] + text[end:]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One batch run over solved, wrong, shipped and hostile submissions: a mixed folder
    (learners' folders with all four notebooks, chapter-4 notebooks, broken ones), with a roster."""
    subs = tmp_path_factory.mktemp("submissions")
    shutil.copytree(FIX / "solved", subs / "learner_solved")
    shutil.copytree(FIX / "wrong", subs / "learner_wrong")
    for f in sorted((FIX / "hostile").iterdir()):
        shutil.copy(f, subs / f.name)
    ex4 = ROOT / "exercises" / "ex4_logsumexp.md"
    shutil.copy(FIX / "solved" / ex4.name, subs / "ex4_solved.md")
    shutil.copy(FIX / "wrong" / ex4.name, subs / "ex4_wrong.md")
    shutil.copy(ex4, subs / "ex4_shipped.md")
    (subs / "ex4_removed.md").write_text(_without_cell(ex4.read_text(), "ch4.gap"))
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    roster = out.with_name("roster.csv")
    roster.write_text("submission,learner_id,name,email\n" + "".join(
        f"{s},{i},Learner {i},{i}@example.org\n" for s, i in ROSTER.items()) + "absent.md,1099,Nobody,\n")
    log = []
    start = time.perf_counter()
    grade_folder(subs, out, workers=2, cell_timeout=4, total_timeout=25, log=log.append, roster=read_roster(roster))
    return subs, out, log, time.perf_counter() - start


def _book(out: Path, assignment: str) -> dict[str, dict]:
    return _rows(out.with_name(f"grades_{assignment}.csv"))


ASSIGNMENTS = ("ex1", "ex2", "ex3", "ex4")


def _all(out: Path) -> dict[str, dict]:
    """Every entry's row in its own assignment's gradebook (the overview's for the others)."""
    rows = _rows(out)
    for a in ASSIGNMENTS + ("course",):
        if out.with_name(f"grades_{a}.csv").exists():
            rows.update(_book(out, a))
    return rows


def test_a_mixed_folder_gets_one_gradebook_per_assignment(batch):
    _, out, _, _ = batch
    overview = _rows(out)
    header = next(csv.reader(open(out)))
    assert header == ["submission", "learner", "assignment", "status", "total", "max", "percent", "reason"]
    # A learner's folder of the four notebooks: one entry per assignment, in that assignment's gradebook.
    assert {n: r["assignment"] for n, r in overview.items() if r["assignment"] == "ex2"} == {
        "learner_solved/ex2": "ex2", "learner_wrong/ex2": "ex2", "edited_outputs.ipynb": "ex2",
        "tampered_check.md": "ex2"}
    ex4 = _book(out, "ex4")
    assert set(ex4) == {"ex4_solved.md", "ex4_wrong.md", "ex4_shipped.md", "ex4_removed.md", "loop.md",
                        "stubborn_loop.md", "crash_exit.md", "learner_solved/ex4", "learner_wrong/ex4"}
    assert next(csv.reader(open(out.with_name("grades_ex4.csv")))) == (
        ["submission", "learner", "assignment", "status"] + EX4 + ["total", "max", "percent", "reason"])
    assert set(_book(out, "ex1")) == {"learner_solved/ex1", "learner_wrong/ex1"}
    assert not out.with_name("grades_course.csv").exists()
    # Entries of no assignment are in the overview only, with their reason.
    assert overview["crash_kill.md"]["assignment"] == "" and overview["malformed.ipynb"]["max"] == "0"


def test_a_chapter_4_notebook_solved_correctly_is_100_percent(batch):
    _, out, _, _ = batch
    row = _book(out, "ex4")["ex4_solved.md"]
    assert row["status"] == "graded" and row["reason"] == ""
    assert (row["total"], row["max"], row["percent"]) == ("6.000", "6", "100.0")
    feedback = (out.parent / "grades_feedback" / feedback_name("ex4_solved.md")).read_text()
    assert "Score: 6.00 / 6 (100 %)" in feedback
    assert sorted(line[3:].split(" — ")[0] for line in feedback.splitlines() if line.startswith("## ")) == sorted(EX4)


def test_an_unanswered_notebook_is_unanswered_with_0(batch):
    _, out, _, _ = batch
    row = _book(out, "ex4")["ex4_shipped.md"]
    assert row["status"] == "unanswered" and row["total"] == "0.000" and row["max"] == "6"
    assert "returned as shipped" in row["reason"]


def test_each_broken_submission_has_its_status_and_a_reason_naming_the_cell(batch):
    _, out, _, _ = batch
    rows = _all(out)
    loop = rows["loop.md"]
    assert loop["status"] == "timed out" and "cell 3 ran past the 4 s limit per cell" in loop["reason"]
    assert float(loop["ch4.limit"]) == 1.0            # the answer after the interrupted cell counts
    stubborn = rows["stubborn_loop.md"]
    assert stubborn["status"] == "timed out"
    assert "cell 3 was still running at the 25 s limit for the whole submission" in stubborn["reason"]
    assert float(stubborn["ch4.limit"]) == 1.0        # checked before it
    crash = rows["crash_exit.md"]
    assert crash["status"] == "crashed" and "kernel died in cell 2" in crash["reason"]
    assert float(crash["ch4.limit"]) == 1.0
    assert rows["crash_kill.md"]["status"] == "crashed" and "kernel died in cell 2" in rows["crash_kill.md"]["reason"]
    assert rows["malformed.ipynb"]["status"] == "malformed"
    assert "malformed notebook: NotJSONError" in rows["malformed.ipynb"]["reason"]
    removed = rows["ex4_removed.md"]
    assert removed["status"] == "answers removed" and removed["total"] == "0.000"
    assert "no check(...) call for ch4.gap (cell 4 as shipped)" in removed["reason"]
    assert rows["missing_cells.ipynb"]["status"] == "answers removed"
    wrong_ids = rows["wrong_ids.md"]
    assert wrong_ids["status"] == "answers removed"
    assert "unknown exercise ids: ch2.hesian (cell 3), ch9.nothing (cell 2)" in wrong_ids["reason"]


def test_solved_copies_score_100_percent(batch):
    _, out, _, _ = batch
    for a in ASSIGNMENTS:
        row = _book(out, a)[f"learner_solved/{a}"]
        assert row["status"] == "graded" and row["percent"] == "100.0" and row["reason"] == "", a
        assert row["learner"] == "1001" and all(float(row[i]) == 1.0 for i in EXERCISES if i in row)
    assert sum(int(_book(out, a)[f"learner_solved/{a}"]["max"]) for a in ASSIGNMENTS) == len(EXERCISES)


def test_wrong_copies_score_less_and_get_named_feedback(batch):
    _, out, _, _ = batch
    rows = [_book(out, a)[f"learner_wrong/{a}"] for a in ASSIGNMENTS]
    assert sum(float(r["total"]) for r in rows) / len(EXERCISES) < 0.25
    assert all(float(r[i]) < 1 for r in rows for i in EXERCISES if i in r)
    feedback = "".join((out.parent / "grades_feedback" / feedback_name(f"learner_wrong/{a}")).read_text()
                       for a in ASSIGNMENTS)
    for named in ("off-diagonal entries are not 0", "costs 3 bits per symbol: worse than 2",
                  "λ → −∞ gives min(x)", "not a soft minimum of anything", "partition function",
                  "exp overflows", "soft maximum"):
        assert named in feedback, named


def test_one_row_per_submission(batch):
    subs, out, log, _ = batch
    names = {f"{learner}/{a}" for learner in ("learner_solved", "learner_wrong") for a in ASSIGNMENTS} | {"ex4_solved.md", "ex4_wrong.md", "ex4_shipped.md", "ex4_removed.md"}
    assert set(_rows(out)) == names | {f.name for f in (FIX / "hostile").iterdir()}
    assert any(line.startswith("[") and "%" in line for line in log)  # progress lines


def test_tampering_gains_nothing(batch):
    _, out, _, _ = batch
    rows = _all(out)
    wrong = rows["learner_wrong/ex2"]
    tampered = rows["tampered_check.md"]
    # Patched package: the wrong Hessian still scores as in the honest wrong copy.
    assert tampered["ch2.hessian"] == wrong["ch2.hessian"]
    # Forged verdicts and a fake check that records nothing count for nothing.
    assert float(tampered["ch2.covariance"]) == 0.0 and float(tampered["total"]) < 1
    # Outputs edited to say "correct — score 100%" are ignored: graded like the wrong copy.
    edited = rows["edited_outputs.ipynb"]
    for ex_id in EXERCISES:
        if ex_id.startswith("ch2."):
            assert edited[ex_id] == wrong[ex_id], ex_id
    assert float(edited["percent"]) < 25


def test_class_report_counts_misconceptions(batch):
    from softmaxbook.grader.report import OTHER, declared
    _, out, _, _ = batch
    with open(out.with_name("grades_report.csv"), newline="") as f:
        lines = list(csv.DictReader(f))
    by = {}
    for line in lines:
        by.setdefault(line["exercise"], {})[line["misconception"]] = line
    gap = by["ch4.gap"]
    # ch4 is answered by 2 learners' folders and 7 ch4 notebooks; right in learner_solved and ex4_solved.
    first = next(iter(gap.values()))
    assert (first["submissions"], first["right"], first["share_right"]) == ("9", "2", "0.222")
    # The wrong copies (learner_wrong, ex4_wrong.md) give the key's first wrong answer: its misconception, twice.
    assert gap["log 2 is the largest gap (at d = 0); the gap shrinks as d grows."]["count"] == "2"
    for ex_id in EX4:
        named = declared(ex_id)[0]
        assert by[ex_id][named]["count"] == "2", ex_id
        counts = [int(v["count"]) for v in by[ex_id].values()]
        assert counts == sorted(counts, reverse=True), ex_id        # most frequent first
    assert all(k == OTHER or k in declared(e) for e, d in by.items() for k in d if k)
    page = out.with_name("grades_report.html").read_text()
    assert "<img src='data:image/png;base64," in page and "alt='Share of submissions right per exercise: " in page
    assert "<th scope='col'>Exercise</th>" in page and "<th scope='row'>ch4.gap" in page
    assert "log 2 is the largest gap (at d = 0); the gap shrinks as d grows. — <strong>2</strong>" in page


def test_roster_export_round_trips(batch):
    _, out, _, _ = batch
    books = {a: _book(out, a) for a in ASSIGNMENTS}
    for a, book in books.items():
        with open(out.with_name(f"grades_{a}_canvas.csv"), newline="") as f:
            canvas = list(csv.DictReader(f))
        with open(out.with_name(f"grades_{a}_moodle.csv"), newline="") as f:
            moodle = list(csv.DictReader(f))
        column = list(canvas[0])[-1]
        possible = float(book[f"learner_solved/{a}"]["max"])
        assert (canvas[0]["Student"], canvas[0]["ID"], canvas[0][column]) == ("    Points Possible", "", f"{possible:.2f}")
        canvas = canvas[1:]
        assert list(canvas[0])[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
        assert list(moodle[0])[:2] == ["ID number", "Email address"] and f"({a})" in column
        expected = {ROSTER[n.partition("/")[0]]: f"{float(r['total']):.2f}" for n, r in book.items()
                    if n.partition("/")[0] in ROSTER}
        assert len([r for r in canvas if r["ID"] == "1001"]) == 1          # one line per learner
        assert {r["ID"]: r[column] for r in canvas if r[column]} == expected
        assert {r["ID number"]: r[column] for r in moodle if r[column]} == expected
        assert {r["ID"]: r[column] for r in canvas}["1099"] == ""     # no submission: left empty


def test_roster_errors_are_clear(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("name,id\nann,1\n")
    with pytest.raises(ValueError, match="no 'submission' column"):
        read_roster(bad)
    bad.write_text("submission,learner_id\nann.md,1\nann.md,2\n")
    with pytest.raises(ValueError, match="line 3: submission 'ann.md' is listed twice"):
        read_roster(bad)
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "grade", str(tmp_path), "--roster", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "listed twice" in out.stderr


def test_runner_document_with_a_forged_stop_is_refused():
    from softmaxbook.grader.running import validate_document
    from softmaxbook.grader.runner import FORMAT
    doc = {"format": FORMAT, "answers": {}, "notes": [], "reason": "", "checks": [["ch4.gap", 3]],
           "stops": [{"kind": "crash", "cell": 2, "limit": None}]}
    assert validate_document(json.dumps(doc).encode())["stops"][0]["cell"] == 2
    for stops in ([{"kind": "reboot", "cell": 2, "limit": None}], [{"kind": "crash", "cell": "2", "limit": None}],
                  [{"kind": "crash", "cell": 2}], "x"):
        with pytest.raises(ValueError, match="stop"):
            validate_document(json.dumps({**doc, "stops": stops}).encode())
    with pytest.raises(ValueError, match="check"):
        validate_document(json.dumps({**doc, "checks": [["ch4.gap", -1]]}).encode())


def test_rerun_skips_unchanged_submissions_and_regrades_changed_ones(batch):
    subs, out, _, _ = batch
    books = {p.name: p.read_text() for p in out.parent.glob("grades*.csv")}
    log = []
    start = time.perf_counter()
    roster = read_roster(out.with_name("roster.csv"))
    grade_folder(subs, out, workers=2, cell_timeout=4, total_timeout=25, log=log.append, roster=roster)
    assert time.perf_counter() - start < 10
    assert "21 already graded and unchanged, 0 to grade" in log[0]
    assert out.read_text() == books["grades.csv"] and _book(out, "ex4") == _rows(out.with_name("grades_ex4.csv"))
    # Change one submission: only it is graded again.
    target = subs / "wrong_ids.md"
    target.write_text(target.read_text().replace('check("ch9.nothing", 1)', 'check("ch4.limit", "a")'))
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=4, total_timeout=25, log=log.append, roster=roster)
    assert "20 already graded and unchanged, 1 to grade" in log[0]
    assert float(_book(out, "ex4")["wrong_ids.md"]["ch4.limit"]) == 1.0


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
            if state.exists() and state_rows(state) >= 1:
                break
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    graded_before_kill = state_rows(state)
    parts = [n for n in expected if n.partition("/")[0] in names]     # learner_wrong: one entry per assignment
    assert 1 <= graded_before_kill < len(parts)
    # The partial gradebook is complete CSV with every row the state lists (and perhaps the next).
    assert graded_before_kill <= len(_rows(gradebook)) <= graded_before_kill + 1
    out2 = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"{graded_before_kill} already graded and unchanged" in out2.stdout
    rows = _rows(gradebook)
    assert set(rows) == set(parts)
    for name in parts:
        assert rows[name] == {k: v for k, v in expected[name].items() if k != "learner"}, name   # no roster here


def test_gradebook_neutralises_spreadsheet_formulas_in_names_and_reasons():
    from softmaxbook.grader.gradebook import csv_text
    row = {"scores": {}, "status": "error", "reason": "=cmd|' /C calc'!A0"}
    text = csv_text([("@SUM(A1).ipynb", row)])
    record = list(csv.reader(text.splitlines()))[1]
    assert record[0] == "'@SUM(A1).ipynb" and record[-1].startswith("'=")


def test_cli_refuses_a_missing_folder(tmp_path):
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "grade", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "is not a folder" in out.stderr
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "grades"], capture_output=True, text=True)
    assert out.returncode == 2 and "invalid choice: 'grades'" in out.stderr
