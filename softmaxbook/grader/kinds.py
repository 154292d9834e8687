"""The answer kinds of graded exercises (all chapters): what every kind shares. The kinds
themselves: :class:`.kind_symbolic.Symbolic` (an expression, vector or matrix in the exercise's
symbols), :class:`.kind_numeric.Numeric` (numbers with a tolerance), :class:`.kind_choice.Choice`
(one letter) and :class:`.kind_function.Function` (Python functions run by hidden tests).

Each kind grades the plain-data form of an answer (see :mod:`.answers`) and returns a
:class:`.result.Result`; what is graded against (references, known wrong answers with
their feedback, probes, hidden cases) comes from the key (:mod:`.key`), written as
formulas that the course's whitelisted parser (:mod:`.parse`) reads. Here: :class:`Exercise`
(the base of every kind), :class:`FromFormulas` (the base of the kinds whose reference is a key
formula), :func:`key_value` and :func:`learner_form` (a key formula parsed, and as a learner
would send it) and :func:`secret_points` (the batch's secret sample points).
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager

import numpy as np

from ..i18n import _
from . import answers, reading
from .parse import parse
from .parse_rules import ParseError, symbol_names
from .result import Result, expected, not_answered

KEY_FUNCTIONS = None        # the key's formulas may use every function the parser knows
# The batch's secret seed while it grades (:func:`secret_points`): strict grading also tests
# answers at points and on inputs drawn from it, which no learner can know in advance.
_SECRET: list = []


@contextmanager
def secret_points(seed: int | None):
    """Within the block, strict grading (the batch's) also evaluates symbolic answers at points
    drawn from ``seed``, and runs each hidden test of a function answer on a twin input drawn
    from it (:class:`.hidden.Hidden`): the key's public points and cases alone can be fooled by a
    formula or a table that is right there only. ``None``: the public points and cases only."""
    _SECRET.append(seed)
    try:
        yield
    finally:
        _SECRET.pop()


def secret_seed() -> int | None:
    """The secret seed of the enclosing :func:`secret_points` block, ``None`` outside one."""
    return _SECRET[-1] if _SECRET else None


def secret_rng(ex_id: str, *more: int) -> np.random.Generator:
    """The generator of ``ex_id``'s secret draws (a given seed always draws the same)."""
    return np.random.default_rng([secret_seed(), zlib.crc32(ex_id.encode()), *more])


class Exercise:
    kind, points = "?", 1.0     # points: its weight in a gradebook, the key's ``points`` (set by key.load)

    def __init__(self, id, task, answer, chapter):
        # answer: what is expected, as the key says it ("a vector of 3 numbers"); answer_type
        # adds the precision the answer is graded at.
        self.id, self.task, self.answer, self.chapter = id, task, answer, chapter

    def precision_text(self):
        """How exact the answer must be, in the task's words ("" when it goes without saying)."""
        return ""

    @property
    def answer_type(self):
        """What is expected and how exact, as the learner reads it (``exercises()``, messages)."""
        how = self.precision_text()
        return _("{answer}, {precision}").format(answer=self.answer, precision=how) if how else self.answer

    def grade(self, ans: dict, strict: bool = False) -> Result:
        """Grade a plain answer. ``strict`` is set by the batch grader; no kind grades
        differently under it today (``check`` must never promise more than the batch gives),
        and the batch keeps it as the place for grading-time checks of its own."""
        if not isinstance(ans, dict) or ans.get("t") == "none":
            return not_answered(self.id, _("expected {answer}").format(answer=self.answer_type))
        if ans.get("t") == "bad":
            return expected(self.id, self.answer, ans)
        return self._grade(ans, strict)

    def misconceptions(self) -> list[tuple[object, str]]:
        """``(answer as plain data, feedback)`` for every wrong answer the key declares."""
        return []

    def _grade(self, ans, strict):  # pragma: no cover - abstract
        raise NotImplementedError


def learner_form(value) -> dict:
    """The plain-data form of a parsed key formula (the key's helper names expanded), as a
    learner's answer would arrive: sympy's printed form, read again by the parser."""
    return answers.serialise(value)


def key_value(formula, names, shape=None):
    """Parse a key formula (a string, a number, or nested lists of them) with ``names`` (symbols
    and the key's own named helpers); ``shape`` checks the result like a learner's answer."""
    def one(f):
        if isinstance(f, list):
            return [one(e) for e in f]
        return parse(str(f), names, KEY_FUNCTIONS)
    value = one(formula)
    return reading.check_shape(value, shape) if shape is not None else value


class FromFormulas(Exercise):
    """An exercise whose reference and wrong answers are key formulas (symbolic, numeric);
    ``let`` names helper formulas the key may use (the learner may not)."""

    shape: tuple = ()
    let: dict
    symbols: tuple = ()

    def key_names(self) -> dict:
        names = symbol_names(self.symbols)
        for name, formula in self.let.items():
            names[name] = key_value(formula, names)
        return names

    def misconceptions(self):
        names = self.key_names()
        return [(learner_form(key_value(w, names, self.shape)), msg) for w, msg in self.wrong]

    def right_answer(self) -> dict:
        return learner_form(key_value(self.reference, self.key_names(), self.shape))

    def parse_key(self) -> None:
        """Parse every formula of this exercise in the key (``ParseError`` naming the first
        that does not parse): the reference, each wrong answer, the substitution tiers."""
        names = self.key_names()
        labelled = [("the reference", self.reference, self.shape)]
        labelled += [(f"wrong answer {k + 1}", w, self.shape) for k, (w, _) in enumerate(self.wrong)]
        labelled += [(f"canon {n}", f, None) for tier in getattr(self, "canon", ()) for n, f in tier.items()]
        for label, formula, shape in labelled:
            try:
                key_value(formula, names, shape)
            except ParseError as exc:
                raise ParseError(f"{label} {formula!r}: {exc}") from None
