"""The interactive-figure mechanism: one description, two views that draw the same data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from softmaxbook import interactive as ia


def _draw(lam, shift):
    x = np.linspace(-2.0, 2.0, 9)
    return [
        ia.Line(x, np.log1p(np.exp(-lam * np.abs(x))) / lam + shift, label="gap"),
        ia.Points([shift], [lam], label="marker"),
        ia.HLine(np.log(2) / lam),
        ia.Text(0.05, 0.9, f"λ = {lam:.2f}"),
    ]


@pytest.fixture(scope="module")
def fig():
    return ia.Figure(
        _draw,
        sliders=[ia.Slider("lam", np.geomspace(0.5, 8.0, 5), label="λ"), ia.Slider("shift", [0.0, 1.0, 2.0])],
        axes=[ia.Axes(xlabel="d", ylabel="gap")],
        caption="Test figure.", alt="a test figure",
    )


def _payload_from_html(html: str) -> dict:
    m = re.search(r'<script type="application/json" class="kfig-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_embedded_frames_equal_what_the_draw_function_returns(fig):
    """Every slider position: the page's precomputed data = draw(**values), to DIGITS digits."""
    payload = _payload_from_html(fig.html())
    assert len(payload["frames"]) == 5 * 3
    for flat, idx in enumerate(fig.positions()):
        values = fig.values_at(idx)
        fresh = _draw(**values)
        for i, trace in enumerate(fresh):
            stored = dict(payload["traces"][i]["static"]) | (payload["frames"][flat][i] or {})
            for name in trace.arrays:
                np.testing.assert_allclose(stored[name], np.atleast_1d(getattr(trace, name)), rtol=1e-3)
            for name in trace.texts:
                assert stored[name] == getattr(trace, name)


def test_unchanging_fields_are_stored_once(fig):
    payload = fig.payload()
    line = payload["traces"][0]
    assert "x" in line["static"] and "y" not in line["static"]
    assert all("x" not in (f[0] or {}) for f in payload["frames"])
    assert payload["traces"][3]["kind"] == "text" and all(f[3] for f in payload["frames"])


def test_slider_defaults_and_grid_order(fig):
    assert [s["index"] for s in fig.payload()["sliders"]] == [2, 1]
    # row-major: first slider slowest
    assert fig.values_at(list(fig.positions())[4]) == {"lam": 1.0, "shift": 1.0}
    assert fig.frame((1, 1))[1].y[0] == pytest.approx(1.0)


def test_axis_limits_cover_every_frame_and_ticks_lie_inside(fig):
    panel = fig.payload()["panels"][0]
    lo, hi = panel["ylim"]
    for traces in fig._frames:
        assert lo <= np.nanmin(traces[0].y) and np.nanmax(traces[0].y) <= hi
    assert all(lo <= t <= hi for t, _ in panel["yticks"]) and len(panel["yticks"]) >= 3


def test_html_is_self_contained_and_safe(fig):
    html = fig.html()
    assert "window.softmaxbookFigure" in html and 'aria-label="a test figure"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "<figcaption>Test figure.</figcaption>" in html


def test_script_end_tag_in_a_label_cannot_break_out():
    f = ia.Figure(lambda a: [ia.Text(0, 0, "</script><b>x")], [ia.Slider("a", [0, 1])], alt="x")
    assert f.html().count("</script>") == 2


def test_matplotlib_view_draws_the_same_traces(fig):
    mfig = fig.figure((4, 2))
    line = mfig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), fig.frame((4, 2))[0].y)
    assert mfig.axes[0].get_xlabel() == "d" and mfig.axes[0].get_ylabel() == "gap"


def test_live_widget_has_one_control_per_slider_and_the_readout(fig):
    w = fig.widget()
    sliders = [c for c in w.children if type(c).__name__ == "SelectionSlider"]
    assert [s.description for s in sliders] == ["λ", "shift"]
    readout = [c for c in w.children if type(c).__name__ == "HTML"][0]
    assert readout.value == fig.announcement((2, 1)) == "λ = 2, shift = 1: λ = 2.00"
    sliders[0].value = 0  # redraws without error, and the readout follows
    assert readout.value == fig.announcement((0, 1)) == "λ = 0.5, shift = 1: λ = 0.50"
    bundle = fig._repr_mimebundle_()
    assert {"text/html", "application/vnd.jupyter.widget-view+json"} <= set(bundle)


# --------------------------------------------------------------------------- static figures
def _static():
    return ia.static_figure([ia.Line([1, 10, 100], [3, 2, 1], label="falling"), ia.Points([10], [2]),
                             ia.Line([1, 100], [1, 1], panel=1, label="flat")],
                            [ia.Axes(xlabel="n", xscale="log"), ia.Axes(title="second")], alt="two panels")


def test_a_static_figure_is_a_matplotlib_figure_of_its_description():
    import matplotlib.pyplot as plt

    fig = _static()
    try:
        assert isinstance(fig, plt.Figure) and isinstance(fig, ia.ScreenFigure)
        assert fig in [plt.figure(n) for n in plt.get_fignums()]  # plt.show() shows it
        left, right = fig.axes
        assert [list(l.get_ydata()) for l in left.lines] == [[3, 2, 1], [2]] and left.get_xscale() == "log"
        assert right.get_title() == "second" and fig._suptitle is None  # no slider values to show
        desc = fig.description
        assert desc.sliders == [] and list(desc.positions()) == [()] and desc.frame(()) == desc.frame([])
    finally:
        plt.close(fig)


def test_a_static_figure_displays_as_svg_with_real_text_where_html_is_shown():
    from IPython.core.formatters import DisplayFormatter

    fig = _static()
    data, _ = DisplayFormatter().format(fig)  # what IPython sends for plt.show() or a cell's result
    html = data["text/html"]
    assert html.startswith('<figure class="kfig') and 'aria-label="two panels"' in html
    assert '<div class="kfig-controls">' not in html  # no sliders: no controls, readout or live region
    payload = _payload_from_html(html)
    assert payload["sliders"] == [] and len(payload["frames"]) == 1
    assert [t["label"] for t in payload["traces"]] == ["falling", None, "flat"]
    # a description without sliders displays itself the same way, without a live widget
    bundle = fig.description._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"} and bundle["text/plain"] == "<figure: two panels>"


# --------------------------------------------------------------------------- typeset numbers
@pytest.mark.parametrize("value, spec, text", [
    (-0.0001, ".3f", "0.000"), (-0.0, ".3f", "0.000"), (-0.5, ".3f", "−0.500"), (-6, "g", "−6"),
    (2.5e-5, ".3g", "2.5×10⁻⁵"), (3e-3, ".0e", "3×10⁻³"), (1.5e12, ".2g", "1.5×10¹²"), (0.000123, ".3g", "0.000123"),
    (-1e-7, ".1e", "−1.0×10⁻⁷"), (12.0, ".3g", "12"),
])
def test_numbers_are_typeset_like_the_prose(value, spec, text):
    assert ia.number(value, spec) == text


def test_heatmap_cells_never_show_a_signed_zero():
    hm = ia.Heatmap([[-1e-9, -0.25], [0.0004, -0.0004]], fmt="{:.3f}")
    assert hm.data()["text"] == ["0.000", "−0.250", "0.000", "0.000"]


def test_slider_units_agree_with_the_value():
    s = ia.Slider("n", [1, 2, 3], fmt="{:.0f}", unit=("trit", "trits"))
    assert [s.text(v) for v in s.values] == ["1 trit", "2 trits", "3 trits"]
    assert ia.Slider("h", [-2, 0], fmt="{:.1f}").text(-2) == "−2.0"
    with pytest.raises(ValueError, match="singular, plural"):
        ia.Slider("n", [1, 2], unit=("trit",))


def test_text_alignment_is_checked():
    assert ia.Text(1, 0, "right", align="right").style()["align"] == "right"
    with pytest.raises(ValueError, match="align"):
        ia.Text(0, 0, "x", align="top")


def test_decades_label_powers_of_ten():
    assert ia.decades(-15, 0, 3) == ([1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1.0],
                                     ["10⁻¹⁵", "10⁻¹²", "10⁻⁹", "10⁻⁶", "10⁻³", "1"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(alt=" "), "alt text is required"),
        (dict(sliders=[ia.Slider("a", range(60)), ia.Slider("b", range(60))]), "at most"),
    ],
)
def test_bad_descriptions_get_clear_errors(kwargs, message):
    args = dict(draw=lambda a, b=0: [ia.Line([0, 1], [a, b])], sliders=[ia.Slider("a", [0, 1])], alt="x")
    with pytest.raises(ValueError, match=message):
        ia.Figure(**(args | kwargs))


def test_tex_in_labels_is_refused_since_svg_cannot_typeset_it():
    with pytest.raises(ValueError, match="Unicode"):
        ia.Axes(xlabel="$x$")
    with pytest.raises(ValueError, match="Unicode"):
        ia.Line([0], [0], label=r"$\lambda$")


def test_draw_functions_must_return_the_same_traces_everywhere():
    def draw(a):
        return [ia.Line([0, 1], [0, a])] if a < 1 else [ia.Points([0], [a])]

    with pytest.raises(ValueError, match="same traces"):
        ia.Figure(draw, [ia.Slider("a", [0, 1])], alt="x")


def test_a_failing_draw_names_the_slider_values():
    with pytest.raises(RuntimeError, match=r"draw\(\{'a': 1.0\}\)"):
        ia.Figure(lambda a: [ia.Line([0], [1 / (1 - a)])] if a else [ia.Line([0], [0])],
                  [ia.Slider("a", [0, 1])], alt="x")


def test_log_ticks_read_as_numbers():
    ticks = ia._ticks([0.9, 30.0], "log", None, None)
    assert [label for _, label in ticks][:3] == ["1", "2", "5"]
    assert ia._log_label(1e-6) == "10⁻⁶"
    # one style per axis: when a decade falls outside the everyday range, all are powers of ten
    assert [label for _, label in ia._ticks([5e-5, 1.5], "log", None, None)] == ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "1"]
    assert [label for _, label in ia._ticks([0.05, 200.0], "log", None, None)] == ["0.1", "1", "10", "100"]


def test_rules_span_the_panel_and_only_widen_their_own_axis():
    h, v = ia.HLine(0.5, label="bound"), ia.VLine(2.0, dash=False)
    assert h.data() == {"y": [0.5]} and v.data() == {"x": [2.0]}
    assert h.style()["dash"] is True and v.style()["dash"] is False
    (hx, hy), (vx, vy) = h.extent(), v.extent()
    assert hx.size == 0 and list(hy) == [0.5] and list(vx) == [2.0] and vy.size == 0
    fig = ia.Figure(lambda a: [ia.Line([0, 1], [0, a]), ia.VLine(3.0)], [ia.Slider("a", [1, 2])], alt="x")
    assert fig.payload()["panels"][0]["xlim"][1] > 3.0  # the vertical rule is inside the x range


# --------------------------------------------------------------------------- screen readers
def test_default_announcement_names_the_slider_values_and_the_notes(fig):
    payload = fig.payload()
    assert len(payload["announce"]) == len(payload["frames"]) == 15
    assert fig.announcement((4, 2)) == "λ = 8, shift = 2: λ = 8.00"
    assert payload["announce"][fig._flat((4, 2))] == fig.announcement((4, 2))


def test_default_announcement_folds_the_spacing_of_notes():
    f = ia.Figure(lambda a: [ia.Text(0, 1, f"x  =\n{a:g},   y"), ia.Text(0, 0.5, "  ")], [ia.Slider("a", [1, 2])], alt="x")
    assert f.announcement((1,)) == "a = 2: x = 2, y"


def test_announce_function_gives_the_live_region_text_of_every_position():
    seen = []

    def announce(values):
        seen.append(values)
        return f"a = {values['a']:g}:   bound  {2 * values['a']:g}"

    f = ia.Figure(lambda a: [ia.Line([0, 1], [0, a])], [ia.Slider("a", [1, 2, 3])], alt="x", announce=announce)
    assert seen == [{"a": 1.0}, {"a": 2.0}, {"a": 3.0}]
    assert f.payload()["announce"] == ["a = 1: bound 2", "a = 2: bound 4", "a = 3: bound 6"]  # whitespace folded


@pytest.mark.parametrize(
    "announce, error, message",
    [
        ("λ = 1", TypeError, "function of the slider values"),
        (lambda v: 3, TypeError, r"announce\(\{'a': 0.0\}\) must return non-empty text"),
        (lambda v: " ", TypeError, "non-empty text"),
        (lambda v: 1 / v["a"], RuntimeError, r"announce\(\{'a': 0.0\}\) failed"),
    ],
)
def test_bad_announce_functions_get_clear_errors(announce, error, message):
    with pytest.raises(error, match=message):
        ia.Figure(lambda a: [ia.Line([0, 1], [0, a])], [ia.Slider("a", [0, 1])], alt="x", announce=announce)


def test_slider_values_carry_their_unit():
    s = ia.Slider("N", [10, 100], label="samples N", fmt="{:.0f}", unit="samples")
    assert s.text(100.0) == "100 samples"
    f = ia.Figure(lambda N: [ia.Line([0, 1], [0, N])], [s], alt="x")
    assert f.payload()["sliders"][0]["text"] == ["10 samples", "100 samples"]
    assert f.announcement((0,)) == "samples N = 10 samples"


def test_a_captioned_figure_is_named_by_its_caption_and_the_drawing_by_the_alt_text(fig):
    html = fig.html()
    opening = html[: html.index(">") + 1]
    assert "role=" not in opening and "aria-label" not in opening  # name: the figcaption
    assert 'role="img" aria-label="a test figure"' in html
    assert html.endswith("<figcaption>Test figure.</figcaption></figure>")
    bare = ia.Figure(lambda a: [ia.Line([0, 1], [0, a])], [ia.Slider("a", [0, 1])], alt="plain")
    assert bare.html().startswith('<figure class="kfig') and 'aria-label="plain">' in bare.html()


def test_text_is_drawn_in_the_text_colour_and_series_in_the_palette(fig):
    traces = fig.payload()["traces"]
    assert [t["color"] for t in traces] == [ia.PALETTE[0], ia.PALETTE[1], ia.PALETTE[2], None]


# --------------------------------------------------------------------------- trace kinds
KINDS = [ia.Line, ia.Points, ia.Band, ia.Bars, ia.Heatmap, ia.HLine, ia.VLine, ia.Text]


def test_every_trace_kind_draws_itself_in_matplotlib_and_in_the_page_script():
    script = ia._script()
    table = script[script.index("var KINDS = {"):]
    for cls in KINDS:
        assert "draw_mpl" in cls.__dict__ or any("draw_mpl" in b.__dict__ for b in cls.__mro__[1:-2]), cls
        assert f"\n    {cls.kind}: " in table, f"kfig.js has no KINDS entry for {cls.kind!r}"
    assert "kind ===" not in script and 'kind === "' not in script  # one table, no if-chains


def test_matplotlib_view_draws_every_kind():
    def draw(a):
        return [ia.Line([0, 1], [0, a], label="l"), ia.Points([0.5], [a]), ia.Band([0, 1], [0, 0], [a, a]),
                ia.Bars([0, 1], [a, 1]), ia.HLine(a), ia.VLine(0.5), ia.Text(0.1, 0.9, f"a = {a}"),
                ia.Heatmap([[a, 0], [0, -a]], panel=1)]

    f = ia.Figure(draw, [ia.Slider("a", [0.5, 1.0])], [ia.Axes(), ia.Axes()], alt="x")
    ax, hm = f.figure((1,)).axes[:2]
    assert len(ax.lines) == 4  # line, points, two rules
    assert len(ax.collections) == 1 and len(ax.patches) == 2  # band, two bars
    assert [t.get_text() for t in ax.texts] == ["a = 1.0"]
    assert len(hm.images) == 1 and [t.get_text() for t in hm.texts] == ["1.000", "0.000", "0.000", "−1.000"]
    assert f.payload()["panels"][1]["yflip"] and not f.payload()["panels"][0]["yflip"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ia.Line([0, 1], [0, 1, 2]), "Line arrays differ in length: x 2, y 3"),
        (lambda: ia.Band([0, 1], [0, 1], [0]), "Band arrays differ in length: x 2, y1 2, y2 1"),
        (lambda: ia.Bars([0], [1, 2]), "Bars arrays differ in length: x 1, heights 2"),
        (lambda: ia.Points([[0, 1]], [[0, 1]]), r"Points x must be one-dimensional, got shape \(1, 2\)"),
    ],
)
def test_vector_traces_share_one_length_check(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("module, build, announce", [
    ("ch1", "bernoulli_explorer", "announce_bernoulli_explorer"),
    ("ch2", "hessian_explorer", "announce_hessian_explorer"),
    ("ch3", "block_rates", "announce_block_rates"),
    ("ch4", "lse_lambda", "announce_lse_lambda"),
    ("connections", "simplex_figure", "announce_simplex"),
    ("connections", "race_figure", "announce_race"),
])
def test_chapter_figures_announce_their_key_numbers(module, build, announce):
    """Each chapter figure's live region reads its own announce function at every position."""
    import importlib
    import itertools

    mod = importlib.import_module(f"softmaxbook.figures.{module}")
    fig = getattr(mod, build)()
    grids = [range(len(s.values)) for s in fig.sliders]
    for idx in itertools.product(*grids):
        said = getattr(mod, announce)(fig.values_at(idx))
        assert fig.announcement(idx) == " ".join(said.split())


def test_the_page_script_knows_the_palette_in_its_order():
    """kfig.js draws PALETTE's k-th colour with var(--kfig-ck): the two lists must agree."""
    script = ia._script()
    listed = re.search(r"var PALETTE = \[(.*?)\];", script).group(1)
    assert re.findall(r'"(#[0-9A-F]{6})"', listed) == list(ia.PALETTE)
    for k, colour in enumerate(ia.PALETTE):
        assert f"--kfig-c{k}:" in script, f"no CSS custom property for {ia.PALETTE._fields[k]}"


def test_default_colours_have_3_to_1_contrast_on_the_light_page():
    """WCAG 1.4.11: a line drawn in a default colour stands out from the white plot."""
    from browser import contrast   # the browser tests' WCAG ratio (tests/browser.py)

    ratios = [contrast([int(c[i:i + 2], 16) for i in (1, 3, 5)], (255, 255, 255)) for c in ia.DEFAULT_CYCLE]
    assert min(ratios) >= 3.0, dict(zip(ia.DEFAULT_CYCLE, ratios))
    assert set(ia.DEFAULT_CYCLE) <= set(ia.PALETTE)
    grey = contrast([int(ia.PALETTE.grey[i:i + 2], 16) for i in (1, 3, 5)], (255, 255, 255))
    assert grey >= 4.5  # the neutral grey can carry text too


def test_the_examples_in_the_docstrings_hold():
    import doctest

    assert doctest.testmod(ia).failed == 0
