"""Figure text in the reader's language (issue 23): every figure of softmaxbook.figures.

In Chinese (``i18n.using("zh_CN")``) nothing a reader sees or hears of a figure holds a run
of two or more English words: titles, axis labels, legends, notes, slider labels and values,
readouts, caption, alt text, the page script's own words (the "Data" disclosure) and the
matplotlib drawing of every figure, drawn with a CJK font (no missing glyph). Notation
(log, max, softmax, ...) and names (Böhning, Gumbel) may stay in Latin letters. In English
the texts are those the figures showed before they were translated:
tests/fixtures/i18n/figure_texts_en.json (made by test_figures_notation.texts; when an
English figure text changes on purpose, write the file again with ``english_texts()``).
"""

from __future__ import annotations

import json
import re
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from conftest import ROOT  # noqa: E402
from softmaxbook import i18n, interactive  # noqa: E402
from softmaxbook.figures import ch2, ch3, ch4  # noqa: E402
from softmaxbook.i18n import Message  # noqa: E402
from test_figures_notation import FIGURES, texts  # noqa: E402

ENGLISH = ROOT / "tests" / "fixtures" / "i18n" / "figure_texts_en.json"

#: Latin words a Chinese figure may show: notation and names.
NOTATION = {"log", "exp", "max", "min", "diag", "softmax", "argmax", "LSE", "Cov", "Böhning", "Gumbel"}
_TOKEN = re.compile(r"[^\W\d_]+")        # a run of letters (Latin, Chinese, ᵀ ...)
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]{2,}")


def english_runs(text: str) -> list[str]:
    """Runs of two or more English words (whole Latin words outside NOTATION, apart by spaces or hyphens)."""
    text, runs, run = str(text), [], []          # run: the (start, end) of its words
    for m in list(_TOKEN.finditer(text)) + [None]:
        english = m is not None and _LATIN.fullmatch(m.group()) is not None and m.group() not in NOTATION
        if english and run and re.fullmatch(r"[\s\-]+", text[run[-1][1]:m.start()]):
            run.append(m.span())
            continue
        if len(run) > 1:
            runs.append(text[run[0][0]:run[-1][1]])
        run = [m.span()] if english else []
    return runs


@pytest.mark.parametrize("text, runs", [
    ("fixed block code", ["fixed block code"]), ("定长分组码 8 bits, 1.6 bits per trit", ["bits per trit"]),
    ("finite-difference step h", ["finite-difference step"]), ("λ⁻¹LSE(λx) 介于 max(x) 与 max(x) + (log 3)/λ 之间", []),
    ("Böhning界 ½", []), ("Gumbel-max估计", []), ("⊗ mean xxᵀ", []), ("softmax回归 on three classes", ["on three classes"]),
])
def test_the_scan_finds_runs_of_english_words(text, runs):
    assert english_runs(text) == runs


def texts_in(fig, lang: str) -> list[tuple[str, str]]:
    """(where, text) of ``fig`` in ``lang``: the page's payload, caption and alt text."""
    with i18n.using(lang):
        return [(where, v.text(lang) if isinstance(v, Message) else str(v)) for where, v in texts(fig)]


def english_texts() -> dict[str, list[list[str]]]:
    return {name: [list(t) for t in texts_in(fig, "en")] for name, fig in FIGURES}


def test_english_figure_texts_are_unchanged():
    assert english_texts() == json.loads(ENGLISH.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name, fig", FIGURES, ids=[n for n, _ in FIGURES])
def test_chinese_figure_text_has_no_english_phrase(name, fig):
    english = [runs for _w, t in texts_in(fig, "en") for runs in english_runs(t)]
    assert english, "the scan below could not fail: the English figure has English phrases"
    zh = texts_in(fig, "zh_CN")
    assert len(zh) == len(texts_in(fig, "en"))
    bad = [f"{where}: {text!r}" for where, text in zh if english_runs(text)]
    assert not bad, "\n".join(bad[:20])
    assert all(re.search(r"[\u4e00-\u9fff]", t) for w, t in zh if w in ("caption", "alt") and t)


def test_the_page_script_words_and_the_payload_carry_both_languages(monkeypatch):
    with i18n.using("zh_CN"):
        words = {k: str(v) for k, v in interactive._words().items()}
    assert words["data"] == "数据" and words["dataAt"] == "{position} 处的数据"
    assert not [w for w in words.values() if re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", w))]
    monkeypatch.setenv(i18n.ENV, "all")          # the book build: kfig.js picks the page's language
    P = ch3.block_rates().payload()
    assert P["sliders"][0]["label"] == {"en": "block length n", "zh-CN": "分组长度 n"}
    assert P["sliders"][0]["text"][:2] == [{"en": "1 trit", "zh-CN": "1个三进制位"},
                                           {"en": "2 trits", "zh-CN": "2个三进制位"}]
    assert P["announce"][4]["zh-CN"] == ("n = 5：定长分组码 8 比特，每个三进制位 1.6000 比特（比 log₂3 高 0.95%）；"
                                         "分组霍夫曼编码 1.5893（高 0.27%）")
    assert P["words"]["lower"] == {"en": "lower", "zh-CN": "下沿"}
    html = ch3.block_rates().html()
    for lang, caption in (("en", "First panel: bits per trit"), ("zh_CN", "第一个子图：定长分组码")):
        kept = i18n.keep_language(html, lang)
        assert "<!--i18n:" not in kept and f"<figcaption>{caption}" in kept


def test_the_default_readout_is_in_the_session_language():
    fig = interactive.Figure(lambda lam: [interactive.Text(0.5, 0.5, i18n._("value"))],
                             [interactive.Slider("lam", [1, 2], label=i18n._("λ (inverse temperature)"))],
                             alt="a note")
    a = fig.announcement([0])
    assert a.text("en") == "λ (inverse temperature) = 1: value" and a.text("zh_CN") == "λ（逆温度） = 1：值"


STATIC = {"ch2.errors": lambda: ch2.errors(*__import__("test_figures_notation").ARGUMENTS[("ch2", "errors")])[0],
          "ch4.lse_gap": ch4.lse_gap, "ch4.gumbel_errors": ch4.gumbel_errors,
          "ch3.block_rates (live view)": lambda: ch3.block_rates().figure()}


@pytest.mark.parametrize("name", STATIC)
def test_the_matplotlib_drawing_is_chinese_without_missing_glyphs(name):
    with i18n.using("zh_CN"):
        fig = STATIC[name]()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fig.canvas.draw()
            drawn = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
        finally:
            plt.close(fig)
    assert not [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert [t for t in drawn if re.search(r"[\u4e00-\u9fff]", t)], drawn
    assert not [t for t in drawn if english_runs(t)], drawn
