"""The graded exercises in the reader's language (issue 23): ``check()``, ``progress()``, the
answer key's texts and the website's practice checks speak Chinese in a zh_CN session, and
English (unchanged) otherwise; the class report names misconceptions by their English text."""

from __future__ import annotations

import json
import re

import pytest

from softmaxbook import i18n
from softmaxbook.grader import answers, check, practice, progress, registry, report
from softmaxbook.grader.key import solution_functions
from test_figures_i18n import english_runs

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_session(monkeypatch, tmp_path):
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))
    i18n.set_language(None)
    yield
    i18n.set_language(None)


def chinese(text: str) -> bool:
    """Chinese prose: some Chinese, and no run of three or more English words (maths, code and
    ids have none: their words are apart by brackets and operators)."""
    return bool(CJK.search(text)) and not [r for r in english_runs(text) if len(r.split()) >= 3]


def wrong_answers(ex):
    """``(answer for check, the key's feedback)`` for every wrong answer the key declares."""
    if ex.kind == "function":
        return [(solution_functions(src, ex.names), fb) for fb, src in ex.hidden.misconceptions.items()]
    return [(answer, fb) for answer, fb in ex.misconceptions()]


def grade(ex, answer):
    return ex.grade(answer) if isinstance(answer, dict) else check(ex.id, answer)


@pytest.mark.parametrize("ex_id", list(registry.EXERCISES))
def test_check_speaks_chinese_in_a_chinese_session_for_the_reference_and_every_declared_wrong_answer(ex_id):
    ex = registry.EXERCISES[ex_id]
    with i18n.using("zh_CN"):
        right = grade(ex, ex.right_answer() if ex.kind != "function"
                      else solution_functions(ex.hidden.solution, ex.names))
        assert right.passed and chinese(right.message), right.message
        assert chinese(str(right)) and chinese(right._repr_html_())
        unanswered = check(ex_id)
        assert not unanswered.answered and chinese(unanswered.message), unanswered.message
        for answer, feedback in wrong_answers(ex):
            r = grade(ex, answer)
            assert not r.passed and chinese(r.message), r.message
            assert feedback.text("zh_CN") in r.message       # the key's own feedback, translated
            assert feedback.msgid not in r.message
    with i18n.using("en"):                                   # and English is what it was
        for answer, feedback in wrong_answers(ex):
            assert feedback.msgid in grade(ex, answer).message


def test_the_key_texts_are_messages_whose_ids_are_the_english_key():
    ex = registry.EXERCISES["ch1.log_partition"]
    answer, feedback = ex.misconceptions()[0]
    assert isinstance(feedback, i18n.Message) and isinstance(ex.task, i18n.Message)
    assert feedback.msgid == "That is the partition function Z(o), not the log-partition A(o)."
    assert feedback.text("zh_CN") == "那是配分函数 Z(o)，不是对数配分函数 A(o)。"
    assert ex.grade(answer).message == feedback.msgid          # an English session, as before


def test_no_chinese_feedback_shows_the_reference():
    """The key's check that no feedback states the answer, on the Chinese texts too."""
    from softmaxbook.grader.key import feedback_texts, shows_reference
    shown = [(ex.id, t.text("zh_CN")) for ex in registry.EXERCISES.values() for t in feedback_texts(ex)
             if isinstance(t, i18n.Message) and shows_reference(registry.EXERCISES[ex.id], t.text("zh_CN"))]
    assert shown == []


def test_result_progress_and_listing_in_chinese():
    with i18n.using("zh_CN"):
        r = check("ch3.huffman_rate", 1.7)
        assert str(r).startswith("[ch3.huffman_rate] 还不对 — 得分 0%")
        assert r.message == "接近：请至少给出 3 位有效数字（四舍五入，不要截断）。"
        assert r.status == "not right yet"                   # the code the gradebook keeps
        several = check("ch1.moment_matching", ["1", "2", "3"])
        assert several.message.startswith("不是预期的值 — 不对的元素：") and several.message.endswith("。")
        shown = repr(progress())
        assert shown.startswith("进度：22 道练习已完成 0 道") and "已尝试（0%）" in shown and "未尝试" in shown
        assert chinese(progress()._repr_html_())
        assert "ch3.huffman_rate" in shown
    assert repr(progress()).startswith("Progress: 0 of 22 exercises done")


def test_the_report_names_a_misconception_by_its_english_text_whatever_the_feedback_language():
    ex = registry.EXERCISES["ch1.log_partition"]
    answer, feedback = ex.misconceptions()[0]
    with i18n.using("zh_CN"):
        zh = ex.grade(answer).message
    en = ex.grade(answer).message
    assert report.misconception(ex.id, zh) == report.misconception(ex.id, en) == feedback.msgid
    assert report.misconception(ex.id, "随便什么") == report.OTHER


def _words(data):
    """Every translatable text of a payload (the language dicts), by where it is."""
    if isinstance(data, dict) and set(data) == {"en", "zh-CN"}:
        return [data]
    if isinstance(data, dict):
        return [w for v in data.values() for w in _words(v)]
    if isinstance(data, list):
        return [w for v in data for w in _words(v)]
    return []


@pytest.mark.parametrize("ex_id", [i for i, e in registry.EXERCISES.items() if e.kind in practice.KINDS])
def test_the_practice_payload_carries_both_languages(ex_id):
    ex = registry.EXERCISES[ex_id]
    with i18n.using("all"):
        data = json.loads(json.dumps(practice.payload(ex), ensure_ascii=False))
        box = practice.render(ex_id)
    words = _words(data)
    assert len(words) >= len(practice.SCRIPT_WORDS) + 2
    for w in words:               # words, not placeholders ({headline}) nor bare notation ("; ")
        zh = re.sub(r"\{\w+\}", "", w["zh-CN"])
        assert chinese(zh) or not re.search(r"[A-Za-z]{3}", zh), w
    if ex.kind == "numeric":      # every message of the script is given in both languages
        assert all(isinstance(m, dict) for m in [*data["messages"].values(), *data["words"].values()]), data
    with i18n.using("en"):
        plain = practice.payload(ex)
    if ex.kind == "choice":
        for letter, verdict in data["verdicts"].items():
            assert verdict["message"]["en"] == plain["verdicts"][letter]["message"] == check(ex_id, letter).message
    else:
        assert [w["message"]["en"] for w in data["wrong"]] == [w["message"] for w in plain["wrong"]]
    zh, en = i18n.keep_language(box, "zh-CN"), i18n.keep_language(box, "en")
    title = re.search(r'<p class="practice-title"[^>]*>(.*?)</p>', zh).group(1)
    assert title.startswith("<strong>练习检查</strong>") and f'<code>check("{ex_id}", …)</code>' in title
    assert chinese(re.sub(r"<code>.*?</code>|<[^>]+>", "", zh.split('<script type="application/json"')[0]))
    assert "<strong>Practice check</strong> (not graded; no kernel needed)" in en and "<!--i18n" not in en + zh


# --------------------------------------------------------------------------- the script, in a browser

def _page(lang: str) -> str:
    """A page with every practice check as the book build writes it, kept in ``lang``."""
    with i18n.using("all"):
        markers = "".join(f'<div class="practice-check" data-exercise="{i}"></div>'
                          for i, e in registry.EXERCISES.items() if e.kind in practice.KINDS)
        body = practice.fill(markers)
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>t</title></head>'
            f"<body>{i18n.keep_language(body, lang)}</body></html>")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_script_speaks_the_pages_language_as_check_does_in_that_language(lang, tmp_path):
    from browser import chromium, open_page, serve
    page_lang = i18n.html_lang(lang)
    (tmp_path / "index.html").write_text(_page(page_lang), encoding="utf-8")
    with serve(tmp_path) as url, chromium() as browser:
        page, w = open_page(browser, url + "index.html")
        for ex_id, ex in registry.EXERCISES.items():
            if ex.kind not in practice.KINDS:
                continue
            box = page.locator(f'section.practice-check[data-exercise="{ex_id}"]')
            if ex.kind == "numeric":
                ref, _t, wrong = ex.bands()
                answers = [str(ref.tolist() if ex.shape else ref[0]), str((ref * 3 + 7).tolist() if ex.shape else 99.0),
                           "abc", "", "1/0", "[1, 2]", str((ref * 1.01).tolist() if ex.shape else ref[0] * 1.01)]
                answers += [str(w.tolist() if ex.shape else w[0]) for w, _t, _m in wrong]
                field = box.locator('input[type="text"]')
            else:
                answers = list(ex.options)
            for answer in answers:
                if ex.kind == "numeric":
                    field.fill(answer)
                else:
                    box.locator(f'input[value="{answer}"]').check()
                box.locator("button").click()
                with i18n.using(lang):
                    r = check(ex_id, answer)
                    status = practice.SCRIPT_WORDS["score"].format(status=r.status_text, score=f"{r.score:.0%}")
                    status = status.text(lang)
                shown = (box.locator(".practice-status").inner_text(), box.locator(".practice-message").inner_text())
                colon = practice.SCRIPT_WORDS["colon"].text(lang)
                assert box.locator(".practice-verdict").inner_text() == shown[0] + colon + shown[1]
                if answer in ("abc", "1/0"):      # the script's reader words these its own way
                    assert shown[0] == status and shown[1].startswith(r.message.split("：")[0].split(":")[0])
                    continue
                assert shown == (status, r.message), (ex_id, answer)
                if lang == "zh_CN":
                    assert chinese(shown[1]) and chinese(shown[0]), shown
        title = page.locator(".practice-title").first.inner_text()
        assert title.startswith("练习检查（不计分" if lang == "zh_CN" else "Practice check (not graded")
        assert not w.problems(), w.problems()
        page.close()


def test_in_the_book_build_a_result_and_the_progress_table_carry_both_languages():
    """The exercise pages show check() and progress() outputs made once, in the book build."""
    with i18n.using("all"):
        boxes = [check("ch1.log_partition")._repr_html_(), check("ch1.moment_matching", ["1", "2", "3"])._repr_html_(),
                 progress()._repr_html_(), __import__("softmaxbook.grader", fromlist=["x"]).exercises()._repr_html_()]
    for box in boxes:
        zh, en = i18n.keep_language(box, "zh-CN"), i18n.keep_language(box, "en")
        assert zh and en and "<!--i18n" not in zh + en
        assert chinese(re.sub(r"<[^>]+>|<code>.*?</code>", " ", zh)), zh
        assert not CJK.search(en), en
    assert "尚未作答 — 得分 0%" not in boxes[0] and "尚未作答，得分 0%" in i18n.keep_language(boxes[0], "zh-CN")
    assert "not answered yet, score 0%" in i18n.keep_language(boxes[0], "en")
