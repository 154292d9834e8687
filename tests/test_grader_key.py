"""The answer key as data (softmaxbook/grader/key): it loads and validates, every declared
misconception is recognised with its own feedback, a wrong answer that matches none is
told what is wrong with it (a point, a property) without the reference, the test
submissions come from the key, and a malformed key is refused with a clear message."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

from softmaxbook.grader import EXERCISES, check, registry
from softmaxbook.grader import key as answer_key
from softmaxbook.grader.answers import serialise

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import submissions  # noqa: E402


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


def _declared():
    """Every misconception the key declares: (id, answer as plain data, feedback)."""
    for ex in EXERCISES.values():
        if ex.kind == "function":
            for feedback, source in ex.hidden.misconceptions.items():
                yield ex.id, source, feedback
        else:
            for answer, feedback in ex.misconceptions():
                yield ex.id, answer, feedback


DECLARED = list(_declared())


def test_the_key_loads_every_exercise_in_course_order_and_validates():
    assert list(EXERCISES) == list(answer_key.load())
    assert [e.chapter for e in EXERCISES.values()] == sorted(e.chapter for e in EXERCISES.values())
    assert {e.kind for e in EXERCISES.values()} == {"symbolic", "numeric", "choice", "function"}
    assert registry.check_key() == []
    assert len(DECLARED) >= 70        # 61 formulas and letters, 13 function misconceptions


def test_the_validation_also_runs_the_function_answers_in_the_sandbox():
    functions = {i: e for i, e in EXERCISES.items() if e.kind == "function"}
    assert answer_key.check(functions, functions=True) == []


@pytest.mark.parametrize("ex_id, answer, feedback", DECLARED,
                         ids=[f"{d[0]}-{k}" for k, d in enumerate(DECLARED)])
def test_every_declared_misconception_gets_its_own_feedback(ex_id, answer, feedback):
    ex = EXERCISES[ex_id]
    if ex.kind == "function":
        r = ex.grade(serialise(answer_key.solution_functions(answer, ex.names)))
        assert not r.passed and feedback in r.message, r.message
    else:
        r = ex.grade(answer)
        assert not r.passed and r.message == feedback, r.message


def test_the_instructor_checks_the_key_from_the_command_line(tmp_path, monkeypatch, capsys):
    import subprocess
    out = subprocess.run([sys.executable, "-m", "softmaxbook.grader.key"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("the key is sound: 22 exercises in 4 files; 61 declared wrong answers")
    from softmaxbook.grader.key.__main__ import main
    _write(tmp_path, "[[exercise]]\nid = 'ch1.x'\nkind = 'numeric'\ntask = 't'\nanswer = 'a'\nreference = 1\n"
                     "precision = 'exact'\nwrong = [[1, 'one is the reference']]\n")
    monkeypatch.setattr(answer_key, "HERE", tmp_path)
    assert main([]) == 1
    assert "ch1.x: the wrong answer 1 gets 'Correct.', not its own feedback" in capsys.readouterr().err


def test_the_validation_finds_a_wrong_answer_that_gets_another_feedback(monkeypatch):
    ex = EXERCISES["ch4.gap"]
    monkeypatch.setattr(ex, "wrong", ex.wrong + [["log(2)", "a second feedback for log 2"]])
    monkeypatch.setattr(ex, "_cache", None)
    problems = answer_key.check({"ch4.gap": ex})
    assert problems == ["ch4.gap: the wrong answer 'log(2)' gets 'log 2 is the largest gap (at d = 0); the gap "
                        "shrinks as d grows.', not its own feedback"]


def test_the_validation_finds_a_probe_the_reference_breaks_and_feedback_showing_it(monkeypatch):
    ex = EXERCISES["ch4.bound"]
    probe = answer_key._probe({"swap": ["n", "lam"], "says": "symmetric in n and λ"}, ex.key_names())
    monkeypatch.setattr(ex, "probes", ex.probes + [probe])
    monkeypatch.setattr(ex, "hint", "it is log(n) / lam")
    problems = answer_key.check({"ch4.bound": ex})
    assert any("probe swap (symmetric in n and λ) does not hold" in p for p in problems), problems
    assert any("feedback shows the reference: 'it is log(n) / lam'" in p for p in problems), problems


def _wrong_but_undeclared():
    return [
        ("ch4.gap", "d", "At d = 0 your expression gives 0, but LSE(a, a) − a is 0.6931."),
        ("ch4.gap", "log(2) - 2*d", "Your expression is negative at d = "),
        ("ch4.gap", "log(2)/(1 + d)", "At d = 300 your expression gives 0.002303, but the gap vanishes as d → ∞"),
        ("ch4.bound", "log(n + 1)/lam", "At n = 1, lam = 1 your expression gives 0.6931, but the gap for a single number"),
        ("ch1.sigmoid_variance", "-exp(o1)/(1 + exp(o1))**2", "but A''(o1) is a variance, positive for every o1"),
        ("ch1.sigmoid_variance", "exp(o1)/(1 + exp(o1))**3", "At o1 = 0 your expression gives 0.125, but A''(0)"),
        ("ch1.log_partition", "log(exp(o1) + exp(o2) + 2*exp(o3)) + o1", "Exchanging o1 and o2"),
        ("ch1.log_partition", "log(exp(o1) + exp(o2) + exp(o3)) + 1", "At o1 = 0, o2 = 0, o3 = 0"),
        ("ch1.mean", ["exp(o1)/(1 + exp(o1))", "exp(o2)/(1 + exp(o2))", "exp(o3)/(1 + exp(o3))"],
         "∇A(o) = E[Y] is a vector of probabilities, which add up to 1"),
        ("ch1.nll", "yT", None),
        ("ch2.gradient", ["p1 - y1", "p2 - y2", "p3"], "the gradient's entries add up to 0"),
        ("ch2.hessian", [["p1*(1-p1)", "-p1*p2", "0"], ["-p1*p2", "p2*(1-p2)", "-p2*p3"], ["-p1*p3", "-p2*p3", "p3*(1-p3)"]],
         "Entries (1,3) and (3,1) of your matrix differ"),
        ("ch2.hessian", [["p1", "-p1*p2", "-p1*p3"], ["-p1*p2", "p2", "-p2*p3"], ["-p1*p3", "-p2*p3", "p3"]],
         "every row of H adds up to 0"),
    ]


@pytest.mark.parametrize("ex_id, answer, teaches", [w for w in _wrong_but_undeclared() if w[2]])
def test_an_undeclared_wrong_answer_is_told_where_it_differs_or_what_it_breaks(ex_id, answer, teaches):
    r = check(ex_id, answer)
    assert not r.passed and teaches in r.message, r.message
    assert "Not equivalent" not in r.message
    assert not answer_key.shows_reference(EXERCISES[ex_id], r.message)


def test_no_feedback_shows_the_reference():
    ex = EXERCISES["ch4.gap"]
    assert answer_key.shows_reference(ex, "the gap is log(1 + exp(-d)) here")       # the check can fail
    assert answer_key.shows_reference(ex, "the gap is log(1+exp(-d))")
    messages = []
    for ex_id, answer, _ in DECLARED:
        if EXERCISES[ex_id].kind != "function":
            messages.append((ex_id, EXERCISES[ex_id].grade(answer).message))
    for ex_id, answer, _ in _wrong_but_undeclared():
        messages.append((ex_id, check(ex_id, answer).message))
    for ex in EXERCISES.values():
        messages += [(ex.id, text) for text in answer_key.feedback_texts(ex)]
    assert len(messages) > 100
    shown = [(i, m) for i, m in messages if answer_key.shows_reference(EXERCISES[i], m)]
    assert shown == []


# The reference of every exercise stated the ways a feedback text might state it: in the
# course's prose notation (vectors, indices, transposes, LSE, e^x, subscripts, ½) or by
# naming the right option; each must be caught by the key's validation.
STATED = {
    "ch1.log_partition": ["it is log Σ_j e^{o_j}", "log(e^{o₁} + e^{o₂} + e^{o₃})", "LSE(θ)"],
    "ch1.mean": ["∇A = p", "∇A = softmax(θ)", "the entries e^{o_i}/Σ_j e^{o_j}"],
    "ch1.sigmoid_variance": ["it is σ(o1)(1 − σ(o1))", "e^{o₁}/(1 + e^{o₁})²"],
    "ch1.nll": ["the loss is its negative, A(o) − yᵀo.", "A(θ) − θᵀy", "−Σ_i y_i log softmax(o)_i",
                "−Σ_i y_i log p_i", "LSE(o) − Σ_i y_i o_i"],
    "ch1.moment_matching": ["[0.388, −0.999, 0.611]", "(0.3877, −0.9986, 0.6109)"],
    "ch1.hessian_rank": ["the rank is 4"],
    "ch2.gradient": ["it is p − y", "p_i − y_i", "softmax(o) − y"],
    "ch2.hessian": ["H = diag(p) − ppᵀ", "diag(p) − p pᵀ", "∂p_i/∂o_j = p_i(δ_ij − p_j)", "δ_ij p_i − p_i p_j"],
    "ch2.covariance": ["[[0.09, −0.06, −0.03], [−0.06, 0.24, −0.18], [−0.03, −0.18, 0.21]]"],
    "ch2.max_eigenvalue": ["½", "the bound 1/2", "0.5"],
    "ch2.whose_variance": ["option a", "(a)", "the one-hot label Y ~ Categorical(p)"],
    "ch3.entropy": ["log₂ 3", "≈ 1.585 bits", "log(3)/log(2)"],
    "ch3.huffman_rate": ["5/3", "(1 + 2 + 2)/3 bits", "1.667"],
    "ch3.better_code": ["the answer is (c)", "0, 10, 11 is best"],
    "ch3.block_bits": ["return (3**n - 1).bit_length()"],
    "ch3.codec": ['out.append(format(value, f"0{_width(len(chunk))}b"))'],
    "ch4.gap": ["log(1 + e^{−d})", "the gap is log(1 + e^(−d))"],
    "ch4.bound": ["(log n)/λ", "λ⁻¹ log n", "log(n)/lam"],
    "ch4.limit": ["(a)"],
    "ch4.softmin_formula": ["answer a", "−λ⁻¹ LSE(−λx)"],
    "ch4.softmin": ["return float(-(m + np.log(np.sum(np.exp(z - m)))) / lam)"],
    "ch4.stable_lse": ["return float(m + np.log(np.sum(np.exp(x - m))))"],
}
# Formulas near the reference that are not it (declared wrong answers among them): no false alarm.
NOT_STATED = {
    "ch1.nll": ["yᵀo − A(o)", "A(o) + yᵀo", "A(o) − 2yᵀo", "−yᵀo"],
    "ch1.log_partition": ["the partition function Z(o)", "A(o) must make exp(oᵀy − A(o)) sum to 1", "max(o)"],
    "ch2.hessian": ["diag(p)", "−p_i p_j", "p_i(1 − p_i)", "p pᵀ − diag(p)"],
    "ch2.gradient": ["y − p", "p_i(1 − p_i)"],
    "ch3.huffman_rate": ["log₂ 3", "2 bits", "1.6"],
    "ch4.bound": ["log(2)/λ", "log n"],
}


def test_every_exercise_has_stated_references_in_this_test():
    assert set(STATED) == set(EXERCISES)


@pytest.mark.parametrize("ex_id, text", [(i, t) for i, ts in STATED.items() for t in ts])
def test_the_validation_catches_a_text_stating_the_reference_in_any_form(ex_id, text, monkeypatch):
    ex = EXERCISES[ex_id]
    assert answer_key.shows_reference(ex, text)
    monkeypatch.setattr(ex, "task", f"{ex.task} ({text})")     # a learner reads the task too
    assert f"{ex_id}: feedback shows the reference: {ex.task[:80]!r}" in answer_key.check({ex_id: ex})


@pytest.mark.parametrize("ex_id, text", [(i, t) for i, ts in NOT_STATED.items() for t in ts])
def test_a_formula_that_is_not_the_reference_is_not_reported(ex_id, text):
    assert not answer_key.shows_reference(EXERCISES[ex_id], text)


def test_the_test_submissions_come_from_the_key():
    assert set(submissions.SOLVED) == set(submissions.WRONG) == set(EXERCISES)
    gap = EXERCISES["ch4.gap"]
    assert submissions.SOLVED["ch4.gap"] == 'gap = \'log(1 + exp(-d))\'\n\ncheck("ch4.gap", gap)'
    assert submissions.WRONG["ch4.gap"] == 'gap = \'log(2)\'\n\ncheck("ch4.gap", gap)'
    assert gap.wrong[0][0] == "log(2)"
    assert EXERCISES["ch3.codec"].hidden.solution in submissions.SOLVED["ch3.codec"]


def _run_cell(source: str) -> dict:
    """Run an answer cell with a ``check`` that records what it is given (our own fixture code)."""
    import math

    import numpy as np
    import sympy as sp
    got = {}
    exec(compile(source, "<cell>", "exec"),
         {"np": np, "sp": sp, "math": math, "check": lambda ex_id, ans: got.__setitem__(ex_id, ans)})
    return got


@pytest.mark.parametrize("ex_id", [i for i, e in EXERCISES.items() if e.kind != "function"])
def test_the_generated_answers_are_right_and_wrong_with_their_own_feedback(ex_id):
    right = check(ex_id, _run_cell(submissions.SOLVED[ex_id])[ex_id])
    assert right.passed, right.message
    wrong = check(ex_id, _run_cell(submissions.WRONG[ex_id])[ex_id])
    assert not wrong.passed and wrong.message == EXERCISES[ex_id].misconceptions()[0][1]


def test_the_committed_fixture_notebooks_are_up_to_date():
    for kind, answers in (("solved", submissions.SOLVED), ("wrong", submissions.WRONG)):
        for nb in submissions.NOTEBOOKS:
            committed = (ROOT / "tests" / "fixtures" / kind / nb.name).read_text()
            assert committed == submissions.render(nb.read_text(), answers), f"run python {submissions.__file__}"


def test_the_key_files_are_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["softmaxbook"]
    assert "grader/key/*.toml" in patterns
    assert sorted(p.name for p in (ROOT / "softmaxbook").glob("grader/key/*.toml")) == (
        ["assignments.toml"] + [f"ch{i}.toml" for i in range(1, 5)])


def test_the_assignments_of_the_key_are_the_notebooks_of_exercises():
    """key/assignments.toml says what grading needs of exercises/ (which the grader never
    reads): per notebook its heading, its exercises in order and each one's answer cell."""
    from softmaxbook.grader.assignments import CHECK_CALL, COURSE, assignments
    from softmaxbook.grader.runner import read_notebook
    found = {}
    for path in sorted((ROOT / "exercises").glob("ex*.md")):
        nb = read_notebook(str(path))
        cells = {}
        for k, c in enumerate(nb.cells):
            for m in CHECK_CALL.findall(c.source.encode()) if c.cell_type == "code" else []:
                cells.setdefault(m.decode(), k + 1)
        title = next(ln[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                     for ln in c.source.splitlines() if ln.startswith("# "))
        found[path.stem.split("_")[0]] = (path.name, title, cells)
    key = answer_key.load_assignments(EXERCISES)
    assert {n: (a["notebook"], a["title"], a["cells"]) for n, a in key.items()} == found
    for name, (_, title, cells) in found.items():
        a = assignments()[name]
        assert (a.title, a.ids, a.cells) == (title, list(cells), cells)   # in the notebook's order
    assert assignments()[COURSE].ids == list(EXERCISES)


@pytest.mark.parametrize("change, why", [
    (lambda a: a["ex1"]["cells"].pop("ch1.mean"), "exercises in no assignment: ch1.mean"),
    (lambda a: a["ex2"]["cells"].update({"ch1.mean": 3}), "ch1.mean is in \\[ex1\\] and in \\[ex2\\]"),
    (lambda a: a["ex2"]["cells"].update({"ch9.nothing": 3}), "unknown exercise 'ch9.nothing'"),
    (lambda a: a["ex2"]["cells"].update({"ch2.gradient": "4"}), "not a cell number"),
    (lambda a: a["ex3"].pop("title"), "needs notebook, title and cells"),
])
def test_a_broken_assignments_file_is_refused_with_its_reason(tmp_path, monkeypatch, change, why):
    data = tomllib.loads((answer_key.HERE / "assignments.toml").read_text(encoding="utf-8"))
    change(data)
    lines = []
    for name, a in data.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in a.items() if k != "cells"]
        cells = a.get("cells", {}).items()
        lines.append("cells = { " + ", ".join(f"{json.dumps(i)} = {json.dumps(c)}" for i, c in cells) + " }")
    (tmp_path / "assignments.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(answer_key, "HERE", tmp_path)
    with pytest.raises(answer_key.KeyProblem, match=why):
        answer_key.load_assignments(EXERCISES)


def _write(tmp_path, text):
    (tmp_path / "ch1.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("text, message", [
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'numeric'\ntask = 't'\nanswer = 'a'\nreference = 1\nrefrence = 2\n",
     "ch1.toml, exercise ch1.x: unknown field(s) refrence for a numeric exercise"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'formula'\n", "ch1.toml, exercise ch1.x: unknown kind 'formula'"),
    ("[[exercise]]\nid = 'ch2.x'\nkind = 'choice'\ntask = 't'\noptions = {a = 'A'}\ncorrect = 'a'\nfeedback = {}\n",
     "ids in ch1.toml start with 'ch1.'"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'symbolic'\ntask = 't'\nanswer = 'a'\nsymbols = {x = 'real'}\n"
     "reference = 'x'\nsample = [{names = ['y'], uniform = [0, 1]}]\n", "a draw rule names unknown symbol(s) ['y']"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'symbolic'\ntask = 't'\nanswer = 'a'\nsymbols = {x = 'complex'}\n",
     "symbol x: assumption 'complex' is not one of"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'symbolic'\ntask = 't'\nanswer = 'a'\nsymbols = {x = 'real'}\n"
     "reference = 'x'\nsample = [{names = ['x'], uniform = [0, 1]}]\nprobes = [{at = {y = 0}, name = 'q'}]\n",
     "give a value to every symbol (x)"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'numeric'\ntask = 't'\n", "KeyError: 'answer'"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'numeric'\ntask = 't'\nanswer = 'a'\nreference = 1\n",
     "ValueError: a numeric exercise states its precision once: precision = 3"),
    ("[[exercise]]\nid = 'ch1.x'\nkind = 'numeric'\ntask = 't'\nanswer = 'a'\nreference = 1\nprecision = 0.001\n",
     "not 0.001"),
    ("[[exercise]\n", "ch1.toml: not valid TOML"),
])
def test_a_malformed_key_is_refused_naming_the_file_and_the_exercise(tmp_path, monkeypatch, text, message):
    _write(tmp_path, text)
    monkeypatch.setattr(answer_key, "HERE", tmp_path)
    with pytest.raises(answer_key.KeyProblem) as err:
        answer_key.load()
    assert message in str(err.value)


def test_a_formula_the_parser_refuses_is_refused_when_the_key_loads(tmp_path, monkeypatch):
    _write(tmp_path, "[[exercise]]\nid = 'ch1.x'\nkind = 'symbolic'\ntask = 't'\nanswer = 'a'\n"
                     "symbols = {x = 'real'}\nreference = 'x'\nsample = [{names = ['x'], uniform = [0, 1]}]\n"
                     "wrong = [['x**2', 'squared'], [\"__import__('os')\", 'no']]\n")
    monkeypatch.setattr(answer_key, "HERE", tmp_path)
    with pytest.raises(answer_key.KeyProblem) as err:
        answer_key.load()
    assert str(err.value).startswith("ch1.toml, exercise ch1.x: wrong answer 2 \"__import__('os')\": "
                                     "unknown function '__import__'")
