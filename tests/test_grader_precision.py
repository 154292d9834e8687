"""One tolerance, stated (softmaxbook.grader.precision): the key gives each numeric exercise's
precision once; the answer type and the exercise notebooks say it; an answer within it scores
full marks; a close one is told what to do ("give at least N significant digits", "round, do
not truncate", "give the exact value"), never a bare "Not the expected value"; rounded wrong
answers keep their own feedback. Symbolic tasks say "exactly". Checked over every exercise."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from softmaxbook.grader import EXERCISES, check, exercises
from softmaxbook.grader.precision import CLOSE, Precision, half_unit, significant_digits

ROOT = Path(__file__).resolve().parents[1]
NUMERIC = [e for e in EXERCISES.values() if e.kind == "numeric"]
DIGITS = [e for e in NUMERIC if e.precision.digits]
EXACT = [e for e in NUMERIC if e.precision.digits is None]


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


def _round(values, digits):
    return [float(f"{v:.{digits}g}") for v in values]


def _truncate(v, digits):
    """``v`` cut (not rounded) after ``digits`` significant digits."""
    unit = 10.0 ** (np.floor(np.log10(abs(v))) - digits + 1)
    return float(np.trunc(v / unit) * unit)


def _shaped(ex, flat):
    return np.array(flat).reshape(ex.shape).tolist() if ex.shape else flat[0]


def test_significant_digits_and_half_units():
    assert [significant_digits(x) for x in (1.6, 1.667, 0.05, 100.0, -0.9986, 5 / 3)] == [2, 4, 1, 1, 4, 17]
    assert half_unit([5 / 3, 0.3877, 1234.0, 0.0], 3).tolist() == pytest.approx([0.005, 0.0005, 5.0, 0.0])
    assert Precision.from_key(3).phrase == "to 3 significant digits" and Precision.from_key("exact").phrase == "exactly"
    for bad in (0, 16, 2.5, True, "3", None):
        with pytest.raises(ValueError, match="states its precision once"):
            Precision.from_key(bad)


@pytest.mark.parametrize("ex_id, answer", [
    ("ch3.huffman_rate", 1.667), ("ch3.huffman_rate", 1.67), ("ch3.huffman_rate", "5/3"), ("ch3.huffman_rate", 5 / 3),
    ("ch3.entropy", 1.58), ("ch3.entropy", 1.585), ("ch3.entropy", "log2(3)"),
    ("ch1.moment_matching", [0.3877, -0.9986, 0.6109]), ("ch1.moment_matching", [0.388, -0.999, 0.611]),
    ("ch2.max_eigenvalue", 0.5), ("ch1.hessian_rank", 4.0),
])
def test_the_answers_the_issue_names_score_full_marks(ex_id, answer):
    r = check(ex_id, answer)
    assert (r.passed, r.score, r.message) == (True, 1.0, "Correct."), r.message


@pytest.mark.parametrize("ex_id, answer, message", [
    ("ch3.huffman_rate", 1.66, "Close, but not right to 3 significant digits: round the last digit (do not truncate)."),
    ("ch3.huffman_rate", 1.6, "Close: give at least 3 significant digits (rounded, not truncated)."),
    ("ch3.huffman_rate", 1.7, "Close: give at least 3 significant digits (rounded, not truncated)."),
    ("ch3.entropy", 1.6, "Close: give at least 3 significant digits (rounded, not truncated)."),
    ("ch1.moment_matching", [0.4, -1.0, 0.6], "Close: give at least 3 significant digits (rounded, not truncated) — "
                                              "entries not right: #1, #2, #3."),
    ("ch2.max_eigenvalue", 0.499, "Close, but not exact: give the exact value (a fraction such as '1/3', an "
                                  "expression such as 'log(2)', or all the digits)."),
    ("ch1.hessian_rank", 3.99, "Close, but not exact: the answer is a whole number."),
    ("ch3.huffman_rate", 1.5, "Not the expected value."),
])
def test_close_answers_hear_what_to_do(ex_id, answer, message):
    r = check(ex_id, answer)
    assert not r.passed and r.message == message, r.message


@pytest.mark.parametrize("ex", DIGITS, ids=lambda e: e.id)
def test_every_reference_rounded_to_its_digits_scores_full_marks(ex):
    ref, _, _ = ex.bands()
    n = ex.precision.digits
    for digits in (n, n + 1, n + 3):
        r = check(ex.id, _shaped(ex, _round(ref, digits)))
        assert (r.passed, r.score) == (True, 1.0), (digits, r.message)
    fewer = check(ex.id, _shaped(ex, _round(ref, n - 1)))
    assert not fewer.passed and fewer.message.startswith(f"Close: give at least {n} significant digits"), fewer.message
    truncated = [_truncate(v, n) for v in ref]
    if truncated != _round(ref, n):
        r = check(ex.id, _shaped(ex, truncated))
        # 0.6109 cut to 3 digits is 0.610, which a float holds as 0.61: two digits
        told = "do not truncate" if all(significant_digits(v) >= n for v in truncated) else "give at least"
        assert not r.passed and told in r.message, r.message


@pytest.mark.parametrize("ex", EXACT, ids=lambda e: e.id)
def test_every_exact_reference_scores_full_marks_and_a_near_miss_is_told_to_be_exact(ex):
    ref, _, _ = ex.bands()
    assert check(ex.id, _shaped(ex, ref.tolist())).passed
    assert check(ex.id, _shaped(ex, (ref * (1 + 1e-12)).tolist())).passed        # round-off is forgiven
    r = check(ex.id, _shaped(ex, (ref * (1 + CLOSE / 5) + (ref == 0) * 1e-3).tolist()))
    assert not r.passed and r.message.startswith("Close, but not exact"), r.message


@pytest.mark.parametrize("ex", NUMERIC, ids=lambda e: e.id)
def test_declared_wrong_answers_rounded_keep_their_own_feedback(ex):
    digits = ex.precision.digits or 3
    for (answer, feedback), (value, _, _) in zip(ex.misconceptions(), ex.bands()[2]):
        r = check(ex.id, _shaped(ex, [float(f"{v:.{digits}g}") for v in value]))
        assert not r.passed and r.message == feedback, (value, r.message)


def _answer_types():
    return {row[0]: row[2] for row in exercises().rows}


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_the_listing_states_the_precision_of_every_exercise(ex_id):
    ex, shown = EXERCISES[ex_id], _answer_types()[ex_id]
    if ex.kind == "numeric":
        assert shown.endswith(ex.precision.text(ex.whole)) and ex.precision.phrase in shown
        assert "rounded, not truncated" in shown if ex.precision.digits else "exactly" in shown
    elif ex.kind == "symbolic":
        assert "exactly" in shown
    else:
        assert "significant digits" not in shown and "exactly" not in shown


def _questions():
    """``{exercise id: the text a learner reads for it}``: the Markdown between the previous code
    cell and the cell that checks it, in the shipped notebooks (bold marks removed)."""
    out = {}
    for nb in sorted((ROOT / "exercises").glob("ex*.md")):
        text = nb.read_text()
        for m in re.finditer(r'```\{code-cell\} ipython3\n(.*?)\n```', text, re.S):
            ids = re.findall(r'check\("([^"]+)"', m.group(1))
            if ids:
                before = text[:m.start()].rsplit("```\n", 1)[-1]
                out[ids[0]] = " ".join(before.replace("**", "").split())
    return out


@pytest.mark.parametrize("ex_id", [i for i, e in EXERCISES.items() if e.kind in ("numeric", "symbolic")])
def test_every_notebook_question_says_the_precision_the_key_states(ex_id):
    ex, question = EXERCISES[ex_id], _questions()[ex_id]
    phrase = ex.precision.phrase if ex.kind == "numeric" else "exactly"
    assert phrase in question, question
    if ex.kind == "numeric" and ex.precision.digits:
        assert "rounded, not truncated" in question


def _examples(text: str) -> list:
    """Format examples a notebook shows: quoted strings in backticks, lists after 'e.g.'."""
    found = re.findall(r'`"([^"`]+)"`', text)
    for m in re.findall(r"e\.g\. (\[[^\]]*\])", text):
        try:
            found.append(ast.literal_eval(m))
        except (ValueError, SyntaxError):
            pass                                     # [expr1, expr2, expr3]: not a value
    return found


@pytest.mark.parametrize("nb", sorted((ROOT / "exercises").glob("ex*.md")), ids=lambda p: p.stem)
def test_no_format_example_of_a_notebook_is_the_answer_to_one_of_its_questions(nb):
    text = nb.read_text()
    ids = set(re.findall(r'check\("([^"]+)"', text))
    examples = _examples(text)
    assert examples, "every exercise notebook shows how to write an answer"
    for example in examples:
        for ex_id in ids:
            if EXERCISES[ex_id].kind in ("numeric", "symbolic"):
                assert not check(ex_id, example).passed, (example, ex_id)
