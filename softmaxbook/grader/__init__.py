"""Graded exercises (all chapters): ``check``, ``progress``, ``exercises`` and the batch grader.

Learners call ``check(exercise_id, answer)`` in the notebooks of ``exercises/``;
instructors run ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.
The answer key and grading one answer: :mod:`.key` (the answer key as data: one TOML file
per chapter, the assignments, hidden cases of function answers in ``key/chN_cases.py``),
:mod:`.registry` (the exercises built from it), :mod:`.result` (what a check returns),
:mod:`.kinds` (what the answer kinds share: symbolic, numeric, choice and function answers are
:mod:`.kind_symbolic`, :mod:`.kind_numeric`, :mod:`.kind_choice`, :mod:`.kind_function`),
:mod:`.reading` (a plain answer into sympy values of a shape), :mod:`.probes` (feedback naming a point or property a
wrong answer breaks), :mod:`.hidden` (hidden test cases and judges), :mod:`.parse`
(whitelisted math strings: :mod:`.parse_rules` its limits, names and error, :mod:`.parse_tree`
the walk that builds sympy; :mod:`.pointing`: what in one the learner wrote wrong),
:mod:`.compare` (equivalence), :mod:`.precision` (the precision a number answer needs, stated
once in the key), :mod:`.prose` (formulas in feedback texts; :mod:`.prose_runs` cuts a text
into runs),
:mod:`.sandbox` and :mod:`.fnrun` (function answers in a fresh jailed interpreter; in a
learner's session, in its warm jail: :mod:`.warm`),
:mod:`.answers` (plain-data form of answers), :mod:`.untrusted` (the check of JSON from
untrusted code), :mod:`.learner` (check, progress and its export/import), :mod:`.practice`
(the website's kernel-free practice checks).

The batch grader, in the order a submission goes through it: :mod:`.command` (the command
line), :mod:`.batch` (the orchestration),
:mod:`.submissions` (the folder), :mod:`.assignments` (which assignment a
submission is), :mod:`.running` (one notebook in the jail: :mod:`.jail`, with :mod:`.bwrap`, :mod:`.processes`
and :mod:`.cgroups`; :mod:`.runner` inside it), :mod:`.grading` (its answers graded, its status),
:mod:`.gradebook` (rows, CSV, file names), :mod:`.feedback` (each learner's Markdown and page,
the instructor's index and archive), :mod:`.report` (the class report, with :mod:`.similarity`),
:mod:`.lms` (who submitted: the roster or a Canvas archive's file names; the files an LMS
imports), :mod:`.late` (due date and late penalty) and :mod:`.cluster` (submissions run
and graded on dask workers); around them :mod:`.selftest` (a solved and a shipped submission from the key,
graded first), :mod:`.state` (the resume state, key fingerprints, history and change log) and
:mod:`.overrides` (a teaching assistant's scores, applied on every run).
"""

from .learner import check, exercises, import_progress, progress
from .registry import EXERCISES, Result

__all__ = ["check", "progress", "import_progress", "exercises", "EXERCISES", "Result"]
