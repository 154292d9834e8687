"""Claims the build checks (issue 22): every computed result a chapter states is guarded.

A chapter page shows computed results in two ways: the output of a visible cell (``print``)
and numbers glued into the prose (``glue`` / ``{glue:text}``). Both are backed by
assertions that run when the book is built, so that ``make book`` fails the day a claim
stops holding (a stale variable, a changed function):

* ``glue`` is build plumbing: it is called only in cells tagged ``remove-cell``, and each
  such cell asserts what the prose says about the values it glues;
* a visible cell that prints a result is followed right away by a ``remove-cell`` guard
  that asserts it (or asserts it itself);
* within one page, a name is bound at the top level in one ``##`` section only, so that a
  later section cannot print an object that an earlier one reassigned.

The counts per page (results, guarded results, assertions) are written to
``_build/claim-guards.json`` for the record.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT, toc_files

PAGES = [f for f in toc_files() if f.startswith("chapters/")]
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
_ASSERT = re.compile(r"^\s*(assert\b|np\.testing\.assert_|numpy\.testing\.assert_)", re.M)
_GLUE = re.compile(r"(?<![\w.])glue\(")
_PRINT = re.compile(r"(?<![\w.])print\(")
_BIND = re.compile(r"^((?:[A-Za-z_]\w*\s*,\s*)*[A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")
#: Names that may be rebound in any section (throwaway targets).
FREE_NAMES = {"_"}


def cells(text: str):
    """(line, tags, source, section) of each code cell of a MyST notebook page."""
    section = "(top)"
    pos = 0
    for m in _CELL.finditer(text):
        for heading in re.finditer(r"^##\s+(.*)$", text[pos:m.start()], re.M):
            section = heading.group(1).strip()
        pos = m.end()
        lines = m.group(1).splitlines()
        tags: list[str] = []
        while lines and lines[0].startswith(":"):
            opt = lines.pop(0)
            if opt.startswith(":tags:"):
                tags = re.findall(r"[\w-]+", opt.split(":", 2)[2])
        yield text[:m.start()].count("\n") + 1, tags, "\n".join(lines), section


def audit(text: str) -> dict:
    """Counts and problems of one page's source."""
    report = {"results": 0, "guarded": 0, "assertions": 0, "problems": []}
    listed = list(cells(text))
    bound: dict[str, str] = {}
    for k, (line, tags, src, section) in enumerate(listed):
        removed = "remove-cell" in tags
        report["assertions"] += len(_ASSERT.findall(src))
        if "from myst_nb import glue" in src and not removed:
            report["problems"].append(f"line {line}: `from myst_nb import glue` in a visible cell")
        glues = len(_GLUE.findall(src))
        if glues and not removed:
            report["problems"].append(f"line {line}: glue() in a visible cell (tag it remove-cell)")
        if glues:
            report["results"] += glues
            if _ASSERT.search(src):
                report["guarded"] += glues
            else:
                report["problems"].append(f"line {line}: glues {glues} value(s) without an assertion")
        if _PRINT.search(src) and not removed:
            report["results"] += 1
            after = listed[k + 1] if k + 1 < len(listed) else None
            guard = after is not None and "remove-cell" in after[1] and _ASSERT.search(after[2])
            if _ASSERT.search(src) or guard:
                report["guarded"] += 1
            else:
                report["problems"].append(f"line {line}: prints a result with no assertion right after it")
        for statement in src.splitlines():
            m = _BIND.match(statement)
            if not m:
                continue
            for name in (n.strip() for n in m.group(1).split(",")):
                if name in FREE_NAMES:
                    continue
                first = bound.setdefault(name, section)
                if first != section:
                    report["problems"].append(
                        f"line {line}: `{name}` rebound in section {section!r} (first bound in {first!r})")
    return report


@pytest.mark.parametrize("page", PAGES)
def test_every_stated_result_is_guarded_by_an_assertion(page):
    report = audit((ROOT / f"{page}.md").read_text(encoding="utf-8"))
    assert not report["problems"], f"{page}:\n  " + "\n  ".join(report["problems"])
    assert report["results"] == report["guarded"]


def test_record_the_counts_per_page():
    counts = {page: {k: v for k, v in audit((ROOT / f"{page}.md").read_text(encoding="utf-8")).items()
                     if k != "problems"} for page in PAGES}
    out = ROOT / "_build" / "claim-guards.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(counts, indent=1))
    assert all(c["assertions"] >= 5 for page, c in counts.items() if "further" not in page), counts


def test_the_audit_finds_what_it_should():
    src = ("## A\n```{code-cell} ipython3\nH = 1\nprint(H)\n```\n"
           "```{code-cell} ipython3\n:tags: [remove-cell]\nassert H == 1\nglue('h', H)\n```\n"
           "## B\n```{code-cell} ipython3\nH = 2\nprint(H)\n```\n"
           "```{code-cell} ipython3\nglue('x', 3)\n```\n")
    report = audit(src)
    assert report["results"] == 4 and report["guarded"] == 2 and report["assertions"] == 1
    problems = "\n".join(report["problems"])
    assert "`H` rebound in section 'B'" in problems
    assert "prints a result with no assertion" in problems
    assert "glue() in a visible cell" in problems
    assert "without an assertion" in problems
