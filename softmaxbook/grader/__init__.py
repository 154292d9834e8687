"""Graded exercises (all chapters): ``check``, ``progress``, ``exercises`` and the batch grader.

Learners call ``check(exercise_id, answer)`` in the notebooks of ``exercises/``;
instructors run ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.
Modules: :mod:`.registry` (exercises, references, feedback, hidden tests),
:mod:`.parse` (whitelisted math strings), :mod:`.compare` (equivalence),
:mod:`.sandbox` (function answers in a fresh jailed interpreter, hard timeouts), :mod:`.answers` (plain-data form
of answers), :mod:`.learner` (check/progress), :mod:`.batch` (the batch grader), :mod:`.jail`
(bubblewrap sandbox with limits and group kill) and :mod:`.runner` (one notebook, run inside it).
"""

from .learner import check, exercises, progress
from .registry import EXERCISES, Result

__all__ = ["check", "progress", "exercises", "EXERCISES", "Result"]
