"""The built website in a real browser (headless Chromium via Playwright), offline.

For every chapter and exercise page: it loads with no console error, no failed request
and no request to another host; MathJax typesets every equation; every kernel-free
slider, operated with the keyboard (arrows, Page Up/Down, Home, End) and by a click on
its track, redraws the figure with exactly the values precomputed for its position and
says so (aria-valuetext, the polite live region, the "Data" table); the solution toggles
open; axe-core finds no accessibility violation of any impact.

Interactive figures are also checked as readers see them: text at least 12 CSS px on a
1280 px page and 11 px at 390 px, panels stacked and nothing scrolling sideways on a
phone, 4.5:1 contrast of text and 3:1 of lines in light and dark mode, no motion when the
reader asks for less. A full-page screenshot of each page and screenshots of each figure
(1280 px light, 390 px light, 1280 px dark) are saved next to the site
(``_build/screenshots``).
"""

from __future__ import annotations

import json
import math
import re

import pytest

from browser import AXE, chromium, contrast, open_page, rgb, serve
from conftest import ROOT, toc_files

pytestmark = pytest.mark.browser

PAGES = [f for f in toc_files() if f.startswith(("chapters/", "exercises/"))]
CHAPTERS = [f for f in PAGES if f.startswith("chapters/")]
CORE = [f for f in CHAPTERS if not f.endswith("_further")]  # without the "Going further" pages
ALL = toc_files()  # with the home page

#: Drawn coordinates must match the precomputed data to this fraction of the axis range.
TOLERANCE = 1e-3


@pytest.fixture(scope="session")
def base_url(site):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module", params=ALL)
def loaded(request, browser, base_url):
    """(name, page, watch): each page is opened once and every test below runs on it in turn
    (pytest groups the tests by this module-scoped parameter): load, math, sliders,
    solutions, accessibility."""
    name = request.param
    page, w = open_page(browser, f"{base_url}{name}.html")
    yield name, page, w
    page.close()


# --------------------------------------------------------------------------- loading
def test_page_loads_offline_without_errors(loaded, site):
    name, page, w = loaded
    shots = site.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / f"{name.replace('/', '__')}.png"), full_page=True)
    assert not w.problems(), "\n".join(w.problems())
    assert any(u.endswith(".html") for u in w.requests)
    # the theme's scripts ran (sidebar present) and the page has its one H1
    assert page.locator("article h1").count() == 1
    assert page.locator("nav.bd-docs-nav a").count() >= len(PAGES)
    # header icons are drawn by the theme's Font Awesome web fonts (fontawesome.js is left out)
    fonts = page.eval_on_selector_all(
        ".article-header-buttons i.fa-solid, .article-header-buttons i.fas, .article-header-buttons i.fab",
        "is => is.map(i => getComputedStyle(i, '::before').fontFamily + '|' + getComputedStyle(i, '::before').content)")
    assert fonts and all("Font Awesome" in f and not f.endswith("|none") for f in fonts), fonts


# --------------------------------------------------------------------------- math
TYPESET = """() => {
  const math = [...document.querySelectorAll('.math')];
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .cell_input').forEach(e => e.remove());
  return {
    math: math.length,
    typeset: math.filter(e => e.querySelector('mjx-container')).length,
    containers: document.querySelectorAll('mjx-container').length,
    errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
    raw: clone.textContent,
  };
}"""


def test_equations_are_typeset_by_mathjax(loaded):
    name, page, w = loaded
    info = page.evaluate(TYPESET)
    if name in CHAPTERS:
        assert info["math"] > 0, "a chapter without a single equation?"
    assert info["typeset"] == info["math"], f"{info['math'] - info['typeset']} equations left as raw TeX"
    assert info["containers"] >= info["math"]
    assert not info["errors"], f"TeX errors: {info['errors']}"
    for raw in ("$$", "\\(", "\\[", "\\begin{"):
        assert raw not in info["raw"], f"raw TeX {raw!r} left in the page text"
    assert any(u.endswith("mathjax/tex-mml-chtml.js") or "/mathjax/tex-mml-chtml.js?" in u
               for u in w.requests) or info["math"] == 0


# --------------------------------------------------------------------------- sliders
SNAPSHOT = """(root) => {
  const svg = root.querySelector('svg.kfig-svg');
  const P = JSON.parse(root.querySelector('script.kfig-data').textContent);
  const nums = s => s.trim().split(/\\s+/).filter(Boolean);
  const drawing = P.traces.map((t, i) => {
    const e = svg.querySelector('[data-trace="' + i + '"]');
    const sc = root.kfig.scale(t.panel);
    const X = v => sc.xinv(v), Y = v => sc.yinv(v);
    const a = (el, k) => Number(el.getAttribute(k));
    const r = {kind: t.kind, html: e ? e.outerHTML : null};
    if (!e) return r;
    if (t.kind === 'line' || t.kind === 'band') {
      const segs = [], tok = nums(e.getAttribute('d') || '');
      for (let k = 0; k < tok.length;) {
        if (tok[k] === 'M') { segs.push([]); k++; }
        else if (tok[k] === 'L' || tok[k] === 'Z') k++;
        else { segs[segs.length - 1].push([X(Number(tok[k])), Y(Number(tok[k + 1]))]); k += 2; }
      }
      r.segments = segs;
    } else if (t.kind === 'points') {
      r.points = [...e.querySelectorAll('circle')].map(c =>
        a(c, 'cx') === -99 ? null : [X(a(c, 'cx')), Y(a(c, 'cy'))]);
    } else if (t.kind === 'bars') {
      r.bars = [...e.querySelectorAll('rect')].map(b =>
        [X(a(b, 'x') + a(b, 'width') / 2), Y(a(b, 'y')), Y(a(b, 'y') + a(b, 'height'))]);
    } else if (t.kind === 'heatmap') {
      r.texts = [...e.querySelectorAll('text')].map(x => x.textContent);
      r.cells = e.querySelectorAll('rect').length;
    } else if (t.kind === 'hline') {
      r.value = a(e, 'y1') === -9 ? null : Y(a(e, 'y1'));
    } else if (t.kind === 'vline') {
      r.value = a(e, 'x1') === -9 ? null : X(a(e, 'x1'));
    } else if (t.kind === 'text') {
      r.text = e.textContent;  // wrapped lines: one tspan each, joined by single spaces
    }
    return r;
  });
  return {index: root.kfig.index.slice(), drawing: drawing,
          outputs: [...root.querySelectorAll('output')].map(o => o.textContent)};
}"""


def _valid(v, scale):
    return v is not None and math.isfinite(v) and (scale != "log" or v > 0)


def _close(a, b, lim, scale):
    if scale == "log":
        a, b, lim = math.log10(a), math.log10(b), [math.log10(v) for v in lim]
    return abs(a - b) <= TOLERANCE * abs(lim[1] - lim[0]) + 1e-12


def _frame_data(payload, idx, i):
    sizes = [len(s["values"]) for s in payload["sliders"]]
    flat = 0
    for size, g in zip(sizes, idx):
        flat = flat * size + g
    data = dict(payload["traces"][i]["static"] or {})
    data.update(payload["frames"][flat][i] or {})
    return data


def _check_trace(trace, panel, data, drawn, where):
    """Assert that one drawn trace shows ``data`` (the precomputed frame)."""
    kind, xs, ys = trace["kind"], panel["xscale"], panel["yscale"]

    def pt(got, x, y, what):
        assert _close(got[0], x, panel["xlim"], xs) and _close(got[1], y, panel["ylim"], ys), (
            f"{where}: {what} drawn at {got}, precomputed ({x}, {y})")

    if kind == "line":
        runs, run = [], []
        for x, y in zip(data["x"], data["y"]):
            if _valid(x, xs) and _valid(y, ys):
                run.append((x, y))
            elif run:
                runs.append(run)
                run = []
        runs += [run] if run else []
        assert len(drawn["segments"]) == len(runs), f"{where}: {len(drawn['segments'])} pieces, expected {len(runs)}"
        for seg, run in zip(drawn["segments"], runs):
            assert len(seg) == len(run), f"{where}: {len(seg)} points drawn, expected {len(run)}"
            for got, (x, y) in zip(seg, run):
                pt(got, x, y, "line point")
    elif kind == "points":
        assert len(drawn["points"]) == len(data["x"])
        for got, x, y in zip(drawn["points"], data["x"], data["y"]):
            if _valid(x, xs) and _valid(y, ys):
                pt(got, x, y, "marker")
    elif kind == "band":
        keep = [j for j in range(len(data["x"]))
                if _valid(data["x"][j], xs) and _valid(data["y1"][j], ys) and _valid(data["y2"][j], ys)]
        expected = [(data["x"][j], data["y2"][j]) for j in keep] + [(data["x"][j], data["y1"][j]) for j in keep[::-1]]
        got = [p for seg in drawn["segments"] for p in seg]
        assert len(got) == len(expected), f"{where}: band outline has {len(got)} points, expected {len(expected)}"
        for g, (x, y) in zip(got, expected):
            pt(g, x, y, "band outline point")
    elif kind == "bars":
        assert len(drawn["bars"]) == len(data["x"])
        for (cx, top, bottom), x, h in zip(drawn["bars"], data["x"], data["heights"]):
            assert _close(cx, x, panel["xlim"], xs), f"{where}: bar at {cx}, precomputed {x}"
            if _valid(h, ys):
                assert _close(top, h, panel["ylim"], ys) or _close(bottom, h, panel["ylim"], ys), (
                    f"{where}: bar from {bottom} to {top}, precomputed height {h}")
    elif kind == "heatmap":
        assert drawn["texts"] == data["text"], f"{where}: cells {drawn['texts']} != {data['text']}"
        assert drawn["cells"] == len(data["z"])
    elif kind in ("hline", "vline"):
        v = data["y" if kind == "hline" else "x"][0]
        lim, scale = (panel["ylim"], ys) if kind == "hline" else (panel["xlim"], xs)
        if _valid(v, scale):
            assert drawn["value"] is not None and _close(drawn["value"], v, lim, scale), (
                f"{where}: {kind} at {drawn['value']}, precomputed {v}")
    elif kind == "text":
        want = " ".join(data["text"].split())
        assert drawn["text"] == want, f"{where}: text {drawn['text']!r} != {want!r}"
    else:
        pytest.fail(f"{where}: unknown trace kind {kind!r}")


def _check_drawing(payload, snap, idx, where):
    assert snap["index"] == idx, f"{where}: figure at {snap['index']}, slider moved to {idx}"
    for n, (s, g) in enumerate(zip(payload["sliders"], idx)):
        assert snap["outputs"][n] == s["text"][g], f"{where}: slider output shows {snap['outputs'][n]!r}"
    for i, (trace, drawn) in enumerate(zip(payload["traces"], snap["drawing"])):
        assert drawn["html"] is not None, f"{where}: trace {i} ({trace['kind']}) not drawn"
        _check_trace(trace, payload["panels"][trace["panel"]], _frame_data(payload, idx, i), drawn,
                     f"{where}, trace {i} ({trace['kind']})")


def _flat(payload, idx):
    flat = 0
    for spec, g in zip(payload["sliders"], idx):
        flat = flat * len(spec["values"]) + g
    return flat


def _press(page, fig, payload, idx, n, key, g, where):
    """Press ``key`` on slider ``n``; the figure must then show grid position ``g``."""
    page.keyboard.press(key)
    idx[n] = g
    snap = fig.evaluate(SNAPSHOT)
    _check_drawing(payload, snap, idx, f"{where} after {key}")
    return snap


def test_every_slider_redraws_the_precomputed_frame(loaded):
    name, page, w = loaded
    figures = page.locator("figure.kfig")
    if name in CORE:
        assert figures.count() >= 1, "every chapter has a kernel-free interactive figure"
    for f in range(figures.count()):
        fig = figures.nth(f)
        payload = json.loads(fig.locator("script.kfig-data").text_content())
        assert fig.get_attribute("id", timeout=1000).startswith("kfig-")
        assert fig.locator("svg.kfig-svg").count() == 1 and fig.locator("figcaption").count() == 1
        sliders = fig.locator("input[type=range].kfig-slider")
        assert sliders.count() == len(payload["sliders"])
        idx = [s["index"] for s in payload["sliders"]]
        snap = fig.evaluate(SNAPSHOT)
        _check_drawing(payload, snap, idx, f"figure {f} as loaded")
        for n, spec in enumerate(payload["sliders"]):
            slider = fig.locator(f'input.kfig-slider[data-name="{spec["name"]}"]')
            # named by its visible label (a screen reader says "λ (inverse temperature), slider")
            assert fig.get_by_role("slider", name=spec["label"], exact=True).count() == 1
            assert slider.evaluate("s => s.labels.length === 1 && s.labels[0].textContent") == spec["label"]
            slider.focus()
            changes, last = 0, len(spec["values"]) - 1
            for g in range(len(spec["values"])):
                before_idx, before = list(idx), snap
                where = f"figure {f}, slider {spec['name']} at {spec['text'][g]}"
                snap = _press(page, fig, payload, idx, n, "Home" if g == 0 else "ArrowRight", g, where)
                assert slider.get_attribute("aria-valuetext") == spec["text"][g], where
                moved = [_frame_data(payload, before_idx, i) != _frame_data(payload, idx, i)
                         for i in range(len(payload["traces"]))]
                if any(moved):
                    old = [d["html"] for d in before["drawing"]]
                    new = [d["html"] for d in snap["drawing"]]
                    assert old != new, f"{where}: the data changed but the drawing did not"
                    changes += 1
            assert changes > 0, f"figure {f}: moving slider {spec['name']!r} never changes the drawing"
            # the polite live region reads the sentence precomputed for this position
            fig.locator(".kfig-live[aria-live=polite]").wait_for(state="attached")
            page.wait_for_function(
                "([root, text]) => root.querySelector('.kfig-live').textContent === text",
                arg=[fig.element_handle(), payload["announce"][_flat(payload, idx)]], timeout=3000)
            # larger steps and the ends
            big = max(1, round(last / 10))
            where = f"figure {f}, slider {spec['name']}"
            _press(page, fig, payload, idx, n, "PageDown", max(0, last - big), where)
            _press(page, fig, payload, idx, n, "PageUp", last, where)
            _press(page, fig, payload, idx, n, "Home", 0, where)
            _press(page, fig, payload, idx, n, "PageUp", min(last, big), where)
            _press(page, fig, payload, idx, n, "End", last, where)
            _press(page, fig, payload, idx, n, "ArrowLeft", last - 1, where)
            # a visible focus ring (keyboard focus)
            ring = slider.evaluate("s => [s.matches(':focus-visible'), getComputedStyle(s).outlineStyle,"
                                   " parseFloat(getComputedStyle(s).outlineWidth), getComputedStyle(s).outlineColor,"
                                   " getComputedStyle(s.closest('figure')).backgroundColor]")
            assert ring[0] and ring[1] != "none" and ring[2] >= 2, f"{where}: no visible focus ring {ring}"
            assert contrast(rgb(ring[3]), rgb(ring[4])) >= 3, f"{where}: focus ring contrast {ring}"
            # a single click on the track (no dragging) jumps there (WCAG 2.5.7)
            box = slider.bounding_box()
            assert box["height"] >= 24 and box["width"] >= 24, f"{where}: target {box} under 24x24 px"
            thumb = 24
            for frac in (0.2, 0.8):
                page.mouse.click(box["x"] + thumb / 2 + frac * (box["width"] - thumb), box["y"] + box["height"] / 2)
                got = fig.evaluate("r => r.kfig.index.slice()")
                assert abs(got[n] - frac * last) <= 1.5, f"{where}: click at {frac:.0%} of the track gave {got[n]}"
                idx[n] = got[n]
                _check_drawing(payload, fig.evaluate(SNAPSHOT), idx, f"{where}, click at {frac:.0%}")
            # an `input` event alone (as a pointer drag fires them) redraws too
            slider.evaluate("(s) => { s.value = 0; s.dispatchEvent(new Event('input')); }")
            idx[n] = 0
            _check_drawing(payload, fig.evaluate(SNAPSHOT), idx, f"figure {f}, input event on {spec['name']}")
    assert not w.problems(), "\n".join(w.problems())


TABLES = """(root) => [...root.querySelectorAll('.kfig-tables > *')].map(e => e.tagName === 'P'
  ? {text: e.textContent}
  : {caption: e.querySelector('caption').textContent,
     head: [...e.querySelectorAll('thead th')].map(c => c.textContent),
     rows: [...e.querySelectorAll('tbody tr')].map(r => [...r.children].map(c => c.textContent))})"""


def _number(cell):
    return None if cell == "—" else float(cell.replace("−", "-"))


def _check_tables(payload, tables, idx, where):
    """The "Data" tables show every trace's numbers of the frame at ``idx``."""
    assert len(tables) == len(payload["traces"]), f"{where}: {len(tables)} tables for {len(payload['traces'])} traces"
    for i, (trace, table) in enumerate(zip(payload["traces"], tables)):
        data, at = _frame_data(payload, idx, i), f"{where}, trace {i} ({trace['kind']})"
        if trace["kind"] == "text":
            assert table == {"text": data["text"]}, at
            continue
        assert all(h.strip() for h in table["head"]), f"{at}: empty header cell {table['head']}"
        if trace["label"]:
            assert table["caption"].startswith(trace["label"]), at
        if trace["kind"] == "heatmap":
            assert [c for row in table["rows"] for c in row[1:]] == [t.replace("-", "−") for t in data["text"]], at
            continue
        fields = {"line": ("x", "y"), "points": ("x", "y"), "band": ("x", "y1", "y2"), "bars": ("x", "heights"),
                  "hline": ("y",), "vline": ("x",)}[trace["kind"]]
        expected = list(zip(*(data[k] for k in fields)))
        got = [tuple(_number(c) for c in row) for row in table["rows"]]
        assert got == [tuple(v if v is None else float(v) for v in row) for row in expected], at


def test_data_tables_show_the_numbers_of_the_current_position(loaded):
    name, page, w = loaded
    figures = page.locator("figure.kfig")
    for f in range(figures.count()):
        fig = figures.nth(f)
        payload = json.loads(fig.locator("script.kfig-data").text_content())
        details = fig.locator("details.kfig-details")
        assert details.locator("summary").text_content() == "Data"
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        for g in (0, len(payload["sliders"][0]["values"]) - 1):
            fig.evaluate(f"r => r.kfig.set(0, {g})")
            idx = fig.evaluate("r => r.kfig.index.slice()")
            _check_tables(payload, fig.evaluate(TABLES), idx, f"figure {f} at {idx}")
        details.locator("summary").click()  # closed again
        assert details.get_attribute("open") is None


# --------------------------------------------------------------------------- readers
SHOTS = "screenshots"


def _figure_page(browser, base_url, name, width, mode="light", reduced_motion="no-preference"):
    """A page opened at ``width`` CSS px in the theme's ``mode`` (stored as the theme does)."""
    page = browser.new_page(viewport={"width": width, "height": 1800}, reduced_motion=reduced_motion)
    page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    page.goto(f"{base_url}{name}.html", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == mode
    return page


def _shoot(page, site, name, tag):
    shots = site.parent / SHOTS / "figures"
    shots.mkdir(parents=True, exist_ok=True)
    figures = page.locator("figure.kfig")
    for f in range(figures.count()):
        figures.nth(f).screenshot(path=str(shots / f"{name.replace('/', '__')}-{f}-{tag}.png"))


TEXT_SIZES = """(root) => {
  const out = [];
  root.querySelectorAll('svg.kfig-svg text:not(.kfig-probe)').forEach(t => {
    if (!t.textContent.trim()) return;
    const m = t.getScreenCTM(), r = t.getBoundingClientRect();
    // the height of its line box on screen (its width when rotated, as a y-axis label)
    out.push({text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b),
              box: Math.abs(m.b) > Math.abs(m.a) ? r.width : r.height});
  });
  root.querySelectorAll('label, output, summary, figcaption').forEach(e => {
    const r = e.getBoundingClientRect();
    out.push({text: e.textContent.slice(0, 40), px: parseFloat(getComputedStyle(e).fontSize), box: r.height});
  });
  return out;
}"""

LAYOUT = """(root) => {
  const svg = root.querySelector('svg.kfig-svg'), s = svg.getBoundingClientRect();
  return {
    columns: Number(svg.getAttribute('data-columns')),
    svg: [s.left, s.right],
    plots: [...svg.querySelectorAll('g.kfig-panel')].map(g => {
      const r = g.querySelector(':scope > rect').getBoundingClientRect();
      return [r.left, r.top, r.right, r.bottom];
    }),
    values: [...root.querySelectorAll('output')].map(o => {
      const r = o.getBoundingClientRect(), st = getComputedStyle(o);
      return [r.left, r.right, r.width, r.height, st.visibility, st.display, o.textContent];
    }),
  };
}"""


@pytest.mark.parametrize("width, smallest", [(1280, 12), (390, 11)])
@pytest.mark.parametrize("name", CHAPTERS)
def test_figures_are_legible_and_fit_the_screen(browser, base_url, site, name, width, smallest):
    page = _figure_page(browser, base_url, name, width)
    try:
        _shoot(page, site, name, f"{width}-light")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        figures = page.locator("figure.kfig")
        for f in range(figures.count()):
            fig = figures.nth(f)
            sizes = fig.evaluate(TEXT_SIZES)
            small = [t for t in sizes if t["px"] < smallest or t["box"] < smallest]
            assert not small, f"figure {f} at {width} px: text under {smallest} px: {small[:5]}"
            lay = fig.evaluate(LAYOUT)
            svg_w = lay["svg"][1] - lay["svg"][0]
            assert lay["svg"][1] <= width, f"figure {f} wider than the screen: {lay['svg']}"
            plots = lay["plots"]
            if width < 640 and len(plots) > 1:  # stacked: one panel under the other, each using the width
                assert lay["columns"] == 1
                for a, b in zip(plots, plots[1:]):
                    assert b[1] >= a[3], f"figure {f}: panels overlap vertically {a} {b}"
                assert all(p[2] - p[0] >= 0.7 * svg_w for p in plots), (plots, svg_w)
            elif len(plots) > 1:  # side by side
                assert lay["columns"] == len(plots) and all(abs(p[1] - plots[0][1]) < 1 for p in plots)
            for left, right, w_, h, vis, disp, text in lay["values"]:  # the value beside each slider
                assert w_ > 0 and h > 0 and vis == "visible" and disp != "none" and text.strip()
                assert 0 <= left and right <= width, f"figure {f}: slider value {text!r} off screen at {left}..{right}"
    finally:
        page.close()


#: Text colour, and the colour it is drawn on: heatmap cells, the plot area, or the figure.
COLOURS = """(root) => {
  const bg = getComputedStyle(root).backgroundColor;
  const plot = g => getComputedStyle(g.closest('g.kfig-panel').querySelector(':scope > rect')).fill;
  const texts = [...root.querySelectorAll('svg.kfig-svg text:not(.kfig-probe)')].filter(t => t.textContent.trim())
    .map(t => {
      const trace = t.closest('[data-trace]');
      let back = bg;
      if (trace && trace.tagName === 'g') {  // a heatmap: text k is drawn on rect k
        const n = trace.children.length / 2, k = [...trace.children].indexOf(t) - n;
        back = getComputedStyle(trace.children[k]).fill;
      } else if (trace) back = plot(t);
      return {what: t.textContent.slice(0, 40), fg: getComputedStyle(t).fill, bg: back};
    });
  root.querySelectorAll('label, output, summary, figcaption, th, td').forEach(e => {
    if (e.textContent.trim()) texts.push({what: e.tagName + ' ' + e.textContent.slice(0, 30),
                                          fg: getComputedStyle(e).color, bg: bg});
  });
  const marks = [...root.querySelectorAll('[data-trace]')].filter(e => e.tagName !== 'text' && !e.closest('[data-trace] g, g[data-trace] rect'))
    .flatMap(e => {
      const style = getComputedStyle(e), fill = e.tagName === 'g' && e.firstElementChild
        ? getComputedStyle(e.firstElementChild).fill : style.fill;
      const opaque = parseFloat(style.fillOpacity) === 1;
      const colour = style.stroke !== 'none' ? style.stroke : (opaque ? fill : null);
      return colour && colour !== 'none' && !e.querySelector('text') ? [{what: e.outerHTML.slice(0, 60), fg: colour, bg: plot(e)}] : [];
    });
  return {figure: bg, texts: texts, marks: marks};
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", CHAPTERS)
def test_figure_text_and_lines_have_contrast_in_both_modes(browser, base_url, site, name, mode):
    page = _figure_page(browser, base_url, name, 1280, mode)
    try:
        if mode == "dark":
            _shoot(page, site, name, "1280-dark")
        figures = page.locator("figure.kfig")
        for f in range(figures.count()):
            fig = figures.nth(f)
            fig.locator("details.kfig-details summary").click()  # the table's text too
            c = fig.evaluate(COLOURS)
            figure = rgb(c["figure"])
            assert len(figure) == 3 or figure[3] == 1, f"figure {f}: transparent background {c['figure']}"
            dark = contrast(figure, (0, 0, 0)) < contrast(figure, (255, 255, 255))
            assert dark == (mode == "dark"), f"figure {f}: background {c['figure']} does not follow the {mode} theme"
            low = [(t["what"], round(contrast(rgb(t["fg"]), rgb(t["bg"])), 2)) for t in c["texts"]
                   if contrast(rgb(t["fg"]), rgb(t["bg"])) < 4.5]
            assert not low, f"figure {f} ({mode}): text under 4.5:1: {low}"
            assert any(t["what"].startswith("FIGCAPTION") for t in c["texts"])
            faint = [(m["what"], round(contrast(rgb(m["fg"]), rgb(m["bg"])), 2)) for m in c["marks"]
                     if contrast(rgb(m["fg"]), rgb(m["bg"])) < 3]
            assert not faint, f"figure {f} ({mode}): lines or marks under 3:1: {faint}"
    finally:
        page.close()


@pytest.mark.parametrize("name", CORE)
def test_no_motion_when_the_reader_asks_for_less(browser, base_url, name):
    page = _figure_page(browser, base_url, name, 1280, reduced_motion="reduce")
    try:
        moving = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e => {
          const s = getComputedStyle(e);
          const t = s.transitionDuration.split(',').some(d => parseFloat(d) > 0);
          const a = s.animationName !== 'none' && s.animationDuration.split(',').some(d => parseFloat(d) > 0);
          return t || a ? [e.tagName + '.' + e.className + ' ' + s.transitionDuration + ' ' + s.animationName] : [];
        })""")
        assert not moving, f"transitions or animations despite prefers-reduced-motion: {moving[:5]}"
        fig = page.locator("figure.kfig").first
        fig.locator("input.kfig-slider").first.focus()
        page.keyboard.press("ArrowRight")
        assert not page.evaluate("document.getAnimations().filter(a => a.playState === 'running').length")
    finally:
        page.close()


# --------------------------------------------------------------------------- solutions
def test_solutions_are_hidden_behind_toggles_that_open(loaded):
    name, page, w = loaded
    solutions = page.locator("div.solution")
    if name in CORE:
        assert solutions.count() >= 1, "every chapter ends with exercises and hidden solutions"
    for k in range(solutions.count()):
        sol = solutions.nth(k)
        content = sol.locator("section, .admonition-title ~ *").first
        assert "toggle-hidden" in (sol.get_attribute("class") or ""), f"solution {k} is not hidden"
        assert not content.is_visible(), f"solution {k} is visible before its toggle is pressed"
        button = sol.locator("button.toggle-button")
        assert button.get_attribute("aria-expanded") == "false"
        button.click()
        content.wait_for(state="visible", timeout=5000)
        assert button.get_attribute("aria-expanded") == "true"
    # revealed code that scrolls sideways can be reached by keyboard (_static/rescan-scrollables.js)
    page.wait_for_timeout(600)
    unreachable = page.evaluate("""() => [...document.querySelectorAll('div.solution pre')]
      .filter(p => p.scrollWidth > p.clientWidth && p.tabIndex !== 0).map(p => p.textContent.slice(0, 60))""")
    assert not unreachable, f"scrollable code in an opened solution without tabindex=0: {unreachable}"
    assert not w.problems(), "\n".join(w.problems())


# --------------------------------------------------------------------------- how to do the exercises
def _has_exercise_section(name: str) -> bool:
    """A chapter whose Exercises section carries its label ``(chN-exercises)=``."""
    return re.search(r"(?m)^\(ch\d+-exercises\)=$", (ROOT / f"{name}.md").read_text()) is not None


def test_exercise_pages_open_with_the_how_to_box_and_its_downloads_load(loaded):
    """Each exercise page (and each chapter's labelled Exercises section) shows the box
    "How to do these exercises" right under its heading; its archive links download zips
    from the site itself; it names no repository the site does not have."""
    name, page, w = loaded
    boxes = page.locator("article .howto-exercises")
    expected = name.startswith("exercises/") or (name in CHAPTERS and _has_exercise_section(name))
    assert boxes.count() == (1 if expected else 0), name
    if not expected:
        return
    box = boxes.first
    assert box.is_visible()
    assert box.locator(".admonition-title").inner_text().strip() == "How to do these exercises"
    heading = box.evaluate("b => b.previousElementSibling && b.previousElementSibling.tagName")
    assert heading in ("H1", "H2"), f"the box follows its heading, not {heading}"
    links = box.locator("a[href$='.zip']")
    assert links.count() == 2
    for k in range(links.count()):
        href = links.nth(k).evaluate("a => a.href")
        response = page.request.get(href)
        assert response.ok, href
        assert response.body()[:2] == b"PK", f"{href} is not a zip"
    text = box.inner_text()
    assert ".venv/bin/jupyter lab" in text and "make lab" in text and "Practice checks" in text
    assert not w.problems(), "\n".join(w.problems())


# --------------------------------------------------------------------------- search
def test_search_finds_the_chapters(browser, base_url):
    page, w = open_page(browser, f"{base_url}search.html?q=softmax")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
        assert any("chapters/" in h for h in hrefs), hrefs
        assert not w.problems(), "\n".join(w.problems())
    finally:
        page.close()


# --------------------------------------------------------------------------- accessibility
#: axe-core rules not enforced, with the reason (none: every rule, every impact counts).
AXE_EXCEPTIONS: dict[str, str] = {}


@pytest.fixture(scope="session")
def axe_source():
    from softmaxbook.sphinxext import vendor_npm

    return (vendor_npm(*AXE) / "axe.min.js").read_text(encoding="utf-8")


def _axe_violations(page, axe_source) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']}"
        for v in result["violations"] if v["id"] not in AXE_EXCEPTIONS
    ]


def test_pages_have_no_accessibility_violations(loaded, axe_source):
    """axe-core (newest 4.x) on every page, with the Data tables open: no violation of any impact."""
    name, page, w = loaded
    page.evaluate("() => document.querySelectorAll('details.kfig-details').forEach(d => { d.open = true; })")
    page.wait_for_timeout(600)  # the theme re-checks scrollable blocks 300 ms after a toggle
    found = _axe_violations(page, axe_source)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("width, mode", [(390, "light"), (1280, "dark")])
@pytest.mark.parametrize("name", CHAPTERS)
def test_figure_pages_have_no_accessibility_violations_on_a_phone_and_in_dark_mode(
        browser, base_url, axe_source, name, width, mode):
    page = _figure_page(browser, base_url, name, width, mode)
    try:
        page.evaluate("() => document.querySelectorAll('details.kfig-details').forEach(d => { d.open = true; })")
        page.wait_for_timeout(600)
        found = _axe_violations(page, axe_source)
        assert not found, "\n".join(found)
    finally:
        page.close()
