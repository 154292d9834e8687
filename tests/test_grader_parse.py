"""Whitelisted parsing of math strings (softmaxbook.grader.parse): accepts math, refuses code."""

from __future__ import annotations

import time

import pytest
import sympy as sp

from softmaxbook.grader.answers import serialise
from softmaxbook.grader.parse import parse
from softmaxbook.grader.parse_rules import ParseError, symbol_names

t1, t2, t3 = sp.symbols("theta1 theta2 theta3", real=True)
lam, n = sp.symbols("lam n", positive=True)
NAMES = symbol_names([t1, t2, t3, lam, n])


@pytest.mark.parametrize("text, expected", [
    ("log(exp(theta1) + exp(theta2) + exp(theta3))", sp.log(sp.exp(t1) + sp.exp(t2) + sp.exp(t3))),
    ("log(exp(θ1)+exp(θ_2)+exp(θ3))", sp.log(sp.exp(t1) + sp.exp(t2) + sp.exp(t3))),
    ("log(n)/λ", sp.log(n) / lam),
    ("log(n) / lambda", sp.log(n) / lam),
    ("theta1^2 − 2·theta1", t1**2 - 2 * t1),
    ("sigma(theta1)", 1 / (1 + sp.exp(-t1))),
    ("log2(8)", sp.Integer(3)),
    ("max(theta1, theta2)", sp.Max(t1, t2)),
    ("1/2", sp.Rational(1, 2)),
    ("2**1000", sp.Integer(2) ** 1000),
])
def test_parses_math_into_the_expected_sympy_object(text, expected):
    assert sp.simplify(parse(text, NAMES) - expected) == 0


def test_lists_become_vectors_and_matrices():
    m = parse("[[theta1, 0], [0, theta2]]", NAMES)
    assert m == [[t1, 0], [0, t2]]


@pytest.mark.parametrize("text, reason", [
    ("__import__('os').system('echo hacked')", "only plain function calls"),
    ("exec('print(1)')", "unknown function 'exec'"),
    ("eval('1')", "unknown function 'eval'"),
    ("open('/etc/passwd').read()", "only plain function calls"),
    ("theta1.__class__", "Attribute is not allowed"),
    ("(lambda: 1)()", "not a valid formula"),  # lambda is read as the symbol λ
    ("[x for x in (1, 2)]", "ListComp is not allowed"),
    ("'a string'", "only numbers are allowed"),
    ("foo + 1", "unknown name 'foo'"),
    ("x = 1", "not a valid formula"),
    ("theta1 if theta2 else 1", "IfExp is not allowed"),
    ("10**10**10", "exponent is too large"),
    ("(10**100)**1000", "too large"),
    ("9" * 100, "too long"),
    ("1/0", "division by zero"),
    ("oo", "infinite"),
    ("nan", "infinite or undefined"),
    ("1e400", "infinite number"),
    ("", "empty"),
    ("theta1 % 2", "operator Mod is not allowed"),
])
def test_refuses_code_and_oversized_input_with_a_reason(text, reason):
    with pytest.raises(ParseError, match=reason):
        parse(text, NAMES)


def test_enormous_expressions_are_refused_quickly():
    start = time.perf_counter()
    for text in ("+".join(["theta1"] * 10_000), "(" * 300 + "1" + ")" * 300, "10**10**10**10", "x" * 100_000):
        with pytest.raises(ParseError):
            parse(text, NAMES)
    assert time.perf_counter() - start < 0.5


def test_refuses_non_strings():
    with pytest.raises(ParseError, match="expected a string"):
        parse(42, NAMES)


def test_the_printed_form_of_sympy_objects_round_trips_through_the_parser():
    H = sp.Matrix([[t1 * (1 - t1), -t1 * t2], [-t1 * t2, t2 * (1 - t2)]])
    rows = serialise(H)["v"]            # what check() and the batch grader send on
    back = [[parse(e["v"], NAMES) for e in row["v"]] for row in rows]
    assert sp.Matrix(back) == H


def test_a_long_flat_sum_is_one_level_deep_and_formed_in_one_step():
    # Python reads a + b + c + ... as a left-deep tree; 600 terms are still one level here.
    start = time.perf_counter()
    got = parse(" + ".join(f"theta1**{k}" for k in range(1, 601)), NAMES)
    assert got == sp.Add(*[t1**k for k in range(1, 601)])
    assert parse("theta1 - theta2 + 3*theta3 - 1", NAMES) == t1 - t2 + 3 * t3 - 1
    assert parse("theta1 / theta2 * theta3 / 2", NAMES) == t1 * t3 / (2 * t2)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(ParseError, match="division by zero"):
        parse("theta1 * 2 / (theta2 - theta2)", NAMES)
    alternating = "theta1"
    for _ in range(25):                 # sums and products nested in turn still count
        alternating = f"({alternating} + 1) * 2"
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(alternating, NAMES)


# --------------------------------------------------------------------------- help with the shape asked

from softmaxbook.grader import EXERCISES, check  # noqa: E402


@pytest.fixture
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))


def test_a_matrix_typed_as_people_write_it_is_told_how_to_write_a_matrix(private_progress):
    msg = check("ch2.hessian", "diag(p) - p p^T").message
    assert "'p^T' is a transpose" in msg and ".T" in msg                      # the offending parts
    assert "'p p' is an implicit product: write p*p" in msg and "diag(...) builds a matrix" in msg
    assert "list of 3 rows of 3 entries" in msg and "Matrix(...)" in msg and "NumPy array" in msg and "@" in msg
    assert "exp(x)/(1 + exp(x))" not in msg                                  # no help for scalars


@pytest.mark.parametrize("text, pointed", [
    ("pᵀp", "'pᵀ' is a transpose"),
    ("p.T @ p", "'p.T' is a transpose"),
    ("p1(1 - p1)", "'p1 (...)' is an implicit product: write p1*(...)"),
    ("[[p1 (1 - p1), -p1 p2, -p1*p3], [0, 0, 0], [0, 0, 0]]", "'p1 p2' is an implicit product"),
    ("np.diag(p) - np.outer(p, p)", "builds a matrix"),
    ("p1*p2", "expected a 3×3 matrix"),
])
def test_matrix_answers_point_at_the_offending_part(text, pointed, private_progress):
    msg = check("ch2.hessian", text).message
    assert pointed in msg and "list of 3 rows of 3 entries" in msg, msg


# One answer written the wrong way per kind and shape of the course; every exercise's message
# says how to write its shape (or, for choices and functions, what is expected).
def _written_wrong(ex):
    if ex.kind == "choice":
        return "the first one", "Answer with one of"
    if ex.kind == "function":
        return "def f(x): return x", f"Expected {ex.answer}, got a string"
    name = sorted(s.name for s in ex.symbols)[0] if ex.kind == "symbolic" else "2"
    text = f"2 {name}"                                   # an implicit product (numbers: a missing comma)
    if len(ex.shape) == 2:
        return f"[[{text}, 0, 0]]", f"A {ex.shape[0]}×{ex.shape[1]} matrix is a list of {ex.shape[0]} rows"
    if len(ex.shape) == 1:
        return f"[{text}, 0, 0]", f"A vector of {ex.shape[0]} entries is a list"
    return text, "Write one number" if ex.kind == "numeric" else "Write one expression"


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_every_exercise_says_how_to_write_its_answer_when_it_cannot_be_read(ex_id, private_progress):
    ex = EXERCISES[ex_id]
    answer, told = _written_wrong(ex)
    r = check(ex_id, answer)
    assert not r.passed and told in r.message, r.message
    if ex.kind in ("symbolic", "numeric"):
        assert "implicit product" in r.message or "separate the entries" in r.message, r.message


@pytest.mark.parametrize("ex_id, answer, told", [
    ("ch2.gradient", "p - y", "p is a vector here, whose entries are the symbols p1, p2, p3"),
    ("ch1.mean", "o1", "expected a vector of 3 entries. A vector of 3 entries is a list"),
    ("ch1.moment_matching", "[0.4 -1.0 0.6]", "separate the entries of a list with commas"),
    ("ch1.nll", "A - y^T o", "'y^T' is a transpose"),
    ("ch4.gap", "2x", "'2 x' is an implicit product: write 2*x"),
    ("ch2.covariance", "a covariance", "not a valid formula"),            # prose is not an implicit product
])
def test_vector_and_scalar_answers_point_at_the_offending_part(ex_id, answer, told, private_progress):
    msg = check(ex_id, answer).message
    assert told in msg, msg
    assert "'T o'" not in msg                      # the T of a transpose is not a factor
