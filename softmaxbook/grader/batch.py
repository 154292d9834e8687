"""The instructor's batch grader (its command line: :mod:`.command`).

Graded exercises, all chapters. The orchestration; each step of one submission's way from the
folder to its row is a module of its own, visited once:

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

The gradebooks are written atomically at most every :data:`FLUSH_EVERY` seconds and at the
end (also after Ctrl-C), the state file of content hashes after them, so that an interrupted
run resumes where it stopped (a killed one grades the rows since the last write again) and
unchanged submissions are not re-run. ``workers`` processes of a local pool run and grade in parallel; with a dask scheduler
its workers run and grade instead (:mod:`.cluster`) and this process only checks the rows they
return and writes them. Without bubblewrap the grader
refuses to run unless told ``sandbox=False`` (``--no-sandbox``: trusted submissions only).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import signal
import time
from pathlib import Path

from . import cgroups, cluster, feedback, jail, lms, overrides, report, selftest, state
from .assignments import exercise_ids
from .gradebook import Outputs, csv_text, gradebooks, make_row, total
from .grading import by_assignment, grade_submission
from .learner import atomic_write
from .running import JAIL_LIMITS, STARTUP_MARGIN
from .state import GRADER_VERSION, SECRET_KEY, content_hash  # noqa: F401  (public names of the batch)
from .submissions import Unit, display, find_submissions

GRADING_BUDGET = 300.0               # seconds for grading one submission's answers in a worker
FLUSH_EVERY = 2.0                    # seconds between rewrites of the gradebooks and state file (and at the end)
ROUND_SLACK = 60.0                   # seconds added to a round of the pool before stuck workers are killed


def grade_folder(folder, out_csv, workers: int = 2, cell_timeout: float = 60, total_timeout: float = 600,
                 log=print, sandbox: bool = True, roster=None, scheduler: str | None = None, overrides_csv=None,
                 regrade: bool = False, self_test: bool = True, feedback_archive: str | None = None,
                 due=None, late_policy=None) -> list[tuple[str, dict]]:
    """Grade every entry of ``folder`` (a learner folder of several assignments as one entry
    per assignment: :func:`.grading.by_assignment`); write the gradebooks (:func:`gradebooks`),
    the state file, feedback files, the change log, the class report (``<stem>_report.html``
    and ``.csv``) and, when learners are known (a ``roster``: :func:`.lms.read_roster`, or
    Canvas file names), the gradebooks for Canvas and Moodle (:class:`.lms.Conflict` when a
    learner has two disagreeing entries, raised after everything else is written). ``due`` (an
    aware ``datetime``) and ``late_policy`` (:func:`.late.parse_policy`) set each row's
    ``late`` penalty (:func:`.lms.annotate`), on every run.

    Each notebook runs in the jail of :mod:`.jail`; with ``sandbox=True`` and no working
    bubblewrap this raises ``RuntimeError`` (``sandbox=False``: trusted submissions only).
    Each submission is run and graded in one process: one of a local pool of ``workers``
    processes or, with ``scheduler`` (``tcp://HOST:PORT``), a worker of that dask cluster
    (:mod:`.cluster`; ``RuntimeError`` when it cannot be reached), which returns the finished
    row; the rows are checked, and gradebooks, feedback and resume state written, only here.
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
    units = [part for unit in find_submissions(folder, exclude=files.every()) for part in by_assignment(unit)]
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
    warnings = {}

    def annotated(name, row) -> bool:   # the row's learner and lateness for this run's roster and --due
        before = [row.get(f) for f in lms.ANNOTATED]
        warnings.pop(name, None)
        note = lms.annotate(name, row, roster, due, late_policy)
        if note:
            warnings[name] = note
        return before != [row.get(f) for f in lms.ANNOTATED]

    def shown(name):   # the row as graded, with the overrides applied
        return overrides.apply(name, st[name]["row"], chosen)[0]

    fps = state.fingerprints()
    client = cluster.connect(scheduler) if scheduler else None   # the other dispatch
    with client or contextlib.nullcontext():
        def graded(batch):
            return run_and_grade(batch, client, workers, cell_timeout, total_timeout, sandbox, secret, log)
        if self_test:
            selftest.run_with(graded, sandbox, scheduler, fps, log, (cell_timeout, total_timeout))
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
            annotated(name, row)
        waiting = {u.name for u in todo}
        for name in hashes:   # graded before: a changed roster or --due rewrites the feedback
            if name not in waiting and name in st and annotated(name, st[name]["row"]):
                feedback.write(files, name, shown(name))
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

        pending, flushed = [], [0.0]   # change-log lines not yet written; when the files were last written

        def flush():
            write_all()
            # The state file last: what it lists as graded is in the gradebooks (a run killed before
            # this line grades the rows since the last flush again on resume).
            state.save(files.state, st)
            state.append_changes(files.changes, pending)
            pending.clear()
            flushed[0] = time.monotonic()

        def finish(unit, row, k, why, answers, kept=False):
            row["notes"] = row["notes"] if kept else unit.notes + row["notes"]
            annotated(unit.name, row)
            shown_row, problems = overrides.apply(unit.name, row, chosen)   # row: as graded, kept in the state
            try:
                feedback.write(files, unit.name, shown_row)
            except (ValueError, KeyError, TypeError) as exc:   # no feedback of it: the unit still gets a row
                row = shown_row = make_row("error", f"the grader could not write this submission's feedback "
                                           f"({type(exc).__name__})", notes=row["notes"])
                feedback.write(files, unit.name, row)
            for p in problems:
                log(p)
            pending.extend(state.record(st, unit.name, hashes[unit.name], row, answers, fps, why))
            st[unit.name]["overrides"] = shown_row.get("overrides", {})
            if time.monotonic() - flushed[0] >= FLUSH_EVERY:
                flush()
            points, top = total(shown_row, list(shown_row["scores"]))
            log(f"[{done_before - len(keyed) + k}/{len(hashes)}] {display(unit.name)}: "
                f"{100 * points / max(1, top):.0f} %  ({row['seconds']:.1f} s)"
                + (f"  — {row['reason']}" if row["reason"] else ""))

        k, by_name = 0, {u.name: u for u in units}
        try:
            for name, ids in keyed.items():
                k += 1
                finish(by_name[name], state.regrade(st[name], ids, secret), k,
                       "the answer key changed: " + ", ".join(ids), st[name]["answers"], kept=True)
            for unit, row in graded(todo):
                k += 1
                old = st.get(unit.name)
                why = ("forced full regrade (the regrade option)" if regrade else
                       "the grader changed" if isinstance(old, dict) and old.get("hash") and old.get("version")
                       not in (None, GRADER_VERSION) else "resubmitted (its files changed)")
                answers = row.pop("answers", {})
                finish(unit, row, k, why, answers)
        finally:   # also on Ctrl-C: what was graded is written, the rest is graded on resume
            flush()
    state.append_changes(files.changes, overrides.refresh(st, names, chosen, files))
    state.save(files.state, st)
    rows = write_all(final=True)
    log(f"wrote {out_csv} ({len(rows)} rows) and feedback in {files.feedback_dir}")
    for note in dict.fromkeys(warnings.values()):
        these = [display(n) for n, w in warnings.items() if w == note]
        log(f"warning: {note}: {', '.join(these[:10])}" + (f" and {len(these) - 10} more" if len(these) > 10 else ""))
    for line in selftest.all_zero(rows):
        log(line)
    return rows


def _ignore_interrupt() -> None:
    """A pool worker's start: Ctrl-C is the main process's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, lambda *_: None)


def run_and_grade(units, client, workers, cell_timeout, total_timeout, sandbox, secret, log):
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
