"""The precision a numeric answer needs (graded exercises with number answers, all chapters).

The key states it once per numeric exercise, as ``precision = 3`` (significant digits) or
``precision = "exact"``; everything a learner reads about it comes from here: the words of
the task (:meth:`Precision.text`, added to the exercise's answer type and checked against
the notebooks by the tests), the tolerance an answer is graded with and the message for an
answer that is close but not within it.

* **N significant digits, rounded.** An entry is right when it lies within half a unit of
  the N-th significant digit of the reference entry: for 5/3 at 3 digits, 1.67 and 1.667
  (and 1.6667) are right, 1.66 (truncated) is not. Rounding, not truncation, is the rule,
  and the task says so.
* **Exact.** A fraction, an expression or a number with all its digits: only
  floating-point round-off is forgiven.
* **Close.** An answer outside the precision whose wrong entries are all within
  :data:`CLOSE` (5 %) of the reference is told so: "give at least N significant digits"
  when it has fewer, "round, do not truncate" otherwise, "give the exact value" for an
  exact exercise. Never a bare "Not the expected value".
* **Declared wrong answers** are recognised at the exercise's digits (at :data:`WRONG_DIGITS`
  for an exact exercise), so that a rounded wrong answer still gets its own feedback.

The in-page practice checks of the website (:mod:`.practice`) receive these tolerances and
messages as data, so they give the same verdicts as ``check``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..i18n import _

CLOSE = 0.05            # relative distance within which an answer outside the precision is "close"
WRONG_DIGITS = 3        # digits to which a declared wrong answer of an exact exercise is recognised
EXACT_RTOL = 1e-9       # what "exact" forgives: floating-point round-off
EXACT_ATOL = 1e-12


def significant_digits(x: float) -> int:
    """Significant digits of a float as Python (and JavaScript) print it shortest: 1.6 -> 2,
    1.667 -> 4, 0.05 -> 1, 100.0 -> 1."""
    mantissa = repr(abs(float(x))).split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return max(len(mantissa), 1)


def half_unit(values, digits: int) -> np.ndarray:
    """Half a unit in the ``digits``-th significant digit of each value (0 for a 0 value,
    which is then matched exactly, up to round-off)."""
    v = np.abs(np.asarray(values, dtype=float))
    out = np.zeros_like(v)
    nz = v > 0
    out[nz] = 0.5 * 10.0 ** (np.floor(np.log10(v[nz])) - digits + 1)
    return out


@dataclass(frozen=True)
class Precision:
    """``digits`` significant digits (rounded), or exact (``digits is None``)."""

    digits: int | None = None

    @classmethod
    def from_key(cls, value) -> "Precision":
        """``3`` (significant digits, 1 to 15) or ``"exact"``; ``ValueError`` otherwise."""
        if value == "exact":
            return cls(None)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 15:
            return cls(value)
        raise ValueError("a numeric exercise states its precision once: precision = 3 (significant digits, "
                         f"1 to 15) or precision = \"exact\", not {value!r}")

    @property
    def phrase(self) -> str:
        """The words the exercise's text must contain ("to 3 significant digits", "exactly")."""
        return "exactly" if self.digits is None else f"to {self.digits} significant digits"

    def text(self, whole: bool = False):
        """The precision as the task states it (a :class:`~softmaxbook.i18n.Message`)."""
        if self.digits is None:
            return _("exactly") if whole else _("exactly (a fraction, an expression or all its digits)")
        return _("to {digits} significant digits (rounded, not truncated) or exactly").format(digits=self.digits)

    def tolerance(self, values) -> np.ndarray:
        """Per entry: how far an answer may lie from ``values`` and still be right."""
        v = np.asarray(values, dtype=float)
        if self.digits is None:
            return EXACT_ATOL + EXACT_RTOL * np.abs(v)
        return np.maximum(half_unit(v, self.digits) * (1 + 1e-9), EXACT_ATOL)

    def wrong_tolerance(self, values) -> np.ndarray:
        """Per entry: how far an answer may lie from a declared wrong answer and still be it."""
        return Precision(self.digits or WRONG_DIGITS).tolerance(values)

    def close_messages(self, whole: bool = False) -> dict:
        """What a close answer hears: ``"fewer"`` (an entry outside the precision has fewer
        significant digits than asked) or ``"other"`` (:class:`~softmaxbook.i18n.Message` s)."""
        if self.digits is None:
            exact = (_("Close, but not exact: the answer is a whole number.") if whole else
                     _("Close, but not exact: give the exact value (a fraction such as '1/3', an expression "
                       "such as 'log(2)', or all the digits)."))
            return {"fewer": exact, "other": exact}
        return {"fewer": _("Close: give at least {digits} significant digits (rounded, not truncated).").format(
                    digits=self.digits),
                "other": _("Close, but not right to {digits} significant digits: round the last digit "
                           "(do not truncate).").format(digits=self.digits)}

    def close_message(self, off, whole: bool = False) -> str:
        """What an answer hears whose entries ``off`` (those outside the precision) are close."""
        fewer = self.digits is not None and any(significant_digits(x) < self.digits for x in off)
        return self.close_messages(whole)["fewer" if fewer else "other"]


def is_whole(values) -> bool:
    v = np.asarray(values, dtype=float)
    return bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))


def near(answer, reference) -> np.ndarray:
    """Per entry: within :data:`CLOSE` (relative) of the reference."""
    a, r = np.asarray(answer, dtype=float), np.asarray(reference, dtype=float)
    return np.abs(a - r) <= CLOSE * np.abs(r) + EXACT_ATOL

