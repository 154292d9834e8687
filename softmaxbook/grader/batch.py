"""The instructor's batch grader: ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.

Graded exercises, all chapters. For each submitted notebook (``.ipynb`` or jupytext
``.md``):

1. a copy is executed *whole* -- executor and kernel together -- inside a bubblewrap jail
   (:mod:`.jail`; :mod:`.runner` runs there): its own PID, network, IPC and mount
   namespaces, an unprivileged user, a file system that shows Python, the course package
   and the copy read-only and one private scratch directory, resource limits, and a
   deadline at which every process of the jail is killed. It sees neither the grader's
   processes nor its files, the gradebook, the state file or other submissions;
2. the only thing that comes back is one size-capped JSON document of plain data (the
   answers ``check`` recorded, cells that raised, a reason), validated against a schema
   (:func:`validate_document`) before anything reads it; nothing is unpickled. When the
   document is missing (a crashed or killed run), the answers ``check`` journalled in the
   scratch directory are read instead (never following a link, size-capped);
3. every answer is graded again *in the grader's process*, with the hidden tests ``check``
   runs, so a redefined ``check``, a patched package or forged outputs change nothing.

Each submission is recognised as one assignment (one notebook of ``exercises/``) by the
exercise ids it checks, and graded against that assignment only: its exercises are the
columns, their number the maximum, the feedback lists only them. A learner's folder with
notebooks of several assignments is graded against the whole course. A row's status is
``graded``, ``unanswered`` (returned as shipped), ``timed out``, ``crashed``, ``malformed`` or
``answers removed``, with a reason naming the cell (:func:`judge`); entries that are not run
are ``skipped`` or ``error``. A folder of one assignment gives one gradebook (``-o``); a mixed
folder gives an overview at ``-o`` and one gradebook per assignment next to it
(``grades_ex4.csv``, ...). The class report (:mod:`.report`) and, with a roster, files for
Canvas and Moodle are written too.

Every entry of the folder gets a row: a notebook, a learner's folder of notebooks, or a
skipped entry with its reason (symbolic links are never followed, special files and files
over :data:`MAX_NOTEBOOK_BYTES` are not read, names that are not UTF-8 are kept as bytes).
The gradebook CSV (one row per entry, one column per exercise, total) is written
atomically after every submission, with a state file of content hashes so that an
interrupted run resumes where it stopped and unchanged submissions are not re-run. Two
worker processes grade in parallel. Without bubblewrap the grader refuses to run unless
told ``sandbox=False`` (``--no-sandbox``: trusted submissions only).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cgroups, jail, registry, runner, similarity
from .kinds import secret_points
from .learner import atomic_write
from .result import printable

GRADER_VERSION = "5"
SECRET_KEY = "/secret"               # the state file's entry for the run's secret seed (no file name has a "/")
SUFFIXES = (".ipynb", ".md")
MAX_NOTEBOOK_BYTES = 32 * 2**20      # a submitted file larger than this is not read
MAX_NOTEBOOKS = 50                   # per learner folder
MAX_WALK = 5_000                     # entries looked at inside one learner folder
MAX_DOCUMENT = 8 * 2**20             # bytes of the jail's report
MAX_NOTEBOOK_OUTPUT = 10 * 2**20     # bytes of cell outputs kept while a notebook runs
STARTUP_MARGIN = 30.0                # seconds a jail gets beyond the time budget of its entry
MIN_RUN_SECONDS = 1.0                # a notebook is not started with less of its entry's budget left
GRADING_BUDGET = 300.0               # seconds for grading one submission's answers in a worker
ROUND_SLACK = 60.0                   # seconds added to a round of the pool before stuck workers are killed
JAIL_LIMITS = dict(address_space=4 * 2**30, processes=256, file_size=64 * 2**20, scratch_bytes=512 * 2**20,
                   memory=2 * 2**30, inodes=16_384)


# --------------------------------------------------------------------------- the folder

@dataclass
class Unit:
    """One entry of the submissions folder: its name (``str``, surrogate-escaped when not
    UTF-8), the notebook files to run, or the reason it is not run."""
    name: str
    paths: list = field(default_factory=list)
    problem: str = ""            # why nothing is run (then the row's status is ``status``)
    status: str = "skipped"
    notes: list = field(default_factory=list)


def display(name: str) -> str:
    """A file name (or any learner-controlled text) as printable text: bytes that are not UTF-8
    as ``\\xNN``, control characters and lone surrogates escaped (so a name cannot start a
    gradebook cell with a tab, move the cursor or stop a file from being written); see
    :func:`.result.printable`."""
    return printable(name)


def _kind(st) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link (not followed)"
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return ""
    return "a special file (device, pipe or socket)"


def find_submissions(folder: Path, exclude=()) -> list[Unit]:
    """Every entry of ``folder`` but ``exclude`` (the grader's own outputs), in byte order of
    their names: each notebook file at the top is one submission; each sub-folder is one
    learner's submission made of every notebook inside it; anything else is a unit with the
    reason it is skipped."""
    folder = Path(folder)
    exclude = {os.path.abspath(p) for p in exclude}
    temporary = tuple(f".{os.path.basename(p)}." for p in exclude)   # atomic_write's temporary files
    units = []
    for name in sorted(os.listdir(folder), key=os.fsencode):
        path = folder / name
        if os.path.abspath(path) in exclude or (temporary and name.startswith(temporary)):
            continue
        if name.startswith("."):
            units.append(Unit(name, problem="a hidden entry (its name starts with a dot)"))
            continue
        try:
            st = os.lstat(path)
        except OSError as exc:
            units.append(Unit(name, problem=f"cannot be read ({exc.strerror})"))
            continue
        if _kind(st):
            units.append(Unit(name, problem=_kind(st)))
        elif stat.S_ISDIR(st.st_mode):
            units.append(_folder_unit(name, path))
        elif path.suffix not in SUFFIXES:
            units.append(Unit(name, problem="not a notebook (.ipynb or jupytext .md)"))
        elif st.st_size > MAX_NOTEBOOK_BYTES:
            units.append(Unit(name, problem=f"file too large ({st.st_size} bytes; at most {MAX_NOTEBOOK_BYTES})",
                              status="error"))
        else:
            units.append(Unit(name, [path]))
    return units


def _folder_unit(name: str, path: Path) -> Unit:
    unit, seen = Unit(name), 0
    for top, dirs, files in os.walk(path):   # never follows links to folders
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=os.fsencode)
        for f in sorted(files, key=os.fsencode):
            seen += 1
            if seen > MAX_WALK:
                unit.notes.append(f"more than {MAX_WALK} entries: the rest is ignored")
                break
            p = Path(top) / f
            rel = display(str(p.relative_to(path)))
            if f.startswith(".") or p.suffix not in SUFFIXES:
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if _kind(st):
                unit.notes.append(f"{rel} skipped: {_kind(st)}")
            elif st.st_size > MAX_NOTEBOOK_BYTES:
                unit.notes.append(f"{rel} skipped: file too large ({st.st_size} bytes)")
            elif len(unit.paths) >= MAX_NOTEBOOKS:
                unit.notes.append(f"{rel} skipped: more than {MAX_NOTEBOOKS} notebooks")
            else:
                unit.paths.append(p)
        else:
            continue
        break
    if not unit.paths:
        unit.problem = "a folder without any notebook" + (f" ({'; '.join(unit.notes[:3])})" if unit.notes else "")
    return unit


def read_submission(path) -> bytes:
    """Bytes of a submitted regular file: never follows a link, never opens a special file,
    never reads more than :data:`MAX_NOTEBOOK_BYTES` (raises ``ValueError`` with the reason)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ValueError(f"cannot be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"file too large (more than {MAX_NOTEBOOK_BYTES} bytes)")
    return data


def content_hash(paths) -> str:
    """Hash of the grader version, the file names (as bytes) and their contents."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    for p in paths:
        h.update(os.fsencode(Path(p).name) + b"\0")
        h.update(hashlib.sha256(read_submission(p)).digest())
    return h.hexdigest()


def feedback_name(name: str) -> str:
    """Collision-free feedback file name: a readable slug and a short hash of the exact name
    (so ``alice/`` and ``alice.md``, ``a lice.md`` and ``a_lice.md`` get different files)."""
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix in SUFFIXES else name
    slug = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in stem)[:60].lstrip(".")
    return f"{slug or 'submission'}-{hashlib.sha256(os.fsencode(name)).hexdigest()[:8]}.md"


# --------------------------------------------------------------------------- assignments

COURSE = "course"
_ID_IN_FILE = re.compile(rb"""check\(\s*\\?["']([A-Za-z0-9_.]{1,60})\\?["']""")


@dataclass
class Assignment:
    """One exercise notebook: ``name`` (its file's prefix, ``ex4``), title, exercise ids in
    the notebook's order and the cell number of each id's answer cell in the shipped notebook."""
    name: str
    title: str
    ids: list
    cells: dict = field(default_factory=dict)


_ASSIGNMENTS: dict = {}


def assignments() -> dict[str, Assignment]:
    """The assignments, ``{"ex1": Assignment, ...}``, from the notebooks in ``exercises/``
    (their ``check("<id>", ...)`` cells); without that folder (an installed package), one
    per chapter of the registry. Every exercise of the registry belongs to exactly one."""
    if _ASSIGNMENTS:
        return _ASSIGNMENTS
    from . import runner
    found, placed = {}, set()
    for path in sorted((_package_dir().parent / "exercises").glob("ex*.md")):
        try:
            nb = runner.read_notebook(str(path))
        except Exception:
            continue
        cells = {}
        for k, c in enumerate(nb.cells):
            if c.get("cell_type") == "code":
                for ex_id in runner._CHECK.findall(str(c.get("source", ""))):
                    if ex_id in registry.EXERCISES and ex_id not in placed:
                        cells[ex_id] = k + 1
                        placed.add(ex_id)
        title = next((ln.lstrip("# ").strip() for c in nb.cells if c.get("cell_type") == "markdown"
                      for ln in str(c.get("source", "")).splitlines() if ln.startswith("# ")), path.stem)
        if cells:
            name = path.stem.split("_")[0]
            found[name] = Assignment(name, title, list(cells), cells)
    for ex_id, ex in registry.EXERCISES.items():   # exercises in no notebook: one assignment per chapter
        if ex_id not in placed:
            name = f"ex{ex.chapter}"
            found.setdefault(name, Assignment(name, f"Exercises of chapter {ex.chapter}", [])).ids.append(ex_id)
    _ASSIGNMENTS.update(sorted(found.items()))
    _ASSIGNMENTS[COURSE] = Assignment(COURSE, "The whole course", list(registry.EXERCISES))
    return _ASSIGNMENTS


def exercise_ids(assignment) -> list[str]:
    """Columns of an assignment's gradebook (the whole course for ``None``)."""
    return assignments()[assignment or COURSE].ids


def recognise(ids) -> str | None:
    """The assignment whose exercises share most ids with ``ids``: ``None`` when none does,
    the whole course when two share the most (a notebook made of several assignments)."""
    ids = set(ids)
    counts = sorted(((len(ids & set(a.ids)), name) for name, a in assignments().items() if name != COURSE),
                    reverse=True)
    if not counts or not counts[0][0]:
        return None
    return COURSE if len(counts) > 1 and counts[1][0] == counts[0][0] else counts[0][1]


# --------------------------------------------------------------------------- one notebook, jailed

def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


@dataclass
class Run:
    """What came back from one notebook: ``answers`` (``None`` when none could be collected;
    ``reason`` then says why), ``notes`` (cells that raised), where the run stopped
    (``stops``, see :mod:`.runner`), where ``check`` is called (``checks``: ``[id, cell]``) and
    the ids of ``check("<id>"`` calls found in the file's bytes (``ids``, also when it is malformed)."""
    answers: dict | None
    notes: list = field(default_factory=list)
    reason: str = ""
    stops: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    ids: list = field(default_factory=list)


def execute_submission(path: Path, cell_timeout: float = 60, total_timeout: float = 600, sandbox: bool = True) -> Run:
    """Run one notebook in the jail; return its :class:`Run`."""
    try:
        data = read_submission(path)
    except ValueError as exc:
        return Run(None, reason=str(exc), stops=[{"kind": "malformed", "cell": None, "limit": None}])
    return read_run(run_notebook(display(Path(path).name), data, cell_timeout, total_timeout, sandbox), data,
                    total_timeout)


def run_notebook(name: str, data: bytes, cell_timeout: float = 60, total_timeout: float = 600,
                 sandbox: bool = True) -> dict:
    """The per-submission pipeline for one notebook's bytes (``name`` gives its suffix), on the
    machine that runs it: a process of the local pool, or a dask worker (:mod:`.cluster`).
    Returns the raw record ``{"name", "stdout" (bytes), "returncode", "timed_out",
    "truncated", "journal"}`` (the jail's report and outcome, the answers its journal holds):
    plain data that nothing trusts before :func:`read_run` has checked it."""
    # Host side: a private folder with the copy (read-only in the jail) and the answer journal
    # (the jail's only writable host file, bounded by the file-size limit). The notebook's
    # working directory is the jail's own in-memory scratch.
    host = Path(tempfile.mkdtemp(prefix="softmaxbook-grade-"))
    try:
        copy = host / ("submission" + (Path(name).suffix if Path(name).suffix in SUFFIXES else ".ipynb"))
        copy.write_bytes(data)
        copy.chmod(0o444)
        journal = host / runner.JOURNAL
        journal.touch(0o600)
        # runner.py by its path: ``-m softmaxbook.grader.runner`` would import the grader package
        # (sympy, 0.4 s) for nothing. ``-P``: nothing from the working directory is importable.
        argv = [sys.executable] + (["-P"] if sys.version_info >= (3, 11) else []) + [
            runner.__file__, str(copy), "--journal", str(journal), "--cell-timeout", str(cell_timeout),
            "--total-timeout", str(total_timeout), "--max-output", str(MAX_NOTEBOOK_OUTPUT)]
        limits = jail.Limits(cpu_seconds=int(total_timeout + STARTUP_MARGIN) + 1, output_bytes=MAX_DOCUMENT,
                             **JAIL_LIMITS)
        out = jail.run(argv, timeout=total_timeout + STARTUP_MARGIN, limits=limits, binds_ro=[_package_dir(), copy],
                       binds_rw=[journal], sandbox=sandbox)
        return {"name": name, "stdout": out.stdout, "returncode": out.returncode, "timed_out": out.timed_out,
                "truncated": out.truncated, "journal": runner.read_answers(str(journal))}
    finally:
        shutil.rmtree(host, ignore_errors=True)


def read_run(record: dict, data: bytes, total_timeout: float = 600) -> Run:
    """The :class:`Run` of one notebook from the raw record of :func:`run_notebook` and the
    notebook's bytes, checked in the grader's process (:func:`validate_document`; when the
    report is missing or invalid, the journal's answers)."""
    ids = sorted({m.decode() for m in _ID_IN_FILE.findall(data)})
    out = jail.Outcome(record["returncode"], record["stdout"], b"", record["timed_out"], record["truncated"], "")
    try:
        doc = validate_document(out.stdout)
        return Run(doc["answers"], doc["notes"], doc["reason"], doc["stops"], doc["checks"], ids)
    except ValueError as exc:
        why = _failure(out, str(exc))
    stops = [{"kind": "total-timeout", "cell": None, "limit": total_timeout}] if out.timed_out else []
    journalled = _validate_answers(record["journal"])
    if journalled:
        return Run(journalled, [], why + "; the answers were collected from the journal", stops, [], ids)
    return Run(None, [], why, stops or [{"kind": "crash", "cell": None, "limit": None}], [], ids)


def _failure(out: jail.Outcome, invalid: str) -> str:
    if out.timed_out:
        return "time limit for the whole notebook exceeded (its jail was killed)"
    if out.truncated:
        return f"the notebook's report was larger than {MAX_DOCUMENT} bytes"
    if out.returncode != 0:
        return f"the notebook's run was killed or crashed (exit status {out.returncode})"
    return f"the notebook's report was invalid ({invalid})"


# --------------------------------------------------------------------------- the report's schema

DOC_KEYS = {"format", "answers", "notes", "reason", "stops", "checks"}
MAX_IDS = 200
MAX_NODES = 200_000
MAX_DEPTH = 16
MAX_STRING = 4 * 2**20


def validate_document(raw: bytes) -> dict:
    """The jail's report as ``{"answers", "notes", "reason", "stops", "checks"}`` after checking
    its schema: one JSON object with known keys and the expected format, answers keyed by
    exercise id whose values are plain JSON data of bounded size and depth, short notes and
    reason, stops of known kinds with cell numbers (:func:`_validate_stops`), check cells.
    Raises ``ValueError`` saying what is wrong."""
    if not raw:
        raise ValueError("no report")
    if len(raw) > MAX_DOCUMENT:
        raise ValueError("report too large")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(doc, dict) or set(doc) != DOC_KEYS or doc["format"] != runner.FORMAT:
        raise ValueError("not a report of this grader")
    if not isinstance(doc["answers"], dict) or not isinstance(doc["notes"], list) or not isinstance(doc["reason"], str):
        raise ValueError("wrong types")
    if not all(isinstance(n, str) for n in doc["notes"]):
        raise ValueError("notes that are not text")
    return {"answers": _validate_answers(doc["answers"]), "notes": [display(n[:200]) for n in doc["notes"][:50]],
            "reason": display(doc["reason"][:300]), "stops": _validate_stops(doc["stops"]),
            "checks": _validate_checks(doc["checks"])}


def _cell_number(x) -> bool:
    return x is None or (type(x) is int and 0 < x < 10**6)


def _validate_stops(stops) -> list:
    """At most 20 stops ``{"kind": one of runner.STOP_KINDS, "cell": int | None, "limit": number | None}``."""
    if not isinstance(stops, list) or len(stops) > 20:
        raise ValueError("stops that are not a short list")
    for s in stops:
        if (not isinstance(s, dict) or set(s) != {"kind", "cell", "limit"} or s["kind"] not in runner.STOP_KINDS
                or not _cell_number(s["cell"]) or not (s["limit"] is None or (type(s["limit"]) in (int, float)
                                                                             and 0 <= s["limit"] < 1e7))):
            raise ValueError("a stop that is not {kind, cell, limit}")
    return stops


def _validate_checks(checks) -> list:
    """At most 500 ``[exercise id (short printable text), cell number]`` pairs."""
    if not isinstance(checks, list) or len(checks) > 500:
        raise ValueError("checks that are not a short list")
    for c in checks:
        if (not isinstance(c, list) or len(c) != 2 or not isinstance(c[0], str) or len(c[0]) > 60
                or type(c[1]) is not int or not _cell_number(c[1])):
            raise ValueError("a check that is not [id, cell]")
    return [[display(i), k] for i, k in checks]


def _validate_answers(answers: dict) -> dict:
    """Answers for known exercise ids with plain, bounded values; an unknown id keeps only its
    (printable, short) name so that the report can list it."""
    if len(answers) > MAX_IDS:
        raise ValueError("too many exercise ids")
    budget = [MAX_NODES]
    out = {}
    for ex_id, ans in answers.items():
        if not isinstance(ex_id, str) or not isinstance(ans, dict) or not isinstance(ans.get("t"), str):
            raise ValueError("an answer that is not a tagged object")
        if ex_id in registry.EXERCISES:
            try:
                _plain(ans, 0, budget)
                out[ex_id] = ans
            except ValueError as exc:
                out[ex_id] = {"t": "bad", "v": str(exc)}
        else:
            out[display(ex_id[:60])] = {"t": "bad", "v": "an unknown exercise id"}
    return out


def _plain(x, depth: int, budget: list) -> None:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise ValueError("an answer too large or nested too deeply")
    if x is None or isinstance(x, (bool, int)):
        if isinstance(x, int) and x.bit_length() > 256:
            raise ValueError("an integer too large")
    elif isinstance(x, float):
        pass
    elif isinstance(x, str):
        if len(x) > MAX_STRING:
            raise ValueError("a text too long")
    elif isinstance(x, list):
        for v in x:
            _plain(v, depth + 1, budget)
    elif isinstance(x, dict):
        for k, v in x.items():
            if not isinstance(k, str) or len(k) > 100:
                raise ValueError("a key that is not short text")
            _plain(v, depth + 1, budget)
    else:
        raise ValueError(f"a {type(x).__name__}")


# --------------------------------------------------------------------------- grading

def grade_answers(answers: dict, ids=None) -> tuple[dict, list[str]]:
    """Grade plain-data answers in this process (as the batch: ``strict=True``) for the exercises
    ``ids`` (default: all); ``({id: Result}, notes)``."""
    results, notes = {}, []
    for ex_id in (registry.EXERCISES if ids is None else ids):
        ex, ans = registry.EXERCISES[ex_id], answers.get(ex_id)
        if ans is None:
            results[ex_id] = registry.Result(ex_id, False, 0.0, "no answer was checked for this exercise",
                                             answered=False)
            continue
        try:
            results[ex_id] = ex.grade(ans, strict=True)
        except Exception as exc:
            results[ex_id] = registry.Result(ex_id, False, 0.0, f"the answer could not be graded ({type(exc).__name__})")
    unknown = sorted(set(answers) - set(registry.EXERCISES))
    if unknown:
        notes.append("unknown exercise ids ignored: " + ", ".join(unknown[:10]))
    return results, notes


STATUSES = ("graded", "unanswered", "timed out", "crashed", "malformed", "answers removed", "skipped", "error")


def make_row(status: str, reason: str, assignment=None, results=None, notes=()) -> dict:
    """The one place a gradebook row is built: scores and feedback for the assignment's
    exercises (0 and none when ``results`` is ``None``: a broken or skipped entry)."""
    results = results or {}
    return {"assignment": assignment, "status": status, "reason": printable(reason),
            "notes": [printable(n) for n in notes], "seconds": 0.0,
            "scores": {i: (results[i].score if i in results else 0.0) for i in (exercise_ids(assignment)
                                                                                if assignment else [])},
            "feedback": {i: {"status": r.status, "score": r.score, "message": r.message, "details": r.details}
                         for i, r in results.items()}}


def _cells(cells) -> str:
    cells = sorted({c for c in cells if c})
    return ("cell " if len(cells) == 1 else "cells ") + ", ".join(map(str, cells)) if cells else "an unknown cell"


def judge(runs: list, assignment, answered: bool) -> tuple[str, str]:
    """``(status, reason)`` of a submission from its notebooks' :class:`Run` s (with the file
    name before each when there are several): malformed, crashed, timed out, answers removed,
    unanswered or graded, the first that applies; the reason lists every problem found and
    names its cell."""
    found, reasons = set(), []
    expected = set(exercise_ids(assignment)) if assignment else set()
    checked = set()
    for name, run in runs:
        pre = f"{name}: " if len(runs) > 1 else ""
        checked |= set(run.ids) | {i for i, _ in run.checks} | set(run.answers or {})
        stopped = {s["cell"] for s in run.stops if s["kind"] == "total-timeout"}
        for stop in run.stops:
            if stop["kind"] == "cell-timeout" and stop["cell"] in stopped:
                continue     # the same cell ran on to the notebook's limit: said once, below
            where, kind = f"cell {stop['cell']}" if stop["cell"] else "a cell", stop["kind"]
            if kind == "malformed":
                found.add("malformed")
                reasons.append(pre + (run.reason or "the file cannot be read as a notebook"))
            elif kind == "crash":
                found.add("crashed")
                reasons.append(pre + f"the kernel died in {where} (a crash or os._exit?); answers checked before it count"
                               if stop["cell"] else pre + run.reason)
            elif kind == "cell-timeout":
                found.add("timed out")
                reasons.append(pre + f"{where} ran past the {stop['limit']:g} s limit per cell and was interrupted; "
                               "the cells after it ran")
            else:
                found.add("timed out")
                reasons.append(pre + f"{where} was still running at the {stop['limit']:g} s limit for the whole "
                               "submission, which was stopped there; answers checked before it count"
                               if stop["cell"] else pre + run.reason)
        if not run.stops and run.reason:
            reasons.append(pre + run.reason)
        cells = {}
        for ex_id, cell in run.checks:
            cells.setdefault(ex_id, []).append(cell)
        unknown = sorted(i for i in cells if i not in registry.EXERCISES)
        if unknown:
            reasons.append(pre + "unknown exercise ids: " + ", ".join(f"{i} ({_cells(cells[i])})" for i in unknown[:5]))
    shipped = assignments().get(assignment) if assignment else None
    missing = [i for i in exercise_ids(assignment) if i not in checked] if assignment else []
    if missing:
        where = {i: f" (cell {shipped.cells[i]} as shipped)" if shipped and i in shipped.cells else "" for i in missing}
        reasons.append("answer cells removed: no check(...) call for " + ", ".join(i + where[i] for i in missing))
    elif not assignment and not found:
        reasons.append("answer cells removed: no check(...) call of any exercise of the course")
    for status in ("malformed", "crashed", "timed out"):
        if status in found:
            return status, "; ".join(reasons)
    if answered:
        return "graded", "; ".join(reasons)
    if missing or not assignment:
        return "answers removed", "; ".join(reasons)
    return "unanswered", "; ".join(reasons + [f"returned as shipped: none of the {len(expected)} answers was filled in"])


def budget_left(deadline: float) -> float | None:
    """Seconds the next notebook of an entry may run until the entry's ``deadline``
    (``time.monotonic``), or ``None`` when too little is left to start one."""
    left = deadline - time.monotonic()
    return left if left >= MIN_RUN_SECONDS else None


def grade_submission(paths, cell_timeout: float = 60, total_timeout: float = 600, sandbox: bool = True,
                     execute=None, secret: int | None = None) -> dict:
    """Execute (jailed) and grade one submission (one or more notebooks) against its
    assignment; a plain row (:func:`make_row`, with the answers' fingerprints under
    ``"similar"``: :func:`.similarity.fingerprint`), never raises. ``total_timeout`` is the time
    budget of the whole submission: each notebook runs in what its predecessors left of it,
    and the notebooks after it is used up are not run. ``execute(path, cell_timeout,
    seconds left, sandbox)`` gives each notebook's :class:`Run`, or ``None`` when it was not
    run (default :func:`execute_submission`; :mod:`.cluster` passes the runs its workers reported).
    ``secret``: the seed of the run's secret sample points (:func:`.kinds.secret_points`)."""
    execute = execute or execute_submission
    t0 = time.perf_counter()
    deadline = time.monotonic() + total_timeout
    if isinstance(paths, (str, Path)):
        paths = [paths]
    try:
        runs, notes, answers, kinds, not_run = [], [], {}, set(), []
        for path in paths:
            name = display(Path(path).name)
            left = budget_left(deadline)
            run = execute(Path(path), cell_timeout, left, sandbox) if left is not None else None
            if run is None:
                not_run.append(name)
                continue
            for stop in run.stops:   # the runner was given what was left: the limit is the submission's
                if stop["kind"] == "total-timeout":
                    stop["limit"] = total_timeout
            runs.append((name, run))
            notes += [(f"{name}: " if len(paths) > 1 else "") + n for n in run.notes]
            answers.update(run.answers or {})
            # by the check calls in the file; by the answers only when it has none (forged answers decide nothing)
            kinds.add(recognise((set(run.ids) | {i for i, _ in run.checks}) or set(run.answers or {})))
        if not_run:
            runs.append((", ".join(not_run[:5]) + (f" and {len(not_run) - 5} more" if len(not_run) > 5 else ""),
                         Run(None, reason=f"not run: the time budget of {total_timeout:g} s for the whole submission "
                             "was used up by the notebooks before", stops=[{"kind": "total-timeout", "cell": None,
                                                                             "limit": total_timeout}])))
        kinds.discard(None)
        assignment = kinds.pop() if len(kinds) == 1 else (COURSE if kinds else None)
        with secret_points(secret):
            results, more = grade_answers(answers, exercise_ids(assignment) if assignment else [])
        other = sorted(i for i in answers if i in registry.EXERCISES and i not in results)
        if other:
            more.append("answers to exercises of other assignments not counted here: " + ", ".join(other[:10]))
        answered = any(r.answered for r in results.values())
        status, reason = judge(runs, assignment, answered)
        row = make_row(status, reason, assignment, results, notes + more)
        row["similar"] = similarity.fingerprint(answers, row, (runner.read_capped(str(p), similarity.MAX_SOURCE)
                                                               for p in paths))
    except Exception as exc:  # never stop the batch
        row = make_row("error", f"grader error: {type(exc).__name__}: {str(exc)[:200]}")
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


# --------------------------------------------------------------------------- the batch

def _total(row: dict, ids) -> tuple[float, int]:
    return sum(row["scores"].get(i, 0.0) for i in ids), len(ids)


def _csv_text(rows: list[tuple[str, dict]], ids=None) -> str:
    """A gradebook: one row per entry, a column per exercise of ``ids`` (each row's own
    assignment decides total and maximum when ``ids`` is ``None``: the overview of a mixed folder)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", "assignment", "status"] + list(ids or []) + ["total", "max", "percent", "reason"])
    for name, row in rows:
        mine = ids if ids is not None else (exercise_ids(row.get("assignment")) if row.get("assignment") else [])
        total, top = _total(row, mine)
        w.writerow([_cell(display(name)), row.get("assignment") or "", row["status"]]
                   + [f"{row['scores'].get(i, 0.0):.3f}" for i in ids or []]
                   + [f"{total:.3f}", top, f"{100 * total / top:.1f}" if top else "", _cell(row["reason"])])
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
        books[out_csv.with_name(f"{out_csv.stem}_{a}{out_csv.suffix}")] = (a, [(n, r) for n, r in rows
                                                                               if r.get("assignment") == a])
    return books


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in learner-controlled text (file names, reasons)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _feedback_text(name: str, row: dict) -> str:
    total, top = sum(row["scores"].values()), len(row["scores"])
    title = assignments()[row["assignment"]].title if row.get("assignment") else "no assignment recognised"
    lines = [f"# Feedback for {display(name)}", "", f"Assignment: {title}", "",
             f"Score: {total:.2f} / {top}" + (f" ({100 * total / top:.0f} %)" if top else ""), "",
             f"Status: {row['status']}", ""]
    if row["reason"]:
        lines += [f"**Problem:** {row['reason']}", ""]
    for note in row["notes"]:
        lines.append(f"- note: {note}")
    for ex_id in row["scores"]:
        ex, fb = registry.EXERCISES[ex_id], row["feedback"].get(ex_id)
        if fb is None:
            lines += [f"## {ex_id} — 0 %", "not graded", ""]
            continue
        lines += [f"## {ex_id} — {fb['status']}, {fb['score']:.0%}", "", ex.task, "", fb["message"]]
        lines += [f"- {d}" for d in fb["details"]] + [""]
    return "\n".join(lines) + "\n"


def grade_folder(folder, out_csv, workers: int = 2, cell_timeout: float = 60, total_timeout: float = 600,
                 log=print, sandbox: bool = True, roster=None, scheduler: str | None = None) -> list[tuple[str, dict]]:
    """Grade every entry of ``folder``; write the gradebooks (:func:`gradebooks`), the state
    file, feedback files, the class report (``<stem>_report.html`` and ``.csv``) and, with a
    ``roster`` (:func:`.report.read_roster`), the gradebooks for Canvas and Moodle.

    Each notebook runs in the jail of :mod:`.jail`; with ``sandbox=True`` and no working
    bubblewrap this raises ``RuntimeError`` (``sandbox=False``: trusted submissions only).
    With ``scheduler`` (``tcp://HOST:PORT``) the notebooks run on that dask cluster's workers
    instead of a local pool of ``workers`` processes (:mod:`.cluster`; ``RuntimeError`` when
    it cannot be reached); grading, gradebooks, feedback and resume state stay here.
    """
    if sandbox and not jail.available():
        raise RuntimeError(jail.why_unavailable())
    client = None
    if scheduler:   # the other dispatch; only here is dask imported
        from . import cluster
        client = cluster.connect(scheduler)
    folder, out_csv = Path(folder), Path(out_csv)
    state_path = out_csv.with_name(out_csv.name + ".state.json")
    fb_dir = out_csv.with_name(out_csv.stem + "_feedback")
    try:
        state = json.loads(state_path.read_text())
        if not isinstance(state, dict):
            state = {}
    except (OSError, ValueError):
        state = {}
    # The seed of the secret sample points, drawn once per gradebook and kept with its state
    # (the instructor's file, never shown to learners), so that a resumed run draws the same points.
    if not (isinstance(state.get(SECRET_KEY), str) and re.fullmatch(r"[0-9a-f]{32}", state[SECRET_KEY])):
        state = {SECRET_KEY: secrets.token_hex(16)}   # a new seed: nothing graded before counts
    secret = int(state[SECRET_KEY], 16)
    from .report import outputs
    units = find_submissions(folder, exclude=[out_csv, state_path, fb_dir] + outputs(out_csv))
    fixed, hashes = {}, {}
    for u in units:
        if not u.problem:
            try:
                hashes[u.name] = content_hash(u.paths)
            except ValueError as exc:   # changed under our feet into a link, a pipe, ...
                u.problem, u.status = str(exc), "error"
        if u.problem:
            fixed[u.name] = make_row(u.status, u.problem, notes=u.notes)
    names = [u.name for u in units]
    todo = [u for u in units if u.name in hashes and state.get(u.name, {}).get("hash") != hashes[u.name]]
    done_before = len(hashes) - len(todo)
    log(f"{len(hashes)} submissions in {folder}: {done_before} already graded and unchanged, {len(todo)} to grade "
        f"with {workers} workers" + (f"; {len(fixed)} entries not graded (see their reason)" if fixed else "")
        + ("" if sandbox else "; NO SANDBOX (trusted submissions only)"))
    log(jail.budget_status(jail.Limits(**JAIL_LIMITS)))
    for name, row in fixed.items():
        log(f"skipped {display(name)}: {row['reason']}")

    def write_all(final=False):
        rows = [(n, fixed[n]) if n in fixed else (n, state[n]["row"]) for n in names
                if n in fixed or (n in state and state[n].get("hash") == hashes[n])]
        for path, (a, mine) in gradebooks(rows, out_csv).items():
            atomic_write(path, _csv_text(mine, exercise_ids(a) if a else None))
        if final:
            from . import report
            for path in report.write_all(rows, out_csv, roster, log=log):
                log(f"wrote {path}")
        return rows

    def finish(unit, row, k):
        row["notes"] = unit.notes + row["notes"]
        try:
            text = _feedback_text(unit.name, row)
        except (ValueError, KeyError, TypeError) as exc:   # no feedback of it: the unit still gets a row
            row = make_row("error", f"the grader could not write this submission's feedback ({type(exc).__name__})",
                           notes=row["notes"])
            text = _feedback_text(unit.name, row)
        state[unit.name] = {"hash": hashes[unit.name], "row": row}
        atomic_write(fb_dir / feedback_name(unit.name), text)
        write_all()
        # The state file last: what it lists as graded is in the gradebooks (a run killed before
        # this line grades the submission again on resume).
        atomic_write(state_path, json.dumps(state))
        pct = 100 * sum(row["scores"].values()) / max(1, len(row["scores"]))
        log(f"[{done_before + k}/{len(hashes)}] {display(unit.name)}: {pct:.0f} %  ({row['seconds']:.1f} s)"
            + (f"  — {row['reason']}" if row["reason"] else ""))

    def submit(pool, unit):
        return pool.submit(grade_submission, [str(q) for q in unit.paths], cell_timeout, total_timeout, sandbox,
                           None, secret)

    def budget(unit) -> float:   # the entry's time budget, its last jail's margin and reaping, then the grading
        return total_timeout + STARTUP_MARGIN + jail.REAP_GRACE + cgroups.EMPTY_GRACE + GRADING_BUDGET

    k = 0
    pending = [] if client else list(todo)
    if client:
        with client:
            for unit, row in cluster.grade_units(client, todo, cell_timeout, total_timeout, sandbox, log, secret):
                k += 1
                finish(unit, row, k)
    while pending:
        broken, stuck = [], []
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {submit(pool, u): u for u in pending}
            limit = sum(budget(u) for u in pending) / min(workers, len(pending)) + ROUND_SLACK
            try:
                for fut in cf.as_completed(list(futures), timeout=limit):
                    unit = futures.pop(fut)
                    try:
                        row = fut.result()
                    except Exception:  # a worker died (the grader's own fault: nothing learner-run lives there)
                        broken.append(unit)
                        continue
                    k += 1
                    finish(unit, row, k)
            except cf.TimeoutError:   # past every deadline: a worker is stuck in the grader's own work
                stuck = list(futures.values())
                _stop_workers(pool)
        everyone = len(broken) == len(pending)
        for unit in stuck + (broken if everyone else []):
            k += 1   # grade each alone; if it still breaks or blocks the worker, that is its row
            finish(unit, _grade_alone(submit, unit, budget(unit)), k)
        pending = [] if everyone else broken
    rows = write_all(final=True)
    log(f"wrote {out_csv} ({len(rows)} rows) and feedback in {fb_dir}")
    return rows


def _stop_workers(pool) -> None:
    """Kill the pool's worker processes (its futures then fail with BrokenProcessPool)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except Exception:
            pass


def _grade_alone(submit, unit: Unit, seconds: float) -> dict:
    with cf.ProcessPoolExecutor(max_workers=1) as pool:
        fut = submit(pool, unit)
        try:
            return fut.result(timeout=seconds)
        except cf.TimeoutError:
            _stop_workers(pool)
            return make_row("error", f"grading took longer than {seconds:.0f} s and was stopped")
        except Exception as exc:
            return make_row("error", f"the submission broke the grader's worker ({type(exc).__name__})")


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m softmaxbook grade",
                                 description="Grade submitted exercise notebooks into a gradebook CSV. Each "
                                 "notebook runs in a bubblewrap sandbox.")
    ap.add_argument("folder", help="folder of submissions: notebooks (.ipynb or jupytext .md), or one "
                    "sub-folder of notebooks per learner")
    ap.add_argument("-o", "--output", default="grades.csv", help="gradebook CSV (default grades.csv)")
    ap.add_argument("-j", "--workers", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    ap.add_argument("--total-timeout", type=float, default=600, help="seconds per submission: a notebook, or all "
                    "the notebooks of a learner's folder together (default 600)")
    ap.add_argument("--roster", metavar="ROSTER.csv", help="CSV with a 'submission' column (the entry's name in "
                    "the folder) and a 'learner_id' column, optionally 'name', 'sis_user_id', 'sis_login_id', "
                    "'section', 'email': also writes each gradebook for Canvas and Moodle import")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the notebooks on this running dask "
                    "scheduler's workers instead of -j local processes (pip install softmaxbook[cluster]; see README)")
    ap.add_argument("--no-sandbox", action="store_true",
                    help="run notebooks without bubblewrap: for TRUSTED submissions only (a notebook can then "
                    "read and change anything this user can)")
    args = ap.parse_args(argv)
    cgroups.enter_leaf()   # cgroup v2: a grader alone in its group lets the group hold its jails' groups
    for stream in (sys.stdout, sys.stderr):   # the log names learners' files: never fail on what it prints
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if not Path(args.folder).is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    roster = None
    if args.roster:
        from .report import read_roster
        try:
            roster = read_roster(args.roster)
        except ValueError as exc:
            print(f"error: roster {args.roster}: {exc}", file=sys.stderr)
            return 2
    if not args.no_sandbox and not jail.available():
        print(f"error: refusing to run submitted notebooks without a sandbox. {jail.why_unavailable()}\n"
              "Only for submissions you trust: add --no-sandbox.", file=sys.stderr)
        return 2
    try:
        grade_folder(args.folder, args.output, args.workers, args.cell_timeout, args.total_timeout,
                     log=lambda s: print(s, flush=True), sandbox=not args.no_sandbox, roster=roster,
                     scheduler=args.scheduler)
    except RuntimeError as exc:   # the dask scheduler cannot be reached or has no worker
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
