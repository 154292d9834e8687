"""Learner-side grading: right answers pass, known wrong answers get named feedback,
hostile answers get a clear message (never a traceback) within 5 s, progress persists."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import cloudpickle
import numpy as np
import pytest
import sympy as sp

from softmaxbook.grader import EXERCISES, check, exercises, progress
from softmaxbook import lse as course_lse
from softmaxbook.grader import learner

p1, p2, p3 = sp.symbols("p1 p2 p3", positive=True)
o1, o2, o3 = sp.symbols("o1 o2 o3", real=True)
t1, t2, t3 = o1, o2, o3        # chapter 1's logits, its natural parameter θ = o
y1, y2, y3 = sp.symbols("y1 y2 y3", nonnegative=True)
d = sp.Symbol("d", positive=True)
n, lam = sp.symbols("n lam", positive=True)
# Functions defined here stand for functions defined in a notebook (module __main__), which
# cloudpickle sends by value; without this it would send a reference to this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(autouse=True)
def private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "progress.json"))
    return tmp_path / "progress.json"


def _loss_in_logits():
    o = [o1, o2, o3]
    Z = sum(sp.exp(v) for v in o)
    ys = [y1, y2, 1 - y1 - y2]
    return o, -sum(y * sp.log(sp.exp(v) / Z) for y, v in zip(ys, o))


def _softmin(x, lam):
    z = -lam * np.asarray(x, dtype=float)
    m = z.max()
    return float(-(m + np.log(np.exp(z - m).sum())) / lam)


def _lse(x):
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError("empty")
    if np.isnan(x).any():
        return math.nan
    m = x.max()
    return float(m) if np.isinf(m) else float(m + np.log(np.exp(x - m).sum()))


def _block_bits(n):
    if not isinstance(n, int) or n < 1:
        raise ValueError("n >= 1")
    bits = math.ceil(n * math.log2(3)) - 1
    while 2**bits < 3**n:      # smallest code length with 2^bits >= 3^n codewords (exact from a float guess)
        bits += 1
    return bits


def _encode(trits):
    value = 0
    for t in trits:
        if t not in (0, 1, 2):
            raise ValueError("trit")
        value = 3 * value + t
    return format(value, "b").zfill(_block_bits(len(trits))) if trits else ""


def _decode(bits, length):
    if set(bits) - {"0", "1"}:
        raise ValueError("bits")
    value = int(bits, 2) if bits else 0
    out = []
    for _ in range(length):
        value, t = divmod(value, 3)
        out.append(t)
    return out[::-1]


# Right answers, derived here independently of the registry (sympy differentiation, ...).
def right_answers():
    o, loss = _loss_in_logits()
    A = sp.log(sp.exp(t1) + sp.exp(t2) + sp.exp(t3))
    return {
        "ch1.log_partition": "log(exp(o1) + exp(o2) + exp(o3))",
        "ch1.mean": [sp.diff(A, t) for t in (t1, t2, t3)],
        "ch1.sigmoid_variance": sp.diff(sp.log(1 + sp.exp(o1)), o1, 2),
        "ch1.nll": -sum(y * sp.log(sp.exp(t) / sp.exp(A)) for y, t in zip((y1, y2, y3), (t1, t2, t3))),
        "ch1.moment_matching": np.log([0.4, 0.1, 0.5]) - np.log([0.4, 0.1, 0.5]).mean(),
        "ch1.hessian_rank": np.linalg.matrix_rank(np.cov(np.eye(5)[np.random.default_rng(1).choice(5, 5000)].T), tol=1e-9),
        "ch2.gradient": [sp.diff(loss, v) for v in o],
        "ch2.hessian": sp.hessian(loss, o),
        "ch2.covariance": np.cov(np.eye(3)[np.random.default_rng(0).choice(3, 400_000, p=[.1, .6, .3])].T, bias=True).round(2),
        "ch2.max_eigenvalue": 0.5,
        "ch2.whose_variance": "a",
        "ch3.entropy": "log2(3)",
        "ch3.huffman_rate": (1 + 2 + 2) / 3,
        "ch3.better_code": "c",
        "ch3.block_bits": _block_bits,
        "ch3.codec": (_encode, _decode),
        "ch4.gap": "log(1 + exp(-d))",
        "ch4.bound": sp.log(n) / lam,
        "ch4.limit": "(a)",
        "ch4.softmin_formula": "a",
        "ch4.softmin": _softmin,
        "ch4.stable_lse": _lse,
    }


def test_every_exercise_has_a_right_answer_in_this_test():
    assert set(right_answers()) == set(EXERCISES)


@pytest.mark.parametrize("ex_id", list(right_answers()))
def test_right_answers_pass(ex_id):
    r = check(ex_id, right_answers()[ex_id])
    assert (r.passed, r.score) == (True, 1.0), r.message


def test_alternative_forms_pass():
    assert check("ch2.hessian", sp.Matrix(3, 3, lambda i, j: [p1, p2, p3][i] * (int(i == j) - [p1, p2, p3][j]))).passed
    assert check("ch2.gradient", [p1 - y1, p2 - y2, p3 - (1 - y1 - y2)]).passed
    assert check("ch1.sigmoid_variance", "sigma(o1)*(1-sigma(o1))").passed
    assert check("ch2.covariance", [[0.09, -0.06, -0.03], [-0.06, 0.24, -0.18], [-0.03, -0.18, 0.21]]).passed
    assert check("ch2.max_eigenvalue", sp.Rational(1, 2)).passed
    assert check("ch3.huffman_rate", "5/3").passed


# Known wrong answers from the course specification: named feedback, score below 1.
WRONG = [
    ("ch2.hessian", sp.zeros(3, 3), "treating p as a constant inside p − y"),
    ("ch2.hessian", sp.diag(p1 * (1 - p1), p2 * (1 - p2), p3 * (1 - p3)), "off-diagonal entries are not 0"),
    ("ch2.hessian", sp.diag(*[p - (p1**2 + p2**2 + p3**2) for p in (p1, p2, p3)]), "for i ≠ j it gives 0"),
    ("ch2.gradient", [-y + (y1 * p1 + y2 * p2 + y3 * p3) for y in (y1, y2, y3)], "Wrong index"),
    ("ch2.gradient", [y1 - p1, y2 - p2, y3 - p3], "sign"),
    ("ch2.covariance", np.diag([0.09, 0.24, 0.21]), "off-diagonal covariances are not 0"),
    ("ch2.whose_variance", "b", "has no variance"),
    ("ch2.max_eigenvalue", 0.25, "diagonal entry"),
    ("ch3.huffman_rate", 3, "costs 3 bits per symbol: worse than 2"),
    ("ch3.huffman_rate", 2, "wastes"),
    ("ch3.better_code", "a", "costs 3 bits per symbol: worse than 2"),
    ("ch3.better_code", "d", "Equal lengths cost 2 bits"),
    ("ch3.entropy", 2, "fixed-length"),
    ("ch1.log_partition", "exp(o1) + exp(o2) + exp(o3)", "partition function"),
    ("ch1.log_partition", "max(o1, o2, o3)", "max(o) is only a limit"),
    ("ch1.mean", [sp.exp(t1), sp.exp(t2), sp.exp(t3)], "not normalised"),
    ("ch1.sigmoid_variance", "sigma(o1)", "the mean"),
    ("ch1.nll", "y1*o1 + y2*o2 + y3*o3 - log(exp(o1) + exp(o2) + exp(o3))", "log-likelihood"),
    ("ch1.nll", "log(exp(o1) + exp(o2) + exp(o3)) + y1*o1 + y2*o2 + y3*o3", "sign of the label term"),
    ("ch1.nll", "log(exp(o1) + exp(o2) + exp(o3))", "does not depend on the label"),
    ("ch1.nll", "-(y1*o1 + y2*o2 + y3*o3)", "not normalised"),
    ("ch1.moment_matching", [0.4, 0.1, 0.5], "class frequencies"),
    ("ch1.moment_matching", np.log([0.4, 0.1, 0.5]), "up to the constant"),
    ("ch1.moment_matching", [4 - 10 / 3, 1 - 10 / 3, 5 - 10 / 3], "not the centred counts"),
    ("ch1.hessian_rank", 5, "in the kernel"),
    ("ch1.hessian_rank", 1, "Only the direction 1 is flat"),
    ("ch1.hessian_rank", 0, "not 0"),
    ("ch2.hessian", sp.diag(p1, p2, p3), "holding Σ_j e^{o_j} fixed"),
    ("ch2.hessian", sp.Matrix([p1, p2, p3]) * sp.Matrix([p1, p2, p3]).T - sp.diag(p1, p2, p3), "Check the sign"),
    ("ch4.limit", "b", "gives min(x)"),
    ("ch4.softmin_formula", "b", "not a soft minimum of anything"),
    ("ch4.gap", sp.log(2), "largest gap"),
    ("ch4.bound", "log(2)/lam", "two numbers"),
]


@pytest.mark.parametrize("ex_id, answer, feedback", WRONG, ids=[f"{w[0]}-{k}" for k, w in enumerate(WRONG)])
def test_known_wrong_answers_get_named_feedback(ex_id, answer, feedback):
    r = check(ex_id, answer)
    assert not r.passed and r.score < 1
    assert feedback.lower() in (r.message + " ".join(r.details)).lower(), r.message


def test_wrong_functions_get_named_feedback():
    r = check("ch3.codec", (lambda m: "".join({0: "100", 1: "010", 2: "001"}[t] for t in m),
                            lambda b, length: [{"100": 0, "010": 1, "001": 2}[b[3 * k:3 * k + 3]] for k in range(length)]))
    assert not r.passed and any("costs 3 bits per symbol: worse than 2" in h for h in r.details)

    def two_bits(n):
        return 2 * n
    r = check("ch3.block_bits", two_bits)
    assert 0 < r.score < 1 and any("2n bits" in h for h in r.details)

    def naive(x):
        return float(np.log(np.sum(np.exp(np.asarray(x, dtype=float)))))
    r = check("ch4.stable_lse", naive)
    assert 0 < r.score < 1 and any("overflow" in h for h in r.details)

    def softmax_instead(x, lam):
        return float(np.log(np.sum(np.exp(lam * np.asarray(x)))) / lam)
    r = check("ch4.softmin", softmax_instead)
    assert r.score == 0 and any("soft maximum" in h for h in r.details)


@pytest.mark.parametrize("ex_id", list(EXERCISES))
def test_placeholders_say_not_answered_yet(ex_id):
    for placeholder in (None, ...):
        r = check(ex_id, placeholder)
        assert (r.passed, r.score, r.answered) == (False, 0.0, False)
        assert "Not answered yet" in r.message


def test_shipped_function_stubs_say_not_answered_yet():
    def lse(x):
        return ...

    def enc(m):
        return ...

    def dec(b, length):
        return ...
    assert "Not answered yet" in check("ch4.stable_lse", lse).message
    assert "Not answered yet" in check("ch3.codec", (enc, dec)).message


def _raises(x):
    raise RuntimeError("boom")


def _loops(*args):
    while True:
        pass


def _exits(*args):
    import os as _os
    _os._exit(3)


def _stubborn(*args):
    while True:
        try:
            time.sleep(0.01)
        except BaseException:
            pass


HOSTILE = [
    ("ch2.max_eigenvalue", math.nan, "nan or inf"),
    ("ch2.max_eigenvalue", math.inf, "nan or inf"),
    ("ch2.covariance", np.full((3, 3), np.nan), "nan or inf"),
    ("ch2.max_eigenvalue", "exp(exp(exp(exp(10))))", "nan or inf"),
    ("ch2.max_eigenvalue", "9**9**3", "nan or inf"),
    ("ch2.max_eigenvalue", "log(-1)", "expected a real number"),
    ("ch2.hessian", sp.Matrix([[p1, 0], [0, p2]]), "3×3"),
    ("ch2.hessian", [[p1, 0, 0], [0, p2]], "3×3"),
    ("ch1.mean", [t1, t2], "vector of 3"),
    ("ch2.covariance", "covariance", "unknown name"),
    ("ch2.covariance", "a covariance", "not a valid formula"),
    ("ch1.log_partition", {"a": 1}, "Expected"),
    ("ch1.log_partition", True, "bool"),
    ("ch1.log_partition", object(), "Expected"),
    ("ch1.log_partition", 1 + 2j, "complex"),
    ("ch1.log_partition", "10**10**10", "exponent is too large"),
    ("ch1.log_partition", "__import__('os').system('touch /tmp/pwned')", "only plain function calls"),
    ("ch1.log_partition", "exec('import os')", "unknown function"),
    ("ch1.log_partition", sp.Symbol("x") + 1, "unknown name 'x'"),
    ("ch1.log_partition", "+".join(f"exp(o1*{k})" for k in range(30_000)), "too long"),
    ("ch1.log_partition", sp.Add(*[sp.exp(k * t1) for k in range(3000)]), "too long"),
    ("ch1.log_partition", "exp(exp(exp(exp(exp(o1)))))", "Exchanging o1 and o2 changes your expression"),
    ("ch4.stable_lse", _raises, "raised RuntimeError"),
    ("ch4.stable_lse", _loops, "infinite loop"),
    ("ch4.softmin", _stubborn, "time limit"),
    ("ch4.stable_lse", _exits, "ended the process"),
    ("ch4.stable_lse", lambda x: "a string", "expected a number"),
    ("ch4.stable_lse", lambda x: None, "forget `return`"),
    ("ch4.stable_lse", 3.0, "Expected a function"),
    ("ch3.codec", _raises, "pair of functions"),
    ("ch4.limit", 3, "Expected one letter"),
    ("ch4.limit", "z", "Answer with one of"),
]


@pytest.mark.parametrize("ex_id, answer, message", HOSTILE, ids=[f"{h[0]}-{k}" for k, h in enumerate(HOSTILE)])
def test_hostile_answers_get_a_clear_message_within_5_s(ex_id, answer, message):
    start = time.perf_counter()
    r = check(ex_id, answer)
    elapsed = time.perf_counter() - start
    assert not r.passed
    assert message.lower() in (r.message + " " + " ".join(r.details)).lower(), str(r)
    assert elapsed < 5.0
    assert not os.path.exists("/tmp/pwned")


def test_unknown_ids_and_bad_ids_do_not_raise():
    r = check("ch2.hesian", sp.zeros(3, 3))
    assert not r.passed and "did you mean ch2.hessian" in r.message
    assert not check(None, 1).passed
    assert not check(["ch2.hessian"], 1).passed


def test_results_render_in_jupyter_without_revealing_the_reference():
    r = check("ch2.hessian", sp.diag(p1 * (1 - p1), p2 * (1 - p2), p3 * (1 - p3)))
    html = r._repr_html_()
    assert "ch2.hessian" in html and "33%" in html
    assert "p1*p2" not in html and "Cov[Y_i, Y_j]" in html  # names the entries, does not print the matrix
    for ex in EXERCISES.values():
        if ex.kind == "choice":
            right_text = ex.options[ex.correct]
            assert all(right_text not in msg for msg in ex.feedback.values()), ex.id


def test_listing_names_every_exercise_with_task_and_answer_type():
    rows = exercises().rows
    assert [r[0] for r in rows] == list(EXERCISES)
    assert all(task and answer for _, task, answer in rows)
    assert "ch2.hessian" in repr(exercises()) and "<table>" in exercises()._repr_html_()
    out = subprocess.run([sys.executable, "-m", "softmaxbook", "list"], capture_output=True, text=True, check=True)
    assert all(ex_id in out.stdout for ex_id in EXERCISES)


def test_progress_persists_across_sessions_and_survives_a_corrupt_file(private_progress):
    assert progress().done == []
    check("ch4.limit", "a")
    check("ch4.gap", "0")
    assert progress().done == ["ch4.limit"]
    stored = json.loads(private_progress.read_text())
    assert stored["ch4.gap"]["score"] == 0.0 and stored["ch4.limit"]["passed"] is True
    # A new Python session reads the same file.
    code = "from softmaxbook.grader import progress; print(progress().done)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "SOFTMAXBOOK_PROGRESS": str(private_progress)})
    assert out.stdout.strip() == "['ch4.limit']"
    # A failed attempt later does not undo a pass.
    check("ch4.limit", "b")
    assert progress().done == ["ch4.limit"]
    private_progress.write_text("{not json")
    assert progress().done == []
    assert check("ch4.gap", "log(1 + exp(-d))").passed
    assert progress().done == ["ch4.gap"]
    private_progress.write_text('{"ch4.gap": 7, "ch9.x": {"score": 1}}')
    assert progress().done == [] and "0 of" in repr(progress())


def test_an_unwritable_progress_file_does_not_break_check(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(blocker / "sub" / "progress.json"))
    assert check("ch4.limit", "a").passed


def test_learner_side_runs_the_function_as_the_batch_grader_will():
    def lse(x):  # leans on the course package, which the batch grader does not provide
        return float(course_lse.logsumexp(x))
    r = check("ch4.stable_lse", lse)
    assert r.score == 0.0 and "course package softmaxbook is not available" in r.message
    scale = 2.0

    def uses_a_constant_and_a_helper(x):
        return _lse(x) + (scale - 2.0)
    assert check("ch4.stable_lse", uses_a_constant_and_a_helper).passed


def _bits_one_hot(n):
    if n < 1:
        raise ValueError("n must be >= 1")
    return 3 * n


def _bits_off_by_one(n):
    if n < 1:
        raise ValueError("n must be >= 1")
    return math.ceil(n * math.log2(3)) + 1


def _bits_raises(n):
    raise RuntimeError("boom")


def test_a_misconception_is_named_only_when_it_explains_the_failures():
    one_hot = check("ch3.block_bits", _bits_one_hot)
    assert "one-hot" in one_hot.message and "worse than 2" in one_hot.message
    # ceil(n log2 3) + 1 equals 3n at n = 1 and 2n at n = 3, 4: coincidences, not the misconception
    off = check("ch3.block_bits", _bits_off_by_one)
    assert not off.passed and "one-hot" not in off.message and "2n bits" not in off.message
    assert "wrong number of bits" in off.message


def test_message_carries_the_specific_feedback_not_only_a_count():
    r = check("ch3.block_bits", _bits_raises)
    assert r.message.startswith("0 of ") and "RuntimeError: boom" in r.message
    assert r.details and all(d in r.message for d in r.details)


def test_progress_says_where_it_is_stored_and_that_binder_forgets_it(private_progress):
    shown = repr(progress()) + progress()._repr_html_()
    assert str(private_progress) in shown and "Binder session forgets it" in shown
    assert "progress().export(" in shown and "import_progress(" in shown


def test_progress_is_carried_to_another_session_by_export_and_import(private_progress, tmp_path, monkeypatch):
    check("ch4.limit", "a")
    check("ch4.gap", "0")
    exported = progress().export(tmp_path / "carry" / "my-progress.json")
    assert exported.is_file() and json.loads(exported.read_text())["ch4.limit"]["passed"] is True
    # A fresh session elsewhere (Binder: an empty home) has a pass of its own and a worse score.
    monkeypatch.setenv("SOFTMAXBOOK_PROGRESS", str(tmp_path / "elsewhere" / "progress.json"))
    check("ch3.better_code", "c")
    check("ch4.gap", "d")                  # a wrong answer scoring 0 there too
    merged = learner.import_progress(exported)
    assert merged.done == ["ch3.better_code", "ch4.limit"]
    assert json.loads((tmp_path / "elsewhere" / "progress.json").read_text())["ch4.gap"]["score"] == 0.0
    from softmaxbook.grader import import_progress
    assert import_progress is learner.import_progress


@pytest.mark.parametrize("content, message", [
    ("{not json", r"not a progress file \(not JSON\)"),
    ('["ch4.limit"]', "not a progress file of this course"),
    ('{"ch9.x": {"score": 1, "passed": true}}', "not a progress file of this course"),
    ('{"ch4.limit": {"score": "1"}}', "not a progress file of this course"),
    (b"\xff\xfe\x00", "cannot read"),
])
def test_importing_a_file_that_is_not_a_progress_file_says_so_and_changes_nothing(content, message, tmp_path,
                                                                                   private_progress):
    check("ch4.limit", "a")
    before = private_progress.read_text()
    bad = tmp_path / "bad.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError, match=message):
        learner.import_progress(bad)
    with pytest.raises(ValueError, match="cannot read"):
        learner.import_progress(tmp_path / "missing.json")
    huge = tmp_path / "huge.json"
    huge.write_text(" " * (learner.MAX_PROGRESS_BYTES + 1))
    with pytest.raises(ValueError, match="too large"):
        learner.import_progress(huge)
    assert private_progress.read_text() == before


def test_block_bits_asks_for_the_fewest_bits_and_2n_is_told_it_is_a_code_but_not_the_fewest():
    assert "the fewest bits of a fixed-length code" in EXERCISES["ch3.block_bits"].task

    def two_bits(n):
        if n < 1:
            raise ValueError("n >= 1")
        return 2 * n
    r = check("ch3.block_bits", two_bits)
    assert any("is a fixed-length code, but not the fewest bits" in d for d in r.details), r.message
