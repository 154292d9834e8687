"""Hidden tests of chapter 4's function exercises (``ch4.softmin``, ``ch4.stable_lse``): the
cases (inputs and what is expected; the sandbox receives only the inputs), the diagnoses of
wrong outputs, a right solution and one function per declared misconception. Referenced
by name from ``ch4.toml``."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ... import lse
from .. import compare
from ...i18n import _
from ..hidden import Case, Hidden, judge_value


def _lse_ref(x):
    return float(lse.logsumexp(np.asarray(x, dtype=float)))


def _softmin_ref(x, lam):
    return -_lse_ref(-lam * np.asarray(x, dtype=float)) / lam


def _moved(x, rng) -> list:
    """``x`` scaled up by 0.01 % to 0.1 %, shifted up by 0.001 to 0.01 (its finite entries; equal
    entries stay equal) and permuted: an input of the same kind, never easier (magnitudes only
    grow), and so close that an honest answer passes the twin exactly when it passes the case
    (tested over the key), while a looked-up public value is far outside the tolerance."""
    x = np.asarray(x, dtype=float)
    y = np.where(np.isfinite(x), x * (1 + rng.uniform(1e-4, 1e-3)) + rng.uniform(1e-3, 1e-2), x)
    return rng.permutation(y).tolist()


def _lse_twin(case, rng):
    x = np.asarray(case.args[0], dtype=float)
    if not np.isfinite(x).any():      # empty, or only infinities and NaN: a rule
        return None
    y = _moved(x, rng)
    return dataclasses.replace(case, args=(y,), expect=_lse_ref(y))


def _softmin_twin(case, rng):
    y, lam = _moved(case.args[0], rng), case.args[1]     # λ kept: λ = 1 cases stay λ = 1
    return dataclasses.replace(case, args=(y, lam), expect=_softmin_ref(y, lam))


def _stable_lse_cases():
    rng = np.random.default_rng(4)
    cases = [Case((list(v),), _lse_ref(v), _("a random vector gives the wrong value"))
             for v in (rng.normal(size=5), rng.normal(size=12) * 3, [0.0], [2.5, -1.0])]
    overflow = _("exp overflows in float64 above 709.78: subtract the maximum before exponentiating")
    cases += [
        Case(([1000.0, 1000.0],), 1000 + math.log(2), overflow),
        Case(([800.0, -800.0, 3.0],), 800.0, overflow),
        Case(([-1000.0, -1000.0],), -1000 + math.log(2), _("very negative inputs underflow to log 0 = −inf: shift by the maximum")),
        Case(([-math.inf, -math.inf],), -math.inf, _("all entries −inf should give −inf (guard the shift: −inf − (−inf) is nan)")),
        Case(([-math.inf, 0.0],), 0.0, _("a −inf entry contributes exp(−inf) = 0")),
        Case(([math.inf, 1.0],), math.inf, _("any +inf entry should give +inf (guard the shift: inf − inf is nan)")),
        Case(([math.nan, 1.0],), math.nan, _("a NaN entry should give NaN")),
        Case(([math.nan, math.inf],), math.nan, _("NaN wins over +inf: any NaN entry gives NaN")),
        Case(([],), "raises", _("an empty input should raise ValueError with a clear message")),
    ]
    rng = np.random.default_rng(5)
    big = rng.normal(size=20_000) * 50
    cases += [
        Case(([1e308, 1e308],), 1e308, _("huge finite values must not overflow")),
        Case(([709.0, 709.5, 710.0],), _lse_ref([709.0, 709.5, 710.0]), _("values near the overflow threshold")),
        Case((list(big),), _lse_ref(big), _("a long vector gives the wrong value")),
        Case(([-math.inf],), -math.inf, _("a single −inf should give −inf")),
        Case(([math.inf, math.nan],), math.nan, _("NaN should propagate even next to +inf")),
    ]
    return cases


def _lse_diagnose(case, rep):
    out = rep.get("out")
    if isinstance(out, (int, float)) and case.expect != "raises" and len(case.args[0]) > 1:
        x = np.asarray(case.args[0], dtype=float)
        if not np.isnan(x).any() and float(out) == float(np.max(x)) and float(case.expect) != float(np.max(x)):
            return _("you return max(x): that is the λ → ∞ limit of λ⁻¹LSE(λx), not LSE itself")
    return None


def _softmin_cases():
    rng = np.random.default_rng(6)
    cases = []
    for lam in (0.5, 1.0, 3.0):
        x = list(rng.normal(size=4))
        cases.append(Case((x, lam), _softmin_ref(x, lam), _("wrong value for a moderate λ")))
    x = [1.0, 2.0, 5.0]
    cases.append(Case((x, 1.0), _softmin_ref(x, 1.0), _("wrong value")))
    cases.append(Case(([3.0, 3.0, 3.0], 2.0), 3 - math.log(3) / 2, _("wrong value when all entries are equal")))
    cases += [Case(([1.0, 2.0], 1000.0), _softmin_ref([1.0, 2.0], 1000.0),
                   _("large λ underflows: −λx is very negative; use a stable LSE")),
              Case(([-400.0, 400.0], 5.0), _softmin_ref([-400.0, 400.0], 5.0),
                   _("large values overflow: use a stable LSE"))]
    return cases


def _softmin_diagnose(case, rep):
    out = rep.get("out")
    if not isinstance(out, (int, float)) or case.expect == "raises":
        return None
    x, lam = np.asarray(case.args[0], dtype=float), case.args[1]
    alternatives = [
        (_lse_ref(lam * x) / lam, _("that is the soft maximum; a soft-min must lie below min(x)")),
        (-_lse_ref(-lam * x), _("you forgot to divide by λ")),
        (_lse_ref(-lam * x) / lam, _("your result has the wrong sign")),
        (float(np.min(x)), _("that is the hard min(x); a soft-min is smooth and lies strictly below it")),
    ]
    for value, msg in alternatives:
        if compare.close(float(out), value, rtol=1e-9) and not compare.close(value, float(case.expect)):
            return msg
    return None


SOFTMIN = Hidden(
    _softmin_cases, judge_value, _softmin_diagnose, twin=_softmin_twin,
    solution='''def softmin(x, lam):
    """Soft minimum of x at inverse temperature lam."""
    z = -lam * np.asarray(x, dtype=float)
    m = np.max(z)
    return float(-(m + np.log(np.sum(np.exp(z - m)))) / lam)''',
    misconceptions={
        _("that is the soft maximum; a soft-min must lie below min(x)"):
            "def softmin(x, lam):\n    return float(np.log(np.sum(np.exp(lam * np.asarray(x, dtype=float)))) / lam)",
        _("you forgot to divide by λ"):
            "def softmin(x, lam):\n    z = -lam * np.asarray(x, dtype=float)\n    m = z.max()\n"
            "    return float(-(m + np.log(np.exp(z - m).sum())))",
        _("your result has the wrong sign"):
            "def softmin(x, lam):\n    z = -lam * np.asarray(x, dtype=float)\n    m = z.max()\n"
            "    return float((m + np.log(np.exp(z - m).sum())) / lam)",
        _("that is the hard min(x); a soft-min is smooth and lies strictly below it"):
            "def softmin(x, lam):\n    return float(np.min(x))",
    })

STABLE_LSE = Hidden(
    _stable_lse_cases, judge_value, _lse_diagnose, twin=_lse_twin,
    solution='''def lse(x):
    """log(sum(exp(x))), computed stably."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError("lse of an empty sequence is undefined")
    if np.isnan(x).any():
        return math.nan
    m = np.max(x)
    if np.isinf(m):
        return float(m)
    return float(m + np.log(np.sum(np.exp(x - m))))''',
    misconceptions={
        _("exp overflows in float64 above 709.78: subtract the maximum before exponentiating"):
            "def lse(x):\n    return float(np.log(np.sum(np.exp(np.asarray(x, dtype=float)))))",
        _("you return max(x): that is the λ → ∞ limit of λ⁻¹LSE(λx), not LSE itself"):
            "def lse(x):\n    if len(x) == 0:\n        raise ValueError('empty')\n    return float(np.max(x))",
    })
