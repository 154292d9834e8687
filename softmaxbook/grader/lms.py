"""Learners' identities and the gradebooks an LMS imports (graded exercises, all chapters).

Who submitted an entry of the folder comes from the roster (:func:`read_roster`, ``--roster``)
or, without a roster line for it, from the name Canvas gave the file in its "Download
Submissions" archive (:func:`canvas_name`). Canvas builds that name in
``lib/content_zipper.rb`` of instructure/canvas-lms (read at commit 05e9653c12ef):
``<name>_[LATE_]<user id>_<attachment id>_<file name as uploaded>``, where ``<name>`` is the
learner's sortable name lowercased with every non-word character removed, ``LATE`` is there
when Canvas counts the submission late, and the user id is ``anon_<id>`` under anonymous
grading (then without a name). The second number is the id of the uploaded file, not of the
submission. A file a learner uploaded again under the same name gets ``-1`` (``-2``, ...)
before its extension (reported by users on GitHub, e.g. nus-cs2103-AY2223S2/forum#361; not
found in Canvas's documentation); the grader does not rely on the uploaded name.

A learner with several entries (one per notebook) is one learner: each export has one line
per learner (:func:`lms_files`), and two graded entries of one learner in the same assignment
that disagree are an error naming them (:class:`Conflict`). The Canvas file has Canvas's
gradebook columns and, as Canvas's own export (``lib/gradebook_exporter.rb``, same
repository), a second line ``    Points Possible`` with the assignment's points.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from . import late
from .assignments import assignments, exercise_ids
from .gradebook import Outputs, gradebooks, points, spreadsheet_cell, total
from .learner import atomic_write
from .submissions import display, read_text

ROSTER_COLUMNS = ("submission", "learner_id", "name", "sis_user_id", "sis_login_id", "section", "email",
                  "submitted_at", "extension_hours")
ANNOTATED = ("learner", "submitted_at", "late")     # the row's fields :func:`annotate` sets
SAME_FOR_A_LEARNER = ("name", "sis_user_id", "sis_login_id", "section", "email", "extension_hours")
MAX_ROSTER_BYTES = 4 * 2**20
POINTS_POSSIBLE = "    Points Possible"      # Canvas's own export writes it so, with the four spaces
CANVAS_NAME = re.compile(r"(?:(?P<name>\w+?)_)??(?P<late>LATE_)?(?P<user>anon_[A-Za-z0-9]+|\d+)_(?P<file>\d+)_"
                         r"(?P<original>.+)", re.S)


class Conflict(ValueError):
    """Two graded entries of one learner in one assignment with different points."""


def canvas_name(name: str) -> dict | None:
    """``{"user", "name", "late", "file", "original"}`` of a Canvas archive's file name, ``None``
    when ``name`` is not one."""
    m = CANVAS_NAME.fullmatch(name)
    if not m:
        return None
    return {"user": m["user"], "name": m["name"] or "", "late": bool(m["late"]), "file": m["file"],
            "original": m["original"]}


def read_roster(path) -> dict[str, dict]:
    """``{submission name: {column: value}}`` from a CSV with the columns ``submission`` and
    ``learner_id`` (the others of :data:`ROSTER_COLUMNS` optional; ``submitted_at`` ISO 8601
    with a time zone, ``extension_hours`` a number of hours). One learner may have several
    lines (one per submitted notebook) that agree on who they are. Raises ``ValueError`` saying
    what is wrong and on which line."""
    text = read_text(path, MAX_ROSTER_BYTES)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    for need in ROSTER_COLUMNS[:2]:
        if need not in header:
            raise ValueError(f"no '{need}' column (columns found: {', '.join(header) or 'none'})")
    roster, first = {}, {}
    for k, rec in enumerate(reader, start=2):
        rec = {h.strip().lower(): (v or "").strip() for h, v in rec.items() if isinstance(h, str)}
        if not rec.get("submission") or not rec.get("learner_id"):
            raise ValueError(f"line {k}: an empty submission or learner_id")
        if rec["submission"] in roster:
            raise ValueError(f"line {k}: submission {rec['submission']!r} is listed twice")
        try:
            if rec.get("submitted_at"):
                late.parse_time(rec["submitted_at"], "submitted_at")
            late.parse_extension(rec.get("extension_hours"))
        except ValueError as exc:
            raise ValueError(f"line {k}: {exc}") from None
        who = {c: rec.get(c, "") for c in ROSTER_COLUMNS}
        line, before = first.setdefault(who["learner_id"], (k, who))
        differ = [c for c in SAME_FOR_A_LEARNER if who[c] and before[c] and who[c] != before[c]]
        if differ:
            raise ValueError(f"lines {line} and {k} give learner_id {who['learner_id']!r} different "
                             + ", ".join(f"{c} ({before[c]!r} and {who[c]!r})" for c in differ))
        roster[rec["submission"]] = who
    return roster


def identity(entry: str, roster: dict | None) -> dict | None:
    """Who submitted the folder's entry ``entry``: its roster line, else what its Canvas file
    name says (``learner_id``, ``name``), with ``marked_late`` (Canvas's LATE marker: ``None``
    when the name is not Canvas's)."""
    canvas = canvas_name(entry)
    who = (roster or {}).get(display(entry))
    if who is None and canvas:
        who = {c: "" for c in ROSTER_COLUMNS} | {"submission": display(entry), "learner_id": canvas["user"],
                                                 "name": canvas["name"]}
    return None if who is None else {**who, "marked_late": canvas["late"] if canvas else None}


def annotate(name: str, row: dict, roster: dict | None, due=None, policy=None) -> str:
    """Set the row's ``learner``, ``submitted_at`` and ``late`` (:func:`.late.lateness`) from
    who submitted the unit ``name`` (a learner folder's part ``alice/ex1`` is the entry
    ``alice``), on every run (the roster and ``--due`` may change); a note for the log, or ""."""
    for field in ANNOTATED:
        row.pop(field, None)
    who = identity(name.partition("/")[0], roster) or {"learner_id": "", "submitted_at": "", "marked_late": None,
                                                         "extension_hours": ""}
    if who["learner_id"]:
        row["learner"] = who["learner_id"]
    when = late.parse_time(who["submitted_at"]) if who["submitted_at"] else None
    if when is not None:
        row["submitted_at"] = when.isoformat()
    found, note = late.lateness(due, policy, when, who["marked_late"], late.parse_extension(who["extension_hours"]))
    if found:
        row["late"] = found
    return note


def lms_files(rows, ids: list, title: str, roster: dict | None) -> tuple[str, str, list[str]]:
    """``(canvas_csv, moodle_csv, entries of no known learner)`` for one gradebook's ``rows``
    (annotated: :func:`annotate`); raises :class:`Conflict` naming a learner with two graded
    entries of different points.

    Canvas: its gradebook's columns ``Student, ID, SIS User ID, SIS Login ID, Section``, then one
    column named after the assignment; the ``Points Possible`` line, then one line per learner
    with the points after any late penalty (:func:`.gradebook.total`). Moodle: its CSV grade
    import maps columns by hand; ``ID number``, ``Email address`` (either identifies the user)
    and the points. A roster learner without a submission gets an empty cell (an import then
    changes nothing for them)."""
    people, earned, unknown = {}, {}, []
    for who in (roster or {}).values():   # a learner's lines agree (read_roster): each may fill in a blank
        person = people.setdefault(who["learner_id"], dict(who))
        person.update({c: v for c, v in who.items() if v and not person[c]})
    for name, row in rows:
        who = identity(name.partition("/")[0], roster)
        if who is None:
            unknown.append(display(name))
            continue
        people.setdefault(who["learner_id"], who)
        earned.setdefault(who["learner_id"], {})[display(name)] = f"{total(row, ids)[0]:.2f}"
    for learner, found in earned.items():
        if len(set(found.values())) > 1:
            raise Conflict(f"learner {learner!r} has {len(found)} graded entries in {title} with different points: "
                           + ", ".join(f"{n} ({p})" for n, p in found.items())
                           + "; keep one of them in the folder (or in the roster)")
    possible = f"{sum(points(ids).values()):.2f}"
    canvas, moodle = io.StringIO(), io.StringIO()
    cw, mw = csv.writer(canvas, lineterminator="\n"), csv.writer(moodle, lineterminator="\n")
    cw.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", title])
    cw.writerow([POINTS_POSSIBLE, "", "", "", "", possible])
    mw.writerow(["ID number", "Email address", title])
    for learner, who in people.items():
        p = next(iter(earned.get(learner, {"": ""}).values()))
        cw.writerow([spreadsheet_cell(x) for x in (who["name"], learner, who["sis_user_id"], who["sis_login_id"],
                                                   who["section"])] + [p])
        mw.writerow([spreadsheet_cell(learner), spreadsheet_cell(who["email"]), p])
    return canvas.getvalue(), moodle.getvalue(), sorted(unknown)


def write_exports(rows, out_csv, roster=None, log=print) -> list[Path]:
    """Write each gradebook's Canvas and Moodle files when any learner is known (a roster, or
    Canvas file names); their paths. Raises :class:`Conflict` (naming every conflict) after
    writing the others."""
    written, conflicts = [], []
    for path, (a, mine) in gradebooks(rows, Path(out_csv)).items():
        if a is None or (roster is None and not any(r.get("learner") for _, r in mine)):
            continue
        try:
            canvas, moodle, unknown = lms_files(mine, exercise_ids(a), f"{assignments()[a].title} ({a})", roster)
        except Conflict as exc:
            conflicts.append(f"{path.name}: {exc}")
            continue
        for lms, text in (("canvas", canvas), ("moodle", moodle)):
            target = Outputs.lms(path, lms)
            atomic_write(target, text)
            written.append(target)
        if unknown:
            log(f"no learner known (not exported to the LMS files of {path.name}): {', '.join(unknown[:20])}")
    if conflicts:
        raise Conflict("LMS files not written: " + "; ".join(conflicts))
    return written
