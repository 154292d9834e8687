"""Whitelisted parsing of math strings (softmaxbook.grader.parse): accepts math, refuses code."""

from __future__ import annotations

import time

import pytest
import sympy as sp

from softmaxbook.grader.answers import serialise
from softmaxbook.grader.parse import ParseError, parse, symbol_names

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
