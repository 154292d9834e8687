"""Two editions from one execution: the English site and the Chinese one in zh_CN/.

As files: every page exists in both editions, in its language, linked to the same page of
the other; no output keeps the other language; the translated pages are Chinese; the
Chinese search index knows the course's terms. End to end on a one-page book: the
notebook runs once, the Chinese edition reuses its outputs, and each edition shows them in
its own language.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

from conftest import ROOT, TRANSLATED_PAGES, ZH, ZH_DIR, toc_files
from pagetext import article_text, links_to_pending_pages
from softmaxbook import editions

PAGES = toc_files()
#: Proper names and titles that stay in English inside Chinese prose.
NAMES = ["Dive into Deep Learning"]


def _html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _switch(html: str) -> list[tuple[str, str]]:
    """(href, hreflang) of the page's language-switch links."""
    return re.findall(r'<a href="([^"]+)" hreflang="([^"]+)" lang="[^"]+"\s+class="btn btn-sm btn-language-switch"', html)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_exists_in_both_editions_in_its_language(site, name):
    en, zh = _html(site / f"{name}.html"), _html(site / ZH_DIR / f"{name}.html")
    assert '<html lang="en"' in en and '<html lang="zh-CN"' in zh


@pytest.mark.parametrize("name", PAGES + ["genindex", "search"])
def test_the_language_switch_leads_to_the_same_page_and_back(site, name):
    here = f"http://site/{name}.html"
    (to_zh, lang), = _switch(_html(site / f"{name}.html"))
    target = urljoin(here, to_zh)
    assert lang == "zh-CN" and target == f"http://site/{ZH_DIR}/{name}.html"
    (back, lang), = _switch(_html(site / ZH_DIR / f"{name}.html"))
    assert lang == "en" and urljoin(target, back) == here
    assert f'<link rel="alternate" hreflang="zh-CN" href="{to_zh}" />' in _html(site / f"{name}.html")


def test_edition_urls_from_nested_pages():
    both = {"en": "", "zh_CN": "zh_CN"}
    assert editions.edition_url("a/b/c", "en", "zh_CN", both) == "../../zh_CN/a/b/c.html"
    assert editions.edition_url("intro", "zh_CN", "en", both) == "../intro.html"


@pytest.mark.parametrize("edition", ["", ZH_DIR])
def test_no_page_keeps_an_output_of_the_other_language(site, edition):
    for name in PAGES:
        assert "<!--i18n:" not in _html(site / edition / f"{name}.html"), name


@pytest.mark.parametrize("name", [p for p in TRANSLATED_PAGES
                                  if "{glue:text}" in (ROOT / f"{p}.md").read_text(encoding="utf-8")])
def test_the_translated_prose_shows_the_glued_values_of_the_english(site, name):
    """A value glued into a paragraph (``{glue:text}``) is there in the Chinese paragraph too:
    the same values (in any order: a translation may reorder a sentence; Sphinx parses a translated message apart from the
    notebook's outputs; softmaxbook.editions makes the role find them)."""
    def pasted(html):
        return re.findall(r'<span class="pasted-text">([^<]*)</span>', html)
    english = pasted(_html(site / f"{name}.html"))
    chinese = pasted(_html(site / ZH_DIR / f"{name}.html"))
    assert english and sorted(chinese) == sorted(english)


@pytest.mark.parametrize("name", TRANSLATED_PAGES)
def test_translated_pages_read_as_chinese(site, name):
    """No run of four English words in the prose (code, math, references and names aside)."""
    text = article_text(site / ZH_DIR / f"{name}.html", links_to_pending_pages(name, TRANSLATED_PAGES))
    for proper in NAMES:
        text = text.replace(proper, "")
    runs = re.findall(r"[A-Za-z][A-Za-z0-9'’.-]*(?:[ \u00a0]+[A-Za-z][A-Za-z0-9'’.-]*){3,}", text)
    assert not runs, f"{name}: English left in the Chinese page: {runs}"
    assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 40
    assert "，" in text or "。" in text  # full-width punctuation in the prose


def test_the_runs_check_can_fail(site):
    """On a page still in English (a pending one, or else the English edition), the same
    check finds English runs."""
    pending = next((p for p in PAGES if p not in TRANSLATED_PAGES), None)
    page = site / ZH_DIR / f"{pending}.html" if pending else site / "chapters" / "01_exponential_family.html"
    assert re.search(r"[A-Za-z]+(?: [A-Za-z]+){3,}", article_text(page))


def _search_index(site: Path) -> dict:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def test_the_chinese_search_index_knows_the_course_terms(site):
    index = _search_index(site / ZH_DIR)
    docs = index["docnames"]

    def pages(word):
        found = index["terms"].get(word, [])
        return {docs[i] for i in ([found] if isinstance(found, int) else found)}

    assert "glossary" in pages("交叉熵") and "intro" in pages("交叉熵")
    assert "glossary" in pages("对数配分函数") and "intro" in pages("海森矩阵")
    assert "交叉熵" not in _search_index(site)["terms"]


def test_the_search_dictionary_has_the_chinese_terms(tmp_path):
    words = editions.search_dictionary(ROOT, tmp_path).read_text(encoding="utf-8").split("\n")
    assert "交叉熵 100000 n" in words and "海森矩阵 100000 n" in words
    assert editions.search_dictionary(tmp_path, tmp_path) is None


# --------------------------------------------------------------------------- end to end
PAGE = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

(page)=
# Page

One paragraph to translate.

```{code-cell} ipython3
from softmaxbook.i18n import _
from softmaxbook.tables import table
table([_("yes")], [[False]])
```
"""

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Page"
msgstr "页面"

msgid "One paragraph to translate."
msgstr "一段要翻译的文字。"
"""


def test_both_editions_from_one_execution(tmp_path, monkeypatch):
    book = tmp_path / "book"
    book.mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    # a course with a home (not the placeholder): its pages offer the .ipynb download
    config["repository"]["url"] = "https://github.com/example/softmax-deeply"
    (book / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    shutil.copytree(ROOT / "_static", book / "_static")
    shutil.copy(ROOT / "references.bib", book)
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (book / "page.md").write_text(PAGE)
    (book / "locales" / ZH / "LC_MESSAGES").mkdir(parents=True)
    (book / "locales" / ZH / "LC_MESSAGES" / "page.po").write_text(PO, encoding="utf-8")
    monkeypatch.setenv("SOFTMAXBOOK_LANG", "all")
    jb = Path(sys.executable).with_name("jupyter-book")
    english = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"],
                             capture_output=True, text=True, timeout=600)
    assert english.returncode == 0, english.stdout[-3000:] + english.stderr[-3000:]
    assert "Executing notebook" in english.stdout + english.stderr

    chinese = subprocess.run(
        [sys.executable, "-c", "import sys; from softmaxbook.editions import build_edition as b; "
         "from pathlib import Path; b(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[2]) / '_build')",
         ZH, str(book)], capture_output=True, text=True, timeout=600)
    log = chinese.stdout + chinese.stderr
    assert chinese.returncode == 0, log[-3000:]
    assert "Executing notebook" not in log and "Using cached notebook" in log  # no second execution

    en = _html(book / "_build" / "html" / "page.html")
    zh = _html(book / "_build" / "html" / ZH_DIR / "page.html")
    assert '<th scope="col">yes</th>' in en and "<td>no</td>" in en and "一段" not in en
    assert '<th scope="col">是</th>' in zh and "<td>否</td>" in zh and "一段要翻译的文字。" in zh
    assert "<!--i18n:" not in en + zh
    assert 'href="zh_CN/page.html" hreflang="zh-CN"' in en and 'href="../page.html" hreflang="en"' in zh
    # the Chinese edition's download buttons give the translated notebook, in its language
    download = (book / "_build" / "html" / ZH_DIR / "_sources" / "page.md").read_text(encoding="utf-8")
    assert "# 页面" in download and "一段要翻译的文字。" in download and "language: zh_CN" in download
    notebook = json.loads((book / "_build" / "html" / ZH_DIR / "_sources" / "page.ipynb").read_text())
    assert notebook["metadata"]["softmaxbook"] == {"language": "zh_CN"}
    assert "".join(notebook["cells"][-1]["source"]).endswith('table([_("yes")], [[False]])')  # code as it was
    assert "One paragraph" in (book / "_build" / "html" / "_sources" / "page.md").read_text()


def test_the_chinese_edition_offers_translated_sources(site):
    assert "这是一门" in (site / ZH_DIR / "_sources" / "intro.md").read_text(encoding="utf-8")
    assert "A short, deep course" in (site / "_sources" / "intro.md").read_text(encoding="utf-8")
