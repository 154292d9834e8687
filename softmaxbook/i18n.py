"""What the package shows, in the reader's language (issue 23: the Chinese edition).

The chapters' prose is translated by Sphinx (gettext catalogues under ``locales/``), but
gettext never reaches what code prints: figure text, tables, readouts, the grader's
feedback. Those strings are translated here, at run time, from the package's own
gettext catalogue, ``softmaxbook/locales/<lang>/LC_MESSAGES/softmaxbook.po`` and its
compiled ``.mo`` (read by Python's :mod:`gettext`), both kept in git. ``make translations``
extracts the ``_()`` calls of the package (``_build/gettext-package/softmaxbook.pot``),
merges them into each ``.po`` and compiles the ``.mo``.
English is the source language: a message id is the English text.

Which language
--------------
Chosen explicitly, never guessed from the system locale. The first of:

1. :func:`set_language` called in the session (``set_language("zh_CN")``);
2. the environment variable ``SOFTMAXBOOK_LANG`` (``en``, ``zh_CN``, or ``all``);
3. the notebook's own metadata, ``softmaxbook: {language: zh_CN}`` (jupytext front matter
   of a ``.md`` notebook, or ``metadata`` of an ``.ipynb``), found through
   ``JPY_SESSION_NAME``, which the Jupyter server sets to the notebook's path when it
   starts its kernel (JupyterLab, Binder);
4. English.

An unknown value in 2 or 3 warns once and means English (a check never fails over it).

One execution, every language
-----------------------------
``make book`` executes the notebooks once, with ``SOFTMAXBOOK_LANG=all``, and both
editions reuse the cached outputs. In that mode :func:`html` writes every language of a
message, each alternative between ``<!--i18n:LANG-->`` and ``<!--/i18n-->`` (``LANG`` as in
``<html lang>``: ``en``, ``zh-CN``); :mod:`softmaxbook.editions` keeps, on each page, the
alternative of the page's language (:func:`keep_language`, before the search index reads
the page). Plain text (``str()``, ``print``) is English in that mode. For figures drawn in the
browser, :func:`texts` gives ``{"en": ..., "zh-CN": ...}`` and the script picks by
``document.documentElement.lang``.

Recipe: how a module hooks in
-----------------------------
*Python strings* (figure titles, axis labels, legends, notes, slider labels, readouts,
feedback, probes, parse-error help, ``check()``/``progress()`` text, the answer key's
feedback)::

    from softmaxbook.i18n import _
    title = _("Hessian of the loss")                    # a str in the session's language
    note = _("λ = {lam}: gap {gap:.2f}").format(lam=lam, gap=gap)   # placeholders by name

``_()`` returns a :class:`Message`, a ``str`` (the session's language) that remembers its
id, so it can be passed wherever a string goes. Only a *literal* string inside ``_()``
is extracted: never ``_(variable)`` or ``_(f"...")``; format afterwards with
``.format(name=...)`` (per language, so translators can move the placeholders). Keep one
id per sentence or label.

*The answer key* (``grader/key/*.toml``): its texts are message ids as they stand. The
key's reader wraps each text a learner reads in :class:`Message` (``Message(text)``:
task, answer, the feedback of each wrong answer, probes' ``says``/``name``, hints);
:func:`extract_key` is the extractor that puts them in the catalogue (enable its line in
``softmaxbook/locales/babel.cfg``; pyproject registers it as ``softmaxbook_key``). The class report counts a misconception by the
English feedback: compare ``msgid``, not the translated text.

*HTML output* (tables, readouts, the "Data" tables, ``_repr_html_``): write every
translatable string through :func:`html` (it escapes), never ``escape(str(msg))``.

*HTML made by code that formats several messages* (a result's box, a table): write it
for the session's language and pass that function to :func:`alternatives`; for data,
:func:`each_language`.

*JSON for a browser script* (``static/kfig.js``): put :func:`texts` of a message in the
payload instead of the string; in the script, pick with
``t => typeof t === "string" ? t : (t[document.documentElement.lang] ?? t.en)``.

*A static matplotlib figure*: write the drawing as a function of the language,
``draw(lang) -> Figure`` (labels through :func:`gettext` with ``lang``), and return
:func:`figure` ``(draw, alt)``: one PNG per language in the book, the session's language
in a kernel. Chinese text needs a CJK font: :func:`use_cjk_font` (``make`` installs
Debian's ``fonts-noto-cjk``).

*The batch grader*: run each submission's kernel with ``SOFTMAXBOOK_LANG`` set to that
notebook's ``softmaxbook.language`` metadata, write its feedback inside
``with using(lang):``, and write the class report in the instructor's language (an
option, e.g. ``--lang``).

*Exercise notebooks*: ``check()`` and ``progress()`` need nothing more than the above;
a Chinese notebook says its language in its metadata (:mod:`softmaxbook.translate`).

*Then* ``make translations`` extracts the new ids and merges them into every ``.po``;
translate the new entries (``msgstr``), run ``make translations`` again to compile the
``.mo``; ``tests/test_i18n.py`` fails while an id is untranslated, fuzzy, or missing from
the catalogue.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import html as _html
import json
import os
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LANGUAGES", "ALL", "Message", "_", "N_", "gettext", "set_language", "language",
           "mode", "using", "html", "texts", "each_language", "alternatives", "keep_language", "html_lang",
           "figure", "use_cjk_font", "extract_key", "LOCALES", "DOMAIN"]

#: The languages of the course; the first is the source language (message ids).
LANGUAGES = ("en", "zh_CN")
#: The mode of the book build: outputs carry every language.
ALL = "all"
#: The environment variable that chooses the language (or ``all``).
ENV = "SOFTMAXBOOK_LANG"
#: Where the package's catalogues live, and their gettext domain.
LOCALES = Path(__file__).with_name("locales")
DOMAIN = "softmaxbook"

_ALIASES = {"en": "en", "en_us": "en", "en_gb": "en", "zh": "zh_CN", "zh_cn": "zh_CN",
            "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN", "all": ALL}

_explicit: str | None = None
_warned: set[str] = set()


def _normalise(code) -> str | None:
    """``zh-CN``, ``zh_cn``, ``zh`` -> ``zh_CN``; ``en-US`` -> ``en``; None when unknown."""
    if not isinstance(code, str):
        return None
    return _ALIASES.get(code.strip().replace("-", "_").lower())


def html_lang(lang: str) -> str:
    """The ``<html lang>`` form of a language: ``zh_CN`` -> ``zh-CN``."""
    return lang.replace("_", "-")


def set_language(lang: str | None) -> None:
    """Choose the language of this session (``en``, ``zh_CN``, ``all``); None forgets the choice."""
    global _explicit
    if lang is None:
        _explicit = None
        return
    code = _normalise(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}; the course has {', '.join(LANGUAGES)} (or {ALL!r})")
    _explicit = code


@contextmanager
def using(lang: str):
    """``with using("zh_CN"):`` -- messages made inside are in that language (e.g. feedback files)."""
    global _explicit
    saved = _explicit
    set_language(lang)
    try:
        yield
    finally:
        _explicit = saved


def _warn_once(what: str, value) -> None:
    key = f"{what}={value!r}"
    if key not in _warned:
        _warned.add(key)
        warnings.warn(f"softmaxbook: {what} = {value!r} is not a language of the course "
                      f"({', '.join(LANGUAGES)}); showing English", stacklevel=3)


@functools.lru_cache(maxsize=16)
def _metadata_language(path: str, mtime: float) -> str | None:
    """``softmaxbook.language`` from a notebook's metadata (``.ipynb`` or jupytext ``.md``)."""
    try:
        if path.endswith(".ipynb"):
            with open(path, encoding="utf-8") as f:
                metadata = json.load(f).get("metadata", {})
        else:
            import jupytext

            metadata = jupytext.read(path, fmt="md:myst").metadata  # the course's notebooks are MyST
    except Exception:  # an unreadable notebook says nothing about its language
        return None
    value = (metadata.get("softmaxbook") or {}).get("language") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def _notebook_language() -> str | None:
    session = os.environ.get("JPY_SESSION_NAME")
    if not session:
        return None
    for path in (Path(session), Path.cwd() / Path(session).name):
        try:
            if path.is_file():
                return _metadata_language(str(path), path.stat().st_mtime)
        except OSError:
            continue
    return None


def mode() -> str:
    """The language outputs are made in: a language of :data:`LANGUAGES`, or :data:`ALL`."""
    if _explicit is not None:
        return _explicit
    for what, value in ((ENV, os.environ.get(ENV)), ("the notebook's softmaxbook.language", _notebook_language())):
        if value:
            code = _normalise(value)
            if code is None:
                _warn_once(what, value)
                return LANGUAGES[0]
            return code
    return LANGUAGES[0]


def language() -> str:
    """The one language of plain text (``str``, ``print``): :func:`mode`, English for ``all``."""
    m = mode()
    return LANGUAGES[0] if m == ALL else m


@functools.lru_cache(maxsize=None)
def _catalogue(lang: str) -> _gettext.NullTranslations:
    if lang == LANGUAGES[0]:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALES), languages=[lang], fallback=True)


def gettext(msgid: str, lang: str | None = None) -> str:
    """``msgid`` in ``lang`` (default: :func:`language`); the English id when not translated."""
    code = _normalise(lang) if lang is not None else language()
    if code is None or code == ALL:
        code = LANGUAGES[0]
    return _catalogue(code).gettext(msgid)


def _translated(msgid: str, lang: str) -> bool:
    return lang == LANGUAGES[0] or gettext(msgid, lang) != msgid


class Message(str):
    """A translatable string: the text in the session's language, which knows its id.

    ``str(m)`` (and every ``str`` operation) is the text in :func:`language`;
    :meth:`text` gives another language; :meth:`format` fills placeholders in each
    language; :func:`html` and :func:`texts` give every language in the book build.
    """

    msgid: str
    kwargs: dict

    def __new__(cls, msgid: str, kwargs: dict | None = None):
        if not isinstance(msgid, str):
            raise TypeError(f"a message id is a string, got {type(msgid).__name__}")
        kwargs = dict(kwargs or {})
        self = super().__new__(cls, cls._render(msgid, kwargs, language()))
        self.msgid, self.kwargs = msgid, kwargs
        return self

    @staticmethod
    def _render(msgid: str, kwargs: dict, lang: str) -> str:
        text = gettext(msgid, lang)
        if not kwargs:
            return text
        values = {k: v.text(lang) if isinstance(v, Message) else v for k, v in kwargs.items()}
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder
            return msgid.format(**values)

    def text(self, lang: str) -> str:
        """The message in ``lang`` (English where it is not translated)."""
        return self._render(self.msgid, self.kwargs, lang)

    def translated(self, lang: str) -> bool:
        """True when ``lang`` has a translation of this message (always for English)."""
        return _translated(self.msgid, lang)

    def format(self, *args, **kwargs) -> "Message":  # noqa: A003 - str.format, per language
        if args:
            raise TypeError("a message's placeholders are filled by name: .format(name=value)")
        return Message(self.msgid, {**self.kwargs, **kwargs})

    def __reduce__(self):
        return (Message, (self.msgid, self.kwargs))

    def _repr_html_(self) -> str:
        return html(self)


def _(msgid: str) -> Message:
    """Mark ``msgid`` (a literal English string) for translation; see :class:`Message`."""
    return Message(msgid)


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction only (translated later with :func:`gettext`)."""
    return msgid


def html(value) -> str:
    """``value`` as escaped HTML; a :class:`Message` carries every language in the book build.

    In a session with one language, the text of that language. In ``all`` mode, one
    ``<!--i18n:LANG-->…<!--/i18n-->`` alternative per language; an alternative that falls
    back to English is wrapped in ``<span lang="en">`` so that screen readers pronounce it.
    """
    if not isinstance(value, Message):
        return _html.escape(str(value))
    if mode() != ALL:
        return _html.escape(value.text(language()))
    parts = []
    for lang in LANGUAGES:
        text = _html.escape(value.text(lang))
        if not value.translated(lang):
            text = f'<span lang="{html_lang(LANGUAGES[0])}">{text}</span>'
        parts.append(f"<!--i18n:{html_lang(lang)}-->{text}<!--/i18n-->")
    return "".join(parts)


def texts(value):
    """For a JSON payload: ``{"en": ..., "zh-CN": ...}`` in the book build, else the text."""
    if not isinstance(value, Message):
        return value
    if mode() != ALL:
        return value.text(language())
    return {html_lang(lang): value.text(lang) for lang in LANGUAGES}


def each_language(make):
    """``make()`` in every language in the book build (``{"en": ..., "zh-CN": ...}``, made
    inside :func:`using` each), else ``make()`` in the session's language."""
    if mode() != ALL:
        return make()
    out = {}
    for lang in LANGUAGES:
        with using(lang):
            out[html_lang(lang)] = make()
    return out


def alternatives(make_html) -> str:
    """HTML made by ``make_html()`` in the session's language; in the book build, one
    ``<!--i18n:LANG-->`` alternative per language (the page keeps its own: :func:`keep_language`)."""
    made = each_language(make_html)
    if not isinstance(made, dict):
        return made
    return "".join(f"<!--i18n:{lang}-->{text}<!--/i18n-->" for lang, text in made.items())


_ALTERNATIVE = re.compile(r"<!--i18n:([A-Za-z-]+)-->(.*?)<!--/i18n-->", re.S)


def keep_language(text: str, lang: str) -> str:
    """``text`` with only the alternatives of ``lang`` (``en``, ``zh-CN`` or ``zh_CN``) left."""
    want = html_lang(_normalise(lang) or LANGUAGES[0])
    return _ALTERNATIVE.sub(lambda m: m.group(2) if m.group(1) == want else "", text)


def extract_key(fileobj, keywords, comment_tags, options):
    """Babel extractor of the answer key (``grader/key/*.toml``): every text a learner reads.

    Yields babel's ``(lineno, funcname, message, comments)`` for each exercise's task,
    answer and hint, the feedback of each declared wrong answer (and of each wrong option of
    a choice), the text of each option, and each probe's ``says`` and ``name``; the comment
    names the exercise.
    """
    import tomllib

    key = tomllib.loads(fileobj.read().decode("utf-8"))
    for exercise in key.get("exercise", []):
        texts = [exercise.get(field) for field in ("task", "answer", "hint")]
        texts += [w[1] for w in exercise.get("wrong", []) if isinstance(w, list) and len(w) > 1]
        texts += [probe.get(field) for probe in exercise.get("probes", []) for field in ("says", "name")]
        feedback = exercise.get("feedback")
        texts += list(feedback.values()) if isinstance(feedback, dict) else []
        options = exercise.get("options")
        texts += list(options.values()) if isinstance(options, dict) else []
        for text in texts:
            if isinstance(text, str) and text.strip():
                yield 0, None, text, [f"answer key: {exercise.get('id', '?')}"]


# --------------------------------------------------------------------------- figures

#: Families tried for Chinese text in matplotlib, after its default (DejaVu Sans has no CJK).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC")


def use_cjk_font() -> str | None:
    """Let matplotlib draw Chinese: add the first installed CJK font as a fallback family.

    Returns the family used, or None when none is installed (``make`` installs Debian's
    ``fonts-noto-cjk``; elsewhere install any Noto CJK font). Latin text keeps the default font.
    """
    import matplotlib
    from matplotlib import font_manager

    def installed():
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FONTS if n in names), None)

    family = installed()
    if family is None:  # installed after matplotlib cached its font list: add the files
        for path in font_manager.findSystemFonts():
            if "CJK" in Path(path).name:
                font_manager.fontManager.addfont(path)
        family = installed()
    if family is None:
        return None
    current = list(matplotlib.rcParams["font.sans-serif"])
    if family not in current:
        matplotlib.rcParams["font.sans-serif"] = current + [family]
        base = list(matplotlib.rcParams["font.family"])
        matplotlib.rcParams["font.family"] = base + [family] if family not in base else base
    return family


class _Figure:
    """A static figure drawn once per language (see :func:`figure`)."""

    def __init__(self, draw, alt):
        self.draw, self.alt = draw, alt

    def _png(self, lang: str) -> str:
        import base64
        import io

        import matplotlib.pyplot as plt

        if lang != LANGUAGES[0]:
            use_cjk_font()
        fig = self.draw(lang)
        buffer = io.BytesIO()
        try:
            fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
        return base64.b64encode(buffer.getvalue()).decode()

    def _repr_html_(self) -> str:
        langs = LANGUAGES if mode() == ALL else (language(),)
        parts = []
        for lang in langs:
            alt = _html.escape(self.alt.text(lang) if isinstance(self.alt, Message) else str(self.alt), quote=True)
            img = f'<img src="data:image/png;base64,{self._png(lang)}" alt="{alt}">'
            parts.append(f"<!--i18n:{html_lang(lang)}-->{img}<!--/i18n-->" if len(langs) > 1 else img)
        return "".join(parts)


def figure(draw, alt):
    """A static matplotlib figure in the reader's language: ``draw(lang)`` returns a Figure.

    In a kernel, the figure of :func:`language`; in the book build, one PNG per language
    (the page keeps its own). ``alt`` (a :class:`Message` or text) is the image's alt text.
    """
    if not callable(draw):
        raise TypeError("draw must be a function of the language returning a matplotlib Figure")
    return _Figure(draw, alt)
