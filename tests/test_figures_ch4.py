"""Chapter 4's figure module: what it computes and announces (softmaxbook.figures.ch4)."""

import math

import numpy as np
import pytest

from softmaxbook.figures import ch4


def test_curves_stay_inside_their_bands_and_touch_the_edge_at_the_tie():
    for lam in (0.25, 1.0, 64.0):
        c = ch4.lse_lambda_curves(lam)
        assert np.all(c["smooth_max"] > c["max"] - 1e-12)
        assert np.all(c["smooth_max"] <= c["max"] + c["width"] + 1e-12)
        assert np.all(c["soft_min"] >= c["min"] - c["width"] - 1e-12)
        tie = int(np.argmin(np.abs(ch4.T_GRID)))
        assert c["smooth_max"][tie] == pytest.approx(math.log(3) / lam, rel=1e-12)
        assert c["weight"][tie] == pytest.approx(1 / 3, rel=1e-12)


def test_announce_gives_band_width_excess_and_weight():
    text = ch4.announce_lse_lambda({"lam": 4.0})
    assert text == "λ = 4: band width (log 3)/λ = 0.275; at t = 1, λ⁻¹LSE − max = 0.00899 and softmax(λx)₁ = 0.965"
    excess = math.log(math.exp(4) + 2) / 4 - 1
    assert f"{excess:.3g}" in text


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_announce_rejects_non_positive_lambda(bad):
    with pytest.raises(ValueError, match="λ must be"):
        ch4.announce_lse_lambda({"lam": bad})


def test_interactive_figure_has_one_frame_per_lambda():
    fig = ch4.lse_lambda()
    assert len(list(fig.positions())) == len(ch4.LAMBDAS)
    last = fig.frame([len(ch4.LAMBDAS) - 1])
    weight = [t for t in last if t.label == "softmax(λx)₁"][0]
    assert weight.y[0] < 1e-6 and weight.y[-1] > 1 - 1e-6


def test_static_gap_figure_draws_lse_above_max():
    import matplotlib
    matplotlib.use("Agg")
    fig = ch4.lse_gap()
    left = fig.axes[0].lines[0]
    x, y = left.get_xdata(), left.get_ydata()
    assert np.all(y > np.maximum(x, 0))
    assert y[np.argmin(np.abs(x))] == pytest.approx(math.log(2))


def test_gumbel_error_figure_draws_the_running_errors_and_standard_errors():
    import matplotlib
    matplotlib.use("Agg")
    from softmaxbook import gumbel

    fig = ch4.gumbel_errors()
    r = gumbel.running_errors([1.0, 0.0, -1.0], ch4.GUMBEL_SIZES, seed=0)
    err, se = fig.axes[0].lines
    np.testing.assert_array_equal(err.get_xdata(), ch4.GUMBEL_SIZES)
    np.testing.assert_allclose(err.get_ydata(), r["max_error"])
    np.testing.assert_allclose(se.get_ydata() * np.sqrt(ch4.GUMBEL_SIZES), math.pi / math.sqrt(6))
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), r["softmax_error"])
    assert ch4.GUMBEL_SIZES[0] == 10 and ch4.GUMBEL_SIZES[-1] == 10**6
