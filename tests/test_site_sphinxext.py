"""softmaxbook.sphinxext: npm vendoring, MathJax copy, dropped widget state and thebe."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT
from softmaxbook import sphinxext
from softmaxbook.sphinxext import (
    MATHJAX, MATHJAX_DIR, MATHJAX_FONT, MATHJAX_FONTS, accessible_theme_templates, caption_as_alt_text,
    card_statement, citations_as_list_items, copy_mathjax, drop_thebe, drop_widget_state, mathjax_settings, one_menu_button,
    reading_counts, reading_minutes, sri, summary_named_by_its_text, theme_templates_without_fontawesome_js,
    vendor_npm, verdict_badge,
)


def _tarball(path: Path, files: dict[str, str]) -> str:
    """Write an npm-like tarball (everything under package/); return its integrity."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sri(path.read_bytes())


def test_sri_is_npm_integrity_format():
    # sha512 of b"" is well known; npm writes it base64-encoded after "sha512-"
    empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
    assert sri(b"") == "sha512-" + base64.b64encode(bytes.fromhex(empty)).decode()
    assert sri(b"a") != sri(b"b")


def test_vendor_npm_unpacks_a_cached_tarball_that_matches_the_pin(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no npm needed when cached
    integrity = _tarball(tmp_path / "demo-1.0.0.tgz", {"package.json": '{"name": "demo"}', "es5/a.js": "x"})
    out = vendor_npm("demo", "1.0.0", integrity, cache=tmp_path)
    assert out == tmp_path / "demo-1.0.0"
    assert (out / "es5" / "a.js").read_text() == "x"
    assert vendor_npm("demo", "1.0.0", integrity, cache=tmp_path) == out  # second call: cached


def test_vendor_npm_rejects_a_tarball_that_does_not_match_the_pin(tmp_path):
    _tarball(tmp_path / "demo-1.0.0.tgz", {"package.json": "{}"})
    wrong = sri(b"something else")
    with pytest.raises(ValueError, match="integrity"):
        vendor_npm("demo", "1.0.0", wrong, cache=tmp_path)
    assert not (tmp_path / "demo-1.0.0.tgz").exists(), "a bad tarball must not stay in the cache"
    assert not (tmp_path / "demo-1.0.0").exists()


def test_vendor_npm_explains_missing_npm_and_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="npm is needed"):
        vendor_npm("demo", "1.0.0", sri(b"x"), cache=tmp_path)
    with pytest.raises(ValueError, match="sha512"):
        vendor_npm("demo", "1.0.0", "md5-abc", cache=tmp_path)
    with pytest.raises(ValueError):
        vendor_npm("", "1.0.0", sri(b"x"), cache=tmp_path)


def test_vendor_npm_reports_a_failing_npm(tmp_path, monkeypatch):
    fake = tmp_path / "npm"
    fake.write_text("#!/bin/sh\necho 'E404 not found' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake))
    with pytest.raises(RuntimeError, match="E404"):
        vendor_npm("no-such-package", "0.0.0", sri(b"x"), cache=tmp_path / "cache")


def test_copy_mathjax_copies_the_browser_files_and_the_font_once(tmp_path):
    package, version, _ = MATHJAX
    font, font_version, _ = MATHJAX_FONT
    cached = tmp_path / "cache" / f"{package}-{version}"
    (cached / "output").mkdir(parents=True)
    (cached / "package.json").write_text("{}")
    (cached / "LICENSE").write_text("Apache")
    (cached / "tex-mml-chtml.js").write_text("// mathjax")
    (cached / "output" / "chtml.js").write_text("// chtml")
    (cached / "node-main.cjs").write_text("// node only")
    font_cached = tmp_path / "cache" / f"{font.replace('/', '+')}-{font_version}"
    (font_cached / "chtml" / "woff2").mkdir(parents=True)
    (font_cached / "svg").mkdir()
    (font_cached / "package.json").write_text('{"license": "Apache-2.0"}')
    (font_cached / "chtml" / "woff2" / "mjx-ncm-n.woff2").write_text("font")
    (font_cached / "svg" / "big.js").write_text("// svg output is not used")
    out = tmp_path / "html"
    dest = copy_mathjax(out, cache=tmp_path / "cache")
    assert dest == out / MATHJAX_DIR
    assert (dest / "tex-mml-chtml.js").read_text() == "// mathjax"
    assert (dest / "output" / "chtml.js").is_file() and (dest / "LICENSE").is_file()
    assert not (dest / "node-main.cjs").exists(), "Node.js entry points are not served"
    fonts = dest / MATHJAX_FONTS / "mathjax-newcm-font"
    assert (fonts / "chtml" / "woff2" / "mjx-ncm-n.woff2").is_file() and (fonts / "package.json").is_file()
    assert not (fonts / "svg").exists()
    (cached / "tex-mml-chtml.js").write_text("// changed")
    copy_mathjax(out, cache=tmp_path / "cache")  # stamped: not copied again
    assert (dest / "tex-mml-chtml.js").read_text() == "// mathjax"


def test_mathjax_settings_add_the_font_path_line_breaks_and_hidden_mathml_and_keep_given_values():
    config = SimpleNamespace(mathjax3_config={"output": {"displayOverflow": "scroll"},
                                              "options": {"processHtmlClass": "math"}})
    mathjax_settings(None, config)
    got = config.mathjax3_config
    assert got["loader"]["paths"]["fonts"] == f"[mathjax]/{MATHJAX_FONTS}"
    assert got["output"] == {"displayOverflow": "scroll"}, "a value given in _config.yml wins"
    assert got["options"]["processHtmlClass"] == "math"
    assert got["options"]["menuOptions"]["settings"] == {
        "enrich": False, "speech": False, "braille": False, "assistiveMml": True}
    empty = SimpleNamespace(mathjax3_config=None)
    mathjax_settings(None, empty)
    assert empty.mathjax3_config["output"] == {"displayOverflow": "linebreak"}


def test_one_menu_button_empties_only_the_persistent_navbar():
    config = SimpleNamespace(html_theme_options={"repository_url": "x"})
    one_menu_button(None, config)
    assert config.html_theme_options == {"repository_url": "x", "navbar_persistent": []}
    given = SimpleNamespace(html_theme_options={"navbar_persistent": ["search-button-field"]})
    one_menu_button(None, given)
    assert given.html_theme_options["navbar_persistent"] == ["search-button-field"]


def test_theme_templates_leave_out_only_the_fontawesome_script(tmp_path):
    import pydata_sphinx_theme

    folder = theme_templates_without_fontawesome_js(cache=tmp_path)
    ours = (folder / "static" / "webpack-macros.html").read_text()
    theirs = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"
              / "webpack-macros.html").read_text()
    assert "fontawesome.js" in theirs and "fontawesome.js" not in ours
    assert len(theirs.splitlines()) - len(ours.splitlines()) == 1
    for macro in ("head_pre_assets", "head_js_preload", "body_post", "bootstrap.js"):
        assert macro in ours
    assert theme_templates_without_fontawesome_js(cache=tmp_path) == folder  # idempotent


def test_theme_templates_put_the_title_in_a_landmark_and_name_search_by_its_text(tmp_path):
    import pydata_sphinx_theme

    components = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "components"
    folder = accessible_theme_templates(cache=tmp_path)
    logo, theirs_logo = (folder / "navbar-logo.html").read_text(), (components / "navbar-logo.html").read_text()
    assert logo.startswith('<nav class="sbt-book-title" aria-label=') and logo.rstrip().endswith("</nav>")
    assert theirs_logo in logo  # the theme's own title, only wrapped
    search, theirs = (folder / "search-button-field.html").read_text(), (components / "search-button-field.html").read_text()
    assert 'aria-label="{{ _(\'Search\') }}"' in theirs and "aria-label" not in search
    assert search == theirs.replace(' aria-label="{{ _(\'Search\') }}"', "")
    assert "title=" in search and "kbd-shortcut" in search
    assert accessible_theme_templates(cache=tmp_path) == folder  # idempotent


def test_hidden_input_toggles_are_named_by_what_they_show():
    body = '<details class="hide"><summary aria-label="Toggle hidden content">\n<p>Show code cell source</p>'
    context = {"body": body + body}
    summary_named_by_its_text(None, "p", "page.html", context, None)
    assert context["body"].count("<summary>\n<p>Show code cell source</p>") == 2 and "aria-label" not in context["body"]
    other = {"body": "<summary>x</summary>"}
    summary_named_by_its_text(None, "p", "page.html", other, None)
    assert other == {"body": "<summary>x</summary>"}


def test_bibliography_entries_become_list_items():
    body = '<div role="list" class="citation-list">\n<div class="citation" id="id6" role="doc-biblioentry">'
    context = {"body": body}
    citations_as_list_items(None, "bibliography", "page.html", context, None)
    assert context["body"] == '<div role="list" class="citation-list">\n<div class="citation" id="id6" role="listitem">'


def test_caption_becomes_alt_text_only_where_the_author_gave_none():
    from docutils import nodes

    def figure(alt=None, caption="A curve.\n  Rising."):
        image = nodes.image(uri="_images/a.png", **({"alt": alt} if alt is not None else {}))
        return nodes.figure("", image, *([nodes.caption(text=caption)] if caption else [])), image

    doc = nodes.document(None, None)
    (f1, no_alt), (f2, path_alt), (f3, own_alt), (f4, uncaptioned) = (
        figure(), figure(alt="_images/a.png"), figure(alt="Author's words."), figure(caption=None))
    loose = nodes.image(uri="_images/b.png")
    doc += [f1, f2, f3, f4, loose]
    caption_as_alt_text(None, doc, "page")
    assert no_alt["alt"] == path_alt["alt"] == "A curve. Rising."
    assert own_alt["alt"] == "Author's words."
    assert "alt" not in uncaptioned and "alt" not in loose


def _app(metadata):
    return SimpleNamespace(env=SimpleNamespace(nb_metadata=metadata),
                           config=SimpleNamespace(html_theme_options={}))


def test_drop_widget_state_removes_only_the_state_of_that_page():
    metadata = {
        "a": {"js_files": {"ipywidgets_state": (None, {"body": "{}"}), "other": ("x.js", {})}},
        "b": {"js_files": {"ipywidgets_state": (None, {"body": "{}"})}},
        "c": {},
    }
    app = _app(metadata)
    drop_widget_state(app, "a", "page.html", {}, None)
    assert metadata["a"]["js_files"] == {"other": ("x.js", {})}
    assert "ipywidgets_state" in metadata["b"]["js_files"]
    drop_widget_state(app, "c", "page.html", {}, None)  # a page without notebook metadata
    drop_widget_state(_app({}), "zzz", "page.html", {}, None)


def test_drop_thebe_removes_thebe_assets_in_place_unless_thebe_is_on():
    js = lambda filename, body="": SimpleNamespace(filename=filename, attributes={"body": body} if body else {})
    scripts = [js("doctools.js"), js(None, 'const THEBE_JS_URL = "x"'), js("sphinx-thebe.js"), js("kfig.js")]
    styles = ["theme.css", "sphinx-thebe.css"]
    context = {"script_files": scripts, "css_files": styles}
    app = _app({})
    drop_thebe(app, "p", "page.html", context, None)
    assert context["script_files"] is scripts, "Sphinx restores these lists per page: edit in place"
    assert [s.filename for s in scripts] == ["doctools.js", "kfig.js"]
    assert styles == ["theme.css"]
    on = [js("sphinx-thebe.js")]
    app.config.html_theme_options = {"launch_buttons": {"thebe": True}}
    drop_thebe(app, "p", "page.html", {"script_files": on}, None)
    assert len(on) == 1


def test_a_real_build_drops_the_widget_state_that_nbclient_saved(tmp_path):
    """End to end: a force-executed notebook with a live widget, built with this book's config."""
    book = tmp_path / "book"
    book.mkdir()
    config = (ROOT / "_config.yml").read_text().replace("execute_notebooks: cache", "execute_notebooks: force")
    assert "softmaxbook.sphinxext" in config and "execute_notebooks: force" in config
    (book / "_config.yml").write_text(config)
    shutil.copytree(ROOT / "_static", book / "_static")  # favicon, stylesheet named by the config
    shutil.copy(ROOT / "references.bib", book / "references.bib")  # bibtex_bibfiles of the config
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    header = (ROOT / "chapters" / "01_exponential_family.md").read_text().split("\n---", 1)[0] + "\n---\n"
    (book / "page.md").write_text(header + "\n# Page\n\n$x^2$\n\n```{code-cell} ipython3\n"
                                  "import ipywidgets\nipywidgets.IntSlider()\n```\n")
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    executed = json.loads((book / "_build/jupyter_execute/page.ipynb").read_text())
    assert executed["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    html = (book / "_build/html/page.html").read_text()
    assert "widget-state+json" not in html
    assert (book / "_build/html" / MATHJAX_DIR / "tex-mml-chtml.js").is_file()
    assert 'src="_static/../mathjax/tex-mml-chtml.js' in html


def test_the_extension_is_enabled_and_mathjax_points_at_the_vendored_copy():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "softmaxbook.sphinxext" in config["sphinx"]["extra_extensions"]
    assert config["sphinx"]["config"]["mathjax_path"] == sphinxext.MATHJAX_PATH
    assert ".vendor/" in (ROOT / ".gitignore").read_text().split()
    static = config["sphinx"]["config"].get("html_static_path", [])
    assert not any("mathjax" in str(p) for p in static), "Jupyter Book would load every MathJax file"


# --------------------------------------------------------------------------- claim cards, reading time
def test_verdict_badge_turns_the_title_words_into_a_badge():
    from docutils import nodes

    title = nodes.title("", "", nodes.Text("Circulating claim Z7 — half right"))
    assert verdict_badge(title, "verdict-half-right") == "half right"
    head, dash, badge = title.children
    assert head.astext() == "Circulating claim Z7"
    assert dash.astext() == " — " and dash["classes"] == ["visually-hidden"]
    assert badge.astext() == "half right" and badge["classes"] == ["claim-verdict", "verdict-half-right"]
    assert title.astext() == "Circulating claim Z7 — half right", "the title still reads the same"
    for text in ("Circulating claim Z1", "Circulating claim Z1 — ", "Claim Z2 — wrong — really"):
        plain = nodes.title("", "", nodes.Text(text))
        words = verdict_badge(plain, "")
        assert words == ("really" if "really" in text else "")
    emphasised = nodes.title("", "", nodes.Text("Claim Z3 — "), nodes.emphasis("", "wrong"))
    assert verdict_badge(emphasised, "verdict-wrong") == "" and len(emphasised.children) == 2


def _card(*paragraphs, quote=True):
    from docutils import nodes

    card = nodes.admonition("", nodes.title("", "Circulating claim Z1 — wrong"), classes=["circulating-claim"])
    if quote:
        card += nodes.block_quote("", nodes.paragraph("", "“a claim” — the circulating answer"))
    card += list(paragraphs)
    return card


def test_card_statement_is_the_paragraph_after_the_quote_without_its_lead():
    from docutils import nodes

    statement = nodes.paragraph("", "", nodes.Text(""), nodes.strong("", "In fact."),
                                nodes.Text(" The Hessian is "), nodes.math("", "H", ids=["x"]), nodes.Text("."))
    card = _card(statement, nodes.paragraph("", "", nodes.strong("", "Why."), nodes.Text(" Because.")))
    got = card_statement(card)
    assert got.astext() == "The Hessian is H." and got["classes"] == ["claim-statement"]
    assert not any(n["ids"] for n in got.findall(nodes.Element)), "the copy claims no anchor"
    assert statement.astext().startswith("In fact.") and statement.children[3]["ids"] == ["x"], "the card is untouched"
    assert card_statement(_card(nodes.paragraph("", "Only this."), quote=False)).astext() == "Only this."
    assert card_statement(_card()) is None


def test_reading_counts_count_prose_visible_code_and_equations():
    from docutils import nodes

    def cell(code, hide_mode=None, output="printed words not counted"):
        box = nodes.container(nb_element="cell_code", **({"hide_mode": hide_mode} if hide_mode else {}))
        box += nodes.container("", nodes.literal_block(code, code), nb_element="cell_code_source")
        box += nodes.container("", nodes.literal_block(output, output), nb_element="cell_code_output")
        return box

    doc = nodes.section("", nodes.title("", "Two words"),
                        nodes.paragraph("", "", nodes.Text("one two three "), nodes.math("", "x^2 + y^2"),
                                        nodes.Text(" four")),
                        nodes.math_block("", "a = b"), nodes.math_block("", "c = d"),
                        cell("a = 1\n\nb = 2\n"), cell("hidden = 3", hide_mode="input"),
                        nodes.literal_block("x\ny\nz", "x\ny\nz"),
                        nodes.raw("", "<b>raw words</b>", format="html"), nodes.comment("", "a comment"))
    assert reading_counts(doc) == (2 + 4 + 1, 2 + 3, 2)


def test_reading_minutes_add_the_three_speeds_and_round():
    assert reading_minutes(0, 0, 0) == 1  # never "0 min"
    assert reading_minutes(200, 0, 0) == 1
    assert reading_minutes(2000, 0, 0) == 10
    assert reading_minutes(0, 100, 0) == 10
    assert reading_minutes(0, 0, 8) == 2
    assert reading_minutes(1000, 50, 4) == 5 + 5 + 1
    assert reading_minutes(1100, 0, 0) == 6  # 5.5 rounds to even: 6


# --------------------------------------------------------------------------- a book with claim cards
CARD = '''```{{admonition}} Circulating claim {z} — {words}
:class: circulating-claim {verdict}
:name: claim-{zl}

> "A claim with its premise." — the circulating answer

**In fact.** {statement}

**Why.** Because.
```
'''

#: The fixture's cards: (page, id, verdict class, verdict words, statement in Markdown, its text).
FIXTURE_CARDS = [
    ("chapters/01_one", "Z1", "verdict-wrong", "wrong",
     "The Hessian is $\\operatorname{diag}(p) - pp^\\top$, see {eq}`eq-one`.", "The Hessian is"),
    ("chapters/01_one", "Z2", "verdict-half-right", "half right",
     "A {term}`Fisher information` is a variance.", "A Fisher information is a variance."),
    ("chapters/02_two", "Z3", "verdict-incomplete", "right but incomplete",
     "Block codes come closer to $\\log_2 3$.", "Block codes come closer to"),
]


#: A display equation too long for a phone, unless MathJax breaks it.
LONG_EQUATION = (r"\lambda^{-1}\operatorname{LSE}(\lambda a, \lambda b) = \max(a, b) + "
                 r"\frac{\log\bigl(1 + e^{-\lambda|a - b|}\bigr)}{\lambda} \le \max(a, b) + "
                 r"\frac{\log 2}{\lambda} = \max(a, b) + \frac{0.693}{\lambda}")


def _fixture_page(title: str, cards) -> str:
    text = f"# {title}\n\nSome words of prose here, eight of them.\n\n"
    text += "```{math}\n:label: eq-" + title.split()[-1].lower() + "\nx = 1\n```\n\n"
    # a closed <details>, as a hidden code cell: its equation is typeset while it has no width
    text += f"$$\n{LONG_EQUATION}\n$$\n\n<details><summary>More</summary>\n\n$$\n{LONG_EQUATION}\n$$\n\n</details>\n\n"
    text += "```python\nprint(1)\nprint(2)\n```\n\n"
    for _, z, verdict, words, statement, _text in cards:
        text += CARD.format(z=z, zl=z.lower(), verdict=verdict, words=words, statement=statement) + "\n"
    return text


@pytest.fixture(scope="module")
def claims_book(tmp_path_factory):
    """A small book built with this book's configuration: two chapters with claim cards,
    a glossary, and the claims page; returns its HTML folder."""
    book = tmp_path_factory.mktemp("claims") / "book"
    (book / "chapters").mkdir(parents=True)
    config = (ROOT / "_config.yml").read_text()
    (book / "_config.yml").write_text(config)
    shutil.copytree(ROOT / "_static", book / "_static")
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: Chapters\n    numbered: true\n    chapters:\n"
        "      - file: chapters/01_one\n      - file: chapters/02_two\n"
        "  - caption: Reference\n    chapters:\n      - file: claims\n      - file: glossary\n")
    (book / "intro.md").write_text("# Intro\n\nA book.\n")
    (book / "glossary.md").write_text("# Glossary\n\n```{glossary}\nFisher information\n  A variance.\n```\n")
    (book / "claims.md").write_text((ROOT / "claims.md").read_text().replace(
        "{ref}`the note on sources <note-sources>`", "the note on sources"))
    (book / "chapters" / "01_one.md").write_text(_fixture_page("Chapter One", FIXTURE_CARDS[:2]))
    # the second chapter lists its card first in the text but it is Z3: order comes from the ids
    (book / "chapters" / "02_two.md").write_text(_fixture_page("Chapter Two", FIXTURE_CARDS[2:]))
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return book / "_build" / "html"


def _soup(html_dir: Path, name: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup((html_dir / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def test_card_titles_carry_their_verdict_as_a_badge(claims_book):
    for page, z, verdict, words, _, _ in FIXTURE_CARDS:
        card = _soup(claims_book, page).select_one(f"div.circulating-claim#claim-{z.lower()}")
        title = card.select_one(".admonition-title")
        badge = title.select_one("span.claim-verdict")
        assert badge is not None and badge.get_text() == words, title
        assert verdict in badge["class"] and verdict in card["class"]
        hidden = title.select_one("span.visually-hidden")
        assert hidden is not None and hidden.get_text() == " — ", "a screen reader reads the dash"
        assert " ".join(title.get_text().split()) == f"Circulating claim {z} — {words}"


def test_claims_page_lists_every_card_with_its_verdict_statement_and_link(claims_book):
    soup = _soup(claims_book, "claims")
    tables = soup.select("table.claims-table")
    assert [t.caption.a["href"] for t in tables] == ["chapters/01_one.html", "chapters/02_two.html"]
    assert [" ".join(t.caption.a.get_text().split()) for t in tables] == ["1. Chapter One", "2. Chapter Two"]
    rows = soup.select("table.claims-table tbody tr")
    assert len(rows) == len(FIXTURE_CARDS)
    for row, (page, z, verdict, words, _, text) in zip(rows, FIXTURE_CARDS):
        link, badge, statement = row.select("td")
        assert link.a.get_text() == z and link.a["href"] == f"{page}.html#claim-{z.lower()}"
        target = _soup(claims_book, page).find(id=f"claim-{z.lower()}")
        assert target is not None and "circulating-claim" in target["class"], f"{z}: the link misses its card"
        assert badge.select_one("span.claim-verdict").get_text() == words
        assert verdict in badge.select_one("span.claim-verdict")["class"]
        said = " ".join(statement.get_text().split())
        assert said.startswith(text) and not said.startswith("In fact"), said
        assert not statement.find(id=True), "the copy must not repeat the card's anchors"
    # the statements' math is typeset on this page and their cross-references resolve from it
    assert soup.find("script", src=lambda s: s and "tex-mml-chtml.js" in s)
    first = rows[0].select("td")[2]
    assert first.select_one("span.math") is not None
    assert first.select_one("a[href='chapters/01_one.html#equation-eq-one']") is not None
    assert rows[1].select("td")[2].select_one("a[href='glossary.html#term-Fisher-information']") is not None


def test_claims_page_follows_the_cards_when_a_chapter_changes(claims_book):
    """A rebuild after a chapter's card changed rewrites the (unchanged) claims page."""
    book = claims_book.parent.parent
    page = book / "chapters" / "02_two.md"
    page.write_text(page.read_text().replace("verdict-incomplete", "verdict-wrong")
                    .replace("— right but incomplete", "— wrong"))
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    last = _soup(claims_book, "claims").select("table.claims-table tbody tr")[-1]
    assert last.select_one("span.claim-verdict").get_text() == "wrong"


def test_chapter_pages_show_their_reading_time_under_the_title(claims_book):
    for page in ("chapters/01_one", "chapters/02_two"):
        h1 = _soup(claims_book, page).select_one("article h1")
        line = h1.find_next_sibling()
        assert line.name == "p" and "reading-time" in line["class"], line
        assert re.fullmatch(r"About \d+ min", line.get_text()), line.get_text()
    for page in ("intro", "claims", "glossary"):
        assert _soup(claims_book, page).select_one("p.reading-time") is None, page


# --------------------------------------------------------------------------- equations that break, in a browser
def _equations(page):
    return page.evaluate("""() => [...document.querySelectorAll('article div.math > mjx-container')]
      .filter(c => c.checkVisibility() && c.textContent.includes('0.693'))
      .map(c => ({wide: c.scrollWidth > c.clientWidth + 1, lines: c.querySelectorAll('mjx-linebox').length}))""")


@pytest.mark.browser
def test_equations_break_to_fit_also_when_revealed_or_when_the_window_narrows(claims_book):
    """MathJax 4 breaks a long equation to fit a phone, also one typeset inside a closed
    <details> (a hidden cell); a desktop page made narrow breaks its equations again
    (_static/math-reflow.js)."""
    from browser import chromium, open_page, serve

    with serve(claims_book) as base, chromium() as browser:
        page, w = open_page(browser, f"{base}chapters/01_one.html", width=390)
        shown = _equations(page)
        assert len(shown) == 1 and not shown[0]["wide"] and shown[0]["lines"] >= 2, shown
        page.locator("article details summary").first.click()
        page.wait_for_timeout(200)
        page.evaluate("async () => { await MathJax.startup.promise; }")
        opened = _equations(page)
        assert len(opened) == 2 and not any(e["wide"] for e in opened), opened
        page.close()
        page, w = open_page(browser, f"{base}chapters/01_one.html", width=1280)
        wide = _equations(page)[0]["lines"]
        page.set_viewport_size({"width": 390, "height": 900})
        page.wait_for_timeout(600)  # the resize is debounced (250 ms)
        page.evaluate("async () => { await MathJax.startup.promise; }")
        narrow = _equations(page)
        assert not narrow[0]["wide"] and narrow[0]["lines"] > wide, (wide, narrow)
        assert not w.problems(), "\n".join(w.problems())
        page.close()
