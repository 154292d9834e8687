"""Benchmark of the grader (graded exercises): prints measured figures, asserts nothing.

1. Learner-side ``check`` time per exercise, p50/p95 over repeated checks of the right
   and the known wrong answers of the fixtures (goal: p95 <= 0.3 s for symbolic checks).
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

Run:  .venv/bin/python bench/bench_grader.py [--repeats 20] [--submissions 50] [--only checks|batch|cluster]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import statistics
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
from softmaxbook.grader import jail  # noqa: E402
from softmaxbook.grader.assignments import exercise_ids  # noqa: E402
from softmaxbook.grader.batch import grade_folder  # noqa: E402
from softmaxbook.grader.gradebook import check_row, csv_text, gradebooks  # noqa: E402
from softmaxbook.grader.learner import atomic_write  # noqa: E402

CELL = re.compile(r"```\{code-cell\} ipython3\n(.*?)\n```", re.S)


def live_answers(answers: dict[str, str]) -> dict[str, object]:
    """Run each notebook's setup cells and answer cells with a ``check`` that only records."""
    got = {}
    for nb in submissions.NOTEBOOKS:
        text = submissions.render(nb.read_text(), answers)
        ns = {}
        for src in CELL.findall(text):
            if "progress()" in src:
                continue
            exec(compile(src, nb.name, "exec"), ns)  # our own fixture code
            ns["check"] = lambda ex_id, ans: got.__setitem__(ex_id, ans)
    return got


def bench_checks(repeats: int) -> None:
    right, wrong = live_answers(submissions.SOLVED), live_answers(submissions.WRONG)
    print(f"Learner-side check time over {repeats} checks per exercise (right and known wrong answers alternating)")
    print(f"{'exercise':<22} {'kind':<9} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    worst_symbolic = 0.0
    for ex_id, ex in EXERCISES.items():
        times = []
        for k in range(repeats):
            ans = right[ex_id] if k % 2 == 0 else wrong[ex_id]
            t = time.perf_counter()
            r = check(ex_id, ans)
            times.append(time.perf_counter() - t)
            assert r.passed == (k % 2 == 0), (ex_id, r)
        p50, p95 = statistics.median(times), float(np.percentile(times, 95))
        if ex.kind == "symbolic":
            worst_symbolic = max(worst_symbolic, p95)
        print(f"{ex_id:<22} {ex.kind:<9} {p50:7.3f} {p95:7.3f} {max(times):7.3f}")
    print(f"worst p95 of the symbolic checks: {worst_symbolic:.3f} s (goal <= 0.3 s)")


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
    with ``n`` rows (copies of ``rows``), as :func:`grade_folder` does after every row: a
    course of ``n`` submissions spends about ``n / 2`` times this on them in all."""
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
          f"of writing it (with {count} rows; {rewrite:.2f} s with 10^4 rows: each row rewrites the gradebooks "
          "and the state file)")
    instructor = 1e4 * (receiving + writing) + 1e4 / 2 * rewrite   # an upper bound: the first term holds some rewriting
    for workers in (8, 64):
        tasks = 1e4 * per / workers
        print(f"paper estimate, 10^4 submissions on {workers:2d} workers: {tasks / 60:6.1f} min of tasks; "
              f"instructor's receiving and writing {instructor / 60:.1f} min (overlaps; the larger one is the wall "
              f"time: bounded by the {'workers' if tasks >= instructor else 'writing of the rows'})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--submissions", type=int, default=50)
    ap.add_argument("--only", choices=["checks", "batch", "cluster"], help="run one part (default: all three)")
    args = ap.parse_args()
    os.environ.setdefault("SOFTMAXBOOK_PROGRESS", os.path.join(tempfile.mkdtemp(), "progress.json"))
    if args.only in (None, "checks"):
        bench_checks(args.repeats)
    if args.only in (None, "batch"):
        bench_batch(args.submissions)
    if args.only in (None, "cluster"):
        bench_cluster(args.submissions)


if __name__ == "__main__":
    main()
