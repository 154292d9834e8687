"""In-page practice checks (softmaxbook.grader.practice), without a browser: every exercise
whose answer is a choice or a number has one marker in its notebook, right after the cell
that checks it; the page data gives every option check()'s own verdict and every number the
key's tolerances; markers become labelled forms with the script added once; a marker naming
no such exercise fails the build. tests/test_site_practice.py operates them in Chromium."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT
from softmaxbook import sphinxext
from softmaxbook.grader import EXERCISES, check, practice

PRACTICED = [i for i, e in EXERCISES.items() if e.kind in practice.KINDS]


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


def _markers() -> dict[str, list[str]]:
    found = {}
    for nb in sorted((ROOT / "exercises").glob("ex*.md")):
        text = nb.read_text()
        for m in practice.MARKER.finditer(text):
            before = text[:m.start()].rstrip()
            checked = re.findall(r'check\("([^"]+)"', before.rsplit("```{code-cell}", 1)[-1])
            found.setdefault(m.group(1), []).append(checked[0] if checked and before.endswith("```") else None)
    return found


def test_every_choice_and_number_exercise_has_one_practice_check_after_its_cell():
    assert len(PRACTICED) == 10
    markers = _markers()
    assert set(markers) == set(PRACTICED)
    assert all(where == [ex_id] for ex_id, where in markers.items()), markers


@pytest.mark.parametrize("ex_id", [i for i in PRACTICED if EXERCISES[i].kind == "choice"])
def test_every_option_gets_the_verdict_check_gives(ex_id):
    data = json.loads(json.dumps(practice.payload(EXERCISES[ex_id])))
    assert set(data["verdicts"]) == {""} | set(EXERCISES[ex_id].options)
    for letter, verdict in data["verdicts"].items():
        r = check(ex_id, letter)
        assert verdict == {"passed": r.passed, "score": r.score, "status": r.status, "message": r.message}
    assert data["verdicts"][EXERCISES[ex_id].correct]["passed"]


@pytest.mark.parametrize("ex_id", [i for i in PRACTICED if EXERCISES[i].kind == "numeric"])
def test_number_data_carry_the_keys_tolerances_and_messages(ex_id):
    ex = EXERCISES[ex_id]
    data = json.loads(json.dumps(practice.payload(ex), allow_nan=False))
    ref, tol, wrong = ex.bands()
    assert data["reference"] == ref.tolist() and data["tolerance"] == tol.tolist()
    assert [w["message"] for w in data["wrong"]] == [m for _, m in ex.wrong]
    assert data["digits"] == ex.precision.digits and len(data["positions"]) == ref.size
    far = np.full(ex.shape, 1e9).tolist() if ex.shape else 1e9
    assert check(ex_id, far).message.startswith(data["messages"]["not"].rstrip("."))
    assert data["messages"]["close_fewer"] == ex.precision.close_messages(ex.whole)["fewer"]


def test_markers_become_labelled_forms_with_the_script_once():
    body = ('<p>x</p><div class="practice-check" data-exercise="ch3.huffman_rate"></div>'
            '<div class="practice-check" data-exercise="ch3.better_code"></div>')
    page = practice.fill(body)
    forms, script = page.split("<script>", 1)
    assert forms.count('<section class="practice-check') == 2 and page.count("window.softmaxbookPractice =") == 1
    assert '<label for="practice-ch3-huffman_rate-answer">Your answer: ' in page
    assert 'id="practice-ch3-huffman_rate-answer" type="text"' in page
    assert "<fieldset><legend>Which code has the lowest rate" in page and 'type="radio"' in page
    assert page.count('role="status" aria-live="polite"') == 2 and "not graded" in page
    assert page.index("<script>") > page.rindex("</section>")          # after every check it fills
    assert practice.fill("<p>no practice here</p>") == "<p>no practice here</p>"


@pytest.mark.parametrize("marker, message", [
    ('<div class="practice-check" data-exercise="ch3.huffman"></div>', "unknown exercise id 'ch3.huffman'"),
    ('<div class="practice-check" data-exercise="ch4.softmin"></div>', "not a function answer"),
    ('<div class="practice-check" data-exercise="ch4.gap"></div>', "not a symbolic answer"),
])
def test_a_marker_of_no_practicable_exercise_is_refused_by_name(marker, message):
    with pytest.raises(ValueError, match=message):
        practice.fill(marker)


def _app(language):
    return SimpleNamespace(config=SimpleNamespace(language=language))


def test_the_sphinx_extension_fills_pages_in_their_language_and_warns_about_a_bad_marker(monkeypatch):
    marker = '<div class="practice-check" data-exercise="ch4.limit"></div>'
    pages = {}
    for language in ("en", "zh_CN"):
        pages[language] = {"body": marker}
        sphinxext.practice_checks(_app(language), "exercises/ex4", "page.html", pages[language], None)
        assert 'name="practice-ch4-limit"' in pages[language]["body"] and "<!--i18n:" not in pages[language]["body"]
    assert "<strong>Practice check</strong> (not graded" in pages["en"]["body"]
    assert "<strong>练习检查</strong>（不计分" in pages["zh_CN"]["body"] and "Practice check" not in pages["zh_CN"]["body"]
    data = json.loads(re.search(r'class="practice-data">(.*?)</script>', pages["zh_CN"]["body"]).group(1))
    assert set(data["verdicts"]["b"]["message"]) == {"en", "zh-CN"}      # the script picks the page's
    warned = []
    monkeypatch.setattr("sphinx.util.logging.SphinxLoggerAdapter.warning", lambda self, *a, **k: warned.append(a))
    bad = {"body": '<div class="practice-check" data-exercise="ch9.x"></div>'}
    sphinxext.practice_checks(_app("en"), "exercises/ex9", "page.html", bad, None)
    assert warned and "unknown exercise id 'ch9.x'" in str(warned[0])
