"""The in-page practice checks of the built website, operated in headless Chromium by keyboard.

On every exercise page, every practice check is found where its notebook puts it; for the
reference, each declared wrong answer, a rounded and a close answer and a far one, typed
(or picked with the arrow keys) and submitted with Enter, it shows exactly the verdict and
feedback ``check()`` gives (status, score, message) in its polite live region; the field has
a label, a visible focus ring and keeps the focus; axe-core finds no violation with the
verdicts shown. The script's grading of numbers is also compared with ``check()`` on a wider
set of answers, through ``window.softmaxbookPractice``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from browser import AXE, open_page
from softmaxbook.grader import EXERCISES, check
from softmaxbook.grader.practice import payload

pytestmark = pytest.mark.browser

PAGES = {f"exercises/{p.stem}": sorted(set(re.findall(r'data-exercise="([^"]+)"', p.read_text())))
         for p in sorted(__import__("conftest").ROOT.joinpath("exercises").glob("ex*.md"))}


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


@pytest.fixture(scope="module", params=list(PAGES))
def loaded(request, browser, base_url):
    page, w = open_page(browser, f"{base_url}{request.param}.html")
    yield request.param, page, w
    page.close()


def _expected(ex_id, answer) -> tuple[str, str]:
    r = check(ex_id, answer)
    return f"{r.status} — score {r.score:.0%}", r.message


def _typed(values, shape) -> str:
    """Numbers as a learner types them: a number, or a list (of rows)."""
    values = [float(v) for v in np.ravel(values)]
    return repr(np.array(values).reshape(shape).tolist()) if shape else repr(values[0])


def _number_answers(ex) -> list[str]:
    """The reference and each declared wrong answer (as the key writes it when it is a plain
    formula, else as numbers), the reference rounded to the precision, a close and a far value."""
    ref, _, wrong = ex.bands()
    out = [ex.reference if isinstance(ex.reference, str) else _typed(ref, ex.shape)]
    out += [f if isinstance(f, (str, int)) and not ex.let else _typed(w, ex.shape)
            for (f, _), (w, _, _) in zip(ex.wrong, wrong)]
    digits = ex.precision.digits or 3
    out += [_typed([float(f"{v:.{digits}g}") for v in ref], ex.shape), _typed(ref * 1.01, ex.shape),
            _typed(ref * 3 + 7, ex.shape)]
    return [str(a) for a in out]


def _boxes(page, name, kind):
    """``(exercise, its practice check on the page)`` for the page's exercises of ``kind``."""
    for ex_id in PAGES[name]:
        if EXERCISES[ex_id].kind == kind:
            yield EXERCISES[ex_id], page.locator(f'section.practice-check[data-exercise="{ex_id}"]')


def _verdict(box) -> tuple[str, str]:
    region = box.locator(".practice-verdict")
    return region.locator(".practice-status").inner_text(), region.locator(".practice-message").inner_text()


def test_every_practice_check_of_the_notebook_is_on_its_page(loaded):
    name, page, w = loaded
    found = page.eval_on_selector_all("section.practice-check", "s => s.map(e => e.dataset.exercise)")
    assert sorted(found) == PAGES[name] and found
    assert not w.problems(), "\n".join(w.problems())


def test_every_number_check_gives_checks_verdict_typed_and_submitted_with_enter(loaded):
    name, page, _ = loaded
    for ex, box in _boxes(page, name, "numeric"):
        ex_id = ex.id
        field = box.get_by_label(re.compile("^Your answer"))
        assert field.count() == 1
        for answer in _number_answers(ex):
            field.focus()
            page.keyboard.press("Control+A")
            page.keyboard.type(answer)
            page.keyboard.press("Enter")
            assert _verdict(box) == _expected(ex_id, answer), (ex_id, answer)
            assert page.evaluate("document.activeElement.id") == field.get_attribute("id")
        assert _verdict(box)[0] != "correct — score 100%"          # the far value is not right
        assert box.locator('[role="status"][aria-live="polite"]').count() == 1


def test_every_choice_check_gives_checks_verdict_picked_with_the_arrow_keys(loaded):
    name, page, _ = loaded
    for ex, box in _boxes(page, name, "choice"):
        ex_id = ex.id
        radios = box.locator('input[type="radio"]')
        assert radios.count() == len(ex.options) and box.locator("fieldset legend").inner_text() == ex.task
        radios.first.focus()
        page.keyboard.press("Enter")                                   # nothing picked yet
        assert _verdict(box) == _expected(ex_id, "")
        for k, letter in enumerate(ex.options):
            radios.first.focus()
            page.keyboard.press("Space")                               # picks the first option
            for _ in range(k):
                page.keyboard.press("ArrowDown")                       # moves and picks the next
            assert radios.nth(k).is_checked()
            page.keyboard.press("Enter")
            assert _verdict(box) == _expected(ex_id, letter), (ex_id, letter)
        page.keyboard.press("Tab")                                     # to the Check button: Space submits
        page.keyboard.press("Space")
        assert _verdict(box) == _expected(ex_id, list(ex.options)[-1])


def test_the_field_and_button_show_a_focus_ring_when_reached_by_keyboard(loaded):
    name, page, _ = loaded
    box = page.locator("section.practice-check").first
    box.locator("input").last.focus()                                  # the field, or the last option
    page.keyboard.press("Tab")                                         # keyboard focus on the button
    ring = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                         " return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert ring[0] == "BUTTON" and ring[1] != "none" and ring[2] >= 2, ring


def test_the_script_grades_numbers_as_check_does(loaded):
    """A wider set of answers straight through the script's grading function."""
    name, page, _ = loaded
    for ex, _box in _boxes(page, name, "numeric"):
        ex_id = ex.id
        ref, _, wrong = ex.bands()
        answers = _number_answers(ex) + [
            _typed([float(f"{v:.2g}") for v in ref], ex.shape), _typed(ref * 0.96, ex.shape),
            _typed(ref * 1.06, ex.shape), "", "abc", "1/0", "[1, 2]", "5/3", "log2(3)", "(1 + 2 + 2)/3", "0.5, 0.25",
            "[[1, 2, 3]]", "2^10", "−0.5", "sqrt(2)/2"]
        answers += [_typed([float(f"{v:.3g}") for v in w], ex.shape) for w, _, _ in wrong]
        got = page.evaluate("([D, answers]) => answers.map(a => window.softmaxbookPractice.gradeNumber(D, a))",
                            [payload(ex), answers])
        for answer, js in zip(answers, got):
            r = check(ex_id, answer)
            if r.message.startswith("Could not read your answer: this is not a valid formula"):
                assert js["message"].startswith("Could not read your answer: this is not a valid formula"), answer
                continue
            assert (js["status"], js["score"], js["message"]) == (r.status, pytest.approx(r.score), r.message), \
                (ex_id, answer)


def test_pages_with_verdicts_shown_have_no_accessibility_violations(loaded):
    from softmaxbook.sphinxext import vendor_npm
    name, page, _ = loaded
    for box in page.locator("section.practice-check").all():
        box.locator("button").click()                                 # every live region shows a verdict
    page.add_script_tag(content=(vendor_npm(*AXE) / "axe.min.js").read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]
    assert found == [], "\n".join(found)
