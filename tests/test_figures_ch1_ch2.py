"""What the figures of chapters 1 and 2 compute (softmaxbook.figures.ch1, .ch2), not their pixels."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from softmaxbook import expfamily as ef  # noqa: E402
from softmaxbook.figures import ch1, ch2  # noqa: E402


def test_bernoulli_curves_are_sigma_and_its_variance_and_dots_are_within_noise():
    d = ch1.bernoulli_data(draws=20_000, seed=0)
    i = np.argmin(np.abs(d["theta"]))
    assert d["mean"][i] == pytest.approx(0.5) and d["curvature"][i] == pytest.approx(0.25)
    np.testing.assert_allclose(d["curvature"], d["mean"] * (1 - d["mean"]))
    np.testing.assert_allclose(np.gradient(d["A"], d["theta"])[1:-1], d["mean"][1:-1], atol=1e-3)  # A' = σ
    assert 0 < d["max_err"] < 4 * np.sqrt(0.25 / 20_000) * 2  # a few standard errors
    with pytest.raises(ValueError, match="draws"):
        ch1.bernoulli_data(draws=1)


def test_bernoulli_tangent_touches_A_with_slope_sigma():
    traces = ch1.draw_bernoulli(1.0)
    assert [t.kind for t in traces] == ["line", "line", "points", "line", "line", "points", "vline", "points", "points"]
    tangent = traces[1]
    slope = (tangent.y[1] - tangent.y[0]) / (tangent.x[1] - tangent.x[0])
    assert slope == pytest.approx(ef.sigmoid(1.0))
    assert traces[2].y[0] == pytest.approx(np.log1p(np.e))
    assert len(list(ch1.bernoulli_explorer().positions())) == len(ch1.GRID)


@pytest.mark.parametrize("theta", [-4.5, 0.0, 1.0, 3.5])
def test_bernoulli_marks_the_mean_and_the_variance_at_theta_on_their_curves(theta):
    """slope = mean, curvature = variance, read off the picture: the dots sit on σ and σ(1 − σ)."""
    traces = ch1.draw_bernoulli(theta)
    sigma, curvature, mark_mean, mark_var = traces[3], traces[4], traces[7], traces[8]
    s = ef.sigmoid(theta)
    assert list(mark_mean.x) == list(mark_var.x) == [theta]
    assert mark_mean.y[0] == pytest.approx(s) and mark_var.y[0] == pytest.approx(s * (1 - s))
    assert mark_mean.y[0] == pytest.approx(np.interp(theta, sigma.x, sigma.y), abs=1e-3)
    assert mark_var.y[0] == pytest.approx(np.interp(theta, curvature.x, curvature.y), abs=1e-3)
    assert mark_mean.color == sigma.color and mark_var.color == curvature.color
    assert traces[6].x == theta  # the vertical line at θ


@pytest.mark.parametrize("params, text", [
    ({"theta": 0.0}, "θ = 0: slope of A = σ(θ) = 0.500 (mean of Y₁), curvature σ(1 − σ) = 0.250 (its variance)"),
    ({"theta": 2}, "σ(θ) = 0.881"),
    ({"theta": -2.0}, "curvature σ(1 − σ) = 0.105"),
])
def test_announce_bernoulli_explorer(params, text):
    assert text in ch1.announce_bernoulli_explorer(params)


@pytest.mark.parametrize("bad", [{}, {"theta": "x"}, None])
def test_announce_bernoulli_refuses_bad_params(bad):
    with pytest.raises(ValueError, match="theta"):
        ch1.announce_bernoulli_explorer(bad)


def test_hessian_state_and_traces():
    s = ch2.hessian_state(0.0, 0.0)
    np.testing.assert_allclose(s["p"], [1 / 3] * 3)
    np.testing.assert_allclose(s["eig"], [0, 1 / 3, 1 / 3], atol=1e-12)
    far = ch2.hessian_state(6.0, 6.0)
    assert 0.49 < far["eig"][-1] < 0.5  # approached, not reached, for three classes
    kinds = [t.kind for t in ch2.draw_hessian(1.0, -2.0)]
    assert kinds == ["bars", "heatmap", "bars", "hline"]
    fig = ch2.hessian_explorer()
    assert len(list(fig.positions())) == len(ch2.GRID) ** 2


@pytest.mark.parametrize("params, text", [
    ({"o1": 0, "o2": 0}, "o = (0, 0, 0): p = (0.33, 0.33, 0.33), largest eigenvalue of H 0.333, bound 0.5"),
    ({"o1": 6.0, "o2": 6.0}, "largest eigenvalue of H 0.499"),
    ({"o1": -6, "o2": 0}, "o = (−6, 0, 0): p = (0.00, 0.50, 0.50)"),
])
def test_announce_hessian_explorer(params, text):
    assert text in ch2.announce_hessian_explorer(params)


@pytest.mark.parametrize("bad", [{}, {"o1": 1}, {"o1": "x", "o2": 0}, None])
def test_announce_refuses_bad_params(bad):
    with pytest.raises(ValueError, match="o1"):
        ch2.announce_hessian_explorer(bad)


def test_error_figure_draws_the_curves_for_the_screen():
    import matplotlib.pyplot as plt
    from softmaxbook.interactive import ScreenFigure

    o, label = np.log([2.0, 3.0, 5.0]), np.array([0.0, 1.0, 0.0])
    fig, d = ch2.errors(o, label)
    try:
        assert isinstance(fig, ScreenFigure) and fig.number in plt.get_fignums()  # open: plt.show() shows it
        traces = fig.description.frame(())
        np.testing.assert_allclose(traces[0].y, d["fd"])
        np.testing.assert_allclose(traces[2].y, d["steps"] ** 2 / 12)
        np.testing.assert_allclose(traces[4].y, d["mc"])
        assert traces[6].label == f"fit: slope {d['slope']:.2f}".replace("-", "−")
        panels = fig.description.payload()["panels"]
        assert [t[1] for t in panels[0]["yticks"]] == ["10⁻¹¹", "10⁻⁹", "10⁻⁷", "10⁻⁵", "10⁻³", "10⁻¹"]
    finally:
        plt.close(fig)


def test_error_curves_show_a_best_step_and_a_half_power_law():
    o, label = np.log([2.0, 3.0, 5.0]), np.array([0.0, 1.0, 0.0])
    steps = np.geomspace(1e-7, 1e-1, 13)
    d = ch2.error_curves(o, label, steps, [100, 1000, 10_000, 100_000], repeats=10, seed=1)
    k = int(np.argmin(d["fd"]))
    assert 0 < k < len(steps) - 1  # rounding wins at small h, truncation at large h
    assert d["best_step"] == steps[k] and 1e-5 < d["best_step"] < 1e-2
    assert -0.6 < d["slope"] < -0.4
    H = ef.diag_minus_outer(ef.softmax(o))
    assert d["fd"][k] < 1e-7 * np.abs(H).max() * 10
