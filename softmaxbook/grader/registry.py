"""The exercise registry: ids, tasks, answer types, references and feedback.

Graded exercises, all chapters. Each exercise knows its reference answer (computed
here with sympy/numpy or taken from the topic modules -- this file *is* the answer
key), the known wrong answers with the misconception each one reveals (from the
course specification's "wrong answers to refute"), and for function answers the
hidden tests (the batch grader adds stricter ones). ``Exercise.grade`` takes the
plain-data form of an answer (see :mod:`.answers`) and returns a :class:`Result`;
the learner-side ``check`` and the batch grader both call it.
"""

from __future__ import annotations

import html
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .. import coding, expfamily, hessian, lse
from . import compare, fnrun, sandbox
from .parse import MAX_CHARS, ParseError, parse, symbol_names

N_POINTS = 6                # points drawn from the exercise's usual range (plus its wide points)
MAX_ENTRIES = 100           # entries of a list/array answer, counted before anything is parsed


# --------------------------------------------------------------------------- results

@dataclass
class Result:
    """Outcome of one check; renders as a coloured box in Jupyter."""

    exercise_id: str
    passed: bool
    score: float
    message: str
    details: list = field(default_factory=list)
    answered: bool = True

    def __post_init__(self):
        # .message is the whole feedback (headline and the specific points), so a learner
        # or instructor reading only .message misses nothing; displays list the points.
        self.headline = self.message
        if self.details:
            self.message = f"{self.message.rstrip('.')} — " + "; ".join(d.rstrip(".") for d in self.details) + "."

    @property
    def status(self) -> str:
        if not self.answered:
            return "not answered yet"
        return "correct" if self.passed else ("partly right" if self.score > 0 else "not right yet")

    def __str__(self) -> str:
        lines = [f"[{self.exercise_id}] {self.status} — score {self.score:.0%}", self.headline]
        lines += [f"  • {d}" for d in self.details]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else ("#9e9e9e" if not self.answered else
                                                 ("#ef6c00" if self.score > 0 else "#c62828"))
        mark = "✔" if self.passed else ("…" if not self.answered else "✘")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        return (f'<div style="border-left:6px solid {colour};padding:4px 10px;margin:4px 0">'
                f'<b>{mark} {html.escape(self.exercise_id)}</b> — {html.escape(self.status)}, '
                f"score {self.score:.0%}<br>{html.escape(self.headline)}"
                + (f"<ul style='margin:2px 0'>{items}</ul>" if items else "") + "</div>")


def not_answered(ex_id: str, hint: str = "") -> Result:
    return Result(ex_id, False, 0.0, "Not answered yet: replace the placeholder (...) with your answer"
                  + (f" — {hint}" if hint else "") + ("" if hint.endswith(")") else "."), answered=False)


def describe(ans: dict) -> str:
    return {"num": "a number", "text": "a string", "sym": "a sympy expression", "seq": "a list/array",
            "fn": "a function", "none": "nothing"}.get(ans.get("t"), ans.get("v", "something else"))


# --------------------------------------------------------------------------- base class

class Exercise:
    kind = "?"

    def __init__(self, id, task, answer_type, chapter):
        self.id, self.task, self.answer_type, self.chapter = id, task, answer_type, chapter

    def grade(self, ans: dict, live=None, strict: bool = False) -> Result:
        if not isinstance(ans, dict) or ans.get("t") == "none":
            return not_answered(self.id, f"expected {self.answer_type}")
        if ans.get("t") == "bad":
            return Result(self.id, False, 0.0, f"Expected {self.answer_type}, got {ans.get('v')}.")
        return self._grade(ans, live, strict)

    def _grade(self, ans, live, strict):  # pragma: no cover - abstract
        raise NotImplementedError


# --------------------------------------------------------------------------- symbolic

class Symbolic(Exercise):
    """An expression, vector or matrix in the exercise's symbols."""

    kind = "symbolic"

    def __init__(self, id, task, answer_type, chapter, symbols, shape, reference, sampler,
                 wrong=(), canon=None, seed=0, hint="", wide=None, allow=()):
        super().__init__(id, task, answer_type, chapter)
        self.symbols = symbols          # list of sympy Symbols (with assumptions)
        self.shape = shape              # () scalar, (n,) vector, (n, m) matrix
        self._reference, self._wrong, self._canon = reference, wrong, canon
        self.sampler, self.seed, self.hint = sampler, seed, hint
        # wide(rng) -> list of points far outside the usual range (large values of both
        # signs, ties where a max switches branch); allow: restricted functions
        # ("Max", "Min", "Abs") accepted besides those the reference and wrong answers use.
        self.wide, self.allow = wide, set(allow)
        self._cache = None

    def _prepared(self):
        if self._cache is None:
            S = {s.name: s for s in self.symbols}
            rng = np.random.default_rng(self.seed)
            raw = [self.sampler(rng) for _ in range(N_POINTS)] + (self.wide(rng) if self.wide else [])
            points = [{S[k]: sp.Float(v, 30) for k, v in vals.items()} for vals in raw]
            ref = _flat(self._reference(S))
            wrong_exprs = [(_flat(_shape_like(w(S), self.shape)), msg) for w, msg in self._wrong]
            wrong = [(compare.evaluate(w, points), msg) for w, msg in wrong_exprs]
            canon = self._canon(S) if self._canon else None
            used = ref + [e for w, _ in wrong_exprs for e in w]
            allowed = self.allow | {f.__name__ for f in (sp.Max, sp.Min, sp.Abs)
                                    if any(sp.sympify(e).has(f) for e in used)}
            self._cache = (S, points, ref, compare.evaluate(ref, points), wrong, canon, allowed)
        return self._cache

    def _grade(self, ans, live, strict):
        S, points, ref, ref_values, wrong, canon, allowed = self._prepared()
        started = time.monotonic()
        try:
            entries = _flat(_read(ans, self.shape, symbol_names(self.symbols), allowed))
        except ParseError as exc:
            return Result(self.id, False, 0.0, f"Could not read your answer: {exc}")
        except compare.TimeUp:
            return _too_slow(self.id)
        left = compare.EVAL_SECONDS - (time.monotonic() - started)
        values, verdicts, status = compare.symbolic_verdicts(entries, ref, ref_values, points, canon,
                                                             timeout=max(left, 0.05))
        if status == "timeout":
            return _too_slow(self.id)
        score = sum(bool(v) for v in verdicts) / len(verdicts)
        if all(verdicts):
            how = "symbolically" if all(v == "symbolic" for v in verdicts) else "at random points"
            return Result(self.id, True, 1.0, f"Correct (checked {how}).")
        for wvals, msg in wrong:
            if compare.values_match(values, wvals):
                return Result(self.id, False, score, msg)
        if all(all(v is None for v in row) for row in values):
            return Result(self.id, False, 0.0, "Your expression is undefined (or not real) at every test point.")
        details = []
        if len(entries) > 1:
            bad = [_position(k, self.shape) for k, v in enumerate(verdicts) if not v]
            details.append("entries not right: " + ", ".join(bad))
        msg = "Not equivalent to the expected answer." + (f" Hint: {self.hint}" if self.hint else "")
        return Result(self.id, False, score, msg, details)


def _too_slow(ex_id):
    return Result(ex_id, False, 0.0, f"Your expression took too long to read and evaluate (over "
                  f"{compare.EVAL_SECONDS:g} s); write it in a simpler form.")


def _read(ans, shape, names, allowed=None):
    """Parse a plain answer into sympy values of the expected shape: its nesting, number
    of entries and total length are checked first, then every string is parsed, all
    under one time limit (:func:`.compare.time_limit`)."""
    _precheck(ans, shape)
    with compare.time_limit(compare.EVAL_SECONDS):
        return _check_shape(_to_sympy(ans, names, allowed), shape)


def _precheck(ans, shape):
    """Refuse, before parsing anything, an answer with more entries than the shape
    holds, nested more than a matrix, or longer in all than one string may be."""
    counts = [0, 0]         # entries, characters

    def skeleton(a, depth):
        if not isinstance(a, dict):
            raise ParseError("the answer is malformed")
        if a.get("t") != "seq":
            counts[0] += 1
            counts[1] += len(a["v"]) if isinstance(a.get("v"), str) else 0
            return 0
        v = a.get("v")
        if not isinstance(v, list):
            raise ParseError("the answer is malformed")
        what = "a single expression" if shape == () else f"{math.prod(shape)} entries"
        if depth >= 2:
            raise ParseError(f"expected {what}, got lists nested more deeply than a matrix")
        if len(v) > MAX_ENTRIES:
            raise ParseError(f"expected {what}, got a list of {len(v)} entries")
        if counts[0] + len(v) > MAX_ENTRIES:
            raise ParseError(f"expected {what}, got more than {MAX_ENTRIES} entries")
        return [skeleton(e, depth + 1) for e in v]

    sk = skeleton(ans, 0)
    expected = math.prod(shape) if shape else 1
    if counts[0] > expected:       # one string may hold a whole list, so only too many is final
        _check_shape(sk, shape)
        raise ParseError(f"expected {expected} entries, got {counts[0]}")
    if counts[1] > MAX_CHARS:
        raise ParseError(f"the answer is too long ({counts[1]} characters in all; the limit is {MAX_CHARS})")


def _to_sympy(ans, names, allowed=None):
    t = ans.get("t")
    if t in ("sym", "text"):
        return parse(ans["v"], names, allowed)
    if t == "num":
        v = ans.get("v")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ParseError("the answer contains nan or inf")
        return sp.Float(v)
    if t == "seq":
        return [_to_sympy(e, names, allowed) for e in ans["v"]]
    raise ParseError(f"expected a formula, got {describe(ans)}")


def _shape_like(value, shape):
    if isinstance(value, sp.MatrixBase):
        return value.tolist() if len(shape) == 2 else list(value)
    return value


def _check_shape(value, shape):
    if isinstance(value, sp.MatrixBase):
        value = _shape_like(value, shape)
    if shape == ():
        if isinstance(value, list):
            raise ParseError(f"expected a single expression, got a list of {len(value)}")
        return value
    if not isinstance(value, list):
        raise ParseError(f"expected a list/vector of {shape[0]} entries" if len(shape) == 1
                         else f"expected a {shape[0]}×{shape[1]} matrix (a list of rows)")
    if len(shape) == 1:
        if len(value) == 1 and isinstance(value[0], list):
            value = value[0]
        if all(isinstance(v, list) and len(v) == 1 for v in value):
            value = [v[0] for v in value]       # a column vector
        if len(value) != shape[0] or any(isinstance(v, list) for v in value):
            raise ParseError(f"expected a vector of {shape[0]} entries, got {len(value)}")
        return value
    if len(value) != shape[0] or any(not isinstance(r, list) or len(r) != shape[1] for r in value) \
            or any(isinstance(e, list) for r in value for e in r):
        raise ParseError(f"expected a {shape[0]}×{shape[1]} matrix (a list of {shape[0]} rows of {shape[1]})")
    return value


def _flat(value):
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, list):
        return [e for v in value for e in _flat(v)]
    return [sp.sympify(value)]


def _position(k, shape):
    if len(shape) == 2:
        return f"({k // shape[1] + 1},{k % shape[1] + 1})"
    return f"#{k + 1}"


# --------------------------------------------------------------------------- numbers

class Numeric(Exercise):
    """A number or an array of numbers, compared with a tolerance."""

    kind = "numeric"

    def __init__(self, id, task, answer_type, chapter, reference, wrong=(), rtol=1e-6, atol=1e-9, shape=()):
        super().__init__(id, task, answer_type, chapter)
        self._reference, self.wrong, self.rtol, self.atol, self.shape = reference, wrong, rtol, atol, shape

    def _grade(self, ans, live, strict):
        try:
            value = _read(ans, self.shape, {})
            with compare.time_limit(compare.EVAL_SECONDS):
                arr = np.array(_floats(value), dtype=float)
        except ParseError as exc:
            return Result(self.id, False, 0.0, f"Could not read your answer: {exc}")
        except compare.TimeUp:
            return _too_slow(self.id)
        if not np.all(np.isfinite(arr)):
            return Result(self.id, False, 0.0, "Your answer contains nan or inf; expected finite numbers.")
        ref = np.asarray(self._reference(), dtype=float)
        ok = np.isclose(arr, ref, rtol=self.rtol, atol=self.atol)
        if ok.all():
            return Result(self.id, True, 1.0, "Correct.")
        score = float(ok.mean()) if ok.size > 1 else 0.0
        for w, msg in self.wrong:
            if compare.array_close(arr, np.asarray(w(), dtype=float), rtol=self.rtol, atol=self.atol):
                return Result(self.id, False, score, msg)
        details = []
        if ok.size > 1:
            details.append("entries not right: " + ", ".join(
                _position(k, self.shape) for k, v in enumerate(ok.ravel()) if not v))
        return Result(self.id, False, score, "Not the expected value.", details)


def _floats(value):
    if isinstance(value, list):
        return [_floats(v) for v in value]
    if value.free_symbols:
        raise ParseError("expected numbers, got an expression with symbols")
    v = compare.numeric_value(value)
    if v is None:
        raise ParseError("expected a real number")
    try:
        return float(v)
    except OverflowError:
        return math.inf


# --------------------------------------------------------------------------- multiple choice

class Choice(Exercise):
    kind = "choice"

    def __init__(self, id, task, chapter, options, correct, feedback):
        super().__init__(id, task, "one letter: " + ", ".join(f"'{k}'" for k in options), chapter)
        self.options, self.correct, self.feedback = options, correct, feedback

    def _grade(self, ans, live, strict):
        if ans.get("t") != "text":
            return Result(self.id, False, 0.0, f"Expected {self.answer_type}, got {describe(ans)}.")
        letter = ans["v"].strip().strip("()").lower()[:1]
        if letter not in self.options:
            return Result(self.id, False, 0.0, f"Answer with one of {', '.join(self.options)}.")
        if letter == self.correct:
            return Result(self.id, True, 1.0, "Correct.")
        return Result(self.id, False, 0.0, self.feedback.get(letter, "Not this one."))


# --------------------------------------------------------------------------- functions

@dataclass
class Case:
    args: tuple
    expect: object = None           # expected value, or the string "raises"
    hint: str = ""                  # what a failure of this case usually means
    kind: str = "call"              # "call", "roundtrip", "rate", "encode_error", "decode_error"
    limit: float = 0.0              # for "rate": max bits/symbol


class Function(Exercise):
    """Python function(s), graded by hidden tests run in the sandbox."""

    kind = "function"

    def __init__(self, id, task, answer_type, chapter, names, cases, strict_cases=(), judge=None, diagnose=None):
        super().__init__(id, task, answer_type, chapter)
        self.names, self._cases, self._strict, self.judge, self.diagnose = names, cases, strict_cases, judge, diagnose
        self._built = {}

    def cases(self, strict):
        if strict not in self._built:
            cases = self._cases() + (self._strict() if strict else [])
            # What the fresh interpreter receives: the inputs, never the expected values.
            inputs = [{"kind": c.kind, "args": fnrun.plain(list(c.args))} for c in cases]
            self._built[strict] = (cases, inputs)
        return self._built[strict][0]

    def _grade(self, ans, live, strict):
        records = ans["v"] if ans.get("t") == "seq" else [ans]
        if len(records) != len(self.names) or any(not isinstance(r, dict) or r.get("t") != "fn" for r in records):
            return Result(self.id, False, 0.0, f"Expected {self.answer_type}, got {describe(ans)}"
                          + (f" of length {len(records)}" if ans.get("t") == "seq" else "") + ".")
        pickles = [sandbox.decode_pickle(r.get("pickle")) for r in records]
        if any(p is None for p in pickles):
            return Result(self.id, False, 0.0, "Your function could not be read (its record is damaged or too "
                          "large): run the cell that defines it and check it again.")
        cases = self.cases(strict)
        reports, status = sandbox.run_functions(pickles, self._built[strict][1])
        setup_error = next((r["__sandbox_error__"] for r in reports if "__sandbox_error__" in r), None)
        outs = {r["i"]: r for r in reports if "i" in r}
        if not outs and setup_error:
            return Result(self.id, False, 0.0, f"Your code could not be run: {setup_error}")
        if outs and all(o.get("ellipsis") for o in outs.values()):
            return not_answered(self.id, "your function still returns the placeholder (...)")
        passed, failed, hints, named = 0, 0, [], Counter()
        for i, case in enumerate(cases):
            rep = outs.get(i)
            if rep is None:
                why = {"timeout": f"the time limit of {sandbox.HARD_TIMEOUT:g} s was reached (an infinite loop?)",
                       "crashed": "your code ended the process",
                       "malformed": "the report of the run was damaged or too large (huge outputs, or "
                                    "your code wrote to the grader's channel)"}.get(status, "not run")
                hints.append(f"some tests did not run: {why}")
                break
            ok, hint = self.judge(case, rep)
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
            return Result(self.id, True, 1.0, f"Correct: all {len(cases)} hidden tests pass.")
        if outs and all(o.get("out", 0) is None for o in outs.values()):
            hints.insert(0, "your function returns None: did you forget `return`?")
        return Result(self.id, False, score, f"{passed} of {len(cases)} hidden tests pass.", hints[:5])


def _failure(rep):
    if rep.get("timeout"):
        return f"a test took longer than {sandbox.CASE_SECONDS:g} s (an infinite loop?)"
    if "raised" in rep:
        return f"your function raised {rep['raised']}" + (f": {rep['msg']}" if rep.get("msg") else "")
    return ""


def judge_value(case, rep, rtol=1e-9, atol=1e-12):
    """Compare a scalar output with the expected value (nan/inf aware) or expect an error."""
    if case.expect == "raises":
        if rep.get("raised") in ("ValueError", "TypeError"):
            return True, ""
        return False, case.hint
    if "out" not in rep:
        return False, _failure(rep) or case.hint
    out = rep["out"]
    if isinstance(out, list) and len(out) == 1:
        out = out[0]
    if not isinstance(out, (int, float)) or isinstance(out, bool):
        return False, f"expected a number, your function returned {type(out).__name__}"
    return compare.close(float(out), float(case.expect), rtol=rtol, atol=atol), case.hint


def judge_int(case, rep):
    if case.expect == "raises":
        return judge_value(case, rep)
    if "out" not in rep:
        return False, _failure(rep) or case.hint
    out = rep["out"]
    if isinstance(out, bool) or not isinstance(out, (int, float)):
        return False, f"expected an integer number of bits, your function returned {type(out).__name__}"
    if isinstance(out, float) and math.isfinite(out) and out != int(out):
        return False, "bits come in whole numbers: the block length must be an integer (round up)"
    return out == case.expect, case.hint


def judge_codec(case, rep):
    if case.kind in ("encode_error", "decode_error"):
        if rep.get("ellipsis"):
            return False, "encode/decode still return ..."
        return rep.get("raised") in ("ValueError", "TypeError"), case.hint
    if rep.get("ellipsis"):
        return False, "encode still returns ..."
    if "len" not in rep:
        return False, _failure(rep) or case.hint
    if rep.get("back") != list(case.args[0]):
        return False, case.hint
    if case.kind == "rate":
        rate = rep["len"] / len(case.args[0])
        if rate > case.limit + 1e-12:
            if rate >= 3 - 1e-9:
                return False, "a one-hot code (100, 010, 001) costs 3 bits per symbol: worse than 2"
            if rate >= 2 - 1e-9:
                return False, ("2 bits per symbol (00, 01, 10; 11 unused) is the problem, not the cure: "
                               "it wastes log2 4 − log2 3 ≈ 0.415 bits; code several trits together")
            return False, f"your rate is {rate:.3f} bits/symbol; block coding reaches {case.limit:.3f} or less"
    return True, ""


# --------------------------------------------------------------------------- the exercises

def _syms(names, **assumptions):
    return list(sp.symbols(names, seq=True, **assumptions))


def _theta3(rng):
    return {f"theta{i}": rng.uniform(-2, 2) for i in (1, 2, 3)}


# Wide points: far outside the usual range, both signs, and ties (where a max switches
# branch), so that an answer that differs from the reference only there is caught.
def _theta3_wide(rng):
    fixed = [(0, 0, 0), (300, -300, 0), (-300, -300, -299), (40, 40 + 1e-6, -40), (-1e-3, 1e-3, 0),
             (12, -7, 12), (-25, 60, -80)]
    t = rng.uniform(-50, 50, 3)
    t[rng.integers(3)] = t[rng.integers(3)]         # maybe a tie
    return [{f"theta{i + 1}": float(v[i]) for i in range(3)} for v in fixed + [tuple(t)]]


def _theta_wide(rng):
    return [{"theta": v} for v in (0.0, 1e-3, -1e-3, 8.0, -8.0, 40.0, -40.0, 300.0, -300.0,
                                   float(rng.uniform(-60, 60)))]


def _ch2_wide(rng):
    logits = [(0, 0, 0), (20, -20, 0), (-30, 5, 5), (8, 8, -8), (1e-3, 0, -1e-3), (50, -50, 49),
              tuple(rng.uniform(-40, 40, 3))]
    labels = [(1, 0, 0), (0, 1, 0), (0, 0, 1), tuple(rng.dirichlet([0.2] * 3))]
    points = []
    for k, o in enumerate(logits):
        o = np.asarray(o, dtype=float)
        p, y = expfamily.softmax(o), labels[k % len(labels)]
        points.append({**{f"o{i + 1}": o[i] for i in range(3)}, **{f"p{i + 1}": p[i] for i in range(3)},
                       **{f"y{i + 1}": float(y[i]) for i in range(3)}})
    return points


def _gap_wide(rng):
    return [{"d": v} for v in (1e-3, 0.5, 6.5, 8.0, 12.0, 20.0, 40.0, 300.0, float(rng.uniform(6, 30)))]


def _bound_wide(rng):
    return [{"n": n, "lam": lam} for n, lam in ((2.0, 1e-3), (1e6, 1e-3), (1e6, 1e4), (3.0, 50.0),
                                                (1000.0, 0.05), (2.5, 1e4), (float(rng.integers(31, 10**5)), 0.1))]


def _ch2_point(rng):
    o = rng.uniform(-2, 2, 3)
    p = expfamily.softmax(o)
    y = rng.dirichlet(np.ones(3))
    d = {f"o{i + 1}": o[i] for i in range(3)}
    d.update({f"p{i + 1}": p[i] for i in range(3)})
    d.update({f"y{i + 1}": y[i] for i in range(3)})
    return d


def _ch2_canon(S):
    """Substitution tiers: as typed; with p3 = 1 − p1 − p2 and y3 = 1 − y1 − y2; all in logits."""
    o = [S[f"o{i}"] for i in (1, 2, 3)]
    Z = sum(sp.exp(v) for v in o)
    simplex = {S["p3"]: 1 - S["p1"] - S["p2"], S["y3"]: 1 - S["y1"] - S["y2"]}
    logits = {S[f"p{i + 1}"]: sp.exp(o[i]) / Z for i in range(3)}
    logits[S["y3"]] = 1 - S["y1"] - S["y2"]
    return [{}, simplex, logits]


def _P(S):
    return [S["p1"], S["p2"], S["p3"]]


def _T(S):
    return [S["theta1"], S["theta2"], S["theta3"]]


CH2_SYMS = _syms("p1 p2 p3", positive=True) + _syms("o1 o2 o3", real=True) + _syms("y1 y2 y3", nonnegative=True)
P_NUM = (0.1, 0.6, 0.3)
LOG2_3 = math.log2(3)


def _lse_ref(x):
    return float(lse.logsumexp(np.asarray(x, dtype=float)))


def _softmin_ref(x, lam):
    return -_lse_ref(-lam * np.asarray(x, dtype=float)) / lam


def _stable_lse_cases():
    rng = np.random.default_rng(4)
    cases = [Case((list(v),), _lse_ref(v), "a random vector gives the wrong value")
             for v in (rng.normal(size=5), rng.normal(size=12) * 3, [0.0], [2.5, -1.0])]
    overflow = "exp overflows in float64 above 709.78: subtract the maximum before exponentiating"
    cases += [
        Case(([1000.0, 1000.0],), 1000 + math.log(2), overflow),
        Case(([800.0, -800.0, 3.0],), 800.0, overflow),
        Case(([-1000.0, -1000.0],), -1000 + math.log(2), "very negative inputs underflow to log 0 = −inf: shift by the maximum"),
        Case(([-math.inf, -math.inf],), -math.inf, "all entries −inf should give −inf (guard the shift: −inf − (−inf) is nan)"),
        Case(([-math.inf, 0.0],), 0.0, "a −inf entry contributes exp(−inf) = 0"),
        Case(([math.inf, 1.0],), math.inf, "any +inf entry should give +inf (guard the shift: inf − inf is nan)"),
        Case(([math.nan, 1.0],), math.nan, "a NaN entry should give NaN"),
        Case(([math.nan, math.inf],), math.nan, "NaN wins over +inf: any NaN entry gives NaN"),
        Case(([],), "raises", "an empty input should raise ValueError with a clear message"),
    ]
    return cases


def _stable_lse_strict():
    rng = np.random.default_rng(5)
    big = rng.normal(size=20_000) * 50
    return [
        Case(([1e308, 1e308],), 1e308, "huge finite values must not overflow"),
        Case(([709.0, 709.5, 710.0],), _lse_ref([709.0, 709.5, 710.0]), "values near the overflow threshold"),
        Case((list(big),), _lse_ref(big), "a long vector gives the wrong value"),
        Case(([-math.inf],), -math.inf, "a single −inf should give −inf"),
        Case(([math.inf, math.nan],), math.nan, "NaN should propagate even next to +inf"),
    ]


def _lse_diagnose(case, rep):
    out = rep.get("out")
    if isinstance(out, (int, float)) and case.expect != "raises" and len(case.args[0]) > 1:
        x = np.asarray(case.args[0], dtype=float)
        if not np.isnan(x).any() and float(out) == float(np.max(x)) and float(case.expect) != float(np.max(x)):
            return "you return max(x): that is the λ → ∞ limit of λ⁻¹LSE(λx), not LSE itself"
    return None


def _softmin_cases():
    rng = np.random.default_rng(6)
    cases = []
    for lam in (0.5, 1.0, 3.0):
        x = list(rng.normal(size=4))
        cases.append(Case((x, lam), _softmin_ref(x, lam), "wrong value for a moderate λ"))
    x = [1.0, 2.0, 5.0]
    cases.append(Case((x, 1.0), _softmin_ref(x, 1.0), "wrong value"))
    cases.append(Case(([3.0, 3.0, 3.0], 2.0), 3 - math.log(3) / 2, "wrong value when all entries are equal"))
    return cases


def _softmin_strict():
    return [Case(([1.0, 2.0], 1000.0), _softmin_ref([1.0, 2.0], 1000.0),
                 "large λ underflows: −λx is very negative; use a stable LSE"),
            Case(([-400.0, 400.0], 5.0), _softmin_ref([-400.0, 400.0], 5.0),
                 "large values overflow: use a stable LSE")]


def _softmin_diagnose(case, rep):
    out = rep.get("out")
    if not isinstance(out, (int, float)) or case.expect == "raises":
        return None
    x, lam = np.asarray(case.args[0], dtype=float), case.args[1]
    alternatives = [
        (_lse_ref(lam * x) / lam, "that is the soft *max*; a soft-min must lie below min(x)"),
        (-_lse_ref(-lam * x), "you forgot to divide by λ"),
        (_lse_ref(-lam * x) / lam, "your result has the wrong sign"),
        (float(np.min(x)), "that is the hard min(x); a soft-min is smooth and lies strictly below it"),
    ]
    for value, msg in alternatives:
        if compare.close(float(out), value, rtol=1e-9) and not compare.close(value, float(case.expect)):
            return msg
    return None


def _block_cases():
    cases = [Case((n,), coding.block_bits(n), "wrong number of bits") for n in (1, 2, 3, 4, 5, 10, 17, 29, 41, 100)]
    cases.append(Case((0,), "raises", "n = 0 (or less) should raise ValueError"))
    return cases


def _block_strict():
    return [Case((n,), coding.block_bits(n), "wrong number of bits for a large block") for n in (1000, 4096, 20000)] + \
        [Case((-3,), "raises", "a negative n should raise ValueError")]


def _block_diagnose(case, rep):
    out, n = rep.get("out"), case.args[0]
    if not isinstance(out, (int, float)) or case.expect == "raises":
        return None
    if out == 2 * n and n > 2:
        return "2n bits is the symbol-by-symbol fixed-length code; a block of n trits has only 3^n outcomes"
    if out == 3 * n:
        return "3n bits is the one-hot code: it costs 3 bits per symbol, worse than 2"
    if math.isfinite(out) and out != int(out):
        return "bits come in whole numbers: round up"
    if out == case.expect - 1:
        return "rounding down is too few bits: 3^n outcomes do not fit; round up"
    return None


def _codec_cases():
    rng = np.random.default_rng(7)
    rt = "the round trip decode(encode(message), len(message)) must give back the message exactly"
    cases = [Case((list(rng.integers(0, 3, size=n).tolist()),), kind="roundtrip", hint=rt) for n in (1, 5, 12, 40)]
    cases += [
        Case(([0, 0, 0, 1, 2, 0],), kind="roundtrip", hint="a message starting with zeros is not recovered: keep leading zeros (fixed-length blocks)"),
        Case(([0] * 10,), kind="roundtrip", hint="an all-zero message is not recovered: keep leading zeros"),
        Case(([2, 1, 0, 2, 2, 1, 1],), kind="roundtrip", hint="a last partial block (7 trits) is not recovered"),
        Case((list(rng.integers(0, 3, size=1000).tolist()),), kind="rate", limit=1.6,
             hint="the round trip fails on a long message"),
        Case(([0, 3, 1],), kind="encode_error", hint="encode should raise ValueError for a symbol outside {0, 1, 2}"),
        Case(("01x1", 2), kind="decode_error", hint="decode should raise ValueError for a character other than 0/1"),
    ]
    return cases


def _codec_strict():
    rng = np.random.default_rng(8)
    return [Case((list(rng.integers(0, 3, size=n).tolist()),), kind="roundtrip",
                 hint="the round trip fails for some message lengths") for n in (2, 3, 4, 6, 7, 11, 13, 99, 101)] + \
        [Case(([2] * 20,), kind="roundtrip", hint="an all-2 message is not recovered"),
         Case((list(rng.integers(0, 3, size=3000).tolist()),), kind="rate", limit=1.6, hint="long messages"),
         Case((["a", 1],), kind="encode_error", hint="encode should reject non-integer symbols")]


CH1_Y = _syms("y1 y2 y3", nonnegative=True)
MM_COUNTS = np.array([4.0, 1.0, 5.0])
MM_FREQ = MM_COUNTS / MM_COUNTS.sum()


def _centred_log(v):
    v = np.log(np.asarray(v, dtype=float))
    return v - v.mean()


def _A3(S):
    return sp.log(sum(sp.exp(t) for t in _T(S)))


def _yT(S):
    return sum(S[f"y{i}"] * S[f"theta{i}"] for i in (1, 2, 3))


def _theta_y(rng):
    d = _theta3(rng)
    d.update({f"y{i + 1}": v for i, v in enumerate(rng.dirichlet(np.ones(3)))})
    return d


def _theta_y_wide(rng):
    """Chapter 1's wide logits, each with a label: one-hot, uniform or a random point of the simplex."""
    labels = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1 / 3, 1 / 3, 1 / 3), tuple(rng.dirichlet([0.3] * 3))]
    return [{**point, **{f"y{i + 1}": float(labels[k % len(labels)][i]) for i in range(3)}}
            for k, point in enumerate(_theta3_wide(rng))]


def _ch1_nll_canon(S):
    """As typed, then with y3 = 1 − y1 − y2 (a label sums to one)."""
    return [{}, {S["y3"]: 1 - S["y1"] - S["y2"]}]


def _build():
    th = _syms("theta1 theta2 theta3", real=True)
    theta = _syms("theta", real=True)
    d = _syms("d", positive=True)
    nl = _syms("n", positive=True) + _syms("lam", positive=True)
    X = [
        Symbolic("ch1.log_partition", "A(θ) of the categorical distribution for C = 3 (θ1, θ2, θ3)",
                 "an expression in theta1, theta2, theta3", 1, th, (),
                 lambda S: sp.log(sum(sp.exp(t) for t in _T(S))), _theta3,
                 wrong=[(lambda S: sum(sp.exp(t) for t in _T(S)),
                         "That is the partition function Z(θ), not the log-partition A(θ)."),
                        (lambda S: sp.Max(*_T(S)),
                         "max(θ) is only the λ → ∞ limit of LSE; the log-partition is the log-sum-exp itself."),
                        (lambda S: sp.Integer(0), "A(θ) normalises the distribution; it is not 0."),
                        (lambda S: sum(_T(S)), "Σ θ_i is not the log-partition: A(θ) must make the probabilities exp(θᵀy − A(θ)) sum to 1.")],
                 canon=None, seed=11, wide=_theta3_wide, allow={"Max"}),
        Symbolic("ch1.mean", "∇A(θ) for C = 3, a vector of three expressions in θ1, θ2, θ3",
                 "a vector of 3 expressions", 1, th, (3,),
                 lambda S: [sp.exp(t) / sum(sp.exp(u) for u in _T(S)) for t in _T(S)], _theta3,
                 wrong=[(lambda S: [sp.exp(t) for t in _T(S)],
                         "exp(θ_i) alone is not normalised: the entries of ∇A(θ) = E[Y] must sum to 1."),
                        (lambda S: _T(S), "The gradient of A is not θ: it is the mean E[Y] of the sufficient statistic."),
                        (lambda S: [sp.exp(t) / sum(sp.exp(u) for u in _T(S)) * (1 - sp.exp(t) / sum(sp.exp(u) for u in _T(S)))
                                    for t in _T(S)],
                         "p_i(1 − p_i) is a variance (the diagonal of ∇²A), not the mean ∇A = p.")],
                 seed=12, wide=_theta3_wide, allow={"Max"}),
        Symbolic("ch1.sigmoid_variance", "A''(θ) for the Bernoulli, A(θ) = log(1 + e^θ), in θ",
                 "an expression in theta", 1, theta, (),
                 lambda S: sp.exp(S["theta"]) / (1 + sp.exp(S["theta"])) ** 2,
                 lambda rng: {"theta": rng.uniform(-3, 3)},
                 wrong=[(lambda S: 1 / (1 + sp.exp(-S["theta"])),
                         "σ(θ) is A'(θ), the mean; differentiate once more."),
                        (lambda S: sp.log(1 + sp.exp(S["theta"])), "That is A(θ) itself."),
                        (lambda S: sp.Integer(0), "A''(θ) is a variance, positive for every θ, not 0.")],
                 seed=13, wide=_theta_wide),
        Symbolic("ch1.nll", "−log P(Y = y | θ) for C = 3 and a label with y1 + y2 + y3 = 1, in theta1..3, y1..3",
                 "an expression in theta1, theta2, theta3, y1, y2, y3", 1, th + CH1_Y, (),
                 lambda S: _A3(S) - _yT(S), _theta_y,
                 wrong=[(lambda S: _yT(S) - _A3(S),
                         "That is the log-likelihood; the loss is its negative, A(θ) − yᵀθ."),
                        (lambda S: _A3(S) + _yT(S),
                         "Sign of yᵀθ: log P(Y = y | θ) = θᵀy − A(θ), so its negative is A(θ) − yᵀθ."),
                        (lambda S: _A3(S),
                         "A(θ) alone misses the label: −log P(Y = y | θ) = A(θ) − yᵀθ."),
                        (lambda S: -_yT(S),
                         "−yᵀθ alone is not normalised: the log-partition A(θ) is missing.")],
                 canon=_ch1_nll_canon, seed=14, wide=_theta_y_wide),
        Numeric("ch1.moment_matching", "the maximum-likelihood logits (with o1 + o2 + o3 = 0) for the counts "
                "4, 1, 5 of classes 1, 2, 3", "a vector of 3 numbers", 1, lambda: _centred_log(MM_FREQ),
                wrong=[(lambda: MM_FREQ, "Those are the class frequencies, i.e. softmax(ô) (moment matching); "
                        "the logits are their logarithms."),
                       (lambda: np.log(MM_FREQ), "Right up to the constant: shift the logarithms so that the logits sum to 0."),
                       (lambda: MM_COUNTS - MM_COUNTS.mean(), "Logits are logarithms of the frequencies (up to a constant), not the centred counts.")],
                rtol=1e-6, atol=1e-6, shape=(3,)),
        Numeric("ch1.hessian_rank", "the rank of ∇²A(o) for C = 5 classes at any finite logits o",
                "a whole number", 1, lambda: 4,
                wrong=[(lambda: 5, "∇²A · 1 = 0 (A(o + c1) = A(o) + c is linear along 1), so 1 is in the kernel and the rank is below 5."),
                       (lambda: 1, "Only the direction 1 is flat; every other direction has positive curvature when every p_i > 0."),
                       (lambda: 0, "∇²A = Cov[Y] is not 0: the label Y is random.")],
                rtol=0, atol=1e-9),
        Symbolic("ch2.gradient", "∂l/∂o for C = 3, in p1, p2, p3, y1, y2, y3 (or in the logits o1, o2, o3)",
                 "a vector of 3 expressions", 2, CH2_SYMS, (3,),
                 lambda S: [S[f"p{i}"] - S[f"y{i}"] for i in (1, 2, 3)], _ch2_point,
                 wrong=[(lambda S: [S[f"y{i}"] - S[f"p{i}"] for i in (1, 2, 3)],
                         "Sign: raising the logit of the true class must lower the loss."),
                        (lambda S: [-S[f"y{i}"] + sum(S[f"y{j}"] * S[f"p{j}"] for j in (1, 2, 3)) for i in (1, 2, 3)],
                         "Wrong index: in −Σ_j y_j(δ_ij − p_j) the derivative ∂ log p_j/∂o_i is δ_ij − p_i, not δ_ij − p_j."),
                        (lambda S: [S[f"p{i}"] * (1 - S[f"p{i}"]) for i in (1, 2, 3)],
                         "p_i(1 − p_i) is the diagonal of the Hessian, not the gradient.")],
                 canon=_ch2_canon, seed=21, wide=_ch2_wide),
        Symbolic("ch2.hessian", "the 3×3 Hessian ∂²l/∂o_i∂o_j, in p1, p2, p3 (or in o1, o2, o3)",
                 "a 3×3 matrix (sympy Matrix or list of rows)", 2, CH2_SYMS, (3, 3),
                 lambda S: expfamily.diag_minus_outer(sp.Matrix(_P(S))), _ch2_point,
                 wrong=[(lambda S: sp.zeros(3, 3),
                         "The second derivative is not 0: a zero comes from treating p as a constant inside p − y, "
                         "but p depends on o (∂p_i/∂o_j = p_i(δ_ij − p_j)); the diagonal p_i(1 − p_i) is positive."),
                        (lambda S: sp.diag(*_P(S)),
                         "diag(p) is what you get by holding Σ_j e^{o_j} fixed while differentiating e^{o_i}/Σ_j e^{o_j}; "
                         "differentiate the denominator too, which adds −p_i p_j to every entry."),
                        (lambda S: sp.diag(*[p * (1 - p) for p in _P(S)]),
                         "The diagonal is right, but the off-diagonal entries should be −p_i p_j, not 0 "
                         "(they are the covariances of the one-hot Y)."),
                        (lambda S: sp.diag(*[p - sum(q ** 2 for q in _P(S)) for p in _P(S)]),
                         "The formula Σ_k σ(z_k)(δ_ik δ_jk − σ(z_k) δ_ij) is wrong: for i ≠ j it gives 0 instead of −p_i p_j."),
                        (lambda S: -expfamily.diag_minus_outer(sp.Matrix(_P(S))),
                         "Check the sign: the loss is convex in o, so H is positive semidefinite, with a positive diagonal.")],
                 canon=_ch2_canon, seed=22, wide=_ch2_wide),
        Numeric("ch2.covariance", "Cov[Y] for the one-hot Y ~ Categorical(0.1, 0.6, 0.3), as numbers",
                "a 3×3 array of numbers", 2, lambda: hessian.categorical_covariance(P_NUM),
                wrong=[(lambda: np.diag([p * (1 - p) for p in P_NUM]),
                        "The variances are right, but the off-diagonal covariances should be −p_i p_j, not 0."),
                       (lambda: np.zeros((3, 3)), "Y is random: its covariance is not 0."),
                       (lambda: np.outer(P_NUM, P_NUM), "p pᵀ is E[Y]E[Y]ᵀ; the covariance is E[YYᵀ] minus that (what is E[YYᵀ] for a one-hot Y?)."),
                       (lambda: np.outer(P_NUM, P_NUM) - np.diag(P_NUM), "Check the sign: variances (the diagonal) are positive.")],
                shape=(3, 3)),
        Numeric("ch2.max_eigenvalue", "the best upper bound on the largest eigenvalue of H, valid for every p",
                "a number", 2, lambda: 0.5,
                wrong=[(lambda: 0.25, "1/4 bounds a diagonal entry p_i(1 − p_i); an eigenvalue can be larger (try two classes)."),
                       (lambda: 1.0, "1 is a valid bound but not the best one (try two classes first)."),
                       (lambda: 2 / 3, "1 − 1/C bounds the trace 1 − Σ p_i², not the largest eigenvalue."),
                       (lambda: 0.0, "H is not 0: it is positive semidefinite with positive trace.")]),
        Choice("ch2.whose_variance", "diag(p) − p pᵀ is the covariance of which random vector?", 2,
               {"a": "the one-hot label Y ~ Categorical(p)", "b": "the softmax output softmax(z)",
                "c": "the logits z"}, "a",
               {"b": "For a fixed z, softmax(z)_i is a number and has no variance; for random z its variance is below "
                     "μ(1 − μ), since a [0, 1]-valued variable reaches μ(1 − μ) only if it takes just the values 0 and 1. "
                     "The variance p_i(1 − p_i) belongs to the indicator Y_i.",
                "c": "The logits are parameters here, not random: the randomness is in the label Y."}),
        Numeric("ch3.entropy", "the entropy of the source (three symbols, each 1/3), in bits per symbol",
                "a number (or a formula such as 'log2(3)')", 3, lambda: coding.entropy_bits([1 / 3] * 3),
                wrong=[(lambda: 2.0, "2 bits/symbol is the rate of the fixed-length code, above the entropy."),
                       (lambda: 3.0, "A one-hot code costs 3 bits/symbol; the entropy is lower than any code."),
                       (lambda: 5 / 3, "5/3 is the rate of the best symbol code; the entropy is lower."),
                       (lambda: math.log(3), "That is in nats (natural logarithm); the question asks for bits.")],
                rtol=1e-4),
        Numeric("ch3.huffman_rate", "the average bits per symbol of the best symbol code (one symbol at a time)",
                "a number (or a fraction such as '5/3')", 3, lambda: 5 / 3,
                wrong=[(lambda: 2.0, "2 bits (00, 01, 10 with 11 unused) is the problem, not the best code: "
                        "it wastes log2 4 − log2 3 ≈ 0.415 bits/symbol."),
                       (lambda: LOG2_3, "log2 3 is the entropy; no symbol code reaches it, because codeword lengths "
                        "are integers and 1/3 is not a power of 1/2."),
                       (lambda: 3.0, "A one-hot code (100, 010, 001) costs 3 bits per symbol: worse than 2.")],
                rtol=1e-4),
        Choice("ch3.better_code", "Which code has the lowest rate, coding one symbol at a time?", 3,
               {"a": "100, 010, 001", "b": "00, 01, 10", "c": "0, 10, 11",
                "d": "none: unequal lengths mismatch equal probabilities, so equal lengths are best"}, "c",
               {"a": "A one-hot code costs 3 bits per symbol: worse than 2.",
                "b": "2 bits per symbol wastes the codeword 11 (≈ 0.415 bits/symbol): that is the problem, not the cure.",
                "d": "Equal lengths cost 2 bits per symbol; a prefix code with unequal lengths does better."}),
        Function("ch3.block_bits", "block_bits(n): bits of a fixed-length code for a block of n trits "
                 "(ValueError for n < 1)", "a function n -> int", 3, ("block_bits",),
                 _block_cases, _block_strict, judge_int, _block_diagnose),
        Function("ch3.codec", "encode(trits) -> '0'/'1' string and decode(bits, length) -> the list of "
                 "`length` trits of the message, rate ≤ 1.6 bits/trit", "a pair of functions (encode, decode)", 3, ("encode", "decode"),
                 _codec_cases, _codec_strict, judge_codec),
        Symbolic("ch4.gap", "LSE(a, b) − max(a, b) as an expression in d = |a − b|",
                 "an expression in d", 4, d, (), lambda S: sp.log(1 + sp.exp(-S["d"])),
                 lambda rng: {"d": rng.uniform(0.05, 6)},
                 wrong=[(lambda S: sp.log(2), "log 2 is the largest gap (at d = 0); the gap shrinks as d grows."),
                        (lambda S: sp.Integer(0), "LSE(a, b) is strictly above max(a, b): the gap is never 0."),
                        (lambda S: sp.log(1 + sp.exp(S["d"])), "Sign: the gap must shrink as d grows."),
                        (lambda S: sp.exp(-S["d"]), "e^(−d) is only the first-order approximation for large d.")],
                 seed=41, wide=_gap_wide),
        Symbolic("ch4.bound", "the best upper bound of λ⁻¹LSE(λx) − max(x) for n numbers (in n and lam)",
                 "an expression in n and lam", 4, nl, (), lambda S: sp.log(S["n"]) / S["lam"],
                 lambda rng: {"n": float(rng.integers(2, 30)), "lam": rng.uniform(0.2, 5)},
                 wrong=[(lambda S: sp.log(2) / S["lam"], "log(2)/λ is the bound for two numbers; with n numbers the sum has n terms."),
                        (lambda S: sp.log(S["n"]), "log n is the bound at λ = 1; the gap shrinks like 1/λ."),
                        (lambda S: sp.Integer(0), "λ⁻¹LSE(λx) is strictly above max(x) for λ > 0."),
                        (lambda S: S["n"] / S["lam"], "Too loose: the sum of n exponentials is at most n times the largest one.")],
                 seed=42, wide=_bound_wide),
        Choice("ch4.limit", "For which limit of λ does λ⁻¹LSE(λx) tend to max(x)?", 4,
               {"a": "λ → +∞", "b": "λ → −∞", "c": "λ → 0⁺"}, "a",
               {"b": "λ → −∞ gives min(x), not max(x) (that is the soft-min construction in disguise).",
                "c": "As λ → 0⁺ it diverges like (log n)/λ."}),
        Choice("ch4.softmin_formula", "Which formula is a soft minimum of x (temperature 1/λ)?", 4,
               {"a": "−λ⁻¹ LSE(−λx)", "b": "log Σ p_i e^{z_i} − log Σ e^{z_i}", "c": "λ⁻¹ LSE(λx)",
                "d": "LSE(−λx)"}, "a",
               {"b": "log Σ p_i e^{z_i} − log Σ e^{z_i} is not a soft minimum of anything: it is the log of a "
                     "weighted average of the p_i, not a function that tends to min(x).",
                "c": "That is the soft maximum.",
                "d": "This does not tend to min(x) as λ grows: check its sign and its scale."}),
        Function("ch4.softmin", "softmin(x, lam): the soft minimum of a 1-D array x at inverse temperature lam > 0",
                 "a function (x, lam) -> float", 4, ("softmin",), _softmin_cases, _softmin_strict,
                 judge_value, _softmin_diagnose),
        Function("ch4.stable_lse", "lse(x): a numerically stable log Σ exp(x_i) for a 1-D sequence x "
                 "(any NaN gives NaN, even next to +inf)",
                 "a function x -> float", 4, ("lse",), _stable_lse_cases, _stable_lse_strict,
                 judge_value, _lse_diagnose),
    ]
    return {e.id: e for e in X}


EXERCISES: dict[str, Exercise] = _build()


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
