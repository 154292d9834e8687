"""Comparison of answers with references (graded exercises, all chapters).

* Symbolic answers: each entry is evaluated at seeded random points (30-digit
  arithmetic) and compared with the reference there; entries that agree are then
  confirmed by simplification (``simplify(answer - reference) == 0`` after the
  exercise's canonical substitution, e.g. ``p_i -> exp(o_i)/sum exp(o)``), under a
  per-step alarm. If simplification cannot decide in time, the numeric agreement at
  every point is the verdict (the "random-point fallback"). Evaluation and
  simplification run in the forked sandbox, so a hostile expression cannot hang.
* Numbers and arrays: relative/absolute tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from . import sandbox

RTOL = 1e-8
SIMPLIFY_SECONDS = 1.0


def close(a, b, rtol=RTOL, atol=1e-10) -> bool:
    """``a`` and ``b`` agree (nan == nan, inf == inf of the same sign)."""
    if a is None or b is None:
        return False
    if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


def _value(expr, point):
    try:
        v = expr.xreplace(point).evalf(30)
        if v.is_real is False or not v.is_number:
            return None
        f = float(v)
        return f if math.isfinite(f) else None
    except Exception:
        return None


def evaluate(entries, points):
    """Values of each sympy entry at each point (``None`` where undefined)."""
    return [[_value(e, pt) for pt in points] for e in entries]


def symbolic_verdicts(entries, references, ref_values, points, canon=None, simplify=True,
                      timeout=sandbox.HARD_TIMEOUT):
    """Compare flat lists of sympy entries with references.

    ``ref_values`` is ``evaluate(references, points)`` (cached by the registry); ``canon`` is a
    list of substitution tiers tried in turn before simplification.
    Returns ``(values, verdicts, status)``: the learner's values at ``points``
    (for matching known wrong answers), one verdict per entry (``"symbolic"``,
    ``"numeric"`` or ``False``), and the sandbox status.
    """
    def task(emit):
        sandbox.step_alarm(timeout * 0.5)
        vals = evaluate(entries, points)
        sandbox.step_alarm(0)
        emit({"values": vals})
        for k, (e, r) in enumerate(zip(entries, references)):
            if not _agree(vals[k], ref_values[k]) or not simplify:
                continue
            emit({"proved": k, "ok": _prove_zero(e - r, canon or [{}], len(entries))})

    reports, status = sandbox.run(task, timeout=timeout)
    values = None
    proved = {}
    for rep in reports:
        if "values" in rep:
            values = rep["values"]
        elif "proved" in rep:
            proved[rep["proved"]] = rep["ok"]
    if values is None:
        return None, [False] * len(entries), status
    verdicts = []
    for k in range(len(entries)):
        if not _agree(values[k], ref_values[k]):
            verdicts.append(False)
        else:
            verdicts.append("symbolic" if proved.get(k) else "numeric")
    return values, verdicts, status


def _prove_zero(diff, tiers, n_entries) -> bool:
    """Try to show ``diff == 0`` symbolically: cheap ``expand`` and ``cancel`` first (after each
    substitution tier, e.g. ``p3 -> 1 - p1 - p2``), then ``simplify`` after the last
    tier, under an alarm. ``False`` means "not proved", not "different"."""
    try:
        sandbox.step_alarm(SIMPLIFY_SECONDS / max(1, n_entries) + 0.05)
        for simplifier in (sp.expand, sp.cancel):
            for sub in tiers:
                if simplifier(diff.xreplace(sub) if sub else diff) == 0:
                    return True
        return sp.simplify(diff.xreplace(tiers[-1]) if tiers[-1] else diff) == 0
    except sandbox.StepTimeout:
        return False
    except Exception:
        return False
    finally:
        sandbox.step_alarm(0)


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


def array_close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
