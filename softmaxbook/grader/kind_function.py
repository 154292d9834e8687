"""Function answers (graded exercises, chapters 3 and 4): Python function(s) a learner wrote,
run on the key's hidden test cases (:mod:`.hidden`) in a fresh jailed interpreter
(:mod:`.sandbox`) and judged here, in the trusted process, from what each run returned.
"""

from __future__ import annotations

from collections import Counter

from ..i18n import _
from . import fnrun, sandbox
from .kinds import Exercise, secret_rng, secret_seed
from .result import Result, expected, not_answered


def _as_twins(drawn) -> tuple:
    """What ``Hidden.twin`` drew, as a tuple of cases: none, one, or several."""
    if drawn is None:
        return ()
    return tuple(drawn) if isinstance(drawn, (list, tuple)) else (drawn,)


class Function(Exercise):
    """Python function(s), graded by hidden tests (:mod:`.hidden`) run in the sandbox."""

    kind = "function"

    def __init__(self, id, task, answer, chapter, names, hidden):
        super().__init__(id, task, answer, chapter)
        self.names, self.hidden = names, hidden
        self.judge, self.diagnose = hidden.judge, hidden.diagnose
        self._built = {}

    def cases(self):
        """``(cases, twins, inputs)``: the hidden cases (``check`` and the batch run the same ones,
        so a learner told "Correct" gets full marks), the secret twins of each while the batch
        grades with a gradebook's secret seed (a tuple, empty otherwise or where the case is a
        fixed rule), and what the fresh interpreter receives: the inputs of each case followed
        by its twins', never what they expect."""
        key = secret_seed() if self.hidden.twin else None
        if key not in self._built:
            cases = self.hidden.cases()
            twins = ([_as_twins(self.hidden.twin(c, secret_rng(self.id, i))) for i, c in enumerate(cases)]
                     if key is not None else [()] * len(cases))
            inputs = [{"kind": c.kind, "args": fnrun.plain(list(c.args))}
                      for case, more in zip(cases, twins) for c in (case, *more)]
            self._built = {k: v for k, v in self._built.items() if k is None}   # one secret seed kept
            self._built[key] = (cases, twins, inputs)
        return self._built[key]

    def _grade(self, ans, strict):
        records = ans["v"] if ans.get("t") == "seq" else [ans]
        if len(records) != len(self.names) or any(not isinstance(r, dict) or r.get("t") != "fn" for r in records):
            return expected(self.id, self.answer, ans, _(" of length {n}").format(n=len(records))
                             if ans.get("t") == "seq" else "")
        pickles = [sandbox.decode_pickle(r.get("pickle")) for r in records]
        if any(p is None for p in pickles):
            return Result(self.id, False, 0.0, _("Your function could not be read (its record is damaged or too "
                                                 "large): run the cell that defines it and check it again."))
        cases, twins, inputs = self.cases()
        results, status = sandbox.run_functions(pickles, inputs)
        setup_error = next((r["__sandbox_error__"] for r in results if "__sandbox_error__" in r), None)
        outs = {r["i"]: r for r in results if "i" in r}
        if not outs and setup_error:
            return Result(self.id, False, 0.0, _("Your code could not be run: {error}").format(error=setup_error))
        if outs and all(o.get("ellipsis") for o in outs.values()):
            return not_answered(self.id, _("your function still returns the placeholder (...)"))
        passed, failed, hints, named = 0, 0, [], Counter()
        at = iter(range(len(inputs)))   # the case results of each case and its twins, in turn
        pairs = [[(c, outs.get(next(at))) for c in (case, *more)] for case, more in zip(cases, twins)]
        for pair in pairs:   # a case passes when its secret twins pass too; the first failure speaks
            if any(outcome is None for _, outcome in pair):
                why = {"timeout": _("the time limit of {seconds} s was reached (an infinite loop?)").format(
                           seconds=f"{sandbox.HARD_TIMEOUT:g}"),
                       "crashed": _("your code ended the process"),
                       "malformed": _("the result of the run was damaged or too large (huge outputs, or "
                                      "your code wrote to the grader's channel)")}.get(status) or _("not run")
                why = setup_error or why     # e.g. a decoder that could not be loaded
                hints.append(_("some tests did not run: {why}").format(why=why))
                break
            for case, outcome in pair:
                ok, hint = self.judge(case, outcome)
                if not ok:
                    break
            if ok:
                passed += 1
                continue
            failed += 1
            diagnosis = self.diagnose(case, outcome) if self.diagnose else None
            if diagnosis:
                named[diagnosis] += 1
            if hint and hint not in hints:
                hints.append(hint)
        # A misconception is named only when it explains most failing tests, not one
        # coincidence (an off-by-one count can equal 3n at n = 1 without being one-hot).
        hints = [d for d, k in named.most_common() if 2 * k >= failed] + hints
        score = passed / len(cases)
        if passed == len(cases):
            return Result(self.id, True, 1.0, _("Correct: all {n} hidden tests pass.").format(n=len(cases)))
        if outs and all(o.get("out", 0) is None for o in outs.values()):
            hints.insert(0, _("your function returns None: did you forget `return`?"))
        return Result(self.id, False, score, _("{passed} of {n} hidden tests pass.").format(passed=passed, n=len(cases)),
                      hints[:5])
