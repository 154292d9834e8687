"""Formulas written in the course's prose notation, read back as answers (graded exercises,
all chapters): how the key's validation tells whether a text a learner can see (feedback,
probes, hints, the task) states the reference, in whatever form.

A feedback text is prose with formulas in it: "the loss is its negative, A(o) − yᵀo".
:func:`candidates` finds the formula-like runs of a text (split at words, ``=``, ``|``,
commas outside brackets, ...), and every contiguous group of their top-level terms, and
translates each into the grader's syntax with the course's notation (the spec's):

* the exercise's symbols (``o1``, ``θ_1``, ``λ``) and its vectors, named by their stem
  (``o`` for ``o1, o2, o3``): an entry ``o_i``, a bare ``o`` entry-wise, ``yᵀo`` (inner
  product), ``p pᵀ`` (outer product), ``diag(p)``, ``δ_ij``, ``Σ_j …``;
* ``LSE(o)`` and ``A(o)`` (log-partition), ``Z(o)``, ``softmax(o)``, ``max(o)``, ``A(x)``
  for a scalar (the Bernoulli's ``log(1 + e^x)``), ``LSE(a, b)``;
* ``θ`` for ``o`` and ``p`` for ``softmax(o)`` where the exercise has ``o`` but no ``θ``/``p``;
* ``e^x``, ``e^{…}``, superscripts, ``log 2`` (a function applied to the next factor),
  implicit products, ``−``, ``·``, ``½``.

A run with one free index is a vector (``p_i − y_i``), with two a matrix (``p_i(δ_ij − p_j)``).
Each candidate is returned as a learner's plain answer; the caller grades it with the
exercise itself, so "states the reference" means "would be graded right".
"""

from __future__ import annotations

import re

from .parse import normalise_name

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
_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_FUNCTIONS = {"exp", "log", "ln", "log2", "sqrt", "sigma", "sigmoid", "max", "min", "Max", "Min", "abs",
              "LSE", "A", "Z", "softmax", "diag"}
_OPEN, _CLOSE = "([{", ")]}"
MAX_TERMS = 8               # top-level terms of a run whose contiguous groups are tried


class _NoFormula(Exception):
    """The run is not a formula this reader can translate."""


def vectors(names) -> dict[str, int]:
    """The exercise's vectors: stem -> length (``{"o": 3, "y": 3}`` for o1..o3, y1..y3)."""
    stems = {}
    for n in names:
        m = re.fullmatch(r"([a-z]+?)(\d+)", n)
        if m:
            stems.setdefault(m.group(1), set()).add(int(m.group(2)))
    return {s: max(k) for s, k in stems.items() if k == set(range(1, max(k) + 1))}


class _Reader:
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

    # ------------------------------------------------------------------ translation
    def translate(self, toks) -> str:
        """Parser syntax for ``toks``, with vector entries as ``⟨v|i⟩`` and ``⟨δ|ij⟩`` markers."""
        out, k = [], 0
        while k < len(toks):
            piece, k = self._factor(toks, k)
            if piece in ("+", "-", "*", "/", "**", ",") or piece.startswith("**("):
                out.append(piece)
                continue
            if out and out[-1] not in ("+", "-", "*", "/", "**", ",", "(", "["):
                out.append("*")                               # an implicit product
            out.append(piece)
        return "".join(out)

    def _factor(self, toks, k):
        kind, value, sub = toks[k]
        nxt = toks[k + 1] if k + 1 < len(toks) else ("", "", "")
        if kind == "num":
            return value, k + 1
        if kind == "sym":
            return value, k + 1
        if kind == "const":
            if value == "E" and nxt[1] in ("^", "**"):               # e^x, e^{…}, e^(…)
                arg, j = self._atom(toks, k + 2)
                return f"exp({arg})", j
            return value, k + 1
        if kind == "idx":
            return self._entry(value, sub), k + 1
        if kind == "delta":
            return f"⟨δ|{sub}⟩", k + 1
        if kind == "vec":
            after = toks[k + 2] if k + 2 < len(toks) else ("", "", "")
            if nxt[0] == "T" and after[0] == "vec":                            # yᵀo
                return self._inner(value, after[1]), k + 3
            if nxt[0] == "vec" and after[0] == "T":                            # p pᵀ
                return f"({self._entry(value, 'i')}*{self._entry(nxt[1], 'j')})", k + 3
            if nxt[0] == "T":
                raise _NoFormula
            return self._entry(value, "i"), k + 1
        if kind == "sum":
            j = _term_end(toks, k + 1)
            body = self.translate(toks[k + 1:j])
            return self._sum(body, sub), j
        if kind == "func":
            return self._call(toks, k)
        if kind == "sup":
            return f"**({value.translate(_SUP)})", k + 1
        if kind == "op":
            if value in "([{":
                j = _match(toks, k)
                inner = self.translate(toks[k + 1:j])
                return (f"[{inner}]" if value == "[" else f"({inner})"), j + 1
            if value == "^":
                return "**", k + 1
            if value in ("+", "-", "*", "/", "**", ","):
                return value, k + 1
        raise _NoFormula

    def _atom(self, toks, k):
        """One factor (a group, a token, with a leading minus) as a string, and where it ends."""
        if k >= len(toks):
            raise _NoFormula
        if toks[k][1] == "-":
            piece, j = self._atom(toks, k + 1)
            return f"-{piece}", j
        return self._factor(toks, k)

    def _call(self, toks, k):
        name = toks[k][1]
        if k + 1 < len(toks) and toks[k + 1][1] == "(":
            j = _match(toks, k + 1)
            args = _split_args(toks[k + 2:j])
            end = j + 1
        else:                                                   # log 2, log n, log Σ_j e^{o_j}
            if k + 1 >= len(toks):
                raise _NoFormula
            end = _term_end(toks, k + 1) if toks[k + 1][0] == "sum" else self._atom(toks, k + 1)[1]
            args = [toks[k + 1:end]]
        whole = [a[0][1] for a in args if len(a) == 1 and a[0][0] == "vec"]
        if len(args) == 1 and whole:
            if name == "softmax" and end < len(toks) and toks[end][0] == "sub":     # softmax(o)_i
                return self._softmax(whole[0], toks[end][2]), end + 1
            return self._vector_function(name, whole[0]), end
        if name == "softmax" or name == "diag":
            raise _NoFormula
        parts = [self.translate(a) for a in args]
        if name == "A" and len(parts) == 1:                      # the Bernoulli's log-partition
            return f"log(1 + exp({parts[0]}))", end
        if name in ("LSE", "A"):
            return "log(" + " + ".join(f"exp({p})" for p in parts) + ")", end
        if name == "Z":
            return "(" + " + ".join(f"exp({p})" for p in parts) + ")", end
        fname = {"ln": "log", "max": "Max", "min": "Min", "sigmoid": "sigma"}.get(name, name)
        return f"{fname}({', '.join(parts)})", end

    def _vector_function(self, name, v):
        entries = self._entries(v)
        total = " + ".join(f"exp({e})" for e in entries)
        if name in ("LSE", "A"):
            return f"log({total})"
        if name == "Z":
            return f"({total})"
        if name in ("max", "Max", "min", "Min"):
            return f"{name[0].upper()}{name[1:]}({', '.join(entries)})"
        if name == "softmax":
            return self._softmax(v, "i")
        if name == "diag":
            return f"(⟨δ|ij⟩*{self._entry(v, 'i')})"
        raise _NoFormula

    def _softmax(self, v, index):
        total = " + ".join(f"exp({e})" for e in self._entries(v))
        return f"(exp({self._entry(v, index)})/({total}))"

    def _entry(self, v, index):
        if v == "softmax":      # p = softmax(o)
            return f"(exp(⟨o|{index}⟩)/({' + '.join(f'exp({e})' for e in self._entries('o'))}))"
        return f"⟨{v}|{index}⟩"

    def _entries(self, v):
        if v not in self.vec:
            raise _NoFormula
        return [f"{v}{k}" for k in range(1, self.vec[v] + 1)]

    def _inner(self, a, b):
        ea = self._entries(a) if a != "softmax" else None
        eb = self._entries(b)
        if ea is None or len(ea) != len(eb):
            raise _NoFormula
        return "(" + " + ".join(f"{x}*{y}" for x, y in zip(ea, eb)) + ")"

    def _sum(self, body, index):
        free = _free(body)
        index = index or (free[0] if len(free) == 1 else "")
        if not index or not self.vec:
            raise _NoFormula
        n = self._length(body, index)
        return "(" + " + ".join(_put(body, index, k) for k in range(1, n + 1)) + ")"

    def _length(self, body, index):
        lengths = {self.vec.get(v, 0) for v, i in re.findall(r"⟨(\w+)\|(\w)⟩", body) if i == index and v != "δ"}
        if len(lengths) != 1 or 0 in lengths:
            raise _NoFormula
        return lengths.pop()

    # ------------------------------------------------------------------ answers
    def answer(self, body: str):
        """The plain answer for a translated run: a scalar, a vector (one free index) or a
        matrix (two); ``None`` when it has more."""
        free = _free(body)
        if not free:
            return {"t": "text", "v": body}
        if len(free) == 1:
            n = self._length(body, free[0])
            return {"t": "seq", "v": [{"t": "text", "v": _put(body, free[0], k)} for k in range(1, n + 1)]}
        if len(free) == 2:
            i, j = sorted(free)
            n, m = self._length(body, i), self._length(body, j)
            return {"t": "seq", "v": [{"t": "seq", "v": [{"t": "text", "v": _put(_put(body, i, a), j, b)}
                                                         for b in range(1, m + 1)]} for a in range(1, n + 1)]}
        return None


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


def _match(toks, k) -> int:
    depth = 0
    for j in range(k, len(toks)):
        if toks[j][0] == "op" and toks[j][1] in _OPEN:
            depth += 1
        elif toks[j][0] == "op" and toks[j][1] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    raise _NoFormula


def _term_end(toks, k) -> int:
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


def _split_args(toks):
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
        raise _NoFormula
    return args


def _free(body: str) -> list[str]:
    return sorted({i for _, idx in re.findall(r"⟨(\w+)\|(\w+)⟩", body) for i in idx if i.isalpha()})


def _put(body: str, index: str, k: int) -> str:
    """Entry ``k`` of ``index`` in ``body``: ``⟨p|i⟩`` -> ``p2``, ``⟨δ|ij⟩`` -> 1 or 0 once both are set."""
    def entry(m):
        v, idx = m.group(1), m.group(2)
        if v != "δ":
            return f"{v}{k}" if idx == index else m.group(0)
        idx = idx.replace(index, str(k))
        return ("1" if idx[0] == idx[1] else "0") if idx.isdigit() else f"⟨δ|{idx}⟩"
    return re.sub(r"⟨(\w+|δ)\|(\w+)⟩", entry, body)


def asked(task: str) -> set[str]:
    """The notation a task opens with (``A`` for "A(o) of the categorical distribution"): what
    the exercise asks for, which its texts may name without stating it."""
    return {f for f in ("A", "LSE", "Z", "softmax") if re.match(rf"\W*{f}\(", task)}


def candidates(text: str, names, asked=()) -> list:
    """The formulas stated in ``text``, as plain answers (``names``: the exercise's symbol
    names, e.g. ``{"o1", "o2", "o3", "y1", "y2", "y3"}``, empty for a numeric exercise;
    ``asked``: notation the exercise asks for, read as a name, not a formula: ``A`` where the
    task is "A(o) of ...")."""
    reader = _Reader(names, asked)
    seen, out = set(), []
    for run in reader.runs(reader.tokens(text)):
        for group in reader.groups(run):
            try:
                ans = reader.answer(reader.translate(group))
            except (_NoFormula, RecursionError):
                continue
            key = repr(ans)
            if ans is not None and key not in seen:
                seen.add(key)
                out.append(ans)
    return out
