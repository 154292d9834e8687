"""Sphinx extension of the course website: offline pages, navigation, claim cards, reading time.

Listed in ``_config.yml`` (``sphinx: extra_extensions``). It does what the
website (not the notebooks) needs:

* **MathJax from the site itself.** MathJax 4 and its font are fetched from the npm
  registry the first time the book is built (``npm pack``, each tarball checked against
  its pinned SHA-512 integrity), unpacked into a cache outside git (``.vendor/`` at the
  repository root, or ``$SOFTMAXBOOK_VENDOR``) and copied to ``mathjax/`` at the root of
  the HTML output (:func:`copy_mathjax`). ``mathjax_path`` in ``_config.yml`` points at it
  (``../mathjax/tex-mml-chtml.js``, relative to ``_static``). It is not put in
  ``html_static_path``: Jupyter Book adds every ``.js`` found there to every page.
  :func:`mathjax_settings` makes MathJax find the font there and break display equations
  that are wider than their column.
* **A menu that opens.** :func:`one_menu_button` removes the theme's second, hidden menu
  button (pydata-sphinx-theme issue 2451); :data:`CLOSE_MENU_ON_LINK` closes a menu
  dialog when a link in it is followed.
* **Claim cards and the list of claims.** The verdict words of a card's title become a
  badge (:func:`verdict_badge`); the directive ``{circulating-claims}`` (``claims.md``)
  becomes a table of every card of the book, made when the page is written
  (:class:`ClaimsList`).
* **Reading time** under the title of every chapter page (:func:`add_reading_time`), in
  the words of the course's message catalogue.
* **No thebe.** sphinx-thebe's scripts (loaded by Jupyter Book even when thebe is off)
  are removed from pages: they raise a console error and name a CDN.
* **No 1.5 MB icon script.** pydata-sphinx-theme's ``fontawesome.js`` is left out of
  pages (its stylesheet already draws the icons with web fonts); see
  :func:`theme_templates_without_fontawesome_js`.
* **No accessibility violations from the theme** (axe-core 4.14): the sidebar's book title
  sits in a navigation landmark, the sidebar search button is named by its visible text
  (:func:`accessible_theme_templates`) and MyST-NB's "Show code cell source" toggles lose
  an ``aria-label`` that hid their visible text (:func:`summary_named_by_its_text`); the
  entries of the bibliography are items of its list (:func:`citations_as_list_items`).
* **Alt text.** An image of a captioned figure without alt text of its own gets the
  caption as alt text (:func:`caption_as_alt_text`) instead of its file name.
* **Practice checks.** A ``<div class="practice-check" data-exercise="…">`` marker in an
  exercise page becomes a kernel-free practice check of that exercise
  (:func:`practice_checks`, :mod:`softmaxbook.grader.practice`).
* **The course's public home is one setting** (``repository.url`` in ``_config.yml``): while
  it is the placeholder :data:`PLACEHOLDER_HOME`, pages get no launch, repository, edit or
  issue button (they would lead to a repository that does not exist); once it is a real URL,
  they come back and the ``only`` tag ``course_home`` is set (:func:`course_home`,
  :func:`hide_buttons_without_a_home`).
* **"How to do these exercises".** Each assignment page (label ``exN``) and each chapter's
  exercise section (label ``chN-exercises``) opens with a box saying how to run the graded
  notebook: Binder (with a public home), the downloadable archive of
  :mod:`softmaxbook.downloads` and two commands, ``make lab`` in the repository, and the
  page's practice checks (:class:`HowToExercises`, :class:`DownloadLinks`). It is inserted while the page is read,
  before Sphinx's i18n transform, so gettext extracts and translates it like the page's text;
  the ``.md`` notebook itself is unchanged (Jupyter shows nothing of it).
* **No ipywidgets state in pages.** nbclient saves the state of the live widgets
  (see :mod:`softmaxbook.interactive`) in the notebook metadata, and MyST-NB would
  embed it in every page as a ``<script type="application/vnd.jupyter.widget-state+json">``.
  Without a widget manager on the site it is dead weight, so it is dropped before
  MyST-NB adds the page's scripts.

:func:`vendor_npm` is also used by the browser tests to fetch axe-core.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from string import Template
from urllib.parse import quote, urlsplit

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import get_translation
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

from . import downloads, i18n

#: (package, version, SHA-512 integrity of the npm tarball) of the vendored MathJax.
#: Version 4 breaks a long display equation to fit its column (3 could not).
MATHJAX = ("mathjax", "4.1.3",
           "sha512-BN/8Pkgn7G1pIDYJqd9md+JHsE/jydSYbyOZnSdSA0WziuVO8mRxdYiWFumkVVly/8U+hm9DpIIoWuvySverzw==")
#: Its default font, a package of its own (MathJax 4 loads it from a CDN unless told otherwise).
MATHJAX_FONT = ("@mathjax/mathjax-newcm-font", "4.1.3",
                "sha512-gzAB3dFHilHX1l5x2xUqRL+1jDQt3Fyza1DkEMVXWC4E8SvsGdlgEza47HYi2WhVcgfkvf4zgUGzuhbq3Pjlew==")

#: Where MathJax lands in the HTML output, and the ``mathjax_path`` that loads it.
MATHJAX_DIR = "mathjax"
MATHJAX_PATH = f"../{MATHJAX_DIR}/tex-mml-chtml.js"
#: The font's folder under MATHJAX_DIR: MathJax's loader path ``fonts`` is set to
#: ``[mathjax]/fonts`` (``[mathjax]`` = the folder of tex-mml-chtml.js) and MathJax adds
#: ``/mathjax-newcm-font/chtml/...`` itself.
MATHJAX_FONTS = "fonts"
#: What MathJax needs in the browser, of its npm package: not the Node.js entry points.
MATHJAX_SKIP = ("node-main*", "*.mjs", "*.cjs", "*.d.mts", "README.md", "CONTRIBUTING.md")

#: Key under which MyST-NB stores the widget-state script of a page.
WIDGET_STATE_KEY = "ipywidgets_state"


def vendor_dir() -> Path:
    """The cache of npm packages: ``$SOFTMAXBOOK_VENDOR``, else ``.vendor/`` of the checkout."""
    env = os.environ.get("SOFTMAXBOOK_VENDOR")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():  # an editable install: the repository
        return checkout / ".vendor"
    return Path.home() / ".cache" / "softmaxbook"


def sri(data: bytes) -> str:
    """The ``sha512-…`` integrity string of ``data``, as npm writes it."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def vendor_npm(package: str, version: str, integrity: str, cache: Path | None = None) -> Path:
    """The unpacked npm ``package@version`` (its ``package/`` folder), fetched once.

    The tarball comes from ``npm pack`` (the npm registry configured on the machine)
    and must match ``integrity``; it is unpacked into ``cache/package-version/``.
    Raises RuntimeError with the reason when npm is missing or the download fails,
    ValueError when the tarball does not match the pinned integrity.
    """
    if not package or not version or not integrity.startswith("sha512-"):
        raise ValueError(f"need a package, a version and a sha512 integrity, got {package!r}@{version!r}")
    cache = Path(cache) if cache is not None else vendor_dir()
    target = cache / f"{package.replace('/', '+')}-{version}"
    if (target / "package.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"{package.replace('/', '+')}-{version}.tgz"
    if not tarball.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"npm is needed to fetch {package}@{version} (install Node.js and npm)")
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            done = subprocess.run(
                [npm, "pack", f"{package}@{version}", "--json", "--pack-destination", tmp],
                capture_output=True, text=True, timeout=600,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {package}@{version} failed:\n{done.stderr.strip()[-2000:]}")
            packed = list(Path(tmp).glob("*.tgz"))
            if len(packed) != 1:
                raise RuntimeError(f"npm pack {package}@{version} wrote {packed}, expected one .tgz")
            os.replace(packed[0], tarball)
    got = sri(tarball.read_bytes())
    if got != integrity:
        tarball.unlink()
        raise ValueError(f"{package}@{version}: tarball integrity {got} != pinned {integrity}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        if target.exists():
            shutil.rmtree(target)
        os.replace(Path(tmp) / "package", target)
    return target


def copy_mathjax(outdir: Path, cache: Path | None = None) -> Path:
    """Copy MathJax and its font to ``outdir/mathjax`` (skipped when already there).

    The package's browser files (not its Node.js entry points) go to ``mathjax/``, the
    CHTML part of the font package to ``mathjax/fonts/mathjax-newcm-font/``.
    """
    package, version, integrity = MATHJAX
    font, font_version, font_integrity = MATHJAX_FONT
    dest = Path(outdir) / MATHJAX_DIR
    stamp = dest / ".vendored"
    wanted = f"{package}@{version} {font}@{font_version}"
    if stamp.is_file() and stamp.read_text() == wanted:
        return dest
    source = vendor_npm(package, version, integrity, cache)
    font_source = vendor_npm(font, font_version, font_integrity, cache)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*MATHJAX_SKIP))
    fonts = dest / MATHJAX_FONTS / font.split("/")[-1]
    shutil.copytree(font_source / "chtml", fonts / "chtml")
    shutil.copy(font_source / "package.json", fonts / "package.json")  # name, version, licence
    stamp.write_text(wanted)
    return dest


def drop_widget_state(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler (before MyST-NB's): forget the page's widget state."""
    metadata = getattr(app.env, "nb_metadata", None) or {}
    js_files = metadata.get(pagename, {}).get("js_files")
    if js_files:
        js_files.pop(WIDGET_STATE_KEY, None)


def caption_as_alt_text(app, doctree, docname) -> None:
    """``doctree-resolved`` handler: an image of a captioned figure without alt text gets the caption.

    A notebook's matplotlib output has no alt text unless the cell's metadata gives one
    (``mystnb: image: alt: ...``); Sphinx then writes the file name as ``alt``, which a
    screen reader reads out. The figure's caption describes it better. Alt text given
    by the author is kept.
    """
    from docutils import nodes

    for figure in doctree.findall(nodes.figure):
        caption = next(iter(figure.findall(nodes.caption)), None)
        text = " ".join(caption.astext().split()) if caption is not None else ""
        if not text:
            continue
        for image in figure.findall(nodes.image):
            alt = image.get("alt", "").strip()
            if not alt or alt == image.get("uri") or alt == image.get("candidates", {}).get("*"):
                image["alt"] = text


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str((getattr(asset, "attributes", None) or {}).get("body", ""))
    return "sphinx-thebe" in name or "THEBE_JS_URL" in body or "thebe@" in name


def drop_thebe(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: remove sphinx-thebe's scripts when thebe is off.

    Jupyter Book always loads sphinx-thebe, which adds its configuration script twice
    to every page under Sphinx 7 (``const THEBE_JS_URL`` declared twice: a console
    error on every page) and names a CDN. The course launches Binder instead of thebe
    (``launch_buttons.thebe`` is not set), so pages need none of it.
    """
    options = getattr(app.config, "html_theme_options", None) or {}
    if (options.get("launch_buttons") or {}).get("thebe"):
        return
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if assets:
            assets[:] = [a for a in assets if not _is_thebe(a)]  # in place: Sphinx restores it per page


def theme_templates_without_fontawesome_js(cache: Path | None = None) -> Path | None:
    """A templates folder whose ``static/webpack-macros.html`` omits ``fontawesome.js``.

    pydata-sphinx-theme puts a 1.5 MB script on every page (Font Awesome's SVG/JS
    version, "so that users can add custom icons"); its stylesheet already draws the
    theme's icons with Font Awesome's web fonts, and this book adds no custom icon.
    The folder is made from the installed theme's own file (minus that one line), so
    it follows the theme's version; None when the theme or the line is not there.
    """
    try:
        import pydata_sphinx_theme
    except ImportError:  # pragma: no cover - Jupyter Book always has it
        return None
    source = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "webpack-macros.html"
    if not source.is_file():
        return None
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if "fontawesome.js" not in line]
    if len(kept) == len(lines):
        return None
    folder = (Path(cache) if cache is not None else vendor_dir()) / f"templates-pydata-{pydata_sphinx_theme.__version__}"
    target = folder / "static" / "webpack-macros.html"
    text = "".join(kept)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


#: What wraps the theme's book title: a landmark (axe "region": content outside landmarks).
TITLE_LANDMARK = ('<nav class="sbt-book-title" aria-label="{{ _(\'Course home\') }}">\n', "</nav>\n")

#: The sidebar's toggle of a chapter's sections, as the theme writes it (a ``<summary>``
#: holding only an icon): named by :func:`sidebar_toggles_named`.
TOGGLE_SUMMARY = '<summary><span class="toctree-toggle"'


#: The attribute that names the search button "Search" while it shows "Search Ctrl+K".
SEARCH_LABEL = ' aria-label="{{ _(\'Search\') }}"'


def accessible_theme_templates(cache: Path | None = None) -> Path | None:
    """A templates folder with the sidebar templates that axe-core flags, fixed.

    * ``navbar-logo.html``: the theme's book title, inside ``<nav aria-label="Course
      home">`` (it is a link to the home page); without it the title is the only content
      outside a landmark (axe "region").
    * ``search-button-field.html``: the theme's file minus its ``aria-label="Search"``, so
      the button is named by what it shows, "Search Ctrl+K" (axe
      "label-content-name-mismatch", WCAG 2.5.3); ``title`` still says "Search".

    Made from the installed theme's files, so it follows the theme's version; None when
    the theme's search button no longer has that label.
    """
    try:
        import pydata_sphinx_theme
    except ImportError:  # pragma: no cover - Jupyter Book always has it
        return None
    components = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "components"
    search, logo = components / "search-button-field.html", components / "navbar-logo.html"
    if not logo.is_file() or not search.is_file() or SEARCH_LABEL not in search.read_text(encoding="utf-8"):
        return None
    folder = (Path(cache) if cache is not None else vendor_dir()) / (
        f"templates-a11y-pydata-{pydata_sphinx_theme.__version__}")
    files = {
        "search-button-field.html": search.read_text(encoding="utf-8").replace(SEARCH_LABEL, ""),
        "navbar-logo.html": TITLE_LANDMARK[0] + logo.read_text(encoding="utf-8") + TITLE_LANDMARK[1],
    }
    return write_templates(folder, files)


def write_templates(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name -> text) into ``folder``; a file already so is left untouched
    (Sphinx writes every page again when a template is newer than the pages)."""
    for name, text in files.items():
        target = folder / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return folder


#: MyST-NB's toggle of a hidden cell input: named "Toggle hidden content" while it shows
#: "Show code cell source" (axe "label-content-name-mismatch").
HIDDEN_INPUT_SUMMARY = '<summary aria-label="Toggle hidden content">'


def summary_named_by_its_text(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: a hidden-input toggle is named by what it shows."""
    body = context.get("body")
    if body and HIDDEN_INPUT_SUMMARY in body:
        context["body"] = body.replace(HIDDEN_INPUT_SUMMARY, "<summary>")


def sidebar_toggles_named(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: the sidebar's toggles of a chapter's sections are named.

    Each is a ``<summary>`` holding only an icon (axe "summary-name", serious, on every page
    once a chapter has child pages). The theme's toctree function, which the sidebar template
    calls, is wrapped so that its HTML names them ("Sections of this chapter", translated by
    the site's catalogue ``sphinx.po``). (Overriding the theme's ``sbt-sidebar-nav.html``
    does not reach the page: the theme resolves its components itself.)"""
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "names_toggles", False):
        return
    from markupsafe import Markup
    from sphinx.locale import _ as site_words

    named = f'<summary aria-label="{html.escape(site_words("Sections of this chapter"))}"><span class="toctree-toggle"'

    def generate_named(*args, **kwargs):
        return Markup(str(generate(*args, **kwargs)).replace(TOGGLE_SUMMARY, named))

    generate_named.names_toggles = True
    context["generate_toctree_html"] = generate_named


def practice_checks(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: the exercise pages' practice checks, filled from the
    answer key (:mod:`softmaxbook.grader.practice`) in the page's language (the script's data
    carry every language; it picks the page's); a marker naming no such exercise warns."""
    body = context.get("body")
    if body and "practice-check" in body:
        from softmaxbook import i18n
        from softmaxbook.editions import page_language
        from softmaxbook.grader import practice

        try:
            with i18n.using(i18n.ALL):
                filled = practice.fill(body)
            context["body"] = i18n.keep_language(filled, page_language(app.config))
        except ValueError as exc:
            from sphinx.util import logging

            logging.getLogger(__name__).warning("%s: %s", pagename, exc)


#: docutils writes a bibliography as ``role="list"`` holding ``role="doc-biblioentry"`` items; a
#: list must hold list items (axe "aria-required-children", critical), and DPUB-ARIA 1.1
#: deprecates doc-biblioentry in favour of plain list items.
BIBLIOENTRY = 'role="doc-biblioentry"'


def bibliography_entries_are_list_items(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: the entries of a citation list are list items."""
    body = context.get("body")
    if body and BIBLIOENTRY in body:
        context["body"] = body.replace(BIBLIOENTRY, 'role="listitem"')


# --------------------------------------------------------------------------- navigation
def one_menu_button(app, config) -> None:
    """``config-inited`` handler: one menu button per page, the one readers see, and it works.

    pydata-sphinx-theme 0.17 draws a top bar of its own (``#pst-header``, hidden by
    ``_static/custom.css``) with a second ``.primary-toggle`` and ``.secondary-toggle`` button
    whenever one of its navbar options is set. Both themes' scripts bind
    ``document.querySelector(".primary-toggle")``, the first in the page: that hidden button.
    So the visible menu button of sphinx-book-theme opened nothing at phone width and did
    not collapse the sidebar on a desktop (pydata-sphinx-theme issue 2451). Only
    ``navbar_persistent`` is set here (pydata fills in its search field when the option is
    absent; sphinx-book-theme empties the three others): with it empty the bar has no
    content and no buttons, and the themes' scripts bind the visible button, which opens
    the menu as a dialog below 992 px and collapses the sidebar above. The sidebar's own
    search field stays. With :data:`CLOSE_MENU_ON_LINK`, this is the site's whole patch of
    the theme's navigation.
    """
    options = dict(config.html_theme_options or {})
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options


#: The theme opens its menus on a phone as modal dialogs and leaves them open when a
#: reader follows a link to a section of the same page ("Contents"): the page scrolls
#: behind the dialog and nothing seems to happen. Following a link in an open dialog
#: closes it (the theme's own "close" handler puts the sidebar back). Added to every page
#: by :func:`setup`.
CLOSE_MENU_ON_LINK = (
    'document.addEventListener("click", function (e) {'
    ' var a = e.target.closest && e.target.closest("dialog[open] a[href]");'
    ' if (a) a.closest("dialog").close(); });'
)


#: MathJax 4 settings of the site (:func:`mathjax_settings`), under any given in ``mathjax3_config``.
MATHJAX_SETTINGS = {
    # the font copied by copy_mathjax (MathJax 4 fetches it from a CDN otherwise)
    "loader": {"paths": {"fonts": f"[mathjax]/{MATHJAX_FONTS}"}},
    # a display equation wider than its column breaks at its operators, as a phone needs
    "output": {"displayOverflow": "linebreak"},
    # screen readers read the hidden MathML of each formula, as with MathJax 3. MathJax 4's
    # default semantic enrichment (speech and Braille strings for every formula) made a
    # chapter 4-6 times slower to typeset (measured: 20-70 s instead of 5-10 s of the
    # renderer's time at 390 px; mathjax/MathJax issue 3438); a reader can still switch it
    # on in MathJax's menu, whose files are served too.
    "options": {"menuOptions": {"settings": {
        "enrich": False, "speech": False, "braille": False, "assistiveMml": True}}},
}


def _with_defaults(given: dict, defaults: dict) -> dict:
    """``given`` completed by ``defaults``, nested dictionaries merged; given values win."""
    merged = dict(given)
    for key, value in defaults.items():
        if isinstance(value, dict) and isinstance(merged.get(key, {}), dict):
            merged[key] = _with_defaults(merged.get(key) or {}, value)
        else:
            merged.setdefault(key, value)
    return merged


def mathjax_settings(app, config) -> None:
    """``config-inited`` handler: MathJax 4 with :data:`MATHJAX_SETTINGS` (given values kept).

    MyST adds its ``options.processHtmlClass`` later, to the same dictionary.
    """
    config.mathjax3_config = _with_defaults(config.mathjax3_config or {}, MATHJAX_SETTINGS)


# --------------------------------------------------------------------------- words of the site
#: The words this extension adds to pages ("About 12 min", the claims table's headers) go
#: through Sphinx's translation machinery, from the package's catalogue
#: (``softmaxbook/locales/<lang>/LC_MESSAGES/softmaxbook.mo``, :mod:`softmaxbook.i18n`;
#: ``make translations`` extracts these ``_()`` calls with the package's others).
CATALOGUE, LOCALES = i18n.DOMAIN, i18n.LOCALES
_ = get_translation(CATALOGUE)


# --------------------------------------------------------------------------- claim cards
#: The class of a claim card (an admonition), its verdict classes, the id in its title.
CLAIM_CLASS = "circulating-claim"
VERDICT_CLASSES = ("verdict-wrong", "verdict-half-right", "verdict-incomplete")
CLAIM_ID = re.compile(r"\bZ(\d+)\b")
#: Between the claim's name and its verdict in a card's title: "Circulating claim Z7 — half right".
VERDICT_SEPARATOR = " \u2014 "


def verdict_badge(title, verdict: str) -> str:
    """Turn the verdict words of a card's title into a badge; return the words ('' if none).

    "Circulating claim Z7 — half right" becomes the text "Circulating claim Z7", the
    separator in a visually hidden span (a screen reader still reads the whole title) and
    ``<span class="claim-verdict verdict-half-right">half right</span>`` (``verdict``, the
    card's verdict class, colours it): real text, translated with the title.
    """
    last = title.children[-1] if title.children else None
    if not isinstance(last, nodes.Text) or VERDICT_SEPARATOR not in last.astext():
        return ""
    head, words = last.astext().rsplit(VERDICT_SEPARATOR, 1)
    words = words.strip()
    if not words:
        return ""
    title.replace(last, nodes.Text(head))
    title += nodes.inline(VERDICT_SEPARATOR, VERDICT_SEPARATOR, classes=["visually-hidden"])
    title += nodes.inline(words, words, classes=["claim-verdict", verdict or "verdict-unknown"])
    return words


def card_statement(card):
    """A copy of the card's one-line correct statement, ready to be shown elsewhere.

    The statement is the first paragraph after the quoted claim (the first paragraph of
    the card when it quotes nothing), without its bold lead ("**In fact.**") and without
    ids (the copy must not claim the card's anchors). None when the card has no paragraph.
    """
    children = [c for c in card.children if not isinstance(c, nodes.title)]
    quote = next((k for k, c in enumerate(children) if isinstance(c, nodes.block_quote)), None)
    after = children[quote + 1:] if quote is not None else children
    para = next((c for c in after if isinstance(c, nodes.paragraph)), None)
    if para is None:
        return None
    copy = para.deepcopy()
    while copy.children and isinstance(copy.children[0], nodes.Text) and not copy.children[0].strip():
        copy.remove(copy.children[0])
    if copy.children and isinstance(copy.children[0], nodes.strong):
        copy.remove(copy.children[0])
        if copy.children and isinstance(copy.children[0], nodes.Text):
            copy.replace(copy.children[0], nodes.Text(copy.children[0].astext().lstrip().lstrip("：:").lstrip()))
    for node in copy.findall(nodes.Element):
        node["ids"], node["names"] = [], []
    copy["classes"] = ["claim-statement"]
    return copy


def collect_claim_cards(app, doctree) -> None:
    """``doctree-read`` handler: badge every claim card, remember it for the list of claims."""
    env = app.env
    claims = []
    for card in doctree.findall(nodes.admonition):
        if CLAIM_CLASS not in card["classes"]:
            continue
        title = next(iter(card.findall(nodes.title)), None)
        if title is None:
            continue
        verdict = next((c for c in card["classes"] if c in VERDICT_CLASSES), "")
        words = verdict_badge(title, verdict)
        found = CLAIM_ID.search(title.astext())
        claims.append({
            "number": int(found.group(1)) if found else 0,
            "name": found.group(0) if found else title.astext(),
            "anchor": card["ids"][0] if card["ids"] else "",
            "verdict": verdict, "words": words, "statement": card_statement(card),
        })
    if not hasattr(env, "softmaxbook_claims"):
        env.softmaxbook_claims = {}
    if claims:
        env.softmaxbook_claims[env.docname] = claims
    if next(iter(doctree.findall(claims_list)), None) is not None:
        if not hasattr(env, "softmaxbook_claims_pages"):
            env.softmaxbook_claims_pages = set()
        env.softmaxbook_claims_pages.add(env.docname)
        # The statements bring inline math: Sphinx loads MathJax on pages that had math
        # when they were read, and this page gets its math only when it is written.
        env.get_domain("math").data["has_equations"][env.docname] = True


class claims_list(nodes.General, nodes.Element):
    """Where :class:`ClaimsListDirective` puts the list of claims (replaced before writing)."""


class ClaimsListDirective(SphinxDirective):
    """``{circulating-claims}``: the table of every claim card of the book, made when written."""

    def run(self):
        return [claims_list()]


class ClaimsList(SphinxPostTransform):
    """Replace ``claims_list`` by one table per page of claim cards, in the order of the claims.

    Runs while the page is written, when every page has been read, and before Sphinx
    resolves references (priority 10), so that the statements' cross-references
    (``{eq}``, ``{term}``, ...) resolve from this page; and before myst-nb pastes glued
    values from other pages (priority 5), which a translated statement refers to.
    """

    default_priority = 4

    def run(self, **kwargs):
        for placeholder in list(self.document.findall(claims_list)):
            placeholder.replace_self(claims_tables(self.app, self.env.docname) or [])


def claims_tables(app, docname: str) -> list:
    """The tables of the claims page ``docname``: one per chapter, a row per claim card."""
    env, builder = app.env, app.builder
    found = getattr(env, "softmaxbook_claims", {})
    pages = sorted(found, key=lambda d: min(c["number"] for c in found[d]))
    tables = []
    for page in pages:
        uri = builder.get_relative_uri(docname, page)
        number = ".".join(map(str, env.toc_secnumbers.get(page, {}).get("", ())))
        name = env.titles[page].astext() if page in env.titles else page
        caption = nodes.title()
        caption += nodes.reference("", f"{number}. {name}" if number else name, internal=True, refuri=uri)
        group = nodes.tgroup(cols=3)
        group += [nodes.colspec(colwidth=w) for w in (10, 20, 70)]
        group += nodes.thead("", _row([nodes.Text(_("Claim")), nodes.Text(_("Verdict")),
                                       nodes.Text(_("In fact"))]))
        body = nodes.tbody()
        for claim in sorted(found[page], key=lambda c: c["number"]):
            link = nodes.reference("", claim["name"], internal=True,
                                   refuri=uri + (f"#{claim['anchor']}" if claim["anchor"] else ""))
            badge = (nodes.inline(claim["words"], claim["words"],
                                  classes=["claim-verdict", claim["verdict"] or "verdict-unknown"])
                     if claim["words"] else nodes.Text(""))
            statement = claim["statement"].deepcopy() if claim["statement"] is not None else nodes.Text("")
            for ref in statement.findall(addnodes.pending_xref):
                ref["refdoc"] = docname  # resolved from this page
            body += _row([link, badge, statement])
        group += body
        table = nodes.table("", caption, group, classes=["claims-table"])
        table["ids"] = [f"claims-{nodes.make_id(page)}"]  # a captioned table needs an id
        tables.append(table)
    return tables


def _row(cells):
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell)
        row += entry
    return row


def purge_claims(app, env, docname) -> None:
    """``env-purge-doc`` handler: forget what a page that is read again said."""
    getattr(env, "softmaxbook_claims", {}).pop(docname, None)
    getattr(env, "softmaxbook_claims_pages", set()).discard(docname)


def merge_claims(app, env, docnames, other) -> None:
    """``env-merge-info`` handler (parallel reading): take the claims the other process read."""
    if not hasattr(env, "softmaxbook_claims"):
        env.softmaxbook_claims = {}
    if not hasattr(env, "softmaxbook_claims_pages"):
        env.softmaxbook_claims_pages = set()
    for docname in docnames:
        if docname in getattr(other, "softmaxbook_claims", {}):
            env.softmaxbook_claims[docname] = other.softmaxbook_claims[docname]
    env.softmaxbook_claims_pages |= getattr(other, "softmaxbook_claims_pages", set()) & set(docnames)


def claims_pages_are_always_written(app, env) -> list[str]:
    """``env-get-updated`` handler: the list of claims follows every chapter, changed or not."""
    return sorted(getattr(env, "softmaxbook_claims_pages", set()))


# --------------------------------------------------------------------------- reading time
#: Pages that show a reading time: the chapters, core and "Going further" pages.
READING_TIME_PAGES = re.compile(r"^chapters/")
#: Reading speeds of a learner of technical text: words of prose, lines of visible code,
#: display equations.
WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 10
EQUATIONS_PER_MINUTE = 4
#: Cells whose input a reader does not see unless they ask (MyST-NB ``hide_mode``).
HIDDEN_INPUT = ("all", "input", "input+output")
_NOT_READ = (nodes.raw, nodes.comment, nodes.system_message, nodes.target, nodes.substitution_definition)


def reading_counts(doctree) -> tuple[int, int, int]:
    """(words, code lines, display equations) a reader reads on the page.

    Words: the prose, titles, captions, tables and hidden solutions (an inline formula
    counts one word). Code: the non-blank lines of code blocks and of visible code-cell
    inputs (not cells whose input is hidden). Cell outputs and figures are not counted.
    """
    words = code = equations = 0
    stack = [doctree]
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.Text):
            words += len(node.astext().split())
        elif isinstance(node, nodes.math):
            words += 1
        elif isinstance(node, nodes.math_block):
            equations += 1
        elif isinstance(node, nodes.literal_block):
            code += sum(1 for line in node.astext().splitlines() if line.strip())
        elif isinstance(node, _NOT_READ):
            continue
        elif isinstance(node, nodes.Element) and node.get("nb_element") == "cell_code_output":
            continue
        elif isinstance(node, nodes.Element) and node.get("nb_element") == "cell_code" \
                and node.get("hide_mode") in HIDDEN_INPUT:
            stack.extend(c for c in node.children if c.get("nb_element") != "cell_code_source")
        else:
            stack.extend(node.children)
    return words, code, equations


def reading_minutes(words: int, code_lines: int, equations: int) -> int:
    """Whole minutes to read that much (at least 1)."""
    minutes = words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE + equations / EQUATIONS_PER_MINUTE
    return max(1, round(minutes))


def add_reading_time(app, doctree) -> None:
    """``doctree-read`` handler: "About N min" under the H1 of every chapter page.

    The words are a template of the course's catalogue (:data:`CATALOGUE`), so a
    translated edition says it in its language; the number comes from the page itself.
    """
    if not READING_TIME_PAGES.match(app.env.docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    minutes = reading_minutes(*reading_counts(doctree))
    text = _("About {minutes} min").format(minutes=minutes)
    line = nodes.paragraph(text, text, classes=["reading-time"], translatable=False)
    section.insert(1, line)


def _config_inited(app, config) -> None:
    for folder in (theme_templates_without_fontawesome_js(), accessible_theme_templates()):
        if folder is not None and str(folder) not in config.templates_path:
            config.templates_path = [*config.templates_path, str(folder)]


def _builder_inited(app) -> None:
    if app.builder.format != "html":
        return
    if "://" in app.config.mathjax_path:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "mathjax_path %r loads MathJax from another host; set it to %r for offline pages",
            app.config.mathjax_path, MATHJAX_PATH,
        )
        return
    copy_mathjax(Path(app.outdir))


# --------------------------------------------------------------------------- the course's home

#: ``repository.url`` of ``_config.yml`` until the course has a public home (a fork or a
#: teacher's copy replaces it with its own repository's URL).
PLACEHOLDER_HOME = "https://github.com/OWNER/REPOSITORY"

#: Launch providers of sphinx-book-theme that open the course's repository.
REPOSITORY_LAUNCHERS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "thebe")

#: Header buttons of the theme that link to the repository.
REPOSITORY_BUTTONS = ("use_repository_button", "use_edit_page_button", "use_issues_button")


def course_home(theme_options: dict) -> str | None:
    """The course's public home (``repository.url``), or None while it is unset or the placeholder."""
    url = str((theme_options or {}).get("repository_url") or "").strip().rstrip("/")
    parts = urlsplit(url)
    if url == PLACEHOLDER_HOME or parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def binder_url(home: str, branch: str, binderhub: str, path: str, interface: str = "jupyterlab") -> str:
    """The Binder link that opens ``path`` (relative to the repository) of the course at ``home``,
    built as sphinx-book-theme builds its launch button (GitHub, GitLab, any other git host)."""
    host, repo = urlsplit(home).netloc.lower(), urlsplit(home).path.strip("/")
    if host == "github.com":
        spec = f"gh/{repo}/{branch}"
    elif host == "gitlab.com":
        spec = f"gl/{quote(repo, safe='')}/{branch}"
    else:
        spec = f"git/{quote(home, safe='')}/{branch}"
    ui = "lab/tree" if interface == "jupyterlab" else "tree"
    return f"{binderhub.rstrip('/')}/v2/{spec}?urlpath={ui}/{path}"


def _home_settings(options: dict) -> dict:
    """What the how-to box needs of the course's home (empty without one)."""
    home = course_home(options)
    if not home:
        return {}
    launch = options.get("launch_buttons") or {}
    return {"home": home, "branch": options.get("repository_branch") or "main",
            "binderhub": launch.get("binderhub_url") or "",
            "interface": launch.get("notebook_interface") or "classic",
            "docs": (options.get("path_to_docs") or "").strip("/")}


def hide_buttons_without_a_home(app, config) -> None:
    """``config-inited`` handler: no button to the repository while the course has no home.

    Records the home for the how-to box (``softmaxbook_course_home``, whose change makes
    Sphinx read the pages again) and sets the ``only`` tag ``course_home`` when there is one.
    """
    options = dict(config.html_theme_options or {})
    config.softmaxbook_course_home = _home_settings(options)
    if config.softmaxbook_course_home:
        app.tags.add("course_home")
        return
    options["launch_buttons"] = {k: v for k, v in (options.get("launch_buttons") or {}).items()
                                 if k not in REPOSITORY_LAUNCHERS}
    options.update({button: False for button in REPOSITORY_BUTTONS}, repository_url="")
    config.html_theme_options = options


# --------------------------------------------------------------------------- how-to box

#: The box, in MyST Markdown; ``$names`` are filled in per page by :class:`HowToExercises`.
HOWTO = Template("""````{admonition} How to do these exercises
:class: howto-exercises

$notebook: write your answer in each task's cell and run the cell, and its `check(...)`
grades the answer at once. Run it in one of these ways:

${binder}\
1. **On your computer**, with Python 3.11 or newer: download [this assignment]($one) or
   [the whole course]($all) (a zip with the notebooks and the course package), unpack it and
   run two commands in its folder (on Windows, see its `README.md`):

   ```bash
$commands
   ```

1. $repository

**Practice checks** $practice give the verdict and feedback of `check(...)` without Python,
for the tasks whose answer is a choice or a number. They are practice: nothing is graded or
saved.
````
""")

HOWTO_BINDER = Template("""1. **In Binder**, with nothing to install: [open the notebook in Binder]($url). It starts in
   a minute or two and keeps nothing after you leave: download your notebook before you close
   it.
""")

HOWTO_CLONE = Template("**From the course's repository**: `git clone $home`, then `make lab` in its folder.")
HOWTO_NO_CLONE = "**From a copy of the course's repository**: run `make lab` in its folder."

#: Labels that receive the box: an assignment page (``exN``), a chapter's exercises (``chN-exercises``).
HOWTO_LABEL = re.compile(r"ex(\d+)|ch(\d+)-exercises")

#: A link to an archive of :mod:`softmaxbook.downloads`, relative to the page.
DOWNLOAD_LINK = re.compile(rf"(\.\./)*{downloads.DOWNLOADS}/[A-Za-z0-9_.-]+\.zip")


def labelled_section(document, label: str):
    """The section that the label ``label`` (``(label)=`` before a heading) names, or None.

    Works before and after docutils moves the label onto the section."""
    from docutils import nodes

    node = document.ids.get(document.nameids.get(label) or "")
    if isinstance(node, nodes.target):
        node = next(node.findall(nodes.section, include_self=False, descend=False, siblings=True, ascend=True), None)
    return node if isinstance(node, nodes.section) else None


def howto_markdown(number: int, assignment: str, docname: str, home: dict) -> str:
    """The box's MyST source for assignment ``number`` (``exercises/<assignment>.md``) on ``docname``."""
    own_page = docname == f"exercises/{assignment}"
    commands = "\n".join("   " + line for line in downloads.SETUP)
    binder = ""
    if home.get("binderhub"):
        path = "/".join(filter(None, [home["docs"], f"exercises/{assignment}.md"]))
        binder = HOWTO_BINDER.substitute(url=binder_url(home["home"], home["branch"], home["binderhub"],
                                                        path, home["interface"]))
    return HOWTO.substitute(
        notebook="This page is a Jupyter notebook" if own_page
        else f"The graded exercises of this chapter are the Jupyter notebook {{ref}}`ex{number}`",
        binder=binder, commands=commands, one=downloads.archive_url(assignment, docname),
        all=downloads.archive_url(downloads.COURSE_ARCHIVE, docname),
        repository=HOWTO_CLONE.substitute(home=home["home"]) if home else HOWTO_NO_CLONE,
        practice="on this page" if own_page else f"on the page {{ref}}`ex{number}`",
    )


class HowToExercises(SphinxTransform):
    """Insert the "How to do these exercises" box under the heading labelled ``exN`` or
    ``chN-exercises`` (one box per page at most). It runs before Sphinx's i18n transform
    (priority 20), so its sentences are extracted by gettext and translated with the page."""

    default_priority = 15

    def apply(self, **kwargs) -> None:
        for label in sorted(self.document.nameids):
            match = HOWTO_LABEL.fullmatch(label)
            if match is None:
                continue
            number = int(match.group(1) or match.group(2))
            section = labelled_section(self.document, label)
            notebook = downloads.assignment(Path(self.env.srcdir), number)
            if section is not None and notebook is not None:
                section.insert(1, self.box(number, notebook.stem, section))  # right under its title
                return

    def box(self, number: int, assignment: str, section):
        """The box, parsed from :func:`howto_markdown` as MyST parses the page (so gettext sees
        the same messages), its nodes located at the section's heading."""
        from docutils import nodes
        from myst_parser.parsers.sphinx_ import MystParser

        docname, source = self.env.docname, self.document["source"]
        line = section[0].line or section.line
        parsed = self.document.copy()  # same settings and reporter: warnings reach Sphinx
        MystParser().parse(howto_markdown(number, assignment, docname, self.config.softmaxbook_course_home), parsed)
        box = parsed[0]
        for node in box.findall(nodes.Element):
            node.source, node.line = source, line
        return box


class DownloadLinks(SphinxPostTransform):
    """A MyST link to an archive in the site's ``downloads/`` (written by ``make book`` after
    Sphinx, so no source file has that name) is a plain link, in the how-to box and in its
    translations alike; it runs before MyST's resolver (priority 9), which would warn."""

    default_priority = 8

    def run(self, **kwargs) -> None:
        from docutils import nodes
        from sphinx import addnodes

        for xref in list(self.document.findall(addnodes.pending_xref)):
            target = xref.get("reftarget") or ""
            if xref.get("reftype") == "myst" and DOWNLOAD_LINK.fullmatch(target):
                xref.replace_self(nodes.reference("", "", *xref.children, refuri=target))


#: Bump when this extension changes what pages contain: the value is part of the HTML
#: builder's configuration hash, so every page is written again on the next build.
OUTPUT_VERSION = "8"


def setup(app):
    app.add_config_value("softmaxbook_sphinxext_output", OUTPUT_VERSION, "html")
    # Derived from repository.url by hide_buttons_without_a_home (not set by hand); "env":
    # a new home makes Sphinx read the pages again, so the how-to boxes follow it.
    app.add_config_value("softmaxbook_course_home", {}, "env")
    app.add_message_catalog(CATALOGUE, str(LOCALES))
    app.connect("config-inited", _config_inited)
    app.connect("config-inited", hide_buttons_without_a_home)
    app.connect("config-inited", one_menu_button)
    app.add_js_file(None, body=CLOSE_MENU_ON_LINK)
    app.connect("config-inited", mathjax_settings)
    app.add_transform(HowToExercises)
    app.add_post_transform(DownloadLinks)
    app.connect("builder-inited", _builder_inited)
    # claim cards: badges, and the page listing them all (claims.md)
    app.add_node(claims_list)
    app.add_directive("circulating-claims", ClaimsListDirective)
    app.add_post_transform(ClaimsList)
    app.connect("doctree-read", collect_claim_cards)
    app.connect("env-purge-doc", purge_claims)
    app.connect("env-merge-info", merge_claims)
    app.connect("env-get-updated", claims_pages_are_always_written)
    app.connect("doctree-read", add_reading_time)
    # MyST-NB adds the page's scripts at the default priority (500): run before it.
    app.connect("doctree-resolved", caption_as_alt_text)
    app.connect("html-page-context", drop_widget_state, priority=400)
    app.connect("html-page-context", drop_thebe, priority=900)
    app.connect("html-page-context", summary_named_by_its_text)
    app.connect("html-page-context", sidebar_toggles_named, priority=900)   # after the theme's
    app.connect("html-page-context", practice_checks)
    app.connect("html-page-context", bibliography_entries_are_list_items)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
