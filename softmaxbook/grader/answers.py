"""Serialise a learner's answer to plain JSON data (graded exercises, all chapters).

The learner-side ``check`` and the batch grader grade the *same* plain form, so they
share one comparison path, and the batch grader never has to trust an object from the
learner's kernel: sympy objects become their printed form (parsed again through the
whitelist in :mod:`.parse`), arrays become lists, and functions are pickled *by value*
with ``cloudpickle`` (so lambdas, closures over helpers, decorated and ``exec``-defined
functions survive) and carried as base64 text. Nobody unpickles them except the fresh,
sandboxed interpreter that runs the hidden tests (:func:`.sandbox.run_functions`), where
the course package is not importable.
"""

from __future__ import annotations

import base64
import functools
import math
import types
from fractions import Fraction

import numpy as np
import sympy as sp

MAX_ITEMS = 10_000
MAX_TEXT = 50_000   # longer than the parser accepts, so that it says "too long"
MAX_PICKLE = 500_000  # bytes of one pickled function (keeps the journal and the harvest small)


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
    if isinstance(x, (types.FunctionType, functools.partial)):
        return function_record(x)
    if callable(x):
        return {"t": "bad", "v": f"a callable {type(x).__name__} (define the answer with def)"}
    return {"t": "bad", "v": f"a {type(x).__name__}"}


def function_record(f) -> dict:
    """``{"t": "fn", "name", "pickle"}``: ``f`` pickled by value (base64), or a "bad" record
    saying why it cannot be sent (unpicklable, or over :data:`MAX_PICKLE` bytes)."""
    import cloudpickle
    name = str(getattr(f, "__name__", type(f).__name__))[:100]
    try:
        data = cloudpickle.dumps(f)
    except Exception as exc:  # a closure over a generator, an open file, a lock, ...
        return {"t": "bad", "v": f"a function that cannot be sent to the grader ({type(exc).__name__}: "
                f"{str(exc)[:120]}); define it with def and keep only numbers, lists and arrays around it"}
    if len(data) > MAX_PICKLE:
        return {"t": "bad", "v": f"a function too large to send to the grader ({len(data) // 1000} kB with what "
                f"it uses, over {MAX_PICKLE // 1000} kB): does it capture a large array?"}
    return {"t": "fn", "name": name, "pickle": base64.b64encode(data).decode("ascii")}
