"""The built website in a real browser (headless Chromium via Playwright), offline.

For every chapter and exercise page: it loads with no console error, no failed request
and no request to another host; MathJax typesets every equation; every kernel-free
slider redraws the figure with exactly the values precomputed for its position; the
solution toggles open; axe-core finds no critical or serious accessibility violation.
A full-page screenshot of each page is saved next to the site (``_build/screenshots``).
"""

from __future__ import annotations

import json
import math

import pytest

from browser import AXE, chromium, open_page, serve
from conftest import toc_files

pytestmark = pytest.mark.browser

PAGES = [f for f in toc_files() if f.startswith(("chapters/", "exercises/"))]
CHAPTERS = [f for f in PAGES if f.startswith("chapters/")]
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
      r.text = e.textContent;
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
        assert drawn["text"] == data["text"], f"{where}: text {drawn['text']!r} != {data['text']!r}"
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


def test_every_slider_redraws_the_precomputed_frame(loaded):
    name, page, w = loaded
    figures = page.locator("figure.kfig")
    if name in CHAPTERS:
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
            assert slider.get_attribute("aria-valuetext")
            slider.focus()
            changes = 0
            for g in range(len(spec["values"])):
                before_idx, before = list(idx), snap
                page.keyboard.press("Home" if g == 0 else "ArrowRight")  # a reader's key presses
                idx[n] = g
                snap = fig.evaluate(SNAPSHOT)
                where = f"figure {f}, slider {spec['name']} at {spec['text'][g]}"
                _check_drawing(payload, snap, idx, where)
                moved = [_frame_data(payload, before_idx, i) != _frame_data(payload, idx, i)
                         for i in range(len(payload["traces"]))]
                if any(moved):
                    old = [d["html"] for d in before["drawing"]]
                    new = [d["html"] for d in snap["drawing"]]
                    assert old != new, f"{where}: the data changed but the drawing did not"
                    changes += 1
            assert changes > 0, f"figure {f}: moving slider {spec['name']!r} never changes the drawing"
            # an `input` event alone (as a pointer drag fires them) redraws too
            slider.evaluate("(s) => { s.value = 0; s.dispatchEvent(new Event('input')); }")
            idx[n] = 0
            _check_drawing(payload, fig.evaluate(SNAPSHOT), idx, f"figure {f}, input event on {spec['name']}")
    assert not w.problems(), "\n".join(w.problems())


# --------------------------------------------------------------------------- solutions
def test_solutions_are_hidden_behind_toggles_that_open(loaded):
    name, page, w = loaded
    solutions = page.locator("div.solution")
    if name in CHAPTERS:
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
#: axe-core rules not enforced, with the reason (none so far). Moderate and minor findings
#: are not enforced either; on the built site they are the theme's sidebar title block
#: outside any landmark ("region") and an empty table header cell on pages with tables.
AXE_EXCEPTIONS: dict[str, str] = {}


@pytest.fixture(scope="session")
def axe_source():
    from softmaxbook.sphinxext import vendor_npm

    return (vendor_npm(*AXE) / "axe.min.js").read_text(encoding="utf-8")


def test_pages_have_no_serious_accessibility_violations(loaded, axe_source):
    name, page, w = loaded
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} -- e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("critical", "serious") and v["id"] not in AXE_EXCEPTIONS
    ]
    assert not serious, "\n".join(serious)
