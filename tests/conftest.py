"""Shared fixtures: where the book lives and which notebooks it has."""

from __future__ import annotations

from pathlib import Path

import os

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The built website; SOFTMAXBOOK_SITE points the tests at another build output.
SITE = Path(os.environ.get("SOFTMAXBOOK_SITE", ROOT / "_build" / "html"))


def toc_files() -> list[str]:
    """Every page listed in _toc.yml, in reading order (without extension)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part["chapters"])
    return files


def notebook_paths() -> list[Path]:
    """Chapter and exercise notebooks (MyST Markdown with a kernelspec)."""
    paths = []
    for name in toc_files():
        path = ROOT / f"{name}.md"
        if path.exists() and "kernelspec:" in path.read_text().split("\n---", 1)[0]:
            paths.append(path)
    return paths


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (make test does it first)")
    return SITE


# One served site and one Chromium for every browser test module (Playwright's sync API
# cannot run two at once in one process).
@pytest.fixture(scope="session")
def base_url(site):
    from browser import serve

    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from browser import chromium

    with chromium() as b:
        yield b
