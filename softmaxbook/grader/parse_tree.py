"""The walk of a formula's syntax tree that builds the sympy object (graded exercises, all
chapters), node by node, within the limits of :mod:`.parse_rules`: only numbers, the exercise's
names, the whitelisted functions and arithmetic are accepted, and every value travels with an
upper bound on the size of the exact numbers in it, checked before each power is formed
(:class:`Builder`); :func:`check_result` then measures what sympy actually built.
"""

from __future__ import annotations

import ast
import math

import sympy as sp

from ..i18n import _
from .compare import EXP_CAP, numeric_value
from .parse_rules import (CONSTANTS, FUNCTIONS, MAX_BITS, MAX_DEPTH, MAX_EXPONENT, MAX_INT_DIGITS,
                          MAX_MINMAX_ARGS, MAX_MINMAX_TOTAL, MAX_RESULT_NODES, N_ARGS, NEVER, RESTRICTED,
                          ParseError, normalise_name)
from .pointing import MATRIX_BUILDER, MATRIX_FUNCTIONS


def check_result(value):
    """Measure what sympy actually built (the estimates in :class:`Builder` are bounds)."""
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


class Builder:
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
