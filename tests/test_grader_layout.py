"""The grader's folder reads as the pipeline (issue 25): its modules import one another at their
top only (no import hidden inside a function, where a cycle would not show), never a private
name of another module, and stay short enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

GRADER = ROOT / "softmaxbook" / "grader"
MODULES = sorted(GRADER.rglob("*.py"))
MAX_LINES = 350
# Older modules over the limit, each held at its size until it is split (issue 25 split the batch,
# the math parser, the prose reader and the answer kinds).
LARGER = {"jail.py": 416}


def _grader_imports(code: str, package: list[str]):
    """``(node, inside a function, module name, imported names)`` of each import of a grader
    module in ``code``, the source of a module of ``package`` (``["softmaxbook", "grader"]``)."""
    tree = ast.parse(code)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    inner = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            module, names = ".".join(a.name for a in node.names), []
        else:
            continue
        if module.startswith("softmaxbook.grader"):
            yield node, id(node) in inner, module, names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(GRADER)))
def test_a_grader_module_imports_the_others_at_its_top_and_no_private_name(path):
    package = ["softmaxbook", "grader"] + list(path.relative_to(GRADER).parent.parts)
    for node, inside, module, names in _grader_imports(path.read_text(encoding="utf-8"), package):
        assert not inside, f"{path.name}:{node.lineno} imports {module} inside a function"
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{path.name}:{node.lineno} imports private {private} from {module}"


def test_the_checks_see_a_hidden_and_a_private_import():
    """The check above is not blind: an import inside a function and a private name are found."""
    code = "from . import jail\nimport os\n\ndef f():\n    from .running import _package_dir\n"
    found = [(inside, module, names) for _, inside, module, names in _grader_imports(code, ["softmaxbook", "grader"])]
    assert found == [(False, "softmaxbook.grader", ["jail"]), (True, "softmaxbook.grader.running", ["_package_dir"])]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(GRADER)))
def test_no_grader_module_is_longer_than_350_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LARGER.get(path.name, MAX_LINES), f"{path.name}: {lines} lines"


def test_the_package_docstring_names_every_module():
    doc = ast.get_docstring(ast.parse((GRADER / "__init__.py").read_text(encoding="utf-8")))
    names = {p.stem for p in GRADER.glob("*.py")} - {"__init__"} | {"key"}
    assert not [n for n in sorted(names) if f":mod:`.{n}`" not in doc]
