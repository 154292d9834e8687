"""The Chinese edition's message catalogues (locales/zh_CN/LC_MESSAGES/), page by page.

The messages of the English text are extracted afresh (Sphinx's gettext builder, notebooks
not executed) and compared with each page's catalogue: every message present, translated,
none fuzzy. Pages of ``conftest.TRANSLATED_PAGES`` must be complete; the others are
reported as pending (xfail, with what is missing), and one that becomes complete fails
until it is added to that list. The site's chrome (``sphinx.po``: the templates' strings)
is always complete.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conftest import ROOT, TRANSLATED_PAGES, ZH, toc_files
from softmaxbook.editions import extract_messages

LOCALES = ROOT / "locales" / ZH / "LC_MESSAGES"
CHROME = ["sphinx"]  # templates' strings (the language switch's neighbours, "Course home")


@pytest.fixture(scope="session")
def pot_dir(tmp_path_factory) -> Path:
    """``.pot`` files of the current English text, one per page (as `make translations`)."""
    return extract_messages(ROOT, tmp_path_factory.mktemp("gettext"), cache=ROOT / "_build" / ".jupyter_cache")


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def status(page: str, pot_dir: Path) -> list[str]:
    """What keeps ``page``'s catalogue from being complete (empty when it is)."""
    pot, po = pot_dir / f"{page}.pot", LOCALES / f"{page}.po"
    if not pot.is_file():
        return [f"no messages extracted for {page} ({pot} missing)"]
    if not po.is_file():
        return [f"no catalogue {po.relative_to(ROOT)} (make translations creates it)"]
    wanted = {m.id for m in _read(pot) if m.id}
    have = {m.id: m for m in _read(po) if m.id}
    problems = []
    if wanted - set(have):
        problems.append(f"{len(wanted - set(have))} message(s) of the English text not in the catalogue "
                        f"(make translations), e.g. {sorted(wanted - set(have))[0][:80]!r}")
    untranslated = [i for i in wanted & set(have) if not have[i].string]
    fuzzy = [i for i in wanted & set(have) if have[i].fuzzy]
    if untranslated:
        problems.append(f"{len(untranslated)} of {len(wanted)} message(s) untranslated")
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy message(s) (the English changed: review, then drop the flag)")
    return problems


def test_the_list_of_translated_pages_names_pages_of_the_book():
    assert set(TRANSLATED_PAGES) <= set(toc_files()) and len(set(TRANSLATED_PAGES)) == len(TRANSLATED_PAGES)


PAGES = [pytest.param(p, marks=() if p in TRANSLATED_PAGES else pytest.mark.xfail(
    strict=True, reason=f"{p}: translation pending (not in conftest.TRANSLATED_PAGES)")) for p in toc_files()]


@pytest.mark.parametrize("page", PAGES + CHROME)
def test_the_catalogue_of_every_page_is_complete(page, pot_dir):
    """Fails (xfail) for each page not translated yet, with what is missing."""
    problems = status(page, pot_dir)
    assert not problems, f"{page}: " + "; ".join(problems)


def test_the_check_sees_a_stale_catalogue(pot_dir, tmp_path, monkeypatch):
    """A catalogue missing a message of the English text, or with a fuzzy one, is reported."""
    po = (LOCALES / "bibliography.po").read_text(encoding="utf-8")
    fake = tmp_path / "LC_MESSAGES"
    fake.mkdir()
    monkeypatch.setattr(sys.modules[__name__], "LOCALES", fake)
    (fake / "bibliography.po").write_text(po.replace('msgid "References"', 'msgid "Works cited"'), encoding="utf-8")
    assert "not in the catalogue" in "; ".join(status("bibliography", pot_dir))
    (fake / "bibliography.po").write_text(po.replace('msgid "References"', '#, fuzzy\nmsgid "References"'),
                                          encoding="utf-8")
    assert status("bibliography", pot_dir) == ["1 fuzzy message(s) (the English changed: review, then drop the flag)"]


def test_the_extraction_covers_every_page(pot_dir):
    assert sorted(str(p.relative_to(pot_dir).with_suffix("")) for p in pot_dir.rglob("*.pot")) == \
        sorted(toc_files() + CHROME)
