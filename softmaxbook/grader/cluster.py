"""Batch grading on a dask.distributed cluster: ``python -m softmaxbook grade ... --scheduler tcp://HOST:PORT``.

Graded exercises, all chapters. The other implementation of the batch grader's dispatch
(:func:`.batch.grade_folder`; the local process pool is the default and never imports
``dask``: only the functions here that talk to the scheduler do, :func:`_dask`):

- one task per submission: the instructor's process reads the submission's bytes and sends
  them *with the task* (no shared file system), with the run's secret seed; the worker runs
  and grades the submission as a process of the local pool does (:func:`grade_task`): every
  notebook in its own bubblewrap jail (:func:`.running.run_notebook`, the cell and total
  timeouts enforced by the jail, never by dask), each jail's document checked
  (:func:`.running.read_run`), then every answer graded with the hidden tests in the
  worker's own process, outside the jail (:func:`.grading.grade_submission`); it returns one
  plain JSON text, its *task result*, holding the finished row;
- the instructor's process only checks that text (size cap, the row's schema:
  :func:`read_task_result`, :func:`.gradebook.check_row`; anything else is an error row of
  that entry) and alone writes the gradebook, the feedback and the resume state. No learner
  code and no grading run in it, and nothing a worker sends is unpickled by the grader's own code;
- a worker that dies mid-task (killed, out of memory) makes the scheduler run the task
  again on another worker; after ``distributed.scheduler.allowed-failures`` + 1 deaths
  (the scheduler's setting, 3 by default) dask gives up with ``KilledWorker`` and the
  submission gets a row "worker died N times". The last progress line counts the retries.

Workers need Linux with bubblewrap and this package (``pip install .[cluster]``) in the same
version as the instructor's; they are the instructor's machines (dask itself exchanges
pickles between them and the scheduler; the secret seed travels with each task), the
learners' code runs jailed on them and never sees the worker's process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
import uuid
from pathlib import PurePosixPath

from . import jail, similarity, untrusted
from .gradebook import Row, check_row, make_row
from .grading import grade_submission
from .running import MAX_DOCUMENT, read_run, run_notebook
from .submissions import display, read_submission

TASK_FORMAT = "softmaxbook-task/2"
TASK_KEYS = {"format", "names", "row"}
CONNECT_TIMEOUT = 30.0        # seconds to reach the scheduler
WORKER_WAIT = 120.0           # seconds to wait for the first worker
TASKS_PER_WORKER = 4          # submissions in flight per worker thread (bytes held by the scheduler)


# --------------------------------------------------------------------------- on the worker

def grade_task(notebooks: list, cell_timeout: float, total_timeout: float, sandbox: bool,
               secret: int | None = None) -> str:
    """Run on a dask worker: run and grade one submission, its ``(name, bytes)`` notebooks, as
    a process of the local pool does (:func:`.grading.grade_submission`: each notebook in its
    jail, in turn until the submission's time budget ``total_timeout`` is used up, then every
    answer graded with the hidden tests and the points of the seed ``secret``, here, outside
    the jail). One JSON text, the task result ``{"format", "names", "row"}``. Raises
    ``RuntimeError`` when the worker cannot jail (no bubblewrap) and a sandbox was asked for."""
    if sandbox and not jail.available():
        raise RuntimeError(f"this worker cannot run the sandbox: {jail.why_unavailable()}")

    def execute(path, cell_timeout, left, sandbox):   # the notebook's bytes, not a file: its number leads its path
        name, data = notebooks[int(path.parent.name)]
        return read_run(run_notebook(name, data, cell_timeout, left, sandbox), data, left)

    paths = [PurePosixPath(str(k), name) for k, (name, _) in enumerate(notebooks)]
    sources = [data[:similarity.MAX_SOURCE].decode("utf-8", "replace") for _, data in notebooks]
    row = grade_submission(paths, cell_timeout, total_timeout, sandbox, execute=execute, secret=secret, sources=sources)
    return json.dumps({"format": TASK_FORMAT, "names": [name for name, _ in notebooks], "row": row})


# --------------------------------------------------------------------------- in the instructor's process

def max_task_result(count: int) -> int:
    """Characters a worker's task result on ``count`` notebooks may take: the row (some kB) and
    the answers it keeps, at most each jail's document, with room for JSON escapes."""
    return count * 2 * MAX_DOCUMENT + 2**20


def read_task_result(text, names: list[str]) -> Row:
    """The row in a worker's JSON text, after checking its size (:func:`max_task_result`), that
    it answers for the notebooks ``names`` and the row's schema (:func:`.gradebook.check_row`).
    Raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError("not text")
    doc = untrusted.loads(text, max_task_result(len(names)), "task result")
    if not isinstance(doc, dict) or set(doc) != TASK_KEYS or doc["format"] != TASK_FORMAT:
        raise ValueError("not a task result of this grader")
    if doc["names"] != names:
        raise ValueError("a task result for other notebooks")
    return check_row(doc["row"])


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
    """Yield ``(unit, row)`` for every unit as its task comes back (any order), graded on its
    worker and checked here.

    At most :data:`TASKS_PER_WORKER` tasks per worker thread of the moment (workers may come
    and go) are in flight, so the scheduler never holds every submission's bytes at once. The
    last lines logged count the retries (task runs lost to a dying worker) and the time spent:
    on the workers, here receiving and checking each row, and in the caller with it (writing it)."""
    distributed = _dask()
    queue, inflight, retries = list(units), {}, 0
    spent = {"workers": 0.0, "receiving": 0.0, "writing": 0.0}
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
            fut = client.submit(grade_task, notebooks, cell_timeout, total_timeout, sandbox, secret, pure=False,
                                key=f"softmaxbook-grade-{uuid.uuid4().hex}")
            inflight[fut.key] = (unit, [name for name, _ in notebooks], fut)
            done.add(fut)

    yield from submit()
    try:
        for fut in done:
            t0 = time.perf_counter()
            unit, names, _ = inflight.pop(fut.key)
            deaths = _deaths(client, fut.key)
            gave_up = fut.status == "error" and isinstance(fut.exception(), distributed.KilledWorker)
            retries += deaths - gave_up   # the last death of a task dask gave up on was not retried
            row = finished_row(fut, names)
            fut.release()
            spent["workers"] += row["seconds"]
            t1 = time.perf_counter()
            spent["receiving"] += t1 - t0   # the scheduler's count of deaths, the result, its check
            yield unit, row
            spent["writing"] += time.perf_counter() - t1
            yield from submit()
    finally:
        for _, _, fut in inflight.values():
            fut.cancel()
    log(f"cluster: {retries} {'retry' if retries == 1 else 'retries'} of a submission after its worker died")
    log(f"cluster: {spent['workers']:.1f} s of running and grading on the workers; here {spent['receiving']:.2f} s "
        f"of receiving and checking rows and {spent['writing']:.2f} s of writing them")


def finished_row(fut, names: list[str]) -> Row:
    """The gradebook row of a finished task: the row its worker graded, once
    :func:`read_task_result` has checked it; an error row saying why when there is none."""
    distributed = _dask()
    try:
        text = fut.result()
    except (asyncio.CancelledError, concurrent.futures.CancelledError):   # not a row: rerun to resume
        raise RuntimeError("the dask scheduler cancelled the work (was it stopped, or the connection lost?); "
                           "what was graded is saved: run the same command again to resume") from None
    except distributed.KilledWorker as exc:
        return make_row("error", f"worker died {exc.allowed_failures + 1} times")
    except Exception as exc:   # the task raised on the worker (no sandbox there, a grader bug, ...)
        return make_row("error", f"the cluster task failed: {type(exc).__name__}: {str(exc)[:200]}")
    try:
        return read_task_result(text, names)
    except ValueError as exc:
        return make_row("error", f"the worker's task result was invalid ({exc})")
