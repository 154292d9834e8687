"""The instructor's batch grader: ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.

Graded exercises, all chapters. The orchestration and the command line; each step of one
submission's way from the folder to its row is a module of its own, visited once:

1. :mod:`.submissions`: the folder's entries (a notebook, a learner's folder of notebooks,
   or an entry skipped with its reason), read capped, never following a link;
2. :mod:`.running`: each notebook executed *whole* in a bubblewrap jail (:mod:`.jail`,
   :mod:`.runner`), and the one size-capped JSON document that comes back checked against
   its schema (:mod:`.untrusted`), or the answers ``check`` journalled;
3. :mod:`.grading`: every answer graded again in the grader's process with the hidden tests,
   against the assignment the submission is recognised as (:mod:`.assignments`, from the
   answer key), with its status and a reason naming the cell;
4. :mod:`.gradebook`: the row, the gradebook CSV files and the feedback, named in one place
   (:class:`.gradebook.Outputs`); then the class report and the LMS files (:mod:`.report`).

The gradebooks are written atomically after every submission, with a state file of content
hashes so that an interrupted run resumes where it stopped and unchanged submissions are not
re-run. ``workers`` processes of a local pool run and grade in parallel; with a dask scheduler
the notebooks run on its workers instead (:mod:`.cluster`). Without bubblewrap the grader
refuses to run unless told ``sandbox=False`` (``--no-sandbox``: trusted submissions only).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import signal
import sys
from pathlib import Path

from . import cgroups, cluster, feedback, jail, overrides, report, selftest, state
from .assignments import COURSE, exercise_ids
from .gradebook import Outputs, csv_text, gradebooks, make_row, total
from .grading import grade_submission
from .learner import atomic_write
from .running import JAIL_LIMITS, STARTUP_MARGIN
from .state import GRADER_VERSION, SECRET_KEY, content_hash  # noqa: F401  (public names of the batch)
from .submissions import Unit, display, find_submissions

GRADING_BUDGET = 300.0               # seconds for grading one submission's answers in a worker
ROUND_SLACK = 60.0                   # seconds added to a round of the pool before stuck workers are killed


def grade_folder(folder, out_csv, workers: int = 2, cell_timeout: float = 60, total_timeout: float = 600,
                 log=print, sandbox: bool = True, roster=None, scheduler: str | None = None, overrides_csv=None,
                 regrade: bool = False, self_test: bool = True, feedback_archive: str | None = None) -> list[tuple[str, dict]]:
    """Grade every entry of ``folder``; write the gradebooks (:func:`gradebooks`), the state
    file, feedback files, the change log, the class report (``<stem>_report.html`` and ``.csv``)
    and, with a ``roster`` (:func:`.report.read_roster`), the gradebooks for Canvas and Moodle.

    Each notebook runs in the jail of :mod:`.jail`; with ``sandbox=True`` and no working
    bubblewrap this raises ``RuntimeError`` (``sandbox=False``: trusted submissions only).
    With ``scheduler`` (``tcp://HOST:PORT``) the notebooks run on that dask cluster's workers
    instead of a local pool of ``workers`` processes (:mod:`.cluster`; ``RuntimeError`` when
    it cannot be reached); grading, gradebooks, feedback and resume state stay here.
    First (``self_test``) a solved and a shipped submission made from the key go the same way
    (:mod:`.selftest`; :class:`.selftest.SelfTestFailed` unless they score 100 % and 0).
    Unchanged entries are not run again; after a key change only the exercises whose key entry
    changed are graded again, from the kept answers (:mod:`.state`; ``regrade``: everything).
    ``overrides_csv`` (:mod:`.overrides`; ``ValueError`` naming its bad line) is applied last.
    ``feedback_archive`` (:data:`.feedback.ARCHIVES`): also one zip of feedback pages per gradebook.
    """
    if sandbox and not jail.available():
        raise RuntimeError(jail.why_unavailable())
    folder, out_csv = Path(folder), Path(out_csv)
    files = Outputs(out_csv)
    st = state.load(files.state)
    secret = int(st[SECRET_KEY], 16)
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
    chosen = overrides.read(overrides_csv, names) if overrides_csv else {}
    fps = state.fingerprints()
    client = cluster.connect(scheduler) if scheduler else None   # the other dispatch
    with client or contextlib.nullcontext():
        def graded(batch):
            return _graded(batch, client, workers, cell_timeout, total_timeout, sandbox, secret, log)
        if self_test:
            selftest.run_with(graded, sandbox, scheduler, fps, log)
        todo, keyed = [], {}
        for u in units:
            entry = st.get(u.name)
            if u.name not in hashes:
                continue
            if regrade or not isinstance(entry, dict) or entry.get("hash") != hashes[u.name]:
                todo.append(u)
            else:
                ids = state.affected(entry, fps)
                if ids is None:
                    todo.append(u)
                elif ids:
                    keyed[u.name] = ids
        done_before = len(hashes) - len(todo)
        log(f"{len(hashes)} submissions in {folder}: {done_before - len(keyed)} already graded and unchanged, "
            f"{len(todo)} to grade with {workers} workers" + (" (--regrade: all of them)" if regrade else "")
            + (f"; {len(fixed)} entries not graded (see their reason)" if fixed else "")
            + ("" if sandbox else "; NO SANDBOX (trusted submissions only)"))
        log(jail.budget_status(jail.Limits(**JAIL_LIMITS)))
        for name, row in fixed.items():
            log(f"skipped {display(name)}: {row['reason']}")
        changed = sorted({i for ids in keyed.values() for i in ids})
        if keyed:
            log(f"the answer key changed for {', '.join(changed)}: {len(keyed)} submissions graded again for "
                "these exercises from their kept answers (their notebooks are not run again)")

        def write_all(final=False):
            rows = [(n, fixed[n]) if n in fixed else (n, shown(n)) for n in names
                    if n in fixed or (isinstance(st.get(n), dict) and st[n].get("hash") == hashes[n])]
            for path, (a, mine) in gradebooks(rows, out_csv).items():
                atomic_write(path, csv_text([(n, overrides.in_gradebook(r)) for n, r in mine],
                                            exercise_ids(a) if a else None))
            if final:
                for path in (report.write_all(rows, out_csv, roster, log=log)
                             + feedback.write_all(rows, files, feedback_archive, log)):
                    log(f"wrote {path}")
            return rows

        def shown(name):   # the row as graded, with the overrides applied
            return overrides.apply(name, st[name]["row"], chosen)[0]

        def finish(unit, row, k, why, answers, kept=False):
            row["notes"] = row["notes"] if kept else unit.notes + row["notes"]
            row, problems = overrides.apply(unit.name, row, chosen)
            try:
                feedback.write(files, unit.name, row)
            except (ValueError, KeyError, TypeError) as exc:   # no feedback of it: the unit still gets a row
                row = make_row("error", f"the grader could not write this submission's feedback "
                               f"({type(exc).__name__})", notes=row["notes"])
                feedback.write(files, unit.name, row)
            for p in problems:
                log(p)
            graded_row = {**row, "scores": {**row["scores"], **{i: o["graded"] for i, o in
                                                               row.get("overrides", {}).items()}}}
            graded_row.pop("overrides", None)
            lines = state.record(st, unit.name, hashes[unit.name], graded_row, answers, fps, why)
            st[unit.name]["overrides"] = row.get("overrides", {})
            write_all()
            # The state file last: what it lists as graded is in the gradebooks (a run killed before
            # this line grades the submission again on resume).
            state.save(files.state, st)
            state.append_changes(files.changes, lines)
            points, top = total(row, list(row["scores"]))
            log(f"[{done_before - len(keyed) + k}/{len(hashes)}] {display(unit.name)}: "
                f"{100 * points / max(1, top):.0f} %  ({row['seconds']:.1f} s)"
                + (f"  — {row['reason']}" if row["reason"] else ""))

        k = 0
        for name, ids in keyed.items():
            k += 1
            unit = next(u for u in units if u.name == name)
            finish(unit, state.regrade(st[name], ids, secret), k, "the answer key changed: " + ", ".join(ids),
                   st[name]["answers"], kept=True)
        for unit, row in graded(todo):
            k += 1
            old = st.get(unit.name)
            why = ("forced full regrade (the regrade option)" if regrade else
                   "the grader changed" if isinstance(old, dict) and old.get("hash") and old.get("version")
                   not in (None, GRADER_VERSION) else "resubmitted (its files changed)")
            answers = row.pop("answers", {})
            finish(unit, row, k, why, answers)
    state.append_changes(files.changes, overrides.refresh(st, names, chosen, files))
    state.save(files.state, st)
    rows = write_all(final=True)
    log(f"wrote {out_csv} ({len(rows)} rows) and feedback in {files.feedback_dir}")
    for line in selftest.all_zero(rows):
        log(line)
    return rows


def _ignore_interrupt() -> None:
    """A pool worker's start: Ctrl-C is the main process's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, lambda *_: None)


def _graded(units, client, workers, cell_timeout, total_timeout, sandbox, secret, log):
    """Yield ``(unit, row)`` for every unit, run and graded on the dask cluster ``client`` or a
    local pool of ``workers`` processes; a worker that dies or blocks is retried alone."""
    if client:
        yield from cluster.grade_units(client, units, cell_timeout, total_timeout, sandbox, log, secret)
        return

    def submit(pool, unit):
        return pool.submit(grade_submission, [str(q) for q in unit.paths], cell_timeout, total_timeout, sandbox,
                           None, secret)

    def budget(unit) -> float:   # the entry's time budget, its last jail's margin and reaping, then the grading
        return total_timeout + STARTUP_MARGIN + jail.REAP_GRACE + cgroups.EMPTY_GRACE + GRADING_BUDGET

    pending = list(units)
    while pending:
        broken, stuck = [], []
        pool = cf.ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupt)
        try:
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
                    yield unit, row
            except cf.TimeoutError:   # past every deadline: a worker is stuck in the grader's own work
                stuck = list(futures.values())
                _stop_workers(pool)
        except BaseException:     # Ctrl-C, or the caller stopped: no worker outlives it, nothing waits for one
            _stop_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        everyone = len(broken) == len(pending)
        for unit in stuck + (broken if everyone else []):
            yield unit, _grade_alone(submit, unit, budget(unit))   # if it still breaks or blocks, that is its row
        pending = [] if everyone else broken


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
    ap.add_argument("folder", nargs="?", help="folder of submissions: notebooks (.ipynb or jupytext .md), or one "
                    "sub-folder of notebooks per learner")
    ap.add_argument("-o", "--output", default="grades.csv", help="gradebook CSV (default grades.csv)")
    ap.add_argument("-j", "--workers", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    ap.add_argument("--total-timeout", type=float, default=600, help="seconds per submission: a notebook, or all "
                    "the notebooks of a learner's folder together (default 600)")
    ap.add_argument("--roster", metavar="ROSTER.csv", help="CSV with a 'submission' column (the entry's name in "
                    "the folder) and a 'learner_id' column, optionally 'name', 'sis_user_id', 'sis_login_id', "
                    "'section', 'email': also writes each gradebook for Canvas and Moodle import")
    ap.add_argument("--feedback-archive", choices=feedback.ARCHIVES, help="also write the feedback pages of each "
                    "gradebook as one zip (grades_feedback.zip): 'files' (one page per learner), or 'moodle' (the "
                    "folders Moodle's \"Upload multiple feedback files in a zip\" matches to its participants)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the notebooks on this running dask "
                    "scheduler's workers instead of -j local processes (pip install softmaxbook[cluster]; see README)")
    ap.add_argument("--self-test", action="store_true", help="only grade a solved and a shipped submission made "
                    "from the answer key (every run does it first) and say whether they score 100 %% and 0")
    ap.add_argument("--overrides", metavar="OVERRIDES.csv", help="scores set by hand: CSV with the columns "
                    "submission, exercise, score (points), reason; applied after grading on every run")
    ap.add_argument("--regrade", action="store_true", help="grade every submission again (run its notebooks), "
                    "even those unchanged since the last run; each score that moves goes to <stem>_changes.csv")
    ap.add_argument("--no-sandbox", action="store_true",
                    help="run notebooks without bubblewrap: for TRUSTED submissions only (a notebook can then "
                    "read and change anything this user can)")
    args = ap.parse_args(argv)
    cgroups.enter_leaf()   # cgroup v2: a grader alone in its group lets the group hold its jails' groups
    for stream in (sys.stdout, sys.stderr):   # the log names learners' files: never fail on what it prints
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return _main(args)
    except KeyboardInterrupt:   # the pool's workers are stopped (_graded); what is in the state file stays
        print("stopped; rerun to resume", file=sys.stderr, flush=True)
        return 130


def _main(args) -> int:
    if args.self_test and not args.folder:
        if not args.no_sandbox and not jail.available():
            print(f"error: {jail.why_unavailable()}", file=sys.stderr)
            return 2
        client = cluster.connect(args.scheduler) if args.scheduler else None
        with client or contextlib.nullcontext():
            try:
                selftest.run_with(lambda batch: _graded(batch, client, args.workers, args.cell_timeout,
                                                    args.total_timeout, not args.no_sandbox, None, print),
                              not args.no_sandbox, args.scheduler, log=lambda s: print(s, flush=True))
            except selftest.SelfTestFailed as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        return 0
    if not args.folder or not Path(args.folder).is_dir():
        print(f"error: {args.folder or 'no folder given'} is not a folder", file=sys.stderr)
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
                     scheduler=args.scheduler, overrides_csv=args.overrides, regrade=args.regrade,
                     self_test=True, feedback_archive=args.feedback_archive)
    except selftest.SelfTestFailed as exc:
        print(f"error: {exc}\nNothing was graded.", file=sys.stderr)
        return 1
    except overrides.BadOverrides as exc:   # named with its line
        print(f"error: overrides {args.overrides}: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:   # the dask scheduler cannot be reached or has no worker
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
