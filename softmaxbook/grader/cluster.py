"""Batch grading on a dask.distributed cluster: ``python -m softmaxbook grade ... --scheduler tcp://HOST:PORT``.

Graded exercises, all chapters. The other implementation of the batch grader's dispatch
(:func:`.batch.grade_folder`; the local process pool is the default and never imports
``dask``: only the functions here that talk to the scheduler do, :func:`_dask`):

- one task per submission: the instructor's process reads the submission's bytes and sends
  them *with the task* (no shared file system); the worker runs the whole per-submission
  pipeline of :func:`.running.run_notebook` -- every notebook in its own bubblewrap jail, with
  the cell and total timeouts enforced by the jail, never by dask -- and returns one plain
  JSON text, its *task result* (:func:`run_task`);
- the instructor's process checks that text (size cap, schema: :func:`read_task_result`),
  then checks each notebook's document exactly as for a local run (:func:`.running.read_run`)
  and grades the answers against the hidden tests itself (:func:`.grading.grade_submission`); it
  alone writes the gradebook, the feedback and the resume state. No learner code runs in it,
  and nothing a worker sends is unpickled by the grader's own code;
- a worker that dies mid-task (killed, out of memory) makes the scheduler run the task
  again on another worker; after ``distributed.scheduler.allowed-failures`` + 1 deaths
  (the scheduler's setting, 3 by default) dask gives up with ``KilledWorker`` and the
  submission gets a row "worker died N times". The last progress line counts the retries.

Workers need Linux with bubblewrap and this package (``pip install .[cluster]``) in the same
version as the instructor's; they are the instructor's machines (dask itself exchanges
pickles between them and the scheduler), the learners' code runs jailed on them.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import time
import uuid

from . import jail, untrusted
from .gradebook import make_row
from .grading import grade_submission
from .running import MAX_DOCUMENT, budget_left, read_run, run_notebook
from .submissions import display, read_submission

TASK_FORMAT = "softmaxbook-task/1"
CONNECT_TIMEOUT = 30.0        # seconds to reach the scheduler
WORKER_WAIT = 120.0           # seconds to wait for the first worker
TASKS_PER_WORKER = 4          # submissions in flight per worker thread (bytes held by the scheduler)
RUN_KEYS = {"name", "stdout", "returncode", "timed_out", "truncated", "journal"}


# --------------------------------------------------------------------------- on the worker

def run_task(notebooks: list, cell_timeout: float, total_timeout: float, sandbox: bool) -> str:
    """Run on a dask worker: the ``(name, bytes)`` notebooks of one submission, each in its jail,
    in turn until the submission's time budget ``total_timeout`` is used up; one JSON text, the
    task result ``{"format", "seconds", "runs": [...]}`` with each jail's raw document (base64)
    and outcome, and the answers its journal holds. Raises ``RuntimeError`` when the worker
    cannot jail (no bubblewrap) and a sandbox was asked for."""
    if sandbox and not jail.available():
        raise RuntimeError(f"this worker cannot run the sandbox: {jail.why_unavailable()}")
    t0 = time.perf_counter()
    deadline, runs = time.monotonic() + total_timeout, []
    for name, data in notebooks:   # one time budget for the submission: the notebooks after it are not run
        left = budget_left(deadline)
        if left is None:
            break
        run = run_notebook(name, data, cell_timeout, left, sandbox)
        runs.append({**run, "stdout": base64.b64encode(run["stdout"]).decode("ascii")})
    return json.dumps({"format": TASK_FORMAT, "seconds": round(time.perf_counter() - t0, 2), "runs": runs})


# --------------------------------------------------------------------------- in the instructor's process

def max_task_result(count: int) -> int:
    """Characters a worker's task result on ``count`` notebooks may take: each jail's document
    (base64) and its journal's answers, with room for JSON escapes."""
    return count * 4 * MAX_DOCUMENT + 4096


def read_task_result(text, names: list[str]) -> tuple[list[dict], float]:
    """The worker's JSON text as one raw run record per notebook (the shape of
    :func:`.running.run_notebook`) and the worker's seconds, after checking its size, its
    schema and that it answers for ``names`` in order (the first ones only when the time
    budget ran out before the rest). Raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError("not text")
    doc = untrusted.loads(text, max_task_result(len(names)), "task result")
    if not isinstance(doc, dict) or set(doc) != {"format", "seconds", "runs"} or doc["format"] != TASK_FORMAT:
        raise ValueError("not a task result of this grader")
    if type(doc["seconds"]) not in (int, float) or not isinstance(doc["runs"], list):
        raise ValueError("wrong types")
    if len(doc["runs"]) > len(names):   # fewer: the submission's time budget was used up before the rest
        raise ValueError(f"{len(doc['runs'])} notebook records for {len(names)} notebooks")
    runs = []
    for run, name in zip(doc["runs"], names):
        if (not isinstance(run, dict) or set(run) != RUN_KEYS or run["name"] != name
                or not isinstance(run["stdout"], str) or not isinstance(run["journal"], dict)
                or not (run["returncode"] is None or type(run["returncode"]) is int)
                or type(run["timed_out"]) is not bool or type(run["truncated"]) is not bool):
            raise ValueError("a notebook record of the wrong shape")
        try:
            stdout = base64.b64decode(run["stdout"], validate=True)
        except ValueError:
            raise ValueError("a notebook record that is not base64") from None
        runs.append({**run, "stdout": stdout})
    return runs, float(doc["seconds"])


def _dask():
    """The ``distributed`` package, imported on first use (the local pool never needs it)."""
    import distributed
    return distributed


def connect(scheduler: str):
    """A client of the running scheduler at ``scheduler`` with at least one worker; raises
    ``RuntimeError`` saying what is wrong."""
    distributed = _dask()
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise RuntimeError(f"cannot reach the dask scheduler at {scheduler} ({type(exc).__name__}: {exc}); "
                           "start one with `dask scheduler` and workers with `dask worker ADDRESS`") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except (TimeoutError, OSError) as exc:
        client.close()
        raise RuntimeError(f"the dask scheduler at {scheduler} has no worker after {WORKER_WAIT:.0f} s "
                           f"({type(exc).__name__}); start some with `dask worker {scheduler}`") from None
    return client


def _deaths(client, key) -> int:
    """How many workers died while running the task ``key`` (the scheduler's count)."""
    def count(dask_scheduler=None, key=key):   # defined here: sent by value, the scheduler needs no softmaxbook
        ts = dask_scheduler.tasks.get(key)
        return 0 if ts is None else ts.suspicious
    try:
        return int(client.run_on_scheduler(count))
    except Exception:
        return 0


def grade_units(client, units: list, cell_timeout: float, total_timeout: float, sandbox: bool, log=print,
                secret: int | None = None):
    """Yield ``(unit, row)`` for every unit as its task comes back (any order), graded here.

    At most :data:`TASKS_PER_WORKER` tasks per worker thread of the moment (workers may come
    and go) are in flight, so the scheduler never holds every submission's bytes at once. The
    last lines logged count the retries (task runs lost to a dying worker) and the time spent."""
    distributed = _dask()
    queue, inflight, retries, spent = list(units), {}, 0, [0.0, 0.0]   # seconds on the workers, grading here
    log(f"cluster: {len(queue)} tasks for the dask scheduler at {client.scheduler.address} "
        f"({len(client.nthreads())} workers now)")
    done = distributed.as_completed(loop=client.loop)

    def submit():
        window = max(2, TASKS_PER_WORKER * sum(client.nthreads().values()))
        while queue and len(inflight) < window:
            unit = queue.pop(0)
            try:
                notebooks = [(display(p.name), read_submission(p)) for p in unit.paths]
            except ValueError as exc:   # changed into a link, a pipe, a huge file since it was listed
                yield unit, make_row("error", str(exc))
                continue
            fut = client.submit(run_task, notebooks, cell_timeout, total_timeout, sandbox, pure=False,
                                key=f"softmaxbook-grade-{uuid.uuid4().hex}")
            inflight[fut.key] = (unit, notebooks, fut)
            done.add(fut)

    yield from submit()
    try:
        for fut in done:
            unit, notebooks, _ = inflight.pop(fut.key)
            deaths = _deaths(client, fut.key)
            gave_up = fut.status == "error" and isinstance(fut.exception(), distributed.KilledWorker)
            retries += deaths - gave_up   # the last death of a task dask gave up on was not retried
            row, worker_seconds = _row(fut, unit, notebooks, cell_timeout, total_timeout, sandbox, secret)
            spent[0] += worker_seconds
            spent[1] += row["seconds"] - worker_seconds
            fut.release()
            yield unit, row
            yield from submit()
    finally:
        for _, _, fut in inflight.values():
            fut.cancel()
    log(f"cluster: {retries} {'retry' if retries == 1 else 'retries'} of a submission after its worker died")
    log(f"cluster: {spent[0]:.1f} s of tasks on the workers, {spent[1]:.1f} s of checking and grading here")


def _row(fut, unit, notebooks: list, cell_timeout: float, total_timeout: float, sandbox: bool,
         secret: int | None = None) -> tuple[dict, float]:
    """The gradebook row of a finished task (its task result checked, then graded in this process
    by :func:`.grading.grade_submission` with the runs the worker reported) and the seconds the
    task took on its worker."""
    distributed = _dask()
    try:
        text = fut.result()
    except (asyncio.CancelledError, concurrent.futures.CancelledError):   # not a row: rerun to resume
        raise RuntimeError("the dask scheduler cancelled the work (was it stopped, or the connection lost?); "
                           "what was graded is saved: run the same command again to resume") from None
    except distributed.KilledWorker as exc:
        return make_row("error", f"worker died {exc.allowed_failures + 1} times"), 0.0
    except Exception as exc:   # the task raised on the worker (no sandbox there, a grader bug, ...)
        return make_row("error", f"the cluster task failed: {type(exc).__name__}: {str(exc)[:200]}"), 0.0
    try:
        records, seconds = read_task_result(text, [name for name, _ in notebooks])
    except ValueError as exc:
        return make_row("error", f"the worker's task result was invalid ({exc})"), 0.0
    reported = {str(p): (data, rec) for p, (_, data), rec in zip(unit.paths, notebooks, records)}

    def execute(path, _cell_timeout, _left, _sandbox):
        if str(path) not in reported:   # the worker stopped before it: the time budget was used up
            return None
        data, record = reported[str(path)]
        return read_run(record, data, total_timeout)

    row = grade_submission([str(p) for p in unit.paths], cell_timeout, total_timeout, sandbox, execute=execute,
                                 secret=secret)
    row["seconds"] = round(row["seconds"] + seconds, 2)
    return row, seconds
