"""The built website, and the strictness of the build that makes it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, notebook_paths, toc_files

CHAPTERS = [f for f in toc_files() if f.startswith("chapters/")]
#: The four core pages; each may have a "Going further" child page (``..._further``).
CORE = [f for f in CHAPTERS if not f.endswith("_further")]


def test_every_page_of_the_toc_is_built(site):
    for name in toc_files():
        assert (site / f"{name}.html").is_file(), name


def test_the_sidebar_lists_the_four_chapters_in_reading_order(site):
    html = (site / "intro.html").read_text()
    nav = html[html.index('class="bd-sidebar-primary') :]
    positions = [nav.index(f'href="{name}.html"') for name in CORE]
    assert len(CORE) == 4 and positions == sorted(positions)


def test_each_further_page_follows_its_chapter():
    """A child page ``0N_x_further`` comes right after ``0N_x`` in the reading order."""
    for name in CHAPTERS:
        if name.endswith("_further"):
            parent = name.removesuffix("_further")
            assert parent in CORE and CHAPTERS.index(name) == CHAPTERS.index(parent) + 1, name


def test_pages_carry_a_download_button_and_binder_only_with_a_course_home(site):
    """The site as built: with the placeholder home no page links to it (no Binder, repository
    or clone link); with a real one, every notebook page has its Binder button.
    tests/test_site_sphinxext.py builds a small course both ways."""
    import yaml

    from softmaxbook.sphinxext import PLACEHOLDER_HOME, course_home

    home = course_home({"repository_url": yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]})
    notebooks = {p.relative_to(ROOT).with_suffix("").as_posix() for p in notebook_paths()}
    for name in toc_files()[1:]:
        html = (site / f"{name}.html").read_text()
        assert re.search(r"_sources/[^\"]+\.(md|ipynb)", html), f"{name}: no download button"
        if home:
            assert name not in notebooks or "mybinder.org/v2/" in html, f"{name}: no Binder launch button"
        else:
            text = re.sub(r"<[^>]+>", "", html)
            for leak in (PLACEHOLDER_HOME, "OWNER/REPOSITORY", "mybinder", "git clone", "repository-button"):
                assert leak not in html and leak not in text, f"{name}: {leak}"
    if not home:
        assert "rocket" not in (site / "intro.html").read_text(), "the intro names no button the pages lack"


def _mini_book(tmp_path: Path, cell: str) -> Path:
    """A one-page copy of this book's configuration around a notebook with ``cell``."""
    book = tmp_path / "book"
    book.mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book)
    shutil.copytree(ROOT / "_static", book / "_static")  # favicon, stylesheet named by the config
    shutil.copy(ROOT / "references.bib", book)  # named by the config
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    header = (ROOT / CHAPTERS[0]).with_suffix(".md").read_text().split("\n---", 1)[0] + "\n---\n"
    (book / "page.md").write_text(header + "\n# Page\n\n```{code-cell} ipython3\n" + cell + "\n```\n")
    return book


def _strict_build(book: Path) -> subprocess.CompletedProcess:
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run(
        [str(jb), "build", str(book), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=600,
    )


def test_strict_build_fails_when_a_notebook_raises(tmp_path):
    """The same configuration accepts a healthy page and rejects a raising one."""
    good = _strict_build(_mini_book(tmp_path / "good", "print(1 + 1)"))
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]
    book = _mini_book(tmp_path / "bad", "raise RuntimeError('boom')")
    bad = _strict_build(book)
    assert bad.returncode != 0
    assert "Executing notebook failed" in bad.stderr
    log = (book / "_build/html/reports/page.err.log").read_text()
    assert "RuntimeError" in log and "boom" in log
