"""What a check returns (graded exercises, all chapters): :class:`Result`, shown as a
coloured box in Jupyter and as plain text elsewhere; the learner-side ``check`` and the
batch grader both build it. Its text passes through :func:`printable`, the one place
where learner-controlled text (an answer, an exception's message, an exercise id, a file
name) is made safe to show and to write."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ..i18n import Message, _, alternatives, language

#: What ``status`` says (English codes: the gradebook and the report compare them), as shown.
STATUS = {"not answered yet": _("not answered yet"), "correct": _("correct"),
          "partly right": _("partly right"), "not right yet": _("not right yet")}


#: A message followed by its specific points (``check`` and the website's practice checks).
WITH_DETAILS, SEPARATOR, STOPS = _("{headline} — {details}."), _("; "), ".。"


def now(text):
    """``text`` in the session's language now: a :class:`Message` of the key, made when the key
    was loaded, is rendered again; any other value as it is."""
    return in_language(text, language())


def in_language(text, lang: str):
    """``text`` in ``lang`` when it is a :class:`Message`; any other value as it is."""
    return text.text(lang) if isinstance(text, Message) else text


@dataclass
class Result:
    """Outcome of one check; renders as a coloured box in Jupyter.

    ``message`` and ``details`` may be :class:`~softmaxbook.i18n.Message` s: the result keeps
    them and shows their text in the session's language (``.message``, ``.details`` and
    ``.headline`` are that text); in the book build (:data:`~softmaxbook.i18n.ALL`) its box
    carries every language, and each edition of the page keeps its own."""

    exercise_id: str
    passed: bool
    score: float
    message: str
    details: list = field(default_factory=list)
    answered: bool = True

    def __post_init__(self):
        self._said = (self.message, list(self.details))
        self.exercise_id = printable(self.exercise_id, 100)
        self.message, self.headline, self.details = self._texts(language())

    def _texts(self, lang: str) -> tuple[str, str, list[str]]:
        """``(message, headline, details)`` in ``lang``. Learner text reaches messages (what an
        answer was, what a function raised): made printable here, so no file, terminal or page
        that shows a Result can be broken by it. The message is the whole feedback (headline
        and the specific points), so a learner or instructor reading only it misses nothing;
        displays list the points."""
        said, points = self._said
        headline = printable(in_language(said, lang))
        details = [printable(in_language(d, lang)) for d in points]
        if not details:
            return headline, headline, details
        joined = SEPARATOR.text(lang).join(d.rstrip(STOPS) for d in details)
        return WITH_DETAILS.format(headline=headline.rstrip(STOPS), details=joined).text(lang), headline, details

    @property
    def status(self) -> str:
        if not self.answered:
            return "not answered yet"
        return "correct" if self.passed else ("partly right" if self.score > 0 else "not right yet")

    @property
    def status_text(self) -> str:
        """The status in the session's language (``status`` itself is an English code)."""
        return STATUS[self.status].text(language())

    def __str__(self) -> str:
        head = _("[{id}] {status} — score {score}").format(id=self.exercise_id, status=STATUS[self.status],
                                                          score=f"{self.score:.0%}")
        lines = [head.text(language()), self.headline]
        lines += [f"  • {d}" for d in self.details]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return alternatives(lambda: self._box(language()))

    def _box(self, lang: str) -> str:
        colour = "#2e7d32" if self.passed else ("#9e9e9e" if not self.answered else
                                                 ("#ef6c00" if self.score > 0 else "#c62828"))
        mark = "✔" if self.passed else ("…" if not self.answered else "✘")
        _message, headline, details = self._texts(lang)
        status = _("{status}, score {score}").format(status=STATUS[self.status], score=f"{self.score:.0%}")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in details)
        return (f'<div style="border-left:6px solid {colour};padding:4px 10px;margin:4px 0">'
                f'<b>{mark} {html.escape(self.exercise_id)}</b> — {html.escape(status.text(lang))}'
                f"<br>{html.escape(headline)}"
                + (f"<ul style='margin:2px 0'>{items}</ul>" if items else "") + "</div>")


CORRECT = _("Correct.")
NOT_EXPECTED = _("Not the expected value.")
NONFINITE = _("Your answer contains nan or inf; expected finite numbers.")


def too_slow(ex_id: str, seconds: float) -> Result:
    return Result(ex_id, False, 0.0, _("Your expression took too long to read and evaluate (over {seconds} s); "
                                       "write it in a simpler form.").format(seconds=f"{seconds:g}"))


def expected(ex_id: str, answer, ans: dict, more="") -> Result:
    """An answer of the wrong kind: what was expected and what came (``more`` says more of it)."""
    return Result(ex_id, False, 0.0, _("Expected {answer}, got {got}{more}.").format(answer=answer, got=describe(ans),
                                                                                    more=more))


def unreadable(ex_id: str, exc: Exception) -> Result:
    """An answer the reader refused; ``exc`` (a :class:`.parse_rules.ParseError`) says why."""
    return Result(ex_id, False, 0.0, _("Could not read your answer: {why}").format(why=exc.args[0]))


def not_answered(ex_id: str, hint=None) -> Result:
    if not hint:
        return Result(ex_id, False, 0.0, _("Not answered yet: replace the placeholder (...) with your answer."),
                      answered=False)
    text = (_("Not answered yet: replace the placeholder (...) with your answer — {hint}") if str(hint).endswith(")")
            else _("Not answered yet: replace the placeholder (...) with your answer — {hint}."))
    return Result(ex_id, False, 0.0, text.format(hint=hint), answered=False)


_KINDS = {"num": _("a number"), "text": _("a string"), "sym": _("a sympy expression"), "seq": _("a list/array"),
          "fn": _("a function"), "none": _("nothing")}


def describe(ans: dict):
    """What kind of value an answer is, in words (a :class:`Message`, or the learner's own text)."""
    return _KINDS.get(ans.get("t")) or printable(ans.get("v", "something else"), 200)


def printable(text, limit: int | None = None) -> str:
    """Learner-controlled text, safe to show and to write to any file or terminal: a byte of
    a file name that is not UTF-8 (``os.fsdecode``'s surrogate escape) becomes ``\\xNN``; any
    other character that is not printable becomes its Python escape: a lone surrogate, which
    UTF-8 cannot encode (``\\ud800``), a control character (a newline that would start a forged
    line of feedback: ``\\n``; a terminal escape: ``\\x1b``), a format character (a
    right-to-left override: ``\\u202e``). At most ``limit`` characters of the text are kept."""
    text = text if type(text) is str else str(text)
    text = text if limit is None else text[:limit]
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if "\udc80" <= ch <= "\udcff":
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return repr(ch)[1:-1]
