"""What a dask worker sends back (``grade --scheduler``): the finished row of the submission it
ran and graded, which the instructor's process checks before it writes it
(:func:`softmaxbook.grader.cluster.read_task_result`, :func:`softmaxbook.grader.gradebook.check_row`).
No cluster needed: the task results are made here, right and broken in every way a row can be."""

from __future__ import annotations

import copy
import functools
import json
import re

import pytest

from softmaxbook.grader import cluster, registry
from softmaxbook.grader.assignments import exercise_ids
from softmaxbook.grader.gradebook import ROW_CAPS, check_row, make_row

IDS = exercise_ids("ex4")


def _row() -> dict:
    """A graded row of ex4 as a worker sends it: the first exercise right, the second partly, the
    rest not answered; a fingerprint of the first; the answers kept."""
    results = {IDS[0]: registry.Result(IDS[0], True, 1.0, "Correct."),
               IDS[1]: registry.Result(IDS[1], False, 0.5, "Half of it.", ["the sign is wrong"])}
    results.update({i: registry.Result(i, False, 0.0, "no answer", answered=False) for i in IDS[2:]})
    row = make_row("graded", "", "ex4", results, ["cell 3 raised ValueError"])
    row["seconds"] = 2.5
    row["similar"] = {IDS[0]: {"key": "0f" * 8, "right": True, "kind": "value", "show": "1.0"}}
    row["answers"] = {IDS[0]: {"t": "num", "v": 1.0}, IDS[1]: {"t": "num", "v": [0.5, [1, 2]]}}
    return json.loads(json.dumps(row))


def _result(row=None, names=("a.md",), **top) -> str:
    return json.dumps({"format": cluster.TASK_FORMAT, "names": list(names), "row": _row() if row is None else row,
                       **top})


def _changed(change) -> dict:
    row = _row()
    change(row)
    return row


def test_a_finished_row_comes_through_unchanged():
    assert cluster.read_task_result(_result(), ["a.md"]) == _row()
    error = json.loads(json.dumps(make_row("error", "grader error: ValueError: x")))   # no fingerprints
    assert cluster.read_task_result(_result(error), ["a.md"]) == error
    two = ["a.md", "b.md"]
    assert cluster.read_task_result(_result(names=two), two) == _row()


BROKEN_TASK_RESULTS = {
    "not a task result of this grader": [_result(format="softmaxbook-task/1"), _result(extra=1),
                                         json.dumps([_row()]), "null"],
    "a task result for other notebooks": [_result(names=["b.md"]), _result(names=["a.md", "b.md"]), _result(names=[])],
    "not JSON": ["{", "\udcff"],
    "task result too large": [_result(_changed(lambda r: r.update(reason="x" * cluster.max_task_result(1))))],
    "not text": [b"{}", None],
}

FORGED_ROWS = {
    "not a row of this grader": [lambda r: r.pop("scores"), lambda r: r.update(extra=1), lambda r: r.clear()],
    "an unknown status or assignment": [lambda r: r.update(status="excellent"), lambda r: r.update(assignment="ex9"),
                                        lambda r: r.update(assignment=["ex4"])],
    "wrong types": [lambda r: r.update(notes="a note"), lambda r: r.update(seconds="1"),
                    lambda r: r.update(seconds=-1.0), lambda r: r.update(seconds=True)],
    "scores that are not one in [0, 1] per exercise of the assignment": [
        lambda r: r["scores"].update({IDS[0]: 1.5}), lambda r: r["scores"].update({IDS[0]: float("nan")}),
        lambda r: r["scores"].update({IDS[0]: True}), lambda r: r["scores"].update({"softmax.x": 1.0}),
        lambda r: r["scores"].pop(IDS[-1]), lambda r: r.update(assignment="ex1"),
        lambda r: r.update(scores=dict(reversed(list(r["scores"].items()))))],
    "feedback that is not one per graded exercise": [
        lambda r: r["feedback"][IDS[0]].update(score=0.0), lambda r: r["feedback"][IDS[0]].update(status="perfect"),
        lambda r: r["feedback"][IDS[0]].update(status=["correct"]),
        lambda r: r["feedback"].update({"softmax.x": r["feedback"][IDS[0]]}), lambda r: r.update(feedback=[]),
        lambda r: r["feedback"][IDS[1]].update(details="the sign")],
    "a fingerprint that is not one of a graded exercise": [
        lambda r: r["similar"].update({"softmax.x": r["similar"][IDS[0]]}),
        lambda r: r["similar"][IDS[0]].update(right=1), lambda r: r["similar"][IDS[0]].pop("show"),
        lambda r: r.update(similar=[])],
    "a text that is not printable": [lambda r: r.update(reason="ok\nStatus: graded"),
                                     lambda r: r["notes"].append("\x1b[2J"), lambda r: r["notes"].append(3),
                                     lambda r: r["feedback"][IDS[0]].update(message="\u202edetcerroc")],
    "a text too long": [lambda r: r.update(reason="x" * (ROW_CAPS.text + 1))],
    "an answer too large or nested too deeply": [lambda r: r["feedback"][IDS[1]]["details"].append([[["deep"]]]),
                                                 lambda r: r.update(notes=["n"] * ROW_CAPS.values)],
    "an integer too large": [lambda r: r.update(seconds=2**70)],
    "answers that are not plain, bounded data": [
        lambda r: r.update(answers=[]), lambda r: r["answers"].update({"softmax.x": {"t": "num", "v": 1}}),
        lambda r: r["answers"].update({IDS[2]: {"t": "num", "v": functools.reduce(lambda x, _: [x], range(20), 1)}})],
}


@pytest.mark.parametrize("why", BROKEN_TASK_RESULTS)
def test_a_broken_task_result_is_refused_saying_why(why):
    for text in BROKEN_TASK_RESULTS[why]:
        with pytest.raises(ValueError, match=f"^{re.escape(why)}$"):
            cluster.read_task_result(text, ["a.md"])


@pytest.mark.parametrize("why", FORGED_ROWS)
def test_a_forged_row_is_refused_saying_why(why):
    for change in FORGED_ROWS[why]:
        row = _changed(change)
        with pytest.raises(ValueError, match=f"^{re.escape(why)}$"):
            cluster.read_task_result(_result(row), ["a.md"])
        with pytest.raises(ValueError, match=f"^{re.escape(why)}$"):
            check_row(copy.deepcopy(row))


def test_a_refused_task_result_becomes_an_error_row_of_its_entry():
    """The instructor's side of a finished task (:func:`.cluster.finished_row`): whatever the
    worker returned, a row; never an exception."""

    class Done:   # a finished dask future holding ``value``
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    for text in [t for texts in BROKEN_TASK_RESULTS.values() for t in texts] + [_result(_changed(
            FORGED_ROWS["a text that is not printable"][0]))]:
        row = cluster.finished_row(Done(text), ["a.md"])
        assert row["status"] == "error" and row["reason"].startswith("the worker's task result was invalid (")
        check_row(row)
    assert cluster.finished_row(Done(_result()), ["a.md"]) == _row()
