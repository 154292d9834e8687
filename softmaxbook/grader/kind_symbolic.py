"""Symbolic answers (graded exercises, all chapters): an expression, vector or matrix in the
exercise's symbols, compared with the key's reference at sample points and by simplification
(:mod:`.compare`), its known wrong answers recognised by their values, and feedback from the
key's probes (:mod:`.probes`) where none matches.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import sympy as sp

from ..i18n import _
from . import compare, probes, reading
from .kinds import FromFormulas, key_value, secret_rng, secret_seed
from .parse_rules import ParseError, symbol_names
from .reading import flat, position
from .result import Result, too_slow, unreadable

N_POINTS = 6                # points drawn from the exercise's usual range (plus its wide points)


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
        seed = secret_seed()
        if seed is None:
            return [], []
        if self._secret_cache is None or self._secret_cache[0] != seed:
            S, ref = self.prepared().symbols, self.prepared().reference
            rng = secret_rng(self.id)
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
