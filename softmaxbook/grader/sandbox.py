"""Run risky work (learner functions, simplification of hostile input) in a child process.

Graded exercises, all chapters. The child is *forked* from the already warm process
(numpy and sympy stay imported, so a check costs milliseconds, not a fresh interpreter),
gets an address-space limit, a new session and a per-step alarm, and reports its
results as JSON lines through a pipe. The parent reads them until a hard deadline
(5 s by default) and then kills the child with SIGKILL. Nothing the child sends is
unpickled: the parent only accepts JSON, and only *outputs* of the learner's code (the
verdict is always computed in the parent).

On platforms without ``os.fork`` the work runs in-process (no hard timeout).
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import signal
import sys
import time

HARD_TIMEOUT = 4.5             # seconds; with parsing, every check ends within 5 s
MEMORY_MB = 1024
MAX_REPORT_BYTES = 2_000_000


class StepTimeout(BaseException):
    """Raised inside the child when one step exceeds its alarm."""


def plain(x, depth=0):
    """Convert a result to JSON-able plain data (floats, ints, str, lists, None)."""
    if depth > 20:
        raise TypeError("nested too deeply")
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return x if abs(x) < 2**4000 else float("inf")
    if isinstance(x, float):
        return x
    try:
        import numpy as np
        if isinstance(x, np.ndarray):
            if x.size > 100_000:
                raise TypeError("array too large")
            return plain(x.tolist(), depth + 1)
        if isinstance(x, np.generic):
            return plain(x.item(), depth + 1)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, (list, tuple)):
        if len(x) > 100_000:
            raise TypeError("sequence too large")
        return [plain(e, depth + 1) for e in x]
    if isinstance(x, complex):
        raise TypeError("a complex number")
    try:
        return float(x)
    except Exception:
        raise TypeError(f"a {type(x).__name__}") from None


def _alarm(signum, frame):
    raise StepTimeout()


def _child(task, write_fd, memory_mb):
    try:
        os.setsid()
    except OSError:
        pass
    sys.stdout = io.StringIO()       # never touch the kernel's output machinery
    sys.stderr = io.StringIO()
    try:
        import resource
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * page
        limit = vm + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except Exception:
        pass
    signal.signal(signal.SIGALRM, _alarm)
    out = os.fdopen(write_fd, "w", buffering=1)

    def emit(obj):
        out.write(json.dumps(obj, allow_nan=True) + "\n")
        out.flush()

    code = 0
    try:
        task(emit)
        emit({"__done__": True})
    except BaseException as exc:  # noqa: BLE001 - report anything the learner code did
        try:
            emit({"__sandbox_error__": f"{type(exc).__name__}: {exc}"[:300]})
        except BaseException:
            code = 3
    try:
        out.flush()
    except BaseException:
        code = 3
    os._exit(code)


def step_alarm(seconds: float):
    """Arm (or with 0, disarm) the per-step alarm inside the child."""
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.0))


def run(task, timeout: float = HARD_TIMEOUT, memory_mb: int = MEMORY_MB):
    """Run ``task(emit)`` in a forked child; return ``(reports, status)``.

    ``reports`` is the list of objects the child emitted (JSON round-tripped);
    ``status`` is ``"ok"``, ``"timeout"`` (killed at the hard deadline) or
    ``"crashed"`` (the child died without finishing its report).
    """
    if not hasattr(os, "fork"):  # pragma: no cover - Windows: in-process, no timeout
        reports = []
        try:
            task(lambda o: reports.append(json.loads(json.dumps(o))))
        except Exception as exc:
            reports.append({"__sandbox_error__": f"{type(exc).__name__}: {exc}"})
        return reports, "ok"
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            _child(task, w, memory_mb)
        finally:
            os._exit(4)
    os.close(w)
    deadline = time.monotonic() + timeout
    chunks, size, status = [], 0, "ok"
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                status = "timeout"
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            data = os.read(r, 65536)
            if not data:
                break
            chunks.append(data)
            size += len(data)
            if size > MAX_REPORT_BYTES:
                status = "crashed"
                break
    finally:
        os.close(r)
        if status != "ok":
            _kill(pid)
        _, wstatus = os.waitpid(pid, 0) if status == "ok" else (pid, 0)
    if status == "ok" and not (os.WIFEXITED(wstatus) and os.WEXITSTATUS(wstatus) == 0):
        status = "crashed"
    reports, done = [], False
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        try:
            rep = json.loads(line)
        except ValueError:
            status = "crashed"
            break
        if rep == {"__done__": True}:
            done = True
        else:
            reports.append(rep)
    if status == "ok" and not done and not any(isinstance(r, dict) and "__sandbox_error__" in r for r in reports):
        status = "crashed"   # the child ended without finishing (os._exit, a signal, ...)
    return reports, status


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def finite(x) -> bool:
    try:
        return math.isfinite(x)
    except TypeError:
        return False
