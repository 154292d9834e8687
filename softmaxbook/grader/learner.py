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

from . import registry
from .answers import serialise
from .registry import Result

# What was checked in this kernel, as plain data: the batch grader harvests it
# (and re-grades it in its own process -- the verdicts here are never trusted).
_SUBMITTED: dict[str, dict] = {}


def check(exercise_id: str, answer=None) -> Result:
    """Grade ``answer`` for ``exercise_id``; returns a :class:`Result` (never raises)."""
    try:
        ex = registry.get(exercise_id)
    except KeyError as exc:
        if len(_SUBMITTED) < 200:  # lets the batch grader name the wrong ids in its report
            _SUBMITTED[str(exercise_id)[:60]] = {"t": "bad", "v": "an unknown exercise id"}
        return Result(str(exercise_id), False, 0.0, str(exc.args[0]) + " — see softmaxbook.grader.exercises()")
    except Exception:
        return Result(repr(exercise_id)[:40], False, 0.0, "the exercise id must be a string such as 'ch2.hessian'")
    try:
        ser = serialise(answer)
        result = ex.grade(ser, strict=False)
    except Exception as exc:  # a grader bug must not show the learner a traceback
        return Result(ex.id, False, 0.0, f"The grader could not check this answer ({type(exc).__name__}); "
                      "please report it to the course authors.")
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
        data = json.loads(progress_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(v, dict) and isinstance(v.get("score"), (int, float)) and k in registry.EXERCISES}


def _record(result: Result) -> None:
    data = load_progress()
    old = data.get(result.exercise_id, {})
    best = max(float(old.get("score", 0.0)), result.score)
    data[result.exercise_id] = {"score": best, "passed": bool(old.get("passed")) or result.passed,
                                "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        atomic_write(progress_path(), json.dumps(data, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only home must not break a check


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace`` (never half-written);
    a character UTF-8 cannot encode (a lone surrogate) is written as its escape."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic against a killed process (no fsync: not against power loss)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Progress:
    """Table of every exercise with its best stored score; renders in Jupyter."""

    def __init__(self, data: dict):
        self.rows = [(e.id, e.task, data.get(e.id)) for e in registry.EXERCISES.values()]

    @property
    def done(self) -> list[str]:
        return [i for i, _, r in self.rows if r and r.get("passed")]

    def _mark(self, r):
        if not r:
            return "not tried"
        return "done" if r.get("passed") else f"tried ({r['score']:.0%})"

    def __repr__(self) -> str:
        lines = [f"Progress: {len(self.done)} of {len(self.rows)} exercises done"]
        lines += [f"  {'✔' if r and r.get('passed') else '·'} {i:<22} {self._mark(r)}" for i, _, r in self.rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{'✔' if r and r.get('passed') else ''}</td><td><code>{html.escape(i)}</code></td>"
            f"<td>{html.escape(t)}</td><td style='white-space:nowrap'>{html.escape(self._mark(r))}</td></tr>" for i, t, r in self.rows)
        return (f"<p><b>Progress: {len(self.done)} of {len(self.rows)} exercises done</b></p>"
                f"<table><tr><th>done</th><th>id</th><th>task</th><th>status</th></tr>{body}</table>")


def progress() -> Progress:
    """Which exercises are done, across sessions (stored locally, no server)."""
    return Progress(load_progress())


class Listing:
    def __init__(self):
        self.rows = registry.listing()

    def __repr__(self) -> str:
        return "\n".join(f"{i:<22} {t}  [{a}]" for i, t, a in self.rows)

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td><code>{html.escape(i)}</code></td><td>{html.escape(t)}</td>"
                       f"<td>{html.escape(a)}</td></tr>" for i, t, a in self.rows)
        return f"<table><tr><th>id</th><th>task</th><th>answer</th></tr>{body}</table>"


def exercises() -> Listing:
    """Every exercise: id, one-line task and expected answer type."""
    return Listing()
