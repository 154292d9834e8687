"""Multiple-choice answers (graded exercises, all chapters): one letter, with the key's
feedback for each wrong option.
"""

from __future__ import annotations

from ..i18n import _
from .kinds import Exercise
from .result import CORRECT, Result, expected


class Choice(Exercise):
    kind = "choice"

    def __init__(self, id, task, chapter, options, correct, feedback):
        super().__init__(id, task, _("one letter: {letters}").format(letters=", ".join(f"'{k}'" for k in options)),
                         chapter)
        self.options, self.correct, self.feedback = options, correct, feedback

    def right_answer(self) -> dict:
        return {"t": "text", "v": self.correct}

    def misconceptions(self):
        return [({"t": "text", "v": letter}, msg) for letter, msg in self.feedback.items()]

    def _grade(self, ans, strict):
        if ans.get("t") != "text":
            return expected(self.id, self.answer, ans)
        letter = ans["v"].strip().strip("()").lower()[:1]
        if letter not in self.options:
            return Result(self.id, False, 0.0, _("Answer with one of {letters}.").format(letters=", ".join(self.options)))
        if letter == self.correct:
            return Result(self.id, True, 1.0, CORRECT)
        return Result(self.id, False, 0.0, self.feedback.get(letter) or _("Not this one."))
