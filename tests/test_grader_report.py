"""The class report and the LMS files, on rows graded in this process (no notebook is run):
misconception counts, their order, the page's structure, the roster and the Canvas/Moodle
round trip. The batch run over the fixture submissions is in ``test_grader_batch``."""

from __future__ import annotations

import csv
import io

import pytest

from softmaxbook.grader.assignments import exercise_ids
from softmaxbook.grader.gradebook import make_row
from softmaxbook.grader.grading import grade_answers
from softmaxbook.grader.lms import lms_files, read_roster
from softmaxbook.grader.report import OTHER, chart_png, report_csv, report_html, summarise

EX4 = exercise_ids("ex4")
LOG2 = "log 2 is the largest gap (at d = 0); the gap shrinks as d grows."
ZERO = "LSE(a, b) is strictly above max(a, b): the gap is never 0."
LOGN = "log n is the bound at λ = 1; the gap shrinks like 1/λ."


def _row(answers: dict, status="graded"):
    results, _ = grade_answers({k: {"t": "text", "v": v} for k, v in answers.items()}, EX4)
    return make_row(status, "", "ex4", results)


@pytest.fixture(scope="module")
def rows():
    return [("ann.md", _row({"ch4.gap": "log(2)", "ch4.bound": "log(n)"})),
            ("bob.md", _row({"ch4.gap": "log(2)"})),
            ("cat.md", _row({"ch4.gap": "0"})),
            ("dan.md", _row({"ch4.gap": "d"})),                        # wrong, no declared misconception
            ("eve.md", _row({"ch4.gap": "log(1 + exp(-d))", "ch4.limit": "a"})),
            ("fay.md", make_row("malformed", "malformed notebook"))]     # no assignment: counts nowhere


def test_misconceptions_are_counted_and_ordered(rows):
    stats = summarise(rows)
    assert list(stats) == EX4
    gap = stats["ch4.gap"]
    assert (gap["n"], gap["right"], gap["unanswered"]) == (5, 1, 0)
    assert dict(gap["wrong"]) == {LOG2: 2, ZERO: 1, OTHER: 1}
    assert dict(gap["bins"]) == {"0": 4, "right": 1}
    assert dict(stats["ch4.bound"]["wrong"]) == {LOGN: 1} and stats["ch4.bound"]["unanswered"] == 4
    lines = list(csv.DictReader(io.StringIO(report_csv(stats))))
    assert [(x["misconception"], x["count"]) for x in lines if x["exercise"] == "ch4.gap"] == [
        (LOG2, "2"), (ZERO, "1"), (OTHER, "1")]              # most frequent first, "other" after named ones
    assert [x["share_right"] for x in lines if x["exercise"] == "ch4.limit"] == ["0.200"]
    assert [x["misconception"] for x in lines if x["exercise"] == "ch4.softmin"] == [""]   # none: one line


def test_the_page_is_self_contained_and_readable(rows):
    stats = summarise(rows)
    page = report_html(rows, stats, "Class report: week 4")
    assert page.startswith("<!DOCTYPE html><html lang='en'>") and "<h1>Class report: week 4</h1>" in page
    assert "6 entries: 5 graded, 1 malformed." in page
    assert "src='data:image/png;base64," in page and "http" not in page.replace("http-equiv", "")
    assert "alt='Share of submissions right per exercise: ch4.gap 20 % right;" in page
    assert page.count("<th scope='col'>") == 6 + 3 and page.count("<th scope='row'>") == len(EX4) + 1
    assert f"<li>{LOG2} — <strong>2</strong></li><li>{ZERO} — <strong>1</strong></li>" in page
    assert "<th scope='row'>fay.md</th><td>malformed</td>" in page     # needs a look
    assert chart_png(stats)[:8] == b"\x89PNG\r\n\x1a\n"


def test_roster_and_lms_files_round_trip(tmp_path, rows):
    path = tmp_path / "roster.csv"
    path.write_text("\ufeffSubmission,Learner_ID,Name,Email,Section\n"
                    "ann.md,u1,\"Doe, Ann\",ann@example.org,A\n"
                    "eve.md,u5,=HYPERLINK(1),eve@example.org,B\n"
                    "zed.md,u9,Zed,,A\n", encoding="utf-8")
    roster = read_roster(path)
    assert roster["ann.md"]["name"] == "Doe, Ann" and roster["zed.md"]["email"] == ""
    canvas, moodle, unknown = lms_files(rows, EX4, "LogSumExp limits (ex4)", roster)
    assert unknown == ["bob.md", "cat.md", "dan.md", "fay.md"]
    c = list(csv.DictReader(io.StringIO(canvas)))
    assert list(c[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "LogSumExp limits (ex4)"]
    assert [(r["Student"], r["ID"], r["Section"], r["LogSumExp limits (ex4)"]) for r in c] == [
        ("    Points Possible", "", "", "6.00"), ("Doe, Ann", "u1", "A", "0.00"), ("'=HYPERLINK(1)", "u5", "B", "2.00"), ("Zed", "u9", "A", "")]
    m = list(csv.DictReader(io.StringIO(moodle)))
    assert [(r["ID number"], r["Email address"], r["LogSumExp limits (ex4)"]) for r in m] == [
        ("u1", "ann@example.org", "0.00"), ("u5", "eve@example.org", "2.00"), ("u9", "", "")]


@pytest.mark.parametrize("text, message", [
    ("name,id\nann,1\n", "no 'submission' column"),
    ("submission\nann.md\n", "no 'learner_id' column"),
    ("submission,learner_id\nann.md,\n", "line 2: an empty submission or learner_id"),
    ("submission,learner_id\nann.md,1\nann.md,2\n", "line 3: submission 'ann.md' is listed twice"),
])
def test_a_bad_roster_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_roster(path)
    path.write_bytes(b"submission,learner_id\n\xff\xfe,1\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_roster(path)
    with pytest.raises(ValueError, match="cannot be (read|opened)"):
        read_roster(tmp_path / "missing.csv")
