"""Watching one jailed process (graded exercises, all chapters): start it in a session of its own,
read its stdout with a hard byte cap and its stderr's tail, kill its whole process group at the
deadline and reap it, every wait bounded. :mod:`.jail` builds the command and the limits.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

STDERR_TAIL = 64 * 1024       # bytes of stderr kept (the last ones)
REAP_GRACE = 5.0              # seconds to wait for a killed process to be reaped


@dataclass
class Outcome:
    """What came back: exit status (negative: killed by that signal; ``None``: could not be
    reaped), the first ``output_bytes`` of stdout, the last bytes of stderr, and why it was
    killed (``""`` when it ended by itself)."""
    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    truncated: bool
    killed_reason: str
    memory_peak: int | None = None     # most memory the jail held at once (with a cgroup)


def spawn(argv, stdin, cwd: Path, env: dict, preexec=None) -> subprocess.Popen:
    """Start ``argv`` in a new session with stdout and stderr piped; ``stdin`` is bytes (given
    whole, from a temporary file) or ``subprocess.PIPE``."""
    if stdin is subprocess.PIPE:
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                                env=env, start_new_session=True, close_fds=True, preexec_fn=preexec)
    with tempfile.TemporaryFile() as fin:
        fin.write(stdin)
        fin.seek(0)
        return subprocess.Popen(argv, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                                start_new_session=True, close_fds=True, preexec_fn=preexec)


def supervise(proc: subprocess.Popen, timeout: float, cap: int) -> Outcome:
    """Read ``proc``'s output until it ends or the deadline; then kill its group and reap it."""
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    truncated, timed_out, reason = False, False, ""
    sel = selectors.DefaultSelector()
    for f in (proc.stdout, proc.stderr):
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out, reason = True, f"time limit of {timeout:g} s exceeded"
                break
            for key, _ in sel.select(min(left, 1.0)):
                try:
                    data = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                if key.fileobj is proc.stdout:
                    room = cap - len(out)
                    out += data[:room]
                    if len(data) > room:
                        truncated, reason = True, f"output over {cap} bytes"
                else:
                    err += data
                    del err[:-STDERR_TAIL]
            if truncated:
                break
        # Output closed (or killed): the process itself still gets only what is left of the deadline.
        while not truncated and not timed_out and not exited(proc.pid):
            if time.monotonic() >= deadline:
                timed_out, reason = True, f"time limit of {timeout:g} s exceeded"
                break
            time.sleep(0.01)
    finally:
        sel.close()
        returncode = kill(proc)
    return Outcome(returncode, bytes(out), bytes(err), timed_out, truncated, reason)


def exited(pid: int) -> bool:
    """True once ``pid`` has ended (it stays a zombie: not reaped here)."""
    if not hasattr(os, "waitid"):  # macOS: no peeking; the group kill may then miss a reaped leader's group
        try:
            return os.waitpid(pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def kill(proc: subprocess.Popen) -> int | None:
    """Kill ``proc``'s group while the leader is unreaped (so the group id cannot be reused),
    reap it, close its pipes; its exit status (``None``: not reaped in time)."""
    _killpg(proc.pid)
    returncode = _reap(proc)
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f is not None:
            try:
                f.close()
            except OSError:   # a stdin with unwritten bytes to a dead process
                pass
    return returncode


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen) -> int | None:
    end = time.monotonic() + REAP_GRACE
    while True:
        code = proc.poll()
        if code is not None or time.monotonic() >= end:
            return code
        time.sleep(0.005)
