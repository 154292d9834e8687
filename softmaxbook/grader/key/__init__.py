"""The answer key as data (graded exercises, all chapters): one TOML file per chapter.

``key/chN.toml`` lists chapter N's exercises (``[[exercise]]`` tables) in course order:
id, task, answer kind and expected answer, and per kind what is graded against, written
as formulas that the course's whitelisted parser (:mod:`..parse`) reads:

* ``symbolic``: ``symbols`` (name -> sympy assumption), ``shape``, ``reference``, ``wrong``
  (``[formula, feedback]`` pairs, first the one the test submissions use), ``sample``
  (draw rules for the usual range), ``wide`` (points far outside it), ``canon`` (substitution
  tiers), ``let`` (named helper formulas of the key), ``probes`` (see :mod:`..probes`);
* ``numeric``: ``reference``, ``wrong``, ``let`` (named constants), ``shape`` and ``precision``:
  ``3`` (significant digits, rounded) or ``"exact"``, stated once: the task's words and the
  tolerance both come from it (see :mod:`..precision`);
* ``choice``: ``options``, ``correct``, ``feedback`` (letter -> why it is wrong);
* ``function``: ``names`` and ``hidden``, the name of a :class:`..hidden.Hidden` in the
  chapter's Python module ``key/chN_cases.py`` (hidden cases, judge, diagnoses).

Every exercise may carry ``points``, its weight in a gradebook (a positive finite number,
1 when not given; :func:`points`, :func:`..gradebook.total`).

Draw rules (``sample``, ``wide.random``, ``wide.then``) set ``names`` from ``uniform = [lo,
hi]``, ``integers = [lo, hi)``, ``dirichlet = alpha``, ``values`` (formulas in the names
drawn before) or ``cycle`` (the k-th point takes the k-th tuple, cyclically).

``key/assignments.toml`` groups the exercises into assignments (one notebook of
``exercises/`` each: title, and per exercise its answer cell as shipped); :func:`load_assignments`
reads it, so that grading never reads ``exercises/``.

:func:`load` reads and checks the structure (unknown fields, names, kinds) and parses
every formula, raising :class:`KeyProblem` naming the file, the exercise and the formula;
:func:`check` (``python -m softmaxbook.grader.key``) also grades the references and every
declared wrong answer, which must get their own feedback, and checks the probes.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import numpy as np
import sympy as sp

from ... import i18n
from .. import answers, compare, kinds, probes, prose
from ..kind_choice import Choice
from ..kind_function import Function
from ..kind_numeric import Numeric
from ..kind_symbolic import Symbolic
from ..parse import parse
from ..parse_rules import ParseError, symbol_names
from ..precision import Precision
from ..result import now

HERE = Path(__file__).resolve().parent
COMMON = {"id", "kind", "task", "answer", "points"}
FIELDS = {
    "symbolic": COMMON | {"symbols", "shape", "reference", "wrong", "sample", "wide", "canon", "let", "seed",
                          "hint", "allow", "probes"},
    "numeric": COMMON | {"reference", "wrong", "let", "precision", "shape"},
    "choice": {"id", "kind", "task", "options", "correct", "feedback", "points"},
    "function": COMMON | {"names", "hidden"},
}
ASSUMPTIONS = {"real", "positive", "nonnegative"}
RULES = {"uniform", "integers", "dirichlet", "values", "cycle"}


class KeyProblem(ValueError):
    """The key is malformed; the message names the file and the exercise."""


def files() -> list[Path]:
    return sorted(HERE.glob("ch*.toml"), key=lambda p: int(p.stem[2:]))


def load() -> dict[str, kinds.Exercise]:
    """Every exercise of the key, in course order (chapter files in order, then file order)."""
    exercises = {}
    for path in files():
        chapter = int(path.stem[2:])
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise KeyProblem(f"{path.name}: not valid TOML ({exc})") from None
        for entry in data.get("exercise", []):
            where = f"{path.name}, exercise {entry.get('id', '?')}"
            try:
                ex = build(entry, chapter, path.stem)
                ex.points = points(entry.get("points", 1))
                if isinstance(ex, kinds.FromFormulas):
                    ex.parse_key()
            except KeyProblem as exc:
                raise KeyProblem(f"{where}: {exc}") from None
            except ParseError as exc:
                raise KeyProblem(f"{where}: {exc} (formulas are read by softmaxbook/grader/parse.py)") from None
            except (KeyError, TypeError, ValueError) as exc:
                raise KeyProblem(f"{where}: {type(exc).__name__}: {exc}") from None
            if ex.id in exercises:
                raise KeyProblem(f"{where}: the id is used twice")
            if not ex.id.startswith(f"ch{chapter}."):
                raise KeyProblem(f"{where}: ids in {path.name} start with 'ch{chapter}.'")
            exercises[ex.id] = ex
    return exercises


def points(value) -> float:
    """An exercise's ``points`` (its weight in a gradebook, 1 when not given): a positive,
    finite number; :class:`KeyProblem` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise KeyProblem(f"points = {value!r}: not a positive finite number")
    return float(value)


def load_assignments(exercises: dict) -> dict[str, dict]:
    """``{name: {"notebook", "title", "cells": {exercise id: answer cell as shipped}}}`` from
    ``key/assignments.toml``, in its order; raises :class:`KeyProblem` unless every exercise of
    ``exercises`` is in exactly one assignment."""
    path = HERE / "assignments.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise KeyProblem(f"{path.name}: not valid TOML ({exc})") from None
    placed = {}
    for name, a in data.items():
        if set(a) != {"notebook", "title", "cells"} or not isinstance(a["cells"], dict):
            raise KeyProblem(f"{path.name}, [{name}]: needs notebook, title and cells, nothing else")
        for ex_id, cell in a["cells"].items():
            if ex_id not in exercises:
                raise KeyProblem(f"{path.name}, [{name}]: unknown exercise {ex_id!r}")
            if ex_id in placed:
                raise KeyProblem(f"{path.name}: {ex_id} is in [{placed[ex_id]}] and in [{name}]")
            if type(cell) is not int or cell < 1:
                raise KeyProblem(f"{path.name}, [{name}]: the cell of {ex_id} is not a cell number")
            placed[ex_id] = name
    missing = [i for i in exercises if i not in placed]
    if missing:
        raise KeyProblem(f"{path.name}: exercises in no assignment: {', '.join(missing)}")
    return data


def _say(text):
    """A text of the key a learner reads, as a :class:`~softmaxbook.i18n.Message` (its id is the
    key's English text; :func:`softmaxbook.i18n.extract_key` puts it in the catalogue)."""
    return i18n.Message(text) if isinstance(text, str) and text else text


def build(e: dict, chapter: int, stem: str) -> kinds.Exercise:
    e = {**e, **{f: _say(e[f]) for f in ("task", "answer", "hint") if f in e}}
    if isinstance(e.get("options"), dict):
        e["options"] = {k: _say(v) for k, v in e["options"].items()}
    if isinstance(e.get("feedback"), dict):
        e["feedback"] = {k: _say(v) for k, v in e["feedback"].items()}
    kind = e.get("kind")
    if kind not in FIELDS:
        raise KeyProblem(f"unknown kind {kind!r} (one of {', '.join(FIELDS)})")
    unknown = set(e) - FIELDS[kind]
    if unknown:
        raise KeyProblem(f"unknown field(s) {', '.join(sorted(unknown))} for a {kind} exercise")
    if kind == "choice":
        return Choice(e["id"], e["task"], chapter, dict(e["options"]), e["correct"], dict(e["feedback"]))
    if kind == "function":
        module = importlib.import_module(f"{__name__}.{stem}_cases")
        return Function(e["id"], e["task"], e["answer"], chapter, tuple(e["names"]), getattr(module, e["hidden"]))
    wrong = [(w[0], _say(w[1])) for w in e.get("wrong", [])]
    if kind == "numeric":
        return Numeric(e["id"], e["task"], e["answer"], chapter, e["reference"], wrong,
                       precision=Precision.from_key(e.get("precision")), shape=tuple(e.get("shape", ())),
                       let=e.get("let"))
    symbols = []
    for name, assumption in e["symbols"].items():
        if assumption not in ASSUMPTIONS:
            raise KeyProblem(f"symbol {name}: assumption {assumption!r} is not one of {sorted(ASSUMPTIONS)}")
        symbols.append(sp.Symbol(name, **{assumption: True}))
    names = symbol_names(symbols)
    sample = [_rule(r, names) for r in e["sample"]]
    wide = _wide(e["wide"], names) if "wide" in e else None
    return Symbolic(
        e["id"], e["task"], e["answer"], chapter, symbols, tuple(e.get("shape", ())), e["reference"],
        lambda rng: _draw(sample, rng, 0), wrong=wrong, canon=e.get("canon", ()), seed=e.get("seed", 0),
        hint=e.get("hint", ""), wide=wide, allow=e.get("allow", ()), let=e.get("let"),
        probes=[_probe(p, names) for p in e.get("probes", [])])


def _rule(r: dict, names: dict) -> dict:
    """A draw rule, checked: its names are symbols of the exercise, one generator each."""
    how = set(r) & RULES
    if set(r) - RULES - {"names", "count"} or len(how) != 1 or not r.get("names"):
        raise KeyProblem(f"a draw rule needs 'names' and one of {sorted(RULES)}: {r}")
    missing = [n for n in r["names"] if n not in names]
    if missing:
        raise KeyProblem(f"a draw rule names unknown symbol(s) {missing}")
    rule = dict(r)
    if "values" in r:
        rule["values"] = [parse(str(f), names) for f in r["values"]]
    if "cycle" in r:
        rule["cycle"] = [[float(parse(str(v), {})) for v in t] for t in r["cycle"]]
    return rule


def _draw(rules: list, rng, k: int, point: dict | None = None) -> dict:
    """Apply draw rules in order to ``point`` (the k-th point of its list)."""
    point = dict(point or {})
    for r in rules:
        names = r["names"]
        if "uniform" in r:
            vals = [float(v) for v in rng.uniform(*r["uniform"], len(names))]
        elif "integers" in r:
            vals = [float(v) for v in rng.integers(*r["integers"], len(names))]
        elif "dirichlet" in r:
            vals = [float(v) for v in rng.dirichlet([float(r["dirichlet"])] * len(names))]
        elif "cycle" in r:
            vals = [float(v) for v in r["cycle"][k % len(r["cycle"])]]
        else:
            vals = [compare.evaluate([f.xreplace({s: sp.Float(point[s.name], 30) for s in f.free_symbols})],
                                     [{}])[0][0] for f in r["values"]]
        point.update(zip(names, vals))
    return point


def _wide(w: dict, names: dict):
    if set(w) - {"names", "points", "random", "then"}:
        raise KeyProblem(f"unknown field(s) in wide: {sorted(set(w) - {'names', 'points', 'random', 'then'})}")
    fixed = [{n: float(parse(str(v), {})) for n, v in zip(w["names"], p)} for p in w.get("points", [])]
    random = [_rule(r, names) for r in w.get("random", [])]
    then = [_rule(r, names) for r in w.get("then", [])]

    def points(rng):
        drawn = fixed + [_draw(random, rng, k) for k in range(max([r.get("count", 1) for r in random] or [0]))]
        return [_draw(then, rng, k, p) for k, p in enumerate(drawn)]
    return points


def _probe(p: dict, names: dict) -> probes.Probe:
    kind = next((k for k in probes.KINDS if k in p), None)
    if kind is None:
        raise KeyProblem(f"a probe needs one of {probes.KINDS}: {p}")
    if kind == "at":
        if set(p["at"]) != set(names):
            raise KeyProblem(f"probe at {p['at']}: give a value to every symbol ({', '.join(names)})")
        if not (p.get("name") or p.get("says")):
            raise KeyProblem(f"probe at {p['at']}: needs 'name' (the quantity) or 'says' (what holds there)")
        at = {names[n]: sp.Float(parse(str(v), {}), 30) for n, v in p["at"].items()}
        where = ", ".join(f"{n} = {v}" for n, v in p["at"].items())
        return probes.Probe("at", says=_say(p.get("says", "")), name=_say(p.get("name", "")), at=at, where=where)
    if not p.get("says"):
        raise KeyProblem(f"a {kind} probe needs 'says' (the property in words)")
    if kind == "sign":
        if p["sign"] not in ("positive", "nonnegative"):
            raise KeyProblem("sign is 'positive' or 'nonnegative'")
        return probes.Probe("sign", says=_say(p["says"]), sign=p["sign"])
    if kind == "swap":
        return probes.Probe("swap", says=_say(p["says"]), swap=tuple(names[n] for n in p["swap"]))
    if kind == "sum":
        return probes.Probe("sum", says=_say(p["says"]), total=parse(str(p["sum"]), {}), rows=bool(p.get("rows")))
    return probes.Probe("symmetric", says=_say(p["says"]))


# --------------------------------------------------------------------------- validation

def check(exercises: dict | None = None, functions: bool = False) -> list[str]:
    """Problems of the key, in words (an empty list when it is sound): every formula parses,
    every reference is graded right, every declared wrong answer is graded wrong with its own
    feedback, every probe holds for the reference, and no feedback shows the reference.
    ``functions=True`` also runs each function exercise's solution and declared wrong
    functions in the sandbox (a few seconds)."""
    problems = []
    for ex in (exercises or load()).values():
        try:
            problems += _check_one(ex, functions)
        except (ParseError, KeyProblem, TypeError, ValueError) as exc:
            problems.append(f"{ex.id}: {type(exc).__name__}: {exc}")
    return problems


def _check_one(ex, functions: bool) -> list[str]:
    out = [f"{ex.id}: feedback shows the reference: {text[:80]!r}" for text in feedback_texts(ex)
           if shows_reference(ex, text)]
    if ex.kind == "function":
        if not functions:
            return out
        right = ex.grade(answers.serialise(solution_functions(ex.hidden.solution, ex.names)))
        if not right.passed:
            out.append(f"{ex.id}: the key's solution is graded wrong: {right.message}")
        for feedback, source in ex.hidden.misconceptions.items():
            r = ex.grade(answers.serialise(solution_functions(source, ex.names)))
            if r.passed or feedback not in r.message:
                out.append(f"{ex.id}: the declared misconception {feedback[:60]!r} is not recognised: {r.message}")
        return out
    right = ex.grade(ex.right_answer())
    if not right.passed:
        out.append(f"{ex.id}: the reference is graded wrong: {right.message}")
    written = [w for w, _ in ex.wrong] if ex.kind != "choice" else list(ex.feedback)
    for (answer, feedback), formula in zip(ex.misconceptions(), written):
        r = ex.grade(answer)
        if r.passed or r.message != now(feedback):
            out.append(f"{ex.id}: the wrong answer {formula!r} gets {r.message!r}, not its own feedback")
    if ex.kind == "symbolic":
        S, points, ref, ref_values, *_ = ex.prepared()
        for p in ex.probes:
            if not probes.holds_for_reference(p, ref, ref_values, points, ex.shape):
                out.append(f"{ex.id}: the probe {p.kind} ({p.says}) does not hold for the reference")
    return out


def feedback_texts(ex) -> list[str]:
    """Every text of the key a learner can see for this exercise: the task and answer type,
    the feedback of each declared wrong answer (or hidden case), the probes and the hint."""
    texts = [ex.task, ex.answer_type]
    if ex.kind == "function":
        texts += list(ex.hidden.misconceptions) + [c.hint for c in ex.cases()[0]]
    else:
        texts += [msg for _, msg in ex.misconceptions()]
    if ex.kind == "symbolic":
        texts += [p.says for p in ex.probes] + [p.name for p in ex.probes] + ([ex.hint] if ex.hint else [])
    return [t for t in dict.fromkeys(texts) if t]


def shows_reference(ex, text: str) -> bool:
    """``text`` states the reference. Formulas (symbolic and numeric exercises) are read from the
    text in the course's prose notation (:mod:`..prose`: ``A(o) − yᵀo``, ``p_i(δ_ij − p_j)``,
    ``log₂ 3``, ...) and graded as answers: one graded right is the reference in some form. A
    choice shows it by the right option's text or by naming its letter ("(c)", "option c"); a
    function exercise by a line of the key's solution."""
    if ex.kind == "choice":
        squeeze = "".join(text.split())
        letter = re.escape(ex.correct)
        return ("".join(ex.options[ex.correct].split()) in squeeze
                or re.search(rf"\(\s*{letter}\s*\)|\b(?:option|answer)\s+(?:is\s+)?{letter}\b", text, re.I) is not None)
    if ex.kind == "function":
        lines = [ln.strip() for ln in ex.hidden.solution.splitlines()]
        return any(len(ln) > 15 and not ln.startswith(("def ", "#", '"""')) and ln in text for ln in lines)
    names = set(symbol_names(ex.symbols))
    return any(ex.grade(answer).passed for answer in prose.candidates(text, names, prose.asked(ex.task)))


def solution_functions(source: str, names: tuple):
    """The function(s) ``names`` defined by ``source`` (the key's own code), as a learner's
    answer: one function, or a tuple of them."""
    import math
    ns = {"np": np, "math": math, "__name__": "__main__"}
    exec(compile(source, "<key>", "exec"), ns)      # the course's own code, never a learner's
    fns = tuple(ns[n] for n in names)
    return fns[0] if len(fns) == 1 else fns
