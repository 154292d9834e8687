"""The built pages as files: offline assets, navigation, captions and alt text.

(The same pages in a real browser: test_site_browser.py.)
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest

from conftest import toc_files
from softmaxbook.sphinxext import MATHJAX, MATHJAX_DIR

PAGES = [f for f in toc_files() if f.startswith(("chapters/", "exercises/"))]
ORDER = toc_files()


class _Tags(HTMLParser):
    """Collect (tag, attrs) of every start tag, the text inside <figcaption>, and for every
    <figure> its attributes and whether it lies inside another figure."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self._in_caption = 0
        self._figure_depth = 0
        self.captions: list[str] = []
        self.figures: list[tuple[dict, bool]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "figcaption":
            self._in_caption += 1
            self.captions.append("")
        if tag == "figure":
            self.figures.append((dict(attrs), self._figure_depth > 0))
            self._figure_depth += 1

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption -= 1
        if tag == "figure":
            self._figure_depth -= 1

    def handle_data(self, data):
        if self._in_caption:
            self.captions[-1] += data


def _parse(site, name) -> _Tags:
    p = _Tags()
    p.feed((site / f"{name}.html").read_text(encoding="utf-8"))
    return p


def test_mathjax_is_vendored_into_the_site(site):
    assert (site / MATHJAX_DIR / "tex-mml-chtml.js").is_file()
    assert (site / MATHJAX_DIR / ".vendored").read_text() == f"{MATHJAX[0]}@{MATHJAX[1]}"
    fonts = list((site / MATHJAX_DIR / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10, "MathJax's CHTML fonts are not served"


@pytest.mark.parametrize("name", PAGES)
def test_pages_load_scripts_styles_and_fonts_only_from_the_site(site, name):
    tags = _parse(site, name).tags
    loaded = [a.get("src") for t, a in tags if t in ("script", "img", "iframe") and a.get("src")]
    loaded += [a.get("href") for t, a in tags if t == "link" and a.get("rel") in ("stylesheet", "preload", "icon")]
    remote = [u for u in loaded if re.match(r"^(https?:)?//", u)]
    assert not remote, f"assets from other hosts: {remote}"
    mathjax = [a["src"] for t, a in tags if t == "script" and "tex-mml-chtml" in a.get("src", "")]
    if any("math" in a.get("class", "").split() for t, a in tags):  # Sphinx loads MathJax where needed
        assert len(mathjax) == 1, mathjax
    assert all(urljoin(f"http://site/{name}.html", m).startswith(f"http://site/{MATHJAX_DIR}/")
               for m in mathjax), mathjax


@pytest.mark.parametrize("name", PAGES)
def test_pages_leave_out_the_theme_icon_script(site, name):
    assert "fontawesome.js" not in (site / f"{name}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PAGES)
def test_pages_embed_no_widget_state(site, name):
    html = (site / f"{name}.html").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" not in html
    assert "application/vnd.jupyter.widget-view+json" not in html
    assert "THEBE_JS_URL" not in html, "sphinx-thebe's scripts are back (console error)"


def test_widget_state_is_dropped_although_the_executed_notebooks_have_it(site):
    """The check above is not vacuous: the executed notebooks do save widget state."""
    executed = site.parent / "jupyter_execute"
    with_state = [
        p for p in executed.rglob("*.ipynb")
        if json.loads(p.read_text()).get("metadata", {}).get("widgets", {})
        .get("application/vnd.jupyter.widget-state+json", {}).get("state")
    ]
    if not with_state:
        pytest.skip("no executed notebook saved ipywidgets state (no live figure yet)")
    for p in with_state:
        page = site / p.relative_to(executed).with_suffix(".html")
        assert "widget-state+json" not in page.read_text(encoding="utf-8"), page


@pytest.mark.parametrize("name", PAGES)
def test_previous_and_next_follow_the_reading_order(site, name):
    tags = _parse(site, name).tags
    k = ORDER.index(name)

    def link(cls):
        hrefs = [a["href"] for t, a in tags if t == "a" and cls in a.get("class", "").split()]
        return hrefs[0] if hrefs else None

    def target(cls):
        href = link(cls)
        return href and urljoin(f"http://site/{name}.html", href).removeprefix("http://site/")

    assert target("left-prev") == f"{ORDER[k - 1]}.html"
    assert target("right-next") == (f"{ORDER[k + 1]}.html" if k + 1 < len(ORDER) else None)


@pytest.mark.parametrize("name", PAGES)
def test_pages_have_search(site, name):
    tags = _parse(site, name).tags
    assert any(t == "form" and "search.html" in a.get("action", "") for t, a in tags)
    assert (site / "searchindex.js").is_file()


@pytest.mark.parametrize("name", PAGES)
def test_figures_have_captions_and_images_alt_text(site, name):
    parsed = _parse(site, name)
    for t, a in parsed.tags:
        if t == "img" and "_images/" in a.get("src", ""):
            alt = a.get("alt", "").strip()
            assert alt, f"image {a['src']} has no alt text"
            assert "_images/" not in alt and not alt.endswith((".png", ".svg", ".jpg")), (
                f"image {a['src']}: its alt text is a file name; give the cell a figure caption "
                "or `mystnb: image: alt:`")
        if t == "figure" and "kfig" in a.get("class", "").split():
            # named by its figcaption (counted below); the SVG inside carries the alt text
            assert "role" not in a, "a figure with a caption keeps its native role (axe: aria-allowed-role)"
        if t == "svg" and "kfig-svg" in a.get("class", "").split():
            assert a.get("role") == "img" and a.get("aria-label", "").strip()
    # a static figure of a chapter (figure.kfig without caption, named by its alt text) is drawn
    # inside the numbered figure of its cell, whose caption it shares
    inner = [a for a, nested in parsed.figures if "kfig" in a.get("class", "").split() and "aria-label" in a]
    assert all(nested for a, nested in parsed.figures if a in inner), "an uncaptioned figure outside a numbered one"
    figures = len(parsed.figures) - len(inner)
    assert len([c for c in parsed.captions if c.strip()]) == figures, "a figure without a caption"


@pytest.mark.parametrize("name", ORDER)
def test_theme_markup_that_axe_flagged_is_fixed_in_every_page(site, name):
    """The sidebar title inside a landmark; toggles and search named by their visible text."""
    html = (site / f"{name}.html").read_text(encoding="utf-8")
    nav = html.index('<nav class="sbt-book-title"')
    assert nav < html.index("logo__title") < html.index("</nav>", nav)
    assert '<summary aria-label="Toggle hidden content">' not in html
    assert 'search-button-field search-button__button pst-js-only" title="Search" aria-label' not in html
