"""The submissions folder (graded exercises, all chapters): the first step of the batch grader.

Every entry of the folder is one :class:`Unit`: a notebook at the top, a learner's folder of
notebooks, or an entry skipped with its reason. Symbolic links are never followed, special
files and files over :data:`MAX_NOTEBOOK_BYTES` are not read (:func:`read_submission`), and
names that are not UTF-8 are kept (surrogate-escaped) and shown escaped (:func:`display`).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .result import printable

SUFFIXES = (".ipynb", ".md")
MAX_NOTEBOOK_BYTES = 32 * 2**20      # a submitted file larger than this is not read
MAX_NOTEBOOKS = 50                   # per learner folder
MAX_WALK = 5_000                     # entries looked at inside one learner folder


@dataclass
class Unit:
    """One entry of the submissions folder: its name (``str``, surrogate-escaped when not
    UTF-8), the notebook files to run, or the reason it is not run."""
    name: str
    paths: list = field(default_factory=list)
    problem: str = ""            # why nothing is run (then the row's status is ``status``)
    status: str = "skipped"
    notes: list = field(default_factory=list)


def display(name: str) -> str:
    """A file name (or any learner-controlled text) as printable text: bytes that are not UTF-8
    as ``\\xNN``, control characters and lone surrogates escaped (so a name cannot start a
    gradebook cell with a tab, move the cursor or stop a file from being written); see
    :func:`.result.printable`."""
    return printable(name)


def why_not_read(st) -> str:
    """Why an entry of this ``os.lstat`` result is not read, in words ("" for a file or folder)."""
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link (not followed)"
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return ""
    return "a special file (device, pipe or socket)"


def find_submissions(folder: Path, exclude=()) -> list[Unit]:
    """Every entry of ``folder`` but ``exclude`` (the grader's own outputs), in byte order of
    their names: each notebook file at the top is one submission; each sub-folder is one
    learner's submission made of every notebook inside it; anything else is a unit with the
    reason it is skipped."""
    folder = Path(folder)
    exclude = {os.path.abspath(p) for p in exclude}
    temporary = tuple(f".{os.path.basename(p)}." for p in exclude)   # atomic_write's temporary files
    units = []
    for name in sorted(os.listdir(folder), key=os.fsencode):
        path = folder / name
        if os.path.abspath(path) in exclude or (temporary and name.startswith(temporary)):
            continue
        if name.startswith("."):
            units.append(Unit(name, problem="a hidden entry (its name starts with a dot)"))
            continue
        try:
            st = os.lstat(path)
        except OSError as exc:
            units.append(Unit(name, problem=f"cannot be read ({exc.strerror})"))
            continue
        if why_not_read(st):
            units.append(Unit(name, problem=why_not_read(st)))
        elif stat.S_ISDIR(st.st_mode):
            units.append(_folder_unit(name, path))
        elif path.suffix not in SUFFIXES:
            units.append(Unit(name, problem="not a notebook (.ipynb or jupytext .md)"))
        elif st.st_size > MAX_NOTEBOOK_BYTES:
            units.append(Unit(name, problem=f"file too large ({st.st_size} bytes; at most {MAX_NOTEBOOK_BYTES})",
                              status="error"))
        else:
            units.append(Unit(name, [path]))
    return units


def _folder_unit(name: str, path: Path) -> Unit:
    unit, seen = Unit(name), 0
    for top, dirs, files in os.walk(path):   # never follows links to folders
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=os.fsencode)
        for f in sorted(files, key=os.fsencode):
            seen += 1
            if seen > MAX_WALK:
                unit.notes.append(f"more than {MAX_WALK} entries: the rest is ignored")
                break
            p = Path(top) / f
            rel = display(str(p.relative_to(path)))
            if f.startswith(".") or p.suffix not in SUFFIXES:
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if why_not_read(st):
                unit.notes.append(f"{rel} skipped: {why_not_read(st)}")
            elif st.st_size > MAX_NOTEBOOK_BYTES:
                unit.notes.append(f"{rel} skipped: file too large ({st.st_size} bytes)")
            elif len(unit.paths) >= MAX_NOTEBOOKS:
                unit.notes.append(f"{rel} skipped: more than {MAX_NOTEBOOKS} notebooks")
            else:
                unit.paths.append(p)
        else:
            continue
        break
    if not unit.paths:
        unit.problem = "a folder without any notebook" + (f" ({'; '.join(unit.notes[:3])})" if unit.notes else "")
    return unit


def read_submission(path) -> bytes:
    """Bytes of a submitted regular file: never follows a link, never opens a special file,
    never reads more than :data:`MAX_NOTEBOOK_BYTES` (raises ``ValueError`` with the reason)."""
    return read_file(path, MAX_NOTEBOOK_BYTES, follow_links=False)


def read_text(path, cap: int) -> str:
    """The text of a UTF-8 file of the instructor's (a roster, overrides), at most ``cap`` bytes,
    never hanging on a pipe or a device; ``ValueError`` with the reason (the line of the first
    byte that is not UTF-8)."""
    raw = read_file(path, cap)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"line {line}: not UTF-8 text (save the file as UTF-8)") from None


def read_file(path, cap: int, follow_links: bool = True) -> bytes:
    """Bytes of a regular file, at most ``cap`` (``ValueError`` with the reason otherwise: a
    special file, a link when not ``follow_links``, too large, unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW))
    except OSError as exc:
        raise ValueError(f"cannot be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(cap + 1)
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise ValueError(f"file too large (more than {cap} bytes)")
    return data
