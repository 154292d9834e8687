"""Sphinx extension of the course's editions: one site per language, from one execution.

Listed in ``_config.yml`` (``sphinx: extra_extensions``), next to :mod:`softmaxbook.sphinxext`.
``make book`` builds the English site into ``_build/html/`` (the notebooks run once, with
``SOFTMAXBOOK_LANG=all``) and then each translated edition with
``python -m softmaxbook.editions zh_CN`` (:func:`build_edition`): Sphinx's ``language``
set, the prose translated by the catalogues of ``locales/<lang>/LC_MESSAGES/`` and the
notebooks' cached outputs reused, into ``_build/html/zh_CN/``. In every page:

* **Outputs in the page's language**: what the package shows carries every language in the
  book build (:mod:`softmaxbook.i18n`); the page keeps its own alternative
  (:func:`keep_page_language`), before the HTML is written and the search index is made.
* **A language switch**: a button beside the theme's header buttons and
  ``<link rel="alternate" hreflang>`` lead to the same page in the other editions
  (:func:`language_switch`).
* **The part captions** of ``_toc.yml`` translated (:func:`translate_toctree_captions`).
* **Chinese search**: Sphinx's Chinese search splits words with jieba, taught the course's
  terms from ``locales/zh_CN/terms.tsv`` (:func:`search_dictionary`), so that 交叉熵 is one
  word of the index.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .sphinxext import vendor_dir, write_templates

#: Language -> folder of its edition under the site's root ("" = the root itself).
EDITIONS = {"en": "", "zh_CN": "zh_CN"}

#: How each edition names itself on the language switch, and the switch's tooltip: both in
#: the language of the edition it leads to, so that its readers recognise it.
LANGUAGE_NAMES = {"en": "English", "zh_CN": "中文"}
SWITCH_TITLES = {"en": "Read this page in English", "zh_CN": "阅读本页的中文版"}

#: The terminology of the translation: English term, Chinese term, note (tab-separated).
TERMS_FILE = Path("locales") / "zh_CN" / "terms.tsv"


def page_language(config) -> str:
    """The language of the edition being built: Sphinx's ``language`` (``en`` when unset)."""
    return getattr(config, "language", None) or "en"


def keep_page_language(app, doctree, docname) -> None:
    """``doctree-resolved`` handler: outputs keep only the page's language.

    A notebook output made in the book build carries every language, each alternative
    marked ``<!--i18n:LANG-->…<!--/i18n-->`` (:func:`softmaxbook.i18n.html`); the page keeps
    its own, before the HTML is written and the search index reads its words.
    """
    from docutils import nodes

    from .i18n import keep_language

    lang = page_language(app.config)
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if "<!--i18n:" in text:
            raw.replace(raw[0], nodes.Text(keep_language(text, lang)))


def translate_toctree_captions(app, doctree) -> None:
    """``doctree-read`` handler: the captions of the book's parts in the edition's language.

    sphinx-external-toc inserts the toctrees (with the part captions of ``_toc.yml``) after
    Sphinx's translation transform has run, so the gettext builder extracts the captions
    into the root page's catalogue but nothing translates them: done here, from that
    catalogue.
    """
    from os import path

    from sphinx import addnodes
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    if page_language(app.config) == "en":
        return
    toctrees = [n for n in doctree.findall(addnodes.toctree) if n.get("caption")]
    if not toctrees:
        return
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    dirs = [path.join(app.srcdir, d) for d in app.config.locale_dirs]
    catalogue, found = init_locale(dirs, app.config.language, domain)
    if found:
        for node in toctrees:
            node["caption"] = catalogue.gettext(node["caption"])


def maths_is_not_a_message(app, doctree) -> None:
    """``doctree-read`` handler: display maths (and sympy's LaTeX outputs) is never translated,
    so it is left out of the catalogues instead of being copied into them by hand."""
    from docutils import nodes

    for node in doctree.findall(nodes.math_block):
        node["translatable"] = False


def edition_url(pagename: str, source: str, target: str, editions: dict) -> str:
    """Relative URL, from ``pagename`` in the ``source`` edition, of the same page in ``target``."""
    up = "../" * pagename.count("/")
    folder = editions.get(source, "")
    up += "../" * (folder.count("/") + 1) if folder else ""
    other = editions.get(target, "")
    return f"{up}{other + '/' if other else ''}{pagename}.html"


def language_switch(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: links to this page in the other editions.

    Sets ``context["language_switch"]`` (read by the ``language-switch.html`` component
    added to the article's header buttons) and adds ``<link rel="alternate" hreflang>``
    for each other edition to the page's head.
    """
    editions = app.config.softmaxbook_editions or {}
    here = page_language(app.config)
    if here not in editions:
        return
    links = [{"href": edition_url(pagename, here, lang, editions), "hreflang": lang.replace("_", "-"),
              "text": LANGUAGE_NAMES.get(lang, lang), "title": SWITCH_TITLES.get(lang, lang)}
             for lang in editions if lang != here]
    context["language_switch"] = links
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<link rel="alternate" hreflang="{link["hreflang"]}" href="{link["href"]}" />' for link in links)


#: The component that shows the switch, placed before the theme's light/dark switcher.
SWITCH_TEMPLATE = """{%- for link in language_switch|default([]) %}
<a href="{{ link.href }}" hreflang="{{ link.hreflang }}" lang="{{ link.hreflang }}"
   class="btn btn-sm btn-language-switch" title="{{ link.title }}">
  <span class="btn__icon-container"><i class="fa-solid fa-language" aria-hidden="true"></i></span>
  <span class="btn__text-container">{{ link.text }}</span>
</a>
{%- endfor %}
"""

#: Where the switch goes in sphinx-book-theme's ``article-header-buttons.html``.
SWITCH_ANCHOR = '{% include "theme-switcher.html" %}'


def language_switch_templates(cache: Path | None = None) -> Path | None:
    """A templates folder whose article header buttons start with the language switch.

    Made from the installed sphinx-book-theme's ``article-header-buttons.html`` (the
    switch included before its theme switcher); None when that file has changed shape.
    """
    try:
        import sphinx_book_theme
    except ImportError:  # pragma: no cover - Jupyter Book always has it
        return None
    source = (Path(sphinx_book_theme.__file__).parent / "theme" / "sphinx_book_theme" / "components"
              / "article-header-buttons.html")
    if not source.is_file() or SWITCH_ANCHOR not in source.read_text(encoding="utf-8"):
        return None
    folder = (Path(cache) if cache is not None else vendor_dir()) / f"templates-editions-sbt-{sphinx_book_theme.__version__}"
    files = {
        "article-header-buttons.html": source.read_text(encoding="utf-8").replace(
            SWITCH_ANCHOR, '{% include "language-switch.html" %}\n' + SWITCH_ANCHOR),
        "language-switch.html": SWITCH_TEMPLATE,
    }
    return write_templates(folder, files)


def _write_config(config: dict, target: Path) -> Path:
    import yaml

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# written by softmaxbook.editions from _config.yml: edit _config.yml instead\n"
                      + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _book_config(root: Path) -> dict:
    import yaml

    return yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf-8"))


def _jupyter_book(root: Path, config: Path, output: Path, *options) -> int:
    """``jupyter-book build root`` with another configuration and output folder; its exit code.

    A notebook that is not in the cache runs as in the main build, its outputs in every
    language (``SOFTMAXBOOK_LANG=all``): the cache is shared by every build.
    """
    import os
    import sys

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jupyter_book), "build", str(root), "--config", str(config),
                           "--path-output", str(output), *options],
                          env={**os.environ, "SOFTMAXBOOK_LANG": "all"}).returncode


def write_edition_config(lang: str, root: Path = Path("."), build: Path = Path("_build")) -> Path:
    """Write ``build/<lang>/_config.yml``: the book's ``_config.yml`` for the edition in ``lang``.

    The same configuration with Sphinx's ``language`` set, the book's ``title`` as the home
    page's catalogue translates it (the title is that page's heading), and the execution
    cache of the main build (``build/.jupyter_cache``), so that the edition reuses the
    outputs of the notebooks executed once (:func:`build_edition` builds it with
    ``--path-output build/<lang>``: its doctrees and ``jupyter_execute`` stay apart).
    """
    import yaml

    if lang not in EDITIONS or not EDITIONS[lang]:
        raise ValueError(f"no translated edition {lang!r}; the editions are {EDITIONS}")
    config = _book_config(root)
    config.setdefault("sphinx", {}).setdefault("config", {})["language"] = lang
    home = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))["root"]
    catalogue = Path(root) / "locales" / lang / "LC_MESSAGES" / f"{home}.po"
    if catalogue.is_file() and config.get("title"):
        from babel.messages.pofile import read_po

        with catalogue.open("rb") as f:
            message = read_po(f).get(config["title"])
        if message is not None and message.string and not message.fuzzy:
            config["title"] = message.string
    config.setdefault("execute", {})["cache"] = str((Path(build) / ".jupyter_cache").resolve())
    return _write_config(config, Path(build) / lang / "_config.yml")


def build_edition(lang: str, root: Path = Path("."), build: Path = Path("_build"),
                  options: tuple = ("-W", "-n", "--keep-going")) -> Path:
    """Build the edition in ``lang`` after the main build; return its folder in the site.

    Jupyter Book builds it (``options``: strict, as the main build) with the configuration
    of :func:`write_edition_config` into ``build/<lang>/_build/html``, reusing the notebooks'
    cached outputs; it is then copied to ``build/html/<folder>``. Raises RuntimeError when
    the build fails (its output has been printed).
    """
    config = write_edition_config(lang, root, build)
    code = _jupyter_book(root, config, Path(build) / lang, *options)
    if code != 0:
        raise RuntimeError(f"the {lang} edition failed to build (exit {code})")
    site = Path(build) / "html" / EDITIONS[lang]
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(Path(build) / lang / "_build" / "html", site, symlinks=True)
    return site


def extract_messages(root: Path = Path("."), build: Path = Path("_build"), cache: Path | None = None) -> Path:
    """The messages of every page, one ``.pot`` per page; returns their folder.

    Sphinx's gettext builder on the English text (``make translations``, and the catalogue
    tests), with its own doctrees (``build/gettext-book/``) and the notebooks' cached
    outputs (``cache``, by default the main build's ``build/.jupyter_cache``: a figure's
    caption is a message only where the figure is). Raises RuntimeError when it fails.
    """
    config = _book_config(root)
    config.setdefault("execute", {})["cache"] = str(Path(cache or Path(build) / ".jupyter_cache").resolve())
    output = Path(build) / "gettext-book"
    code = _jupyter_book(root, _write_config(config, output / "_config.yml"), output,
                         "--builder", "custom", "--custom-builder", "gettext")
    if code != 0:
        raise RuntimeError(f"extracting the messages failed (exit {code})")
    return output / "_build" / "gettext"


def read_terms(path: Path) -> list[tuple[str, str, str]]:
    """(English, Chinese, note) rows of the terminology file; ``#`` lines are comments."""
    rows = []
    for k, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 2 or not cells[0].strip() or not cells[1].strip():
            raise ValueError(f"{path}:{k}: a term is 'English<TAB>Chinese[<TAB>note]', got {line!r}")
        rows.append((cells[0].strip(), cells[1].strip(), cells[2].strip() if len(cells) > 2 else ""))
    return rows


def search_dictionary(srcdir: Path, outdir: Path) -> Path | None:
    """A jieba user dictionary of the course's Chinese terms (one word per line), or None.

    jieba's own dictionary splits 交叉熵 into 交叉 + 熵, and Sphinx's search looks a query
    up as a whole word: taught the terms, the index holds 交叉熵 itself.
    """
    terms = Path(srcdir) / TERMS_FILE
    if not terms.is_file():
        return None
    words = sorted({zh for _, zh, _ in read_terms(terms) if " " not in zh})
    target = Path(outdir) / "jieba-terms.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"{w} 100000 n\n" for w in words), encoding="utf-8")
    return target


def translated_downloads(app, exception) -> None:
    """``build-finished`` handler: the edition's download buttons give the translated files.

    Sphinx copies each page's English source to ``_sources/`` (MyST-NB adds the executed
    ``.ipynb``). In a translated edition, a page whose catalogue translates every block is
    replaced there by its translation (:mod:`softmaxbook.translate`): a notebook with its
    language in its metadata, so that ``check()`` in it speaks that language.
    """
    if exception is not None or app.builder.format != "html" or page_language(app.config) == "en":
        return
    from .translate import catalogue_path, load_catalogue, translate_markdown, write_translation

    lang = app.config.language
    for docname in sorted(app.env.found_docs):
        po = catalogue_path(Path(app.srcdir), docname, lang)
        source = Path(app.srcdir) / f"{docname}.md"
        downloads = Path(app.outdir) / "_sources"
        if not po.is_file() or not source.is_file():
            continue
        text = source.read_text(encoding="utf-8")
        if text.startswith("---") and "kernelspec:" in text.split("\n---", 1)[0]:  # a notebook
            for target in (downloads / f"{docname}.md", downloads / f"{docname}.ipynb"):
                if target.is_file():
                    write_translation(source if target.suffix == ".md" else target, po, lang, target)
        elif (downloads / f"{docname}.md").is_file():
            translated, missing = translate_markdown(text, load_catalogue(po))
            if not missing:
                (downloads / f"{docname}.md").write_text(translated, encoding="utf-8")


#: Bump when this extension changes what pages contain: the value is part of the HTML
#: builder's configuration hash, so every page is written again on the next build.
OUTPUT_VERSION = "2"


def _config_inited(app, config) -> None:
    # first: sphinx-book-theme puts its own components folder before the user's folders
    switch = language_switch_templates()
    if switch is not None and str(switch) not in config.templates_path:
        config.templates_path = [str(switch), *config.templates_path]
    if page_language(config).startswith("zh") and not (config.html_search_options or {}).get("dict"):
        words = search_dictionary(Path(app.srcdir), Path(app.doctreedir))
        if words is not None:
            config.html_search_options = {**(config.html_search_options or {}), "dict": str(words)}


def _glue_text_role():
    """myst-nb's ``{glue:text}`` role, also inside a translated message.

    Sphinx parses a translated message (the Chinese text of a paragraph) in a document of its
    own, without the notebook's outputs, so myst-nb's role finds no glue data there ("No key
    ... found in glue data for this document"). There the role refers to its own page as
    another document would (``/page.md::key:format``): myst-nb then reads the value from the
    page's glue cache when the page is written. Outside translated messages it is myst-nb's."""
    from myst_nb.ext.glue.roles import PasteTextRole

    class TranslatableGlueText(PasteTextRole):
        def run(self):
            if "nb_renderer" not in self.document and "::" not in self.text:
                env = self.document.settings.env
                key, _, spec = self.text.partition(":")
                self.text = f"/{env.doc2path(env.docname, False)}::{key}:{spec or 's'}"
            return super().run()

    return TranslatableGlueText()


def _override_glue_text(app, config) -> None:
    if "glue" in app.registry.domains:
        app.add_role_to_domain("glue", "text", _glue_text_role(), override=True)


def setup(app):
    app.connect("config-inited", _override_glue_text, priority=900)   # once myst-nb's domain is in
    app.add_config_value("softmaxbook_editions_output", OUTPUT_VERSION, "html")
    app.add_config_value("softmaxbook_editions", EDITIONS, "html", dict)
    app.connect("config-inited", _config_inited)
    app.connect("doctree-read", translate_toctree_captions)
    app.connect("doctree-read", maths_is_not_a_message)
    app.connect("doctree-resolved", keep_page_language)
    app.connect("html-page-context", language_switch)
    app.connect("build-finished", translated_downloads)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    # make book:          python -m softmaxbook.editions zh_CN ...   (build the editions)
    # make translations:  python -m softmaxbook.editions --messages  (extract the .pot files)
    import sys

    try:
        if sys.argv[1:] == ["--messages"]:
            print(f"Messages of every page in {extract_messages()}")
        for code in [a for a in sys.argv[1:] if a != "--messages"]:
            print(f"Edition {code} built into {build_edition(code)}")
    except (RuntimeError, ValueError) as exc:
        sys.exit(str(exc))
