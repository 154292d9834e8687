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
    MATHJAX, MATHJAX_DIR, MATHJAX_FONT, MATHJAX_FONTS, accessible_theme_templates,
    bibliography_entries_are_list_items, caption_as_alt_text, card_statement, copy_mathjax, drop_thebe,
    drop_widget_state, mathjax_settings, one_menu_button, reading_counts, reading_minutes, sri,
    sidebar_toggles_named, summary_named_by_its_text, theme_templates_without_fontawesome_js, vendor_npm,
    verdict_badge, TOGGLE_SUMMARY,
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


def test_the_sidebar_names_the_toggles_of_a_chapters_sections():
    toctree = ('<ul><li><a href="a.html">1. A</a><details><summary><span class="toctree-toggle" '
               'role="presentation"><i class="fa-solid fa-chevron-down"></i></span></summary><ul></ul>'
               '</details></li></ul>')
    context = {"generate_toctree_html": lambda kind, **kw: toctree}
    sidebar_toggles_named(None, "a", "page.html", context, None)
    page = str(context["generate_toctree_html"]("sidebar", startdepth=0))
    assert '<summary aria-label="Sections of this chapter"><span class="toctree-toggle"' in page
    assert "<summary><span" not in page and '<a href="a.html">1. A</a>' in page
    wrapped = context["generate_toctree_html"]
    sidebar_toggles_named(None, "a", "page.html", context, None)      # a second call wraps nothing more
    assert context["generate_toctree_html"] is wrapped


def test_the_site_names_every_sidebar_toggle(site):
    for page in ("intro.html", "chapters/02_hessian_is_variance.html", "zh_CN/intro.html"):
        text = (site / page).read_text(encoding="utf-8")
        assert TOGGLE_SUMMARY not in text and "<summary aria-label=" in text, page
    assert 'aria-label="本章各节"' in (site / "zh_CN" / "intro.html").read_text(encoding="utf-8")


def test_hidden_input_toggles_are_named_by_what_they_show():
    body = '<details class="hide"><summary aria-label="Toggle hidden content">\n<p>Show code cell source</p>'
    context = {"body": body + body}
    summary_named_by_its_text(None, "p", "page.html", context, None)
    assert context["body"].count("<summary>\n<p>Show code cell source</p>") == 2 and "aria-label" not in context["body"]
    other = {"body": "<summary>x</summary>"}
    summary_named_by_its_text(None, "p", "page.html", other, None)
    assert other == {"body": "<summary>x</summary>"}


def test_bibliography_entries_become_list_items():
    entry = '<div class="citation" id="id6" role="doc-biblioentry">'
    context = {"body": '<div role="list" class="citation-list">' + entry * 2 + "</div>"}
    bibliography_entries_are_list_items(None, "bibliography", "page.html", context, None)
    assert context["body"].count('role="listitem"') == 2 and "doc-biblioentry" not in context["body"]


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
    shutil.copy(ROOT / "references.bib", book)  # named by the config
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


# --------------------------------------------------------------------------- the course's home

def test_course_home_is_unset_while_the_url_is_the_placeholder_or_not_a_url():
    from softmaxbook.sphinxext import PLACEHOLDER_HOME, course_home

    for url in (PLACEHOLDER_HOME, PLACEHOLDER_HOME + "/", "", None, "github.com/alice/x", "file:///srv/x", "https://"):
        assert course_home({"repository_url": url}) is None, url
    assert course_home({}) is None
    assert course_home({"repository_url": " https://github.com/alice/softmax-course/ "}) == \
        "https://github.com/alice/softmax-course"
    assert course_home({"repository_url": "https://gitlab.com/t/c"}) == "https://gitlab.com/t/c"


def test_binder_links_are_built_as_the_theme_builds_them():
    from softmaxbook.sphinxext import binder_url

    assert binder_url("https://github.com/alice/c", "main", "https://mybinder.org/", "exercises/ex1_a.md") == \
        "https://mybinder.org/v2/gh/alice/c/main?urlpath=lab/tree/exercises/ex1_a.md"
    assert binder_url("https://gitlab.com/t/c", "dev", "https://mybinder.org", "x.md", "classic") == \
        "https://mybinder.org/v2/gl/t%2Fc/dev?urlpath=tree/x.md"
    assert binder_url("https://git.example.edu/t/c", "main", "https://b.org", "x.md") == \
        "https://b.org/v2/git/https%3A%2F%2Fgit.example.edu%2Ft%2Fc/main?urlpath=lab/tree/x.md"


def _config(url):
    import yaml

    book = yaml.safe_load((ROOT / "_config.yml").read_text())
    options = {"repository_url": url, "repository_branch": book["repository"]["branch"],
               "launch_buttons": dict(book["launch_buttons"]), **{k: v for k, v in book["html"].items() if k.startswith("use_")}}
    return SimpleNamespace(html_theme_options=options, softmaxbook_course_home=None)


def test_without_a_home_no_button_leads_to_the_placeholder():
    from softmaxbook.sphinxext import PLACEHOLDER_HOME, hide_buttons_without_a_home

    tags = set()
    config = _config(PLACEHOLDER_HOME)
    hide_buttons_without_a_home(SimpleNamespace(tags=tags), config)
    options = config.html_theme_options
    assert config.softmaxbook_course_home == {} and not tags
    assert options["repository_url"] == "" and options["use_repository_button"] is False
    assert not options["use_edit_page_button"] and not options["use_issues_button"]
    assert "binderhub_url" not in options["launch_buttons"]
    assert options["launch_buttons"]["notebook_interface"] == "jupyterlab"  # the rest is kept


def test_with_a_home_the_buttons_stay_and_the_course_home_tag_is_set():
    from softmaxbook.sphinxext import hide_buttons_without_a_home

    tags = set()
    config = _config("https://github.com/alice/softmax-course")
    before = json.loads(json.dumps(config.html_theme_options))
    hide_buttons_without_a_home(SimpleNamespace(tags=tags), config)
    assert config.html_theme_options == before and tags == {"course_home"}
    assert config.softmaxbook_course_home == {
        "home": "https://github.com/alice/softmax-course", "branch": "main", "binderhub": "https://mybinder.org",
        "interface": "jupyterlab", "docs": ""}


def test_the_config_holds_the_placeholder_or_a_real_home():
    """The one setting: repository.url is the placeholder, or a URL the site then links to."""
    import yaml

    from softmaxbook.sphinxext import PLACEHOLDER_HOME, course_home

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert url == PLACEHOLDER_HOME or course_home({"repository_url": url}) == url.rstrip("/")
    assert PLACEHOLDER_HOME in (ROOT / "README.md").read_text()


# --------------------------------------------------------------------------- how-to box

def test_labelled_section_finds_the_section_before_and_after_the_label_moves():
    from docutils import nodes
    from docutils.utils import new_document

    from softmaxbook.sphinxext import labelled_section

    doc = new_document("page.md")
    top = nodes.section("", nodes.title(text="Page"), ids=["page"], names=["page"])
    before = nodes.section("", nodes.title(text="Summary"), ids=["summary"], names=["summary"])
    target = nodes.target("", names=["ch1-exercises"])
    doc.note_explicit_target(target, before)
    before += target
    exercises = nodes.section("", nodes.title(text="Exercises"), ids=["exercises"], names=["exercises"])
    top += [before, exercises]
    doc += top
    assert labelled_section(doc, "ch1-exercises") is exercises
    assert labelled_section(doc, "nothing") is None
    doc.ids[doc.nameids["ch1-exercises"]] = exercises  # after docutils' PropagateTargets
    assert labelled_section(doc, "ch1-exercises") is exercises


def test_the_box_source_follows_the_page_and_the_home():
    from softmaxbook.sphinxext import howto_markdown

    home = {"home": "https://github.com/alice/c", "branch": "main", "binderhub": "https://mybinder.org",
            "interface": "jupyterlab", "docs": ""}
    own = howto_markdown(2, "ex2_hessian", "exercises/ex2_hessian", home)
    chapter = howto_markdown(2, "ex2_hessian", "chapters/02_hessian_is_variance", {})
    assert own.startswith("````{admonition} How to do these exercises")
    for page in (own, chapter):
        assert "[this assignment](../downloads/ex2_hessian.zip)" in page
        assert f"[the whole course](../downloads/{sphinxext.downloads.COURSE_ARCHIVE}.zip)" in page
    assert "https://mybinder.org/v2/gh/alice/c/main?urlpath=lab/tree/exercises/ex2_hessian.md" in own
    assert "`git clone https://github.com/alice/c`" in own and "on this page" in own
    assert "Binder" not in chapter and "git clone" not in chapter and "github" not in chapter
    assert "{ref}`ex2`" in chapter and "make lab" in chapter
    for command in sphinxext.downloads.SETUP:
        assert command in own and command in chapter
    # three ways with a home (Binder, download, clone), two without; practice checks last
    assert own.count("\n1. ") == 3 and chapter.count("\n1. ") == 2
    assert own.index("Binder") < own.index("On your computer") < own.index("git clone") < own.index("Practice")


def _notebook_page(text: str) -> str:
    header = (ROOT / "exercises" / "ex1_exponential_family.md").read_text().split("\n---", 1)[0] + "\n---\n"
    return header + "\n" + text


def _build_mini_course(book: Path, url: str) -> subprocess.CompletedProcess:
    """A two-notebook course (a chapter with its labelled exercise section, an assignment
    page) with this book's configuration and ``repository.url`` set to ``url``."""
    config = (ROOT / "_config.yml").read_text()
    assert f"url: {sphinxext.PLACEHOLDER_HOME}" in config or "url: https://" in config
    config = re.sub(r"(?m)^  url: \S+$", f"  url: {url}", config)
    (book / "_config.yml").write_text(config)
    if not (book / "_static").exists():
        shutil.copytree(ROOT / "_static", book / "_static")
        shutil.copy(ROOT / "references.bib", book)
        (book / "chapters").mkdir()
        (book / "exercises").mkdir()
        shutil.copy(ROOT / "intro.md", book / "intro.md")
        (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: chapters/01_one\n  - file: exercises/ex1_one\n")
        (book / "chapters/01_one.md").write_text(_notebook_page(
            "(ch1)=\n# One\n\n```{code-cell} ipython3\nprint(1)\n```\n\n## Summary\n\nDone.\n\n"
            "(ch1-exercises)=\n## Exercises\n\n1. Try it.\n"))
        (book / "exercises/ex1_one.md").write_text(_notebook_page(
            "(ex1)=\n# Graded exercises: one\n\nIntro.\n\n## 1. Task\n\n```{code-cell} ipython3\nx = 1\n```\n"))
        # the intro's references to the real chapters, as plain text
        (book / "intro.md").write_text(re.sub(r"\{ref\}`(\w+)`", r"\1", (book / "intro.md").read_text()))
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_a_course_without_and_with_a_home(tmp_path):
    """Built twice: with the placeholder, no page links to it (no launch, repository or Binder
    link, no clone URL, no rocket sentence); with a real URL, the theme's buttons, the box's
    Binder link to the assignment notebook and the clone command appear."""
    book = tmp_path / "book"
    book.mkdir()
    pages = ["intro", "chapters/01_one", "exercises/ex1_one"]
    done = _build_mini_course(book, sphinxext.PLACEHOLDER_HOME)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = {p: (book / f"_build/html/{p}.html").read_text() for p in pages}
    for page, text in html.items():
        for leak in ("OWNER/REPOSITORY", "mybinder", "git clone", "repository-button", "rocket"):
            assert leak not in text and leak not in _text(text), (page, leak)
    for page in pages[1:]:
        assert html[page].count('class="howto-exercises admonition"') == 1, page
        assert 'href="../downloads/ex1_one.zip"' in html[page]
        assert f'href="../downloads/{sphinxext.downloads.COURSE_ARCHIVE}.zip"' in html[page]
    assert "howto-exercises" not in html["intro"]

    real = "https://github.com/alice/softmax-course"
    done = _build_mini_course(book, real)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "config changed ('softmaxbook_course_home')" in done.stdout, "the pages are read again"
    html = {p: (book / f"_build/html/{p}.html").read_text() for p in pages}
    binder = "https://mybinder.org/v2/gh/alice/softmax-course/main?urlpath=lab/tree/exercises/ex1_one.md"
    for page in pages[1:]:
        assert binder in html[page], page                      # the box's Binder link (and the theme's)
        assert f'href="{real}"' in html[page], page            # the theme's repository button
        assert f"git clone {real}" in _text(html[page])
    assert "v2/gh/alice/softmax-course/main?urlpath=lab/tree/chapters/01_one.md" in html["chapters/01_one"]
    assert "rocket icon" in html["intro"]

    import pickle

    from sphinx.util.nodes import extract_messages

    doctree = pickle.loads((book / "_build/.doctrees/exercises/ex1_one.doctree").read_bytes())
    messages = [m for _, m in extract_messages(doctree)]
    assert "How to do these exercises" in messages, "the box is extracted for translation"
    assert any(m.startswith("**Practice checks** on this page") for m in messages)
    assert any("[this assignment](../downloads/ex1_one.zip)" in m for m in messages)


def test_links_to_the_archives_become_plain_links_and_other_links_stay_references():
    from docutils import nodes
    from docutils.utils import new_document
    from sphinx import addnodes

    from softmaxbook.sphinxext import DownloadLinks

    def xref(target, reftype="myst"):
        return addnodes.pending_xref("", nodes.inline(text="text"), reftype=reftype, reftarget=target)

    doc = new_document("page.md")
    links = [xref("../downloads/ex1_a.zip"), xref("downloads/x.zip"), xref("../other/x.zip"),
             xref("../downloads/x.zip", reftype="ref"), xref("../downloads/../../etc/x.zip")]
    doc += nodes.paragraph("", "", *links)
    DownloadLinks(doc).run()
    kinds = [(type(n).__name__, n.get("refuri")) for n in doc[0].children]
    assert kinds == [("reference", "../downloads/ex1_a.zip"), ("reference", "downloads/x.zip"),
                     ("pending_xref", None), ("pending_xref", None), ("pending_xref", None)]
    assert doc[0][0].astext() == "text"
