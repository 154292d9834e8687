"""``check()`` never promises more than the batch gives: every reference and declared wrong
answer of the key, and every honest, naive and hostile variant of the test suite gets the
same verdict and score from ``check()`` in a notebook and from the batch grader's grading of
the answer ``check`` journalled (plain JSON, graded again in the batch's own process); the
messages are the same too, except for hostile functions, whose failure can be told in other
words (a time limit or a crash, depending on the moment the jail stops them). A notebook of
naive and rounded answers then goes through the whole batch (executed in its jail)."""

from __future__ import annotations

import json
import math
import re
import sys

import cloudpickle
import numpy as np
import pytest

import test_grader_functions as function_tests
import test_grader_key as key_tests
import test_grader_learner as learner_tests
from conftest import ROOT
from softmaxbook.grader import EXERCISES, check, jail, learner
from softmaxbook.grader.grading import grade_answers, grade_submission
from softmaxbook.grader.kinds import secret_points
from softmaxbook.grader.key import solution_functions
from softmaxbook.grader.kinds import key_value

cloudpickle.register_pickle_by_value(sys.modules[__name__])   # as if defined in a notebook
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import submissions  # noqa: E402


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


def _naive_softmin(x, lam):
    """The formula as written: -log(sum(exp(-lam x))) / lam, with no shift."""
    return float(-np.log(np.sum(np.exp(-lam * np.asarray(x, dtype=float)))) / lam)


def _naive_lse(x):
    return float(np.log(np.sum(np.exp(np.asarray(x, dtype=float)))))


def _float_block_bits(n):
    """ceil(n log2 3) in floating point: right for small n."""
    if n < 1:
        raise ValueError("n >= 1")
    return math.ceil(n * math.log2(3))


def _key_answers():
    """The key's own answers as a learner would pass them: each reference, each declared wrong one."""
    for ex in EXERCISES.values():
        if ex.kind == "function":
            yield ex.id, solution_functions(ex.hidden.solution, ex.names), "the reference"
            for source in ex.hidden.misconceptions.values():
                yield ex.id, solution_functions(source, ex.names), "a declared wrong answer"
        elif ex.kind == "choice":
            yield ex.id, ex.correct, "the reference"
            for letter in ex.feedback:
                yield ex.id, letter, "a declared wrong answer"
        else:
            names = ex.key_names()
            yield ex.id, key_value(ex.reference, names, ex.shape), "the reference"
            for formula, _ in ex.wrong:
                yield ex.id, key_value(formula, names, ex.shape), "a declared wrong answer"


NAIVE = [
    ("ch4.softmin", _naive_softmin), ("ch4.stable_lse", _naive_lse), ("ch3.block_bits", _float_block_bits),
    ("ch3.huffman_rate", 1.67), ("ch3.huffman_rate", 1.66), ("ch3.entropy", 1.58), ("ch3.entropy", 1.6),
    ("ch1.moment_matching", [0.4, -1.0, 0.6]), ("ch1.moment_matching", [0.3877, -0.9986, 0.6109]),
    ("ch2.hessian", "diag(p) - p p^T"),
]
HONEST = [(i, a, "honest") for i, a in learner_tests.right_answers().items()] + \
    [(i, a, "naive") for i, a in NAIVE] + \
    [(i, a, "naive") for i, a, _ in learner_tests.WRONG] + \
    [(i, a, "naive") for i, a, _ in key_tests._wrong_but_undeclared()] + list(_key_answers())
HOSTILE = [(i, a, "hostile") for i, a, _ in learner_tests.HOSTILE] + \
    [("ch4.stable_lse", f, "hostile") for f, _ in function_tests.HOSTILE]


#: A gradebook's secret seed (the batch draws one per gradebook; any seed must agree).
BATCH_SEED = 20261203


def _both(ex_id, answer):
    """``check``'s result, and the batch's for what ``check`` journalled (through JSON, as the
    journal carries it), graded under a gradebook's secret seed as the batch grades it."""
    learner._SUBMITTED.pop(ex_id, None)
    mine = check(ex_id, answer)
    journalled = learner.submitted().get(ex_id)
    if journalled is None:                   # not answered (a placeholder): nothing reaches the batch
        return mine, None
    with secret_points(BATCH_SEED):         # as the batch grades: secret points and secret twins
        results, _ = grade_answers({ex_id: json.loads(json.dumps(journalled))}, ids=[ex_id])
    return mine, results[ex_id]


def _how_checked_aside(message: str) -> str:
    """The message without how a right formula was confirmed: "checked symbolically" when sympy
    proves the identity within its time budget, "checked at random points" when it does not
    (a cold first call may run out of it where a warm second one does not). Same verdict."""
    return re.sub(r"\(checked (symbolically|at random points)\)", "(checked)", message)


def _id(case):
    return f"{case[0]}-{case[2]}"


def test_the_comparison_covers_every_exercise_with_its_reference_and_wrong_answers():
    covered = {(i, kind) for i, _, kind in HONEST}
    assert {i for i, kind in covered if kind == "the reference"} == set(EXERCISES)
    assert {i for i, kind in covered if kind == "a declared wrong answer"} == set(EXERCISES)
    assert len(HONEST) > 150 and len(HOSTILE) > 30


@pytest.mark.parametrize("ex_id, answer, what", HONEST, ids=[_id(c) for c in HONEST])
def test_check_and_the_batch_give_the_same_verdict_score_and_feedback(ex_id, answer, what):
    mine, batch = _both(ex_id, answer)
    assert batch is not None, mine.message
    assert (mine.passed, mine.score, _how_checked_aside(mine.message)) == \
        (batch.passed, batch.score, _how_checked_aside(batch.message))
    if what == "the reference":
        assert mine.passed and mine.score == 1.0, mine.message
    if what == "a declared wrong answer":
        assert not mine.passed, mine.message


@pytest.mark.parametrize("ex_id, answer, what", HOSTILE, ids=[_id(c) for c in HOSTILE])
def test_check_and_the_batch_give_the_same_score_to_hostile_answers(ex_id, answer, what):
    mine, batch = _both(ex_id, answer)
    if batch is not None:
        assert (mine.passed, mine.score) == (batch.passed, batch.score), (mine.message, batch.message)


def test_the_naive_soft_min_is_not_told_correct():
    """The issue's case: 'Correct: all 5 hidden tests pass' from check(), 71 % in the batch."""
    mine, batch = _both("ch4.softmin", _naive_softmin)
    assert not mine.passed and mine.score == batch.score == pytest.approx(5 / 7)
    assert "use a stable LSE" in mine.message and mine.message == batch.message


def test_a_notebook_of_naive_and_rounded_answers_gets_in_the_batch_what_check_gave(tmp_path):
    answers = {
        "ch4.softmin": "def softmin(x, lam):\n    return float(-np.log(np.sum(np.exp(-lam * np.asarray(x)))) / lam)\n\n\n"
                       'check("ch4.softmin", softmin)',
        "ch4.gap": 'gap = "log(1 + exp(-d))"\n\ncheck("ch4.gap", gap)',
        "ch4.bound": 'bound = "log(n) / λ"\n\ncheck("ch4.bound", bound)',
        "ch4.limit": 'limit = "(a)"\n\ncheck("ch4.limit", limit)',
    }
    nb = ROOT / "exercises" / "ex4_logsumexp.md"
    path = tmp_path / nb.name
    path.write_text(submissions.render(nb.read_text(), answers))
    row = grade_submission([path], cell_timeout=30, total_timeout=120, sandbox=jail.available())
    assert row["status"] == "graded", row["reason"]
    expected = {"ch4.softmin": check("ch4.softmin", _naive_softmin).score, "ch4.gap": 1.0, "ch4.bound": 1.0,
                "ch4.limit": 1.0}
    assert {i: row["scores"][i] for i in expected} == expected
    assert expected["ch4.softmin"] == pytest.approx(5 / 7)
