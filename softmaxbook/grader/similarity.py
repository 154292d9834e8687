"""Submissions that look alike (graded exercises, all chapters): flags for the class report.

Two steps over plain data, both on the grading machines (nothing is uploaded):

1. :func:`fingerprint`, where a submission is graded: per answered exercise, a hash of the
   answer in a canonical form (:func:`canonical`; a function answer by its code, found by
   name in the notebook's cells and compared by its syntax tree, :func:`code_key`), whether
   it is right, and what it is. The learner's source is only *parsed* (:mod:`ast`), never
   run; one that cannot be parsed (invalid, too large, nested too deeply, not UTF-8) gives
   no code to compare. The entry is kept in the gradebook row, so a resumed run keeps it.
2. :func:`find`, when the class report is written: the items (answers few submissions gave,
   shared by two or more: wrong values, or code that is not the reference solution's), each
   weighted by its rarity, and the groups of submissions they tie together with their
   strength; :data:`RULE` says how, in the words the report prints.

Right values, code equal to the reference and multiple-choice answers (too few options to
tell anything) never count. These are flags for an instructor to look at, not verdicts.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re

from . import registry

MAX_SOURCE = 4 * 2**20     # characters of a notebook searched for function definitions
MAX_CELL = 100_000         # characters of one code cell parsed (longer cells are not)
MAX_PARSED = 20            # cells mentioning a function's name parsed to find its definition
MAX_NODES = 20_000         # syntax nodes of one function compared (larger ones are not)
MIN_CODE_NODES = 40        # smaller functions count like values: only when wrong, weight 1
MAX_SHOW = 60              # characters of an answer quoted in the report
MAX_HOLDERS = 20           # an answer given by more submissions is never uncommon
CODE_WEIGHT = 2            # shared function code weighs as much as two shared wrong values
MIN_STRENGTH = 2.0         # each member of a flagged group shares at least this much (two answers only they gave)

_FENCE = re.compile(r"^```(?:\{code-cell\}[^\n]*|python3?|ipython3?)[ \t]*\n(.*?)^```", re.M | re.S)
_SKIPPED = ("ctx", "type_comment", "annotation", "returns", "kind")
_NAMES = {ast.Name: ("id",), ast.arg: ("arg",), ast.FunctionDef: ("name",), ast.AsyncFunctionDef: ("name",),
          ast.ClassDef: ("name",), ast.ExceptHandler: ("name",), ast.alias: ("asname",), ast.Global: ("names",),
          ast.Nonlocal: ("names",), ast.MatchAs: ("name",), ast.MatchStar: ("name",), ast.MatchMapping: ("rest",)}


# --------------------------------------------------------------------------- one submission

def fingerprint(answers: dict, row: dict, sources) -> dict:
    """``{exercise id: {"key", "right", "kind", "show"}}`` for the answered exercises of a
    graded ``row`` (its ``scores`` and ``feedback``), from the plain ``answers`` and the texts
    of the submission's notebooks (an iterable, read only for a function answer). ``kind``:
    ``"value"``, ``"code"`` (function code of at least :data:`MIN_CODE_NODES` nodes) or
    ``"reference"`` (the reference solution's code). Answers that cannot be compared are left
    out; never raises."""
    out = {}
    cells = None
    for ex_id, score in row.get("scores", {}).items():
        ex, ans = registry.EXERCISES.get(ex_id), answers.get(ex_id)
        fb = row.get("feedback", {}).get(ex_id) or {}
        if (ex is None or ex.kind == "choice" or not isinstance(ans, dict)
                or fb.get("status") in (None, "not answered yet")):
            continue
        try:
            if ex.kind == "function":
                if cells is None:
                    cells = code_cells(sources)
                entry = _function_entry(ex, ans, cells)
            else:
                text = canonical(ans)
                entry = None if text is None else {"key": _hash(text), "kind": "value", "show": _short(text)}
        except Exception:   # whatever the answer holds, the row stays
            entry = None
        if entry:
            out[ex_id] = {**entry, "right": bool(score >= 1)}
    return out


def canonical(ans, depth: int = 0) -> str | None:
    """Canonical text of a plain value answer (``None`` for nothing, a bad or a function
    answer): numbers to 6 significant digits, text and formulas without spaces, lists
    element by element."""
    if depth > 20 or not isinstance(ans, dict):
        return None
    t, v = ans.get("t"), ans.get("v")
    if t == "num" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return format(float(v), ".6g")
    if t in ("text", "sym") and isinstance(v, str):   # formulas, typed or as sympy printed them
        return "".join(v.split())
    if t == "seq" and isinstance(v, list):
        parts = [canonical(x, depth + 1) for x in v]
        return None if None in parts else "[" + ", ".join(parts) + "]"
    return None


def code_cells(sources) -> list[str]:
    """Code cells of notebooks given as texts (``.ipynb`` JSON or MyST Markdown; read one by one
    from any iterable, :data:`MAX_SOURCE` characters in all), each at most :data:`MAX_CELL`
    characters, without cell options and IPython magics; never raises."""
    cells, budget = [], MAX_SOURCE
    for text in sources:
        if budget <= 0:
            break
        if not isinstance(text, str):
            continue
        text = text[:budget]
        budget -= len(text)
        if text.lstrip().startswith("{"):
            try:
                found = [c.get("source") for c in json.loads(text).get("cells", [])
                         if isinstance(c, dict) and c.get("cell_type") == "code"]
            except (ValueError, RecursionError, AttributeError, TypeError):
                found = []
            found = ["".join(s) if isinstance(s, list) and all(isinstance(x, str) for x in s) else s for s in found]
        else:
            found = [m.group(1) for m in _FENCE.finditer(text)]
        cells += [_plain_python(src) for src in found if isinstance(src, str) and len(src) <= MAX_CELL]
    return cells


def _plain_python(src: str) -> str:
    """A cell's Python: without its options (``:tags: ...`` or a ``---`` block), IPython magics
    and shell escapes blanked."""
    lines = re.sub(r"\A\s*---\n.*?\n---[ \t]*\n", "", src, flags=re.S).split("\n")
    while lines and re.match(r"\s*:[\w-]+:", lines[0]):
        lines = lines[1:]
    return "\n".join("" if ln.lstrip()[:1] in ("%", "!") else ln for ln in lines)


def definition(cells: list[str], name: str):
    """The last top-level ``def name`` (or ``name = lambda ...``) in the code cells, as a
    syntax tree; ``None`` when there is none or the cells defining it do not parse (the last
    :data:`MAX_PARSED` cells that mention ``name`` are looked at)."""
    mention = [src for src in cells if name in src][-MAX_PARSED:]
    for src in reversed(mention):
        tree = _parse(src)
        for node in reversed(tree.body if tree else ()):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                return node
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda)
                    and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)):
                return node.value
    return None


def _parse(src: str):
    try:
        return ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def code_key(trees: list) -> tuple[str, int] | None:
    """``(hash, number of nodes)`` of function syntax trees with identifiers renamed in order
    of appearance and docstrings, annotations and type comments left out (so renaming,
    comments and formatting change nothing); ``None`` over :data:`MAX_NODES` nodes. Walks
    the tree with its own stack: a deeply nested tree cannot exhaust the interpreter's."""
    names, out, count = {}, [], 0
    stack = list(reversed(trees))
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):                    # ("name", identifier) or ("token", text)
            out.append(names.setdefault(x[1], f"v{len(names)}") if x[0] == "name" else x[1])
            continue
        if isinstance(x, list):
            body = [s for s in x if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                         and isinstance(s.value.value, str))]   # docstrings
            stack += [("token", "]")] + body[::-1] + [("token", "[")]
            continue
        if not isinstance(x, ast.AST):
            out.append(_constant(x))
            continue
        count += 1
        if count > MAX_NODES:
            return None
        renamed = _NAMES.get(type(x), ())
        todo = [("token", type(x).__name__)]
        for field, value in ast.iter_fields(x):
            if field in _SKIPPED:
                continue
            if field in renamed:
                value = [value] if not isinstance(value, list) else value
                todo += [("name", v) if isinstance(v, str) else ("token", "~") for v in value]
            elif isinstance(x, ast.Constant) and field == "value":
                todo.append(("token", _constant(value)))
            else:
                todo.append(value)
        todo.append(("token", ")"))
        stack += todo[::-1]
    return _hash("\x1f".join(out)), count


def _constant(value) -> str:
    try:
        return f"{type(value).__name__}:{repr(value)[:200]}"
    except ValueError:   # an integer too large to print
        return f"{type(value).__name__}:large"


def _function_entry(ex, ans: dict, cells: list[str]) -> dict | None:
    records = ans.get("v") if ans.get("t") == "seq" else [ans]
    if not isinstance(records, list) or len(records) != len(ex.names):
        return None
    trees = []
    for record, asked in zip(records, ex.names):
        if not isinstance(record, dict) or record.get("t") != "fn":
            return None
        name = record.get("name") if isinstance(record.get("name"), str) else ""
        tree = (definition(cells, name) if name.isidentifier() else None) or definition(cells, asked)
        if tree is None:
            return None
        trees.append(tree)
    found = code_key(trees)
    if found is None:
        return None
    key, nodes = found
    kind = ("reference" if key == _reference_key(ex.id) else "code" if nodes >= MIN_CODE_NODES else "value")
    return {"key": key, "kind": kind, "show": f"{nodes} syntax nodes"}


@functools.lru_cache(maxsize=None)
def _reference_key(ex_id: str) -> str | None:
    """Hash of the reference solution's code for a function exercise (:func:`code_key`)."""
    ex = registry.EXERCISES[ex_id]
    trees = [definition([getattr(ex.hidden, "solution", "") or ""], n) for n in ex.names]
    found = code_key(trees) if None not in trees else None
    return found[0] if found else None


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOW else text[: MAX_SHOW - 1] + "…"


# --------------------------------------------------------------------------- the class

def uncommon(answered: int) -> int:
    """The most submissions an uncommon answer is given by, among ``answered`` that answered
    the exercise: 5 % of them, at least 3, at most :data:`MAX_HOLDERS`."""
    return max(3, min(MAX_HOLDERS, answered // 20))


def find(rows) -> list[dict]:
    """The groups of submissions that look alike (:data:`RULE`), strongest first, from
    ``(name, row)`` pairs whose rows carry a :func:`fingerprint` under ``"similar"`` (others
    are not compared): ``[{"members", "strength", "items": [{"exercise", "why", "holders"
    (in the group), "given" (by how many), "answered" (by how many)}]}]``."""
    names, prints = [], []
    for name, row in rows:
        fp = row.get("similar") if isinstance(row, dict) else None
        if isinstance(fp, dict):
            names.append(str(name))
            prints.append(fp)
    items, pairs = [], {}
    for ex_id in registry.EXERCISES:
        buckets = {}
        for k, fp in enumerate(prints):
            e = fp.get(ex_id)
            if isinstance(e, dict) and isinstance(e.get("key"), str):
                buckets.setdefault(e["key"], []).append(k)
        answered = sum(len(b) for b in buckets.values())
        for holders in buckets.values():
            if not 2 <= len(holders) <= uncommon(answered):
                continue
            first = prints[holders[0]][ex_id]
            weight = CODE_WEIGHT if first.get("kind") == "code" else int(first.get("kind") == "value"
                                                                         and first.get("right") is not True)
            if not weight:
                continue
            item = {"exercise": ex_id, "why": _why(first), "holders": holders, "given": len(holders),
                    "answered": answered, "weight": weight, "code": first.get("kind") == "code"}
            items.append(item)
            for a in holders:
                for b in holders:
                    if a < b:
                        pairs.setdefault((a, b), []).append(item)
    links = [pair for pair, shared in pairs.items()
             if sum(_share(i, 2) for i in shared) >= 1 and (len(shared) > 1 or any(i["code"] for i in shared))]
    members = {k for pair in links for k in pair}
    while True:   # leave out members too weakly tied to their group (a chance link), then group again
        groups = _groups([p for p in links if p[0] in members and p[1] in members], items)
        weak = {k for g, mine in groups for k in g if sum(_share(i, len(h)) for i, h in mine if k in h) < MIN_STRENGTH}
        if not weak:
            break
        members -= weak
    found = [{"members": [names[k] for k in g], "strength": round(sum(_share(i, len(h)) for i, h in mine), 2),
              "items": [{"exercise": i["exercise"], "why": i["why"], "holders": [names[k] for k in h],
                         "given": i["given"], "answered": i["answered"]} for i, h in mine]}
             for g, mine in groups]
    return sorted(found, key=lambda g: (-g["strength"], g["members"]))


def _groups(links: list, items: list) -> list[tuple[list, list]]:
    """Connected groups of the linked pairs: ``[(members, [(item, its holders in the group)])]``."""
    parent = {k: k for pair in links for k in pair}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]   # path halving
            k = parent[k]
        return k

    for a, b in links:
        parent[root(a)] = root(b)
    groups = {}
    for k in sorted(parent):
        groups.setdefault(root(k), ([], []))[0].append(k)
    for item in items:
        inside = {}
        for k in item["holders"]:
            if k in parent:
                inside.setdefault(root(k), []).append(k)
        for r, holders in inside.items():
            if len(holders) >= 2:
                groups[r][1].append((item, holders))
    return list(groups.values())


def _share(item: dict, inside: int) -> float:
    """What an item adds to a group holding ``inside`` of the submissions that gave it: its
    weight times the share of its other holders that are in the group."""
    return item["weight"] * (inside - 1) / (item["given"] - 1)


def _why(entry: dict) -> str:
    show = str(entry.get("show", ""))[:MAX_SHOW]
    if entry.get("kind") == "code":
        return ("the same function code once names, comments, docstrings and formatting are set aside "
                f"({'right' if entry.get('right') else 'wrong'}, not the reference solution, {show})")
    return f"the same wrong answer: {show}"


# --------------------------------------------------------------------------- the report's words

NOTICE = ("These are flags, not verdicts: a shared uncommon answer can also come from allowed "
          "collaboration, a common source or chance, so look at the notebooks before drawing any conclusion; "
          "computed by the grader from the graded answers, nothing uploaded.")
RULE = (f"An item is a wrong answer given by few submissions (5 % of those that answered, at least 3, at most "
        f"{MAX_HOLDERS}), weight 1, or function code that is the same once names, comments, docstrings and "
        f"formatting are set aside, is not the reference solution and has at least {MIN_CODE_NODES} syntax "
        f"nodes, weight {CODE_WEIGHT}; each weight is divided by the number of other submissions that gave it. "
        "Right value answers, code equal to the reference and multiple-choice answers never count. Two "
        "submissions are linked when their shared items weigh at least 1 and are more than one wrong value; "
        "linked submissions form a group, whose strength adds its items' weights, each times the share of its "
        f"other holders inside the group; a submission whose own items add up to less than {MIN_STRENGTH:g} is "
        "left out of it.")
