"""What a check returns (graded exercises, all chapters): :class:`Result`, shown as a
coloured box in Jupyter and as plain text elsewhere; the learner-side ``check`` and the
batch grader both build it."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Result:
    """Outcome of one check; renders as a coloured box in Jupyter."""

    exercise_id: str
    passed: bool
    score: float
    message: str
    details: list = field(default_factory=list)
    answered: bool = True

    def __post_init__(self):
        # .message is the whole feedback (headline and the specific points), so a learner
        # or instructor reading only .message misses nothing; displays list the points.
        self.headline = self.message
        if self.details:
            self.message = f"{self.message.rstrip('.')} — " + "; ".join(d.rstrip(".") for d in self.details) + "."

    @property
    def status(self) -> str:
        if not self.answered:
            return "not answered yet"
        return "correct" if self.passed else ("partly right" if self.score > 0 else "not right yet")

    def __str__(self) -> str:
        lines = [f"[{self.exercise_id}] {self.status} — score {self.score:.0%}", self.headline]
        lines += [f"  • {d}" for d in self.details]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else ("#9e9e9e" if not self.answered else
                                                 ("#ef6c00" if self.score > 0 else "#c62828"))
        mark = "✔" if self.passed else ("…" if not self.answered else "✘")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        return (f'<div style="border-left:6px solid {colour};padding:4px 10px;margin:4px 0">'
                f'<b>{mark} {html.escape(self.exercise_id)}</b> — {html.escape(self.status)}, '
                f"score {self.score:.0%}<br>{html.escape(self.headline)}"
                + (f"<ul style='margin:2px 0'>{items}</ul>" if items else "") + "</div>")


def not_answered(ex_id: str, hint: str = "") -> Result:
    return Result(ex_id, False, 0.0, "Not answered yet: replace the placeholder (...) with your answer"
                  + (f" — {hint}" if hint else "") + ("" if hint.endswith(")") else "."), answered=False)


def describe(ans: dict) -> str:
    return {"num": "a number", "text": "a string", "sym": "a sympy expression", "seq": "a list/array",
            "fn": "a function", "none": "nothing"}.get(ans.get("t"), ans.get("v", "something else"))
