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
    assert text == ("λ = 4 (T = 1/λ = 0.25): band width (log 3)/λ = 0.275; "
                    "at t = 1, λ⁻¹LSE − max = 0.00899 and softmax(λx)₁ = 0.965")
    excess = math.log(math.exp(4) + 2) / 4 - 1
    assert f"{excess:.3g}" in text and f"{math.exp(4) / (math.exp(4) + 2):.3g}" in text
    assert "λ⁻¹LSE − max = 1.41×10⁻⁸" in ch4.announce_lse_lambda({"lam": 16.0})  # typeset, not 1.41e-08
    assert f"{math.log1p(2 * math.exp(-16)) / 16:.3g}" == "1.41e-08"


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_announce_rejects_non_positive_lambda(bad):
    with pytest.raises(ValueError, match="lambda must be a positive, finite number"):
        ch4.announce_lse_lambda({"lam": bad})


def test_interactive_figure_has_one_frame_per_lambda():
    fig = ch4.lse_lambda()
    assert len(list(fig.positions())) == len(ch4.LAMBDAS)
    last = fig.frame([len(ch4.LAMBDAS) - 1])
    weight = [t for t in last if t.label == "softmax(λx)₁"][0]
    assert weight.y[0] < 1e-6 and weight.y[-1] > 1 - 1e-6
    # the readout's numbers at t = 1 are marked on their curves
    marks = [t for t in fig.frame([0]) if t.kind == "points"]
    c = ch4.lse_lambda_curves(ch4.LAMBDAS[0], np.array([1.0]))
    assert [list(m.x) for m in marks] == [[1.0], [1.0]]
    assert marks[0].y[0] == pytest.approx(c["smooth_max"][0]) and marks[1].y[0] == pytest.approx(c["weight"][0])


def test_static_gap_figure_draws_lse_above_max():
    import matplotlib
    import matplotlib.pyplot as plt
    matplotlib.use("Agg")
    fig = ch4.lse_gap()
    assert fig.number not in plt.get_fignums()  # closed: shown once, as the cell's result
    lse_line, max_line, mark, gap, asymptote, log2 = fig.description.frame(())
    x, y = lse_line.x, lse_line.y
    assert np.all(y > np.maximum(x, 0)) and list(max_line.y) == list(np.maximum(x, 0))
    assert y[np.argmin(np.abs(x))] == pytest.approx(math.log(2)) == mark.y[0]
    np.testing.assert_allclose(gap.y, y - np.maximum(x, 0), atol=1e-12)
    assert np.all(gap.y <= asymptote.y) and log2.y == pytest.approx(math.log(2))
    assert fig.axes[1].get_yscale() == "log" and len(fig.axes[0].lines) == 3  # the matplotlib view draws the same


def test_gumbel_error_figure_draws_the_running_errors_and_standard_errors():
    import matplotlib
    matplotlib.use("Agg")
    from softmaxbook import gumbel

    fig = ch4.gumbel_errors()
    r = gumbel.running_errors([1.0, 0.0, -1.0], ch4.GUMBEL_SIZES, seed=0)
    err, dots, se, err2, dots2, se2 = fig.description.frame(())
    np.testing.assert_array_equal(err.x, ch4.GUMBEL_SIZES)
    np.testing.assert_allclose(err.y, r["max_error"])
    assert list(dots.y) == list(err.y) and dots.color == err.color
    np.testing.assert_allclose(se.y * np.sqrt(ch4.GUMBEL_SIZES), math.pi / math.sqrt(6))
    np.testing.assert_allclose(err2.y, r["softmax_error"])
    assert err2.panel == 1 and ch4.GUMBEL_SIZES[0] == 10 and ch4.GUMBEL_SIZES[-1] == 10**6
    # one error scale for both panels (as sharey), covering every value drawn
    lo, hi = fig.description.payload()["panels"][0]["ylim"]
    assert fig.description.payload()["panels"][1]["ylim"] == [lo, hi]
    assert all(lo <= v <= hi for t in (err, se, err2, se2) for v in t.y)
