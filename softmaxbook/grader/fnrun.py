"""Runner for a learner's function answers, started in a *fresh* interpreter.

Graded exercises with function answers (chapters 3 and 4). :mod:`.sandbox` starts
``python -I -S -c <this file's source>`` (inside bubblewrap where available) and
writes one JSON request to its stdin::

    {"path": [site-packages dirs], "functions": [base64 cloudpickle],
     "cases": [{"kind": "call", "args": [...]}, ...],
     "setup_seconds": 3.0, "case_seconds": 1.0}

The request carries the hidden *inputs* only, never an expected value. The runner
unpickles the function, runs every case under a per-case alarm, and writes one JSON
line of plain outputs per case, its *case result*, to the result channel (its original
stdout); the verdict is computed by the grader, outside. A case is a ``call`` (the output), an ``encode`` (the
bit string, built here as a plain ``str`` of ``'0'``/``'1'`` from the characters the
encoder returned), a ``decode`` of such a string, or a call expected to ``raise``. An
encoder and its decoder never share an interpreter: :mod:`.sandbox` runs them in two,
and only the plain bit string travels from one to the other. The course package is not
importable here (an import of ``softmaxbook`` fails with that reason), and nothing of the grader's process
is inherited: this file imports only the standard library, so that it runs the same
whether or not the package is installed. The grader imports it too, without running any
learner code: :mod:`.sandbox` for its source text and constants, :mod:`.kinds` for
:func:`plain` (the cases' inputs as plain data). Started with ``--serve``, it is instead the
first process of a learner's warm jail (:func:`serve`, :mod:`.warm`), which runs each request
in a forked child.
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import signal
import sys
import time

MAX_REQUEST = 8_000_000
MAX_ITEMS = 100_000
MAX_MSG = 200
MAX_BITS = 200_000            # characters of an encoder's bit string
COURSE_PACKAGE = "softmaxbook"
NO_COURSE = ("the course package softmaxbook is not available when your function is graded: "
             "write the function yourself (with numpy/math), without importing the course's code")


class CaseTimeout(BaseException):
    """Raised by the per-case alarm."""


class _NoCoursePackage:
    """Meta-path finder that refuses the course package (its reference answers)."""

    def find_spec(self, name, path=None, target=None):
        if name == COURSE_PACKAGE or name.startswith(COURSE_PACKAGE + "."):
            raise ModuleNotFoundError(NO_COURSE, name=name)
        return None


def plain(x, depth=0):
    """JSON-able plain data of a result (numbers, strings, None, nested lists); else TypeError."""
    if depth > 15:      # the grader's schema allows 20 levels
        raise TypeError("nested too deeply")
    if x is None or isinstance(x, (bool, str)):
        return x if not isinstance(x, str) else x[:1000]
    if isinstance(x, int):
        return x if abs(x) < 2**4000 else (math.inf if x > 0 else -math.inf)
    if isinstance(x, float):
        return x
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(x, np.ndarray):
            if x.size > MAX_ITEMS:
                raise TypeError("array too large")
            return plain(x.tolist(), depth + 1)
        if isinstance(x, np.generic):
            return plain(x.item(), depth + 1)
    if isinstance(x, (list, tuple)):
        if len(x) > MAX_ITEMS:
            raise TypeError("sequence too large")
        return [plain(e, depth + 1) for e in x]
    if isinstance(x, complex):
        raise TypeError("a complex number")
    try:
        return float(x)
    except Exception:
        raise TypeError(f"a {type(x).__name__}") from None


def bitstring(bits) -> str:
    """An encoder's output as a new, plain ``str`` of '0'/'1' (a list of 0/1 and bytes accepted):
    built from the characters themselves, so that nothing a ``str`` subclass carries or claims
    (attributes, its own ``__iter__`` or ``__len__``) survives."""
    if isinstance(bits, (list, tuple)):
        items = list((list if isinstance(bits, list) else tuple).__iter__(bits))
        if not all(type(b) in (int, bool) and b in (0, 1) for b in items):   # exact ints: nothing overridden
            raise TypeError("encode must return a string of '0'/'1' characters (or a list of 0/1)")
        text = "".join("1" if b else "0" for b in items)
    elif isinstance(bits, str):
        text = str.__str__(bits)            # the characters, as an exact str
    elif isinstance(bits, (bytes, bytearray)):
        text = "".join(f"{b:08b}" for b in bytes(bits))
    else:
        raise TypeError(f"encode must return a string of '0'/'1' characters, got {type(bits).__name__}")
    if type(text) is not str or text.strip("01") or len(text) > MAX_BITS:
        raise TypeError("encode must return a string of '0'/'1' characters only"
                        + (f" (at most {MAX_BITS})" if type(text) is str and len(text) > MAX_BITS else ""))
    return text


def explain(exc: BaseException) -> str:
    """A short reason for an exception raised while loading or running the function."""
    if isinstance(exc, ModuleNotFoundError):
        name = (exc.name or "").split(".")[0]
        if name == COURSE_PACKAGE:
            return f"ModuleNotFoundError: {NO_COURSE}"
        if name:
            return f"ModuleNotFoundError: your function needs the module {name!r}, which is not available to the grader"
    try:
        text = str(exc)[:MAX_MSG]
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = "(no message)"
    return f"{type(exc).__name__}: {text}"


def run_case(fn, case):
    """Outputs of one case as plain data (never a verdict)."""
    kind, args = case["kind"], list(case["args"])
    out = fn(*args)
    if out is Ellipsis:
        return {"ellipsis": True} if kind != "decode" else {"back": None}
    if kind == "call":
        return {"out": plain(out)}
    if kind == "encode":
        return {"bits": bitstring(out)}
    if kind == "decode":
        return {"back": plain(list(out))}
    return {"out": "returned without raising"}


def _alarm(signum, frame):
    raise CaseTimeout()


def _arm(seconds: float) -> None:
    """Arm (0: disarm) the per-case alarm; Windows has none (the parent's deadline remains)."""
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, seconds)


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(json.loads(sys.argv[2]), int(sys.argv[3]))
    else:
        run(sys.stdin.buffer.read(MAX_REQUEST), os.dup(1))


def run(raw: bytes, report_fd: int) -> None:
    """Run one request (``raw`` JSON), writing the case results to ``report_fd``."""
    request = json.loads(raw)
    report = os.fdopen(report_fd, "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):          # the learner's prints go nowhere, the result channel stays clean
        os.dup2(null, fd)
    sys.stdin = sys.stdout = sys.stderr = open(os.devnull, "w")
    sys.path[:0] = [p for p in request.get("path", []) if isinstance(p, str)]
    sys.meta_path.insert(0, _NoCoursePackage())
    for name in [m for m in sys.modules if m == COURSE_PACKAGE or m.startswith(COURSE_PACKAGE + ".")]:
        del sys.modules[name]
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _alarm)

    def emit(obj):
        report.write(json.dumps(obj, allow_nan=True) + "\n")
        report.flush()

    import pickle
    try:
        _arm(float(request.get("setup_seconds", 3.0)))
        import cloudpickle  # noqa: F401 - needed by the pickles' reconstructors
        (fn,) = [pickle.loads(base64.b64decode(f)) for f in request["functions"]]  # noqa: S301 - learner's own bytes, here only
        _arm(0)
        if not callable(fn):
            raise TypeError("the answer is not a function")
    except BaseException as exc:  # noqa: BLE001 - anything the learner's pickle raises
        _arm(0)
        emit({"__sandbox_error__": "loading your function took too long" if isinstance(exc, CaseTimeout)
              else explain(exc)})
        emit({"__done__": True})
        return
    seconds = float(request.get("case_seconds", 1.0))
    for i, case in enumerate(request["cases"]):
        try:
            _arm(seconds)
            rep = run_case(fn, case)
        except CaseTimeout:
            rep = {"timeout": True}
        except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
            rep = {"raised": type(exc).__name__[:100], "msg": explain(exc).split(": ", 1)[-1][:MAX_MSG]}
        finally:
            _arm(0)
        rep["i"] = i
        emit(rep)
    emit({"__done__": True})


# --------------------------------------------------------------------------- the warm jail

def serve(path: list, cap: int) -> None:
    """The warm jail's first process (:mod:`.warm`): pid 1 of the jail's PID namespace, which
    imports numpy and cloudpickle once and then, per request from the grader, runs the request
    in a forked child that nothing of an earlier request has touched, and kills every other
    process of the namespace before it answers. It never runs learner code itself and reads
    nothing of a child's output but its length.

    Protocol on its stdin/stdout: it writes ``ready``; then per request it reads
    ``"<bytes> <seconds>\n"`` and the request, and answers ``"<bytes> <end> <clean>\n"`` and the
    child's output, where ``end`` is ``exited``, ``timeout`` or ``truncated`` and ``clean`` is
    ``0`` when the child left something behind (then it exits: the grader starts another jail).
    """
    import ctypes
    if os.getpid() != 1:      # kill(-1) below must reach only the jail's own processes
        sys.exit("the warm runner runs only as the first process of its own PID namespace")
    if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:   # PR_SET_DUMPABLE 0: no ptrace, no /proc/1/fd
        sys.exit("cannot make the warm runner undumpable")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = os.fdopen(os.dup(0), "rb"), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.path[:0] = [p for p in path if isinstance(p, str)]
    sys.meta_path.insert(0, _NoCoursePackage())
    try:
        import cloudpickle  # noqa: F401 - warm: what every request needs
        import numpy  # noqa: F401
    except BaseException:   # noqa: BLE001 - the child says why
        pass
    tmp = sorted(os.listdir("/tmp"))         # the working folder is under /tmp
    os.write(out, b"ready\n")
    while True:
        q_read, q_write = os.pipe()
        r_read, r_write = os.pipe()
        child = os.fork()
        if child == 0:                       # the request's child: nothing of the grader's pipes
            try:
                for fd in (inp.fileno(), out, q_write, r_read):
                    os.close(fd)
                signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a fresh interpreter
                with os.fdopen(q_read, "rb") as f:
                    raw = f.read(MAX_REQUEST)
                run(raw, r_write)
            finally:
                os._exit(0)
        os.close(q_read)
        os.close(r_write)
        head = inp.readline(100).split()
        if len(head) != 2:
            return                           # the grader closed the jail
        request = inp.read(min(int(head[0]), MAX_REQUEST))
        deadline = time.monotonic() + float(head[1])
        try:
            with os.fdopen(q_write, "wb") as f:
                f.write(request)
        except OSError:                      # the child is gone: it says nothing, which is a crash
            pass
        del request                          # (the next child is forked from this process)
        data, end = _collect(child, r_read, deadline, cap)
        os.close(r_read)
        clean = _kill_the_rest() and _nothing_left(tmp)
        os.write(out, f"{len(data)} {end} {int(clean)}\n".encode() + data)
        if not clean:
            return


def _collect(child: int, fd: int, deadline: float, cap: int) -> tuple[bytes, str]:
    """The child's output until it exits (then what it wrote before), the deadline or the cap."""
    try:
        exited = os.pidfd_open(child)        # readable once the child has ended
    except (AttributeError, OSError):        # an old kernel: look every 5 ms
        exited = None
    data, open_, end = bytearray(), True, "exited"
    try:
        while not os.waitpid(child, os.WNOHANG)[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(data), "timeout"
            ready = select.select([fd] * open_ + [exited] * (exited is not None), [], [],
                                  left if exited is not None else min(left, 0.005))[0]
            if fd in ready:
                more = os.read(fd, 65536)
                data += more
                open_ = bool(more)
                if len(data) > cap:
                    return bytes(data[:cap]), "truncated"
        os.set_blocking(fd, False)           # what it wrote before it ended
        try:
            while open_ and len(data) <= cap:
                more = os.read(fd, 65536)
                data += more
                open_ = bool(more)
        except BlockingIOError:
            pass
        if len(data) > cap:
            end = "truncated"
        return bytes(data[:cap]), end
    finally:
        if exited is not None:
            os.close(exited)


def _kill_the_rest() -> bool:
    """Kill every process of the namespace but this one and reap them: ``False`` if some
    could not be reaped within 2 s."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.001)
        except ChildProcessError:
            return True
    return False


def _nothing_left(tmp: list) -> bool:
    """No file left in /tmp (whose names at the start are ``tmp``) or the working folder, no
    System V shared memory, semaphore or message queue in the jail's IPC namespace."""
    try:
        if sorted(os.listdir("/tmp")) != tmp or os.listdir("."):
            return False
        for name in ("shm", "sem", "msg"):
            with open(f"/proc/sysvipc/{name}") as f:
                if len(f.read().splitlines()) > 1:
                    return False
    except OSError:
        return False
    return True


if __name__ == "__main__":
    main()
