"""The batch grader against a hostile learner who has read its source (issue 11, attacks
1, 2, 3, 7 and the batch parts of 9): forged results, background processes, killing the
grader, hostile folder entries, colliding names, flooding outputs.

One ``python -m softmaxbook grade`` run over the attack notebooks of
``tests/fixtures/attacks`` and honest learners whose names collide; every test reads it.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from procs import running_with
from softmaxbook.grader import EXERCISES
from softmaxbook.grader.feedback import feedback_name
from softmaxbook.grader.gradebook import csv_text, spreadsheet_cell
from softmaxbook.grader.submissions import display

ATTACKS = ROOT / "tests" / "fixtures" / "attacks"
MARKER = "softmaxbook-attack-marker"
HOST_FILES = [Path("/tmp/softmaxbook-attack1-pwned"), Path("/tmp/softmaxbook-attack1-ran-here")]
HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
    jupytext_version: 1.19.6
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""
RIGHT, WRONG = ("5/3", "c"), ("3", "a")
BAD_NAME = os.fsdecode(b"b\xffob.md")   # not UTF-8


def honest(answers) -> str:
    rate, code = answers
    return (HEADER + "\n```{code-cell} ipython3\nfrom softmaxbook.grader import check\n\n"
            f"check(\"ch3.huffman_rate\", {rate!r})\ncheck(\"ch3.better_code\", {code!r})\n```\n")


def _rows(text: str) -> dict[str, dict]:
    return {r["submission"]: r for r in csv.DictReader(text.splitlines())}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacked")
    subs = base / "subs"
    subs.mkdir()
    for f in ATTACKS.iterdir():
        shutil.copy(f, subs / f.name)
    # Honest learners whose names collide once made into file names.
    (subs / "alice.md").write_text(honest(RIGHT))
    (subs / "alice").mkdir()
    (subs / "alice" / "ex3.md").write_text(honest(WRONG))
    (subs / "a lice.md").write_text(honest(RIGHT))
    (subs / "a_lice.md").write_text(honest(WRONG))
    (subs / BAD_NAME).write_text(honest(RIGHT))
    (subs / "\tcarol.md").write_text(honest(RIGHT))
    (subs / "=dave.md").write_text(honest(RIGHT))
    # Entries that must not be read or followed (attack 7).
    os.symlink("/proc/self/mem", subs / "mem.md")
    os.symlink("/etc/passwd", subs / "outside.md")
    (subs / "mallory").mkdir()
    os.symlink("../alice.md", subs / "mallory" / "copied.md")
    os.symlink("alice", subs / "alice_link")
    os.mkfifo(subs / "fifo.md")
    with open(subs / "huge.ipynb", "wb") as f:
        f.truncate(6 * 2**30)   # sparse: 6 GB that were never written
    for p in HOST_FILES:
        p.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "softmaxbook", "grade", "subs", "-o", "grades.csv",
                           "--cell-timeout", "10", "--total-timeout", "40"],
                          cwd=base, capture_output=True, text=True, timeout=900, errors="replace")
    took = time.perf_counter() - start
    gradebook = (base / "grades.csv").read_text()
    state = (base / "grades.csv.state.json").read_text()
    left = running_with(MARKER)
    time.sleep(2)   # what a process left behind would do once the grader has exited
    return {"proc": proc, "base": base, "took": took, "gradebook": gradebook, "state": state, "left": left,
            "rows": _rows(gradebook)}


def test_grade_finishes_with_one_row_per_entry(attacked):
    assert attacked["proc"].returncode == 0, attacked["proc"].stderr[-2000:]
    rows = attacked["rows"]
    expected = {f.name for f in ATTACKS.iterdir()} | {
        "alice.md", "alice", "a lice.md", "a_lice.md", "b\\xffob.md", "\\tcarol.md", "'=dave.md",
        "mem.md", "outside.md", "mallory", "alice_link", "fifo.md", "huge.ipynb"}
    assert set(rows) == expected
    assert attacked["took"] < 240


def test_no_process_is_left_running_and_nothing_changes_after_exit(attacked):
    assert attacked["left"] == [] and running_with(MARKER) == []
    base = attacked["base"]
    assert (base / "grades.csv").read_text() == attacked["gradebook"]
    assert (base / "grades.csv.state.json").read_text() == attacked["state"]
    # The submissions were not sabotaged either: Alice's notebook is as she wrote it.
    assert (base / "subs" / "alice.md").read_text() == honest(RIGHT)


def test_honest_learners_get_exactly_their_scores(attacked):
    rows = attacked["rows"]
    for name in ("alice.md", "a lice.md", "b\\xffob.md", "\\tcarol.md", "'=dave.md"):
        assert rows[name]["status"] == "graded", (name, rows[name]["reason"])
        assert float(rows[name]["ch3.huffman_rate"]) == 1.0 and float(rows[name]["ch3.better_code"]) == 1.0, name
        assert rows[name]["total"] == "2.000", name
    for name in ("alice", "a_lice.md"):
        assert rows[name]["status"] == "graded" and rows[name]["total"] == "0.000", name


def test_attack1_forged_results_gain_nothing_and_run_nothing_in_the_grader(attacked):
    row = attacked["rows"]["attack1_forged_results.md"]
    # The forged report is only a claim: its answers are graded again (a wrong one stays wrong,
    # a pickle is never loaded here) and the forged "verdict"/"score" keys mean nothing.
    columns = [k for k in row if k in EXERCISES]    # the folder's one assignment (ex3): its exercises only
    assert sorted(columns) == sorted(i for i in EXERCISES if i.startswith("ch3."))
    for ex_id in columns:
        assert float(row[ex_id]) == 0.0, ex_id
    assert row["total"] == "0.000"
    assert not any(p.exists() for p in HOST_FILES)
    assert attacked["rows"]["alice.md"]["total"] == "2.000"


def test_attack2_background_process_finds_no_grader_and_dies_with_the_jail(attacked):
    base = attacked["base"]
    row = attacked["rows"]["attack2_background.md"]
    assert float(row["ch3.huffman_rate"]) == 1.0 and row["total"] == "1.000"
    fb = (base / "grades_feedback" / feedback_name("attack2_background.md")).read_text()
    assert "raised Found_0_graders" in fb          # the /proc walk saw no grader at all
    assert attacked["left"] == []


def test_attack3_killing_the_grader_is_impossible(attacked):
    base = attacked["base"]
    rows = attacked["rows"]
    fb = (base / "grades_feedback" / feedback_name("attack3_kill_grader.md")).read_text()
    assert "raised Killed_0_graders" in fb
    assert float(rows["attack3_kill_grader.md"]["ch3.better_code"]) == 1.0
    # kill(-1, SIGKILL) reaches only the jail, where it cannot even stop the runner (the jail's
    # init): the answer checked before counts, nothing else changes.
    row = rows["attack3_kill_all.md"]
    assert row["status"] == "graded" and float(row["ch3.better_code"]) == 1.0 and row["total"] == "1.000"


def test_attack7_entries_that_are_not_read_get_a_reason(attacked):
    rows = attacked["rows"]
    for name in ("mem.md", "outside.md", "alice_link"):
        assert rows[name]["status"] == "skipped" and "symbolic link (not followed)" in rows[name]["reason"], name
    assert rows["fifo.md"]["status"] == "skipped" and "special file" in rows["fifo.md"]["reason"]
    assert rows["huge.ipynb"]["status"] == "error" and "file too large (6442450944 bytes" in rows["huge.ipynb"]["reason"]
    # Mallory's link to Alice's notebook is not followed: no copy of Alice's score.
    assert rows["mallory"]["status"] == "skipped" and rows["mallory"]["total"] == "0.000"
    assert "copied.md skipped: a symbolic link" in rows["mallory"]["reason"]
    assert "skipped" in attacked["proc"].stdout


def test_attack9_feedback_files_never_collide(attacked):
    fb_dir = attacked["base"] / "grades_feedback"
    names = ["alice.md", "alice", "a lice.md", "a_lice.md", BAD_NAME, "\tcarol.md", "=dave.md"]
    files = [feedback_name(n) for n in names]
    assert len(set(files)) == len(files)
    texts = {n: (fb_dir / f).read_text() for n, f in zip(names, files)}
    assert "Score: 2.00" in texts["alice.md"] and "Score: 0.00" in texts["alice"]
    assert "Score: 2.00" in texts["a lice.md"] and "Score: 0.00" in texts["a_lice.md"]
    assert texts[BAD_NAME].startswith("# Feedback for b\\xffob.md")


def test_attack9_output_flood_is_capped_and_the_answer_still_counts(attacked):
    row = attacked["rows"]["attack9_flood.md"]
    assert row["status"] == "graded" and float(row["ch3.huffman_rate"]) == 1.0
    fb = (attacked["base"] / "grades_feedback" / feedback_name("attack9_flood.md")).read_text()
    assert "outputs beyond" in fb and "were dropped" in fb


def test_attack9_gradebook_cells_cannot_start_a_formula():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_cell(text) == "'" + text
    assert spreadsheet_cell("alice") == "alice"
    assert display("\tcarol\r.md") == "\\tcarol\\r.md" and display(BAD_NAME) == "b\\xffob.md"
    row = {"scores": {}, "status": "error", "reason": "\t=cmd"}
    record = next(csv.reader(csv_text([("\r@x.md", row)]).splitlines()[1:]))
    assert record[0] == "\\r@x.md" and record[-1] == "'\t=cmd"


def test_grade_refuses_to_run_without_bubblewrap(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "alice.md").write_text(honest(RIGHT))
    env = {**os.environ, "PATH": str(tmp_path)}   # no bwrap on the PATH
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "grade", "subs"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and not (tmp_path / "grades.csv").exists()
    assert "apt-get install bubblewrap" in out.stderr and "--no-sandbox" in out.stderr
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "grade", "subs", "--no-sandbox",
                          "--cell-timeout", "10", "--total-timeout", "40"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "NO SANDBOX" in out.stdout
    assert _rows((tmp_path / "grades.csv").read_text())["alice.md"]["total"] == "2.000"


def test_hidden_entries_get_a_row_and_the_graders_own_outputs_none(tmp_path):
    from softmaxbook.grader.submissions import find_submissions
    (tmp_path / ".alice.md").write_text(honest(RIGHT))
    for name in ("grades.csv", "grades.csv.state.json", ".grades.csv.x1.tmp"):
        (tmp_path / name).write_text("")
    (tmp_path / "grades_feedback").mkdir()
    (tmp_path / "grades_feedback" / "bob-12345678.md").write_text("# Feedback")
    units = find_submissions(tmp_path, exclude=[tmp_path / "grades.csv", tmp_path / "grades.csv.state.json",
                                                 tmp_path / "grades_feedback"])
    assert [(u.name, u.problem) for u in units] == [(".alice.md", "a hidden entry (its name starts with a dot)")]


def _stuck_grading(paths, *args):
    """Stands in for grade_submission in the pool's workers: blocks on one submission."""
    if Path(paths[0]).name == "stuck.md":
        time.sleep(3600)
    return {"scores": {i: 1.0 for i in EXERCISES}, "feedback": {}, "notes": [], "status": "graded",
            "reason": "", "seconds": 0.0}


def test_a_worker_stuck_past_every_deadline_is_stopped_and_the_batch_finishes(tmp_path, monkeypatch):
    from softmaxbook.grader import batch
    monkeypatch.setattr(batch, "grade_submission", _stuck_grading)   # the pool's workers are forked
    monkeypatch.setattr(batch, "STARTUP_MARGIN", 0.0)
    monkeypatch.setattr(batch, "GRADING_BUDGET", 0.5)
    monkeypatch.setattr(batch, "ROUND_SLACK", 0.5)
    (tmp_path / "subs").mkdir()
    for name in ("fine.md", "stuck.md"):
        (tmp_path / "subs" / name).write_text(honest(RIGHT))
    start = time.monotonic()
    rows = dict(batch.grade_folder(tmp_path / "subs", tmp_path / "grades.csv", total_timeout=0.5, log=lambda s: None))
    assert time.monotonic() - start < 30
    assert rows["fine.md"]["status"] == "graded" and sum(rows["fine.md"]["scores"].values()) == len(EXERCISES)
    assert rows["stuck.md"]["status"] == "error" and "was stopped" in rows["stuck.md"]["reason"]
    assert set(_rows((tmp_path / "grades.csv").read_text())) == {"fine.md", "stuck.md"}
