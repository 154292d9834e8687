"""Read a plain answer (see :mod:`.answers`) into sympy values of the expected shape
(graded exercises, all chapters): its nesting, number of entries and total length are
checked before anything is parsed, then every string goes through the whitelist of
:mod:`.parse`, all under one time limit."""

from __future__ import annotations

import math

import sympy as sp

from ..i18n import _
from . import compare
from .parse import parse
from .parse_rules import MAX_CHARS, ParseError
from .result import describe

MAX_ENTRIES = 100           # entries of a list/array answer, counted before anything is parsed


def read(ans, shape, names, allowed=None):
    """Parse a plain answer into sympy values of the expected shape: its nesting, number
    of entries and total length are checked first, then every string is parsed, all
    under one time limit (:func:`.compare.time_limit`)."""
    try:
        precheck(ans, shape)
        with compare.time_limit(compare.EVAL_SECONDS):
            return check_shape(to_sympy(ans, names, allowed), shape)
    except ParseError as exc:
        if not exc.about_form:
            raise
        raise ParseError(_("{refusal}. {how}").format(refusal=exc.args[0], how=how_to_write(shape, numbers=not names))) from None


def how_to_write(shape, numbers: bool = False):
    """How to write an answer of ``shape`` (added to a refusal about the answer's form; a
    :class:`~softmaxbook.i18n.Message`)."""
    entry = _("a number or a string such as '1/3'") if numbers else _("a sympy expression or a string")
    if len(shape) == 2:
        r, c = shape
        rows = ", ".join("[" + ", ".join(["…"] * c) + "]" for _row in range(r))
        return _("A {r}×{c} matrix is a list of {r} rows of {c} entries, {rows} (each entry {entry}), a sympy "
                 "Matrix(...) or a NumPy array (in Python, * multiplies sympy matrices and @ NumPy arrays).").format(
            r=r, c=c, rows=f"[{rows}]", entry=entry)
    if len(shape) == 1:
        items = ", ".join(["…"] * shape[0])
        return _("A vector of {n} entries is a list {items} (each entry {entry}), a sympy Matrix({items}) "
                 "or a NumPy array.").format(n=shape[0], items=f"[{items}]", entry=entry)
    return (_("Write one number, e.g. 2.5 or '5/2'.") if numbers else
            _("Write one expression with * for every product, e.g. '2*x*exp(-x)'."))


def precheck(ans, shape):
    """Refuse, before parsing anything, an answer with more entries than the shape
    holds, nested more than a matrix, or longer in all than one string may be."""
    counts = [0, 0]         # entries, characters

    def skeleton(a, depth):
        if not isinstance(a, dict):
            raise ParseError(_("the answer is malformed"))
        if a.get("t") != "seq":
            counts[0] += 1
            counts[1] += len(a["v"]) if isinstance(a.get("v"), str) else 0
            return 0
        v = a.get("v")
        if not isinstance(v, list):
            raise ParseError(_("the answer is malformed"))
        what = _("a single expression") if shape == () else _("{n} entries").format(n=math.prod(shape))
        if depth >= 2:
            raise ParseError(_("expected {what}, got lists nested more deeply than a matrix").format(what=what))
        if len(v) > MAX_ENTRIES:
            raise ParseError(_("expected {what}, got a list of {n} entries").format(what=what, n=len(v)))
        if counts[0] + len(v) > MAX_ENTRIES:
            raise ParseError(_("expected {what}, got more than {n} entries").format(what=what, n=MAX_ENTRIES))
        return [skeleton(e, depth + 1) for e in v]

    sk = skeleton(ans, 0)
    expected = math.prod(shape) if shape else 1
    if counts[0] > expected:       # one string may hold a whole list, so only too many is final
        check_shape(sk, shape)
        raise ParseError(_("expected {n} entries, got {got}").format(n=expected, got=counts[0]))
    if counts[1] > MAX_CHARS:
        raise ParseError(_("the answer is too long ({n} characters in all; the limit is {limit})").format(
            n=counts[1], limit=MAX_CHARS))


def to_sympy(ans, names, allowed=None):
    t = ans.get("t")
    if t in ("sym", "text"):
        return parse(ans["v"], names, allowed)
    if t == "num":
        v = ans.get("v")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ParseError(_("the answer contains nan or inf"))
        return sp.Float(v)
    if t == "seq":
        return [to_sympy(e, names, allowed) for e in ans["v"]]
    raise ParseError(_("expected a formula, got {got}").format(got=describe(ans)))


def shape_like(value, shape):
    if isinstance(value, sp.MatrixBase):
        return value.tolist() if len(shape) == 2 else list(value)
    return value


def check_shape(value, shape):
    if isinstance(value, sp.MatrixBase):
        value = shape_like(value, shape)
    if shape == ():
        if isinstance(value, list):
            raise ParseError(_("expected a single expression, got a list of {n}").format(n=len(value)), about_form=True)
        return value
    if not isinstance(value, list):
        raise ParseError(_("expected a vector of {n} entries").format(n=shape[0]) if len(shape) == 1
                         else _("expected a {rows}×{cols} matrix").format(rows=shape[0], cols=shape[1]), about_form=True)
    if len(shape) == 1:
        if len(value) == 1 and isinstance(value[0], list):
            value = value[0]
        if all(isinstance(v, list) and len(v) == 1 for v in value):
            value = [v[0] for v in value]       # a column vector
        if len(value) != shape[0] or any(isinstance(v, list) for v in value):
            raise ParseError(_("expected a vector of {n} entries, got {got}").format(n=shape[0], got=len(value)),
                             about_form=True)
        return value
    if len(value) != shape[0] or any(not isinstance(r, list) or len(r) != shape[1] for r in value) \
            or any(isinstance(e, list) for r in value for e in r):
        raise ParseError(_("expected a {rows}×{cols} matrix").format(rows=shape[0], cols=shape[1]), about_form=True)
    return value


def flat(value):
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, list):
        return [e for v in value for e in flat(v)]
    return [sp.sympify(value)]


def position(k, shape):
    if len(shape) == 2:
        return f"({k // shape[1] + 1},{k % shape[1] + 1})"
    return f"#{k + 1}"


def floats(value):
    if isinstance(value, list):
        return [floats(v) for v in value]
    if value.free_symbols:
        raise ParseError(_("expected numbers, got an expression with symbols"))
    v = compare.numeric_value(value)
    if v is None:
        raise ParseError(_("expected a real number"))
    try:
        return float(v)
    except OverflowError:
        return math.inf
