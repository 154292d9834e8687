"""Every chapter and exercise notebook runs top to bottom in a fresh kernel."""

from __future__ import annotations

import pytest

from conftest import ROOT, notebook_paths
from nbrun import execute

NOTEBOOKS = notebook_paths()


def test_the_book_has_four_chapters_and_four_exercise_notebooks():
    names = [p.relative_to(ROOT).parts[0] for p in NOTEBOOKS]
    core = [p.stem for p in NOTEBOOKS if p.parent.name == "chapters" and not p.stem.endswith("_further")]
    further = [p.stem for p in NOTEBOOKS if p.parent.name == "chapters" and p.stem.endswith("_further")]
    assert len(core) == 4
    assert all(f.removesuffix("_further") in core for f in further), further  # a child of its chapter
    assert names.count("exercises") == 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_without_error(path):
    nb = execute(path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "no cell produced output"
