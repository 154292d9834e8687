"""Run a learner's function answers in a fresh interpreter with a hard deadline (graded
exercises with function answers, chapters 3 and 4).

:func:`run_functions` starts ``python -I -S`` from nothing (not a fork of the grader or of
a pool worker, so nothing of their stack, pipes or memory is inherited) with the runner
:mod:`.fnrun`, inside bubblewrap (:mod:`.jail`) where it is available and with the same
limits, deadline and process-group kill where it is not (a learner's machine, Binder).
The child receives one pickled function and the hidden *inputs* only; the course
package is not importable there, and a function whose pickle names it (pickled by
reference, or by value from the course's own code) is refused before anything runs. It
answers with JSON lines of plain outputs, one *case result* per case, size-capped and
checked here (:mod:`.untrusted`); the verdict is computed by the caller. Nothing the child sends is unpickled, and the
grader never unpickles the learner's bytes itself. An encoder and its decoder run in two
interpreters, one after the other: the decoder receives only the plain bit strings the
encoder's interpreter reported, so no state the encoder leaves (in builtins, globals,
files, the environment, a child process, a ``str`` subclass) reaches it.
The learner-side ``check`` and the batch grader both use it, so they agree. Inside
:func:`learner_session` (a learner's own ``check``) each interpreter is instead a child forked
from the session's warm jail (:mod:`.warm`): same jail, limits and protocol, the same isolation
from one run to the next, without starting Python and numpy each time.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import json
import os
import pickletools
import signal
import subprocess
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path

from . import fnrun, jail, untrusted, warm
from .answers import MAX_PICKLE

HARD_TIMEOUT = 4.5             # seconds for a whole run of one interpreter: start, loading and every case
MAX_OUTPUT_BYTES = 2_000_000
SETUP_SECONDS = 3.0            # loading the pickled function (numpy import included)
CASE_SECONDS = 1.0             # one hidden test
FUNCTION_LIMITS = jail.Limits(cpu_seconds=10, address_space=2 * 2**30, processes=64, file_size=2**20,
                              output_bytes=MAX_OUTPUT_BYTES, memory=2**30)
# One BLAS thread: faster to start, and the jail's process limit counts threads.
FUNCTION_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
CASE_RESULT_KEYS = {"i", "out", "ellipsis", "bits", "back", "raised", "msg", "timeout"}
# A case's outputs: numbers, short texts and lists of them (no objects), nested at most 20 deep.
OUTPUT_CAPS = untrusted.Caps(depth=20, text=1000, objects=False)
CODEC_KINDS = {"roundtrip": "encode", "rate": "encode", "encode_error": "raises"}   # the encoder's share
_WARM = contextvars.ContextVar("softmaxbook_warm_jail", default=False)


@contextlib.contextmanager
def learner_session():
    """Inside it (a learner's own ``check``), function answers run in this kernel's warm jail
    (:mod:`.warm`) where bubblewrap works, instead of a fresh jail per run."""
    token = _WARM.set(True)
    try:
        yield
    finally:
        _WARM.reset(token)


# --------------------------------------------------------------------------- function answers

def decode_pickle(text) -> bytes | None:
    """The bytes of a base64 pickle from an answer record, or ``None`` if malformed or too large.
    (Decoded only to be passed on to the fresh interpreter: never unpickled here.)"""
    if not isinstance(text, str) or not text or len(text) > 4 * MAX_PICKLE // 3 + 4:
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


@lru_cache(maxsize=1)
def _runner_source() -> str:
    return Path(fnrun.__file__).read_text(encoding="utf-8")


def _library_path() -> list[str]:
    """Where the fresh interpreter finds numpy and cloudpickle (the site-packages of this Python;
    the course package is not there, and ``.pth`` files are not processed)."""
    paths = []
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p and p not in paths:
            paths.append(p)
    return paths


def _course_package_dirs() -> list[str]:
    """The course package's folder when it lies where the jail can see it (a non-editable
    install in site-packages): the jail then sees it empty. An editable install (this
    repository) lives outside the folders the jail binds."""
    import softmaxbook
    pkg = Path(softmaxbook.__file__).resolve().parent
    seen = [Path(p).resolve() for p in _library_path() + [sys.prefix, sys.base_prefix]]
    return [str(pkg)] if any(pkg.is_relative_to(d) for d in seen) else []


def run_functions(pickles: list[bytes], cases: list[dict], timeout: float = HARD_TIMEOUT,
                  sandbox: bool | None = None) -> tuple[list[dict], str]:
    """Run pickled function(s) on the cases' inputs in fresh, jailed interpreters.

    ``cases`` are plain data ``{"kind", "args"}`` (inputs only): ``call`` cases for one
    function; for an ``(encode, decode)`` pair, ``roundtrip`` and ``rate`` cases (reported as
    ``{"len", "back"}``: the length of the encoder's plain bit string and what the decoder made
    of it, :func:`_run_codec`), ``encode_error`` and ``decode_error``. Returns ``(results, status)``:
    the per-case results (schema-checked plain data, see :mod:`.fnrun`) and ``"ok"``,
    ``"timeout"`` (killed at the deadline), ``"crashed"`` (ended without finishing its
    results) or ``"malformed"`` (sent something malformed or too large: the whole run
    then counts for nothing). ``sandbox=None`` uses bubblewrap when it works here.
    """
    if any(course_code(p) for p in pickles):
        return [{"__sandbox_error__": fnrun.NO_COURSE}], "crashed"
    if len(pickles) == 2:
        return _run_codec(pickles, cases, timeout, sandbox)
    return _run_one(pickles[0], cases, timeout, sandbox)


def _run_codec(pickles: list[bytes], cases: list[dict], timeout: float, sandbox) -> tuple[list[dict], str]:
    """The encoder alone on its cases, then the decoder alone on the plain bit strings the
    encoder's interpreter reported (and on its own error case); one result per case."""
    mine = [i for i, c in enumerate(cases) if c["kind"] in CODEC_KINDS]
    enc, enc_status = _run_one(pickles[0], [{"kind": CODEC_KINDS[cases[i]["kind"]], "args": cases[i]["args"][:1]}
                                            for i in mine], timeout, sandbox)
    results, carried = [], []
    for rep in enc:
        if "i" not in rep:
            results.append(rep)
            continue
        i = mine[rep["i"]]
        if "bits" in rep:
            carried.append((i, rep["bits"]))
        else:
            results.append({**rep, "i": i})
    rest = [i for i, c in enumerate(cases) if c["kind"] == "decode_error"]
    calls = ([{"kind": "decode", "args": [bits, len(cases[i]["args"][0])]} for i, bits in carried]
             + [{"kind": "raises", "args": cases[i]["args"]} for i in rest])
    if not calls:
        return results, enc_status
    dec, dec_status = _run_one(pickles[1], calls, timeout, sandbox)
    bits = dict(carried)
    for rep in dec:
        if "i" not in rep:
            results.append(rep)
            continue
        k = rep["i"]
        i = carried[k][0] if k < len(carried) else rest[k - len(carried)]
        results.append({**rep, "i": i, "len": len(bits[i])} if i in bits else {**rep, "i": i})
    worst = next((s for s in ("malformed", "timeout", "crashed") if s in (enc_status, dec_status)), "ok")
    return sorted(results, key=lambda r: r.get("i", -1)), worst


def course_code(data: bytes) -> bool:
    """The pickle names the course's code: a module of the course package that a function,
    class or object is pickled by reference from or by value with (``softmaxbook.lse``), code
    whose file is in the package's folder, or code that names such a module (an import inside
    a function). The package itself, ``softmaxbook``, pickled by reference, cannot be imported
    where the function runs. Read with :mod:`pickletools` (nothing is unpickled); a pickle it
    cannot read is left to the runner, which cannot load it either and says why. Copying the
    source by hand is not caught: the course's answers are public."""
    package = fnrun.COURSE_PACKAGE
    prefixes = (package + ".", package + " ") + tuple(f + os.sep for f in _course_folders())
    try:
        return any(isinstance(arg, str) and arg.startswith(prefixes) for _, arg, _ in pickletools.genops(data))
    except Exception:   # noqa: BLE001 - a damaged pickle
        return False


@lru_cache(maxsize=1)
def _course_folders() -> tuple[str, ...]:
    import softmaxbook
    pkg = os.path.dirname(softmaxbook.__file__)
    return tuple({pkg, os.path.realpath(pkg)})


def _run_one(data: bytes, cases: list[dict], timeout: float, sandbox) -> tuple[list[dict], str]:
    """Run one pickled function on ``cases`` (``call``, ``encode``, ``decode``, ``raises``; see
    :mod:`.fnrun`) in one fresh, jailed interpreter: ``(results, status)`` as :func:`run_functions`."""
    request = json.dumps({"path": _library_path(), "functions": [base64.b64encode(data).decode()],
                          "cases": cases, "setup_seconds": SETUP_SECONDS, "case_seconds": CASE_SECONDS},
                         allow_nan=True).encode()
    argv = [sys.executable, "-I", "-S", "-c", _runner_source()]
    reply = warm.request(request, timeout, _start_warm) if sandbox is None and _WARM.get() and warm.wanted() else None
    try:
        if reply is not None:
            (data, timed_out, truncated), early, code = reply, [], None
        elif _has_jail_tools():
            out = jail.run(argv, stdin=request, timeout=timeout, limits=FUNCTION_LIMITS,
                           sandbox=jail.available() if sandbox is None else sandbox, env=FUNCTION_ENV,
                           hide=_course_package_dirs())
            data, timed_out, truncated = out.stdout, out.timed_out, out.truncated
            # Only the runner writes to stderr, before any learner code runs (then it points to /dev/null).
            early = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            code = out.returncode
        else:   # a learner's Windows machine: the same runner and deadline, no limits
            (data, timed_out, truncated), early, code = _run_portable(argv, request, timeout), [], None
    except OSError as exc:
        return [{"__sandbox_error__": f"the grader could not start Python ({type(exc).__name__})"}], "crashed"
    if timed_out or truncated:       # killed mid-line: keep the complete lines
        data = data[:data.rfind(b"\n") + 1]
    results, done = parse_case_results(data, len(cases))
    if results is None or truncated:
        return results or [], "malformed"
    if timed_out:
        return results, "timeout"
    if not results and not done and early:   # the runner itself failed (a broken installation?)
        return [{"__sandbox_error__": f"the grader's Python failed to start (exit status {code}): "
                 f"{early[0][:200]}"}], "crashed"
    return results, "ok" if done else "crashed"   # not finished: os._exit, a signal, ...


def _start_warm() -> warm.WarmJail:
    return warm.WarmJail([sys.executable, "-I", "-S"], _runner_source(), _library_path(), FUNCTION_LIMITS,
                         FUNCTION_ENV, _course_package_dirs())


def _has_jail_tools() -> bool:
    """:func:`.jail.run` works here (POSIX: Linux, macOS), with or without bubblewrap."""
    return os.name == "posix"


def _run_portable(argv, request: bytes, timeout: float) -> tuple[bytes, bool, bool]:
    """Fallback without :mod:`.jail` (Windows): ``(stdout, timed_out, truncated)``, the process
    group (POSIX) or the process (Windows) killed at the deadline."""
    posix = os.name == "posix"
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=posix, env={**os.environ, **FUNCTION_ENV})
    try:
        out, _ = proc.communicate(request, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL) if posix else proc.kill()
        except OSError:
            pass
        try:
            out, _ = proc.communicate(timeout=1.0)
        except subprocess.TimeoutExpired:   # an escaped grandchild holds the pipe: give up on it
            proc.kill()
            out = b""
    return out[:MAX_OUTPUT_BYTES], timed_out, len(out) > MAX_OUTPUT_BYTES


def parse_case_results(data: bytes, n_cases: int) -> tuple[list[dict] | None, bool]:
    """Schema check of the runner's JSON lines: ``(results, finished)``; ``(None, False)`` if
    anything is malformed (a forged or damaged line counts for nothing)."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None, False
    results, seen, done = [], set(), False
    for line in lines:
        if done:
            return None, False
        try:
            rep = json.loads(line)
        except (ValueError, RecursionError):
            return None, False
        if rep == {"__done__": True}:
            done = True
            continue
        if isinstance(rep, dict) and set(rep) == {"__sandbox_error__"} and isinstance(rep["__sandbox_error__"], str):
            results.append({"__sandbox_error__": rep["__sandbox_error__"][:300]})
            continue
        if not _valid_case_result(rep, n_cases) or rep["i"] in seen:
            return None, False
        seen.add(rep["i"])
        results.append(rep)
    return results, done


def _valid_case_result(rep, n_cases) -> bool:
    if not isinstance(rep, dict) or not set(rep) <= CASE_RESULT_KEYS:
        return False
    i = rep.get("i")
    if type(i) is not int or not 0 <= i < n_cases:
        return False
    checks = {"out": _plain, "back": lambda v: v is None or (isinstance(v, list) and _plain(v)),
              "ellipsis": lambda v: v is True, "timeout": lambda v: v is True,
              "bits": lambda v: isinstance(v, str) and len(v) <= fnrun.MAX_BITS and not v.strip("01"),
              "raised": lambda v: isinstance(v, str) and len(v) <= 100,
              "msg": lambda v: isinstance(v, str) and len(v) <= 400}
    return all(checks[k](v) for k, v in rep.items() if k != "i")


def _plain(v) -> bool:
    return untrusted.is_plain(v, OUTPUT_CAPS)
