"""Shared fixtures: where the book lives and which notebooks it has."""

from __future__ import annotations

from pathlib import Path

import os

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The built website; SOFTMAXBOOK_SITE points the tests at another build output.
SITE = Path(os.environ.get("SOFTMAXBOOK_SITE", ROOT / "_build" / "html"))

#: The Chinese edition: its language, and where it is in the site.
ZH, ZH_DIR = "zh_CN", "zh_CN"

#: Pages whose Chinese translation is complete today (catalogue 100 % translated, none
#: fuzzy, up to date with the English text). THE ONE LIST TO EXTEND when a page is
#: translated: the catalogue, terminology and Chinese-site tests then cover it, and the
#: pages not listed are reported as pending (xfail) by tests/test_translations.py.
TRANSLATED_PAGES = ["intro", "glossary", "bibliography", "claims",
                    "chapters/01_exponential_family", "chapters/02_hessian_is_variance",
                    "chapters/03_coding_three_symbols", "chapters/04_logsumexp_limits",
                    "chapters/01_exponential_family_further", "chapters/02_hessian_is_variance_further",
                    "chapters/03_coding_three_symbols_further", "chapters/04_logsumexp_limits_further",
                    "exercises/ex1_exponential_family", "exercises/ex2_hessian",
                    "exercises/ex3_coding", "exercises/ex4_logsumexp"]


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


@pytest.fixture(scope="session")
def base_url(site):
    """The built site served on 127.0.0.1 (the browser tests of every module share it)."""
    from browser import serve

    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test module (browser.chromium)."""
    from browser import chromium

    with chromium() as b:
        yield b
