"""The instructor's batch grader: ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.

Graded exercises, all chapters. The orchestration and the command line; each step of one
submission's way from the folder to its row is a module of its own, visited once:

1. :mod:`.submissions`: the folder's entries (a notebook, a learner's folder of notebooks,
   or an entry skipped with its reason), read capped, never following a link;
2. :mod:`.running`: each notebook executed *whole* in a bubblewrap jail (:mod:`.jail`,
   :mod:`.runner`), and the one size-capped JSON document that comes back checked against
   its schema (:mod:`.untrusted`), or the answers ``check`` journalled;
3. :mod:`.grading`: every answer graded again with the hidden tests, in the trusted process
   that ran the submission (outside its jail), against the assignment the submission is
   recognised as (:mod:`.assignments`, from the answer key), with its status and a reason
   naming the cell;
4. :mod:`.gradebook`: the row, the gradebook CSV files and the feedback, named in one place
   (:class:`.gradebook.Outputs`); then the class report and the LMS files (:mod:`.report`).

The gradebooks are written atomically after every submission, with a state file of content
hashes so that an interrupted run resumes where it stopped and unchanged submissions are not
re-run. ``workers`` processes of a local pool run and grade in parallel; with a dask scheduler
its workers run and grade instead (:mod:`.cluster`) and this process only checks the rows they
return and writes them. Without bubblewrap the grader
refuses to run unless told ``sandbox=False`` (``--no-sandbox``: trusted submissions only).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import re
import secrets
import sys
from pathlib import Path

from . import cgroups, cluster, jail, report
from .assignments import exercise_ids
from .gradebook import Outputs, csv_text, feedback_text, gradebooks, make_row
from .grading import grade_submission
from .learner import atomic_write
from .running import JAIL_LIMITS, STARTUP_MARGIN
from .submissions import Unit, display, find_submissions, read_submission

GRADER_VERSION = "5"
SECRET_KEY = "/secret"               # the state file's entry for the run's secret seed (no file name has a "/")
GRADING_BUDGET = 300.0               # seconds for grading one submission's answers in a worker
ROUND_SLACK = 60.0                   # seconds added to a round of the pool before stuck workers are killed


def content_hash(paths) -> str:
    """Hash of the grader version, the file names (as bytes) and their contents."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    for p in paths:
        h.update(os.fsencode(Path(p).name) + b"\0")
        h.update(hashlib.sha256(read_submission(p)).digest())
    return h.hexdigest()


def grade_folder(folder, out_csv, workers: int = 2, cell_timeout: float = 60, total_timeout: float = 600,
                 log=print, sandbox: bool = True, roster=None, scheduler: str | None = None) -> list[tuple[str, dict]]:
    """Grade every entry of ``folder``; write the gradebooks (:func:`gradebooks`), the state
    file, feedback files, the class report (``<stem>_report.html`` and ``.csv``) and, with a
    ``roster`` (:func:`.report.read_roster`), the gradebooks for Canvas and Moodle.

    Each notebook runs in the jail of :mod:`.jail`; with ``sandbox=True`` and no working
    bubblewrap this raises ``RuntimeError`` (``sandbox=False``: trusted submissions only).
    Each submission is run and graded in one process: one of a local pool of ``workers``
    processes or, with ``scheduler`` (``tcp://HOST:PORT``), a worker of that dask cluster
    (:mod:`.cluster`; ``RuntimeError`` when it cannot be reached), which returns the finished
    row; the rows are checked, and gradebooks, feedback and resume state written, only here.
    """
    if sandbox and not jail.available():
        raise RuntimeError(jail.why_unavailable())
    client = cluster.connect(scheduler) if scheduler else None   # the other dispatch
    folder, out_csv = Path(folder), Path(out_csv)
    files = Outputs(out_csv)
    state_path = files.state
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
    units = find_submissions(folder, exclude=files.every())
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
            atomic_write(path, csv_text(mine, exercise_ids(a) if a else None))
        if final:
            for path in report.write_all(rows, out_csv, roster, log=log):
                log(f"wrote {path}")
        return rows

    def finish(unit, row, k):
        row["notes"] = unit.notes + row["notes"]
        try:
            text = feedback_text(unit.name, row)
        except (ValueError, KeyError, TypeError) as exc:   # no feedback of it: the unit still gets a row
            row = make_row("error", f"the grader could not write this submission's feedback ({type(exc).__name__})",
                           notes=row["notes"])
            text = feedback_text(unit.name, row)
        state[unit.name] = {"hash": hashes[unit.name], "row": row}
        atomic_write(files.feedback(unit.name), text)
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
    log(f"wrote {out_csv} ({len(rows)} rows) and feedback in {files.feedback_dir}")
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
        try:
            roster = report.read_roster(args.roster)
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
