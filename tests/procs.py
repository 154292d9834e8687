"""Helper of the grader's sandbox tests: find host processes by a marker in their command line."""

from __future__ import annotations

import os


def running_with(token: str) -> list[int]:
    """Host pids whose command line contains ``token`` (a marker the attack puts in its argv)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_after_first_row(cmd: list[str], state, cwd, seconds: float = 120) -> int:
    """Start the grader's command ``cmd`` in its own session, SIGKILL the whole session once
    its state file ``state`` holds a graded row (or after ``seconds``); how many rows it holds
    (its entries but the run's secret seed, ``/secret``: no file name holds a "/")."""
    import json
    import signal
    import subprocess
    import time
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + seconds
        while time.time() < deadline and not (state.exists() and rows(state) >= 1):
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return rows(state)


def rows(state) -> int:
    """Graded rows in a state file (not its secret seed)."""
    import json
    return len([k for k in json.loads(state.read_text() or "{}") if "/" not in k])
