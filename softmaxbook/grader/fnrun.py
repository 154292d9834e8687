"""Runner for a learner's function answers, started in a *fresh* interpreter.

Graded exercises with function answers (chapters 3 and 4). :mod:`.sandbox` starts
``python -I -S -c <this file's source>`` (inside bubblewrap where available) and
writes one JSON request to its stdin::

    {"path": [site-packages dirs], "functions": [base64 cloudpickle, ...],
     "cases": [{"kind": "call", "args": [...]}, ...],
     "setup_seconds": 3.0, "case_seconds": 1.0}

The request carries the hidden *inputs* only, never an expected value. The runner
unpickles the function(s), runs every case under a per-case alarm, and writes one JSON
line of plain outputs per case to the report channel (its original stdout); the verdict
is computed by the grader, outside. The course package is not importable here (an
import of ``softmaxbook`` fails with that reason), and nothing of the grader's process
is inherited: this file imports only the standard library, so that it runs the same
whether or not the package is installed. The grader never imports it except in tests.
"""

from __future__ import annotations

import base64
import json
import math
import os
import signal
import sys

MAX_REQUEST = 8_000_000
MAX_ITEMS = 100_000
MAX_MSG = 200
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


def bitstring(bits):
    """An encoder's output as a '0'/'1' string (lists of 0/1 and bytes accepted)."""
    if isinstance(bits, (list, tuple)) and all(b in (0, 1) and not isinstance(b, float) for b in bits):
        return "".join(str(int(b)) for b in bits)
    if isinstance(bits, str) and set(bits) <= {"0", "1"}:
        return bits
    if isinstance(bits, (bytes, bytearray)):
        return "".join(f"{b:08b}" for b in bits)
    raise TypeError(f"encode must return a string of '0'/'1' characters, got {type(bits).__name__}")


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


def run_case(fns, case):
    """Outputs of one case as plain data (never a verdict)."""
    kind, args = case["kind"], list(case["args"])
    if kind == "call":
        out = fns[0](*args)
        return {"ellipsis": True} if out is Ellipsis else {"out": plain(out)}
    if kind in ("roundtrip", "rate"):
        message = list(args[0])
        bits = fns[0](list(message))
        if bits is Ellipsis:
            return {"ellipsis": True}
        bits = bitstring(bits)
        back = fns[1](bits, len(message))
        return {"len": len(bits), "back": plain(list(back)) if back is not Ellipsis else None}
    out = fns[0](*args) if kind == "encode_error" else fns[1](*args)
    return {"ellipsis": True} if out is Ellipsis else {"out": "returned without raising"}


def _alarm(signum, frame):
    raise CaseTimeout()


def _arm(seconds: float) -> None:
    """Arm (0: disarm) the per-case alarm; Windows has none (the parent's deadline remains)."""
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, seconds)


def main() -> None:
    request = json.loads(sys.stdin.buffer.read(MAX_REQUEST))
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):          # the learner's prints go nowhere, the report channel stays clean
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
        fns = [pickle.loads(base64.b64decode(f)) for f in request["functions"]]  # noqa: S301 - learner's own bytes, here only
        _arm(0)
        if not all(callable(f) for f in fns):
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
            rep = run_case(fns, case)
        except CaseTimeout:
            rep = {"timeout": True}
        except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
            rep = {"raised": type(exc).__name__[:100], "msg": explain(exc).split(": ", 1)[-1][:MAX_MSG]}
        finally:
            _arm(0)
        rep["i"] = i
        emit(rep)
    emit({"__done__": True})


if __name__ == "__main__":
    main()
