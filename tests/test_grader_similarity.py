"""Submissions that look alike (:mod:`softmaxbook.grader.similarity`): planted pairs and a
trio are flagged with their strength, honest submissions that share only right answers are
not, hostile sources never break a row; and one batch run whose class report names the
planted pair and none of the honest submissions."""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys

import pytest

from conftest import ROOT
from softmaxbook.grader import registry
from softmaxbook.grader.gradebook import Outputs, make_row
from softmaxbook.grader.grading import grade_answers
from softmaxbook.grader.report import similar_csv, similar_html, write_all
from softmaxbook.grader.similarity import MIN_CODE_NODES, code_cells, code_key, definition, find, fingerprint, uncommon

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import submissions  # noqa: E402

LSE = registry.EXERCISES["ch4.stable_lse"]
REFERENCE = LSE.hidden.solution
LOOP_LSE = '''def lse(x):
    """log(sum(exp(x))), one term at a time."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError("empty input")
    if np.isnan(x).any():
        return math.nan
    m = np.max(x)
    if np.isinf(m):
        return float(m)
    total = 0.0
    for v in x:
        total += math.exp(v - m)
    return float(m + math.log(total))'''
# The same function renamed, re-commented, without its docstring, with annotations, reformatted.
LOOP_LSE_RENAMED = '''def lse(values: list) -> float:
    # my own version
    values = np.asarray(values,dtype = float)
    if values.size==0: raise ValueError("empty input")
    if np.isnan(values).any():   return math.nan
    biggest = np.max(values)
    if np.isinf(biggest):
        return float(biggest)
    acc = 0.0
    for term in values:

        acc += math.exp(term - biggest)
    return float(biggest + math.log(acc))'''


def _cell(source: str) -> str:
    return f"```{{code-cell}} ipython3\n{source}\n```\n"


def _row(values: dict, lse: str | None = None, lse_right: bool = True):
    """A graded ex4 row with its fingerprint: ``values`` are text answers graded here; a
    function answer to ch4.stable_lse (its source in a MyST cell) is scored ``lse_right``
    without running it."""
    answers = {k: {"t": "text", "v": v} for k, v in values.items()}
    results, _ = grade_answers(answers, ["ch4.gap", "ch4.bound", "ch4.limit"])
    row = make_row("graded", "", "ex4", results)
    sources = []
    if lse is not None:
        answers["ch4.stable_lse"] = {"t": "fn", "name": "lse", "pickle": ""}
        row["scores"]["ch4.stable_lse"] = 1.0 if lse_right else 0.5
        row["feedback"]["ch4.stable_lse"] = {"status": "correct" if lse_right else "partly right"}
        sources = ["# Exercises\n\n" + _cell("import numpy as np") + _cell(lse + '\n\ncheck("ch4.stable_lse", lse)')]
    row["similar"] = fingerprint(answers, row, sources)
    return row


RIGHT = {"ch4.gap": "log(1 + exp(-d))", "ch4.bound": "log(n)/lam", "ch4.limit": "a"}


def _class(planted: dict, honest: int = 8, **extra) -> list:
    """``honest`` submissions answering right with the reference code, then the planted ones."""
    rows = [(f"honest{k}.md", _row(RIGHT, REFERENCE)) for k in range(honest)]
    return rows + [(name, _row(values, **extra.get(name, {}))) for name, values in planted.items()]


def test_the_answers_are_fingerprinted_by_kind():
    row = _row({**RIGHT, "ch4.gap": "log(2)", "ch4.limit": "b"}, LOOP_LSE)
    fp = row["similar"]
    assert set(fp) == {"ch4.gap", "ch4.bound", "ch4.stable_lse"}          # choices are never compared
    assert fp["ch4.gap"]["right"] is False and fp["ch4.gap"]["show"] == "log(2)" and fp["ch4.gap"]["kind"] == "value"
    assert fp["ch4.bound"]["right"] is True
    assert fp["ch4.stable_lse"]["kind"] == "code" and fp["ch4.stable_lse"]["right"] is True
    assert _row(RIGHT, REFERENCE)["similar"]["ch4.stable_lse"]["kind"] == "reference"
    short = _row(RIGHT, "def lse(x):\n    return float(np.max(x))", lse_right=False)["similar"]["ch4.stable_lse"]
    assert short["kind"] == "value" and short["right"] is False        # too small to be more than a value
    assert _row({"ch4.gap": "log( 2 )"})["similar"]["ch4.gap"]["key"] == fp["ch4.gap"]["key"]


def test_code_is_the_same_after_renaming_comments_docstrings_and_formatting():
    a, b = (code_key([definition([src], "lse")]) for src in (LOOP_LSE, LOOP_LSE_RENAMED))
    assert a == b and a[1] >= MIN_CODE_NODES
    changed = code_key([definition([LOOP_LSE.replace("total += math.exp", "total -= math.exp")], "lse")])
    assert changed[0] != a[0]                                               # a different operation is different code
    lam = code_key([definition(["softmin = lambda x, lam: x"], "softmin")])
    assert lam is not None and lam[1] == 5                                   # Lambda, arguments, arg, arg, Name


def test_a_pair_sharing_two_rare_wrong_answers_is_flagged_with_its_strength():
    rows = _class({"ann.md": {**RIGHT, "ch4.gap": "2*d", "ch4.bound": "n/(2*lam)"},
                   "bob.md": {**RIGHT, "ch4.gap": "2 * d", "ch4.bound": "n / (2*lam)"}})
    groups = find(rows)
    assert [(g["members"], g["strength"]) for g in groups] == [(["ann.md", "bob.md"], 2.0)]
    assert [(i["exercise"], i["why"], i["given"], i["answered"]) for i in groups[0]["items"]] == [
        ("ch4.gap", "the same wrong answer: 2*d", 2, 10), ("ch4.bound", "the same wrong answer: n/(2*lam)", 2, 10)]


def test_one_shared_rare_wrong_answer_alone_is_not_a_flag():
    rows = _class({"ann.md": {**RIGHT, "ch4.gap": "2*d"}, "bob.md": {**RIGHT, "ch4.gap": "2*d"}})
    assert find(rows) == []


def test_two_answers_that_others_gave_too_are_chance_not_a_flag():
    # ann and bob share two wrong answers, each also given by one other submission: ½ + ½ = 1 < 2.
    rows = _class({"ann.md": {**RIGHT, "ch4.gap": "2*d", "ch4.bound": "n/(2*lam)"},
                   "bob.md": {**RIGHT, "ch4.gap": "2*d", "ch4.bound": "n/(2*lam)"},
                   "cat.md": {**RIGHT, "ch4.gap": "2*d"}, "dan.md": {**RIGHT, "ch4.bound": "n/(2*lam)"}}, honest=20)
    assert uncommon(24) == 3 and find(rows) == []
    rows[-1] = ("dan.md", _row(RIGHT))                  # the bound only ann and bob give: 1 + ½, still < 2
    assert find(rows) == []
    rows[-2] = ("cat.md", _row(RIGHT))                  # both only theirs: 1 + 1
    assert [(g["members"], g["strength"]) for g in find(rows)] == [(["ann.md", "bob.md"], 2.0)]


def _plain(**answers) -> dict:
    """A row with only a fingerprint: ``exercise="key"`` wrong values, every other exercise right."""
    ids = ("ch1.nll", "ch1.mean", "ch2.gradient", "ch2.hessian")
    return {"similar": {i: {"key": answers.get(i.replace(".", "_"), "right"), "kind": "value", "show": "...",
                            "right": i.replace(".", "_") not in answers} for i in ids}}


def test_a_chance_link_does_not_join_a_third_submission_to_a_pair():
    rows = [(f"honest{k}.md", _plain()) for k in range(20)] + [
        ("ann.md", _plain(ch1_nll="x1", ch2_gradient="x2", ch1_mean="y1", ch2_hessian="y2")),
        ("bob.md", _plain(ch1_nll="x1", ch2_gradient="x2")),
        ("cat.md", _plain(ch1_mean="y1", ch2_hessian="y2")),     # with ann: two answers three give, ½ + ½
        ("dan.md", _plain(ch1_mean="y1")), ("eve.md", _plain(ch2_hessian="y2"))]
    assert [(g["members"], g["strength"]) for g in find(rows)] == [(["ann.md", "bob.md"], 2.0)]


def test_the_same_function_code_renamed_and_reformatted_is_flagged():
    rows = _class({"ann.md": RIGHT, "bob.md": RIGHT},
                  **{"ann.md": {"lse": LOOP_LSE}, "bob.md": {"lse": LOOP_LSE_RENAMED}})
    [group] = find(rows)
    assert group["members"] == ["ann.md", "bob.md"] and group["strength"] == 2.0
    assert group["items"][0]["exercise"] == "ch4.stable_lse"
    assert group["items"][0]["why"].startswith("the same function code once names, comments")


def test_a_trio_is_one_group():
    wrong = {**RIGHT, "ch4.gap": "exp(-d)/2", "ch4.bound": "sqrt(n)/lam"}
    rows = _class({"ann.md": wrong, "bob.md": wrong, "cat.md": wrong}, honest=20)
    assert uncommon(23) == 3
    [group] = find(rows)
    # Each pair: two answers a third submission also gives, ½ each; the group holds every holder: 1 each.
    assert group["members"] == ["ann.md", "bob.md", "cat.md"] and group["strength"] == 2.0
    assert [(i["exercise"], i["holders"]) for i in group["items"]] == [
        ("ch4.gap", ["ann.md", "bob.md", "cat.md"]), ("ch4.bound", ["ann.md", "bob.md", "cat.md"])]
    # A fourth submission with the same gap: 4 of 24 is not uncommon, and one shared answer is no flag.
    rows.append(("dan.md", _row({**RIGHT, "ch4.gap": "exp(-d)/2"})))
    assert find(rows) == []


def test_honest_submissions_sharing_only_right_answers_are_not_flagged():
    reformatted = re.sub(r"\bx\b", "values", REFERENCE.replace('"""log(sum(exp(x))), computed stably."""', "# ok"))
    rows = [(f"ref{k}.md", _row(RIGHT, REFERENCE if k % 2 else reformatted)) for k in range(6)]
    # Right code that is not the reference, but common: 8 of 14 write it.
    rows += [(f"loop{k}.md", _row(RIGHT, LOOP_LSE)) for k in range(8)]
    # A common wrong answer (the declared misconception), given by 5 of 14.
    rows += [(f"common{k}.md", _row({**RIGHT, "ch4.gap": "log(2)"})) for k in range(5)]
    assert find(rows) == []
    assert all(r["similar"]["ch4.stable_lse"]["kind"] == "reference" for _, r in rows[:6])


@pytest.mark.parametrize("source", [
    "def lse(x):\n    return " + "(" * 5000 + "x" + ")" * 5000,           # nested too deeply for the parser
    "def lse(x):\n    return " + "x+" * 30000 + "x",                      # a tree too deep / too large
    "def lse(x):\n    return " + "-" * 90000 + "x",
    "lse = " + "lambda x: " * 5000 + "x",
    "def lse(x:\n    return",                                             # invalid syntax
    "def lse(x):\n    return '\udcff'\x00",                                # a surrogate and a NUL byte
    "def lse(x):\n    return " + "9" * 5000,                               # an integer too long to convert
    "def lse(x):\n" + "".join(" " * k + "if x:\n" for k in range(1, 150)) + " " * 150 + "pass",
    "def lse(x):\n    return 1\n" + "# filler\n" * 20_000,                 # a cell over the size cap
], ids=["parentheses", "sum", "minus", "lambdas", "invalid", "surrogate", "integer", "indentation", "large"])
def test_hostile_sources_give_no_code_and_keep_the_rest(source):
    fp = _row({**RIGHT, "ch4.gap": "log(2)"}, source)["similar"]
    assert "ch4.stable_lse" not in fp and fp["ch4.gap"]["show"] == "log(2)"


def test_notebooks_that_are_not_what_they_claim_never_break_a_fingerprint():
    assert code_cells([None, b"bytes", "{" + "[" * 100_000, '{"cells": 3}', '{"cells": [{"cell_type": "code", '
                       '"source": ["def f():\\n", "  pass"]}, {"cell_type": "code", "source": 7}]}']) == [
        "def f():\n  pass"]
    assert code_cells(["```{code-cell} ipython3\n:tags: [hide-input]\n%time x = 1\ndef f(): pass\n```\n"]) == [
        "\ndef f(): pass\n"]
    row = make_row("graded", "", "ex4", grade_answers({}, ["ch4.gap"])[0])
    row["scores"]["ch4.stable_lse"], row["feedback"]["ch4.stable_lse"] = 0.0, {"status": "not right yet"}
    for answer in ({"t": "num", "v": 1.0}, {"t": "seq", "v": [{"t": "fn", "name": "lse"}] * 2},
                   {"t": "seq", "v": "x"}, {"t": "fn", "name": "elsewhere"}, "nonsense"):
        assert fingerprint({"ch4.stable_lse": answer}, row, [_cell("elsewhere = 1")]) == {}
    named = fingerprint({"ch4.stable_lse": {"t": "fn", "name": "lse"}}, row, [_cell(LOOP_LSE)])
    for answer in ({"t": "fn"}, {"t": "fn", "name": 3}, {"t": "fn", "name": "not an identifier"}):
        # a record without a usable name: the function the exercise asks for, by its name
        assert fingerprint({"ch4.stable_lse": answer}, row, [_cell(LOOP_LSE)]) == named != {}
    deep = {"t": "num", "v": 1.0}
    for _ in range(50):
        deep = {"t": "seq", "v": [deep]}
    row["feedback"]["ch4.gap"] = {"status": "not right yet"}
    assert fingerprint({"ch4.gap": deep}, row, []) == {}


def test_fingerprints_that_are_not_plain_are_not_compared():
    rows = _class({"ann.md": {**RIGHT, "ch4.gap": "2*d", "ch4.bound": "n/(2*lam)"},
                   "bob.md": {**RIGHT, "ch4.gap": "2*d", "ch4.bound": "n/(2*lam)"}}, honest=2)
    rows += [("x.md", {"similar": "nonsense"}), ("y.md", {"similar": {"ch4.gap": 3, "ch4.bound": {"key": 4}}}),
             ("z.md", {}), ("w.md", "not a row")]
    assert [g["members"] for g in find(rows)] == [["ann.md", "bob.md"]]


def test_the_section_and_its_csv_escape_what_learners_control(tmp_path):
    evil = "<script>alert(1)</script>"
    rows = _class({"=cmd|' /C calc'!A0.md": {**RIGHT, "ch4.gap": evil, "ch4.bound": "n/(2*lam)"},
                   f"{evil}.md": {**RIGHT, "ch4.gap": evil, "ch4.bound": "n/(2*lam)"}}, honest=3)
    page = similar_html(find(rows))
    assert "<script>" not in page and "&lt;script&gt;" in page and "flags, not verdicts" in page
    out = tmp_path / "grades.csv"
    written = write_all(rows, out)
    assert out.with_name("grades_similar.csv") in written and out.with_name("grades_similar.csv") in Outputs(out).every()
    lines = list(csv.DictReader(io.StringIO(out.with_name("grades_similar.csv").read_text())))
    assert [(x["group"], x["strength"], x["exercise"]) for x in lines] == [("1", "2.00", "ch4.gap"),
                                                                          ("1", "2.00", "ch4.bound")]
    assert lines[0]["submissions"].startswith("'=cmd")                      # no spreadsheet formula
    assert "<h2>Submissions that look alike</h2>" in out.with_name("grades_report.html").read_text()
    assert similar_csv([]).startswith("group,strength,") and "No submissions share" in similar_html([])


# --------------------------------------------------------------------------- one batch run

EX4 = ROOT / "exercises" / "ex4_logsumexp.md"


def _notebook(**cells) -> str:
    """The shipped ex4 notebook solved with the key's answers, some cells replaced."""
    names = {"ch4.gap": "gap", "ch4.bound": "bound", "ch4.stable_lse": "lse"}
    answers = dict(submissions.SOLVED)
    for ex_id, source in cells.items():
        ex_id = "ch4." + ex_id
        answers[ex_id] = (f"{source}\n\n" if source.startswith("def") else f"{names[ex_id]} = {source!r}\n\n") + \
            f'check("{ex_id}", {names[ex_id]})'
    return submissions.render(EX4.read_text(), answers)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from softmaxbook.grader.batch import grade_folder
    subs = tmp_path_factory.mktemp("similar")
    shutil.copy(ROOT / "tests" / "fixtures" / "solved" / EX4.name, subs / "honest_a.md")
    (subs / "honest_b.md").write_text(_notebook(stable_lse=REFERENCE.replace('"""log(sum(exp(x))), computed stably."""',
                                                                            "# as in the chapter")))
    (subs / "honest_c.md").write_text(_notebook(gap="3*d"))
    (subs / "copy_a.md").write_text(_notebook(gap="log(2)/2", bound="2*log(n)/lam", stable_lse=LOOP_LSE))
    (subs / "copy_b.md").write_text(_notebook(gap="log(2) / 2", bound="2*log(n) / lam", stable_lse=LOOP_LSE_RENAMED))
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    grade_folder(subs, out, workers=2, cell_timeout=20, total_timeout=120, log=lambda s: None)
    return out


def test_the_class_report_names_the_planted_pair_and_no_honest_submission(planted):
    page = planted.with_name("grades_report.html").read_text()
    section = page.split("<h2>Submissions that look alike</h2>")[1]
    assert "copy_a.md, copy_b.md" in section and section.count("<th scope='row'>") == 1
    assert "honest" not in section
    lines = list(csv.DictReader(open(planted.with_name("grades_similar.csv"))))
    assert {x["submissions"] for x in lines} == {"copy_a.md; copy_b.md"}
    # gap and bound: two wrong answers only these two give (1 each); lse: the same code, not the reference (2).
    assert {x["exercise"]: x["why"].split(" (")[0] for x in lines} == {
        "ch4.gap": "the same wrong answer: log(2)/2", "ch4.bound": "the same wrong answer: 2*log(n)/lam",
        "ch4.stable_lse": "the same function code once names, comments, docstrings and formatting are set aside"}
    assert {x["strength"] for x in lines} == {"4.00"}
