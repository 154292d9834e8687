"""A teaching assistant's overrides (graded exercises, all chapters): ``--overrides overrides.csv``.

The file has the columns ``submission`` (the entry's name as the gradebook shows it),
``exercise`` (an exercise id), ``score`` (points for that exercise, 0 up to its points; 1 unless
the key says otherwise) and ``reason`` (a sentence the learner reads). It is the instructor's
record: the grader never writes it, and applies it after grading on every run (:func:`apply`),
so a rerun, a key change or a resubmission never loses a decision. The grader's own score stays
in the state; the row's ``overrides`` field holds both, and the gradebook's reason, the feedback
and the class report name the override and its reason. A bad file is refused before anything
is graded, with the line at fault (:func:`read`).
"""

from __future__ import annotations

import copy
import csv
import io
import math

from . import feedback, registry, state
from .submissions import display, read_text

COLUMNS = ("submission", "exercise", "score", "reason")
MAX_BYTES = 4 * 2**20


class BadOverrides(ValueError):
    """The overrides file cannot be used; the message names the line."""


def points(ex_id: str) -> float:
    """The exercise's points (1 until the key gives it others)."""
    return float(getattr(registry.EXERCISES[ex_id], "points", 1))


def read(path, names) -> dict[tuple[str, str], dict]:
    """``{(entry name, exercise id): {"score": fraction 0..1, "reason", "line"}}`` from the CSV file
    ``path``; ``names`` are the folder's entry names. ``BadOverrides`` naming the line at fault: not
    UTF-8, missing columns, an unknown submission or exercise, a score that is no number or
    outside 0..points, an empty reason, the same submission and exercise twice."""
    try:
        text = read_text(path, MAX_BYTES)
    except ValueError as exc:
        raise BadOverrides(str(exc)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BadOverrides(f"line 1: the columns {', '.join(COLUMNS)} are needed; missing {', '.join(missing)}")
    shown = {display(n): n for n in names}
    out: dict[tuple[str, str], dict] = {}
    for rec in reader:
        line = reader.line_num
        if not any(v.strip() for v in rec.values() if isinstance(v, str)) and None not in rec:
            continue
        if None in rec:
            raise BadOverrides(f"line {line}: more fields than columns (put a reason that holds a comma in quotes)")
        sub, ex_id = (rec["submission"] or "").strip(), (rec["exercise"] or "").strip()
        reason = " ".join((rec["reason"] or "").split())
        if sub not in shown:
            raise BadOverrides(f"line {line}: unknown submission {display(sub)!r} (not an entry of the folder)")
        if ex_id not in registry.EXERCISES:
            raise BadOverrides(f"line {line}: unknown exercise {display(ex_id)!r}")
        top = points(ex_id)
        try:
            score = float((rec["score"] or "").strip())
        except ValueError:
            raise BadOverrides(f"line {line}: the score {display(rec['score'] or '')!r} is not a number") from None
        if not math.isfinite(score) or not 0 <= score <= top:
            raise BadOverrides(f"line {line}: the score {score:g} is outside 0..{top:g} (the points of {ex_id})")
        if not reason:
            raise BadOverrides(f"line {line}: no reason given (the learner reads it)")
        if (shown[sub], ex_id) in out:
            first = out[shown[sub], ex_id]["line"]
            raise BadOverrides(f"line {line}: {display(sub)} / {ex_id} is overridden twice (also on line {first})")
        out[shown[sub], ex_id] = {"score": score / top, "reason": display(reason[:500]), "line": line}
    return out


def apply(name: str, row: dict, overrides: dict) -> tuple[dict, list[str]]:
    """``(row, problems)``: a copy of ``row`` with the overrides of entry ``name`` in its scores and
    its ``overrides`` field (``{ex: {"score", "graded", "reason"}}``); problems name the
    overrides of exercises the entry's assignment does not have (not applied)."""
    mine = {ex: o for (n, ex), o in overrides.items() if n == name}
    if not mine:
        return row, []
    row, problems = copy.deepcopy(row), []
    for ex_id, o in mine.items():
        if ex_id not in row.get("scores", {}):
            problems.append(f"overrides line {o['line']}: {display(name)} has no exercise {ex_id} "
                            f"(its assignment is {row.get('assignment') or 'not recognised'}); not applied")
            continue
        row.setdefault("overrides", {})[ex_id] = {"score": o["score"], "graded": row["scores"][ex_id],
                                                  "reason": o["reason"]}
        row["scores"][ex_id] = o["score"]
    return row, problems


def describe(row: dict) -> str:
    """The overrides of a row in one line (empty without)."""
    return "; ".join(f"override {ex}: {o['graded']:.3f} -> {o['score']:.3f} ({o['reason']})"
                     for ex, o in row.get("overrides", {}).items())


def in_gradebook(row: dict) -> dict:
    """The row as its gradebook line shows it: the overrides named after the reason."""
    said = describe(row)
    if not said:
        return row
    return {**row, "reason": "; ".join(t for t in (row["reason"], said) if t)}


def refresh(st: dict, names, chosen: dict, files) -> list[list]:
    """Rewrite the feedback of the state ``st``'s entries whose overrides changed since the last
    run (``files``: the :class:`.gradebook.Outputs`); the change-log lines of these changes."""
    lines = []
    for name in names:
        entry = st.get(name)
        if not isinstance(entry, dict) or "row" not in entry:
            continue
        row = apply(name, entry["row"], chosen)[0]
        now_on = row.get("overrides", {})
        if entry.get("overrides", {}) == now_on:
            continue
        before = apply(name, entry["row"], {(name, e): {**o, "line": 0}
                                                      for e, o in entry.get("overrides", {}).items()})[0]
        for line in state.changes(name, before, row, "", state.now()):
            o = now_on.get(line[1])
            line[4] = f"override: {o['reason']}" if o else "override withdrawn"
            lines.append(line)
        entry["overrides"] = now_on
        feedback.write(files, name, row)
    return lines
