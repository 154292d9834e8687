"""Graded exercises (all chapters): ``check``, ``progress``, ``exercises`` and the batch grader.

Learners call ``check(exercise_id, answer)`` in the notebooks of ``exercises/``;
instructors run ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.
The answer key and grading one answer: :mod:`.key` (the answer key as data: one TOML file
per chapter, the assignments, hidden cases of function answers in ``key/chN_cases.py``),
:mod:`.registry` (the exercises built from it), :mod:`.result` (what a check returns),
:mod:`.kinds` (symbolic, numeric, choice and function answers), :mod:`.reading` (a plain
answer into sympy values of a shape), :mod:`.probes` (feedback naming a point or property a
wrong answer breaks), :mod:`.hidden` (hidden test cases and judges), :mod:`.parse`
(whitelisted math strings; :mod:`.pointing`: what in one the learner wrote wrong), :mod:`.compare` (equivalence), :mod:`.precision` (the precision a
number answer needs, stated once in the key), :mod:`.prose` (formulas in feedback texts),
:mod:`.sandbox` and :mod:`.fnrun` (function answers in a fresh jailed interpreter),
:mod:`.answers` (plain-data form of answers), :mod:`.untrusted` (the check of JSON from
untrusted code), :mod:`.learner` (check, progress and its export/import), :mod:`.practice`
(the website's kernel-free practice checks).

The batch grader, in the order a submission goes through it: :mod:`.batch` (orchestration
and command line), :mod:`.submissions` (the folder), :mod:`.assignments` (which assignment a
submission is), :mod:`.running` (one notebook in the jail: :mod:`.jail`, :mod:`.cgroups`,
:mod:`.runner` inside it), :mod:`.grading` (its answers graded, its status),
:mod:`.gradebook` (rows, CSV, feedback, file names), :mod:`.report` (the class report and LMS
files, with :mod:`.similarity`) and :mod:`.cluster` (submissions run and graded on dask workers).
"""

from .learner import check, exercises, import_progress, progress
from .registry import EXERCISES, Result

__all__ = ["check", "progress", "import_progress", "exercises", "EXERCISES", "Result"]
