"""Running one notebook (graded exercises, all chapters): the jail call and the check of what
comes back.

:func:`run_notebook` executes a copy of the notebook's bytes *whole* -- executor and kernel
together -- inside a bubblewrap jail (:mod:`.jail`; :mod:`.runner` runs there): its own PID,
network, IPC and mount namespaces, an unprivileged user, a file system that shows Python, the
course package and the copy read-only and one private scratch directory, resource limits
(:data:`JAIL_LIMITS`), and a deadline at which every process of the jail is killed. It sees
neither the grader's processes nor its files, the gradebook, the state file or other submissions.

The only thing that comes back is the jail's *document*: one size-capped JSON text of plain
data (the answers ``check`` recorded, cells that raised, a reason), checked against its schema
by :func:`validate_document` (with :mod:`.untrusted`) before anything reads it; nothing is
unpickled. When the document is missing (a crashed or killed run), the answers ``check``
journalled in the scratch directory are read instead (never following a link, size-capped).
:func:`read_run` turns both into a :class:`Run`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import jail, registry, runner, untrusted
from .assignments import checked_ids
from .submissions import SUFFIXES, display, read_submission

MAX_DOCUMENT = runner.MAX_DOCUMENT   # bytes of the jail's document (and of the journal read back)
MAX_NOTEBOOK_OUTPUT = 10 * 2**20     # bytes of cell outputs kept while a notebook runs
STARTUP_MARGIN = 30.0                # seconds a jail gets beyond the time budget of its entry
MIN_RUN_SECONDS = 1.0                # a notebook is not started with less of its entry's budget left
JAIL_LIMITS = dict(address_space=4 * 2**30, processes=256, file_size=64 * 2**20, scratch_bytes=512 * 2**20,
                   memory=2 * 2**30, inodes=16_384)


def _package_dir() -> Path:
    """The folder holding the course package (bound read-only into the jail)."""
    return Path(__file__).resolve().parents[1]


@dataclass
class Run:
    """What came back from one notebook: ``answers`` (``None`` when none could be collected;
    ``reason`` then says why), ``notes`` (cells that raised), where the run stopped
    (``stops``, see :mod:`.runner`), where ``check`` is called (``checks``: ``[id, cell]``) and
    the ids of ``check("<id>"`` calls found in the file's bytes (``ids``, also when it is malformed)
    and the cells that raised (``errors``: ``{"cell", "type", "message"}``, checked and capped)."""
    answers: dict | None
    notes: list = field(default_factory=list)
    reason: str = ""
    stops: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def execute_submission(path: Path, cell_timeout: float = 60, total_timeout: float = 600, sandbox: bool = True) -> Run:
    """Run one notebook in the jail; return its :class:`Run`."""
    try:
        data = read_submission(path)
    except ValueError as exc:
        return Run(None, reason=str(exc), stops=[{"kind": "malformed", "cell": None, "limit": None}])
    return read_run(run_notebook(display(Path(path).name), data, cell_timeout, total_timeout, sandbox), data,
                    total_timeout)


def run_notebook(name: str, data: bytes, cell_timeout: float = 60, total_timeout: float = 600,
                 sandbox: bool = True) -> dict:
    """The per-submission pipeline for one notebook's bytes (``name`` gives its suffix), on the
    machine that runs it: a process of the local pool, or a dask worker (:mod:`.cluster`).
    Returns the raw record ``{"name", "stdout" (bytes), "returncode", "timed_out",
    "truncated", "journal"}`` (the jail's document and outcome, the answers its journal holds):
    plain data that nothing trusts before :func:`read_run` has checked it."""
    # Host side: a private folder with the copy (read-only in the jail) and the answer journal
    # (the jail's only writable host file, bounded by the file-size limit). The notebook's
    # working directory is the jail's own in-memory scratch.
    host = Path(tempfile.mkdtemp(prefix="softmaxbook-grade-"))
    try:
        copy = host / ("submission" + (Path(name).suffix if Path(name).suffix in SUFFIXES else ".ipynb"))
        copy.write_bytes(data)
        copy.chmod(0o444)
        journal = host / runner.JOURNAL
        journal.touch(0o600)
        # runner.py by its path: ``-m softmaxbook.grader.runner`` would import the grader package
        # (sympy, 0.4 s) for nothing. ``-P``: nothing from the working directory is importable.
        argv = [sys.executable] + (["-P"] if sys.version_info >= (3, 11) else []) + [
            runner.__file__, str(copy), "--journal", str(journal), "--cell-timeout", str(cell_timeout),
            "--total-timeout", str(total_timeout), "--max-output", str(MAX_NOTEBOOK_OUTPUT)]
        limits = jail.Limits(cpu_seconds=int(total_timeout + STARTUP_MARGIN) + 1, output_bytes=MAX_DOCUMENT,
                             **JAIL_LIMITS)
        out = jail.run(argv, timeout=total_timeout + STARTUP_MARGIN, limits=limits, binds_ro=[_package_dir(), copy],
                       binds_rw=[journal], sandbox=sandbox)
        return {"name": name, "stdout": out.stdout, "returncode": out.returncode, "timed_out": out.timed_out,
                "truncated": out.truncated, "journal": runner.read_answers(str(journal))}
    finally:
        shutil.rmtree(host, ignore_errors=True)


def read_run(record: dict, data: bytes, total_timeout: float = 600) -> Run:
    """The :class:`Run` of one notebook from the raw record of :func:`run_notebook` and the
    notebook's bytes, checked in the grader's process (:func:`validate_document`; when the
    document is missing or invalid, the journal's answers)."""
    ids = checked_ids(data)
    out = jail.Outcome(record["returncode"], record["stdout"], b"", record["timed_out"], record["truncated"], "")
    try:
        doc = validate_document(out.stdout)
        return Run(doc["answers"], doc["notes"], doc["reason"], doc["stops"], doc["checks"], ids, doc["errors"])
    except ValueError as exc:
        why = _failure(out, str(exc))
    stops = [{"kind": "total-timeout", "cell": None, "limit": total_timeout}] if out.timed_out else []
    journalled = validate_answers(record["journal"])
    if journalled:
        return Run(journalled, [], why + "; the answers were collected from the journal", stops, [], ids)
    return Run(None, [], why, stops or [{"kind": "crash", "cell": None, "limit": None}], [], ids)


def _failure(out: jail.Outcome, invalid: str) -> str:
    if out.timed_out:
        return "time limit for the whole notebook exceeded (its jail was killed)"
    if out.truncated:
        return f"the notebook's document was larger than {MAX_DOCUMENT} bytes"
    if out.returncode != 0:
        return f"the notebook's run was killed or crashed (exit status {out.returncode})"
    return f"the notebook's document was invalid ({invalid})"


def budget_left(deadline: float) -> float | None:
    """Seconds the next notebook of an entry may run until the entry's ``deadline``
    (``time.monotonic``), or ``None`` when too little is left to start one."""
    left = deadline - time.monotonic()
    return left if left >= MIN_RUN_SECONDS else None


# --------------------------------------------------------------------------- the document's schema

DOC_KEYS = {"format", "answers", "notes", "reason", "stops", "checks"}
OPTIONAL_KEYS = {"errors"}           # absent from a document of an older runner (a dask worker not yet updated)
MAX_IDS = 200
# The cells that raised: each {"cell", "type", "message"} of plain short text (runner.MAX_ERROR_*).
ERROR_CAPS = untrusted.Caps(depth=2, text=runner.MAX_ERROR_MESSAGE, values=1 + 4 * runner.MAX_ERRORS, key=10)
# An answer's values: at most 200 000 over all answers, 16 deep, texts of at most 4 MiB, integers of 256 bits.
ANSWER_CAPS = untrusted.Caps(depth=16, text=4 * 2**20, values=200_000, int_bits=256)


def validate_document(raw: bytes) -> dict:
    """The jail's document as ``{"answers", "notes", "reason", "stops", "checks", "errors"}`` after
    checking its schema: one JSON object with known keys and the expected format, answers keyed
    by exercise id whose values are plain JSON data of bounded size and depth, short notes and
    reason, stops of known kinds with cell numbers (:func:`_validate_stops`), check cells, the
    cells that raised (:func:`_validate_errors`). Raises ``ValueError`` saying what is wrong."""
    if not raw:
        raise ValueError("no document")
    doc = untrusted.loads(raw, MAX_DOCUMENT, "document")
    if (not isinstance(doc, dict) or not DOC_KEYS <= set(doc) <= DOC_KEYS | OPTIONAL_KEYS
            or doc["format"] != runner.FORMAT):
        raise ValueError("not a document of this grader")
    if not isinstance(doc["answers"], dict) or not isinstance(doc["notes"], list) or not isinstance(doc["reason"], str):
        raise ValueError("wrong types")
    if not all(isinstance(n, str) for n in doc["notes"]):
        raise ValueError("notes that are not text")
    return {"answers": validate_answers(doc["answers"]), "notes": [display(n[:200]) for n in doc["notes"][:50]],
            "reason": display(doc["reason"][:300]), "stops": _validate_stops(doc["stops"]),
            "checks": _validate_checks(doc["checks"]), "errors": _validate_errors(doc.get("errors", []))}


def _cell_number(x) -> bool:
    return x is None or (type(x) is int and 0 < x < 10**6)


def _validate_stops(stops) -> list:
    """At most 20 stops ``{"kind": one of runner.STOP_KINDS, "cell": int | None, "limit": number | None}``."""
    if not isinstance(stops, list) or len(stops) > 20:
        raise ValueError("stops that are not a short list")
    for s in stops:
        if (not isinstance(s, dict) or set(s) != {"kind", "cell", "limit"} or s["kind"] not in runner.STOP_KINDS
                or not _cell_number(s["cell"]) or not (s["limit"] is None or (type(s["limit"]) in (int, float)
                                                                             and 0 <= s["limit"] < 1e7))):
            raise ValueError("a stop that is not {kind, cell, limit}")
    return stops


def _validate_checks(checks) -> list:
    """At most 500 ``[exercise id (short printable text), cell number]`` pairs."""
    if not isinstance(checks, list) or len(checks) > 500:
        raise ValueError("checks that are not a short list")
    for c in checks:
        if (not isinstance(c, list) or len(c) != 2 or not isinstance(c[0], str) or len(c[0]) > 60
                or type(c[1]) is not int or not _cell_number(c[1])):
            raise ValueError("a check that is not [id, cell]")
    return [[display(i), k] for i, k in checks]


def _validate_errors(errors) -> list:
    """At most ``runner.MAX_ERRORS`` ``{"cell": cell number, "type": text, "message": text}``
    (plain data within :data:`ERROR_CAPS`); each text made printable and cut to its length."""
    if not isinstance(errors, list) or len(errors) > runner.MAX_ERRORS or not untrusted.is_plain(errors, ERROR_CAPS):
        raise ValueError("errors that are not a short list")
    for e in errors:
        if (not isinstance(e, dict) or set(e) != {"cell", "type", "message"} or type(e["cell"]) is not int
                or not _cell_number(e["cell"]) or not isinstance(e["type"], str) or not isinstance(e["message"], str)):
            raise ValueError("an error that is not {cell, type, message}")
    return [{"cell": e["cell"], "type": display(e["type"][:runner.MAX_ERROR_TYPE]),
             "message": display(e["message"][:runner.MAX_ERROR_MESSAGE])} for e in errors]


def validate_answers(answers: dict) -> dict:
    """Answers for known exercise ids with plain, bounded values; an unknown id keeps only its
    (printable, short) name so that the gradebook can list it."""
    if len(answers) > MAX_IDS:
        raise ValueError("too many exercise ids")
    budget = [ANSWER_CAPS.values]
    out = {}
    for ex_id, ans in answers.items():
        if not isinstance(ex_id, str) or not isinstance(ans, dict) or not isinstance(ans.get("t"), str):
            raise ValueError("an answer that is not a tagged object")
        if ex_id in registry.EXERCISES:
            try:
                untrusted.check_plain(ans, ANSWER_CAPS, budget)
                out[ex_id] = ans
            except ValueError as exc:
                out[ex_id] = {"t": "bad", "v": str(exc)}
        else:
            out[display(ex_id[:60])] = {"t": "bad", "v": "an unknown exercise id"}
    return out
