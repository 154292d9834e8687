"""The built website in a real browser (headless Chromium via Playwright), offline.

For every chapter and exercise page: it loads with no console error, no failed request
and no request to another host; MathJax typesets every equation; every kernel-free
slider, operated with the keyboard (arrows, Page Up/Down, Home, End) and by a click on
its track, redraws the figure with exactly the values precomputed for its position and
says so (aria-valuetext, the visible readout, the polite live region, the "Data" table);
the solution toggles open; axe-core finds no accessibility violation of any impact.

Every figure, static or interactive, is also checked as readers see it, at 1280 and 390 px
in light and dark mode: drawn as SVG with real text (no raster image), all its text at
least 12 CSS px on a 1280 px page and 11 px at 390 px, every text box inside the figure
and clear of every other (at every slider position), notes clear of the data, notation
typeset like the prose, panels stacked and nothing scrolling sideways on a phone, each
slider on screen together with every panel it drives, 4.5:1 contrast of text and 3:1 of
lines, no motion when the reader asks for less. A full-page screenshot of each page and
screenshots of each figure (1280 and 390 px, light and dark) are saved next to the site
(``_build/screenshots``).

Every page is also read on a phone (390 px) and a desktop (1280 px), in light and dark
mode (issue 21), with a full-page screenshot of each (``_build/screenshots/pages``): the
menu opens by tap, click and keyboard and leads to another chapter; no display equation
is wider than its column at 1280 px, and one that scrolls on a phone shows a shadow where
more is hidden (``_build/screenshots/layout-report.txt`` lists them); no code or output
scrolls sideways at 1280 px (a failure names page, cell and line); numbers in tables never
break; no panel of the other mode behind text; verdict badges readable and the same on
every page; axe-core finds nothing on any of the four screens.
"""

from __future__ import annotations

import math
import re

import pytest

from browser import AXE, contrast, luminance, open_page, rgb, watch
from conftest import ROOT, toc_files
from figure_text import raw_notation

pytestmark = pytest.mark.browser

PAGES = [f for f in toc_files() if f.startswith(("chapters/", "exercises/"))]
CHAPTERS = [f for f in PAGES if f.startswith("chapters/")]
#: The core chapter pages: each has an interactive figure and exercises ("_further" pages need not).
CORE = [f for f in CHAPTERS if not f.endswith("_further")]
ALL = toc_files()  # with the home page

#: Drawn coordinates must match the precomputed data to this fraction of the axis range.
TOLERANCE = 1e-3


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
  const P = root.kfig.payload;  // in the page's language
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
  const readout = root.querySelector('p.kfig-readout');
  return {index: root.kfig.index.slice(), drawing: drawing, readout: readout && readout.textContent,
          outputs: [...root.querySelectorAll('output')].map(o => o.textContent)};
}"""

#: A figure's caption: its own figcaption, or that of the numbered figure it is drawn in.
CAPTIONED = """(root) => {
  const own = root.querySelector(':scope > figcaption'), outer = root.parentElement.closest('figure');
  return !!((own && own.textContent.trim()) || (outer && outer.querySelector(':scope > figcaption')));
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
    """Press ``key`` on slider ``n``; the figure must then show grid position ``g`` and its sentence."""
    page.keyboard.press(key)
    idx[n] = g
    snap = fig.evaluate(SNAPSHOT)
    _check_drawing(payload, snap, idx, f"{where} after {key}")
    assert snap["readout"] == payload["announce"][_flat(payload, idx)], f"{where} after {key}: readout {snap['readout']!r}"
    return snap


def test_every_slider_redraws_the_precomputed_frame(loaded):
    name, page, w = loaded
    figures = page.locator("figure.kfig")
    if name in CORE:
        assert figures.count() >= 1, "every chapter has a kernel-free interactive figure"
    for f in range(figures.count()):
        fig = figures.nth(f)
        payload = fig.evaluate("r => r.kfig.payload")  # the payload in the page's language
        assert fig.get_attribute("id", timeout=1000).startswith("kfig-")
        # captioned: by its own figcaption, or (a static figure of a chapter) by the numbered figure around it
        assert fig.locator("svg.kfig-svg").count() == 1 and fig.evaluate(CAPTIONED), f"figure {f} has no caption"
        sliders = fig.locator("input[type=range].kfig-slider")
        assert sliders.count() == len(payload["sliders"])
        readout = fig.locator("p.kfig-readout")
        if not payload["sliders"]:  # static: nothing moves, nothing to read out
            assert readout.count() == 0 and fig.locator(".kfig-live").count() == 0
            continue
        # the sentence of the position is shown under the drawing (hidden from screen readers,
        # which read the same sentence in the live region, present from the start)
        assert readout.is_visible() and readout.get_attribute("aria-hidden") == "true"
        first = payload["announce"][_flat(payload, [s["index"] for s in payload["sliders"]])]
        assert readout.text_content() == first == fig.locator(".kfig-live").text_content()
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


_FROM_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _number(cell):
    """A table cell as a float: "—" (no value), −1.5, 2.2×10⁻⁷."""
    if cell == "—":
        return None
    mantissa, _, exponent = cell.replace("−", "-").partition("×10")
    return float(mantissa + (f"e{exponent.translate(_FROM_SUPERSCRIPT)}" if exponent else ""))


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
        payload = fig.evaluate("r => r.kfig.payload")  # the payload in the page's language
        details = fig.locator("details.kfig-details")
        assert details.locator("summary").text_content() == "Data"
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        ends = (0, len(payload["sliders"][0]["values"]) - 1) if payload["sliders"] else (None,)
        for g in ends:  # a static figure: its one frame
            if g is not None:
                fig.evaluate(f"r => r.kfig.set(0, {g})")
            idx = fig.evaluate("r => r.kfig.index.slice()")
            _check_tables(payload, fig.evaluate(TABLES), idx, f"figure {f} at {idx}")
        details.locator("summary").click()  # closed again
        assert details.get_attribute("open") is None


# --------------------------------------------------------------------------- readers
SHOTS = "screenshots"
#: Screens the figures are read on: (width, height) in CSS px; a phone and a laptop.
SCREENS = {390: 844, 1280: 800}


def _figure_page(browser, base_url, name, width, mode="light", reduced_motion="no-preference", height=1800):
    """A page opened at ``width`` CSS px in the theme's ``mode`` (stored as the theme does)."""
    page = browser.new_page(viewport={"width": width, "height": height}, reduced_motion=reduced_motion)
    page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    page.goto(f"{base_url}{name}.html", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == mode
    return page


def _shoot(page, site, name, tag):
    """Each figure as it lies in the page (a clip of the full page: no sticky bar drawn over it)."""
    shots = site.parent / SHOTS / "figures"
    shots.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    boxes = page.eval_on_selector_all("figure.kfig", """fs => fs.map(f => {
      const r = f.getBoundingClientRect(), outer = f.parentElement.closest('figure') || f, o = outer.getBoundingClientRect();
      return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: o.bottom - r.top};
    })""")
    for f, box in enumerate(boxes):
        page.screenshot(path=str(shots / f"{name.replace('/', '__')}-{f}-{tag}.png"), full_page=True, clip=box)


TEXT_SIZES = """(root) => {
  const out = [];
  root.querySelectorAll('svg.kfig-svg text:not(.kfig-probe)').forEach(t => {
    if (!t.textContent.trim()) return;
    const m = t.getScreenCTM(), r = t.getBoundingClientRect();
    // the height of one line on screen (its width when rotated, as a y-axis label; tspans: one per line)
    out.push({text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b),
              box: (Math.abs(m.b) > Math.abs(m.a) ? r.width : r.height) / (t.querySelectorAll('tspan').length || 1)});
  });
  root.querySelectorAll('label, output, summary, figcaption, p.kfig-readout').forEach(e => {
    const r = e.getBoundingClientRect();
    out.push({text: e.textContent.slice(0, 40), px: parseFloat(getComputedStyle(e).fontSize),
              box: Math.min(r.height, parseFloat(getComputedStyle(e).lineHeight) || r.height)});
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

#: Every text box of the drawing, at every slider position (all positions when there are at
#: most ``limit``, else a spread of them): inside the SVG, clear of every other text box, and
#: notes (Text traces) clear of the data marks of their panel (lines, markers, rules).
TEXT_BOXES = """(root, limit) => {
  const svg = root.querySelector('svg.kfig-svg'), P = root.kfig.payload;
  const sizes = P.sliders.map(s => s.values.length), total = sizes.reduce((a, b) => a * b, 1);
  const start = root.kfig.index.slice(), problems = [], seen = new Set();
  const say = m => { if (!seen.has(m)) { seen.add(m); problems.push(m); } };
  const rect = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const cross = (a, b, pad) => Math.min(a[2], b[2]) - Math.max(a[0], b[0]) > pad && Math.min(a[3], b[3]) - Math.max(a[1], b[1]) > pad;
  const at = (m, x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
  // the screen points of a mark, every 2 px along its segments
  function marks(e) {
    const m = e.getScreenCTM(), pts = [];
    const seg = (p, q) => { const n = Math.max(1, Math.ceil(Math.hypot(q[0] - p[0], q[1] - p[1]) / 2));
      for (let k = 0; k <= n; k++) pts.push([p[0] + (q[0] - p[0]) * k / n, p[1] + (q[1] - p[1]) * k / n]); };
    if (e.tagName === 'path') {
      const tok = (e.getAttribute('d') || '').trim().split(/\\s+/); let prev = null;
      for (let k = 0; k < tok.length;) {
        if (tok[k] === 'M') { prev = null; k++; continue; } if (tok[k] === 'L' || tok[k] === 'Z') { k++; continue; }
        const p = at(m, Number(tok[k]), Number(tok[k + 1])); k += 2;
        if (prev) seg(prev, p); else pts.push(p); prev = p;
      }
    } else if (e.tagName === 'line') {
      const a = n => Number(e.getAttribute(n));
      seg(at(m, a('x1'), a('y1')), at(m, a('x2'), a('y2')));
    } else e.querySelectorAll('circle').forEach(c => { const r = c.getBoundingClientRect(); pts.push([r.left, r.top], [r.right, r.bottom], [r.left, r.bottom], [r.right, r.top], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]); });
    return pts;
  }
  const frames = [];
  if (total <= limit) for (let f = 0; f < total; f++) frames.push(f);
  else for (let k = 0; k < limit; k++) frames.push(Math.round(k * (total - 1) / (limit - 1)));
  for (const f of frames) {
    let rest = f; const idx = [];
    for (let s = sizes.length - 1; s >= 0; s--) { idx[s] = rest % sizes[s]; rest = Math.floor(rest / sizes[s]); }
    idx.forEach((g, n) => root.kfig.set(n, g));
    const where = P.sliders.map((s, n) => s.label + ' = ' + s.text[idx[n]]).join(', ') || 'as drawn';
    const box = rect(svg);
    const texts = [...svg.querySelectorAll('text:not(.kfig-probe)')].filter(t => t.textContent.trim())
      .map(t => ({t: t, text: t.textContent, b: rect(t)}));
    texts.forEach(x => {
      if (x.b[0] < box[0] - 0.5 || x.b[1] < box[1] - 0.5 || x.b[2] > box[2] + 0.5 || x.b[3] > box[3] + 0.5)
        say(`${where}: "${x.text}" [${x.b.map(Math.round)}] outside the figure [${box.map(Math.round)}]`);
    });
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++)
      if (cross(texts[i].b, texts[j].b, 1)) say(`${where}: "${texts[i].text}" overlaps "${texts[j].text}"`);
    P.traces.forEach((t, i) => {
      if (t.kind !== 'text') return;
      const note = svg.querySelector(`text[data-trace="${i}"]`), nb = rect(note);
      P.traces.forEach((u, k) => {
        if (u.panel !== t.panel || !['line', 'points', 'hline', 'vline'].includes(u.kind)) return;
        const hit = marks(svg.querySelector(`[data-trace="${k}"]`)).find(p => p[0] > nb[0] && p[0] < nb[2] && p[1] > nb[1] && p[1] < nb[3]);
        if (hit) say(`${where}: note "${note.textContent}" on the ${u.label || u.kind} (trace ${k}) at ${hit.map(Math.round)}`);
      });
    });
  }
  start.forEach((g, n) => root.kfig.set(n, g));
  return problems;
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("width, smallest", [(1280, 12), (390, 11)])
@pytest.mark.parametrize("name", PAGES)
def test_figures_are_legible_and_fit_the_screen(browser, base_url, site, name, width, smallest, mode):
    page = _figure_page(browser, base_url, name, width, mode)
    try:
        _shoot(page, site, name, f"{width}-{mode}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        # every figure is drawn with real text: a raster image's text cannot follow the screen
        images = page.eval_on_selector_all("div.cell_output img, div.output img", "is => is.map(i => i.src.slice(-60))")
        assert not images, f"figures drawn as images (draw them with softmaxbook.interactive): {images}"
        figures = page.locator("figure.kfig")
        for f in range(figures.count()):
            fig = figures.nth(f)
            sizes = fig.evaluate(TEXT_SIZES)
            small = [t for t in sizes if t["px"] < smallest or t["box"] < smallest]
            assert not small, f"figure {f} at {width} px: text under {smallest} px: {small[:5]}"
            problems = fig.evaluate(TEXT_BOXES, 80)
            assert not problems, f"figure {f} at {width} px:\n" + "\n".join(problems[:12])
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


#: Every text of the figure as a reader meets it, with the Data tables open.
READ = """(root) => {
  const out = [...root.querySelectorAll('svg.kfig-svg text:not(.kfig-probe), label, output, p.kfig-readout,'
                                        + ' .kfig-live, summary, caption, th, td, .kfig-tables p, figcaption')]
    .map(e => e.textContent);
  root.querySelectorAll('[aria-label], [aria-valuetext]').forEach(e =>
    out.push(e.getAttribute('aria-label') || '', e.getAttribute('aria-valuetext') || ''));
  return out.filter(t => t.trim());
}"""


def test_figure_text_is_typeset_like_the_prose(loaded):
    """pᵢ, ℓ(Wₖ), eᶿ, 3×10⁻⁵, −1.5 on the page too (what the page script writes included), at
    the sliders' defaults and ends."""
    name, page, w = loaded
    figures = page.locator("figure.kfig")
    for f in range(figures.count()):
        fig = figures.nth(f)
        fig.evaluate("r => { r.querySelector('details.kfig-details').open = true; }")
        payload = fig.evaluate("r => r.kfig.payload")  # the payload in the page's language
        bad = set()
        for g in ("first", "last"):
            for n, spec in enumerate(payload["sliders"]):
                fig.evaluate(f"r => r.kfig.set({n}, {0 if g == 'first' else len(spec['values']) - 1})")
            page.wait_for_timeout(200)  # the live region speaks after a pause
            bad |= {f"{text!r}: {why}" for text in fig.evaluate(READ) for why in raw_notation(text)}
        fig.evaluate("r => { r.querySelector('details.kfig-details').open = false; }")
        assert not bad, f"figure {f}: raw notation\n" + "\n".join(sorted(bad)[:12])


#: The parts of a figure that must be seen together: its sliders and its panels' plot areas.
PARTS = """(root) => ({
  sliders: root.querySelectorAll('input.kfig-slider').length,
  panels: root.querySelectorAll('g.kfig-panel').length,
})"""

#: After scrolling panel k to the middle of the window: is every slider on screen and not
#: covered (the topmost element at its centre), and is the panel's plot area uncovered at
#: a quarter, half and three quarters of its height?
TOGETHER = """(root, k) => {
  const plot = root.querySelector(`g.kfig-panel[data-panel="${k}"] > rect`);
  plot.scrollIntoView({block: 'center'});
  const top = (x, y) => document.elementFromPoint(x, y);
  const sliders = [...root.querySelectorAll('input.kfig-slider')].map(s => {
    const r = s.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
    return {name: s.dataset.name, top: Math.round(r.top), seen: y > 0 && y < innerHeight && top(x, y) === s};
  });
  const r = plot.getBoundingClientRect(), x = (r.left + r.right) / 2;
  const panel = [0.25, 0.5, 0.75].map(q => { const y = r.top + q * r.height;
    return y > 0 && y < innerHeight && plot.ownerSVGElement.contains(top(x, y)); });
  return {sliders: sliders, panel: panel, plot: [Math.round(r.top), Math.round(r.bottom)]};
}"""


@pytest.mark.parametrize("width", sorted(SCREENS))
@pytest.mark.parametrize("name", CHAPTERS)
def test_sliders_stay_on_screen_with_the_panels_they_drive(browser, base_url, name, width):
    """On a phone (390 × 844) and a laptop (1280 × 800), each panel scrolled to the middle of
    the window is seen together with every slider of its figure (they stick below the page's
    header), and the sliders cover no part of it."""
    page = _figure_page(browser, base_url, name, width, height=SCREENS[width])
    try:
        figures = page.locator("figure.kfig")
        for f in range(figures.count()):
            fig = figures.nth(f)
            parts = fig.evaluate(PARTS)
            if not parts["sliders"]:
                continue
            for k in range(parts["panels"]):
                seen = fig.evaluate(TOGETHER, k)
                hidden = [s for s in seen["sliders"] if not s["seen"]]
                assert not hidden and all(seen["panel"]), (
                    f"figure {f}, panel {k} at {width} px: sliders not on screen with it {hidden}, "
                    f"panel uncovered at 1/4, 1/2, 3/4: {seen['panel']} (plot at {seen['plot']})")
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
  root.querySelectorAll('label, output, summary, figcaption, th, td, p.kfig-readout').forEach(e => {
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
  return {figure: bg, texts: texts, marks: marks, sliders: root.querySelectorAll('input.kfig-slider').length};
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", CHAPTERS)
def test_figure_text_and_lines_have_contrast_in_both_modes(browser, base_url, site, name, mode):
    page = _figure_page(browser, base_url, name, 1280, mode)
    try:
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
            if c["sliders"]:  # interactive figures carry their caption and readout (static ones: the page's caption)
                assert any(t["what"].startswith("FIGCAPTION") for t in c["texts"])
                assert any(t["what"].startswith("P ") for t in c["texts"]), f"figure {f}: no readout"
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
        fig = page.locator("figure.kfig:has(input.kfig-slider)").first
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


@pytest.mark.parametrize("width, mode", [(390, "light"), (390, "dark"), (1280, "dark")])
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


# --------------------------------------------------------------------------- every screen
# Every page on a phone (390 px) and a desktop (1280 px), in light and dark mode: a
# full-page screenshot (_build/screenshots/pages/), equations, code, tables, colours, axe.
PAGE_SCREENS = [(width, mode) for width in (390, 1280) for mode in ("light", "dark")]
#: Equations that scroll inside their box (allowed on a phone, with a visible cue) are listed here.
LAYOUT_REPORT = "layout-report.txt"

#: Open what a reader can open: hidden cells, dropdowns, solutions (and wait for MathJax).
REVEAL = """async () => {
  document.querySelectorAll('article details').forEach(d => { d.open = true; });
  document.querySelectorAll('article button.toggle-button[aria-expanded="false"]').forEach(b => b.click());
  await new Promise(r => setTimeout(r, 100));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}"""


@pytest.fixture(scope="session")
def layout_report(site):
    lines: list[str] = []
    yield lines
    folder = site.parent / SHOTS
    folder.mkdir(exist_ok=True)
    (folder / LAYOUT_REPORT).write_text("".join(f"{line}\n" for line in sorted(lines)), encoding="utf-8")


@pytest.fixture(scope="module", params=[(n, w, m) for n in ALL for w, m in PAGE_SCREENS],
                ids=lambda p: f"{p[0]}-{p[1]}-{p[2]}")
def screen(request, browser, base_url, site):
    """(name, width, mode, page, watch): a page as it is read on one screen, screenshot taken,
    then with every hidden cell, dropdown and solution opened."""
    name, width, mode = request.param
    page, w = open_page(browser, f"{base_url}{name}.html", width=width, mode=mode)
    assert page.evaluate("document.documentElement.dataset.theme") == mode
    shots = site.parent / SHOTS / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name.replace('/', '__')}-{width}-{mode}.png"), full_page=True)
    page.evaluate(REVEAL)
    yield name, width, mode, page, w
    page.close()


def test_nothing_scrolls_the_page_sideways(screen):
    name, width, mode, page, w = screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width} px"
    assert not w.problems(), "\n".join(w.problems())


EQUATIONS = """() => [...document.querySelectorAll('article div.math')]
  .filter(d => d.offsetParent !== null && d.querySelector(':scope > mjx-container'))
  .map((d, k) => {
    d.dataset.smEquation = k;  // found again for _edge_cue
    const c = d.querySelector(':scope > mjx-container'), n = d.querySelector(':scope > .eqno');
    const s = c && getComputedStyle(c), box = d.getBoundingClientRect();
    const cr = c ? c.getBoundingClientRect() : box, nr = n && n.getBoundingClientRect();
    return {
      name: n ? n.textContent.replace('#', '').trim() : (d.id || 'unnumbered equation ' + (k + 1)),
      overflow: c ? c.scrollWidth - c.clientWidth : 0,
      scrolls: !!s && ['auto', 'scroll'].includes(s.overflowX),
      scrollbar: s ? s.scrollbarWidth : 'none',
      index: k,
      inside: cr.left >= box.left - 0.5 && cr.right <= box.right + 0.5,
      numberClear: !n || nr.left >= cr.right - 0.5,
      text: d.textContent.slice(0, 50),
    };
  })"""


def test_display_equations_fit_their_column_or_scroll_with_a_cue(screen, layout_report):
    """1280 px: no display equation is wider than its column. 390 px: one that cannot break
    scrolls inside its own box with a shadow and a visible scrollbar (listed in the report).
    Everywhere: the equation number sits beside the math, never over it."""
    name, width, mode, page, w = screen
    if mode == "dark":
        pytest.skip("the layout of equations does not depend on the mode (checked in light mode)")
    equations = page.evaluate(EQUATIONS)
    crowded = [e["name"] for e in equations if not e["numberClear"] or not e["inside"]]
    assert not crowded, f"{name} at {width} px: equation number over the math, or math out of its box: {crowded}"
    wide = [e for e in equations if e["overflow"] > 1]
    if width >= 1280:
        assert not wide, (f"{name} at {width} px: display equations wider than their column (write them as "
                          f"`aligned` blocks): {[(e['name'], e['overflow']) for e in wide]}")
    for e in wide:
        assert e["scrolls"] and e["scrollbar"] != "none", (
            f"{name} at {width} px: equation {e['name']} is cut off and does not scroll: {e}")
        cue = _edge_cue(page.locator(f"div.math[data-sm-equation='{e['index']}'] > mjx-container"))
        assert e["overflow"] < HIDDEN or (cue["right"] >= CUE and cue["left"] < NO_CUE), (
            f"{name} at {width} px: equation {e['name']} scrolls without a visible shadow where more is hidden "
            f"(change of its right and left edges: {cue})")
        layout_report.append(f"{name} at {width} px: equation {e['name']} scrolls ({e['overflow']} px wider "
                             f"than its column, with a shadow and a scrollbar)")


def _edge_cue(box) -> dict:
    """How much the scroll cue changes 4 px at each side of ``box`` (inside a 1 px border),
    scrolled to its start: the contrast (WCAG ratio, 1 = no change) between a screenshot and
    one without the cue's gradients. The shadow (a glow in dark mode) must show where more
    is hidden, above the box's own rows and stripes. Headless Chromium draws no scrollbars."""
    import io

    from PIL import Image

    def shot():
        return Image.open(io.BytesIO(box.screenshot())).convert("RGB")

    box.evaluate("e => { e.scrollLeft = 0; }")
    cued = shot()
    box.evaluate("e => { e.dataset.smCue = e.style.backgroundImage; e.style.backgroundImage = 'none'; }")
    plain = shot()
    box.evaluate("e => { e.style.backgroundImage = e.dataset.smCue; }")

    def edge(x0, x1):
        def mean(image):
            pixels = [image.getpixel((x, y)) for x in range(x0, x1) for y in range(0, image.height, 2)]
            return [sum(p[i] for p in pixels) / len(pixels) for i in range(3)]
        return round(contrast(mean(cued), mean(plain)), 3)

    return {"left": edge(1, 5), "right": edge(cued.width - 5, cued.width - 1)}


#: A visible cue: the hidden side changes by this contrast ratio, the other side does not;
#: asked of boxes with at least 40 px hidden (the cue fades as the hidden part shrinks).
CUE, NO_CUE, HIDDEN = 1.15, 1.03, 40


#: Code and tables with at least ``hidden`` px beyond the column (marked to be found again), 20 a page at most.
SCROLLERS = """(hidden) => [...document.querySelectorAll(
    'article pre, article div.cell_output .output.text_html:has(> table), article .pst-scrollable-table-container')]
  .filter(e => e.checkVisibility() && e.scrollWidth - e.clientWidth >= hidden).slice(0, 20)
  .map((e, k) => { e.dataset.smScrolls = k;
                   return {k: k, what: e.tagName.toLowerCase() + ' ' + e.textContent.trim().slice(0, 40)}; })"""


def test_code_and_tables_that_scroll_on_a_phone_show_it(screen):
    """At 390 px code and wide tables scroll in their own box: each shows a shadow (a glow
    in dark mode) on the side where more is hidden, and none on the other."""
    name, width, mode, page, w = screen
    if width != 390:
        pytest.skip("on a desktop code fits (test_code_and_outputs_fit_at_1280)")
    for box in page.evaluate(SCROLLERS, HIDDEN):
        cue = _edge_cue(page.locator(f"[data-sm-scrolls='{box['k']}']"))
        assert cue["right"] >= CUE and cue["left"] < NO_CUE, (
            f"{name} ({mode}): {box['what']!r} scrolls without a visible cue (edge contrast {cue})")


CODE = """() => {
  const cells = [...document.querySelectorAll('article div.cell')];
  const out = [];
  document.querySelectorAll('article pre, article div.cell_output > .output').forEach(e => {
    if (e.offsetParent === null || e.scrollWidth <= e.clientWidth + 1) return;
    const cell = e.closest('div.cell'), lines = e.textContent.split('\\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    out.push({cell: cell ? cells.indexOf(cell) + 1 : null,
              part: e.closest('.cell_input') ? 'code' : e.closest('.cell_output') ? 'output' : 'code block',
              px: e.scrollWidth - e.clientWidth, columns: longest.length, longest: longest.slice(0, 90)});
  });
  return out;
}"""


#: A line of 79 characters (the course's limit) in a copy of the page's first code input and output.
LIMIT = """() => ['div.cell_input pre', 'div.cell_output pre'].map(sel => {
  const pre = document.querySelector('article ' + sel);
  if (!pre) return null;
  const probe = pre.cloneNode(false);
  probe.textContent = 'x'.repeat(79);
  pre.parentElement.appendChild(probe);
  const fits = probe.scrollWidth <= probe.clientWidth;
  probe.remove();
  return fits;
})"""


def test_code_and_outputs_fit_at_1280(screen):
    """No code cell, code block or output scrolls sideways on a desktop, and a line of 79
    characters would fit; a failure names the page, the cell and its longest line."""
    name, width, mode, page, w = screen
    if width != 1280 or mode == "dark":
        pytest.skip("measured at 1280 px in light mode (on a phone code scrolls in its box)")
    assert False not in page.evaluate(LIMIT), f"{name}: a code line of 79 characters does not fit at 1280 px"
    wide = page.evaluate(CODE)
    assert not wide, f"{name}: code or output wider than the column at 1280 px:\n" + "\n".join(
        f"  cell {c['cell']} ({c['part']}): {c['px']} px too wide, longest line {c['columns']} "
        f"characters: {c['longest']!r}" for c in wide)


NUMBERS = r"""() => {
  const broken = [], number = /[-−+]?\d[\d.,]*(?:e[-−+]?\d+)?/g;
  document.querySelectorAll('article td, article th').forEach(cell => {
    if (cell.offsetParent === null) return;
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      for (const m of t.textContent.matchAll(number)) {
        if (m[0].length < 2) continue;
        const r = document.createRange();
        r.setStart(t, m.index);
        r.setEnd(t, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  });
  return broken;
}"""


def test_numbers_in_tables_never_break(screen):
    name, width, mode, page, w = screen
    if mode == "dark":
        pytest.skip("line breaks do not depend on the mode (checked in light mode)")
    broken = page.evaluate(NUMBERS)
    assert not broken, f"{name} at {width} px: numbers broken across lines in a table: {broken[:10]}"


#: For each piece of visible text, the first ancestor with an opaque background: its colour.
PANELS = """() => {
  const out = new Map();
  const skip = '.kfig, mjx-container, .visually-hidden, .claim-verdict, kbd, script, style, dialog:not([open])';
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    const el = t.parentElement;
    if (!t.textContent.trim() || !el || el.closest(skip)) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.bottom <= 0 || !el.checkVisibility({visibilityProperty: true})) continue;
    for (let a = el; a; a = a.parentElement) {
      const bg = getComputedStyle(a).backgroundColor, v = (bg.match(/[\\d.]+/g) || []).map(Number);
      if (v.length >= 3 && (v.length < 4 || v[3] > 0.5)) {
        const key = a.tagName.toLowerCase() + [...a.classList].map(c => '.' + c).join('') + ' ' + bg;
        if (!out.has(key)) out.set(key, {where: key, bg: bg, text: t.textContent.trim().slice(0, 40)});
        break;
      }
    }
  }
  return [...out.values()];
}"""


def test_every_box_follows_the_mode(screen):
    """Dark mode: no light panel behind any text (tables, feedback, claim cards, boxes of
    every kind); light mode: no dark one. Figures are checked by their own tests; verdict
    badges and keys are small coloured labels with their own contrast test (and axe's)."""
    name, width, mode, page, w = screen
    off = [p for p in page.evaluate(PANELS)
           if (luminance(rgb(p["bg"])) > 0.25 if mode == "dark" else luminance(rgb(p["bg"])) < 0.4)]
    assert not off, f"{name} at {width} px, {mode} mode: text on a panel of the other mode:\n" + "\n".join(
        f"  {p['where']} behind {p['text']!r}" for p in off)


VERDICT_BADGES = """() => {
  const probe = document.createElement('div');  // one card per verdict, as the chapters write them
  probe.className = 'admonition circulating-claim';
  probe.innerHTML = ['verdict-wrong', 'verdict-half-right', 'verdict-incomplete'].map(v =>
    '<p class="admonition-title">Z0<span class="claim-verdict ' + v + '">' + v + '</span></p>').join('');
  document.querySelector('article').appendChild(probe);
  const badges = [...document.querySelectorAll('.claim-verdict')].filter(b => b.offsetParent !== null).map(b => {
    const s = getComputedStyle(b), card = b.closest('.circulating-claim');
    return {text: b.textContent, verdict: [...b.classList].find(c => c.startsWith('verdict-')),
            fg: s.color, bg: s.backgroundColor, px: parseFloat(s.fontSize), weight: Number(s.fontWeight),
            edge: card && card !== probe && card.className.includes(' verdict-') ? getComputedStyle(card).borderLeftColor : null};
  });
  probe.remove();
  return badges;
}"""
#: (mode, verdict) -> badge colour seen so far: the same on every page.
_BADGE_COLOURS: dict[tuple[str, str], str] = {}


def test_verdict_badges_are_readable_and_the_same_everywhere(screen):
    name, width, mode, page, w = screen
    badges = page.evaluate(VERDICT_BADGES)
    assert {b["verdict"] for b in badges} >= {"verdict-wrong", "verdict-half-right", "verdict-incomplete"}
    for b in badges:
        ratio = contrast(rgb(b["fg"]), rgb(b["bg"]))
        assert ratio >= 4.5, f"{name} ({mode}): badge {b['text']!r} has contrast {ratio:.2f}"
        assert b["px"] >= 12, f"{name}: badge {b['text']!r} at {b['px']} px"
        seen = _BADGE_COLOURS.setdefault((mode, b["verdict"]), b["bg"])
        assert b["bg"] == seen, f"{name} ({mode}): {b['verdict']} badge is {b['bg']}, elsewhere {seen}"
        if b["edge"] is not None:
            assert b["edge"] == b["bg"], f"{name}: the card's edge and its badge differ: {b}"
    colours = {b["verdict"]: b["bg"] for b in badges}
    assert len(set(colours.values())) == 3, f"the three verdicts need three colours: {colours}"


def test_every_screen_has_no_accessibility_violations(screen, axe_source):
    """axe-core on every page at 390 and 1280 px, light and dark, everything opened."""
    name, width, mode, page, w = screen
    page.evaluate("() => document.querySelectorAll('details.kfig-details').forEach(d => { d.open = true; })")
    page.wait_for_timeout(600)  # the theme re-checks scrollable blocks 300 ms after a toggle
    found = _axe_violations(page, axe_source)
    assert not found, f"{name} at {width} px, {mode} mode:\n" + "\n".join(found)


# --------------------------------------------------------------------------- the menu
IN_VIEW = """e => { const r = e.getBoundingClientRect();
  return e.checkVisibility({visibilityProperty: true, opacityProperty: true})
    && r.width > 0 && r.right > 0 && r.left < innerWidth && r.bottom > 0 && r.top < innerHeight; }"""


def _other_chapter(name: str) -> str:
    """The next chapter's core page (its link is in the sidebar whichever chapter is open;
    a "Going further" page's link shows only under its open chapter)."""
    core = name.removesuffix("_further")
    return CORE[(CORE.index(core) + 1) % len(CORE)] if core in CORE else CORE[-1]


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ALL)
def test_the_menu_opens_by_tap_click_and_keyboard_and_leads_to_another_chapter(browser, base_url, name, width):
    """Phone: the menu button opens the menu (a dialog) by tap, Enter and Space, Escape or a tap
    beside it closes it, and a tap on a chapter in it opens that chapter. Desktop: the button
    collapses and restores the sidebar by click, Enter and Space; a chapter's link opens it."""
    phone = width < 992
    context = browser.new_context(viewport={"width": width, "height": 844}, has_touch=phone, is_mobile=phone)
    try:
        page = context.new_page()
        w = watch(page)
        page.goto(f"{base_url}{name}.html", wait_until="load")
        page.wait_for_load_state("networkidle")
        button = page.locator("button.primary-toggle")
        assert button.count() == 1, "one menu button per page (pydata-sphinx-theme issue 2451)"
        assert button.is_visible()
        target = _other_chapter(name)
        link = page.locator(f"nav.bd-docs-nav a[href$='{target.split('/')[-1]}.html']").first
        shown = lambda: link.evaluate(IN_VIEW)
        if phone:
            is_open = lambda: page.evaluate("document.querySelector('#pst-primary-sidebar-modal').open")
            assert not is_open() and not shown()
            button.tap()
            page.wait_for_timeout(300)
            assert is_open() and shown(), "a tap on the menu button opens the menu"
            page.keyboard.press("Escape")
            page.wait_for_timeout(300)
            assert not is_open(), "Escape closes the menu"
            for key in ("Enter", "Space"):
                button.focus()
                page.keyboard.press(key)
                page.wait_for_timeout(300)
                assert is_open() and shown(), f"{key!r} on the menu button opens the menu"
                page.touchscreen.tap(width - 10, 400)  # beside the menu
                page.wait_for_timeout(300)
                assert not is_open(), "a tap beside the menu closes it"
            button.tap()
            page.wait_for_timeout(300)
            link.tap()
        else:
            assert shown(), "the sidebar is open on a desktop"
            for how in ("click", "Enter", "Space"):
                for expect in (False, True):
                    if how == "click":
                        button.click()
                    else:
                        button.focus()
                        page.keyboard.press(how)
                    page.wait_for_timeout(400)
                    assert shown() == expect, f"{how!r} should {'restore' if expect else 'collapse'} the sidebar"
            link.click()
        page.wait_for_url(f"**/{target}.html", timeout=10000)
        assert page.locator("article h1").count() == 1
        assert not w.problems(), "\n".join(w.problems())
    finally:
        context.close()


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_page_contents_open_on_a_phone(browser, base_url, name):
    """The "Contents" button (this page's sections) opens them at 390 px too."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(f"{base_url}{name}.html", wait_until="load")
        button = page.locator("button.secondary-toggle")
        assert button.count() == 1 and button.is_visible()
        button.tap()
        page.wait_for_timeout(300)
        assert page.evaluate("document.querySelector('#pst-secondary-sidebar-modal').open")
        entry = page.locator("#pst-secondary-sidebar-modal nav a").first
        assert entry.evaluate(IN_VIEW)
        href = entry.get_attribute("href")
        entry.tap()
        page.wait_for_timeout(300)
        assert page.url.endswith(href) and not page.evaluate(
            "document.querySelector('#pst-secondary-sidebar-modal').open")
    finally:
        context.close()
