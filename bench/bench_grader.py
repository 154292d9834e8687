"""Benchmark of the grader (graded exercises): prints measured figures, asserts nothing.

1. Learner-side ``check`` time per exercise, p50/p95 over repeated checks of the right
   and the known wrong answers of the fixtures (goal: p95 <= 0.3 s for every kind), with what
   dominates; function answers both in the session's warm jail and in a fresh jail per check
   (``SOFTMAXBOOK_FRESH_JAIL=1``, as before), alternating A B B A in the same run.
2. Batch grading of 50 generated submissions (each exercise answered right or wrong at
   random, seeded) against plain nbclient execution of the same notebooks, both with
   2 worker processes, in the same run, in the order A B B A (goal: ratio <= 1.3). The
   batch runs every notebook in its bubblewrap jail (it refuses to run without one), so
   the ratio includes the sandbox: a fresh executor per notebook and jailed function runs.
3. The same batch through the local pool (``-j 2``) and through a local dask cluster of two
   single-thread workers, each its own process, on 127.0.0.1 (``--scheduler``), in the order
   A B B A (goal: cluster / pool <= 1.15); each submission is run and graded on a worker.
   From the measured seconds per submission (on a worker; receiving, checking and writing the
   row in the instructor's process), the paper estimate for 10^4 submissions on 8 and 64 workers.
4. Ctrl-C: the grading command (``python -m softmaxbook grade``, 2 workers) interrupted by a
   SIGINT to its process group once its first rows are written; seconds until it exits, its
   stderr (goal: within 2 s, one line, no traceback).

Run:  .venv/bin/python bench/bench_grader.py [--repeats 20] [--submissions 50] [--only checks|batch|cluster|interrupt]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
sys.path.insert(0, str(ROOT / "tests"))
import submissions  # noqa: E402

from softmaxbook.grader import EXERCISES, check  # noqa: E402
from softmaxbook.grader import jail, warm  # noqa: E402
from softmaxbook.grader.assignments import exercise_ids  # noqa: E402
from softmaxbook.grader.batch import FLUSH_EVERY, grade_folder  # noqa: E402
from softmaxbook.grader.gradebook import check_row, csv_text, gradebooks  # noqa: E402
from softmaxbook.grader.learner import atomic_write  # noqa: E402

CELL = re.compile(r"```\{code-cell\} ipython3\n(.*?)\n```", re.S)


def live_answers(answers: dict[str, str]) -> dict[str, object]:
    """Run each notebook's setup cells and answer cells with a ``check`` that only records."""
    got = {}
    for nb in submissions.NOTEBOOKS:
        text = submissions.render(nb.read_text(), answers)
        ns = {"__name__": "__main__"}   # as in a notebook: functions of __main__, pickled by value
        for src in CELL.findall(text):
            if "progress()" in src:
                continue
            exec(compile(src, nb.name, "exec"), ns)  # our own fixture code
            ns["check"] = lambda ex_id, ans: got.__setitem__(ex_id, ans)
    return got


class JailClock:
    """Seconds spent in the function jails during a check: a fresh jail's whole run
    (``jail.run``: start, numpy import, cases) or the warm jail's round trip (``WarmJail.request``:
    fork, unpickling, cases, killing the rest) and its start (``WarmJail.__init__``)."""

    def __init__(self):
        self.run = self.start = 0.0
        for owner, name, field in ((jail, "run", "run"), (warm.WarmJail, "request", "run"),
                                   (warm.WarmJail, "__init__", "start")):
            setattr(owner, name, self._timed(getattr(owner, name), field))

    def _timed(self, fn, field):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, field, getattr(self, field) + time.perf_counter() - t)
        return timed


def _timed_check(ex_id, ans, clock: JailClock, fresh: bool) -> tuple[float, float, float, bool]:
    """``(seconds, of which in a jail's run, of which starting a warm jail, passed)``."""
    os.environ.pop(warm.FRESH_ENV, None)
    if fresh:
        os.environ[warm.FRESH_ENV] = "1"
    before = (clock.run, clock.start)
    t = time.perf_counter()
    r = check(ex_id, ans)
    seconds = time.perf_counter() - t
    os.environ.pop(warm.FRESH_ENV, None)
    return seconds, clock.run - before[0], clock.start - before[1], r.passed


def bench_checks(repeats: int) -> None:
    right, wrong = live_answers(submissions.SOLVED), live_answers(submissions.WRONG)
    clock = JailClock()
    print(f"Learner-side check time over {repeats} checks per exercise (right and known wrong answers alternating);"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    functions = [ex_id for ex_id, ex in EXERCISES.items() if ex.kind == "function"]
    warm.close()
    first = _timed_check(functions[0], right[functions[0]], clock, False)
    print(f"first function check of a session ({functions[0]}): {first[0]:.3f} s, of which {first[2]:.3f} s "
          "starting the warm jail (once per kernel; not in the figures below)")
    modes = {"symbolic": ["in-process"], "numeric": ["in-process"], "choice": ["in-process"],
             "function": ["warm jail", "fresh jail"]}
    stats = {}   # (exercise, mode) -> list of (seconds, jail seconds)
    for k in range(repeats):
        for ex_id, ex in EXERCISES.items():
            ans = right[ex_id] if k % 2 == 0 else wrong[ex_id]
            order = modes[ex.kind] if k % 4 < 2 else modes[ex.kind][::-1]     # A B B A
            for mode in order:
                seconds, in_jail, started, passed = _timed_check(ex_id, ans, clock, mode == "fresh jail")
                assert passed == (k % 2 == 0), (ex_id, mode)
                stats.setdefault((ex_id, mode), []).append((seconds, in_jail, started))
    print(f"{'exercise':<22} {'kind':<9} {'how':<11} {'p50 s':>7} {'p95 s':>7} {'max s':>7}  what dominates (mean)")
    worst = {}
    for (ex_id, mode), rows in stats.items():
        times = [r[0] for r in rows]
        p50, p95 = statistics.median(times), float(np.percentile(times, 95))
        kind = EXERCISES[ex_id].kind
        worst[(kind, mode)] = max(worst.get((kind, mode), 0.0), p95)
        total, jailed, started = (sum(r[i] for r in rows) for i in range(3))
        what = (f"{'jail' if mode == 'fresh jail' else 'round trip'} {100 * (jailed + started) / total:.0f}%, "
                f"the rest here {100 * (total - jailed - started) / total:.0f}%" if kind == "function"
                else "reading and comparing in this process (no jail)")
        print(f"{ex_id:<22} {kind:<9} {mode:<11} {p50:7.3f} {p95:7.3f} {max(times):7.3f}  {what}")
    for (kind, mode), p95 in worst.items():
        print(f"worst p95, {kind} ({mode}): {p95:.3f} s (goal <= 0.3 s)")
    for ex_id in functions:
        w, f = (statistics.median(r[0] for r in stats[(ex_id, m)]) for m in ("warm jail", "fresh jail"))
        print(f"{ex_id}: p50 warm / fresh = {w:.3f} / {f:.3f} s = {w / f:.2f}")
    floor = {m: statistics.median(_timed_check(functions[0], _identity, clock, m == "fresh jail")[0]
                                  for _ in range(5)) for m in ("warm jail", "fresh jail")}
    print(f"a function answer that returns its input (the fixed cost): warm jail {floor['warm jail']:.3f} s "
          f"(fork, unpickling, killing the rest), fresh jail {floor['fresh jail']:.3f} s (bwrap, Python, numpy)")
    print("'round trip': the warm jail's, from sending the request to reading the reply (its cases included); "
          "'jail': a fresh jail's whole run; 'the rest here': pickling the answer, encoding the request, judging")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    warm.close()


def _identity(*args):
    return args[0] if args else None


def generate(folder: Path, count: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for k in range(count):
        nb = submissions.NOTEBOOKS[k % len(submissions.NOTEBOOKS)]
        text = nb.read_text()
        answers = {i: (submissions.SOLVED if rng.random() < 0.6 else submissions.WRONG)[i]
                   for i in submissions.answer_ids(text)}
        path = folder / f"learner{k:02d}_{nb.name}"
        path.write_text(submissions.render(text, answers))
        paths.append(path)
    return paths


def plain_execute(path: str) -> None:
    import jupytext
    from nbclient import NotebookClient
    nb = jupytext.read(path)
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}}).execute()


def bench_batch(count: int) -> None:
    """Plain execution and batch grading, in the order A B B A so that a change in the
    machine's load during the run (it is shared) weighs on both alike."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["SOFTMAXBOOK_PROGRESS"] = str(tmp / "progress.json")
        subs = tmp / "subs"
        subs.mkdir()
        paths = generate(subs, count)

        def plain_run():
            t = time.perf_counter()
            with cf.ProcessPoolExecutor(max_workers=2) as pool:
                list(pool.map(plain_execute, [str(p) for p in paths]))
            return time.perf_counter() - t

        def batch_run(k):
            t = time.perf_counter()
            rows = grade_folder(subs, tmp / f"grades{k}.csv", workers=2, log=lambda s: None)
            return time.perf_counter() - t, rows

        plain1 = plain_run()
        graded1, rows = batch_run(1)
        graded2, _ = batch_run(2)
        plain2 = plain_run()
        t = time.perf_counter()
        grade_folder(subs, tmp / "grades1.csv", workers=2, log=lambda s: None)
        rerun = time.perf_counter() - t
    errors = sum(1 for _, r in rows if r["status"] != "graded")
    plain, graded = plain1 + plain2, graded1 + graded2
    print(f"\nBatch grading of {count} generated submissions, 2 workers each, order A B B A; "
          f"each notebook in a bubblewrap jail (bwrap available: {jail.available()})")
    print(f"plain nbclient execution : {plain1:6.1f} s + {plain2:6.1f} s  ({plain / (2 * count):.2f} s per notebook)")
    print(f"batch grading            : {graded1:6.1f} s + {graded2:6.1f} s  ({graded / (2 * count):.2f} s per notebook), "
          f"{len(rows)} rows, {errors} errors")
    print(f"ratio grading / plain    : {graded / plain:6.2f}   (goal <= 1.3)")
    print(f"re-run, nothing changed  : {rerun:6.2f} s")


def rewrite_seconds(rows: list, n: int, folder: Path) -> float:
    """Seconds the instructor's process takes to write the gradebooks and the state file once
    with ``n`` rows (copies of ``rows``), as :func:`grade_folder` does at most every
    ``batch.FLUSH_EVERY`` seconds (and at the end)."""
    many = [(f"learner{k:05d}.md", rows[k % len(rows)][1]) for k in range(n)]
    t = time.perf_counter()
    for path, (a, mine) in gradebooks(many, folder / "grades.csv").items():
        atomic_write(path, csv_text(mine, exercise_ids(a) if a else None))
    atomic_write(folder / "grades.csv.state.json", json.dumps({name: {"hash": "0" * 64, "row": row}
                                                               for name, row in many}))
    return time.perf_counter() - t


def bench_cluster(count: int) -> None:
    """The local pool (-j 2) and a local 2-worker dask cluster on the same submissions, in
    the order A B B A; each run writes its own gradebook (nothing is resumed). Then the paper
    estimate for 10^4 submissions from what was measured: the workers' seconds per submission
    (running and grading), the instructor's seconds of receiving and checking per row, and its writing."""
    from dask_cluster import local_cluster
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subs = tmp / "subs"
        subs.mkdir()
        generate(subs, count)
        with local_cluster(tmp, 2, cwd=ROOT) as address:
            def run(k, scheduler=None):
                log = []
                t = time.perf_counter()
                rows = grade_folder(subs, tmp / f"run{k}" / "grades.csv", workers=2, log=log.append, scheduler=scheduler)
                return time.perf_counter() - t, rows, log

            for k in range(4):
                (tmp / f"run{k}").mkdir()
            pool1, rows_pool, _ = run(0)
            dask1, rows_dask, log1 = run(1, address)
            dask2, _, log2 = run(2, address)
            pool2, _, _ = run(3)
        rewrite = rewrite_seconds(rows_dask, 10_000, tmp / "run0")
    texts = [json.dumps(row) for _, row in rows_dask]
    t = time.perf_counter()
    for text in texts:
        check_row(json.loads(text))
    check = (time.perf_counter() - t) / len(texts)
    same = [(n, r["scores"], r["status"]) for n, r in rows_pool] == [(n, r["scores"], r["status"]) for n, r in rows_dask]
    pool, dask = pool1 + pool2, dask1 + dask2
    per = dask / (2 * count) * 2   # worker-seconds per submission on the cluster (2 workers), wall clock
    spent = [re.search(r"([0-9.]+) s of running and grading on the workers; here ([0-9.]+) s of receiving and "
                       r"checking rows and ([0-9.]+) s of writing them", line) for line in log1 + log2]
    task, receiving, writing = (sum(float(m.group(g)) for m in spent if m) / (2 * count) for g in (1, 2, 3))
    print(f"\nThe same {count} submissions through the local pool (-j 2) and a local dask cluster of 2 "
          "single-thread workers (separate processes on 127.0.0.1), order A B B A; "
          f"load average (1 min) before: {load:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(f"local pool -j 2          : {pool1:6.1f} s + {pool2:6.1f} s  ({pool / (2 * count):.2f} s per submission)")
    print(f"dask cluster, 2 workers  : {dask1:6.1f} s + {dask2:6.1f} s  ({dask / (2 * count):.2f} s per submission); "
          f"same gradebook: {same}")
    print(f"ratio cluster / pool     : {dask / pool:6.2f}   (goal <= 1.15)")
    print(f"per submission: {per:.2f} worker-seconds on the cluster ({task:.2f} s of it running and grading in the "
          f"task); in the instructor's process {receiving * 1e3:.1f} ms of receiving and checking the row (a round "
          f"trip to the scheduler, the result, its check: {check * 1e3:.2f} ms), {writing * 1e3:.1f} ms "
          f"of writing it (with {count} rows; {rewrite:.2f} s with 10^4 rows to rewrite the gradebooks and the "
          f"state file, done at most every {FLUSH_EVERY:g} s)")
    # An upper bound: a busy instructor's process rewrites every FLUSH_EVERY s, so at 10^4 rows at most this
    # share of its time goes to rewriting; the rest is the per-row work measured above (which holds some).
    flushing = rewrite / (FLUSH_EVERY + rewrite)
    instructor = 1e4 * (receiving + writing) / (1 - flushing)
    for workers in (8, 64):
        tasks = 1e4 * per / workers
        print(f"paper estimate, 10^4 submissions on {workers:2d} workers: {tasks / 60:6.1f} min of tasks; "
              f"instructor's receiving and writing {instructor / 60:.1f} min (overlaps; the larger one is the wall "
              f"time: bounded by the {'workers' if tasks >= instructor else 'writing of the rows'})")


def bench_interrupt(repeats: int = 5) -> None:
    """Seconds from Ctrl-C (SIGINT to the command's process group, as a terminal sends it) to the
    grading command's exit, ``repeats`` times, each once its first rows are in the state file."""
    print(f"\nCtrl-C of `python -m softmaxbook grade` (-j 2), {repeats} times; load average (1 min) "
          f"before: {os.getloadavg()[0]:.1f}")
    seconds, said = [], set()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        generate(subs, 12)
        for k in range(repeats):
            out = Path(tmp) / f"run{k}" / "grades.csv"
            out.parent.mkdir()
            proc = subprocess.Popen([sys.executable, "-m", "softmaxbook", "grade", str(subs), "-o", str(out)],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
            state = out.with_name(out.name + ".state.json")
            while proc.poll() is None and not state.exists():
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGINT)
            t = time.perf_counter()
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                _, err = proc.communicate()
            seconds.append(time.perf_counter() - t)
            said.add(err.strip())
    print(f"exit after Ctrl-C         : median {statistics.median(seconds):.2f} s, worst {max(seconds):.2f} s "
          f"(goal <= 2 s); load after: {os.getloadavg()[0]:.1f}")
    print(f"what it said (distinct)   : {sorted(said)!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--submissions", type=int, default=50)
    ap.add_argument("--only", choices=["checks", "batch", "cluster", "interrupt"],
                    help="run one part (default: all four)")
    args = ap.parse_args()
    os.environ.setdefault("SOFTMAXBOOK_PROGRESS", os.path.join(tempfile.mkdtemp(), "progress.json"))
    if args.only in (None, "checks"):
        bench_checks(args.repeats)
    if args.only in (None, "batch"):
        bench_batch(args.submissions)
    if args.only in (None, "cluster"):
        bench_cluster(args.submissions)
    if args.only in (None, "interrupt"):
        bench_interrupt()


if __name__ == "__main__":
    main()
