"""The Chinese edition in a real browser (headless Chromium), offline.

The language switch of every page leads to the same page in the other edition and back;
the translated Chinese pages load without a console error or a request to another host,
typeset their math and have no accessibility violation; every Chinese page fits a 390 px
phone with the switch; the Chinese search finds the pages that use a term.
"""

from __future__ import annotations

import re

import pytest

from browser import open_page
from conftest import TRANSLATED_PAGES, ZH_DIR, toc_files
from test_site_browser import _axe_violations, axe_source  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

SWITCH = "a.btn-language-switch"


@pytest.mark.parametrize("name", toc_files())
def test_the_language_switch_round_trips(browser, base_url, name):
    page, w = open_page(browser, f"{base_url}{name}.html")
    try:
        assert page.locator(SWITCH).inner_text().strip() == "中文"
        page.locator(SWITCH).click()
        page.wait_for_url(f"{base_url}{ZH_DIR}/{name}.html")
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert page.locator(SWITCH).inner_text().strip() == "English"
        page.locator(SWITCH).click()
        page.wait_for_url(f"{base_url}{name}.html")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert not w.problems(), "\n".join(w.problems())
    finally:
        page.close()


@pytest.mark.parametrize("name", TRANSLATED_PAGES)
def test_translated_pages_load_offline_typeset_and_pass_axe(browser, base_url, axe_source, name):  # noqa: F811
    page, w = open_page(browser, f"{base_url}{ZH_DIR}/{name}.html")
    try:
        assert not w.problems(), "\n".join(w.problems())
        assert page.locator("article h1").count() == 1
        raw = page.evaluate("() => [...document.querySelectorAll('article .math')]"
                            ".filter(m => !m.querySelector('mjx-container')).length")
        assert raw == 0, f"{raw} equations not typeset"
        found = _axe_violations(page, axe_source)
        assert not found, "\n".join(found)
    finally:
        page.close()


@pytest.mark.parametrize("query, pages", [("交叉熵", {"glossary", "intro"}), ("海森矩阵", {"intro"}),
                                          ("对数配分函数", {"glossary", "intro"})])
def test_chinese_search_finds_the_pages_of_a_term(browser, base_url, query, pages):
    page, w = open_page(browser, f"{base_url}{ZH_DIR}/search.html?q={query}")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
        found = {h.split(f"/{ZH_DIR}/", 1)[1].split(".html")[0] for h in hrefs if f"/{ZH_DIR}/" in h}
        assert pages <= found, (query, hrefs)
        assert not w.problems(), "\n".join(w.problems())
    finally:
        page.close()


@pytest.mark.parametrize("name", toc_files())
def test_chinese_pages_fit_a_phone_with_the_switch(browser, base_url, name):
    """At 390 px the switch shows its icon (its name stays for screen readers): no sideways scroll."""
    page, w = open_page(browser, f"{base_url}{ZH_DIR}/{name}.html", width=390, height=800)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        switch = page.locator(SWITCH)
        assert switch.is_visible() and switch.get_attribute("hreflang") == "en"
        assert page.evaluate("(a) => a.textContent.trim()", switch.element_handle()) == "English"
        assert not w.problems(), "\n".join(w.problems())
    finally:
        page.close()


#: Pages with figures (each has at least one figure.kfig).
FIGURE_PAGES = ["chapters/01_exponential_family", "chapters/02_hessian_is_variance",
                "chapters/02_hessian_is_variance_further", "chapters/03_coding_three_symbols",
                "chapters/04_logsumexp_limits", "chapters/04_logsumexp_limits_further"]


@pytest.mark.parametrize("name", FIGURE_PAGES)
def test_chinese_figures_speak_chinese(browser, base_url, name):
    """Every text of every figure on the Chinese page (SVG text, slider labels and values, readout,
    the "Data" disclosure with its tables, caption, alt text) has no run of two English words;
    the English page's figures have them (the check can fail)."""
    from test_figures_i18n import english_runs

    script = """() => [...document.querySelectorAll('figure.kfig')].map(f => {
        f.querySelector('details.kfig-details').open = true;
        const texts = [...f.querySelectorAll('text, label, output, .kfig-readout, summary, caption, th, figcaption')]
          .map(e => e.textContent);
        texts.push(f.querySelector('svg').getAttribute('aria-label'));
        texts.push(f.querySelector('.kfig-tables').getAttribute('aria-label') || '');
        return texts;
      })"""
    for url, chinese in ((f"{base_url}{ZH_DIR}/{name}.html", True), (f"{base_url}{name}.html", False)):
        page, w = open_page(browser, url)
        try:
            figures = page.evaluate(script)
            assert figures, f"no figure on {url}"
            runs = [(text, english_runs(text)) for fig in figures for text in fig if english_runs(text)]
            if chinese:
                assert not runs, runs[:10]
                assert all(any(re.search("[\u4e00-\u9fff]", t) for t in fig) for fig in figures)
            else:
                assert runs
            assert not w.problems(), "\n".join(w.problems())
        finally:
            page.close()
