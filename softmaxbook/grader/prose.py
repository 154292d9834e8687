"""Formulas written in the course's prose notation, read back as answers (graded exercises,
all chapters): how the key's validation tells whether a text a learner can see (feedback,
probes, hints, the task) states the reference, in whatever form.

A feedback text is prose with formulas in it: "the loss is its negative, A(o) − yᵀo".
:func:`candidates` finds the formula-like runs of a text (split at words, ``=``, ``|``,
commas outside brackets, ...), and every contiguous group of their top-level terms
(:mod:`.prose_runs`), and translates each into the grader's syntax with the course's notation (the spec's):

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

from .prose_runs import NoFormula, Notation, closing, split_args, term_end

_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


class _Translator:
    """Runs of tokens into the parser's syntax, for an exercise whose vectors are ``vec``
    (stem -> length, :func:`.prose_runs.vectors`)."""

    def __init__(self, vec: dict[str, int]):
        self.vec = vec

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
                raise NoFormula
            return self._entry(value, "i"), k + 1
        if kind == "sum":
            j = term_end(toks, k + 1)
            body = self.translate(toks[k + 1:j])
            return self._sum(body, sub), j
        if kind == "func":
            return self._call(toks, k)
        if kind == "sup":
            return f"**({value.translate(_SUP)})", k + 1
        if kind == "op":
            if value in "([{":
                j = closing(toks, k)
                inner = self.translate(toks[k + 1:j])
                return (f"[{inner}]" if value == "[" else f"({inner})"), j + 1
            if value == "^":
                return "**", k + 1
            if value in ("+", "-", "*", "/", "**", ","):
                return value, k + 1
        raise NoFormula

    def _atom(self, toks, k):
        """One factor (a group, a token, with a leading minus) as a string, and where it ends."""
        if k >= len(toks):
            raise NoFormula
        if toks[k][1] == "-":
            piece, j = self._atom(toks, k + 1)
            return f"-{piece}", j
        return self._factor(toks, k)

    def _call(self, toks, k):
        name = toks[k][1]
        if k + 1 < len(toks) and toks[k + 1][1] == "(":
            j = closing(toks, k + 1)
            args = split_args(toks[k + 2:j])
            end = j + 1
        else:                                                   # log 2, log n, log Σ_j e^{o_j}
            if k + 1 >= len(toks):
                raise NoFormula
            end = term_end(toks, k + 1) if toks[k + 1][0] == "sum" else self._atom(toks, k + 1)[1]
            args = [toks[k + 1:end]]
        whole = [a[0][1] for a in args if len(a) == 1 and a[0][0] == "vec"]
        if len(args) == 1 and whole:
            if name == "softmax" and end < len(toks) and toks[end][0] == "sub":     # softmax(o)_i
                return self._softmax(whole[0], toks[end][2]), end + 1
            return self._vector_function(name, whole[0]), end
        if name == "softmax" or name == "diag":
            raise NoFormula
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
        raise NoFormula

    def _softmax(self, v, index):
        total = " + ".join(f"exp({e})" for e in self._entries(v))
        return f"(exp({self._entry(v, index)})/({total}))"

    def _entry(self, v, index):
        if v == "softmax":      # p = softmax(o)
            return f"(exp(⟨o|{index}⟩)/({' + '.join(f'exp({e})' for e in self._entries('o'))}))"
        return f"⟨{v}|{index}⟩"

    def _entries(self, v):
        if v not in self.vec:
            raise NoFormula
        return [f"{v}{k}" for k in range(1, self.vec[v] + 1)]

    def _inner(self, a, b):
        ea = self._entries(a) if a != "softmax" else None
        eb = self._entries(b)
        if ea is None or len(ea) != len(eb):
            raise NoFormula
        return "(" + " + ".join(f"{x}*{y}" for x, y in zip(ea, eb)) + ")"

    def _sum(self, body, index):
        free = _free(body)
        index = index or (free[0] if len(free) == 1 else "")
        if not index or not self.vec:
            raise NoFormula
        n = self._length(body, index)
        return "(" + " + ".join(_put(body, index, k) for k in range(1, n + 1)) + ")"

    def _length(self, body, index):
        lengths = {self.vec.get(v, 0) for v, i in re.findall(r"⟨(\w+)\|(\w)⟩", body) if i == index and v != "δ"}
        if len(lengths) != 1 or 0 in lengths:
            raise NoFormula
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
    notation = Notation(names, asked)
    reader = _Translator(notation.vec)
    seen, out = set(), []
    for run in notation.runs(notation.tokens(text)):
        for group in notation.groups(run):
            try:
                ans = reader.answer(reader.translate(group))
            except (NoFormula, RecursionError):
                continue
            key = repr(ans)
            if ans is not None and key not in seen:
                seen.add(key)
                out.append(ans)
    return out
