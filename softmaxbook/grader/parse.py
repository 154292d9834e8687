"""Whitelisted parsing of math typed by a learner (graded exercises, all chapters).

A string such as ``"log(exp(theta1) + exp(theta2) + exp(theta3))"`` is parsed with
:func:`ast.parse` and the tree is walked node by node: only numbers, the names an
exercise declares, a short list of functions (``exp``, ``log``, ``sqrt``, ...) and the
arithmetic operators are accepted, and the sympy object is built here, by hand.
Nothing the learner types is ever passed to ``eval``/``exec``/``sympify``.

Every parse is bounded *before* sympy does any work: the length of the text, the
number of parts and the nesting of its syntax tree, the digits of every number, the
size of every exact number a power (or an ``exp`` of a logarithm) would produce --
estimated before the power is formed, then checked on the result -- and the number of
``Max``/``Min`` arguments. A refusal says which limit was hit ("expression too large:
..."). Functions with kinks or jumps (``Max``, ``Min``, ``Abs``, ``floor``, ...) are
refused unless the exercise allows them (``allowed``), because an answer that differs
from the reference only where such a function switches branch is hard to catch at
random points. Time limits are the caller's job (see :func:`.compare.time_limit`).
"""

from __future__ import annotations

import ast
import functools
import math
import re
import unicodedata

import sympy as sp

from ..i18n import _
from .compare import EXP_CAP, numeric_value
from .pointing import MATRIX_BUILDER, MATRIX_FUNCTIONS, points
from .result import now

MAX_CHARS = 20_000           # characters of one string (after normalisation)
MAX_NODES = 5000             # parts of one syntax tree
MAX_DEPTH = 40               # nesting of one syntax tree
MAX_EXPONENT = 1000          # |numeric exponent| allowed in a power (and in exp(c*log(x)))
MAX_BITS = 4000              # bits of any exact number in an expression (2**1000 has 1001)
MAX_INT_DIGITS = 60          # digits of an integer literal
MAX_MINMAX_ARGS = 8          # arguments of one Max/Min call
MAX_MINMAX_TOTAL = 16        # Max/Min arguments in one expression (sympy flattens nested calls)
MAX_RESULT_NODES = 20_000    # parts of the sympy expression built from one string


class ParseError(ValueError):
    """The learner's string is not acceptable math; the message says why. ``about_form`` marks
    a problem with how the answer is written (syntax, an implicit product, a transpose, a
    matrix function): the reader then adds how to write an answer of the shape asked."""

    def __init__(self, message, about_form: bool = False):
        super().__init__(message)       # a Message (the reason in every language) or a text
        self.about_form = about_form

    def __str__(self) -> str:
        return str(now(self.args[0])) if self.args else ""


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "log2": lambda x: sp.log(x) / sp.log(2),
    "sqrt": sp.sqrt, "abs": sp.Abs, "Abs": sp.Abs,
    "max": sp.Max, "Max": sp.Max, "min": sp.Min, "Min": sp.Min,
    "sigma": _sigmoid, "sigmoid": _sigmoid,
}
N_ARGS = {"max": None, "Max": None, "min": None, "Min": None}   # variadic (>= 1)
# Functions with kinks or jumps: the parser's own (allowed per exercise) and sympy's others
# (never accepted), named so that the refusal says which function is the problem.
RESTRICTED = {"max": "Max", "Max": "Max", "min": "Min", "Min": "Min", "abs": "Abs", "Abs": "Abs"}
NEVER = {"Piecewise", "piecewise", "sign", "sgn", "floor", "ceiling", "ceil", "Heaviside", "heaviside",
         "round", "frac", "Mod", "mod", "re", "im", "arg", "conjugate", "DiracDelta"}
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}

_GREEK = {"θ": "theta", "λ": "lam", "σ": "sigma", "π": "pi", "δ": "delta"}
_TEXT_REPLACEMENTS = [("−", "-"), ("·", "*"), ("×", "*"), ("^", "**"), ("√", "sqrt")]
_SUPERSCRIPT = re.compile("⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def normalise_name(name: str) -> str:
    """``θ_1`` -> ``theta1``, ``λ``/``lambda`` -> ``lam``: one spelling per symbol."""
    name = unicodedata.normalize("NFKC", name)
    for g, latin in _GREEK.items():
        name = name.replace(g, latin)
    name = name.replace("_", "")
    return "lam" if name in ("lambda", "lamda") else name


def _too_long(n: int) -> ParseError:
    return ParseError(_("the expression is too long ({n} characters; the limit is {limit})").format(n=n, limit=MAX_CHARS))


def _prepare(text: str) -> str:
    if not isinstance(text, str):
        raise ParseError(_("expected a string of math, got {type}").format(type=type(text).__name__))
    if len(text) > MAX_CHARS:
        raise _too_long(len(text))
    for old, new in _TEXT_REPLACEMENTS:
        text = text.replace(old, new)
    # θ² and x⁻¹ are powers (before NFKC, which would make θ³ the name theta3)
    text = _SUPERSCRIPT.sub(lambda m: f"**({m.group().translate(_SUPERSCRIPT_DIGITS)})", text)
    # One spelling for look-alike characters (full-width digits, bold letters, ...), as
    # Python itself does for names; NFKC can lengthen a string, so measure again.
    text = unicodedata.normalize("NFKC", text)
    if len(text) > MAX_CHARS:
        raise _too_long(len(text))
    for g, latin in _GREEK.items():
        text = text.replace(g, latin)
    text = re.sub(r"\blambda\b", "lam", text)       # a keyword in Python, a symbol here
    return text.strip()


def parse(text: str, names: dict[str, sp.Basic], allowed=None):
    """Parse ``text`` into a sympy expression, or a (nested) list of them.

    ``names`` maps normalised symbol names (see :func:`normalise_name`) to sympy
    symbols; ``allowed`` is the set of restricted functions (``"Max"``, ``"Min"``,
    ``"Abs"``) the exercise accepts, ``None`` for all of them. Raises
    :class:`ParseError` with a learner-readable reason otherwise.
    """
    raw = text
    text = _prepare(text)
    if not text:
        raise ParseError(_("the answer is an empty string"))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        refusal = ParseError(_("this is not a valid formula ({why})").format(why=exc.msg), about_form=True)
        raise _pointed(raw, text, names, refusal, keep=True) from None
    except (ValueError, RecursionError, MemoryError):   # null bytes, a parser stack overflow
        raise ParseError(_("this is not a valid formula (it is nested too deeply or contains "
                           "characters that are not allowed)")) from None
    n = sum(1 for _ in ast.walk(tree))
    if n > MAX_NODES:
        raise ParseError(_("expression too large: {n} parts (the limit is {limit})").format(n=n, limit=MAX_NODES))
    try:
        value, _size = _Builder(names, allowed).build(tree.body, 0)
    except ParseError as exc:
        raise _pointed(raw, text, names, exc) from None
    _check_result(value)
    return value


def _pointed(raw: str, text: str, names: dict, refusal: ParseError, keep: bool = False) -> ParseError:
    """``refusal`` pointing at what is wrong in the learner's own writing (:func:`.pointing.points`),
    after its own reason when ``keep``; ``refusal`` itself when nothing is found. Only called when
    parsing failed."""
    found = points(raw, text, names, normalise_name)
    if not found:
        return refusal
    said = functools.reduce(lambda first, then: _("{first}; {then}").format(first=first, then=then), found)
    if keep:
        said = _("{refusal}: {points}").format(refusal=refusal.args[0], points=said)
    return ParseError(said, about_form=True)


def _check_result(value):
    """Measure what sympy actually built (the estimates in :class:`_Builder` are bounds)."""
    todo, seen = [value], 0
    while todo:
        v = todo.pop()
        if isinstance(v, list):
            todo.extend(v)
            continue
        for node in sp.preorder_traversal(v):
            seen += 1
            if seen > MAX_RESULT_NODES:
                raise ParseError(_("expression too large: more than {limit} parts once formed").format(
                    limit=MAX_RESULT_NODES))
            if isinstance(node, sp.Rational) and _bits(node) > MAX_BITS:
                raise ParseError(_("expression too large: it contains a number of {bits} bits "
                                   "(the limit is {limit})").format(bits=_bits(node), limit=MAX_BITS))


def _bits(r) -> int:
    return int(r.p).bit_length() + int(r.q).bit_length()


_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)
_CHAINS = {ast.Add: _ADDITIVE, ast.Sub: _ADDITIVE, ast.Mult: _MULTIPLICATIVE, ast.Div: _MULTIPLICATIVE}


class _Builder:
    """Builds the sympy object bottom-up; every value travels with ``bits``, an upper
    bound on the total size of the exact numbers in it, checked before each power."""

    def __init__(self, names, allowed):
        self.names, self.allowed = names, allowed
        self.minmax_args = 0

    def build(self, node, depth):
        if depth > MAX_DEPTH:
            raise ParseError(_("expression too large: it is nested too deeply (more than {limit} levels)").format(
                limit=MAX_DEPTH))
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id), 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v, bits = self.scalar(self.build(node.operand, d))
            return (-v if isinstance(node.op, ast.USub) else v), bits
        if isinstance(node, ast.BinOp) and type(node.op) in _CHAINS:
            return self.chain(node, d)
        if isinstance(node, ast.BinOp):
            op = node.op
            if isinstance(op, ast.MatMult):
                raise ParseError(_("'@' multiplies matrices in Python, not in a formula string"), about_form=True)
            if not isinstance(op, (ast.Pow, ast.BitXor)):
                raise ParseError(_("the operator {name} is not allowed; use + - * / **").format(name=type(op).__name__))
            a, abits = self.scalar(self.build(node.left, d))
            b, bbits = self.scalar(self.build(node.right, d))
            return self.power(a, abits, b, bbits)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, (ast.List, ast.Tuple)):
            built = [self.build(e, d) for e in node.elts]
            return [v for v, _ in built], sum(b for _, b in built)
        if isinstance(node, ast.Attribute):
            raise ParseError(_("'.{attr}' is Python, not math (Attribute is not allowed in a formula string): "
                               "run the Python in your cell and pass its result").format(attr=node.attr), about_form=True)
        raise ParseError(_("{name} is not allowed in a formula (only numbers, symbols, "
                           "+ - * / **, and functions like exp, log, sqrt)").format(name=type(node).__name__))

    def chain(self, node, d):
        """``a + b - c + ...`` or ``a * b / c * ...``: one level of nesting however long the
        chain (Python reads it as a left-deep tree), formed by one ``Add``/``Mul`` call
        instead of one per operator. Exact numbers in sums and products stay cheap
        (``bits`` adds up); powers are where sizes explode (:meth:`power`)."""
        group = _CHAINS[type(node.op)]
        ops = []
        while isinstance(node, ast.BinOp) and type(node.op) in group:
            ops.append((node.op, node.right))
            node = node.left
        first, bits = self.scalar(self.build(node, d))
        terms = [first]
        for op, right in reversed(ops):
            v, vbits = self.scalar(self.build(right, d))
            bits += vbits
            if isinstance(op, ast.Sub):
                v = -v
            elif isinstance(op, ast.Div):
                if v == 0:
                    raise ParseError(_("division by zero"))
                v = 1 / v
            terms.append(v)
        return (sp.Add(*terms) if group is _ADDITIVE else sp.Mul(*terms)), bits

    def call(self, node, d):
        if isinstance(node.func, ast.Attribute):
            raise ParseError(_("'.{attr}(...)' is Python, not math (only plain function calls such as exp(x) "
                               "or log(x) are allowed in a formula string): run the Python in your cell and pass its "
                               "result").format(attr=node.func.attr), about_form=True)
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ParseError(_("only plain function calls such as exp(x) or log(x) are allowed"))
        fname = node.func.id
        if fname in MATRIX_FUNCTIONS:
            raise ParseError(MATRIX_BUILDER.format(name=fname), about_form=True)
        if fname in NEVER or (fname in RESTRICTED and self.allowed is not None
                              and RESTRICTED[fname] not in self.allowed):
            raise ParseError(_("the function {name} is not allowed in this exercise (the expected answer "
                               "does not need it, and it would make the answer hard to check)").format(name=fname))
        if fname not in FUNCTIONS:
            raise ParseError(_("unknown function {name}; allowed: {allowed}").format(
                name=repr(fname), allowed=", ".join(sorted(set(FUNCTIONS)))))
        if fname in N_ARGS:
            if not node.args:
                raise ParseError(_("{name}() needs at least one argument").format(name=fname))
            self.minmax_args += len(node.args)
            if len(node.args) > MAX_MINMAX_ARGS or self.minmax_args > MAX_MINMAX_TOTAL:
                raise ParseError(_("expression too large: {name}() may take at most {limit} arguments, and all "
                                   "max/min together at most {total}").format(name=fname, limit=MAX_MINMAX_ARGS,
                                                                               total=MAX_MINMAX_TOTAL))
        elif len(node.args) != 1:
            raise ParseError(_("{name}() takes exactly one argument").format(name=fname))
        built = [self.scalar(self.build(a, d)) for a in node.args]
        args = [v for v, _ in built]
        bits = sum(b for _, b in built)
        if fname in ("exp", "sigma", "sigmoid"):
            self.exp_bits(args[0], bits)
            _finite_constant(args[0], _("the argument of exp"))
        try:
            value = FUNCTIONS[fname](*args)
        except Exception as exc:  # sympy refusing e.g. log of a list
            raise ParseError(_("{name}(...) could not be formed: {why}").format(name=fname, why=str(exc)[:200])) from None
        return _defined(value, f"{fname}(...)"), bits

    @staticmethod
    def scalar(built):
        if isinstance(built[0], list):
            raise ParseError(_("a list cannot be used inside arithmetic; write each entry separately"))
        return built

    @staticmethod
    def constant(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParseError(_("only numbers are allowed as constants, not {value}").format(value=repr(value)[:150]))
        if isinstance(value, int):
            if value.bit_length() > 4 * MAX_INT_DIGITS or len(str(abs(value))) > MAX_INT_DIGITS:
                raise ParseError(_("a number in the expression is too long (more than {limit} digits)").format(
                    limit=MAX_INT_DIGITS))
            return sp.Integer(value), value.bit_length() + 1
        if not math.isfinite(value):
            raise ParseError(_("the expression contains an infinite number"))
        return sp.Float(value), 1

    def name(self, raw):
        key = normalise_name(raw)
        if key in self.names:
            return self.names[key]
        if raw in CONSTANTS:
            return CONSTANTS[raw]
        if raw in ("oo", "zoo", "nan", "inf", "NaN", "infinity"):
            raise ParseError(_("the answer contains an infinite or undefined value (inf/nan)"))
        allowed = ", ".join(sorted(self.names))[:200] or _("none")
        entries = sorted(n for n in self.names if n[:len(key)] == key and n[len(key):].isdigit())
        if entries:        # p for p1, p2, p3: a vector written whole
            raise ParseError(_("unknown name {name}: {key} is a vector here, whose entries are the symbols "
                               "{entries}; write the answer entry by entry").format(
                name=repr(raw)[:80], key=key[:40], entries=", ".join(entries)[:150]), about_form=True)
        raise ParseError(_("unknown name {name}; the symbols of this exercise are: {allowed}").format(
            name=repr(raw)[:80], allowed=allowed), about_form=raw == "T")

    def power(self, a, abits, b, bbits):
        if a == sp.E:                      # E**x is exp(x)
            bits = self.exp_bits(b, bbits)
            _finite_constant(b, _("the exponent of E"))
            return _defined(sp.exp(b), _("a power")), bits
        value, bits = self._power(a, abits, b, bbits)
        return _defined(value, _("a power")), bits

    def _power(self, a, abits, b, bbits):
        if b.is_Number:
            if abs(float(b)) > MAX_EXPONENT:
                raise ParseError(_("an exponent is too large (limit {limit}); 10**10**10 and the like are refused").format(
                    limit=MAX_EXPONENT))
            # (c*x)**n, (p/q)**n, sqrt(2)**n: sympy computes the number c**n right away.
            bits = abits * max(1, math.ceil(abs(float(b)))) + bbits
            if bits > MAX_BITS:
                raise ParseError(_("expression too large: a power in it gives a number of about {bits} bits "
                                   "(the limit is {limit})").format(bits=bits, limit=MAX_BITS))
            return a ** b, bits
        if b.is_number:                    # a constant such as exp(exp(9)) or log(3)
            v = numeric_value(b)
            if v is not None and not abs(v) <= MAX_EXPONENT:
                raise ParseError(_("an exponent is too large (limit {limit})").format(limit=MAX_EXPONENT))
        return a ** b, abits + bbits

    @staticmethod
    def exp_bits(arg, bits):
        """exp(x + c*log(y)) is y**c*exp(x) to sympy: bound c and the size of y**c."""
        worst = 1
        for term in sp.Add.make_args(arg):
            if term.has(sp.log):
                c = term.as_coeff_Mul()[0]
                if abs(float(c)) > MAX_EXPONENT:
                    raise ParseError(_("an exponent is too large (limit {limit}): exp(c*log(x)) is x**c").format(
                        limit=MAX_EXPONENT))
                worst = max(worst, math.ceil(abs(float(c))))
        if bits * worst > MAX_BITS:
            raise ParseError(_("expression too large: exp(c*log(x)) gives a number of about {bits} bits "
                               "(the limit is {limit})").format(bits=bits * worst, limit=MAX_BITS))
        return bits * worst


def _defined(value, what):
    """log(0), 0**-1 and what follows from them are refused where they appear."""
    if value in _UNDEFINED:
        raise ParseError(_("{what} is infinite or undefined here (like log(0) or 0**(-1))").format(what=what))
    return value


_UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def _finite_constant(arg, what):
    """A constant argument of exp must stay within ``EXP_CAP`` in size: sympy computes
    exp of a float at once and would ask mpmath for millions of digits of
    exp(1e300**999) or exp(exp(exp(9))), in steps that no time limit interrupts soon."""
    if arg.is_number:
        v = numeric_value(arg)
        if v is not None and not abs(v) <= EXP_CAP:
            raise ParseError(_("expression too large: {what} is a number too large to evaluate (above {cap}: "
                               "the value would be inf or 0; answers must be finite, not nan or inf)").format(
                what=what, cap=f"{EXP_CAP:g}"))


def symbol_names(symbols) -> dict[str, sp.Symbol]:
    """Map normalised names to symbols, e.g. ``{'theta1': theta1}``."""
    return {normalise_name(s.name): s for s in symbols}
