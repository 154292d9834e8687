"""An instructor's semester (issue 26): identities from the LMS, due dates and late penalties,
points in the key, a learner folder of several assignments. Each starts from the failure as
reported: a Canvas-named folder with a late submission and an extension; a learner folder with
two assignments (once one "course" row blaming exercises the learner never had); a learner with
two notebooks in the roster (once two lines in each export, one of them blank)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from conftest import ROOT
from softmaxbook.grader import key, registry
from softmaxbook.grader.assignments import exercise_ids
from softmaxbook.grader.batch import grade_folder
from softmaxbook.grader.feedback import feedback_text
from softmaxbook.grader.gradebook import csv_text, make_row, total
from softmaxbook.grader.grading import by_assignment, grade_answers
from softmaxbook.grader.late import lateness, parse_due, parse_policy, parse_time
from softmaxbook.grader.lms import Conflict, canvas_name, lms_files, read_roster, write_exports
from softmaxbook.grader.submissions import find_submissions

FIX = ROOT / "tests" / "fixtures"
EX4 = exercise_ids("ex4")
DUE = "2026-03-01T23:59+01:00"


def _csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _row(answers: dict, assignment="ex4"):
    results, _ = grade_answers({k: {"t": "text", "v": v} for k, v in answers.items()}, exercise_ids(assignment))
    return make_row("graded", "", assignment, results)


# --------------------------------------------------------------------------- due date and late policy

@pytest.mark.parametrize("text, message", [
    ("2026-03-01T23:59", "'2026-03-01T23:59' has no time zone: add one, e.g. 2026-03-01T23:59+01:00"),
    ("tomorrow", "'tomorrow' is not an ISO 8601 date and time"),
    ("2026-02-30T10:00Z", "is not an ISO 8601 date and time"),
])
def test_a_due_date_without_a_zone_or_unreadable_is_refused(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_due(text)


@pytest.mark.parametrize("text, message", [
    ("", "--late-penalty is empty"),
    ("10%/week", "'10%/week': the rate is per day or per hour"),
    ("150%/day", "'150%/day': '150%' is not a percentage above 0 and at most 100"),
    ("10%/day,max=lots", "'max=lots': 'lots' is not a percentage"),
    ("10%/day,grace=soon", "'grace=soon': 'soon' is not a duration above 0"),
    ("10%/day,fine=5", "unknown part 'fine=5'"),
    ("10%/day,5%/hour", "'5%/hour': a rate is given twice"),
    ("max=50%", "takes nothing off"),
    ("zero-after=1h,grace=2h", "zero-after must be longer than grace"),
])
def test_a_bad_late_policy_is_refused_naming_the_bad_part(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_policy(text)


@pytest.mark.parametrize("policy, submitted, extension, penalty", [
    ("10%/day,max=50%", "2026-03-02T00:00+01:00", 0, 0.1),         # one minute late: one started day
    ("10%/day,max=50%", "2026-03-03T01:59+01:00", 0, 0.2),         # 26 h: two started days
    ("10%/day,max=50%", "2026-03-12T00:00+01:00", 0, 0.5),         # capped
    ("10%/day,max=50%", "2026-03-03T01:59+01:00", 48, None),       # inside the extension: not late
    ("10%/day", "2026-03-01T23:59Z", 0, 0.1),                      # another zone: an hour late
    ("zero-after=2h", "2026-03-02T01:00+01:00", 0, 0.0),           # late, within the window
    ("zero-after=2h", "2026-03-02T02:00+01:00", 0, 1.0),
    ("5%/hour,grace=15m", "2026-03-02T00:10+01:00", 0, 0.0),
    ("5%/hour,grace=15m", "2026-03-02T01:10+01:00", 0, 0.1),
])
def test_the_late_policy_takes_the_share_it_states(policy, submitted, extension, penalty):
    late, note = lateness(parse_due(DUE), parse_policy(policy), parse_time(submitted), None, extension)
    assert note == ""
    assert (late and late["penalty"]) == penalty if penalty is not None else late is None
    if late:
        assert late["hours"] > 0 and late["reason"].startswith("submitted ")


def test_without_a_time_canvas_late_marker_gives_no_penalty_and_says_why():
    due, policy = parse_due(DUE), parse_policy("10%/day")
    assert lateness(due, policy, None, True)[0] is None and "carry no time" in lateness(due, policy, None, True)[1]
    assert lateness(due, policy, None, False) == (None, "")            # Canvas says on time
    assert "taken as on time" in lateness(due, policy, None, None)[1]  # nobody says
    assert lateness(None, None, parse_time("2030-01-01T00:00Z"), True) == (None, "")   # no --due: nothing


def test_the_command_line_refuses_bad_dates_and_policies(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "softmaxbook", "grade", str(tmp_path), *args],
                              capture_output=True, text=True, cwd=ROOT)
    out = run("--due", "2026-03-01T23:59")
    assert out.returncode == 2 and "no time zone" in out.stderr and "Traceback" not in out.stderr
    out = run("--due", DUE, "--late-penalty", "10%/week")
    assert out.returncode == 2 and "'10%/week'" in out.stderr
    out = run("--late-penalty", "10%/day")
    assert out.returncode == 2 and "--late-penalty needs --due" in out.stderr


# --------------------------------------------------------------------------- identities and exports

@pytest.mark.parametrize("name, found", [
    ("doeann_340934_208490284_ex4.ipynb", ("340934", "doeann", False, "ex4.ipynb")),
    ("doeann_LATE_340934_208490284_my_ex4-1.ipynb", ("340934", "doeann", True, "my_ex4-1.ipynb")),
    ("o_brien2_12_34_ex1.md", ("12", "o_brien2", False, "ex1.md")),
    ("LATE_anon_Ab3dE_208490284_ex4.ipynb", ("anon_Ab3dE", "", True, "ex4.ipynb")),
    ("ex4_solved.md", None), ("alice", None), ("doeann_LATE_ex4.ipynb", None),
])
def test_canvas_archive_names_give_the_user_id_and_the_late_marker(name, found):
    got = canvas_name(name)
    assert (got and (got["user"], got["name"], got["late"], got["original"])) == found if found else got is None


@pytest.mark.parametrize("text, message", [
    ("submission,learner_id,submitted_at\nann.md,u1,2026-03-02T10:00\n", "line 2: submitted_at .* has no time zone"),
    ("submission,learner_id,submitted_at\nann.md,u1,yesterday\n", "line 2: submitted_at 'yesterday' is not an ISO"),
    ("submission,learner_id,extension_hours\nann.md,u1,-1\n", "line 2: extension_hours '-1' is not between 0"),
    ("submission,learner_id,extension_hours\nann.md,u1,nan\n", "line 2: extension_hours 'nan' is not between 0"),
    ("submission,learner_id,extension_hours\nann.md,u1,a day\n", "line 2: extension_hours 'a day' is not a number"),
    ("submission,learner_id,name\nann_ex1.md,u1,Ann\nbob.md,u2,Bob\nann_ex4.md,u1,Anna\n",
     r"lines 2 and 4 give learner_id 'u1' different name \('Ann' and 'Anna'\)"),
])
def test_bad_roster_values_are_refused_naming_the_line(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_roster(path)


def test_a_learner_with_two_notebooks_in_the_roster_is_one_line_per_export(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("submission,learner_id,name,email\nann_ex1.md,u1,,ann@example.org\n"
                    "ann_ex4.md,u1,Ann,\nbob.md,u2,Bob,\n")
    roster = read_roster(path)
    rows = [("ann_ex4.md", _row({"ch4.gap": "log(1 + exp(-d))"})), ("bob.md", _row({}))]
    canvas, moodle, unknown = lms_files(rows, EX4, "LogSumExp (ex4)", roster)
    lines = list(csv.DictReader(io.StringIO(canvas)))
    # Was: two lines for u1, one scored and one blank.
    assert [(r["Student"], r["ID"], r["LogSumExp (ex4)"]) for r in lines] == [
        ("    Points Possible", "", "6.00"), ("Ann", "u1", "1.00"), ("Bob", "u2", "0.00")]
    assert [(r["ID number"], r["Email address"]) for r in csv.DictReader(io.StringIO(moodle))] == [
        ("u1", "ann@example.org"), ("u2", "")] and unknown == []


def test_two_entries_of_one_learner_that_disagree_are_an_error_naming_them(tmp_path):
    roster = {n: {"submission": n, "learner_id": "u1", "name": "Ann", "sis_user_id": "", "sis_login_id": "",
                  "section": "", "email": "", "submitted_at": "", "extension_hours": ""} for n in ("a.md", "b.md")}
    same = [("a.md", _row({"ch4.gap": "log(1 + exp(-d))"})), ("b.md", _row({"ch4.gap": "log(1 + exp(-d))"}))]
    assert len(list(csv.reader(io.StringIO(lms_files(same, EX4, "ex4", roster)[0])))) == 3
    other = [("a.md", same[0][1]), ("b.md", _row({}))]
    with pytest.raises(Conflict, match=r"learner 'u1' has 2 graded entries in ex4 with different points: "
                                       r"a\.md \(1\.00\), b\.md \(0\.00\)"):
        lms_files(other, EX4, "ex4", roster)
    out = tmp_path / "grades.csv"
    with pytest.raises(Conflict, match="grades.csv: learner 'u1'"):
        write_exports(other, out, roster, log=lambda s: None)
    assert not out.with_name("grades_canvas.csv").exists()


# --------------------------------------------------------------------------- points

@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), True, "3"])
def test_points_in_the_key_must_be_positive_finite_numbers(value):
    with pytest.raises(key.KeyProblem, match="not a positive finite number"):
        key.points(value)


def test_points_of_a_key_entry_are_read_and_checked(tmp_path, monkeypatch):
    text = (key.HERE / "ch1.toml").read_text(encoding="utf-8")
    first = text.index('id = "ch1.log_partition"\n') + len('id = "ch1.log_partition"\n')
    monkeypatch.setattr(key, "HERE", tmp_path)
    (tmp_path / "ch1.toml").write_text(text[:first] + "points = 2.5\n" + text[first:], encoding="utf-8")
    assert key.load()["ch1.log_partition"].points == 2.5
    (tmp_path / "ch1.toml").write_text(text[:first] + "points = -2\n" + text[first:], encoding="utf-8")
    with pytest.raises(key.KeyProblem, match="ch1.toml, exercise ch1.log_partition: points = -2"):
        key.load()


def test_points_and_the_late_penalty_set_the_total_the_gradebook_and_the_export(monkeypatch):
    monkeypatch.setattr(registry.EXERCISES["ch4.gap"], "points", 4.0)
    row = _row({"ch4.gap": "log(1 + exp(-d))", "ch4.limit": "a"})
    assert total(row, EX4) == (5.0, 9.0)
    row["late"] = {"hours": 26.0, "penalty": 0.2, "reason": "submitted 26.0 h late; 10% per started day × 2"}
    row["learner"] = "7"
    assert total(row, EX4) == pytest.approx((4.0, 9.0))
    name = "ann_7_8_ex4.md"              # a Canvas archive's name: learner 7
    book = list(csv.DictReader(io.StringIO(csv_text([(name, row)], EX4))))[0]
    assert (book["learner"], book["ch4.gap"], book["total"], book["max"], book["percent"]) == (
        "7", "4.000", "4.000", "9", "44.4")
    assert (book["late_hours"], book["late_penalty"], book["late_reason"]) == ("26.00", "20.0", row["late"]["reason"])
    text = feedback_text(name, row)
    assert "Score: 4.00 / 9 (44 %)" in text and _says_late(row["late"]["reason"], text)
    canvas = list(csv.reader(io.StringIO(lms_files([(name, row)], EX4, "ex4", None)[0])))
    assert canvas[1:] == [["    Points Possible", "", "", "", "", "9.00"], ["ann", "7", "", "", "", "4.00"]]


# --------------------------------------------------------------------------- several assignments, end to end

def test_a_learner_folder_of_two_assignments_is_split_before_grading(tmp_path):
    (tmp_path / "eve").mkdir()
    shutil.copy(FIX / "solved" / "ex1_exponential_family.md", tmp_path / "eve" / "ex1.md")
    shutil.copy(FIX / "wrong" / "ex3_coding.md", tmp_path / "eve" / "ex3.md")
    (tmp_path / "eve" / "notes.md").write_text("no check call here\n")
    (tmp_path / "zed").mkdir()
    shutil.copy(FIX / "solved" / "ex1_exponential_family.md", tmp_path / "zed" / "ex1.md")
    (tmp_path / "zed" / "notes.md").write_text("no check call here\n")
    units = [part for unit in find_submissions(tmp_path) for part in by_assignment(unit)]
    assert [(u.name, sorted(p.name for p in u.paths)) for u in units] == [
        ("eve/ex1", ["ex1.md"]), ("eve/ex3", ["ex3.md"]), ("eve/other", ["notes.md"]), ("zed", ["ex1.md", "notes.md"])]


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    """A Canvas archive's files (a late one with its time, a late one inside an extension, a
    late one without a time, an on-time one of a learner not in the roster), a learner folder
    with ex1 and ex3, and a learner with two notebooks in the roster."""
    subs = tmp_path_factory.mktemp("subs")
    ex4 = "ex4_logsumexp.md"
    for name, kind in (("doeann_LATE_1001_501_", "solved"), ("roebob_LATE_1002_502_", "solved"),
                       ("kimcat_LATE_1003_503_", "solved"), ("leedan_1004_504_", "wrong")):
        shutil.copy(FIX / kind / ex4, subs / (name + ex4))
    (subs / "eve").mkdir()
    shutil.copy(FIX / "solved" / "ex1_exponential_family.md", subs / "eve" / "ex1.md")
    shutil.copy(FIX / "wrong" / "ex3_coding.md", subs / "eve" / "ex3.md")
    shutil.copy(ROOT / "exercises" / "ex1_exponential_family.md", subs / "fay_ex1.md")
    shutil.copy(FIX / "wrong" / ex4, subs / "fay_ex4.md")
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    roster = out.with_name("roster.csv")
    roster.write_text("submission,learner_id,name,submitted_at,extension_hours\n"
                      f"doeann_LATE_1001_501_{ex4},1001,\"Doe, Ann\",2026-03-03T01:59+01:00,\n"
                      f"roebob_LATE_1002_502_{ex4},1002,\"Roe, Bob\",2026-03-03T01:59+01:00,48\n"
                      "eve,1005,Eve,2026-03-01T20:00+01:00,\n"
                      "fay_ex1.md,2006,Fay,2026-03-01T12:00Z,\nfay_ex4.md,2006,Fay,2026-03-01T12:00Z,\n")
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=10, total_timeout=60, log=log.append, roster=read_roster(roster),
                 due=parse_due(DUE), late_policy=parse_policy("10%/day,max=50%"))
    return subs, out, log


def test_a_canvas_folder_with_a_late_submission_and_an_extension(semester):
    _, out, log = semester
    book = {r["submission"]: r for r in _csv(out.with_name("grades_ex4.csv"))}
    doe, roe, kim, lee = (book[n + "_ex4_logsumexp.md"] for n in ("doeann_LATE_1001_501", "roebob_LATE_1002_502",
                                                                  "kimcat_LATE_1003_503", "leedan_1004_504"))
    assert (doe["learner"], doe["total"], doe["max"], doe["late_hours"], doe["late_penalty"]) == (
        "1001", "4.800", "6", "26.00", "20.0")
    assert doe["late_reason"] == "submitted 26.0 h late; 10% per started day × 2: 20% of the points taken off"
    assert (roe["learner"], roe["total"], roe["late_penalty"]) == ("1002", "6.000", "")     # inside the extension
    assert (kim["learner"], kim["total"], kim["late_penalty"]) == ("1003", "6.000", "")     # no time: no penalty...
    assert any(line.startswith("warning: Canvas marks these late") and "kimcat_LATE_1003_503" in line
               for line in log)                                                           # ...and says so
    assert lee["learner"] == "1004"
    feedback = (out.parent / "grades_feedback" / "1001_ex4.md").read_text()
    assert "Score: 4.80 / 6 (80 %)" in feedback and _says_late(doe["late_reason"], feedback)
    canvas = _csv(out.with_name("grades_ex4_canvas.csv"))
    assert canvas[0]["Student"] == "    Points Possible" and list(canvas[0].values())[-1] == "6.00"
    got = [(r["ID"], list(r.values())[-1]) for r in canvas[1:]]
    wrong = f"{float(lee['total']):.2f}"                     # fay_ex4.md is the same wrong copy
    assert got == [("1001", "4.80"), ("1002", "6.00"), ("1005", ""), ("2006", wrong), ("1003", "6.00"), ("1004", wrong)]


def test_a_learner_folder_with_two_assignments_gets_a_row_in_each_gradebook(semester):
    _, out, _ = semester
    ex1 = {r["submission"]: r for r in _csv(out.with_name("grades_ex1.csv"))}
    ex3 = {r["submission"]: r for r in _csv(out.with_name("grades_ex3.csv"))}
    assert (ex1["eve/ex1"]["status"], ex1["eve/ex1"]["percent"], ex1["eve/ex1"]["reason"]) == ("graded", "100.0", "")
    assert ex3["eve/ex3"]["status"] == "graded" and not any(c in ex3["eve/ex3"]["reason"] for c in ("ch1", "ch2", "ch4"))
    assert "eve" not in {r["submission"] for r in _csv(out)}
    report = _csv(out.with_name("grades_report.csv"))
    assert not [r for r in report if r["exercise"].startswith("ch2.")]        # nobody had ex2
    assert {r["submissions"] for r in report if r["exercise"].startswith("ch1.")} == {"2"}   # eve/ex1, fay_ex1.md
    canvas = _csv(out.with_name("grades_ex1_canvas.csv"))[1:]
    full = f"{float(ex1['eve/ex1']['max']):.2f}"
    assert [(r["ID"], list(r.values())[-1]) for r in canvas] == [("1001", ""), ("1002", ""), ("1005", full),
                                                                ("2006", "0.00")]


def test_a_new_due_date_regrades_nothing_and_rewrites_the_lateness(semester):
    subs, out, _ = semester
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=10, total_timeout=60, log=log.append,
                 roster=read_roster(out.with_name("roster.csv")), due=datetime.fromisoformat("2026-03-05T00:00+01:00"),
                 late_policy=parse_policy("10%/day"))
    assert "8 already graded and unchanged, 0 to grade" in log[0]
    doe = {r["submission"]: r for r in _csv(out.with_name("grades_ex4.csv"))}["doeann_LATE_1001_501_ex4_logsumexp.md"]
    assert doe["total"] == "6.000" and "late_penalty" not in doe
    feedback = (out.parent / "grades_feedback" / "1001_ex4.md").read_text()
    assert "Score: 6.00 / 6 (100 %)" in feedback and "Late:" not in feedback


def _says_late(reason: str, feedback: str) -> bool:
    """The feedback's late line is the penalty's reason as one sentence."""
    return f"**Late:** {reason[:1].upper()}{reason[1:]}" in feedback


@pytest.mark.parametrize("kind", ["fifo", "device", "not-utf8"])
def test_a_roster_that_is_a_pipe_a_device_or_not_utf8_is_refused_without_hanging(tmp_path, kind):
    path = tmp_path / "roster.csv"
    if kind == "fifo":
        os.mkfifo(path)            # no writer: opening it for reading must not wait for one
    elif kind == "device":
        path = Path("/dev/zero")   # endless
    else:
        path.write_bytes("submission,learner_id\nbob.md,1002\nzoë.md,1003\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not a regular file|too large|line 3: not UTF-8"):
        read_roster(path)
