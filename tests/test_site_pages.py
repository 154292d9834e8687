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
from softmaxbook.sphinxext import MATHJAX, MATHJAX_DIR, MATHJAX_FONT, MATHJAX_FONTS

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
    assert (site / MATHJAX_DIR / ".vendored").read_text() == f"{MATHJAX[0]}@{MATHJAX[1]} {MATHJAX_FONT[0]}@{MATHJAX_FONT[1]}"
    fonts = list((site / MATHJAX_DIR / MATHJAX_FONTS / "mathjax-newcm-font" / "chtml" / "woff2").glob("*.woff2"))
    assert len(fonts) > 10, "MathJax's CHTML fonts are not served"
    assert (site / MATHJAX_DIR / "sre" / "speech-worker.js").is_file(), "the menu's speech option needs it"
    html = (site / "chapters" / "01_exponential_family.html").read_text(encoding="utf-8")
    assert f'"fonts": "[mathjax]/{MATHJAX_FONTS}"' in html, "MathJax 4 would fetch its font from a CDN"


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


# --------------------------------------------------------------------------- code that fits
#: The longest visible code line: 79 columns fit the text column at 1280 px (tests/test_site_browser.py).
CODE_COLUMNS = 79
#: Cells a reader never sees.
REMOVED = {"remove-cell", "remove-input"}
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def _cell_options(lines: list[str]) -> tuple[dict, list[str]]:
    """The options of a code cell (``:key: value`` lines or a ``---`` YAML block) and its code."""
    import yaml

    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1) if "---" in lines[1:] else 0
        return (yaml.safe_load("\n".join(lines[1:end])) or {}), lines[end + 1:]
    head = []
    while lines and (lines[0].startswith(":") or (head and lines[0][:1].isspace() and lines[0].strip())):
        head.append(lines.pop(0)[1:] if lines[0].startswith(":") else lines.pop(0))
    return (yaml.safe_load("\n".join(head)) or {}) if head else {}, lines


def visible_code_lines(text: str):
    """(line number, line) of every code line a reader of the page can see: code cells not
    tagged remove-cell/remove-input (hide-input cells can be opened: they count) and code
    blocks, also inside admonitions and solutions."""
    lines = text.splitlines()
    directives: list[str] = []  # fences of the enclosing directives
    k = 0
    while k < len(lines):
        m = _FENCE.match(lines[k])
        if not m:
            k += 1
            continue
        fence, info = m.group(2), m.group(3).strip()
        if not info and directives and fence.startswith(directives[-1][0]) and len(fence) >= len(directives[-1]):
            directives.pop()  # the end of a directive
            k += 1
            continue
        if info.startswith("{") and not info.startswith(("{code-cell}", "{code-block}", "{code}")):
            directives.append(fence)  # its content is Markdown: look inside
            k += 1
            continue
        end = k + 1
        while end < len(lines) and not (lines[end].strip().startswith(fence[0] * len(fence))
                                        and not lines[end].strip().strip(fence[0])):
            end += 1
        body = lines[k + 1:end]
        first = k + 2
        if info.startswith("{code-cell}"):
            options, code = _cell_options(list(body))
            first += len(body) - len(code)
            body = [] if REMOVED & set(options.get("tags") or []) else code
        for j, line in enumerate(body):
            yield first + j, line
        k = end + 1


def test_the_code_line_finder_sees_what_a_reader_sees():
    text = "\n".join([
        "```{code-cell} ipython3", ":tags: [remove-cell]", "glue('x', 1)", "```",
        "```{code-cell} ipython3", ":tags: [hide-input]", ":mystnb:", "  figure:", "    caption: A", "shown = 1", "```",
        "```{code-cell} ipython3", "---", "tags: [remove-input]", "---", "hidden = 2", "```",
        "````{admonition} Solution", "```python", "in_a_box = 3", "```", "````",
        "```{math}", "x = 1", "```",
        "```", "plain = 4", "```",
    ])
    assert list(visible_code_lines(text)) == [(10, "shown = 1"), (20, "in_a_box = 3"), (27, "plain = 4")]


@pytest.mark.parametrize("name", PAGES)
def test_visible_code_lines_fit_79_columns(name):
    from conftest import ROOT

    text = (ROOT / f"{name}.md").read_text(encoding="utf-8")
    long = [(n, len(line), line.strip()[:60]) for n, line in visible_code_lines(text) if len(line) > CODE_COLUMNS]
    assert not long, f"{name}.md: visible code lines over {CODE_COLUMNS} columns (line, length, start):\n" + \
        "\n".join(f"  {n}: {length}  {start}" for n, length, start in long)


# --------------------------------------------------------------------------- claims, reading time
CHAPTER_PAGES = [f for f in ORDER if f.startswith("chapters/")]


def _soup(site, name):
    from bs4 import BeautifulSoup

    return BeautifulSoup((site / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def _badge(element):
    badge = element.select_one("span.claim-verdict")
    return (badge.get_text(), [c for c in badge["class"] if c.startswith("verdict-")]) if badge else ("", [])


def test_the_claims_page_lists_every_card_of_the_chapters_with_its_verdict(site):
    """The page is made from the cards: the same claims, verdicts and anchors, no more, no less."""
    cards = {}
    for page in CHAPTER_PAGES:
        for card in _soup(site, page).select("div.admonition.circulating-claim"):
            z = re.search(r"\bZ\d+\b", card.select_one(".admonition-title").get_text()).group(0)
            assert z not in cards, f"{z} has two cards"
            cards[z] = (page, card.get("id"), _badge(card.select_one(".admonition-title")))
    rows = _soup(site, "claims").select("table.claims-table tbody tr")
    listed = {}
    for row in rows:
        link, verdict, statement = row.select("td")
        z = link.a.get_text()
        page, _, anchor = urljoin("http://site/claims.html", link.a["href"]).removeprefix("http://site/").partition("#")
        listed[z] = (page.removesuffix(".html"), anchor, _badge(verdict))
        assert statement.get_text(strip=True), f"{z}: no correct statement listed"
    assert listed == cards, "the claims page differs from the cards"
    assert sorted(listed, key=lambda z: int(z[1:])) == [f"Z{k}" for k in range(1, 16)], "the course answers fifteen claims"


def test_the_claims_page_comes_before_the_glossary_in_the_reference_part():
    assert ORDER.index("claims") + 1 == ORDER.index("glossary")


@pytest.mark.parametrize("name", ORDER)
def test_chapter_pages_and_only_they_show_a_reading_time_under_the_title(site, name):
    soup = _soup(site, name)
    line = soup.select_one("p.reading-time")
    if not name.startswith("chapters/"):
        assert line is None
        return
    assert line is not None and line.find_previous_sibling() is soup.select_one("article h1"), name
    minutes = int(re.fullmatch(r"About (\d+) min", line.get_text()).group(1))
    assert 5 <= minutes <= 90, f"{name}: {minutes} min for a chapter?"
