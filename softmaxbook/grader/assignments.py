"""Assignments (graded exercises, all chapters): which one a submission is, from the exercise
ids it checks.

An assignment is one notebook of ``exercises/``; the answer key says which exercises it has,
in which order, and where each answer cell is in the notebook as shipped
(``key/assignments.toml``, read by :func:`.key.load_assignments`), so grading never reads
``exercises/`` and an installed package grades as this repository does. ``course`` is the
whole course: the assignment of a notebook made of several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import key, registry

COURSE = "course"
# ``check("<id>"`` in a notebook file's bytes, also as an .ipynb stores it (quotes escaped in
# JSON). runner.py, which runs standalone in the jail, has its own copy for cell sources.
CHECK_CALL = re.compile(rb"""check\(\s*\\?["']([A-Za-z0-9_.]{1,60})\\?["']""")


@dataclass
class Assignment:
    """One exercise notebook: ``name`` (its file's prefix, ``ex4``), title, exercise ids in
    the notebook's order and the cell number of each id's answer cell in the shipped notebook."""
    name: str
    title: str
    ids: list
    cells: dict = field(default_factory=dict)


def _from_key() -> dict[str, Assignment]:
    found = {name: Assignment(name, a["title"], list(a["cells"]), dict(a["cells"]))
             for name, a in key.load_assignments(registry.EXERCISES).items()}
    return {**found, COURSE: Assignment(COURSE, "The whole course", list(registry.EXERCISES))}


_ASSIGNMENTS: dict[str, Assignment] = _from_key()


def assignments() -> dict[str, Assignment]:
    """The assignments, ``{"ex1": Assignment, ..., "course": Assignment}``."""
    return _ASSIGNMENTS


def exercise_ids(assignment) -> list[str]:
    """Columns of an assignment's gradebook (the whole course for ``None``)."""
    return _ASSIGNMENTS[assignment or COURSE].ids


def checked_ids(data: bytes) -> list[str]:
    """The ids of the ``check("<id>"`` calls in a notebook file's bytes, sorted (also when the
    file is not a readable notebook)."""
    return sorted({m.decode() for m in CHECK_CALL.findall(data)})


def recognise(ids) -> str | None:
    """The assignment whose exercises share most ids with ``ids``: ``None`` when none does,
    the whole course when two share the most (a notebook made of several assignments)."""
    ids = set(ids)
    counts = sorted(((len(ids & set(a.ids)), name) for name, a in _ASSIGNMENTS.items() if name != COURSE),
                    reverse=True)
    if not counts or not counts[0][0]:
        return None
    return COURSE if len(counts) > 1 and counts[1][0] == counts[0][0] else counts[0][1]
