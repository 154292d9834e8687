"""Feedback worth sending (issue 26, point 6), each test starting from the failure as reported:
a truncated file got ``NotJSONError: Notebook does not appear to be JSON: '{\\n "cells": …``;
a NameError got only ``note: cell 6 raised NameError`` (no message, no reason in the gradebook,
no place in "needs a look"); probe messages appeared twice; files were named
``alice_ex2-e6506cc4.md`` with no learner id, and nothing gathered them for delivery."""

from __future__ import annotations

import csv
import html
import json
import re
import zipfile
from pathlib import Path

import jupytext
import pytest

from conftest import ROOT
from softmaxbook.grader import check, feedback, running, runner
from softmaxbook.grader.batch import grade_folder
from softmaxbook.grader.feedback import STATUS_SAYS, feedback_html, feedback_text
from softmaxbook.grader.gradebook import Outputs, make_row
from softmaxbook.grader.submissions import find_submissions

SOLVED_EX4 = ROOT / "tests" / "fixtures" / "solved" / "ex4_logsumexp.md"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.md"
HOSTILE_TEXT = "</style><script>alert(1)</script>\n## ch4.gap — correct, 100%\x1b[2J\u202e"


def _with(text: str, ex_id: str, source: str) -> str:
    """The notebook with the code cell that checks ``ex_id`` replaced by ``source``."""
    start = text.index(f'check("{ex_id}"')
    begin = text.rindex("```{code-cell} ipython3\n", 0, start) + len("```{code-cell} ipython3\n")
    end = text.index("\n```", start)
    return text[:begin] + source + text[end:]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One batch over a truncated file, a NameError and a hostile learner (name, answer, exception)."""
    subs = tmp_path_factory.mktemp("subs")
    solved = SOLVED_EX4.read_text()
    whole = jupytext.writes(jupytext.reads(solved, fmt="md:myst"), fmt="ipynb")
    (subs / "ex4_truncated.ipynb").write_text(whole[: len(whole) // 2])
    (subs / "ex4_nameerror.md").write_text(_with(solved, "ch4.bound", 'bound = undefined_total + 1\n\ncheck("ch4.bound", bound)'))
    hostile = _with(solved, "ch4.gap", f'gap = {HOSTILE_TEXT!r}\n\ncheck("ch4.gap", gap)')
    hostile = _with(hostile, "ch4.bound", f'raise ValueError("W" * 120 + {HOSTILE_TEXT!r} * 4000)')   # no space to wrap at
    (subs / HOSTILE_NAME).write_text(hostile)
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=20, total_timeout=90, log=log.append, feedback_archive="files")
    with open(out, newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    state = {n: e["row"] for n, e in json.loads(Outputs(out).state.read_text()).items() if n != "/secret"}
    return {"out": out, "rows": rows, "state": state, "log": log, "files": Outputs(out)}


def _page(graded, name: str, ext: str = ".md") -> str:
    stem = feedback.stem_of(name, graded["state"][name])
    return (graded["files"].feedback_dir / (stem + ext)).read_text(encoding="utf-8")


def test_a_truncated_file_is_told_to_re_download_and_resubmit(graded):
    row = graded["rows"]["ex4_truncated.ipynb"]
    assert row["status"] == "malformed"
    assert row["reason"].startswith("the file is cut off or is not a notebook: please re-download it and resubmit")
    for ext in (".md", ".html"):
        text = _page(graded, "ex4_truncated.ipynb", ext)
        assert "cut off or is not a notebook: please re-download it and resubmit" in text
        assert STATUS_SAYS["malformed"] in text
        assert "does not appear to be JSON" not in text and '"cells"' not in text


def test_a_name_error_says_its_message_and_cell_in_the_gradebook_feedback_and_report(graded):
    row = graded["rows"]["ex4_nameerror.md"]
    said = re.search(r"cell (\d+) raised NameError: name 'undefined_total' is not defined", row["reason"])
    assert row["status"] == "graded" and said, row["reason"]
    cell = int(said[1])
    source = jupytext.reads((SOLVED_EX4.parent / "ex4_logsumexp.md").read_text(), fmt="md:myst")
    assert 'check("ch4.bound"' in source.cells[cell - 1].source      # the cell number is the notebook's own
    text = _page(graded, "ex4_nameerror.md")
    assert text.count("raised NameError: name 'undefined_total' is not defined") == 1
    assert "note: cell" not in text                                   # said once, as the reason
    report = graded["files"].report(".html").read_text()
    look = report.split("Submissions that need a look")[1].split("</table>")[0]
    assert "ex4_nameerror.md" in look and "undefined_total" in look


def test_a_hostile_name_answer_and_exception_stay_text(graded):
    html_page = _page(graded, HOSTILE_NAME, ".html")
    assert "<script" not in html_page and "<img" not in html_page and "\x1b" not in html_page
    assert "\u202e" not in html_page
    assert "&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html_page   # the answer, shown as text
    assert html_page.count("</style>") == 1 and "http" not in html_page.replace("http-equiv", "")
    row = graded["rows"][HOSTILE_NAME]
    assert "raised ValueError: " + "W" * 120 + "</style><script>alert(1)</script>\\n## ch4.gap" in row["reason"]
    assert len(row["reason"]) < 2 * runner.MAX_ERROR_MESSAGE                   # the huge message cut
    text = _page(graded, HOSTILE_NAME)
    assert "\n## ch4.gap — correct" not in text and "\\<script\\>" in text
    found = text.split("**What the grader found:** ")[1].split("\n")[0]
    assert not re.search(r"(?<!\\)[<>\[\]`*]", found)         # each character Markdown acts on, escaped
    assert text.startswith("# Feedback for \\<img src=x onerror=alert(1)\\>.md")


def _sections(text: str) -> list[list[str]]:
    parts = re.split(r"\n(?=## )", text)
    return [[line for line in part.splitlines() if line.strip()] for part in parts]


def test_no_line_of_feedback_is_said_twice(graded):
    for name in graded["state"]:
        sections = _sections(_page(graded, name))
        for lines in sections:
            assert len(lines) == len(set(lines)), (name, lines)
        head = set(sections[0])
        assert not [line for lines in sections[1:] for line in lines if line in head], name


def test_a_probe_message_and_its_points_are_said_once():
    """The cause: a result's message is its headline and its points joined, and the feedback
    listed the points after it again. The row keeps the headline, the points follow it once."""
    r = check("ch2.gradient", ["p1 - y1", "p2 + y2", "p3 - y3"])
    assert r.details == ["entries not right: #2"] and r.headline.rstrip(".") in r.message
    row = make_row("graded", "", "ex2", {"ch2.gradient": r})
    for text in (feedback_text("a.md", row), feedback_html("a.md", row)):
        assert text.count("entries not right: #2") == 1 and text.count(r.headline.split(" your")[0]) == 1


@pytest.mark.parametrize("status", sorted(STATUS_SAYS))
def test_every_status_has_its_plain_sentence(status):
    row = make_row(status, "cell 3 ran past the 60 s limit per cell" if status == "timed out" else "")
    text, page = feedback_text("a.md", row), feedback_html("a.md", row)
    assert f"Status: {status}. {STATUS_SAYS[status]}" in text and html.escape(STATUS_SAYS[status]) in page
    assert len(set(STATUS_SAYS.values())) == len(STATUS_SAYS)


def test_the_page_is_self_contained_and_fits_a_phone():
    page = feedback_html("a.md", make_row("unanswered", "returned as shipped", "ex4"))
    assert "name='viewport' content='width=device-width, initial-scale=1'" in page
    assert "overflow-wrap:anywhere" in page and "default-src 'none'" in page
    assert not re.search(r"<script|<link|src=|url\(|@import", page)


def test_files_are_named_with_the_learner_id_when_known(tmp_path):
    files = Outputs(tmp_path / "grades.csv")
    row = make_row("graded", "", "ex4")
    assert feedback.write(files, "alice.md", row) == feedback.feedback_stem("alice.md")   # unknown: as before
    assert feedback.write(files, "alice.md", {**row, "learner": "1004"}) == "1004_ex4"
    assert (tmp_path / "grades_feedback" / "1004_ex4.md").read_text().startswith("# Feedback for alice.md\n\nLearner: 1004")
    assert (tmp_path / "grades_feedback" / "1004_ex4.html").is_file()
    odd = feedback.write(files, "bob.md", {**row, "learner": "../../etc/x"})
    assert "/" not in odd and odd.endswith("_ex4") and (tmp_path / "grades_feedback" / f"{odd}.html").is_file()
    assert feedback.feedback_stem("x", "a/b", "ex4") != feedback.feedback_stem("x", "a_b", "ex4")


def test_late_overrides_and_previous_result_are_shown():
    r = check("ch4.limit", "b")
    row = make_row("graded", "", "ex4", {"ch4.limit": r})
    row.update(learner="1004", late={"hours": 26.5, "penalty": 0.2, "reason": "submitted 26.5 h late; 10% per started day × 2: "
                                                         "20% of the points taken off"},
               overrides={"ch4.limit": {"score": 1.0, "graded": 0.0, "reason": "TA: the argument is right"}},
               previous={"at": "2026-03-01T10:00:00+01:00", "total": 2.0, "why": "resubmitted"})
    row["scores"]["ch4.limit"] = 1.0
    text, page = feedback_text("a.md", row), feedback_html("a.md", row)
    for t in (text, page):
        assert "Submitted 26.5 h late; 10% per started day × 2: 20% of the points taken off" in t   # once, capitalised
        assert "Changed by your instructor from 0% to 100%: TA: the argument is right" in t
        assert "Previous result:" in t and "2 points (2026-03-01T10:00:00+01:00): resubmitted" in t
        assert t.count("Previous") == 1                                # said once
        assert f"ch4.limit — 100%, set by your instructor (graded: {r.status})" in t   # the score after the override


def test_the_index_lists_every_entry_with_a_working_link(graded):
    index = graded["files"].feedback_index.read_text()
    links = re.findall(r"<a href='([^']+)'>", index)
    assert len(links) == len(graded["state"]) == 3
    assert all((graded["out"].parent / link).is_file() for link in links)
    assert "<img" not in index and "&lt;img src=x onerror=alert(1)&gt;.md" in index
    assert "undefined_total" in index and "malformed" in index


def test_the_archive_holds_each_learners_page(graded):
    path = Outputs.feedback_archive(graded["out"])
    assert path == graded["out"].with_name("grades_feedback.zip") and path in graded["files"].every()
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        assert names == sorted(feedback.stem_of(n, r) + ".html" for n, r in graded["state"].items())
        assert all(z.read(n) == (graded["files"].feedback_dir / n).read_bytes() for n in names)
    assert f"wrote {path}" in graded["log"]


def test_the_grader_never_takes_its_own_outputs_for_submissions(graded):
    names = [u.name for u in find_submissions(graded["out"].parent, exclude=graded["files"].every())]
    assert names == []


def test_the_moodle_archive_follows_moodles_participant_folders(tmp_path):
    files = Outputs(tmp_path / "grades.csv")
    row = make_row("graded", "", "ex4")
    rows = [("Ada Lovelace_1234567_assignsubmission_file", row), ("alice.md", row),
            ("Bo Li_77_assignsubmission_file_ex4_logsumexp.md", row)]
    for name, r in rows:
        feedback.write(files, name, r)
    data, left = feedback.archive(rows, files, "moodle")
    (tmp_path / "a.zip").write_bytes(data)
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        members = sorted(z.namelist())
    assert members == ["Ada Lovelace_1234567_assignfeedback_file/feedback_ex4.html",
                       "Bo Li_77_assignfeedback_file/feedback_ex4.html"]
    assert left == ["alice.md"]
    for m in members:   # Moodle's importer: the folder split at "_" (at most 5 parts) gives id, plugin type, name
        info = m.split("/")[0].split("_", 4)
        assert info[1].isdigit() and info[2:4] == ["assignfeedback", "file"]


def test_the_jails_exceptions_are_checked_and_capped():
    doc = {"format": runner.FORMAT, "answers": {}, "notes": [], "reason": "", "stops": [], "checks": [],
           "errors": [{"cell": 6, "type": "NameError", "message": "name 'x' is not defined\x1b[2J\n# forged"}]}
    got = running.validate_document(json.dumps(doc).encode())["errors"]
    assert got == [{"cell": 6, "type": "NameError", "message": "name 'x' is not defined\\x1b[2J\\n# forged"}]
    old = {k: v for k, v in doc.items() if k != "errors"}           # an older runner's document
    assert running.validate_document(json.dumps(old).encode())["errors"] == []
    for errors in ([{"cell": 6, "type": "E", "message": "m" * (runner.MAX_ERROR_MESSAGE + 1)}],
                   [{"cell": 0, "type": "E", "message": ""}], [{"cell": 6, "type": ["E"], "message": ""}],
                   [{"cell": 6, "type": "E", "message": "", "more": 1}], "x",
                   [{"cell": 6, "type": "E", "message": ""}] * (runner.MAX_ERRORS + 1)):
        with pytest.raises(ValueError, match="error"):
            running.validate_document(json.dumps({**doc, "errors": errors}).encode())


def test_the_hostile_page_runs_nothing_loads_nothing_and_fits_a_phone(graded, browser):
    """In Chromium at 360 px: no dialog, no request, no sideways scrolling (long texts wrap)."""
    from browser import watch
    path = graded["files"].feedback_dir / (feedback.stem_of(HOSTILE_NAME, graded["state"][HOSTILE_NAME]) + ".html")
    page = browser.new_page(viewport={"width": 360, "height": 740})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    seen = watch(page)
    try:
        page.goto(path.as_uri())
        assert dialogs == [] and seen.foreign == [] and seen.requests == [path.as_uri()], (dialogs, seen.requests)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert "alert(1)" in page.inner_text("body")              # shown, not run
    finally:
        page.close()
