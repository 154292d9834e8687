"""Grading one submission (graded exercises, all chapters), in the grader's own process (a
process of the local pool, or a dask worker's: :mod:`.cluster`), outside the jail.

Every answer a notebook's run returned (:mod:`.running`) is graded again here with the hidden
tests ``check`` runs (:func:`grade_answers`, strict: with the secret points and twins of the
gradebook's seed), so a redefined ``check``, a patched package or forged outputs change
nothing. The submission is graded against the one assignment it is recognised as
(:func:`.assignments.recognise`; a learner folder of several assignments is one submission per
assignment: :func:`by_assignment`), and its status and reason are judged from where its runs
stopped (:func:`status_of`). :func:`grade_submission` gives the finished row.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import registry, runner, similarity
from .assignments import COURSE, assignments, checked_ids, exercise_ids, recognise
from .gradebook import Row, make_row
from .kinds import secret_points
from .running import Run, budget_left, execute_submission
from .submissions import Unit, display, read_submission


def by_assignment(unit: Unit) -> list[Unit]:
    """A learner folder with notebooks of several assignments as one unit per assignment,
    named ``<folder>/<assignment>`` (its notebooks of no assignment together as
    ``<folder>/other``), so that each is graded against its own assignment and none is blamed
    for exercises of another; any other unit as it is. Which assignment a notebook is comes from
    the ``check`` calls in its bytes (:func:`.assignments.checked_ids`); after the run, grading
    recognises it again from what ran (:func:`grade_submission`)."""
    if unit.problem or len(unit.paths) < 2:
        return [unit]
    groups: dict = {}
    for path in unit.paths:
        try:
            kind = recognise(checked_ids(read_submission(path)))
        except ValueError:    # unreadable: graded with the notebooks of no assignment, which says why
            kind = None
        groups.setdefault(kind, []).append(path)
    if len(set(groups) - {None}) < 2:
        return [unit]
    return [Unit(f"{unit.name}/{kind or 'other'}", paths, notes=list(unit.notes)) for kind, paths in groups.items()]


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


MALFORMED = "the file is cut off or is not a notebook: please re-download it and resubmit"
MAX_ERRORS_SAID = 3          # cells that raised named in a reason (then how many more)


def _raised(errors, stopped) -> list[str]:
    """``cell N raised Type: message`` for the cells in ``errors`` (:class:`Run`'s), but those
    where the run was stopped (said by the stop), at most :data:`MAX_ERRORS_SAID` and a count."""
    said = [f"cell {e['cell']} raised {e['type']}" + (f": {e['message']}" if e["message"] else "")
            for e in errors if e["cell"] not in stopped]
    more = len(said) - MAX_ERRORS_SAID
    return said[:MAX_ERRORS_SAID] + ([f"{more} more cell{'s' if more > 1 else ''} raised an exception"]
                                     if more > 0 else [])


def _cells(cells) -> str:
    cells = sorted({c for c in cells if c})
    return ("cell " if len(cells) == 1 else "cells ") + ", ".join(map(str, cells)) if cells else "an unknown cell"


def status_of(runs: list, assignment, answered: bool) -> tuple[str, str]:
    """``(status, reason)`` of a submission from its notebooks' :class:`Run` s (with the file
    name before each when there are several): malformed, crashed, timed out, answers removed,
    unanswered or graded, the first that applies; the reason lists every problem found and
    names its cell (a cell that raised: the exception's type and message)."""
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
                reasons.append(pre + MALFORMED + (f" ({run.reason})" if run.reason else ""))
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
        reasons += [pre + r for r in _raised(run.errors, {s["cell"] for s in run.stops})]
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


def grade_submission(paths, cell_timeout: float = 60, total_timeout: float = 600, sandbox: bool = True,
                     execute=None, secret: int | None = None, sources=None) -> Row:
    """Execute (jailed) and grade one submission (one or more notebooks) against its
    assignment; a plain row (:func:`.gradebook.make_row`, with the answers' fingerprints under
    ``"similar"``: :func:`.similarity.fingerprint`), never raises. ``total_timeout`` is the time
    budget of the whole submission: each notebook runs in what its predecessors left of it,
    and the notebooks after it is used up are not run. ``execute(path, cell_timeout,
    seconds left, sandbox)`` gives each notebook's :class:`Run`, or ``None`` when it was not
    run (default :func:`execute_submission`; on a dask worker, :func:`.cluster.grade_task` runs
    the notebooks' bytes it was sent). ``secret``: the seed of the run's secret sample points
    (:func:`.kinds.secret_points`). ``sources``: the notebooks' texts, searched for function
    definitions (:func:`.similarity.fingerprint`; default: read from ``paths``)."""
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
        status, reason = status_of(runs, assignment, answered)
        row = make_row(status, reason, assignment, results, notes + more)
        if sources is None:
            sources = (runner.read_capped(str(p), similarity.MAX_SOURCE) for p in paths)
        row["similar"] = similarity.fingerprint(answers, row, sources)
        row["answers"] = answers   # kept in the resume state: a key change regrades them (:mod:`.state`)
    except Exception as exc:  # never stop the batch
        row = make_row("error", f"grader error: {type(exc).__name__}: {str(exc)[:200]}")
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row
