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
3. every answer is graded again *in the grader's process* with stricter hidden tests, so a
   redefined ``check``, a patched package or forged outputs change nothing.

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
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import jail, registry, runner
from .learner import atomic_write

GRADER_VERSION = "2"
SUFFIXES = (".ipynb", ".md")
MAX_NOTEBOOK_BYTES = 32 * 2**20      # a submitted file larger than this is not read
MAX_NOTEBOOKS = 50                   # per learner folder
MAX_WALK = 5_000                     # entries looked at inside one learner folder
MAX_DOCUMENT = 8 * 2**20             # bytes of the jail's report
MAX_NOTEBOOK_OUTPUT = 10 * 2**20     # bytes of cell outputs kept while a notebook runs
STARTUP_MARGIN = 30.0                # seconds the jail gets beyond the notebook's own budget
GRADING_BUDGET = 300.0               # seconds for grading one submission's answers in a worker
ROUND_SLACK = 60.0                   # seconds added to a round of the pool before stuck workers are killed
JAIL_LIMITS = dict(address_space=4 * 2**30, processes=256, file_size=64 * 2**20, scratch_bytes=512 * 2**20)


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
    """A file name as printable text: bytes that are not UTF-8 as ``\\xNN``, control
    characters escaped (so a name cannot start a gradebook cell with a tab or move the cursor)."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


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


# --------------------------------------------------------------------------- one notebook, jailed

def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def execute_submission(path: Path, cell_timeout: float = 60, total_timeout: float = 600, sandbox: bool = True):
    """Run one notebook in the jail; return ``(answers, notes, reason)``.

    ``answers`` maps exercise ids to plain-data answers (or is ``None`` when none could be
    collected; ``reason`` then says why). ``notes`` lists cells that raised.
    """
    try:
        data = read_submission(path)
    except ValueError as exc:
        return None, [], str(exc)
    # Host side: a private folder with the copy (read-only in the jail) and the answer journal
    # (the jail's only writable host file, bounded by the file-size limit). The notebook's
    # working directory is the jail's own in-memory scratch.
    host = Path(tempfile.mkdtemp(prefix="softmaxbook-grade-"))
    try:
        copy = host / ("submission" + Path(path).suffix)
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
        try:
            doc = validate_document(out.stdout)
            return doc["answers"], doc["notes"], doc["reason"]
        except ValueError as exc:
            why = _failure(out, str(exc))
        journalled = _validate_answers(runner.read_answers(str(journal)))
        if journalled:
            return journalled, [], why + "; the answers were collected from the journal"
        return None, [], why
    finally:
        shutil.rmtree(host, ignore_errors=True)


def _failure(out: jail.Outcome, invalid: str) -> str:
    if out.timed_out:
        return "time limit for the whole notebook exceeded (its jail was killed)"
    if out.truncated:
        return f"the notebook's report was larger than {MAX_DOCUMENT} bytes"
    if out.returncode != 0:
        return f"the notebook's run was killed or crashed (exit status {out.returncode})"
    return f"the notebook's report was invalid ({invalid})"


# --------------------------------------------------------------------------- the report's schema

DOC_KEYS = {"format", "answers", "notes", "reason"}
MAX_IDS = 200
MAX_NODES = 200_000
MAX_DEPTH = 16
MAX_STRING = 4 * 2**20


def validate_document(raw: bytes) -> dict:
    """The jail's report as ``{"answers", "notes", "reason"}`` after checking its schema:
    one JSON object with known keys and the expected format, answers keyed by exercise id
    whose values are plain JSON data of bounded size and depth, short notes and reason.
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
            "reason": display(doc["reason"][:300])}


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

def grade_answers(answers: dict) -> tuple[dict, list[str]]:
    """Grade plain-data answers in this process (strict hidden tests); ``({id: Result}, notes)``."""
    results, notes = {}, []
    for ex_id, ex in registry.EXERCISES.items():
        ans = answers.get(ex_id)
        if ans is None:
            results[ex_id] = registry.Result(ex_id, False, 0.0, "no answer was checked for this exercise",
                                             answered=False)
            continue
        try:
            results[ex_id] = ex.grade(ans, live=None, strict=True)
        except Exception as exc:
            results[ex_id] = registry.Result(ex_id, False, 0.0, f"the answer could not be graded ({type(exc).__name__})")
    unknown = sorted(set(answers) - set(registry.EXERCISES))
    if unknown:
        notes.append("unknown exercise ids ignored: " + ", ".join(unknown[:10]))
    return results, notes



def _error_row(reason: str, status: str = "error", notes=()) -> dict:
    return {"scores": {i: 0.0 for i in registry.EXERCISES}, "feedback": {}, "notes": list(notes),
            "status": status, "reason": reason, "seconds": 0.0}


def grade_submission(paths, cell_timeout: float = 60, total_timeout: float = 600, sandbox: bool = True) -> dict:
    """Execute (jailed) and grade one submission (one or more notebooks); a plain row, never raises."""
    t0 = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    try:
        answers, notes, reasons = None, [], []
        for path in paths:
            got, more, reason = execute_submission(Path(path), cell_timeout, total_timeout, sandbox)
            prefix = f"{display(Path(path).name)}: " if len(paths) > 1 else ""
            notes += [prefix + n for n in more]
            if reason:
                reasons.append(prefix + reason)
            if got is not None:
                answers = {**(answers or {}), **got}
        reason = "; ".join(reasons)
        if answers is None:
            row = _error_row(reason, notes=notes)
        else:
            results, more = grade_answers(answers)
            notes += more
            if not any(r.answered for r in results.values()):
                unknown = sorted(set(answers) - set(registry.EXERCISES))
                reason = reason or ("no graded answer found" + (
                    f"; unknown exercise ids: {', '.join(unknown[:5])}" if unknown
                    else " (answer cells missing, or check(...) never called)"))
            row = {"scores": {i: r.score for i, r in results.items()},
                   "feedback": {i: {"status": r.status, "score": r.score, "message": r.message, "details": r.details}
                                for i, r in results.items()},
                   "notes": notes, "reason": reason,
                   "status": "graded" if any(r.answered for r in results.values()) else "error"}
    except Exception as exc:  # never stop the batch
        row = _error_row(f"grader error: {type(exc).__name__}: {str(exc)[:200]}")
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


# --------------------------------------------------------------------------- the batch

def _csv_text(rows: list[tuple[str, dict]]) -> str:
    ids = list(registry.EXERCISES)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", "status"] + ids + ["total", "max", "percent", "reason"])
    for name, row in rows:
        scores = [row["scores"].get(i, 0.0) for i in ids]
        total = sum(scores)
        w.writerow([_cell(display(name)), row["status"]] + [f"{s:.3f}" for s in scores]
                   + [f"{total:.3f}", len(ids), f"{100 * total / len(ids):.1f}", _cell(row["reason"])])
    return buf.getvalue()


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in learner-controlled text (file names, reasons)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _feedback_text(name: str, row: dict) -> str:
    total = sum(row["scores"].values())
    lines = [f"# Feedback for {display(name)}", "", f"Score: {total:.2f} / {len(row['scores'])} "
             f"({100 * total / len(row['scores']):.0f} %)", ""]
    if row["reason"]:
        lines += [f"**Problem:** {row['reason']}", ""]
    for note in row["notes"]:
        lines.append(f"- note: {note}")
    for ex_id, ex in registry.EXERCISES.items():
        fb = row["feedback"].get(ex_id)
        if fb is None:
            lines += [f"## {ex_id} — 0 %", "not graded", ""]
            continue
        lines += [f"## {ex_id} — {fb['status']}, {fb['score']:.0%}", "", ex.task, "", fb["message"]]
        lines += [f"- {d}" for d in fb["details"]] + [""]
    return "\n".join(lines) + "\n"


def grade_folder(folder, out_csv, workers: int = 2, cell_timeout: float = 60, total_timeout: float = 600,
                 log=print, sandbox: bool = True) -> list[tuple[str, dict]]:
    """Grade every entry of ``folder``; write ``out_csv``, its state file and feedback files.

    Each notebook runs in the jail of :mod:`.jail`; with ``sandbox=True`` and no working
    bubblewrap this raises ``RuntimeError`` (``sandbox=False``: trusted submissions only).
    """
    if sandbox and not jail.available():
        raise RuntimeError(jail.why_unavailable())
    folder, out_csv = Path(folder), Path(out_csv)
    state_path = out_csv.with_name(out_csv.name + ".state.json")
    fb_dir = out_csv.with_name(out_csv.stem + "_feedback")
    try:
        state = json.loads(state_path.read_text())
        if not isinstance(state, dict):
            state = {}
    except (OSError, ValueError):
        state = {}
    units = find_submissions(folder, exclude=[out_csv, state_path, fb_dir])
    fixed, hashes = {}, {}
    for u in units:
        if not u.problem:
            try:
                hashes[u.name] = content_hash(u.paths)
            except ValueError as exc:   # changed under our feet into a link, a pipe, ...
                u.problem, u.status = str(exc), "error"
        if u.problem:
            fixed[u.name] = _error_row(u.problem, u.status, u.notes)
    names = [u.name for u in units]
    todo = [u for u in units if u.name in hashes and state.get(u.name, {}).get("hash") != hashes[u.name]]
    done_before = len(hashes) - len(todo)
    log(f"{len(hashes)} submissions in {folder}: {done_before} already graded and unchanged, {len(todo)} to grade "
        f"with {workers} workers" + (f"; {len(fixed)} entries not graded (see their reason)" if fixed else "")
        + ("" if sandbox else "; NO SANDBOX (trusted submissions only)"))
    for name, row in fixed.items():
        log(f"skipped {display(name)}: {row['reason']}")

    def write_all():
        rows = [(n, fixed[n]) if n in fixed else (n, state[n]["row"]) for n in names
                if n in fixed or (n in state and state[n].get("hash") == hashes[n])]
        atomic_write(out_csv, _csv_text(rows))
        return rows

    def finish(unit, row, k):
        row["notes"] = unit.notes + row["notes"]
        state[unit.name] = {"hash": hashes[unit.name], "row": row}
        atomic_write(state_path, json.dumps(state))
        atomic_write(fb_dir / feedback_name(unit.name), _feedback_text(unit.name, row))
        write_all()
        pct = 100 * sum(row["scores"].values()) / max(1, len(row["scores"]))
        log(f"[{done_before + k}/{len(hashes)}] {display(unit.name)}: {pct:.0f} %  ({row['seconds']:.1f} s)"
            + (f"  — {row['reason']}" if row["reason"] else ""))

    def submit(pool, unit):
        return pool.submit(grade_submission, [str(q) for q in unit.paths], cell_timeout, total_timeout, sandbox)

    def budget(unit) -> float:   # every notebook's jail deadline, its reaping, then the grading
        return len(unit.paths) * (total_timeout + STARTUP_MARGIN + jail.REAP_GRACE) + GRADING_BUDGET

    k = 0
    pending = list(todo)
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
    rows = write_all()
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
            return _error_row(f"grading took longer than {seconds:.0f} s and was stopped")
        except Exception as exc:
            return _error_row(f"the submission broke the grader's worker ({type(exc).__name__})")


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
    ap.add_argument("--total-timeout", type=float, default=600, help="seconds per notebook (default 600)")
    ap.add_argument("--no-sandbox", action="store_true",
                    help="run notebooks without bubblewrap: for TRUSTED submissions only (a notebook can then "
                    "read and change anything this user can)")
    args = ap.parse_args(argv)
    if not Path(args.folder).is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    if not args.no_sandbox and not jail.available():
        print(f"error: refusing to run submitted notebooks without a sandbox. {jail.why_unavailable()}\n"
              "Only for submissions you trust: add --no-sandbox.", file=sys.stderr)
        return 2
    grade_folder(args.folder, args.output, args.workers, args.cell_timeout, args.total_timeout,
                 log=lambda s: print(s, flush=True), sandbox=not args.no_sandbox)
    return 0
