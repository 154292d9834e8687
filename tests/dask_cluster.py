"""Helper of the cluster tests and the grader benchmark: a dask scheduler and workers started
as separate processes on 127.0.0.1 (no dashboard), stopped at the end."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import distributed

DASK = str(Path(sys.executable).with_name("dask"))


def _start(argv, log: Path, cwd, env=None) -> subprocess.Popen:
    with open(log, "ab") as f:
        return subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                env=env, start_new_session=True)


@contextlib.contextmanager
def local_cluster(folder: Path, workers: int = 2, cwd=None, scheduler_config=None):
    """Yield the address of a scheduler with ``workers`` single-thread workers, each its own
    process under a nanny (which restarts it when it is killed); logs go to ``folder``.
    ``scheduler_config`` maps dask config keys of ``distributed.scheduler`` to values."""
    env = dict(os.environ)
    for key, value in (scheduler_config or {}).items():
        env["DASK_DISTRIBUTED__SCHEDULER__" + key.upper().replace("-", "_")] = str(value)
    file = folder / "scheduler.json"
    procs = [_start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)], folder / "scheduler.log", cwd, env)]
    try:
        deadline = time.time() + 60
        while not file.exists() or not file.read_text().strip():
            if time.time() > deadline or procs[0].poll() is not None:
                raise RuntimeError("the scheduler did not start: " + (folder / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for k in range(workers):
            procs.append(_start([DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                                 "--no-dashboard", "--name", f"w{k}", "--local-directory", str(folder / f"w{k}")],
                                folder / f"worker{k}.log", cwd))
        with distributed.Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for p in procs[::-1]:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs[::-1]:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
