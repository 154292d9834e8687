"""Serialise a learner's answer to plain JSON data (graded exercises, all chapters).

The learner-side ``check`` and the batch grader grade the *same* plain form, so they
share one comparison path, and the batch grader never has to trust an object from the
learner's kernel: sympy objects become their printed form (parsed again through the
whitelist in :mod:`.parse`), arrays become lists, functions become their source code
(re-run in the grader's sandbox) plus the few globals they use.
"""

from __future__ import annotations

import inspect
import math
import textwrap
import types
from fractions import Fraction

import numpy as np
import sympy as sp

MAX_ITEMS = 10_000
MAX_TEXT = 50_000   # longer than the parser accepts, so that it says "too long"
# Modules a harvested function may use by name; they are imported afresh by the grader.
ALLOWED_MODULES = {"numpy", "math", "sympy", "itertools", "functools", "operator", "collections", "fractions", "cmath"}


def serialise(x, depth: int = 0) -> dict:
    """Plain-data form ``{"t": kind, ...}`` of an answer; never raises."""
    try:
        return _ser(x, depth)
    except Exception as exc:  # a hostile object whose __str__ raises, etc.
        return {"t": "bad", "v": f"{type(x).__name__} ({type(exc).__name__})"}


def _ser(x, depth):
    if depth > 6:
        return {"t": "bad", "v": "an object nested too deeply"}
    if x is None or x is Ellipsis:
        return {"t": "none"}
    if isinstance(x, (bool, np.bool_)):
        return {"t": "bad", "v": "a bool (True/False)"}
    if isinstance(x, (int, float, Fraction, np.integer, np.floating)):
        try:
            return {"t": "num", "v": float(x)}
        except OverflowError:
            return {"t": "num", "v": math.copysign(math.inf, x)}
    if isinstance(x, str):
        return {"t": "text", "v": x[:MAX_TEXT]}
    if isinstance(x, sp.MatrixBase):
        if x.rows * x.cols > MAX_ITEMS:
            return {"t": "bad", "v": "a matrix that is far too large"}
        return {"t": "seq", "v": [{"t": "seq", "v": [_ser(x[i, j], depth + 2) for j in range(x.cols)]}
                                  for i in range(x.rows)]}
    if isinstance(x, sp.Basic):
        return {"t": "sym", "v": sp.sstr(x)[:MAX_TEXT]}
    if isinstance(x, np.ndarray):
        if x.size > MAX_ITEMS:
            return {"t": "bad", "v": "an array that is far too large"}
        if x.ndim == 0:
            return _ser(x.item(), depth + 1)
        return {"t": "seq", "v": [_ser(e, depth + 1) for e in x]}
    if isinstance(x, (list, tuple)):
        if len(x) > MAX_ITEMS:
            return {"t": "bad", "v": "a list that is far too long"}
        return {"t": "seq", "v": [_ser(e, depth + 1) for e in x]}
    if isinstance(x, complex):
        return {"t": "bad", "v": "a complex number"}
    if isinstance(x, types.FunctionType):
        return function_record(x)
    if callable(x):
        return {"t": "bad", "v": f"a callable {type(x).__name__} (define the answer with def)"}
    return {"t": "bad", "v": f"a {type(x).__name__}"}


def function_record(f) -> dict:
    """Source of ``f`` and of the globals it uses (helpers, constants, allowed modules)."""
    env, seen = {}, {f.__name__}
    try:
        src = textwrap.dedent(inspect.getsource(f))
    except (OSError, TypeError):
        src = None
    _collect(f, env, seen)
    return {"t": "fn", "name": f.__name__, "src": src, "env": env}


def _names(code):
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


def _collect(f, env, seen):
    g = getattr(f, "__globals__", {})
    for name in sorted(_names(f.__code__)):
        if name in seen or name not in g:
            continue
        seen.add(name)
        v = g[name]
        if isinstance(v, types.ModuleType):
            root = v.__name__.split(".")[0]
            if root in ALLOWED_MODULES:
                env[name] = {"module": v.__name__}
        elif isinstance(v, types.FunctionType) and v.__module__ == f.__module__:
            try:
                env[name] = {"src": textwrap.dedent(inspect.getsource(v))}
            except (OSError, TypeError):
                continue
            _collect(v, env, seen)
        elif callable(v) and (getattr(v, "__module__", None) or "").split(".")[0] in ALLOWED_MODULES:
            env[name] = {"attr": [v.__module__, getattr(v, "__qualname__", name)]}
        elif isinstance(v, (int, float, str)) and not isinstance(v, bool):
            env[name] = {"value": v}
