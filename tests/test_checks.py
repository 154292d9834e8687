"""softmaxbook.checks: the one set of input checks of the topic modules, and that every
public function routes a bad vector or lambda to the same message."""

import math
from fractions import Fraction

import numpy as np
import pytest

from softmaxbook import checks, duality, expfamily, gumbel, hessian, lse, regression, streaming
from softmaxbook.figures import ch4, connections

TYPE = "x must be real numbers (a list or array of ints and floats), got {}"


# ------------------------------------------------------------------ real_array
@pytest.mark.parametrize("x, expected", [
    ([1, 2, 3], [1.0, 2.0, 3.0]),
    ((0.5, -2), [0.5, -2.0]),
    ([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]]),
    ([Fraction(1, 2), 1], [0.5, 1.0]),
    (np.arange(3, dtype=np.uint8), [0.0, 1.0, 2.0]),
    ([np.nan, np.inf, -np.inf], [np.nan, np.inf, -np.inf]),  # whether these are allowed is the caller's rule
    (7, 7.0),
])
def test_real_array_accepts_real_numbers_as_float64(x, expected):
    a = checks.real_array(x, "x")
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, expected)


def test_real_array_keeps_float_precision_only_when_asked():
    x = np.ones(3, dtype=np.float32)
    assert checks.real_array(x, "x").dtype == np.float64
    assert checks.real_array(x, "x", keep_float_dtype=True).dtype == np.float32
    assert checks.real_array([1, 2], "x", keep_float_dtype=True).dtype == np.float64


@pytest.mark.parametrize("x, got", [
    ("abc", "the string 'abc'"),
    (b"ab", "the bytes b'ab'"),
    (None, "None (NoneType)"),
    (True, "True (bool)"),
    ([True, False], "[True, False]"),
    ([1j, 2.0], "[1j, 2.0]"),
    ([1.0, None], "[1.0, None]"),
    (["1", "2"], "['1', '2']"),
    ([[1, 2], [3]], "[[1, 2], [3]]"),
    ({"a": 1}, "{'a': 1} (dict)"),
    (np.array([1, 2], dtype=complex), "[(1+0j), (2+0j)]"),
    (["a"] * 10**6, "['a', 'a', 'a', 'a', 'a', 'a', ...]"),  # a huge list is shown cut short
], ids=lambda v: repr(v)[:20])
def test_real_array_refuses_what_is_not_real_numbers_with_one_message(x, got):
    with pytest.raises(TypeError) as err:
        checks.real_array(x, "x")
    assert str(err.value) == TYPE.format(got)


def test_a_long_string_or_array_is_shown_cut_short():
    with pytest.raises(TypeError) as err:
        checks.real_array("0" * 10**6, "x")
    assert len(str(err.value)) < 150 and "..." in str(err.value)
    with pytest.raises(TypeError) as err:
        checks.real_array(np.zeros(10**6, dtype=complex), "x")
    assert str(err.value) == TYPE.format("an array of shape (1000000,) and dtype complex128")


# ------------------------------------------------------------------ vector
def test_vector_accepts_a_finite_non_empty_vector():
    a = checks.vector([3, 1.5])
    assert a.dtype == np.float64 and a.tolist() == [3.0, 1.5]


@pytest.mark.parametrize("x, message, err", [
    ([1.0, np.nan], "x must hold finite numbers, not NaN or infinite: x[1] = nan", ValueError),
    ([np.inf, 0.0], "x must hold finite numbers, not NaN or infinite: x[0] = inf", ValueError),
    ([0.0, -np.inf], "x must hold finite numbers, not NaN or infinite: x[1] = -inf", ValueError),
    ([], "x is an empty vector: it needs at least one entry", ValueError),
    ([[1.0, 2.0]], "x must be one vector (1-D), got an array of shape (1, 2)", ValueError),
    (np.zeros((2, 3)), "x must be one vector (1-D), got an array of shape (2, 3)", ValueError),
    (2.5, "x must be a vector of numbers, got the single number 2.5", ValueError),
    ("abc", TYPE.format("the string 'abc'"), TypeError),
    (None, TYPE.format("None (NoneType)"), TypeError),
    ([True, False], TYPE.format("[True, False]"), TypeError),
])
def test_vector_refuses_with_an_exact_message(x, message, err):
    with pytest.raises(err) as caught:
        checks.vector(x)
    assert str(caught.value) == message


def test_vector_points_at_the_first_bad_entry_of_a_huge_list():
    x = [0.0] * 10**6
    x[123456] = math.nan
    with pytest.raises(ValueError) as err:
        checks.vector(x)
    assert str(err.value) == "x must hold finite numbers, not NaN or infinite: x[123456] = nan"


def test_vector_parameters_say_where_a_module_allows_more():
    np.testing.assert_array_equal(checks.vector([0.0, -np.inf], minus_inf=True), [0.0, -np.inf])
    assert checks.vector([], empty=True).size == 0
    assert checks.vector([[1, 2], [3, 4]], batch=True).shape == (2, 2)
    with pytest.raises(ValueError) as err:
        checks.vector([0.0, np.inf], "s", minus_inf=True)
    assert str(err.value) == "s must hold numbers below +inf, not NaN (-inf is allowed): s[1] = inf"
    with pytest.raises(ValueError) as err:
        checks.vector([[1.0, 2.0], [3.0, np.nan]], "o", batch=True)
    assert str(err.value) == "o must hold finite numbers, not NaN or infinite: o[1, 1] = nan"
    with pytest.raises(ValueError, match="empty vector"):
        checks.vector(np.zeros((2, 0)), batch=True)


# ------------------------------------------------------------------ lambda and other numbers
@pytest.mark.parametrize("value, expected", [(1, 1.0), (2.5, 2.5), (np.float32(0.5), 0.5), (Fraction(1, 4), 0.25),
                                             (np.int64(3), 3.0), (1e-300, 1e-300)])
def test_lam_accepts_positive_finite_real_numbers(value, expected):
    got = checks.lam(value)
    assert type(got) is float and got == expected


BAD_LAMBDA_VALUES = [(0, "0"), (0.0, "0.0"), (-1.0, "-1.0"), (math.nan, "nan"), (math.inf, "inf"),
                     (-math.inf, "-inf"), (10**400, "100000000000000000...0000000000000000000")]
BAD_LAMBDA_TYPES = [(True, "True (bool)"), ("2", "the string '2'"), (None, "None (NoneType)"),
                    ([1.0], "[1.0]"), (np.array(2.0), "2.0"), (1j, "1j (complex)")]


@pytest.mark.parametrize("value, got", BAD_LAMBDA_VALUES, ids=[g for _v, g in BAD_LAMBDA_VALUES])
def test_lam_refuses_zero_negative_nan_and_inf(value, got):
    with pytest.raises(ValueError) as err:
        checks.lam(value)
    assert str(err.value) == f"lambda must be a positive, finite number, got {got}"


@pytest.mark.parametrize("value, got", BAD_LAMBDA_TYPES, ids=[g for _v, g in BAD_LAMBDA_TYPES])
def test_lam_refuses_what_is_not_a_real_number(value, got):
    with pytest.raises(TypeError) as err:
        checks.lam(value)
    assert str(err.value) == f"lambda must be a real number, got {got}"


def test_a_negative_lambda_only_where_asked():
    assert checks.lam(-2, negative=True) == -2.0
    for bad in (0, 0.0, math.nan, -math.inf):
        with pytest.raises(ValueError, match=r"^lambda must be a finite number other than 0, got "):
            checks.lam(bad, negative=True)
    with pytest.raises(TypeError, match=r"^lambda must be a real number, got True \(bool\)$"):
        checks.lam(True, negative=True)


def test_lams_accepts_a_number_or_a_vector_and_names_the_first_bad_one():
    assert checks.lams(2).tolist() == [2.0]
    assert checks.lams([0.5, 4]).tolist() == [0.5, 4.0]
    with pytest.raises(ValueError) as err:
        checks.lams([1.0, 0.0, -1.0])
    assert str(err.value) == "lambdas must be positive, finite numbers, got lambdas[1] = 0.0"
    with pytest.raises(ValueError) as err:
        checks.lams([1.0, np.nan])
    assert str(err.value) == "lambdas must be positive, finite numbers, got lambdas[1] = nan"
    with pytest.raises(ValueError) as err:
        checks.lams([])
    assert str(err.value) == "lambdas must be a non-empty vector of values of lambda, got an array of shape (0,)"
    with pytest.raises(ValueError, match="shape \\(1, 1\\)"):
        checks.lams([[1.0]])
    with pytest.raises(TypeError) as err:
        checks.lams("abc")
    assert str(err.value) == "lambdas must be real numbers (a list or array of ints and floats), got the string 'abc'"


def test_positive_number_follows_the_lambda_rule_under_its_own_name():
    assert checks.positive_number(1e-4, "the step h") == 1e-4
    with pytest.raises(ValueError) as err:
        checks.positive_number(0.0, "the step h")
    assert str(err.value) == "the step h must be a positive, finite number, got 0.0"


@pytest.mark.parametrize("value", [1, 7, np.int64(3), 10**30])
def test_positive_int_accepts_integers_from_one(value):
    got = checks.positive_int(value, "n")
    assert type(got) is int and got == value


@pytest.mark.parametrize("value, err, got", [
    (0, ValueError, "0"), (-3, ValueError, "-3"),
    (2.0, TypeError, "2.0"), (2.5, TypeError, "2.5"), (True, TypeError, "True (bool)"),
    ("3", TypeError, "the string '3'"), (None, TypeError, "None (NoneType)"), (math.nan, TypeError, "nan"),
])
def test_positive_int_refuses_with_one_message(value, err, got):
    with pytest.raises(err) as caught:
        checks.positive_int(value, "n")
    assert str(caught.value) == f"n must be a positive integer, got {got}"


# ------------------------------------------------------------------ every public function, the same message
X3 = [1.0, 0.0, -1.0]

#: Public functions of a lambda, each as ``lambda lam: ...``.
TAKES_LAMBDA = {
    "duality.objective": lambda lam: duality.objective([0.2, 0.3, 0.5], X3, lam),
    "duality.maximiser": lambda lam: duality.maximiser(X3, lam),
    "duality.value": lambda lam: duality.value(X3, lam),
    "duality.gap_bound": lambda lam: duality.gap_bound(X3, lam),
    "duality.three_ways": lambda lam: duality.three_ways(X3, lam),
    "duality.mirror_ascent": lambda lam: duality.mirror_ascent(X3, lam),
    "duality.level_sets": lambda lam: duality.level_sets(X3, lam),
    "duality.maximiser_path": lambda lam: duality.maximiser_path(X3, [1.0, lam]),
    "duality.value_curve": lambda lam: duality.value_curve(X3, lam),
    "lse.soft_min": lambda lam: lse.soft_min(X3, lam),
    "figures.ch4.announce_lse_lambda": lambda lam: ch4.announce_lse_lambda({"lam": lam}),
    "figures.connections.announce_simplex": lambda lam: connections.announce_simplex({"lam": lam, "x2": 0.0}),
}
ARRAY_OF_LAMBDAS = {"duality.maximiser_path", "duality.value_curve"}


@pytest.mark.parametrize("name", TAKES_LAMBDA)
@pytest.mark.parametrize("value, got", BAD_LAMBDA_VALUES[:5])
def test_every_function_of_lambda_gives_the_same_message_for_a_bad_value(name, value, got):
    with pytest.raises(ValueError) as err:
        TAKES_LAMBDA[name](value)
    if name in ARRAY_OF_LAMBDAS:
        i = 1 if name == "duality.maximiser_path" else 0
        assert str(err.value) == f"lambdas must be positive, finite numbers, got lambdas[{i}] = {float(value)}"
    else:
        assert str(err.value) == f"lambda must be a positive, finite number, got {got}"


@pytest.mark.parametrize("name", sorted(set(TAKES_LAMBDA) - ARRAY_OF_LAMBDAS))
@pytest.mark.parametrize("value, got", BAD_LAMBDA_TYPES[:3])
def test_every_function_of_lambda_gives_the_same_message_for_a_bad_type(name, value, got):
    with pytest.raises(TypeError) as err:
        TAKES_LAMBDA[name](value)
    assert str(err.value) == f"lambda must be a real number, got {got}"


def test_smooth_max_alone_takes_a_negative_lambda():
    assert lse.smooth_max(X3, -1.0) == pytest.approx(lse.soft_min(X3, 1.0))
    with pytest.raises(ValueError) as err:
        lse.smooth_max(X3, 0)
    assert str(err.value) == "lambda must be a finite number other than 0, got 0"


def _quadratic(v):
    return float(np.sum(v ** 2))


#: Public functions of one vector of scores or logits, each with the name of that argument.
TAKES_A_VECTOR = {
    "gumbel.gumbel_max_draws": ("x", lambda v: gumbel.gumbel_max_draws(v, 5)),
    "gumbel.expected_max": ("x", gumbel.expected_max),
    "gumbel.max_estimate": ("x", lambda v: gumbel.max_estimate(v, 10)),
    "gumbel.argmax_frequencies": ("x", lambda v: gumbel.argmax_frequencies(v, 10)),
    "gumbel.running_errors": ("x", lambda v: gumbel.running_errors(v, [1, 2])),
    "duality.maximiser": ("x", duality.maximiser),
    "duality.value": ("x", duality.value),
    "duality.gap_bound": ("x", duality.gap_bound),
    "duality.mirror_ascent": ("x", duality.mirror_ascent),
    "duality.maximiser_path": ("x", lambda v: duality.maximiser_path(v, [1.0])),
    "duality.conjugate_objective": ("theta", lambda v: duality.conjugate_objective([0.5, 0.5], v)),
    "hessian.softmax_hessian": ("o", hessian.softmax_hessian),
    "hessian.finite_difference_gradient": ("x", lambda v: hessian.finite_difference_gradient(_quadratic, v)),
    "hessian.finite_difference_hessian": ("x", lambda v: hessian.finite_difference_hessian(_quadratic, v)),
    "expfamily.check_probability_vector": ("p", expfamily.check_probability_vector),
    "regression.example_hessian": ("x", lambda v: regression.example_hessian(np.zeros((3, 2)), v)),
}
BAD_VECTORS = [
    ([1.0, math.nan], ValueError, "{n} must hold finite numbers, not NaN or infinite: {n}[1] = nan"),
    ([math.inf, 0.0], ValueError, "{n} must hold finite numbers, not NaN or infinite: {n}[0] = inf"),
    ([], ValueError, "{n} is an empty vector: it needs at least one entry"),
    ([[1.0, 2.0]], ValueError, "{n} must be one vector (1-D), got an array of shape (1, 2)"),
    ("ab", TypeError, "{n} must be real numbers (a list or array of ints and floats), got the string 'ab'"),
    (None, TypeError, "{n} must be real numbers (a list or array of ints and floats), got None (NoneType)"),
    ([True, False], TypeError, "{n} must be real numbers (a list or array of ints and floats), got [True, False]"),
]


@pytest.mark.parametrize("name", TAKES_A_VECTOR)
@pytest.mark.parametrize("bad, err, message", BAD_VECTORS, ids=["nan", "inf", "empty", "2-D", "str", "None", "bool"])
def test_every_function_of_a_vector_gives_the_same_message(name, bad, err, message):
    arg, call = TAKES_A_VECTOR[name]
    with pytest.raises(err) as caught:
        call(bad)
    assert str(caught.value) == message.format(n=arg)


@pytest.mark.parametrize("call", [expfamily.softmax, expfamily.log_partition])
def test_rows_of_logits_follow_the_same_rule(call):
    assert call([[0.0, 0.0], [1.0, 1.0]]).shape[0] == 2
    with pytest.raises(ValueError) as err:
        call([[0.0, 0.0], [np.nan, 1.0]])
    assert str(err.value) == "o must hold finite numbers, not NaN or infinite: o[1, 0] = nan"


def test_streaming_allows_minus_inf_and_says_so():
    assert streaming.summarize([0.0, -np.inf]) == (0.0, 1.0)
    with pytest.raises(ValueError) as err:
        streaming.summarize([0.0, np.nan])
    assert str(err.value) == "x must hold numbers below +inf, not NaN (-inf is allowed): x[1] = nan"


@pytest.mark.parametrize("call, message", [
    (lambda: gumbel.max_estimate(X3, 0), "the number of draws n must be a positive integer, got 0"),
    (lambda: hessian.sample_one_hot([0.5, 0.5], 2.5), "the sample size n must be a positive integer, got 2.5"),
    (lambda: duality.mirror_ascent(X3, iterations=True), "iterations must be a positive integer, got True (bool)"),
    (lambda: duality.simplex_grid("9"), "resolution must be a positive integer, got the string '9'"),
    (lambda: streaming.blocks_of([1.0], 0), "the block size must be a positive integer, got 0"),
    (lambda: regression.one_hot([0], 0), "the number of classes C must be a positive integer, got 0"),
    (lambda: hessian.finite_difference_hessian(_quadratic, X3, h=-1e-4),
     "the step h must be a positive, finite number, got -0.0001"),
    (lambda: duality.mirror_ascent(X3, step=math.inf), "step must be a positive, finite number, got inf"),
])
def test_counts_and_steps_share_their_messages(call, message):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert str(err.value) == message
