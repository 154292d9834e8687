"""The gradebook (graded exercises, all chapters): the row of one submission, the CSV files,
and the name of every file the batch grader writes (the feedback itself: :mod:`.feedback`).

A row (:class:`Row`, built only by :func:`make_row`) is plain data, kept in the resume state
as JSON. A folder of one assignment gives one gradebook (``-o grades.csv``); a mixed folder
gives an overview there and one gradebook per assignment next to it (``grades_ex4.csv``, ...:
:func:`gradebooks`). Learner-controlled text in a CSV cell never starts a formula
(:func:`spreadsheet_cell`). :class:`Outputs` names every file written next to the gradebook.
A row made elsewhere (a dask worker's) is checked against the row's schema by :func:`check_row`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from . import registry, untrusted
from .assignments import COURSE, assignments, exercise_ids
from .result import STATUS, printable
from .running import validate_answers
from .submissions import display


class Feedback(TypedDict):
    status: str
    score: float
    message: str
    details: list


STATUSES = ("graded", "unanswered", "timed out", "crashed", "malformed", "answers removed", "skipped", "error")


class Row(TypedDict, total=False):
    """One entry's row: its assignment (``None``: none recognised), status (``graded``,
    ``unanswered``, ``timed out``, ``crashed``, ``malformed``, ``answers removed``, ``skipped``,
    ``error``), reason, notes, seconds, a score per exercise of the assignment, feedback per
    graded exercise (``message``: the whole text, ``headline`` and ``details``: its parts), and
    the answers' fingerprints (``similar``, :func:`.similarity.fingerprint`). Optional (issue
    26): the ``learner`` id, ``submitted_at`` (ISO 8601), ``late`` (``hours`` after any
    extension, ``penalty`` a fraction of the points, ``reason``: :func:`.late.lateness`),
    ``overrides`` and ``previous``."""
    assignment: str | None
    status: str
    reason: str
    notes: list
    seconds: float
    scores: dict
    feedback: dict
    similar: dict
    learner: str       # the learner id (roster or Canvas file name)
    submitted_at: str  # ISO 8601 with offset
    late: dict         # {"hours", "penalty", "reason"}
    overrides: dict    # {ex: {"score", "graded", "reason"}}: scores[ex] already holds the override (:mod:`.overrides`)
    previous: dict     # {"at", "total", "why"}: the last different result (:mod:`.state`)


@dataclass(frozen=True)
class Outputs:
    """Every file the batch grader writes, named after the gradebook ``csv`` (``-o``): the one
    place these names are made."""
    csv: Path

    @property
    def state(self) -> Path:
        return self.csv.with_name(self.csv.name + ".state.json")

    @property
    def feedback_dir(self) -> Path:
        return self.csv.with_name(self.csv.stem + "_feedback")

    def feedback(self, stem: str) -> Path:
        """A learner's feedback in Markdown (``stem``: :func:`.feedback.feedback_stem`)."""
        return self.feedback_dir / f"{stem}.md"

    def feedback_html(self, stem: str) -> Path:
        """A learner's feedback page (self-contained HTML)."""
        return self.feedback_dir / f"{stem}.html"

    @property
    def feedback_index(self) -> Path:
        """The instructor's index of every feedback page (outside the folder that goes to learners)."""
        return self.csv.with_name(f"{self.csv.stem}_feedback.html")

    @staticmethod
    def feedback_archive(gradebook: Path) -> Path:
        """The feedback pages of one gradebook's learners in a zip archive (``--feedback-archive``)."""
        return gradebook.with_name(f"{gradebook.stem}_feedback.zip")

    def gradebook(self, assignment: str) -> Path:
        """The gradebook of one assignment of a mixed folder."""
        return self.csv.with_name(f"{self.csv.stem}_{assignment}{self.csv.suffix}")

    @staticmethod
    def lms(gradebook: Path, lms: str) -> Path:
        """A gradebook for ``lms`` (``canvas``, ``moodle``)."""
        return gradebook.with_name(f"{gradebook.stem}_{lms}.csv")

    def report(self, ext: str) -> Path:
        """The class report (``.html``, ``.csv``)."""
        return self.csv.with_name(f"{self.csv.stem}_report{ext}")

    @property
    def similar(self) -> Path:
        return self.csv.with_name(f"{self.csv.stem}_similar.csv")

    @property
    def changes(self) -> Path:
        """The change log: every score that moved, from what to what, why and when."""
        return self.csv.with_name(f"{self.csv.stem}_changes.csv")

    def every(self) -> list[Path]:
        """Every file and folder this batch may write (never taken for a submission)."""
        books = [self.csv] + [self.gradebook(a) for a in assignments()]
        return (books + [self.lms(b, lms) for b in books for lms in ("canvas", "moodle")]
                + [self.feedback_archive(b) for b in books]
                + [self.report(".html"), self.report(".csv"), self.similar, self.state, self.feedback_dir,
                   self.feedback_index, self.changes])


def make_row(status: str, reason: str, assignment=None, results=None, notes=()) -> Row:
    """The one place a gradebook row is built: scores and feedback for the assignment's
    exercises (0 and none when ``results`` is ``None``: a broken or skipped entry)."""
    results = results or {}
    return {"assignment": assignment, "status": status, "reason": printable(reason),
            "notes": [printable(n) for n in notes], "seconds": 0.0,
            "scores": {i: (results[i].score if i in results else 0.0) for i in (exercise_ids(assignment)
                                                                                if assignment else [])},
            "feedback": {i: {"status": r.status, "score": r.score, "message": r.message, "headline": r.headline,
                             "details": r.details}
                         for i, r in results.items()}}


# A row's values: texts of at most 64 KiB, 50 000 values in all (a course-wide row has a few thousand).
ROW_CAPS = untrusted.Caps(depth=4, text=2**16, values=50_000, int_bits=64)
ROW_KEYS = frozenset({"assignment", "status", "reason", "notes", "seconds", "scores", "feedback"})
GRADED_KEYS = ROW_KEYS | {"similar", "answers"}   # what :func:`.grading.grade_submission` adds
FEEDBACK_KEYS = {"status", "score", "message", "headline", "details"}
FEEDBACK_STATUSES = tuple(STATUS)
SIMILAR_KEYS = {"key", "right", "kind", "show"}


def check_row(row) -> Row:
    """``row``, plain data made in another process (a dask worker's task result), if it is a row
    as :func:`make_row` and :func:`.grading.grade_submission` build it: plain data within
    :data:`ROW_CAPS`, a known status and assignment, a score in [0, 1] for each exercise of the
    assignment and nothing else, feedback and fingerprints only for those, printable texts, and
    the answers as the jail's document may hold them (:func:`.running.validate_answers`).
    Raises ``ValueError`` saying what is wrong."""
    if not isinstance(row, dict) or not ROW_KEYS <= set(row) <= GRADED_KEYS:
        raise ValueError("not a row of this grader")
    answers = row.get("answers", {})
    if not isinstance(answers, dict) or validate_answers(answers) != answers:
        raise ValueError("answers that are not plain, bounded data")
    untrusted.check_plain({k: v for k, v in row.items() if k != "answers"}, ROW_CAPS)
    a, scores, feedback = row["assignment"], row["scores"], row["feedback"]
    if row["status"] not in STATUSES or not (a is None or (isinstance(a, str) and a in assignments())):
        raise ValueError("an unknown status or assignment")
    if not isinstance(row["notes"], list) or type(row["seconds"]) not in (int, float) or not 0 <= row["seconds"] < 1e7:
        raise ValueError("wrong types")
    if not isinstance(scores, dict) or list(scores) != (exercise_ids(a) if a else []) or not all(
            type(s) in (int, float) and 0 <= s <= 1 for s in scores.values()):
        raise ValueError("scores that are not one in [0, 1] per exercise of the assignment")
    texts = [row["reason"], *row["notes"]]
    for ex_id, fb in (feedback.items() if isinstance(feedback, dict) else [(None, None)]):
        if (ex_id not in scores or not isinstance(fb, dict) or set(fb) != FEEDBACK_KEYS
                or fb["status"] not in FEEDBACK_STATUSES or fb["score"] != scores[ex_id]
                or not isinstance(fb["details"], list)):
            raise ValueError("feedback that is not one per graded exercise")
        texts += [fb["message"], fb["headline"], *fb["details"]]
    similar = row.get("similar", {})
    for ex_id, fp in (similar.items() if isinstance(similar, dict) else [(None, None)]):
        if (ex_id not in scores or not isinstance(fp, dict) or set(fp) != SIMILAR_KEYS or type(fp["right"]) is not bool
                or not all(isinstance(fp[k], str) for k in ("key", "kind", "show"))):
            raise ValueError("a fingerprint that is not one of a graded exercise")
    if not all(isinstance(t, str) and printable(t) == t for t in texts):
        raise ValueError("a text that is not printable")
    return row


def points(ids) -> dict[str, float]:
    """Points of each exercise of ``ids`` (the key's ``points``, 1 by default)."""
    return {i: float(getattr(registry.EXERCISES.get(i), "points", 1.0)) for i in ids}


def total(row: dict, ids) -> tuple[float, float]:
    """``(points earned after the late penalty, points possible)`` of a row over the exercises
    ``ids``: each exercise's score (0..1) times its points, less the row's ``late`` penalty."""
    weights = points(ids)
    earned = sum(row["scores"].get(i, 0.0) * w for i, w in weights.items())
    late = row.get("late")
    return earned * (1 - late["penalty"]) if late else earned, sum(weights.values())


def csv_text(rows: list[tuple[str, dict]], ids=None) -> str:
    """A gradebook's text: one row per entry, the points earned per exercise of ``ids`` (each
    row's own assignment decides total and maximum when ``ids`` is ``None``: the overview of a
    mixed folder); a ``learner`` column when a learner is known, ``late_hours``,
    ``late_penalty`` (percent of the points) and ``late_reason`` when an entry is late."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    learners = any(r.get("learner") for _, r in rows)
    lates = any(r.get("late") for _, r in rows)
    w.writerow(["submission"] + ["learner"] * learners + ["assignment", "status"] + list(ids or [])
               + ["total", "max", "percent"] + ["late_hours", "late_penalty", "late_reason"] * lates + ["reason"])
    weights = points(ids or [])
    for name, row in rows:
        mine = ids if ids is not None else (exercise_ids(row.get("assignment")) if row.get("assignment") else [])
        earned, top = total(row, mine)
        late = row.get("late") or {}
        w.writerow([spreadsheet_cell(display(name))] + [spreadsheet_cell(row.get("learner") or "")] * learners
                   + [row.get("assignment") or "", row["status"]]
                   + [f"{row['scores'].get(i, 0.0) * weights[i]:.3f}" for i in ids or []]
                   + [f"{earned:.3f}", f"{top:g}", f"{100 * earned / top:.1f}" if top else ""]
                   + ([f"{late['hours']:.2f}", f"{100 * late['penalty']:.1f}", late["reason"]] if late
                      else ["", "", ""]) * lates
                   + [spreadsheet_cell(row["reason"])])
    return buf.getvalue()


def gradebooks(rows: list[tuple[str, dict]], out_csv: Path) -> dict[Path, tuple[str | None, list]]:
    """``{path: (assignment, rows)}``: a folder of one assignment (or the whole course) has one
    gradebook at ``out_csv`` (entries not recognised as any assignment included); a mixed
    folder has the overview (assignment ``None``) there and ``<stem>_<assignment>.csv`` per assignment."""
    kinds = sorted({r.get("assignment") for _, r in rows} - {None})
    if len(kinds) <= 1:
        return {out_csv: (kinds[0] if kinds else COURSE, rows)}
    books = {out_csv: (None, rows)}
    for a in kinds:
        books[Outputs(out_csv).gradebook(a)] = (a, [(n, r) for n, r in rows if r.get("assignment") == a])
    return books


def spreadsheet_cell(text: str) -> str:
    """Neutralise spreadsheet formulas in learner-controlled text (file names, reasons)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
