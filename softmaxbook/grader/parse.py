"""Whitelisted parsing of math typed by a learner (graded exercises, all chapters).

A string such as ``"log(exp(theta1) + exp(theta2) + exp(theta3))"`` is parsed with
:func:`ast.parse` and the tree is walked node by node: only numbers, the names an
exercise declares, a short list of functions (``exp``, ``log``, ``sqrt``, ...) and the
arithmetic operators are accepted, and the sympy object is built here, by hand.
Nothing the learner types is ever passed to ``eval``/``exec``/``sympify``.
Sizes are capped so that ``10**10**10`` or a megabyte of ``x+x+...`` is refused in
microseconds instead of hanging the kernel.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata

import sympy as sp

MAX_CHARS = 20_000
MAX_NODES = 5000
MAX_DEPTH = 40
MAX_EXPONENT = 1000          # |numeric exponent| allowed in a power
MAX_BITS = 20000             # size of an exact number a power may produce
MAX_INT_DIGITS = 60          # digits of an integer literal


class ParseError(ValueError):
    """The learner's string is not acceptable math; the message says why."""


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "log2": lambda x: sp.log(x) / sp.log(2),
    "sqrt": sp.sqrt, "abs": sp.Abs, "Abs": sp.Abs,
    "max": sp.Max, "Max": sp.Max, "min": sp.Min, "Min": sp.Min,
    "sigma": _sigmoid, "sigmoid": _sigmoid,
}
N_ARGS = {"max": None, "Max": None, "min": None, "Min": None}   # variadic (>= 1)
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}

_GREEK = {"θ": "theta", "λ": "lam", "σ": "sigma", "π": "pi", "δ": "delta"}
_TEXT_REPLACEMENTS = [("−", "-"), ("·", "*"), ("×", "*"), ("^", "**"), ("²", "**2"),
                      ("⁻¹", "**(-1)"), ("√", "sqrt")]


def normalise_name(name: str) -> str:
    """``θ_1`` -> ``theta1``, ``λ``/``lambda`` -> ``lam``: one spelling per symbol."""
    name = unicodedata.normalize("NFKC", name)
    for g, latin in _GREEK.items():
        name = name.replace(g, latin)
    name = name.replace("_", "")
    return "lam" if name in ("lambda", "lamda") else name


def _prepare(text: str) -> str:
    if not isinstance(text, str):
        raise ParseError(f"expected a string of math, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ParseError(f"the expression is too long ({len(text)} characters; the limit is {MAX_CHARS})")
    for old, new in _TEXT_REPLACEMENTS:
        text = text.replace(old, new)
    for g, latin in _GREEK.items():
        text = text.replace(g, latin)
    text = re.sub(r"\blambda\b", "lam", text)       # a keyword in Python, a symbol here
    return text.strip()


def parse(text: str, names: dict[str, sp.Basic]):
    """Parse ``text`` into a sympy expression, or a (nested) list of them.

    ``names`` maps normalised symbol names (see :func:`normalise_name`) to sympy
    symbols. Raises :class:`ParseError` with a learner-readable reason otherwise.
    """
    text = _prepare(text)
    if not text:
        raise ParseError("the answer is an empty string")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"this is not a valid formula ({exc.msg}); write e.g. exp(x)/(1 + exp(x))") from None
    n = sum(1 for _ in ast.walk(tree))
    if n > MAX_NODES:
        raise ParseError(f"the expression is too large ({n} parts; the limit is {MAX_NODES})")
    return _Builder(names).build(tree.body, 0)


class _Builder:
    def __init__(self, names):
        self.names = names

    def build(self, node, depth):
        if depth > MAX_DEPTH:
            raise ParseError("the expression is nested too deeply")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.scalar(self.build(node.operand, d))
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a = self.scalar(self.build(node.left, d))
            b = self.scalar(self.build(node.right, d))
            op = node.op
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                if b == 0:
                    raise ParseError("division by zero")
                return a / b
            if isinstance(op, (ast.Pow, ast.BitXor)):
                return self.power(a, b)
            raise ParseError(f"the operator {type(op).__name__} is not allowed; use + - * / **")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ParseError("only plain function calls such as exp(x) or log(x) are allowed")
            fname = node.func.id
            if fname not in FUNCTIONS:
                raise ParseError(f"unknown function {fname!r}; allowed: {', '.join(sorted(set(FUNCTIONS)))}")
            args = [self.scalar(self.build(a, d)) for a in node.args]
            if fname in N_ARGS:
                if not args:
                    raise ParseError(f"{fname}() needs at least one argument")
            elif len(args) != 1:
                raise ParseError(f"{fname}() takes exactly one argument")
            try:
                return FUNCTIONS[fname](*args)
            except Exception as exc:  # sympy refusing e.g. log(0)
                raise ParseError(f"{fname}(...) could not be formed: {exc}") from None
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.build(e, d) for e in node.elts]
        raise ParseError(f"{type(node).__name__} is not allowed in a formula (only numbers, symbols, "
                         "+ - * / **, and functions like exp, log, sqrt)")

    @staticmethod
    def scalar(v):
        if isinstance(v, list):
            raise ParseError("a list cannot be used inside arithmetic; write each entry separately")
        return v

    @staticmethod
    def constant(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParseError(f"only numbers are allowed as constants, not {value!r}")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_INT_DIGITS:
                raise ParseError("a number in the expression is too long")
            return sp.Integer(value)
        if not math.isfinite(value):
            raise ParseError("the expression contains an infinite number")
        return sp.Float(value)

    def name(self, raw):
        key = normalise_name(raw)
        if key in self.names:
            return self.names[key]
        if raw in CONSTANTS:
            return CONSTANTS[raw]
        if raw in ("oo", "zoo", "nan", "inf", "NaN", "infinity"):
            raise ParseError("the answer contains an infinite or undefined value (inf/nan)")
        allowed = ", ".join(sorted(self.names)) or "none"
        raise ParseError(f"unknown name {raw!r}; the symbols of this exercise are: {allowed}")

    @staticmethod
    def power(a, b):
        if b.is_Number:
            if abs(float(b)) > MAX_EXPONENT:
                raise ParseError(f"an exponent is too large (limit {MAX_EXPONENT}); 10**10**10 and the like are refused")
            if a.is_Rational and b.is_Integer:
                bits = max(int(a.p).bit_length(), int(a.q).bit_length())
                if bits * abs(int(b)) > MAX_BITS:
                    raise ParseError("a power in the expression gives a number that is too large")
        return a ** b


def symbol_names(symbols) -> dict[str, sp.Symbol]:
    """Map normalised names to symbols, e.g. ``{'theta1': theta1}``."""
    return {normalise_name(s.name): s for s in symbols}


def to_text(obj):
    """Turn a learner's sympy object (or nested list of them) into plain strings.

    Used by both the learner-side check and the batch harvest, so that every
    symbolic answer reaches the comparison through :func:`parse`.
    """
    if isinstance(obj, sp.MatrixBase):
        return [[to_text(obj[i, j]) for j in range(obj.cols)] for i in range(obj.rows)]
    if isinstance(obj, (list, tuple)):
        return [to_text(o) for o in obj]
    if isinstance(obj, sp.Basic):
        return sp.sstr(obj)
    return obj
