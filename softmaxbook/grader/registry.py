"""The exercise registry (graded exercises, all chapters), built from the answer key.

The key is data: one TOML file per chapter in :mod:`.key` (ids, tasks, answer kinds,
references, known wrong answers with their feedback, probes), plus a Python module per
chapter for the hidden tests of function answers. The grading engine is split by job:
:mod:`.result` (what a check returns), :mod:`.kinds` (what the answer kinds share; each kind in
its own ``kind_*`` module), :mod:`.reading` (a plain answer into sympy values of a shape),
:mod:`.probes` (feedback that teaches without giving the answer away), :mod:`.hidden`
(cases, judges) and :mod:`.sandbox` (function answers in a jailed interpreter).
Adding an exercise is one key entry plus one notebook cell.
"""

from __future__ import annotations

from . import key
from .hidden import Case, Hidden, judge_codec, judge_int, judge_value  # noqa: F401  (public names)
from .kinds import Exercise
from .result import Result, describe, not_answered  # noqa: F401

EXERCISES: dict[str, Exercise] = key.load()


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; ``KeyError`` with close matches otherwise."""
    if exercise_id in EXERCISES:
        return EXERCISES[exercise_id]
    import difflib
    close = difflib.get_close_matches(str(exercise_id), list(EXERCISES), n=3)
    raise KeyError(f"unknown exercise id {exercise_id!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))


def listing() -> list[tuple[str, str, str]]:
    """``(id, one-line task, expected answer type)`` for every exercise, in course order."""
    return [(e.id, e.task, e.answer_type) for e in EXERCISES.values()]


def check_key(functions: bool = False) -> list[str]:
    """Problems of the answer key in words (empty when sound); see :func:`.key.check`.
    ``python -m softmaxbook.grader.key`` prints them."""
    return key.check(EXERCISES, functions=functions)
