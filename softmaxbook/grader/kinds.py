"""The answer kinds of graded exercises (all chapters): :class:`Symbolic` (an expression,
vector or matrix in the exercise's symbols), :class:`Numeric` (numbers with a tolerance),
:class:`Choice` (one letter) and :class:`Function` (Python functions run by hidden tests).

Each kind grades the plain-data form of an answer (see :mod:`.answers`) and returns a
:class:`.result.Result`; what is graded against (references, known wrong answers with
their feedback, probes, hidden cases) comes from the key (:mod:`.key`), written as
formulas that the course's whitelisted parser (:mod:`.parse`) reads.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import sympy as sp

from ..i18n import _
from . import answers, compare, fnrun, probes, reading, sandbox
from .parse import ParseError, parse, symbol_names
from .precision import Precision, is_whole, near
from .reading import flat, position
from .result import (CORRECT, NONFINITE, NOT_EXPECTED, Result, expected, not_answered, too_slow,
                     unreadable)

N_POINTS = 6                # points drawn from the exercise's usual range (plus its wide points)
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


def _secret_seed() -> int | None:
    return _SECRET[-1] if _SECRET else None


def _secret_rng(ex_id: str, *more: int) -> np.random.Generator:
    """The generator of ``ex_id``'s secret draws (a given seed always draws the same)."""
    return np.random.default_rng([_secret_seed(), zlib.crc32(ex_id.encode()), *more])


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


# --------------------------------------------------------------------------- symbolic

class Prepared(NamedTuple):
    """What a symbolic exercise grades against, computed once from the key: the symbols by name,
    the sample points, the reference's entries and their values at the points, the wrong answers'
    values with their feedback, the substitution tiers, the functions allowed in an answer and
    the reference's value at each ``at`` probe."""
    symbols: dict
    points: list
    reference: list
    values: list
    wrong: list
    canon: list | None
    allowed: set
    probe_values: list


class Symbolic(FromFormulas):
    """An expression, vector or matrix in the exercise's symbols."""

    kind = "symbolic"

    def __init__(self, id, task, answer, chapter, symbols, shape, reference, sampler,
                 wrong=(), canon=(), seed=0, hint="", wide=None, allow=(), let=None, probes=()):
        super().__init__(id, task, answer, chapter)
        self.symbols = symbols          # list of sympy Symbols (with assumptions)
        self.shape = shape              # () scalar, (n,) vector, (n, m) matrix
        # reference, wrong [(formula, feedback)], canon [{name: formula}]: the key's formulas;
        # let: {name: formula} helpers the key's formulas may use (never the learner's).
        self.reference, self.wrong, self.canon, self.let = reference, list(wrong), list(canon), dict(let or {})
        self.sampler, self.seed, self.hint = sampler, seed, hint
        # wide(rng) -> points far outside the usual range (large values of both signs, ties
        # where a max switches branch); allow: restricted functions ("Max", "Min", "Abs")
        # accepted besides those the reference and wrong answers use.
        self.wide, self.allow, self.probes = wide, set(allow), list(probes)
        self._cache = self._secret_cache = None

    def precision_text(self):
        return _("exactly (a formula, not a rounded decimal)")

    def prepared(self) -> Prepared:
        if self._cache is None:
            names = self.key_names()
            S = {s.name: s for s in self.symbols}
            rng = np.random.default_rng(self.seed)
            raw = [self.sampler(rng) for _ in range(N_POINTS)] + (self.wide(rng) if self.wide else [])
            points = [{S[k]: sp.Float(v, 30) for k, v in vals.items()} for vals in raw]
            ref = flat(key_value(self.reference, names, self.shape))
            wrong_exprs = [(flat(key_value(w, names, self.shape)), msg) for w, msg in self.wrong]
            wrong = [(compare.evaluate(w, points), msg) for w, msg in wrong_exprs]
            canon = [{S[k]: key_value(v, names) for k, v in tier.items()} for tier in self.canon] or None
            used = ref + [e for w, _ in wrong_exprs for e in w]
            allowed = self.allow | {f.__name__ for f in (sp.Max, sp.Min, sp.Abs)
                                    if any(sp.sympify(e).has(f) for e in used)}
            ref_values = compare.evaluate(ref, points)
            ref_at = [compare.evaluate(ref, [p.at]) if p.kind == "at" else None for p in self.probes]
            self._cache = Prepared(S, points, ref, ref_values, wrong, canon, allowed, ref_at)
        return self._cache

    def _secret(self) -> tuple[list, list]:
        """Points drawn from the batch's secret seed and the reference's values there (none
        outside the batch's strict grading): the usual range and the wide points, as in the key."""
        seed = _secret_seed()
        if seed is None:
            return [], []
        if self._secret_cache is None or self._secret_cache[0] != seed:
            S, ref = self.prepared().symbols, self.prepared().reference
            rng = _secret_rng(self.id)
            raw = [self.sampler(rng) for _ in range(N_POINTS)] + (self.wide(rng) if self.wide else [])
            points = [{S[k]: sp.Float(v, 30) for k, v in vals.items()} for vals in raw]
            self._secret_cache = (seed, points, compare.evaluate(ref, points))
        return self._secret_cache[1], self._secret_cache[2]

    def _grade(self, ans, strict):
        S, points, ref, ref_values, wrong, canon, allowed, ref_at = self.prepared()
        secret, secret_values = self._secret() if strict else ([], [])
        started = time.monotonic()
        try:
            entries = flat(reading.read(ans, self.shape, symbol_names(self.symbols), allowed))
        except ParseError as exc:
            return unreadable(self.id, exc)
        except compare.TimeUp:
            return too_slow(self.id, compare.EVAL_SECONDS)
        left = compare.EVAL_SECONDS - (time.monotonic() - started)
        # each entry's reference values at the public points, then at the secret ones
        every = [r + x for r, x in zip(ref_values, secret_values)] if secret else ref_values
        values, verdicts, status = compare.symbolic_verdicts(entries, ref, every, points + secret, canon,
                                                             timeout=max(left, 0.05))
        if status == "timeout":
            return too_slow(self.id, compare.EVAL_SECONDS)
        values = [row[:len(points)] for row in values]   # feedback speaks of the public points only
        score = sum(bool(v) for v in verdicts) / len(verdicts)
        if all(verdicts):
            return Result(self.id, True, 1.0, _("Correct (checked symbolically).") if all(v == "symbolic" for v in verdicts)
                          else _("Correct (checked at random points)."))
        for wvals, msg in wrong:
            if compare.values_match(values, wvals):
                return Result(self.id, False, score, msg)
        if all(all(v is None for v in row) for row in values):
            return Result(self.id, False, 0.0, _("Your expression is undefined (or not real) at every test point."))
        details = []
        if len(entries) > 1:
            bad = [position(k, self.shape) for k, v in enumerate(verdicts) if not v]
            details.append(_("entries not right: {positions}").format(positions=", ".join(bad)))
        try:
            with compare.time_limit(max(compare.EVAL_SECONDS - (time.monotonic() - started), 0.05)):
                taught = probes.explain(self.probes, entries, values, points, self.shape, ref_values, ref_at)
        except compare.TimeUp:
            taught = None
        msg = taught or _("Not equivalent to the expected answer.")
        if self.hint:
            msg = _("{feedback} Hint: {hint}").format(feedback=msg, hint=self.hint)
        return Result(self.id, False, score, msg, details)


# --------------------------------------------------------------------------- numbers

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


# --------------------------------------------------------------------------- multiple choice

class Choice(Exercise):
    kind = "choice"

    def __init__(self, id, task, chapter, options, correct, feedback):
        super().__init__(id, task, _("one letter: {letters}").format(letters=", ".join(f"'{k}'" for k in options)),
                         chapter)
        self.options, self.correct, self.feedback = options, correct, feedback

    def right_answer(self) -> dict:
        return {"t": "text", "v": self.correct}

    def misconceptions(self):
        return [({"t": "text", "v": letter}, msg) for letter, msg in self.feedback.items()]

    def _grade(self, ans, strict):
        if ans.get("t") != "text":
            return expected(self.id, self.answer, ans)
        letter = ans["v"].strip().strip("()").lower()[:1]
        if letter not in self.options:
            return Result(self.id, False, 0.0, _("Answer with one of {letters}.").format(letters=", ".join(self.options)))
        if letter == self.correct:
            return Result(self.id, True, 1.0, CORRECT)
        return Result(self.id, False, 0.0, self.feedback.get(letter) or _("Not this one."))


# --------------------------------------------------------------------------- functions

def _as_twins(drawn) -> tuple:
    """What ``Hidden.twin`` drew, as a tuple of cases: none, one, or several."""
    if drawn is None:
        return ()
    return tuple(drawn) if isinstance(drawn, (list, tuple)) else (drawn,)


class Function(Exercise):
    """Python function(s), graded by hidden tests (:mod:`.hidden`) run in the sandbox."""

    kind = "function"

    def __init__(self, id, task, answer, chapter, names, hidden):
        super().__init__(id, task, answer, chapter)
        self.names, self.hidden = names, hidden
        self.judge, self.diagnose = hidden.judge, hidden.diagnose
        self._built = {}

    def cases(self):
        """``(cases, twins, inputs)``: the hidden cases (``check`` and the batch run the same ones,
        so a learner told "Correct" gets full marks), the secret twins of each while the batch
        grades with a gradebook's secret seed (a tuple, empty otherwise or where the case is a
        fixed rule), and what the fresh interpreter receives: the inputs of each case followed
        by its twins', never what they expect."""
        key = _secret_seed() if self.hidden.twin else None
        if key not in self._built:
            cases = self.hidden.cases()
            twins = ([_as_twins(self.hidden.twin(c, _secret_rng(self.id, i))) for i, c in enumerate(cases)]
                     if key is not None else [()] * len(cases))
            inputs = [{"kind": c.kind, "args": fnrun.plain(list(c.args))}
                      for case, more in zip(cases, twins) for c in (case, *more)]
            self._built = {k: v for k, v in self._built.items() if k is None}   # one secret seed kept
            self._built[key] = (cases, twins, inputs)
        return self._built[key]

    def _grade(self, ans, strict):
        records = ans["v"] if ans.get("t") == "seq" else [ans]
        if len(records) != len(self.names) or any(not isinstance(r, dict) or r.get("t") != "fn" for r in records):
            return expected(self.id, self.answer, ans, _(" of length {n}").format(n=len(records))
                             if ans.get("t") == "seq" else "")
        pickles = [sandbox.decode_pickle(r.get("pickle")) for r in records]
        if any(p is None for p in pickles):
            return Result(self.id, False, 0.0, _("Your function could not be read (its record is damaged or too "
                                                 "large): run the cell that defines it and check it again."))
        cases, twins, inputs = self.cases()
        results, status = sandbox.run_functions(pickles, inputs)
        setup_error = next((r["__sandbox_error__"] for r in results if "__sandbox_error__" in r), None)
        outs = {r["i"]: r for r in results if "i" in r}
        if not outs and setup_error:
            return Result(self.id, False, 0.0, _("Your code could not be run: {error}").format(error=setup_error))
        if outs and all(o.get("ellipsis") for o in outs.values()):
            return not_answered(self.id, _("your function still returns the placeholder (...)"))
        passed, failed, hints, named = 0, 0, [], Counter()
        at = iter(range(len(inputs)))   # the case results of each case and its twins, in turn
        pairs = [[(c, outs.get(next(at))) for c in (case, *more)] for case, more in zip(cases, twins)]
        for pair in pairs:   # a case passes when its secret twins pass too; the first failure speaks
            if any(rep is None for _, rep in pair):
                why = {"timeout": _("the time limit of {seconds} s was reached (an infinite loop?)").format(
                           seconds=f"{sandbox.HARD_TIMEOUT:g}"),
                       "crashed": _("your code ended the process"),
                       "malformed": _("the report of the run was damaged or too large (huge outputs, or "
                                      "your code wrote to the grader's channel)")}.get(status) or _("not run")
                why = setup_error or why     # e.g. a decoder that could not be loaded
                hints.append(_("some tests did not run: {why}").format(why=why))
                break
            for case, rep in pair:
                ok, hint = self.judge(case, rep)
                if not ok:
                    break
            if ok:
                passed += 1
                continue
            failed += 1
            diagnosis = self.diagnose(case, rep) if self.diagnose else None
            if diagnosis:
                named[diagnosis] += 1
            if hint and hint not in hints:
                hints.append(hint)
        # A misconception is named only when it explains most failing tests, not one
        # coincidence (an off-by-one count can equal 3n at n = 1 without being one-hot).
        hints = [d for d, k in named.most_common() if 2 * k >= failed] + hints
        score = passed / len(cases)
        if passed == len(cases):
            return Result(self.id, True, 1.0, _("Correct: all {n} hidden tests pass.").format(n=len(cases)))
        if outs and all(o.get("out", 0) is None for o in outs.values()):
            hints.insert(0, _("your function returns None: did you forget `return`?"))
        return Result(self.id, False, score, _("{passed} of {n} hidden tests pass.").format(passed=passed, n=len(cases)),
                      hints[:5])
