"""Learner side of the graded exercises: ``check``, ``progress``, ``exercises``.

Used by every graded notebook in ``exercises/``::

    from softmaxbook.grader import check, progress
    check("ch2.hessian", H)      # shows right/wrong, a score and specific feedback

``check`` never raises and never shows the reference answer or the test source. Math
strings are parsed in this process through a whitelist (cheap and bounded). A function
answer is pickled by value and run in a fresh interpreter, exactly as the batch grader
runs it (:func:`.sandbox.run_functions`: inside bubblewrap where it works, without the
course package, every wait with a deadline and the whole process group killed at
4.5 s; an encoder and its decoder run in one interpreter each), so ``check`` always returns and agrees with the batch grade. Results are remembered in a small JSON file (see
:func:`progress_path`) so that :func:`progress` works across sessions without a server.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import time
from pathlib import Path

from ..i18n import _, alternatives
from . import registry
from .answers import serialise
from .registry import Result
from .result import now

# What was checked in this kernel, as plain data: the batch grader harvests it
# (and re-grades it in its own process -- the verdicts here are never trusted).
_SUBMITTED: dict[str, dict] = {}
MAX_PROGRESS_BYTES = 1_000_000      # a progress file of every exercise is about 2 kB


def check(exercise_id: str, answer=None) -> Result:
    """Grade ``answer`` for ``exercise_id``; returns a :class:`Result` (never raises)."""
    try:
        ex = registry.get(exercise_id)
    except KeyError as exc:
        if len(_SUBMITTED) < 200:  # lets the batch grader name the wrong ids in its report
            _SUBMITTED[str(exercise_id)[:60]] = {"t": "bad", "v": "an unknown exercise id"}
        return Result(str(exercise_id), False, 0.0, _("{problem} — see softmaxbook.grader.exercises()").format(
            problem=str(exc.args[0])))
    except Exception:
        return Result(repr(exercise_id)[:40], False, 0.0, _("the exercise id must be a string such as 'ch2.hessian'"))
    try:
        ser = serialise(answer)
        result = ex.grade(ser)
    except Exception as exc:  # a grader bug must not show the learner a traceback
        return Result(ex.id, False, 0.0, _("The grader could not check this answer ({error}); "
                                           "please report it to the course authors.").format(error=type(exc).__name__))
    if result.answered:
        _SUBMITTED[ex.id] = ser
        _record(result)
        _journal(ex.id, ser)
    return result


def _journal(ex_id: str, ser: dict) -> None:
    """Under the batch grader, also append the answer to its journal file right away, so
    that answers checked before a kernel crash or an endless cell are not lost."""
    path = os.environ.get("SOFTMAXBOOK_HARVEST")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"id": ex_id, "answer": ser}, default=str) + "\n")
    except (OSError, ValueError):
        pass


def submitted() -> dict:
    """The answers checked in this session (plain data), for the batch grader's harvest."""
    return dict(_SUBMITTED)


# --------------------------------------------------------------------------- progress

def progress_path() -> Path:
    """``$SOFTMAXBOOK_PROGRESS`` or ``~/.softmaxbook/progress.json``."""
    env = os.environ.get("SOFTMAXBOOK_PROGRESS")
    return Path(env) if env else Path.home() / ".softmaxbook" / "progress.json"


def load_progress() -> dict:
    """Stored best results ``{id: {"score", "passed", "time"}}``; ``{}`` if missing or corrupt."""
    try:
        return _valid_records(json.loads(progress_path().read_text()))
    except (OSError, ValueError):
        return {}


def _valid_records(data) -> dict:
    """The well-formed records of known exercises in ``data`` (a parsed progress file)."""
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(v, dict) and isinstance(v.get("score"), (int, float)) and not isinstance(v["score"], bool)
            and 0 <= v["score"] <= 1 and k in registry.EXERCISES}


def _record(result: Result) -> None:
    try:
        _merge({result.exercise_id: {"score": result.score, "passed": result.passed}})
    except OSError:
        pass  # a read-only home must not break a check


def _merge(records: dict) -> None:
    """Store the best of the stored and the given results (a pass is never undone)."""
    data = load_progress()
    for ex_id, new in records.items():
        old = data.get(ex_id, {})
        data[ex_id] = {"score": max(float(old.get("score", 0.0)), float(new["score"])),
                       "passed": bool(old.get("passed")) or bool(new.get("passed")),
                       "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    atomic_write(progress_path(), json.dumps(data, indent=1, sort_keys=True))


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` via a temporary file and ``os.replace`` (never
    half-written); a character UTF-8 cannot encode (a lone surrogate) is written as its escape."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes)
              else os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")) as f:
            f.write(text)
        os.replace(tmp, path)  # atomic against a killed process (no fsync: not against power loss)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Progress:
    """Table of every exercise with its best stored score, and where it is stored; renders in
    Jupyter. ``export(path)`` copies it to a file to keep (a Binder session forgets it)."""

    def __init__(self, data: dict):
        self.data = data
        self.path = progress_path()
        self.rows = [(e.id, e.task, data.get(e.id)) for e in registry.EXERCISES.values()]

    @property
    def done(self) -> list[str]:
        return [i for i, _, r in self.rows if r and r.get("passed")]

    @property
    def where(self) -> str:
        """Where the progress lives, and how to carry it to another session."""
        home = str(Path.home())
        shown = "~" + str(self.path)[len(home):] if str(self.path).startswith(home + os.sep) else str(self.path)
        return str(now(_("Stored in {path} on the computer that runs this notebook (across sessions there). "
                         "A Binder session forgets it when it closes: progress().export('my-progress.json') writes a "
                         "copy to download, and import_progress('my-progress.json') (from softmaxbook.grader) loads "
                         "it back, keeping the best score of each exercise.").format(path=shown)))

    def export(self, path="my-progress.json") -> Path:
        """Write the stored results to ``path`` (JSON, the format of the progress file); returns its path."""
        path = Path(path).expanduser()
        atomic_write(path, json.dumps(self.data, indent=1, sort_keys=True))
        return path.resolve()

    def _mark(self, r):
        if not r:
            return str(now(_("not tried")))
        return str(now(_("done") if r.get("passed") else _("tried ({score})").format(score=f"{r['score']:.0%}")))

    def _headline(self) -> str:
        return str(now(_("Progress: {done} of {n} exercises done").format(done=len(self.done), n=len(self.rows))))

    def __repr__(self) -> str:
        lines = [self._headline()]
        lines += [f"  {'✔' if r and r.get('passed') else '·'} {i:<22} {self._mark(r)}" for i, _, r in self.rows]
        return "\n".join(lines + [self.where])

    def _repr_html_(self) -> str:
        return alternatives(self._html)

    def _html(self) -> str:
        body = "".join(
            f"<tr><td>{'✔' if r and r.get('passed') else ''}</td><td><code>{html.escape(i)}</code></td>"
            f"<td>{html.escape(now(t))}</td><td style='white-space:nowrap'>{html.escape(self._mark(r))}</td></tr>"
            for i, t, r in self.rows)
        head = "".join(f"<th>{html.escape(now(h))}</th>" for h in (_("done"), _("id"), _("task"), _("status")))
        return (f"<p><b>{html.escape(self._headline())}</b></p>"
                f"<table><tr>{head}</tr>{body}</table>"
                f"<p>{html.escape(self.where)}</p>")


def progress() -> Progress:
    """Which exercises are done, across sessions (stored locally, no server; ``.where`` says where)."""
    return Progress(load_progress())


def import_progress(path) -> Progress:
    """Merge a progress file written by ``progress().export(path)`` (or a copy of the progress
    file itself) into this computer's progress, keeping the best score of each exercise.
    Raises ``ValueError`` naming what is wrong when ``path`` is not such a file."""
    path = Path(path).expanduser()
    try:
        if path.stat().st_size > MAX_PROGRESS_BYTES:
            raise ValueError(f"{path} is too large to be a progress file ({path.stat().st_size} bytes)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError(f"{path} is not a progress file (not JSON); write one with progress().export(path)") from None
    records = _valid_records(data)
    if not isinstance(data, dict) or (data and not records):
        raise ValueError(f"{path} is not a progress file of this course (no result of a known exercise)")
    try:
        _merge(records)
    except OSError as exc:
        raise ValueError(f"cannot store the progress in {progress_path()}: {exc.strerror or exc}") from None
    return progress()


class Listing:
    def __init__(self):
        self.rows = [(i, str(now(t)), str(now(a))) for i, t, a in registry.listing()]

    def __repr__(self) -> str:
        return "\n".join(f"{i:<22} {t}  [{a}]" for i, t, a in self.rows)

    def _repr_html_(self) -> str:
        return alternatives(self._html)

    def _html(self) -> str:
        body = "".join(f"<tr><td><code>{html.escape(i)}</code></td><td>{html.escape(now(t))}</td>"
                       f"<td>{html.escape(now(a))}</td></tr>" for i, t, a in registry.listing())
        head = "".join(f"<th>{html.escape(now(h))}</th>" for h in (_("id"), _("task"), _("answer")))
        return f"<table><tr>{head}</tr>{body}</table>"


def exercises() -> Listing:
    """Every exercise: id, one-line task and expected answer type."""
    return Listing()
