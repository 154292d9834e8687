"""The interactive figures of the connections (entropy duality on the simplex, the race):
the numbers in their frames, not their pixels."""

import json
import math
import re

import numpy as np
import pytest

from softmaxbook import duality, regression
from softmaxbook.figures import connections as cx


@pytest.fixture(scope="module")
def simplex():
    return cx.simplex_figure()


@pytest.fixture(scope="module")
def race():
    return cx.race_figure()


def _payload(fig):
    m = re.search(r'<script type="application/json" class="kfig-data">(.*?)</script>', fig.html(), re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def _stored(payload, flat, i):
    return dict(payload["traces"][i]["static"]) | (payload["frames"][flat][i] or {})


def test_simplex_figure_frames_hold_the_maximiser_and_the_value(simplex):
    payload = _payload(simplex)
    assert len(payload["frames"]) == len(cx.SIMPLEX_LAMS) * len(cx.SIMPLEX_X2) == 63
    labels = [t["label"] for t in payload["traces"]]
    i_star, i_val = labels.index("maximiser softmax(λx)"), 11
    for flat, idx in enumerate(simplex.positions()):
        v = simplex.values_at(idx)
        x = np.array([1.0, v["x2"], -1.0])
        e = np.exp(v["lam"] * x)
        p = e / e.sum()
        u, w = p @ np.array([[0, 0], [1, 0], [0.5, math.sqrt(3) / 2]])
        dot = _stored(payload, flat, i_star)
        np.testing.assert_allclose([dot["x"][0], dot["y"][0]], [u, w], rtol=1e-3, atol=1e-4)
        val = _stored(payload, flat, i_val)
        lse = math.log(np.exp(v["lam"] * x).sum()) / v["lam"]
        assert val["x"] == [pytest.approx(v["lam"], rel=1e-3)] and val["y"] == [pytest.approx(lse, rel=1e-3)]


def test_simplex_value_curve_stays_inside_its_band(simplex):
    for idx in simplex.positions():
        traces = simplex.frame(idx)
        value, bound, hmax = traces[8], traces[9], traces[10]
        assert np.all(value.y >= hmax.y - 1e-12) and np.all(value.y <= bound.y + 1e-12)
        np.testing.assert_allclose(bound.y - hmax.y, math.log(3) / value.x)


def test_simplex_level_sets_are_drawn_and_the_innermost_surrounds_the_maximiser(simplex):
    idx = [3, 3]
    assert simplex.values_at(idx) == {"lam": 1.0, "x2": 0.0}
    traces = simplex.frame(idx)
    x = np.array([1.0, 0.0, -1.0])
    u, v, levels = duality.level_sets(x, 1.0, resolution=18)
    np.testing.assert_allclose(traces[1].x, np.round(u, 3), equal_nan=True)
    np.testing.assert_allclose(traces[1].y, np.round(v, 3), equal_nan=True)
    iu, iv, _ = duality.level_sets(x, 1.0, levels=levels[-1:], resolution=18)
    assert np.isnan(iu).sum() == 1  # one polyline ...
    assert iu[0] == pytest.approx(iu[-2]) and iv[0] == pytest.approx(iv[-2])  # ... and it is closed
    star = traces[4]
    assert np.nanmin(iu) < star.x[0] < np.nanmax(iu) and np.nanmin(iv) < star.y[0] < np.nanmax(iv)


def test_announce_simplex_numbers():
    text = cx.announce_simplex({"lam": 1.0, "x2": 0.0})
    assert "(0.665, 0.245, 0.090)" in text and "0.408 ≤ (log 3)/λ = 1.1" in text
    assert "entropy 0.832" in text
    big = cx.announce_simplex({"lam": 13.45434264, "x2": 1.5})
    assert "(0.001, 0.999, 0.000)" in big and "8.9×10⁻⁵ ≤ (log 3)/λ = 0.0817" in big  # at the corner of x2


def test_simplex_page_weight_is_bounded(simplex):
    assert len(simplex.html()) < 300_000


def test_race_frames_hold_the_loss_gaps(race):
    payload = _payload(race)
    assert len(payload["frames"]) == len(cx.RACE_SEPS) == 10
    for flat, idx in enumerate(race.positions()):
        sep = race.values_at(idx)["sep"]
        X, y = regression.make_dataset(50, sep, seed=0)
        gd = regression.gradient_descent(X, y, cx.RACE_ITERATIONS)[1]
        res = cx.race_results(sep)
        stored = _stored(payload, flat, 3)
        assert payload["traces"][3]["label"] == "gradient descent"
        np.testing.assert_allclose(stored["y"], np.maximum(gd - res["optimum"], 1e-15), rtol=2e-3)
        newton = np.array(_stored(payload, flat, 5)["y"])
        assert newton[0] == pytest.approx(math.log(3) - res["optimum"], rel=1e-3)
        assert newton[12] == pytest.approx(1e-15)  # Newton is at the rounding floor long before 12 iterations


def test_announce_race_numbers():
    text = cx.announce_race({"sep": 2.0})
    assert text.startswith("iterations to ℓ* + 10⁻⁶:")
    assert "Newton 6" in text and "gradient descent > 60 (gap 3×10⁻³)" in text and "Böhning > 60 (gap 2×10⁻³)" in text
    easy = cx.announce_race({"sep": 0.5})
    assert "gradient descent 13" in easy and "Böhning 10" in easy and "Newton 3" in easy


def test_both_figures_render_with_matplotlib(simplex, race):
    import matplotlib.pyplot as plt

    for fig in (simplex, race):
        f = fig.figure()
        assert len(f.axes) == 2
        plt.close(f)
