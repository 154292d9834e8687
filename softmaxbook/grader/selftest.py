"""The self-test of the batch grader (graded exercises, all chapters): before a class is graded,
a solved submission generated from the answer key must score full marks and a shipped one 0.

Each assignment's notebook (``exercises/<notebook>`` of the checkout when there is one, else a
notebook generated from the key with the answer cells where the key puts them) gets the key's
right answers in its answer cells (:func:`solved`): the reference of a symbolic or numeric
answer as the text the parser reads, the correct option, a function's solution from the hidden
cases. These and the first assignment's notebook as shipped (:func:`shipped`) are graded by the
caller through the very path the class takes (the same jail, pool or cluster, and grading), and
:func:`verdict` names what went wrong. A grader whose jail mounts one copy of the package while
the notebooks' Python imports another (an editable install of another checkout) grades every
solved notebook 0 % with ``ModuleNotFoundError``; :func:`diagnose` names that cause and its fix.
``python -m softmaxbook grade --self-test`` runs the check alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import sympy as sp

from . import key, registry, state
from .assignments import COURSE, Assignment, assignments
from .kinds import key_value
from .submissions import Unit

PACKAGE = Path(__file__).resolve().parents[1]       # the softmaxbook package the jail mounts
EXERCISES_DIR = PACKAGE.parent / "exercises"         # the checkout's exercise notebooks, when there
SETUP = "import numpy as np\nimport sympy as sp\n\nfrom softmaxbook.grader import check"


_PASSED: set = set()   # the settings under which the self-test passed in this process (run once per run)


class SelfTestFailed(RuntimeError):
    """The self-test did not give full marks to a solved notebook or 0 to a shipped one."""


def _literal(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(sp.sstr(value))


def answer_cell(ex) -> str:
    """The source of an answer cell giving exercise ``ex`` the key's right answer."""
    if ex.kind == "function":
        names = ex.names[0] if len(ex.names) == 1 else "(" + ", ".join(ex.names) + ")"
        return f'{ex.hidden.solution}\n\n\ncheck("{ex.id}", {names})'
    if ex.kind == "choice":
        value = repr(ex.correct)
    else:
        value = _literal(key_value(ex.reference, ex.key_names(), ex.shape))
    return f'answer = {value}\n\ncheck("{ex.id}", answer)'


def _notebook(a: Assignment, notebook: str):
    """The assignment's notebook as shipped: the checkout's file, else one built from the key."""
    path = EXERCISES_DIR / notebook
    if path.is_file():
        return jupytext.reads(path.read_text(encoding="utf-8"), fmt="md:myst")
    cells = [nbformat.v4.new_code_cell(SETUP)]
    for ex_id, cell in sorted(a.cells.items(), key=lambda kv: kv[1]):
        while len(cells) < cell - 1:
            cells.append(nbformat.v4.new_markdown_cell(f"## {ex_id}"))
        cells.append(nbformat.v4.new_code_cell(f'answer = ...\n\ncheck("{ex_id}", answer)'))
    return nbformat.v4.new_notebook(cells=cells)


def shipped(name: str) -> bytes:
    """Assignment ``name``'s notebook as shipped (.ipynb bytes)."""
    return nbformat.writes(_notebook(assignments()[name], _notebook_name(name))).encode()


def solved(name: str) -> bytes:
    """Assignment ``name``'s notebook with every answer cell holding the key's right answer."""
    a = assignments()[name]
    nb = _notebook(a, _notebook_name(name))
    for ex_id, cell in a.cells.items():
        if cell > len(nb.cells) or f'check("{ex_id}"' not in nb.cells[cell - 1].source:
            raise SelfTestFailed(f"the answer key puts the answer cell of {ex_id} at cell {cell} of {name}'s "
                                 "notebook, which has no check of it there: fix key/assignments.toml")
        nb.cells[cell - 1].source = answer_cell(registry.EXERCISES[ex_id])
    return nbformat.writes(nb).encode()


def _notebook_name(name: str) -> str:
    return key.load_assignments(registry.EXERCISES)[name]["notebook"]


def entries() -> dict[str, tuple[str, bytes]]:
    """``{entry name: (expectation, notebook bytes)}``: every assignment solved (``full``) and the
    first one as shipped (``zero``)."""
    names = [n for n in assignments() if n != COURSE]
    out = {f"selftest_{n}_solved.ipynb": ("full", solved(n)) for n in names}
    out[f"selftest_{names[0]}_shipped.ipynb"] = ("zero", shipped(names[0]))
    return out


def verdict(expected: dict[str, str], rows: dict[str, dict]) -> list[str]:
    """What went wrong, in words (empty: passed): each ``full`` entry must be graded with every
    score 1, each ``zero`` entry unanswered with every score 0."""
    problems = []
    for name, want in expected.items():
        row = rows.get(name)
        if row is None:
            problems.append(f"{name}: no result came back")
            continue
        scores = list(row["scores"].values())
        ok = (row["status"] == "graded" and scores and min(scores) == 1.0) if want == "full" else (
            row["status"] == "unanswered" and not any(scores))
        if not ok:
            got = f"{100 * sum(scores) / max(1, len(scores)):.0f} %, {row['status']}"
            why = "; ".join([row["reason"]] + row["notes"][:3]).strip("; ")
            problems.append(f"{name} scored {got} (expected {'100 %, graded' if want == 'full' else '0 %, unanswered'})"
                            + (f": {why}" if why else ""))
    return problems


def kernel_package() -> str:
    """Where this Python, started as the jail starts it (``-P``, outside the checkout), imports
    ``softmaxbook`` from ('' when it cannot)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import importlib.util as u; s = u.find_spec('softmaxbook'); print(s.origin if s and s.origin else '')"
    try:
        out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=30,
                             cwd="/", env=env)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


def diagnose() -> str:
    """The likely cause of a failed self-test and its fix."""
    origin = kernel_package()
    here = PACKAGE / "__init__.py"
    if origin and Path(origin).resolve() != here:
        other = Path(origin).resolve().parent
        return (f"Cause: the grader runs the package at {PACKAGE}, but this Python ({sys.executable}) imports "
                f"softmaxbook from {other} (an editable install of another checkout?). The jail mounts only "
                f"{PACKAGE}, so every notebook's 'import softmaxbook' fails there.\nFix: install this checkout "
                f"into the environment ('{sys.executable} -m pip install -e {PACKAGE.parent}'), or run the grader "
                f"from {other.parent}.")
    if not origin and importlib.util.find_spec("softmaxbook") is None:
        return "Cause: softmaxbook is not installed in this Python.\nFix: 'python -m pip install -e .' in the checkout."
    return ("Cause: not found automatically; the reasons above name the cell that failed.\nFix: run "
            "'python -m softmaxbook.grader.key --functions' to check the key, and 'python -m softmaxbook grade "
            "--self-test' again after the fix.")


def run(grade, settings: tuple, log=print) -> float | None:
    """Run the self-test once per process for ``settings`` (what may change its outcome: sandbox,
    the key's fingerprint): ``grade(units)`` grades a list of :class:`.submissions.Unit` the way the
    class is graded and gives ``{name: row}``. Returns its seconds (``None``: passed before in this
    process); raises :class:`SelfTestFailed` with the problems, the cause and the fix."""
    if settings in _PASSED:
        return None
    t0 = time.perf_counter()
    expected, folder = {}, Path(tempfile.mkdtemp(prefix="softmaxbook-selftest-"))
    try:
        units = []
        for name, (want, data) in entries().items():
            (folder / name).write_bytes(data)
            expected[name] = want
            units.append(Unit(name, [folder / name]))
        rows = grade(units)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    problems = verdict(expected, rows)
    seconds = time.perf_counter() - t0
    if problems:
        raise SelfTestFailed("self-test failed: a submission generated from the answer key was not graded as it "
                             "must be, so grading this class would give wrong grades.\n  - " + "\n  - ".join(problems)
                             + "\n" + diagnose())
    _PASSED.add(settings)
    log(f"self-test passed in {seconds:.1f} s: {len(expected) - 1} solved notebooks full marks, a shipped one 0")
    return seconds


def run_with(graded, sandbox: bool, scheduler=None, fps=None, log=print) -> float | None:
    """The self-test (:func:`run`) through ``graded`` (:func:`.batch._graded` with the run's
    settings), once per process for the same sandbox, scheduler and key; its seconds."""
    fps = state.fingerprints() if fps is None else fps
    settings = (sandbox, scheduler, hashlib.sha256(str(sorted(fps.items())).encode()).hexdigest())
    return run(lambda batch: {u.name: row for u, row in graded(batch)}, settings, log)


def all_zero(rows) -> list[str]:
    """A warning per assignment whose every entry got 0 or is unanswered."""
    out = []
    for a in sorted({r.get("assignment") for _, r in rows} - {None, COURSE}) + [COURSE]:
        mine = [r for _, r in rows if r.get("assignment") == a]
        if mine and all(r["status"] == "unanswered" or not any(r["scores"].values()) for r in mine):
            out.append(f"warning: every one of the {len(mine)} entries of {a} got 0 or is unanswered: a whole "
                       "class rarely does; check the reasons and the feedback (and run grade --self-test)")
    return out
