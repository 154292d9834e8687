"""The resume state of a gradebook (graded exercises, all chapters): what was graded, against
which key, and what changed since.

The state file (:attr:`.gradebook.Outputs.state`, JSON, the instructor's) holds the run's secret
seed (``/secret``) and per entry of the folder: the content hash of its files and the grader
(:func:`content_hash`), its row, the answers its notebooks' run returned (plain data), the
fingerprint of each exercise's key entry it was graded against (:func:`fingerprints`), when it
was graded (``at``) and its earlier results (``history``).

A rerun runs a notebook again only when its files or the grader changed. When only the key
changed, the answers kept here are graded again, exercise by exercise, for exactly the
exercises whose key entry (or hidden tests) changed (:func:`affected`, :func:`regrade`): the
notebook's run does not depend on the key (the answers it returns are the values passed to
``check``; every grade is given again in the grader's process anyway), so running it again
would only cost time. Only when the exercises of an assignment change (one added, removed,
moved) or the state predates the kept answers is the notebook run again.

Every score that moves is a line of the change log (:attr:`.gradebook.Outputs.changes`, CSV:
submission, exercise, from, to, why, when), and the row keeps the last different result
(``previous``: at, total, why).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import tomllib
from pathlib import Path

from . import key
from .assignments import exercise_ids
from .gradebook import make_row, spreadsheet_cell, total
from .grading import grade_answers
from .kinds import secret_points
from .learner import atomic_write
from .submissions import display, read_submission

GRADER_VERSION = "5"
SECRET_KEY = "/secret"               # the state file's entry for the run's secret seed (no file name has a "/")
CHANGE_COLUMNS = ("submission", "exercise", "from", "to", "why", "when")
MAX_HISTORY = 20                     # earlier results kept per entry


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def content_hash(paths) -> str:
    """Hash of the grader version, the file names (as bytes) and their contents."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    for p in paths:
        h.update(os.fsencode(Path(p).name) + b"\0")
        h.update(hashlib.sha256(read_submission(p)).digest())
    return h.hexdigest()


def fingerprints() -> dict[str, str]:
    """``{exercise id: hash}`` of each exercise's key entry (its TOML table, every field) and,
    for a function answer, of its chapter's hidden-test module (``key/chN_cases.py``)."""
    out = {}
    for path in key.files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cases = key.HERE / f"{path.stem}_cases.py"
        extra = hashlib.sha256(cases.read_bytes()).hexdigest() if cases.is_file() else ""
        for entry in data.get("exercise", []):
            text = json.dumps(entry, sort_keys=True, default=str) + (extra if entry.get("kind") == "function" else "")
            out[str(entry.get("id"))] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out


def load(path: Path) -> dict:
    """The state file's content (a fresh one with a new secret seed when it is missing or unreadable)."""
    try:
        state = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        state = {}
    # The seed of the secret sample points, drawn once per gradebook and kept with its state
    # (never shown to learners), so that a resumed run draws the same points.
    if not isinstance(state, dict) or not (isinstance(state.get(SECRET_KEY), str)
                                           and re.fullmatch(r"[0-9a-f]{32}", state[SECRET_KEY])):
        state = {SECRET_KEY: secrets.token_hex(16)}   # a new seed: nothing graded before counts
    return state


def save(path: Path, state: dict) -> None:
    atomic_write(path, json.dumps(state))


def affected(entry: dict, fps: dict) -> list[str] | None:
    """The exercises of an entry graded against a key entry that changed since (``[]``: none);
    ``None`` when its notebook must run again (no kept answers, or its assignment's exercises changed)."""
    row = entry.get("row") or {}
    ids = exercise_ids(row["assignment"]) if row.get("assignment") else []
    kept = entry.get("keys")
    if not isinstance(kept, dict) or not isinstance(entry.get("answers"), dict) or set(kept) != set(ids) \
            or set(row.get("scores", {})) != set(ids):
        return None
    return [i for i in ids if kept[i] != fps.get(i)]


def regrade(entry: dict, ids: list[str], secret: int) -> dict:
    """The entry's row with the exercises ``ids`` graded again from its kept answers (status,
    reason and the other exercises unchanged)."""
    row = json.loads(json.dumps(entry["row"]))
    with secret_points(secret):
        results, _ = grade_answers({i: a for i, a in entry["answers"].items() if i in ids}, ids)
    fresh = make_row(row["status"], row["reason"], row["assignment"], results)
    for i in ids:
        row["scores"][i] = fresh["scores"][i]
        row["feedback"][i] = fresh["feedback"][i]
    return row


def record(state: dict, name: str, digest: str, row: dict, answers: dict, fps: dict, why: str) -> list[list]:
    """Keep ``row`` as entry ``name``'s result (with its ``answers`` and the fingerprints of its
    exercises' key entries); ``previous`` and the history say what it replaced. The change-log
    lines of every exercise whose score moved (none for a first grade)."""
    old = state.get(name) if isinstance(state.get(name), dict) else {}
    when = now()
    ids = list(row.get("scores", {}))
    history = list(old.get("history", []))[-MAX_HISTORY + 1:] if old else []
    lines = []
    if old.get("row"):
        before, after = total(old["row"], list(old["row"].get("scores", {})))[0], total(row, ids)[0]
        history.append({"at": old.get("at", ""), "total": before, "hash": old.get("hash", ""), "why": why})
        if before != after:
            row["previous"] = {"at": old.get("at", ""), "total": before, "why": why}
        elif old["row"].get("previous"):
            row["previous"] = old["row"]["previous"]
        lines = changes(name, old["row"], row, why, when)
    state[name] = {"hash": digest, "row": row, "answers": answers, "keys": {i: fps.get(i, "") for i in ids},
                   "at": when, "history": history, "version": GRADER_VERSION}
    return lines


def changes(name: str, old: dict, new: dict, why: str, when: str) -> list[list]:
    """Change-log lines ``[submission, exercise, from, to, why, when]`` of the exercises whose
    score differs between two rows (a missing score is empty)."""
    ids = list(new.get("scores", {})) + [i for i in old.get("scores", {}) if i not in new.get("scores", {})]
    out = []
    for i in ids:
        a, b = old.get("scores", {}).get(i), new.get("scores", {}).get(i)
        if a != b:
            out.append([display(name), i, "" if a is None else f"{a:.3f}", "" if b is None else f"{b:.3f}", why, when])
    return out


def append_changes(path: Path, lines: list[list]) -> None:
    """Append lines to the change log (created with its header, readable by its owner only)."""
    if not lines:
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as f:
        if f.tell() == 0:
            w.writerow(CHANGE_COLUMNS)
        w.writerows([[spreadsheet_cell(str(c)) for c in line] for line in lines])
        f.write(buf.getvalue())
