"""Prose in the course's notation cut into formula-like runs (graded exercises, all chapters):
the first half of reading the formulas a text states (:mod:`.prose` translates the runs).

:class:`Notation` reads a text as tokens of the exercise's notation (its symbols, its vectors
named by their stem, ``θ``/``p`` for ``o``/``softmax(o)`` where the exercise has no ``θ``/``p``,
the functions of the course, ``Σ_j``, ``ᵀ``, superscripts), splits it at words, ``=``, ``|``
and commas outside brackets into runs, and lists every contiguous group of a run's top-level
terms. The helpers at the end find where a bracket, a term or an argument ends in a run of
tokens; they raise :class:`NoFormula` where a run is not a formula.
"""

from __future__ import annotations

import re

from .parse_rules import normalise_name

_REPLACE = [("−", "-"), ("·", "*"), ("∙", "*"), ("×", "*"), ("⁄", "/"), ("½", "(1/2)")]
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉ᵢⱼ", "0123456789ij")
_TOKEN = re.compile(r"""
    (?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<sigma>Σ(?:_(?:\{[a-z]\}|[a-z]))?)
  | (?P<T>ᵀ)
  | (?P<sup>[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)
  | (?P<name>[^\W\d_ᵀ⁻⁰¹²³⁴⁵⁶⁷⁸⁹][^\W_ᵀ⁻⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:_(?:\{[^\W_]+\}|[^\W_]+))?)
  | (?P<sub>_(?:\{[a-z]\}|[a-z]))
  | (?P<op>\*\*|[-+*/^()\[\]{},])
  | (?P<other>\S)
""", re.X)
_FUNCTIONS = {"exp", "log", "ln", "log2", "sqrt", "sigma", "sigmoid", "max", "min", "Max", "Min", "abs",
              "LSE", "A", "Z", "softmax", "diag"}
_OPEN, _CLOSE = "([{", ")]}"
MAX_TERMS = 8               # top-level terms of a run whose contiguous groups are tried


class NoFormula(Exception):
    """The run is not a formula this reader can translate."""


def vectors(names) -> dict[str, int]:
    """The exercise's vectors: stem -> length (``{"o": 3, "y": 3}`` for o1..o3, y1..y3)."""
    stems = {}
    for n in names:
        m = re.fullmatch(r"([a-z]+?)(\d+)", n)
        if m:
            stems.setdefault(m.group(1), set()).add(int(m.group(2)))
    return {s: max(k) for s, k in stems.items() if k == set(range(1, max(k) + 1))}


class Notation:
    """A text read in the notation of an exercise with symbols ``names`` (``asked``: notation the
    exercise asks for, read as a name, not a formula)."""

    def __init__(self, names, asked=()):
        self.names = set(names)
        self.functions = _FUNCTIONS - set(asked)
        self.vec = vectors(self.names)
        # the course's notation: θ is the logit vector o, p = softmax(o), where the exercise has no θ/p of its own
        self.alias = {}
        if "o" in self.vec:
            self.alias = {k: v for k, v in (("theta", "o"), ("p", "softmax")) if k not in self.vec and k not in self.names}

    # ------------------------------------------------------------------ tokens
    def tokens(self, text: str) -> list[tuple[str, str, str]]:
        """``(kind, text, subscript)``: num, sym, vec, idx (a vector's entry v_i), delta,
        func, const, sum, T, sup, op, word, other."""
        for a, b in _REPLACE:
            text = text.replace(a, b)
        text = text.translate(_SUBSCRIPTS)
        out = []
        for m in _TOKEN.finditer(text):
            kind, value = m.lastgroup, m.group()
            if kind == "name":
                out.extend(self._name(value))
            elif kind == "sigma":
                out.append(("sum", "Σ", value[1:].strip("_{}")))
            elif kind == "sub":                                 # softmax(o)_i
                out.append(("sub", value, value.strip("_{}")))
            else:
                out.append((kind, value, ""))
        return out

    def _name(self, raw: str):
        stem, _, sub = raw.partition("_")
        sub = sub.strip("{}")
        key = normalise_name(stem)
        key = self.alias.get(key, key) if key not in self.names else key
        if sub:
            if normalise_name(stem + sub) in self.names:
                return [("sym", normalise_name(stem + sub), "")]
            if key == "delta" and len(sub) == 2 and sub.isalpha():
                return [("delta", "δ", sub)]
            if (key in self.vec or key == "softmax") and len(sub) == 1 and sub.isalpha():
                return [("idx", key, sub)]
            return [("word", raw, "")]
        full = normalise_name(raw)
        if full in self.names:
            return [("sym", full, "")]
        if raw in self.functions or full in ("sigma", "sigmoid"):
            return [("func", full if full in ("sigma", "sigmoid") else raw, "")]
        if key in self.vec or key == "softmax":
            return [("vec", key, "")]
        if raw in ("e", "E", "π", "pi"):
            return [("const", "E" if raw in ("e", "E") else "pi", "")]
        parts = self._split(raw)
        return parts if parts else [("word", raw, "")]

    def _split(self, raw: str):
        """``pp`` -> the vectors p, p; ``yo`` -> y, o (names written together)."""
        stems = sorted(set(self.vec) | set(self.alias), key=len, reverse=True)
        out, rest = [], raw
        while rest:
            stem = next((s for s in stems if rest.startswith(s)), None)
            if stem is None:
                return []
            out.append(("vec", stem if stem in self.vec else self.alias[stem], ""))
            rest = rest[len(stem):]
        return out if len(out) > 1 else []

    # ------------------------------------------------------------------ runs
    def runs(self, tokens):
        """Formula-like runs: split at words and punctuation (commas only outside brackets)."""
        runs, cur, depth = [], [], 0
        for tok in tokens:
            kind, value, _ = tok
            if kind in ("word", "other") or (value == "," and depth == 0):
                runs.append(cur)
                cur, depth = [], 0
                continue
            depth += value in _OPEN and kind == "op"
            depth -= value in _CLOSE and kind == "op"
            cur.append(tok)
        runs.append(cur)
        runs += [inner for run in runs for inner in _inside_brackets(run)]
        return [r for r in (self._trim(r) for r in runs) if r]

    @staticmethod
    def _trim(run):
        run = list(run)
        while run:
            if run[0][1] in _CLOSE or run[0][1] in "*/^," or (run[0][1] == "+" and run[0][0] == "op"):
                run.pop(0)
            elif run[-1][1] in _OPEN or run[-1][1] in "+-*/^,":
                run.pop()
            elif _balance(run) > 0 and run[0][1] in _OPEN:
                run.pop(0)
            elif _balance(run) < 0 and run[-1][1] in _CLOSE:
                run.pop()
            else:
                break
        return run if run and _balance(run) == 0 else []

    def groups(self, run):
        """The run, and every contiguous group of its top-level terms (split at binary + and −)."""
        cuts, depth = [], 0
        for k, (kind, value, _) in enumerate(run):
            if kind == "op" and value in _OPEN:
                depth += 1
            elif kind == "op" and value in _CLOSE:
                depth -= 1
            elif depth == 0 and k > 0 and value in "+-" and kind == "op" and _ends_operand(run[k - 1]):
                cuts.append(k)
        bounds = [0] + cuts + [len(run)]
        if len(bounds) - 1 > MAX_TERMS:
            return [run]
        out = []
        for a in range(len(bounds) - 1):
            for b in range(a + 1, len(bounds)):
                piece = run[bounds[a]:bounds[b]]
                if piece and piece[0][1] == "+":
                    piece = piece[1:]
                if piece:
                    out.append(piece)
        return out


def _inside_brackets(run):
    """The contents of every bracket pair of a run (a formula in parentheses after another)."""
    stack, out = [], []
    for k, (kind, value, _) in enumerate(run):
        if kind == "op" and value in _OPEN:
            stack.append(k)
        elif kind == "op" and value in _CLOSE and stack:
            out.append(run[stack.pop() + 1:k])
    return out


def _balance(run) -> int:
    return sum((v in _OPEN) - (v in _CLOSE) for k, v, _ in run if k == "op")


def _ends_operand(tok) -> bool:
    kind, value, _ = tok
    return kind in ("num", "sym", "idx", "vec", "delta", "const", "sup", "T") or value in _CLOSE


def closing(toks, k) -> int:
    """Where the bracket opened at ``k`` closes."""
    depth = 0
    for j in range(k, len(toks)):
        if toks[j][0] == "op" and toks[j][1] in _OPEN:
            depth += 1
        elif toks[j][0] == "op" and toks[j][1] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    raise NoFormula


def term_end(toks, k) -> int:
    """Where the term starting at ``k`` ends: the next top-level binary + or −."""
    depth = 0
    for j in range(k, len(toks)):
        kind, value, _ = toks[j]
        if kind == "op" and value in _OPEN:
            depth += 1
        elif kind == "op" and value in _CLOSE:
            depth -= 1
            if depth < 0:
                return j
        elif depth == 0 and j > k and kind == "op" and value in "+-,":
            return j
    return len(toks)


def split_args(toks):
    """The arguments of a call, split at top-level commas."""
    args, cur, depth = [], [], 0
    for tok in toks:
        if tok[0] == "op" and tok[1] in _OPEN:
            depth += 1
        elif tok[0] == "op" and tok[1] in _CLOSE:
            depth -= 1
        if tok[1] == "," and depth == 0:
            args.append(cur)
            cur = []
        else:
            cur.append(tok)
    args.append(cur)
    if any(not a for a in args):
        raise NoFormula
    return args
