"""Comparison of answers with references (graded exercises, all chapters).

* Symbolic answers: each entry is evaluated at seeded random points -- the exercise's
  usual range *and* wide points (large values of both signs, ties where a max switches
  branch) -- and compared with the reference there; entries that agree are then
  confirmed by simplification (``simplify(answer - reference) == 0`` after the
  exercise's canonical substitution, e.g. ``p_i -> exp(o_i)/sum exp(o)``). If
  simplification cannot decide in time, the numeric agreement at every point is the
  verdict (the "random-point fallback").
* Evaluation at the points does not use sympy's ``evalf``: :func:`numeric_value` walks
  the (size-capped, see :mod:`.parse`) tree with mpmath at a fixed precision and treats
  ``exp`` of more than ``EXP_CAP`` as infinite, so no step can ask for millions of
  digits (the parser refuses constants such as ``exp(exp(exp(exp(3))))`` that sympy
  itself might try to evaluate). Everything runs in the calling process under
  :func:`time_limit`, a deadline that interrupts Python code (a repeating ``SIGALRM``);
  the caps in :mod:`.parse` keep every single C-level step (big-integer arithmetic)
  small. Measured: entering and leaving a limit costs ~16 µs.
* Numbers and arrays: the precision the key states (:mod:`.precision`).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from contextlib import contextmanager

import mpmath
import sympy as sp

RTOL = 1e-8
DIGITS = 30                  # working precision of the evaluation at sample points
EXP_CAP = 30_000.0           # exp(x) for x > EXP_CAP counts as +inf (and as 0 below -EXP_CAP)
EVAL_SECONDS = 1.0           # parsing and evaluating one answer
SIMPLIFY_SECONDS = 0.25      # trying to prove equality, all entries together (else: numeric verdict)
MAX_PROOF_OPS = 3000         # larger differences are judged at the points only
MAX_PROOF_POWER = 12         # (a + b)**n with |n| above this is not expanded
FINALIZER_GRACE = 1.0        # seconds past a deadline that an alarm waits for a finalizer to end


class TimeUp(BaseException):
    """A :func:`time_limit` expired (a BaseException, so that no ``except Exception``
    inside sympy swallows it)."""


# --------------------------------------------------------------------------- deadlines

_deadlines: list[list] = []        # active time limits ([monotonic end]), innermost last
_saved: list = []                  # the handler and timer found when the outermost started
_RETRY = 0.002                     # how soon an alarm that waited for a finalizer fires again


def _in_finalizer(frame) -> bool:
    """Whether ``frame`` runs inside a ``__del__`` or inside ``sys.unraisablehook``, directly or
    through what they call. A ``TimeUp`` raised there would not stop the work: Python reports
    it through the hook and goes on (and raised inside the hook, it breaks the hook itself)."""
    hook = getattr(sys.unraisablehook, "func", sys.unraisablehook)        # a functools.partial
    hook = getattr(hook, "__func__", hook)                                 # a bound method
    code = getattr(hook, "__code__", None) or getattr(getattr(type(hook), "__call__", None), "__code__", None)
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def _on_alarm(signum, frame):
    # Inside a finalizer, the alarm waits (a few ms at a time) until the finalizer has returned,
    # so that TimeUp lands in the work the deadline bounds; after FINALIZER_GRACE it no longer
    # waits, so that a finalizer that never ends is still interrupted.
    late = time.monotonic() - (_deadlines[-1][0] if _deadlines else -math.inf)
    if late < FINALIZER_GRACE and _in_finalizer(frame):
        signal.setitimer(signal.ITIMER_REAL, _RETRY, 0.05)
        return
    raise TimeUp()


def _arm(end: float) -> None:
    # Repeats every 50 ms after the first expiry, in case some code swallows one TimeUp.
    signal.setitimer(signal.ITIMER_REAL, max(end - time.monotonic(), 1e-4), 0.05)


def _disarm() -> None:
    while True:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        except TimeUp:   # the alarm fired between the block's end and this line
            continue


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`TimeUp` in the block after ``seconds`` (nested limits take the earlier
    end). Only in the main thread of a POSIX process (signals are delivered there);
    elsewhere the block runs without a limit and the size caps of :mod:`.parse` remain
    the only bound. The previous ``SIGALRM`` handler and timer are given back at the end,
    even when an alarm lands while the limit is being set up or taken down. An alarm that lands
    inside a finalizer (``__del__``, ``sys.unraisablehook``) waits until it has returned (at most
    ``FINALIZER_GRACE`` past the deadline)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    token = [time.monotonic() + seconds]
    try:
        if _deadlines:
            token[0] = min(token[0], _deadlines[-1][0])
        else:
            _saved[:] = [signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL), time.monotonic()]
            signal.signal(signal.SIGALRM, _on_alarm)
        _deadlines.append(token)
        _arm(token[0])
        yield
    finally:
        _disarm()
        _deadlines[:] = [t for t in _deadlines if t is not token]
        if _deadlines:
            _arm(_deadlines[-1][0])          # an outer limit that has passed fires at once
        elif _saved:
            handler, (left, interval), started = _saved
            _saved.clear()
            signal.signal(signal.SIGALRM, signal.SIG_DFL if handler is None else handler)
            if left > 0:                     # someone else's timer: give back what remains
                signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - started), 1e-4), interval)


# --------------------------------------------------------------------------- evaluation

class _Undefined(Exception):
    pass


def numeric_value(expr, point=None):
    """Real value of a sympy expression at ``point`` (``{symbol: number}``) as an mpmath
    number (possibly ±inf), or ``None`` where it is undefined or not real."""
    try:
        with mpmath.workdps(DIGITS):
            return _ev(expr, point or {}, {})
    except (_Undefined, ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None


def _ev(e, pt, memo):
    if e in memo:
        return memo[e]
    if e.is_Symbol:
        if e not in pt:
            raise _Undefined
        v = mpmath.mpf(pt[e])
    elif e.is_Rational:
        v = mpmath.mpf(int(e.p)) / int(e.q)
    elif e.is_Float:
        v = mpmath.mpf(e._mpf_)
    elif e is sp.pi:
        v = +mpmath.pi
    elif e is sp.E:
        v = +mpmath.e
    elif e.is_Add:
        v = mpmath.fsum(_ev(a, pt, memo) for a in e.args)
    elif e.is_Mul:
        v = mpmath.mpf(1)
        for a in e.args:
            v *= _ev(a, pt, memo)
    elif e.is_Pow:
        v = _pow(_ev(e.base, pt, memo), _ev(e.exp, pt, memo))
    elif isinstance(e, sp.exp):
        v = _exp(_ev(e.args[0], pt, memo))
    elif isinstance(e, sp.log):
        x = _ev(e.args[0], pt, memo)
        if not x > 0:
            raise _Undefined
        v = mpmath.log(x)
    elif isinstance(e, sp.Abs):
        v = abs(_ev(e.args[0], pt, memo))
    elif isinstance(e, (sp.Max, sp.Min)):
        vals = [_ev(a, pt, memo) for a in e.args]
        v = max(vals) if isinstance(e, sp.Max) else min(vals)
    else:   # I, zoo, nan, oo and anything the parser does not produce
        raise _Undefined
    if mpmath.isnan(v):
        raise _Undefined
    memo[e] = v
    return v


def _exp(x):
    if x > EXP_CAP:
        return mpmath.inf
    if x < -EXP_CAP:
        return mpmath.mpf(0)
    return mpmath.exp(x)


def _pow(a, b):
    if b == 0:
        return mpmath.mpf(1)
    if a == 0:
        if b > 0:
            return mpmath.mpf(0)
        raise _Undefined
    integer = mpmath.isint(b)
    if a < 0:
        if not integer:
            raise _Undefined                  # sympy's principal root is complex
        return (-1 if int(b) % 2 else 1) * _pow(-a, b)
    if integer and abs(b) <= 64 and mpmath.isfinite(a):
        return a ** int(b)
    if mpmath.isinf(a):
        return mpmath.inf if b > 0 else mpmath.mpf(0)
    return _exp(b * mpmath.log(a))


def _float(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (OverflowError, TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def evaluate(entries, points):
    """Values of each sympy entry at each point (``None`` where undefined or not finite)."""
    return [[_float(numeric_value(e, pt)) for pt in points] for e in entries]


def close(a, b, rtol=RTOL, atol=1e-10) -> bool:
    """``a`` and ``b`` agree (nan == nan, inf == inf of the same sign)."""
    if a is None or b is None:
        return False
    if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


# --------------------------------------------------------------------------- verdicts

def symbolic_verdicts(entries, references, ref_values, points, canon=None, simplify=True,
                      timeout=EVAL_SECONDS):
    """Compare flat lists of sympy entries with references.

    ``ref_values`` is ``evaluate(references, points)`` (cached by the registry); ``canon`` is a
    list of substitution tiers tried in turn before simplification.
    Returns ``(values, verdicts, status)``: the learner's values at ``points``
    (for matching known wrong answers), one verdict per entry (``"symbolic"``,
    ``"numeric"`` or ``False``), and ``"ok"`` or ``"timeout"`` (evaluation took longer
    than ``timeout`` seconds; then ``values`` is ``None``).
    """
    try:
        with time_limit(timeout):
            values = evaluate(entries, points)
    except TimeUp:
        return None, [False] * len(entries), "timeout"
    verdicts = []
    per_entry = SIMPLIFY_SECONDS / max(1, len(entries))
    for k, (e, r) in enumerate(zip(entries, references)):
        if not _agree(values[k], ref_values[k]):
            verdicts.append(False)
        elif simplify and _prove_zero(e - r, canon or [{}], per_entry):
            verdicts.append("symbolic")
        else:
            verdicts.append("numeric")
    return values, verdicts, "ok"


def _provable(diff) -> bool:
    """Small enough to hand to expand/simplify within the time limit."""
    if sp.count_ops(diff) > MAX_PROOF_OPS:
        return False
    return all(not (p.exp.is_Integer and abs(int(p.exp)) > MAX_PROOF_POWER) for p in diff.atoms(sp.Pow))


def _prove_zero(diff, tiers, seconds) -> bool:
    """Try to show ``diff == 0`` symbolically: cheap ``expand`` and ``cancel`` first (after each
    substitution tier, e.g. ``p3 -> 1 - p1 - p2``), then ``simplify`` after the last
    tier, under a time limit. ``False`` means "not proved", not "different"."""
    try:
        with time_limit(seconds):
            if not _provable(diff):
                return False
            for simplifier in (sp.expand, sp.cancel):
                for sub in tiers:
                    if simplifier(diff.xreplace(sub) if sub else diff) == 0:
                        return True
            return sp.simplify(diff.xreplace(tiers[-1]) if tiers[-1] else diff) == 0
    except TimeUp:
        return False
    except Exception:
        return False


def _agree(vals, refs) -> bool:
    """Numeric agreement at every point where the reference is defined (needs >= 2)."""
    n = 0
    for v, r in zip(vals, refs):
        if r is None:
            continue
        if v is None or not close(v, r):
            return False
        n += 1
    return n >= 2


def values_match(values, other_values) -> bool:
    """Entry-wise agreement of two value tables (for recognising a known wrong answer)."""
    if values is None or other_values is None or len(values) != len(other_values):
        return False
    return all(_agree(v, o) for v, o in zip(values, other_values))

