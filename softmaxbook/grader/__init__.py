"""Graded exercises (all chapters): ``check``, ``progress``, ``exercises`` and the batch grader.

Learners call ``check(exercise_id, answer)`` in the notebooks of ``exercises/``;
instructors run ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.
Modules: :mod:`.key` (the answer key as data: one TOML file per chapter, hidden cases of
function answers in ``key/chN_cases.py``), :mod:`.registry` (the exercises built from it),
:mod:`.result` (what a check returns), :mod:`.kinds` (symbolic, numeric, choice and function
answers), :mod:`.reading` (a plain answer into sympy values of a shape), :mod:`.probes`
(feedback naming a point or property a wrong answer breaks), :mod:`.hidden` (hidden test
cases and judges), :mod:`.parse` (whitelisted math strings), :mod:`.compare` (equivalence),
:mod:`.precision` (the precision a number answer needs, stated once in the key), :mod:`.prose`
(formulas in feedback texts, read so that the key check catches a text stating the reference),
:mod:`.practice` (the website's kernel-free practice checks),
:mod:`.sandbox` (function answers in a fresh jailed interpreter, hard timeouts), :mod:`.answers` (plain-data form
of answers), :mod:`.learner` (check, progress and its export/import), :mod:`.batch` (the batch grader),
:mod:`.similarity` (submissions that look alike, for its class report), :mod:`.jail`
(bubblewrap sandbox with limits and group kill) and :mod:`.runner` (one notebook, run inside it).
"""

from .learner import check, exercises, import_progress, progress
from .registry import EXERCISES, Result

__all__ = ["check", "progress", "import_progress", "exercises", "EXERCISES", "Result"]
