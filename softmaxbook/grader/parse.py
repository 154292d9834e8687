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

The rules (limits, functions, names, :class:`.parse_rules.ParseError`) are in
:mod:`.parse_rules`, the walk of the syntax tree in :mod:`.parse_tree`; this module reads the
text: it normalises it, parses it and points at what the learner wrote wrong.
"""

from __future__ import annotations

import ast
import functools
import re
import unicodedata

import sympy as sp

from ..i18n import _
from .parse_rules import GREEK, MAX_CHARS, MAX_NODES, ParseError, normalise_name
from .parse_tree import Builder, check_result
from .pointing import points

_TEXT_REPLACEMENTS = [("−", "-"), ("·", "*"), ("×", "*"), ("^", "**"), ("√", "sqrt")]
_SUPERSCRIPT = re.compile("⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


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
    for g, latin in GREEK.items():
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
        value, _size = Builder(names, allowed).build(tree.body, 0)
    except ParseError as exc:
        raise _pointed(raw, text, names, exc) from None
    check_result(value)
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
