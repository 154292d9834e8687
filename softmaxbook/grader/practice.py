"""In-page practice checks of the website (exercises whose answer is a choice or a number).

The static site has no kernel, so ``check`` cannot run there. An exercise notebook marks the
place of a practice check with a Markdown cell holding only::

    <div class="practice-check" data-exercise="ch3.huffman_rate"></div>

(invisible in Jupyter; MyST passes raw HTML through to the site). When the site is built,
:func:`fill` (called by :mod:`softmaxbook.sphinxext`) replaces each marker by a small form --
a labelled text field for a number, a group of radio buttons for a choice, a "Check" button
and a polite live region for the verdict -- with the exercise's data computed here from the
answer key, and adds ``static/practice.js`` once to the page. The script gives the verdict
``check`` gives, with the same status, score and feedback text:

* a choice: the result of every option, graded here by the key (:meth:`Choice.grade`);
* a number: the reference and declared wrong answers as numbers with the tolerance of
  each entry (:meth:`.kind_numeric.Numeric.bands`), the "close" bound and messages
  (:mod:`.precision`), the positions of the entries; the script reads numbers, fractions,
  lists and formulas with ``+ − * / ^``, ``log``, ``log2``, ``exp``, ``sqrt``, and compares
  them as :meth:`.kind_numeric.Numeric._grade` does.

The page data shows the reference: the course's answers are public by design (the chapters
derive them and the package computes them), and hiding a number or one of four letters in a
static page would only pretend otherwise. Graded work is the notebook's ``check``, graded
again by the batch grader.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources

from .. import i18n
from ..i18n import _
from . import registry
from .precision import CLOSE, EXACT_ATOL
from .reading import how_to_write, position
from .result import CORRECT, NONFINITE, NOT_EXPECTED, SEPARATOR, STATUS, WITH_DETAILS, now

KINDS = ("choice", "numeric")
MARKER = re.compile(r'<div class="practice-check" data-exercise="([^"<>]*)">\s*</div>')


#: The words of practice.js (each a text, or every language in the book build: see :func:`i18n.texts`).
SCRIPT_WORDS = {
    "unreadable": _("this is not a valid formula for the practice check, which reads numbers, fractions such as "
                    "5/3, lists such as [0.1, 0.2, 0.3] and formulas with + - * / ^, log, log2, exp and sqrt "
                    "(check() in the notebook reads more)"),
    "division": _("division by zero"),
    "unknown_name": _("unknown name '{name}'; the symbols of this exercise are: none"),
    "single": _("expected a single expression, got a list of {n}"),
    "vector": _("expected a vector of {n} entries"),
    "vector_got": _("expected a vector of {n} entries, got {got}"),
    "matrix": _("expected a {rows}×{cols} matrix"),
    "unread": _("Could not read your answer: {why}"),
    "refusal_how": _("{refusal}. {how}"),
    "empty": _("the answer is an empty string"),
    "entries": _("entries not right: {positions}"),
    "score": _("{status} — score {score}"),
    "colon": _(": "),
    "with_details": WITH_DETAILS, "separator": SEPARATOR,
    **{f"status_{code.replace(' ', '_')}": label for code, label in STATUS.items()},
}


def _verdict(ex, letter) -> dict:
    result = ex.grade({"t": "text", "v": letter})
    return {"passed": result.passed, "score": result.score, "status": result.status,
            "message": i18n.each_language(lambda: ex.grade({"t": "text", "v": letter}).message)}


def payload(ex) -> dict:
    """What the page's script needs to grade ``ex`` as ``check`` does (plain JSON)."""
    if ex.kind == "choice":
        return {"id": ex.id, "kind": "choice",      # "": nothing picked, as check(id, "") says
                "verdicts": {k: _verdict(ex, k) for k in ["", *ex.options]},
                "words": {k: i18n.texts(v) for k, v in SCRIPT_WORDS.items()}}
    if ex.kind != "numeric":
        raise ValueError(f"{ex.id}: practice checks are for exercises whose answer is a choice or a number, "
                         f"not a {ex.kind} answer")
    ref, tol, wrong = ex.bands()
    return {
        "id": ex.id, "kind": "numeric", "shape": list(ex.shape), "digits": ex.precision.digits,
        "reference": ref.tolist(), "tolerance": tol.tolist(),
        "wrong": [{"value": w.tolist(), "tolerance": t.tolist(), "message": i18n.texts(m)} for w, t, m in wrong],
        "close": CLOSE, "atol": EXACT_ATOL, "positions": [position(k, ex.shape) for k in range(ref.size)],
        "messages": {k: i18n.texts(m) for k, m in {
            "correct": CORRECT, "not": NOT_EXPECTED, "nonfinite": NONFINITE, "how": how_to_write(ex.shape, numbers=True),
            **{f"close_{k}": m for k, m in ex.precision.close_messages(ex.whole).items()}}.items()},
        "words": {k: i18n.texts(v) for k, v in SCRIPT_WORDS.items()},
    }


def render(exercise_id: str) -> str:
    """The HTML of one practice check (form, live region, data)."""
    try:
        ex = registry.get(exercise_id)
    except KeyError as exc:
        raise ValueError(f"practice check: {exc.args[0]}") from None
    data = json.dumps(payload(ex), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")          # never close the script element early
    uid = "practice-" + re.sub(r"[^\w-]", "-", ex.id)
    esc, say = html.escape, i18n.html
    if ex.kind == "choice":
        options = "".join(
            f'<label class="practice-option"><input type="radio" name="{uid}" value="{esc(k)}"> '
            f"({esc(k)}) {say(text)}</label>" for k, text in ex.options.items())
        field = f'<fieldset><legend>{say(ex.task)}</legend>{options}</fieldset>'
    else:
        label = say(_("Your answer: {what}").format(what=ex.answer_type))
        field = (f'<label for="{uid}-answer">{label}</label>'
                 f'<input id="{uid}-answer" type="text" autocomplete="off" autocapitalize="off" spellcheck="false">')

    def title():       # the sentence in the session's language, its name bold and the call as code
        text = _("{practice} (not graded; no kernel needed): the verdict and feedback of {call}. Your graded "
                 "answer is the one you check in the notebook.").format(practice="\x00", call="\x01")
        name = _("Practice check")
        return (esc(now(text)).replace("\x00", f"<strong>{esc(now(name))}</strong>")
                .replace("\x01", f'<code>check("{esc(ex.id)}", …)</code>'))
    title, button = i18n.alternatives(title), say(_("Check"))
    return (
        f'<section class="practice-check mathjax_ignore tex2jax_ignore" data-exercise="{esc(ex.id)}" '
        f'aria-labelledby="{uid}-title">'
        f'<p class="practice-title" id="{uid}-title">{title}</p>'
        f'<form class="practice-form">{field}<button type="submit">{button}</button></form>'
        f'<p class="practice-verdict" role="status" aria-live="polite"></p>'
        f'<script type="application/json" class="practice-data">{data}</script></section>'
    )


def fill(body: str) -> str:
    """``body`` (a page's HTML) with every practice-check marker replaced by its form, and the
    script added once at the end; ``body`` unchanged when it has no marker. ``ValueError``
    names a marker whose exercise is unknown or has no practice check."""
    if not MARKER.search(body):
        return body
    filled = MARKER.sub(lambda m: render(html.unescape(m.group(1))), body)
    return filled + f"<script>{_script()}</script>"


def _script() -> str:
    return resources.files("softmaxbook").joinpath("static/practice.js").read_text(encoding="utf-8")
