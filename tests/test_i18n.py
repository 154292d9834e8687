"""Runtime translation of what the package shows (softmaxbook.i18n), and its catalogue."""

from __future__ import annotations

import gettext
import json
import warnings
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from conftest import ROOT
from softmaxbook import i18n
from softmaxbook.i18n import _
from softmaxbook.tables import format_cell, table

PACKAGE_PO = sorted((ROOT / "softmaxbook" / "locales").glob("*/LC_MESSAGES/softmaxbook.po"))


@pytest.fixture(autouse=True)
def no_language_chosen(monkeypatch):
    """Each test starts in a session where nothing chose a language."""
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)


# --------------------------------------------------------------------------- the language
def test_english_unless_a_language_is_chosen():
    assert i18n.mode() == "en" and str(_("yes")) == "yes"


def test_the_environment_variable_chooses(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "zh-CN")
    assert i18n.mode() == "zh_CN" and _("yes") == "是"
    monkeypatch.setenv(i18n.ENV, "all")
    assert i18n.mode() == "all" and i18n.language() == "en" and _("yes") == "yes"


def test_an_explicit_choice_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "en")
    i18n.set_language("zh_CN")
    assert _("no") == "否"
    with i18n.using("en"):
        assert _("no") == "no"
    assert _("no") == "否"


def test_an_unknown_language_is_refused_when_asked_and_english_when_configured(monkeypatch):
    with pytest.raises(ValueError, match="unknown language 'fr'.*en, zh_CN"):
        i18n.set_language("fr")
    monkeypatch.setenv(i18n.ENV, "klingon")
    with pytest.warns(UserWarning, match="'klingon' is not a language of the course"):
        assert i18n.mode() == "en"
    with warnings.catch_warnings():  # warned once only
        warnings.simplefilter("error")
        assert _("yes") == "yes"


@pytest.mark.parametrize("suffix", [".md", ".ipynb"])
def test_the_notebook_metadata_chooses_through_the_jupyter_session(tmp_path, monkeypatch, suffix):
    """JupyterLab starts the kernel with JPY_SESSION_NAME = the notebook's path."""
    if suffix == ".md":
        text = "---\nsoftmaxbook:\n  language: zh_CN\njupytext:\n  text_representation:\n" \
               "    format_name: myst\n---\n\n# Title\n"
    else:
        text = json.dumps({"cells": [], "metadata": {"softmaxbook": {"language": "zh_CN"}},
                           "nbformat": 4, "nbformat_minor": 5})
    notebook = tmp_path / f"ex{suffix}"
    notebook.write_text(text, encoding="utf-8")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    assert i18n.mode() == "zh_CN" and _("yes") == "是"
    monkeypatch.setenv(i18n.ENV, "en")  # the environment still wins (the batch grader sets it)
    assert _("yes") == "yes"


def test_a_notebook_without_a_language_or_unreadable_means_english(tmp_path, monkeypatch):
    plain = tmp_path / "plain.ipynb"
    plain.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    for path in (plain, broken, tmp_path / "missing.ipynb"):
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))
        assert i18n.mode() == "en"


# --------------------------------------------------------------------------- messages
def test_a_message_is_a_string_that_knows_its_translations(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "zh_CN")
    m = _("yes")
    assert isinstance(m, str) and m == "是" and m.msgid == "yes"
    assert m.text("en") == "yes" and m.text("zh_CN") == "是"
    assert m.translated("zh_CN") and not _("not in the catalogue").translated("zh_CN")
    assert _("not in the catalogue") == "not in the catalogue"  # falls back to the English id


def test_format_fills_each_language_by_name():
    m = _("yes").format()
    assert m.text("zh_CN") == "是"
    unknown = _("{n} of {total}").format(n=3, total=_("yes"))
    assert unknown == "3 of yes" and unknown.text("zh_CN") == "3 of 是"
    with pytest.raises(TypeError, match="by name"):
        _("{}").format(1)


def test_html_gives_the_session_language_or_every_language_in_the_book_build(monkeypatch):
    assert i18n.html(_("yes")) == "yes" and i18n.html("<b>") == "&lt;b&gt;"
    monkeypatch.setenv(i18n.ENV, "all")
    both = i18n.html(_("yes"))
    assert both == "<!--i18n:en-->yes<!--/i18n--><!--i18n:zh-CN-->是<!--/i18n-->"
    # untranslated: the Chinese alternative is the English text, marked as English
    assert '<!--i18n:zh-CN--><span lang="en">a &lt; b</span><!--/i18n-->' in i18n.html(_("a < b"))
    assert i18n.texts(_("no")) == {"en": "no", "zh-CN": "否"}
    assert i18n.texts("plain") == "plain"


def test_keep_language_leaves_one_alternative():
    text = "<td><!--i18n:en-->yes<!--/i18n--><!--i18n:zh-CN-->是<!--/i18n--></td>\n<!--x-->"
    assert i18n.keep_language(text, "zh_CN") == "<td>是</td>\n<!--x-->"
    assert i18n.keep_language(text, "en") == "<td>yes</td>\n<!--x-->"
    assert i18n.keep_language("no markers", "zh-CN") == "no markers"


def test_tables_speak_the_session_language(monkeypatch):
    """The one module wired today: booleans and message headers (recipe in i18n's docstring)."""
    assert format_cell(True) == "yes"
    monkeypatch.setenv(i18n.ENV, "zh_CN")
    t = table([_("yes"), "x"], [[True, 1.5]], caption=_("no"))
    assert t.rows == [["是", "1.5"]] and repr(t).splitlines()[0] == "否"
    assert "<th scope=\"col\">是</th>" in t._repr_html_() and "<td>是</td>" in t._repr_html_()
    monkeypatch.setenv(i18n.ENV, "all")
    html = table(["x"], [[False]])._repr_html_()
    assert i18n.keep_language(html, "zh_CN").endswith("<td>否</td></tr></tbody></table>")
    assert i18n.keep_language(html, "en").endswith("<td>no</td></tr></tbody></table>")


def test_a_static_figure_is_drawn_in_each_language_of_the_build(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = []

    def draw(lang):
        drawn.append(lang)
        fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
        ax.set_title(i18n.gettext("yes", lang))
        return fig

    assert i18n.figure(draw, _("no"))._repr_html_().count("<img") == 1 and drawn == ["en"]
    monkeypatch.setenv(i18n.ENV, "all")
    html = i18n.figure(draw, _("no"))._repr_html_()
    assert drawn[1:] == ["en", "zh_CN"]
    zh = i18n.keep_language(html, "zh_CN")
    assert zh.count("<img") == 1 and 'alt="否"' in zh and zh.startswith('<img src="data:image/png;base64,')
    with pytest.raises(TypeError):
        i18n.figure("not a function", "alt")


# --------------------------------------------------------------------------- the CJK font
def test_matplotlib_draws_chinese_with_the_cjk_font():
    """No tofu: every glyph of the Chinese terms exists in the font matplotlib falls back to."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    family = i18n.use_cjk_font()
    assert family, "no CJK font: `make fonts` installs Debian's fonts-noto-cjk"
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    font = FT2Font(path)
    text = "交叉熵 海森矩阵 对数配分函数 累积量 KL散度"
    missing = [c for c in text if c != " " and font.get_char_index(ord(c)) == 0]
    assert not missing, f"{path} has no glyph for {missing}"

    def missing_glyph_warnings(families):
        with matplotlib.rc_context({"font.family": families}), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = plt.figure(figsize=(3, 1))
            fig.text(0.1, 0.5, text)
            fig.canvas.draw()
            plt.close(fig)
        return [str(w.message) for w in caught if "missing from font" in str(w.message)]

    assert missing_glyph_warnings(["DejaVu Sans"]), "the check below could not fail"
    assert not missing_glyph_warnings(list(matplotlib.rcParams["font.family"]))


# --------------------------------------------------------------------------- the catalogue
def _catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def test_the_package_catalogue_exists_for_every_language():
    assert [p.parts[-3] for p in PACKAGE_PO] == list(i18n.LANGUAGES[1:])


@pytest.mark.parametrize("po", PACKAGE_PO, ids=lambda p: p.parts[-3])
def test_every_package_message_is_translated_and_none_fuzzy(po):
    catalogue = _catalogue(po)
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not untranslated and not fuzzy, f"{po}: untranslated {untranslated}, fuzzy {fuzzy} (make translations)"


def package_messages(mapping: str | None = None) -> set[str]:
    """The message ids `make translations` extracts from the package (its babel.cfg)."""
    text = mapping if mapping is not None else (ROOT / "softmaxbook" / "locales" / "babel.cfg").read_text()
    method_map, options_map = parse_mapping_cfg(StringIO(text))
    return {msgid for _f, _l, msgid, _c, _x in extract_from_dir(
        ROOT / "softmaxbook", method_map, options_map, keywords={"_": None, "N_": None}) if isinstance(msgid, str)}


@pytest.mark.parametrize("po", PACKAGE_PO, ids=lambda p: p.parts[-3])
def test_the_catalogue_holds_every_marked_string_of_the_package(po):
    """A new _("...") in the package fails here until `make translations` merges it."""
    marked = package_messages()
    assert {"yes", "no"} <= marked  # the extraction sees the package's messages
    have = {m.id for m in _catalogue(po) if m.id}
    assert marked - have == set(), f"not in {po.name}: {sorted(marked - have)} (make translations)"
    assert have - marked == set(), f"no longer in the package: {sorted(have - marked)} (make translations)"


@pytest.mark.parametrize("po", PACKAGE_PO, ids=lambda p: p.parts[-3])
def test_the_compiled_mo_matches_the_po(po):
    """Python's gettext reads the .mo: it must say what the .po says (make translations)."""
    with po.with_suffix(".mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    for m in _catalogue(po):
        if m.id:
            assert mo.gettext(m.id) == m.string, m.id


def test_a_message_outside_the_catalogue_is_noticed_by_the_extraction(tmp_path):
    """The check above can fail: a module with a new message shows up in the extraction."""
    (tmp_path / "m.py").write_text('from softmaxbook.i18n import _\nx = _("a brand-new message")\n')
    found = [msgid for _f, _l, msgid, _c, _x in extract_from_dir(tmp_path, keywords={"_": None})]
    assert found == ["a brand-new message"]


def test_the_answer_key_extractor_finds_every_text_a_learner_reads():
    key = b'''
[[exercise]]
id = "ch9.x"
task = "The task"
answer = "an expression"
hint = "A hint"
wrong = [["0", "Zero is wrong."], ["1", "One is wrong."]]
probes = [{ sign = "nonnegative", says = "It is never negative" }, { at = {x = 0}, name = "f(0)" }]
[[exercise]]
id = "ch9.y"
task = "Pick one"
options = { a = "the first", b = "the second" }
feedback = { a = "Not a." }
'''
    found = [(text, comments) for _l, _f, text, comments in i18n.extract_key(BytesIO(key), [], [], {})]
    assert [t for t, _ in found] == ["The task", "an expression", "A hint", "Zero is wrong.", "One is wrong.",
                                     "It is never negative", "f(0)", "Pick one", "Not a.", "the first", "the second"]
    assert found[0][1] == ["answer key: ch9.x"]


def test_the_answer_key_line_of_the_mapping_adds_the_keys_feedback():
    """The mapping brings the key's texts into the extraction (so the catalogue test requires them)."""
    mapping = (ROOT / "softmaxbook" / "locales" / "babel.cfg").read_text()
    assert "\n[softmaxbook_key: grader/key/*.toml]" in mapping
    disabled = mapping.replace("\n[softmaxbook_key:", "\n# [softmaxbook_key:")
    extra = package_messages() - package_messages(disabled)
    assert len(extra) > 100 and "That is the partition function Z(o), not the log-partition A(o)." in extra
