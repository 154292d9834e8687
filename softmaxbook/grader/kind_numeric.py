"""Numeric answers (graded exercises, all chapters): a number or an array of numbers, graded
at the precision the key states (:mod:`.precision`), its known wrong answers recognised within
their own tolerance.
"""

from __future__ import annotations

import numpy as np

from ..i18n import _
from . import compare, reading
from .kinds import FromFormulas, key_value
from .parse_rules import ParseError
from .precision import Precision, is_whole, near
from .reading import position
from .result import CORRECT, NONFINITE, NOT_EXPECTED, Result, too_slow, unreadable


class Numeric(FromFormulas):
    """A number or an array of numbers, graded at the precision the key states
    (:class:`.precision.Precision`: significant digits, rounded, or exact)."""

    kind = "numeric"

    def __init__(self, id, task, answer, chapter, reference, wrong=(), precision=None, shape=(), let=None):
        super().__init__(id, task, answer, chapter)
        self.reference, self.wrong, self.shape = reference, list(wrong), shape
        self.precision = precision or Precision()
        self.let = dict(let or {})
        self._cache = None

    def _value(self, formula, names):
        return np.array(reading.floats(key_value(formula, names, self.shape)), dtype=float)

    def bands(self):
        """``(reference, its tolerance, [(wrong value, its tolerance, feedback)])``, flat float
        arrays: all that grading needs besides the messages (the website's practice checks
        receive the same)."""
        if self._cache is None:
            names = self.key_names()
            ref = self._value(self.reference, names).ravel()
            values = [(self._value(f, names).ravel(), msg) for f, msg in self.wrong]
            wrong = [(w, self.precision.wrong_tolerance(w), msg) for w, msg in values]
            self._cache = (ref, self.precision.tolerance(ref), wrong)
        return self._cache

    @property
    def whole(self) -> bool:
        """The reference is made of whole numbers (the task then says "a whole number")."""
        return is_whole(self.bands()[0])

    def precision_text(self):
        return self.precision.text(self.whole)

    def _grade(self, ans, strict):
        try:
            value = reading.read(ans, self.shape, {})
            with compare.time_limit(compare.EVAL_SECONDS):
                arr = np.array(reading.floats(value), dtype=float).ravel()
        except ParseError as exc:
            return unreadable(self.id, exc)
        except compare.TimeUp:
            return too_slow(self.id, compare.EVAL_SECONDS)
        if not np.all(np.isfinite(arr)):
            return Result(self.id, False, 0.0, NONFINITE)
        ref, tol, wrong = self.bands()
        ok = np.abs(arr - ref) <= tol
        if ok.all():
            return Result(self.id, True, 1.0, CORRECT)
        score = float(ok.mean()) if ok.size > 1 else 0.0
        for w, wtol, msg in wrong:
            if np.all(np.abs(arr - w) <= wtol):
                return Result(self.id, False, score, msg)
        details = []
        if ok.size > 1:
            details.append(_("entries not right: {positions}").format(positions=", ".join(
                position(k, self.shape) for k, v in enumerate(ok) if not v)))
        if np.all(ok | near(arr, ref)):
            return Result(self.id, False, score, self.precision.close_message(arr[~ok], self.whole), details)
        return Result(self.id, False, score, NOT_EXPECTED, details)
