"""Where a learner's formula goes wrong, in their own writing (graded exercises, all chapters):
when the whitelisted parser (:mod:`.parse`) refuses a string, :func:`points` names what in it a
formula string cannot hold -- a transpose (``p^T``, ``pᵀ``, ``p.T``), Python's matrix builders
(``diag(p)``) -- and the implicit products (``p p``, ``2x``, ``p1(1 - p1)``, ``(a)(b)``), each
in words for the learner (:class:`~softmaxbook.i18n.Message` s)."""

from __future__ import annotations

import io
import keyword
import re
import tokenize

from ..i18n import _

# Python's matrix builders: a formula string cannot hold them (the answer is then built in Python).
MATRIX_FUNCTIONS = {"diag", "Matrix", "matrix", "eye", "zeros", "ones", "outer", "dot", "transpose", "array",
                    "hessian", "kron"}
MATRIX_BUILDER = _("{name}(...) builds a matrix, which a formula string cannot: build it in Python (sympy or NumPy) "
                   "and pass the result, or write the entries")

_TRANSPOSE = re.compile(r"(\w+|\))\s*(?:\^|\*\*)\s*\(?\s*T\b\)?|(\w+|\))\s*ᵀ|(\w+|\))\.T\b")
_OPERAND_END = {tokenize.NAME, tokenize.NUMBER}


def points(raw: str, text: str, names: dict, normalise) -> list:
    """What is wrong in ``raw`` (the learner's string; ``text``, the same prepared for the
    parser), in words: the exercise's symbols are ``names``, compared after ``normalise``."""
    found = []
    if "T" not in names:
        m = _TRANSPOSE.search(raw)
        if m:
            found.append(_("'{text}' is a transpose, which a formula string cannot write (in Python, "
                           "a sympy Matrix or a NumPy array has .T)").format(text=m.group(0).strip()))
    pairs, builders = _adjacent(text, names, normalise)
    found += [MATRIX_BUILDER.format(name=b) for b in builders[:1]]
    if found and "T" not in names:          # p^T o: the T belongs to the transpose already named
        pairs = [(a, b) for a, b in pairs if "T" not in (a, b)]
    for a, b in pairs[:2]:
        if _is_number(a) and _is_number(b):
            found.append(_("'{a} {b}': separate the entries of a list with commas").format(a=a, b=b))
        else:
            found.append(_("'{a} {b}' is an implicit product: write {a}*{b}").format(a=a, b=b))
    return found


def _known(token, names: dict, normalise) -> bool:
    """A number, a bracket, a symbol of the exercise or the name of a vector of them (p for p1, p2, p3)."""
    if token.type != tokenize.NAME:
        return True
    key = normalise(token.string)
    return key in names or any(n[:len(key)] == key and n[len(key):].isdigit() for n in names)


def _is_number(token: str) -> bool:
    return token[:1].isdigit() or token[:1] == "."


def _adjacent(text: str, names: dict, normalise) -> tuple[list[tuple[str, str]], list[str]]:
    """Adjacent operands with no operator between them (``(left, right)`` texts), and the
    names of Python matrix builders called in ``text``."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT)]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [], []
    pairs, builders = [], []
    for prev, tok in zip(tokens, tokens[1:]):
        called = prev.type == tokenize.NAME and tok.string == "("
        if called and prev.string in MATRIX_FUNCTIONS:
            builders.append(prev.string)
        if called and normalise(prev.string) not in names:
            continue                                       # a call (of a function, known or not)
        ends = (prev.type in _OPERAND_END and not keyword.iskeyword(prev.string)) or prev.string in (")", "]")
        starts = (tok.type in _OPERAND_END and not keyword.iskeyword(tok.string)) or tok.string == "("
        known = _known(prev, names, normalise) or _known(tok, names, normalise)   # two unknown words are prose
        if ends and starts and known:
            pairs.append((prev.string if prev.string != ")" else "(...)", tok.string if tok.string != "(" else "(...)"))
    return pairs, builders
