"""One warm jail per learner's session for function answers (graded exercises, chapters 3 and 4).

A fresh jailed interpreter costs about 0.15 s to start and as much again to import numpy; a
``check`` of a function answer paid both each time. In a learner's notebook, :func:`.learner.check`
instead asks :func:`.sandbox.run_functions` to use the :class:`WarmJail` of this kernel: the same
bubblewrap jail and limits (:mod:`.jail`), started on the first function check, whose first
process (:func:`.fnrun.serve`, pid 1 of the jail's PID namespace, undumpable) has imported numpy
and cloudpickle once and runs no learner code itself. Each request runs in a child forked
from it, which therefore starts from the same untouched state whatever an earlier answer did
to its own builtins, modules, threads or memory; when the child ends (or at the request's
deadline, or past the output cap) every other process of the namespace is killed
(``kill(-1)`` from its init: double-forked and ``setsid``-ed ones too) before the answer is sent.
A child that leaves a file in ``/tmp`` or the working folder, or System V IPC objects, ends
that jail; so does any reply that is late, malformed or too large (the jail is killed whole),
and every jail is replaced after :data:`MAX_USES` requests. What comes back is the same JSON
lines as from a fresh interpreter, checked by :func:`.sandbox.parse_case_results`.

Only one learner's own checks share a warm jail, and they carry no secret (no secret twins
outside the batch): a child may find the inputs of that learner's earlier requests in the
memory it inherits. The batch grader never uses it; neither does a machine without bubblewrap
(without a PID namespace, ``kill(-1)`` would reach beyond the jail), nor a session with
:data:`FRESH_ENV` set (a fresh jail per check, as the batch does).
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import threading
import time

from . import jail, processes

MAX_USES = 200                # requests before a warm jail is replaced anyway
START_SECONDS = 10.0          # for the jail to start and import numpy
REPLY_GRACE = 3.0             # beyond a request's deadline: the runner kills and reaps the rest (2 s at most)
FRESH_ENV = "SOFTMAXBOOK_FRESH_JAIL"
_lock = threading.Lock()
_current: WarmJail | None = None


class _Ended(EOFError, OSError):
    """The warm jail's output closed: it has ended."""


class WarmJail:
    """A started warm jail: :meth:`request` runs one request in it; :attr:`usable` turns false
    after a failure or once it must be replaced."""

    def __init__(self, argv_head: list[str], source: str, path: list[str], limits: jail.Limits, env: dict, hide):
        argv = argv_head + ["-c", source, "--serve", json.dumps(path), str(limits.output_bytes)]
        self.jailed = jail.start(argv, limits=limits, env=env, hide=hide)
        self.cap, self.uses, self.usable, self.owner = limits.output_bytes, 0, True, os.getpid()
        self._buffer = bytearray()
        for f in (self.jailed.proc.stdin, self.jailed.proc.stdout, self.jailed.proc.stderr):
            os.set_blocking(f.fileno(), False)
        try:
            if self._line(time.monotonic() + START_SECONDS) != b"ready":
                raise OSError("the warm jail did not start")
        except OSError:
            self.close()
            raise

    def request(self, raw: bytes, timeout: float) -> tuple[bytes, bool, bool]:
        """Run one request (the JSON a fresh runner reads): ``(output, timed out, truncated)``.
        A failure of the jail itself ends it and counts as what it looks like: no reply in time
        a timeout, a jail that ended (its memory budget, say) a crash, a malformed reply a
        truncated one."""
        deadline = time.monotonic() + timeout + REPLY_GRACE
        self.uses += 1
        try:
            self._write(f"{len(raw)} {timeout!r}\n".encode() + raw, deadline)
            head = self._line(deadline).split()
            if len(head) != 3 or not head[0].isdigit() or int(head[0]) > self.cap or head[2] not in (b"0", b"1"):
                raise OSError("a malformed reply")
            data = self._exact(int(head[0]), deadline)
            if self._buffer or head[1] not in (b"exited", b"timeout", b"truncated"):
                raise OSError("a malformed reply")
        except OSError as exc:
            self.close()
            return b"", isinstance(exc, TimeoutError), not isinstance(exc, (TimeoutError, EOFError))
        if head[2] == b"0" or self.uses >= MAX_USES:
            self.close()
        return data, head[1] == b"timeout", head[1] == b"truncated"

    def close(self) -> None:
        """Kill the jail (everything in it) and remove what it held."""
        self.usable = False
        self.jailed.close()

    # the host's side of the pipes: every wait bounded by ``deadline``
    def _wait(self, f, events, deadline: float) -> None:
        left = deadline - time.monotonic()
        with selectors.DefaultSelector() as sel:
            sel.register(f, events)
            if left <= 0 or not sel.select(left):
                raise TimeoutError("the warm jail did not answer in time")

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(self.jailed.proc.stdin, selectors.EVENT_WRITE, deadline)
            try:
                view = view[os.write(self.jailed.proc.stdin.fileno(), view):]
            except BlockingIOError:
                continue

    def _fill(self, deadline: float) -> None:
        self._wait(self.jailed.proc.stdout, selectors.EVENT_READ, deadline)
        try:
            more = os.read(self.jailed.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not more:
            raise _Ended("the warm jail ended")
        self._buffer += more
        if len(self._buffer) > self.cap + 100:
            raise OSError("a reply too large")

    def _line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer[:100]:
            if len(self._buffer) >= 100:
                raise OSError("a malformed reply")
            self._fill(deadline)
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def _exact(self, n: int, deadline: float) -> bytes:
        while len(self._buffer) < n:
            self._fill(deadline)
        data, self._buffer = bytes(self._buffer[:n]), self._buffer[n:]
        return data


def wanted() -> bool:
    """A warm jail may serve this session: bubblewrap works here and :data:`FRESH_ENV` is not set."""
    return not os.environ.get(FRESH_ENV) and os.name == "posix" and jail.available()


def request(raw: bytes, timeout: float, start) -> tuple[bytes, bool, bool] | None:
    """Run ``raw`` in this session's warm jail, started with ``start()`` (a :class:`WarmJail`)
    when there is none usable; ``None`` when none could be started (the caller runs a fresh one)."""
    global _current
    with _lock:
        _forget_a_parents()
        if _current is not None and processes.exited(_current.jailed.proc.pid):   # died between checks
            _current.close()
        if _current is None or not _current.usable:
            try:
                _current = start()
            except OSError:
                _current = None
                return None
        return _current.request(raw, timeout)


def close() -> None:
    """End this session's warm jail (at exit, and for tests)."""
    global _current
    with _lock:
        _forget_a_parents()
        if _current is not None:
            _current.close()
            _current = None


def _forget_a_parents() -> None:
    """In a forked copy of the kernel, the jail is the parent's: leave it alone."""
    global _current
    if _current is not None and _current.owner != os.getpid():
        _current = None


def current() -> WarmJail | None:
    """This session's warm jail, if one is running (for tests and the benchmark)."""
    return _current if _current is not None and _current.usable else None


atexit.register(close)
