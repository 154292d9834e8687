"""What a formula string may contain (graded exercises, all chapters): the limits on its size,
the functions and constants it may use, one spelling per symbol name, and :class:`ParseError`,
which says in the learner's words what is not acceptable. :mod:`.parse` reads a string within
these rules; :mod:`.parse_tree` builds the sympy object within them.
"""

from __future__ import annotations

import unicodedata

import sympy as sp

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

GREEK = {"θ": "theta", "λ": "lam", "σ": "sigma", "π": "pi", "δ": "delta"}


def normalise_name(name: str) -> str:
    """``θ_1`` -> ``theta1``, ``λ``/``lambda`` -> ``lam``: one spelling per symbol."""
    name = unicodedata.normalize("NFKC", name)
    for g, latin in GREEK.items():
        name = name.replace(g, latin)
    name = name.replace("_", "")
    return "lam" if name in ("lambda", "lamda") else name


def symbol_names(symbols) -> dict[str, sp.Symbol]:
    """Map normalised names to symbols, e.g. ``{'theta1': theta1}``."""
    return {normalise_name(s.name): s for s in symbols}
