/*
 * kfig.js -- kernel-free interactive figures of softmaxbook (MIT licence).
 *
 * softmaxbook.interactive.Figure.html() inlines this file next to a JSON payload of
 * frames computed in Python when the notebook ran. No kernel, no network, no library:
 * moving a slider picks the precomputed frame and updates an SVG in place.
 *
 * Readable everywhere: the SVG is laid out in CSS pixels for the width it gets (its
 * viewBox is its own size, redone when the width changes), so text keeps its size in
 * px on a phone; below STACK_BELOW px the panels stack. The sliders stick to the top of
 * the window (below the page's own sticky header) while the figure scrolls by, so that on
 * a phone every panel is seen with the sliders that drive it. Colours are CSS custom
 * properties that follow the theme's <html data-theme="dark">.
 * A figure without sliders (a static figure) has no controls, readout or live region.
 *
 * DOM (what the browser tests rely on):
 *   figure.kfig#kfig-XXXX
 *     div.kfig-controls > div.kfig-control > label[for] + input[type=range].kfig-slider[data-name] + output
 *       (position: sticky, top: var(--kfig-top), the bottom of the page's sticky header)
 *     svg.kfig-svg[data-columns] > g.kfig-panel[data-panel=k] > ... elements with data-trace=i:
 *        line: path (d = "M x y L x y ...", a new M after a gap)   points: g > circle
 *        band: path    bars: g > rect    heatmap: g > rect + text    hline/vline: line
 *        text: text (one tspan per wrapped line)
 *     p.kfig-readout[aria-hidden] (the precomputed sentence of the position, shown at once)
 *     div.kfig-live[aria-live=polite] (the same sentence for screen readers, after a pause;
 *       the visible readout is hidden from them so that they do not read it twice)
 *     details.kfig-details > summary "Data" + div.kfig-tables (tables of the current frame)
 *     script.kfig-data (JSON: sliders, panels, traces, frames, announce)
 *     figcaption
 *   root.kfig = {payload, index, frameIndex(), data(i), scale(k), set(sliderNo, gridIndex), columns()}
 *     scale(k) -> {x(v), y(v), xinv(px), yinv(px)}: data <-> SVG user units (= CSS px) of panel k.
 * Frames are row-major over the sliders (first slider slowest). Fields of a trace that
 * are the same in every frame are stored once in traces[i].static; frames[f][i] holds
 * the varying fields only (null when none vary).
 *
 * Texts of the payload are strings, or {"en": ..., "zh-CN": ...} in the book build
 * (softmaxbook.i18n.texts): localise() keeps the page's (document.documentElement.lang) once,
 * when the payload is read; payload.words holds the script's own words ("Data", "lower", ...).
 *
 * Each trace kind is one entry of KINDS: make (its element), draw (one frame), key (its
 * legend swatch, optional) and table (its numbers for the "Data" disclosure).
 */
(function () {
  "use strict";
  if (window.softmaxbookFigure) return;
  var NS = "http://www.w3.org/2000/svg";
  /** Font sizes in CSS px (the SVG's user unit is one CSS px). */
  var FONT = { tick: 13, label: 14, title: 14, legend: 13, note: 13, cell: 13 };
  /** Figures narrower than this (CSS px) stack their panels. */
  var STACK_BELOW = 640;
  var LEGEND_ROW = 20;
  /** softmaxbook.interactive.PALETTE (Okabe-Ito and a grey): drawn with var(--kfig-cK) of the theme. */
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#767676"];

  var CSS =
    ".kfig{--kfig-bg:#fff;--kfig-fg:#1a1a1a;--kfig-muted:#454545;--kfig-plot:#fff;--kfig-grid:#e2e2e2;" +
    "--kfig-axis:#595959;--kfig-track:#767676;--kfig-accent:#0072B2;--kfig-focus:#0b5cad;" +
    "--kfig-c0:#0072B2;--kfig-c1:#D55E00;--kfig-c2:#009E73;--kfig-c3:#CC79A7;--kfig-c4:#E69F00;" +
    "--kfig-c5:#56B4E9;--kfig-c6:var(--kfig-fg);--kfig-c7:#F0E442;--kfig-c8:#767676;" +
    "background:var(--kfig-bg);color:var(--kfig-fg);margin:1em 0;padding:.6em;max-width:100%;" +
    "box-sizing:border-box;border-radius:.3em}" +
    "html[data-theme=dark] .kfig{--kfig-bg:#14181e;--kfig-fg:#e6e9ee;--kfig-muted:#c3cad2;--kfig-plot:#1a1f26;" +
    "--kfig-grid:#303841;--kfig-axis:#9aa4ae;--kfig-track:#9aa4ae;--kfig-accent:#56B4E9;--kfig-focus:#8fd3ff;" +
    "--kfig-c0:#3D8FD1;--kfig-c8:#8b949e;color-scheme:dark}" +
    // the sliders stick below the page's header; the output box around the figure must not
    // clip them (the theme lets it scroll sideways, which would keep them from sticking)
    ".kfig-controls{display:flex;flex-wrap:wrap;gap:.5em 2em;position:sticky;top:var(--kfig-top,0px);z-index:10;" +
    "background:var(--kfig-bg);margin:-.6em -.6em .5em;padding:.4em .6em .3em;border-bottom:1px solid var(--kfig-grid)}" +
    ".text_html:has(>figure.kfig){overflow:visible}" +
    ".kfig-readout{margin:.4em 0 0;font-size:.95em;line-height:1.4;color:var(--kfig-fg);" +
    "font-variant-numeric:tabular-nums;overflow-wrap:anywhere}" +
    ".kfig-control{flex:1 1 16em;min-width:0;max-width:30em;display:grid;" +
    "grid-template-columns:minmax(0,1fr) auto;align-items:center;column-gap:.8em}" +
    ".kfig-control label{grid-column:1/-1;font-size:.95em}" +
    ".kfig-control output{font-variant-numeric:tabular-nums;font-weight:600;min-width:3em;text-align:right}" +
    ".kfig-slider{-webkit-appearance:none;appearance:none;width:100%;min-width:0;height:32px;margin:0;" +
    "background:transparent;cursor:pointer}" +
    ".kfig-slider::-webkit-slider-runnable-track{height:6px;border-radius:3px;background:var(--kfig-track)}" +
    ".kfig-slider::-moz-range-track{height:6px;border-radius:3px;background:var(--kfig-track)}" +
    ".kfig-slider::-webkit-slider-thumb{-webkit-appearance:none;appearance:none;width:24px;height:24px;" +
    "margin-top:-9px;border-radius:50%;background:var(--kfig-accent);border:2px solid var(--kfig-bg);" +
    "box-shadow:0 0 0 1px var(--kfig-accent)}" +
    ".kfig-slider::-moz-range-thumb{width:24px;height:24px;box-sizing:border-box;border-radius:50%;" +
    "background:var(--kfig-accent);border:2px solid var(--kfig-bg)}" +
    ".kfig-slider:focus{outline:none}" +
    ".kfig-slider:focus-visible{outline:3px solid var(--kfig-focus);outline-offset:2px;border-radius:4px}" +
    ".kfig-svg{display:block;width:100%;height:auto;font-family:inherit;overflow:hidden}" +
    ".kfig figcaption{color:var(--kfig-muted);font-size:.9em;font-weight:400;margin-top:.5em;text-align:start}" +
    // the theme puts rich outputs on a light box in dark mode; the figure brings its own colours
    "html[data-theme=dark] .bd-content div.cell_output .text_html:has(>figure.kfig.kfig){background:none;padding:0}" +
    ".kfig-details{margin-top:.4em;font-size:.9em}" +
    ".kfig-details summary{cursor:pointer;min-height:24px;line-height:24px;width:max-content;padding:0 .3em}" +
    ".kfig-details summary:focus-visible{outline:3px solid var(--kfig-focus);outline-offset:2px}" +
    ".kfig-tables{display:flex;flex-wrap:wrap;align-items:flex-start;gap:.8em 2em;padding:.2em}" +
    ".kfig-table{max-height:20em;max-width:100%;overflow:auto}" +
    ".kfig-table:focus-visible{outline:3px solid var(--kfig-focus);outline-offset:2px}" +
    ".kfig-tables table{border-collapse:collapse;margin:0;width:auto}" +
    ".kfig-tables caption{caption-side:top;text-align:left;font-weight:600;color:var(--kfig-fg)}" +
    ".kfig-tables th,.kfig-tables td{padding:.1em .6em;text-align:right;border-bottom:1px solid var(--kfig-grid);" +
    "color:var(--kfig-fg);background:var(--kfig-bg);font-variant-numeric:tabular-nums}" +
    ".kfig-tables p{margin:0;flex-basis:100%}" +
    ".kfig-live{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;" +
    "clip:rect(0 0 0 0);white-space:nowrap;border:0}" +
    "@media (prefers-reduced-motion:reduce){.kfig,.kfig *{transition:none!important;animation:none!important;" +
    "scroll-behavior:auto!important}}";

  function ensureStyle() {
    if (document.getElementById("kfig-style")) return;
    var s = document.createElement("style");
    s.id = "kfig-style";
    s.textContent = CSS;
    document.head.appendChild(s);
  }

  function node(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(tag, text, parent) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  /** v with every {"en": ..., "zh-CN": ...} of the book build replaced by the text of lang (else English). */
  function localise(v, lang) {
    if (!v || typeof v !== "object") return v;
    if (!Array.isArray(v) && typeof v.en === "string") return typeof v[lang] === "string" ? v[lang] : v.en;
    for (var k in v) if (v[k] && typeof v[k] === "object") v[k] = localise(v[k], lang);
    return v;
  }
  function setAll(e, attrs) { for (var k in attrs) e.setAttribute(k, attrs[k]); }
  function sync(g, tag, n, attrs) {
    while (g.childNodes.length > n) g.removeChild(g.lastChild);
    while (g.childNodes.length < n) node(tag, attrs, g);
  }
  function r2(v) { return Math.round(v * 100) / 100; }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  /** A series colour as CSS: palette colours follow the theme through custom properties. */
  function paint(color) {
    if (!color) return "var(--kfig-fg)";
    var k = PALETTE.indexOf(String(color).toUpperCase());
    return k < 0 ? color : "var(--kfig-c" + k + ")";
  }
  function textStyle(fs, extra) {
    return "fill:var(--kfig-fg);font-size:" + fs + "px" + (extra ? ";" + extra : "");
  }

  // A linear or log10 map from [d0, d1] to [p0, p1] and back.
  function axisMap(lim, scale, p0, p1) {
    var log = scale === "log";
    var f = log ? Math.log10 : function (v) { return v; };
    var a = f(lim[0]), b = f(lim[1]);
    return {
      fwd: function (v) {
        if (v === null || !isFinite(v) || (log && v <= 0)) return null;
        return p0 + (f(v) - a) / (b - a) * (p1 - p0);
      },
      inv: function (p) {
        var t = a + (p - p0) / (p1 - p0) * (b - a);
        return log ? Math.pow(10, t) : t;
      }
    };
  }

  // Blue (-vmax) .. white (0) .. red (+vmax), as matplotlib's RdBu_r roughly.
  function heatRGB(v, vmax) {
    var t = Math.max(-1, Math.min(1, v / vmax));
    var end = t < 0 ? [33, 102, 172] : [178, 24, 43];
    var s = Math.abs(t);
    return [0, 1, 2].map(function (i) { return Math.round(255 + (end[i] - 255) * s); });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  /** Near-black or white, whichever contrasts more with the cell colour. */
  function inkOn(rgb) {
    var l = luminance(rgb);
    return (l + 0.05) / (0.0056 + 0.05) >= 1.05 / (l + 0.05) ? "#111" : "#fff";
  }

  function polyline(xs, ys, sc) {
    var d = "", pen = false;
    for (var i = 0; i < xs.length; i++) {
      var px = sc.x(xs[i]), py = sc.y(ys[i]);
      if (px === null || py === null) { pen = false; continue; }
      d += (pen ? " L " : " M ") + r2(px) + " " + r2(py);
      pen = true;
    }
    return d.trim();
  }
  var SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";
  /** A number of the Data tables as the prose writes it: −1.5, 2.2×10⁻⁷ (never 2.2e-7). */
  function num(v) {
    if (v === null || v === undefined) return "—";
    var s = String(v), m = /^(-?[\d.]+)e([+-]?)(\d+)$/.exec(s);
    if (m) s = m[1] + "×10" + (m[2] === "-" ? "⁻" : "") + m[3].replace(/\d/g, function (d) { return SUPERSCRIPT[d]; });
    return s.replace(/-/g, "−");
  }
  function columns(head, cols) {  // a table of equal-length columns
    var rows = [];
    for (var j = 0; j < cols[0].length; j++) rows.push(cols.map(function (c) { return num(c[j]); }));
    return { head: head, rows: rows };
  }
  function dashed(a, t) { if (t.dash) a["stroke-dasharray"] = "6 4"; return a; }
  function keyLine(g, t, x, y) {
    node("line", dashed({ x1: x, x2: x + 20, y1: y, y2: y, style: "stroke:" + paint(t.color) + ";stroke-width:2.5" }, t), g);
  }
  function keyBox(opacity) {
    return function (g, t, x, y) {
      node("rect", { x: x, y: y - 6, width: 20, height: 12, style: "fill:" + paint(t.color) + ";fill-opacity:" + opacity }, g);
    };
  }
  function axisName(pn, axis) { return pn[axis + "label"] || axis; }

  /** A line across the panel at one coordinate: "y" horizontal, "x" vertical (_Rule in Python). */
  function rule(axis) {
    return {
      make: function (t, layer) {
        return node("line", dashed({ style: "stroke:" + paint(t.color) + ";stroke-width:1.5" }, t), layer);
      },
      draw: function (e, t, d, sc) {
        var p = sc[axis](d[axis][0]), b = sc.box, at = p === null ? -9 : p;
        setAll(e, axis === "y" ? { x1: b[0], x2: b[2], y1: at, y2: at } : { y1: b[1], y2: b[3], x1: at, x2: at });
      },
      key: keyLine,
      table: function (t, d, pn) { return columns([axisName(pn, axis)], [d[axis]]); }
    };
  }

  /**
   * One entry per trace kind: make(t, layer) creates its element, draw(e, t, d, sc, ctx)
   * shows frame data d (ctx: the panel, wrap, measure, writeLines), key(g, t, x, y) draws its
   * legend swatch (absent: not in the legend), table(t, d, pn, say) gives {head, rows} (or {text})
   * for the "Data" disclosure.
   */
  var KINDS = {
    line: {
      make: function (t, layer) {
        return node("path", dashed({ fill: "none", style: "stroke:" + paint(t.color) + ";stroke-width:" + t.width }, t), layer);
      },
      draw: function (e, t, d, sc) { e.setAttribute("d", polyline(d.x, d.y, sc)); },
      key: keyLine,
      table: function (t, d, pn) { return columns([axisName(pn, "x"), axisName(pn, "y")], [d.x, d.y]); }
    },
    points: {
      make: function (t, layer) { return node("g", { style: "fill:" + paint(t.color) }, layer); },
      draw: function (e, t, d, sc) {
        sync(e, "circle", d.x.length, { r: t.size / 2 });
        for (var k = 0; k < d.x.length; k++) {
          var cx = sc.x(d.x[k]), cy = sc.y(d.y[k]);
          setAll(e.childNodes[k], { cx: cx === null ? -99 : r2(cx), cy: cy === null ? -99 : r2(cy) });
        }
      },
      key: function (g, t, x, y) { node("circle", { cx: x + 10, cy: y, r: 4.5, style: "fill:" + paint(t.color) }, g); },
      table: function (t, d, pn) { return columns([axisName(pn, "x"), axisName(pn, "y")], [d.x, d.y]); }
    },
    band: {
      make: function (t, layer) {
        return node("path", { stroke: "none", style: "fill:" + paint(t.color) + ";fill-opacity:0.22" }, layer);
      },
      draw: function (e, t, d, sc) {
        var up = "", down = [];
        for (var j = 0; j < d.x.length; j++) {
          var px = sc.x(d.x[j]), p1 = sc.y(d.y1[j]), p2 = sc.y(d.y2[j]);
          if (px === null || p1 === null || p2 === null) continue;
          up += (up ? " L " : "M ") + r2(px) + " " + r2(p2);
          down.unshift(" L " + r2(px) + " " + r2(p1));
        }
        e.setAttribute("d", up ? up + down.join("") + " Z" : "");
      },
      key: keyBox(0.3),
      table: function (t, d, pn, say) {
        return columns([axisName(pn, "x"), say.lower, say.upper], [d.x, d.y1, d.y2]);
      }
    },
    bars: {
      make: function (t, layer) { return node("g", { style: "fill:" + paint(t.color) }, layer); },
      draw: function (e, t, d, sc, ctx) {
        var pn = ctx.panel, b = sc.box;
        sync(e, "rect", d.x.length, {});
        var base = sc.y(Math.max(0, pn.yscale === "log" ? pn.ylim[0] : 0));
        if (base === null) base = b[3];
        for (var q = 0; q < d.x.length; q++) {
          var xl = sc.x(d.x[q] - t.width / 2), xr = sc.x(d.x[q] + t.width / 2), top = sc.y(d.heights[q]);
          if (top === null) top = base;
          setAll(e.childNodes[q], { x: r2(xl), width: r2(xr - xl), y: r2(Math.min(top, base)),
            height: r2(Math.abs(base - top)) });
        }
      },
      key: keyBox(1),
      table: function (t, d, pn) { return columns([axisName(pn, "x"), axisName(pn, "y")], [d.x, d.heights]); }
    },
    heatmap: {
      make: function (t, layer) { return node("g", {}, layer); },
      draw: function (e, t, d, sc) {
        var rows = t.shape[0], cols = t.shape[1], n = rows * cols;
        if (e.childNodes.length !== 2 * n) {
          while (e.firstChild) e.removeChild(e.firstChild);
          for (var c = 0; c < n; c++) node("rect", { style: "stroke:var(--kfig-plot)" }, e);
          for (c = 0; c < n; c++) node("text", { "text-anchor": "middle", "dominant-baseline": "central" }, e);
        }
        for (var r = 0; r < rows; r++) for (var s = 0; s < cols; s++) {
          var m = r * cols + s, xa = sc.x(s - 0.5), xb = sc.x(s + 0.5), ya = sc.y(r - 0.5), yb = sc.y(r + 0.5);
          var rgb = heatRGB(d.z[m], t.vmax);
          setAll(e.childNodes[m], { x: r2(Math.min(xa, xb)), y: r2(Math.min(ya, yb)), width: r2(Math.abs(xb - xa)),
            height: r2(Math.abs(yb - ya)), fill: "rgb(" + rgb.join(",") + ")" });
          var tx = e.childNodes[n + m];
          setAll(tx, { x: r2((xa + xb) / 2), y: r2((ya + yb) / 2),
            style: "font-size:" + FONT.cell + "px;fill:" + inkOn(rgb) });
          tx.textContent = d.text[m];
        }
      },
      table: function (t, d, pn) {
        var tick = function (ticks, v) {
          for (var k = 0; k < ticks.length; k++) if (ticks[k][0] === v) return ticks[k][1];
          return String(v);
        };
        var rows = [], cols = t.shape[1];
        var head = [axisName(pn, "y") + " \\ " + axisName(pn, "x")];
        for (var s = 0; s < cols; s++) head.push(tick(pn.xticks, s));
        for (var r = 0; r < t.shape[0]; r++) {
          rows.push([tick(pn.yticks, r)].concat(d.text.slice(r * cols, (r + 1) * cols).map(num)));
        }
        return { head: head, rows: rows, rowHeaders: true };
      }
    },
    hline: rule("y"),
    vline: rule("x"),
    text: {
      above: true,  // drawn above the clipped plot layer
      make: function (t, layer) {
        return node("text", { style: textStyle(FONT.note, "paint-order:stroke;stroke:var(--kfig-plot);" +
          "stroke-width:4px;stroke-linejoin:round") }, layer);
      },
      draw: function (e, t, d, sc, ctx) {
        // one line at (x, y) in axes fractions, its start, end or middle there as t.align says,
        // moved inside the plot area; wrapped (never inside brackets) only if wider than the plot
        var b = sc.box, room = b[2] - b[0] - 8, lines = ctx.wrap(d.text, FONT.note, room);
        var w = Math.max.apply(null, lines.map(function (l) { return ctx.measure(l, FONT.note); }));
        var at = b[0] + t.x * (b[2] - b[0]);
        var x = t.align === "right" ? at - 4 - w : t.align === "center" ? at - w / 2 : at + 6;
        x = clamp(x, b[0] + 4, b[2] - 4 - w);
        var h = FONT.note * (1.25 * lines.length - 0.25) + 2;
        var top = clamp(b[3] - t.y * (b[3] - b[1]) + 4, b[1] + 4, b[3] - 4 - h);
        setAll(e, { x: r2(x), y: r2(top + FONT.note) });
        ctx.writeLines(e, lines, x);
      },
      table: function (t, d) { return { text: d.text }; }
    }
  };

  window.softmaxbookFigure = function (root) {
    if (!root || root.kfig) return root && root.kfig;
    ensureStyle();
    var P = localise(JSON.parse(root.querySelector("script.kfig-data").textContent), document.documentElement.lang);
    var say = P.words;  // the script's words in the page's language (softmaxbook.interactive._words)
    var svg = root.querySelector("svg.kfig-svg");
    var nominal = P.size || svg.getAttribute("viewBox").split(/\s+/).slice(2).map(Number);
    var nP = P.panels.length;
    var sizes = P.sliders.map(function (s) { return s.values.length; });
    var index = P.sliders.map(function (s) { return s.index; });
    var scales = [], elems = [], cols = nP, width = 0;

    function frameIndex() {
      var f = 0;
      for (var s = 0; s < sizes.length; s++) f = f * sizes[s] + index[s];
      return f;
    }
    // Data of trace i in the current frame: its constant fields merged with the varying ones.
    function data(i) {
      var d = {}, s = P.traces[i].static, v = P.frames[frameIndex()][i], k;
      for (k in s) d[k] = s[k];
      if (v) for (k in v) d[k] = v[k];
      return d;
    }
    var moving = P.traces.map(function (t, i) {
      for (var f = 0; f < P.frames.length; f++) if (P.frames[f][i]) return true;
      return false;
    });

    // ---- text measurement (a hidden probe; an estimate while the figure is not rendered)
    var probe = null, widths = {};
    function measure(text, fs, bold) {
      var key = fs + (bold ? "b|" : "|") + text;
      if (widths[key] !== undefined) return widths[key];
      if (!probe || !probe.parentNode) probe = node("text", { "class": "kfig-probe", x: -1000, y: -1000, "aria-hidden": "true" }, svg);
      probe.setAttribute("style", "font-size:" + fs + "px" + (bold ? ";font-weight:bold" : ""));
      probe.textContent = text;
      var w = probe.getComputedTextLength();
      if (!(w > 0)) return String(text).length * fs * (bold ? 0.65 : 0.6);
      return (widths[key] = w);
    }
    /**
     * Words of a text as [word, after a space]: split at spaces outside brackets, so "(log 3)/λ"
     * is never broken, and around each Chinese character (never before its closing punctuation
     * ，。）, nor after an opening one).
     */
    function words(text) {
      var out = [], word = "", depth = 0, space = false;
      function cut(sp) {
        if (word) { out.push([word, space]); word = ""; space = false; }
        if (sp) space = true;
      }
      String(text).split("").forEach(function (ch) {
        if ("([{".indexOf(ch) >= 0) depth += 1;
        else if (")]}".indexOf(ch) >= 0) depth = Math.max(0, depth - 1);
        if (/[ \t\n\r]/.test(ch) && depth === 0) { cut(true); return; }
        var close = /[，。、；：！？）》”]/.test(ch), open = /[（《“]/.test(ch);
        var cjk = depth === 0 && (close || open || /[\u3400-\u9fff]/.test(ch));
        if (cjk && !close) cut(false);
        word += /[\t\n\r]/.test(ch) ? " " : ch;
        if (cjk && !open) cut(false);
      });
      cut(false);
      return out;
    }
    function wrap(text, fs, maxW, bold) {
      var lines = [], line = "";
      words(text).forEach(function (w) {
        var next = line ? line + (w[1] ? " " : "") + w[0] : w[0];
        if (line && measure(next, fs, bold) > maxW) { lines.push(line); line = w[0]; } else line = next;
      });
      if (line || !lines.length) lines.push(line);
      return lines;
    }
    function writeLines(e, lines, x) {
      while (e.firstChild) e.removeChild(e.firstChild);
      lines.forEach(function (l, k) {
        var span = node("tspan", { x: r2(x), dy: k ? "1.25em" : 0 }, e);
        span.textContent = k < lines.length - 1 ? l + " " : l;
      });
    }

    // ---- layout in CSS px for the current width (axes, ticks, labels, legends)
    function tickLabels(ticks, map, along, fs) {
      // every k-th label, so that neighbouring labels never overlap
      var pos = [];
      ticks.forEach(function (t) { var p = map(t[0]); if (p !== null) pos.push([p, t[1]]); });
      var step = 1;
      var clash = function (k) {
        for (var j = k; j < pos.length; j += k) {
          var gap = Math.abs(pos[j][0] - pos[j - k][0]);
          var need = along ? (measure(pos[j][1], fs) + measure(pos[j - k][1], fs)) / 2 + 8 : fs + 3;
          if (gap < need) return true;
        }
        return false;
      };
      while (step < pos.length && clash(step)) step += 1;
      return pos.map(function (p, j) { return [p[0], p[1], j % step === 0]; });
    }

    function panelPlan(pn, k, left, right) {
      var labelled = P.traces.filter(function (t) { return t.panel === k && t.label && pn.legend && KINDS[t.kind].key; });
      var tickW = 0;
      pn.yticks.forEach(function (t) { tickW = Math.max(tickW, measure(t[1], FONT.tick)); });
      var x0 = left + (pn.ylabel ? FONT.label + 12 : 4) + tickW + 10, x1 = right - 12;
      var slots = [], cx = 0, row = 0;
      labelled.forEach(function (t) {
        var w = 28 + measure(t.label, FONT.legend) + 16;
        if (cx > 0 && cx + w > right - 8 - x0) { row += 1; cx = 0; }
        slots.push([cx, row]);
        cx += w;
      });
      var titleLines = pn.title ? wrap(pn.title, FONT.title, x1 - x0, true) : [];
      return { labelled: labelled, slots: slots, legendRows: labelled.length ? row + 1 : 0, x0: x0, x1: x1,
        tickW: tickW, titleLines: titleLines };
    }

    function build(W) {
      width = W;
      cols = nP > 1 && W < STACK_BELOW ? 1 : nP;
      var pw = W / cols;
      var plotH = cols === 1 && nP > 1 ? clamp(pw * 0.62, 200, 320)
        : clamp(W * nominal[1] / nominal[0] - 60, 240, 420);
      while (svg.lastChild) svg.removeChild(svg.lastChild);
      probe = null;
      var plans = P.panels.map(function (pn, k) {
        var c = cols === 1 ? 0 : k;
        return panelPlan(pn, k, c * pw, (c + 1) * pw);
      });
      // panels of one row share their top margin and legend height, so the plots line up
      var rowsOf = cols === 1 ? plans.map(function (p) { return [p]; }) : [plans];
      var y = 0;
      rowsOf.forEach(function (row) {
        var top = 12, legend = 0, below = 10;
        row.forEach(function (p) {
          var pn = P.panels[plans.indexOf(p)];
          top = Math.max(top, p.titleLines.length * (FONT.title + 4) + 14);
          legend = Math.max(legend, p.legendRows);
          // room under the plot for the x tick labels and the x label, if the panel has them
          below = Math.max(below, pn.xlabel ? 50 : pn.xticks.length ? 30 : 10);
        });
        row.forEach(function (p) { p.y0 = y + top; p.y1 = p.y0 + plotH; p.legendY = p.y1 + below + 6; });
        y = y + top + plotH + below + legend * LEGEND_ROW + (legend ? 10 : 0) + 8;
      });
      var H = Math.ceil(y);
      setAll(svg, { viewBox: "0 0 " + W + " " + H, width: W, height: H, "data-columns": cols });
      scales = [];
      var layers = P.panels.map(function (pn, k) {
        var p = plans[k], x0 = p.x0, x1 = p.x1, y0 = p.y0, y1 = p.y1;
        var xs = axisMap(pn.xlim, pn.xscale, x0, x1);
        var ys = axisMap(pn.ylim, pn.yscale, pn.yflip ? y0 : y1, pn.yflip ? y1 : y0);
        scales.push({ x: xs.fwd, y: ys.fwd, xinv: xs.inv, yinv: ys.inv, box: [x0, y0, x1, y1] });
        var g = node("g", { "class": "kfig-panel", "data-panel": k }, svg);
        var clipId = root.id + "-clip" + k;
        node("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
          node("clipPath", { id: clipId }, node("defs", {}, g)));
        node("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0,
          style: "fill:var(--kfig-plot);stroke:var(--kfig-axis)" }, g);
        tickLabels(pn.xticks, xs.fwd, true, FONT.tick).forEach(function (t) {
          node("line", { x1: t[0], x2: t[0], y1: y0, y2: y1, style: "stroke:var(--kfig-grid)" }, g);
          node("line", { x1: t[0], x2: t[0], y1: y1, y2: y1 + 5, style: "stroke:var(--kfig-axis)" }, g);
          if (t[2]) node("text", { x: t[0], y: y1 + 7 + FONT.tick, "text-anchor": "middle",
            style: textStyle(FONT.tick) }, g).textContent = t[1];
        });
        tickLabels(pn.yticks, ys.fwd, false, FONT.tick).forEach(function (t) {
          node("line", { x1: x0, x2: x1, y1: t[0], y2: t[0], style: "stroke:var(--kfig-grid)" }, g);
          node("line", { x1: x0 - 5, x2: x0, y1: t[0], y2: t[0], style: "stroke:var(--kfig-axis)" }, g);
          if (t[2]) node("text", { x: x0 - 8, y: t[0], "text-anchor": "end", "dominant-baseline": "central",
            style: textStyle(FONT.tick) }, g).textContent = t[1];
        });
        if (pn.xlabel) node("text", { x: (x0 + x1) / 2, y: y1 + 14 + FONT.tick + FONT.label, "text-anchor": "middle",
          style: textStyle(FONT.label) }, g).textContent = pn.xlabel;
        if (pn.ylabel) node("text", { x: 0, y: 0, "text-anchor": "middle", style: textStyle(FONT.label),
          transform: "translate(" + r2(x0 - p.tickW - 18) + "," + r2((y0 + y1) / 2) + ") rotate(-90)" }, g).textContent = pn.ylabel;
        if (p.titleLines.length) {
          var title = node("text", { x: (x0 + x1) / 2, y: y0 - 10 - (p.titleLines.length - 1) * (FONT.title + 4),
            "text-anchor": "middle", style: textStyle(FONT.title, "font-weight:bold") }, g);
          writeLines(title, p.titleLines, (x0 + x1) / 2);
        }
        p.labelled.forEach(function (t, j) {
          var lx = x0 + p.slots[j][0], ly = p.legendY + p.slots[j][1] * LEGEND_ROW;
          KINDS[t.kind].key(g, t, lx, ly);
          node("text", { x: lx + 28, y: ly, "dominant-baseline": "central", style: textStyle(FONT.legend) }, g)
            .textContent = t.label;
        });
        return node("g", { "clip-path": "url(#" + clipId + ")" }, g);
      });
      elems = P.traces.map(function (t, i) {
        var kind = KINDS[t.kind];
        var e = kind.make(t, kind.above ? layers[t.panel].parentNode : layers[t.panel]);
        e.setAttribute("data-trace", i);
        return e;
      });
    }

    function drawTrace(i) {
      var t = P.traces[i];
      KINDS[t.kind].draw(elems[i], t, data(i), scales[t.panel],
        { panel: P.panels[t.panel], wrap: wrap, measure: measure, writeLines: writeLines });
    }
    function redraw(all) {
      for (var i = 0; i < P.traces.length; i++) if (all || moving[i]) drawTrace(i);
      if (details.open) fillTables();
    }

    // ---- the "Data" disclosure: the numbers of the current frame, one table per trace
    var details = html("details");
    details.className = "kfig-details";
    html("summary", say.data, details);
    var tables = html("div", null, details);
    tables.className = "kfig-tables";
    tables.setAttribute("role", "group");
    function fillTables() {
      while (tables.firstChild) tables.removeChild(tables.firstChild);
      var at = P.sliders.map(function (s, n) { return s.label + " = " + s.text[index[n]]; }).join(", ");
      tables.setAttribute("aria-label", at ? say.dataAt.replace("{position}", at) : say.data);
      P.traces.forEach(function (t, i) {
        var pn = P.panels[t.panel], kind = KINDS[t.kind], spec = kind.table(t, data(i), pn, say);
        var name = t.label || say[t.kind];
        if (nP > 1) {
          name = say.inPanel.replace("{name}", name)
            .replace("{panel}", pn.title || say.panel.replace("{number}", t.panel + 1));
        }
        if (spec.text !== undefined) { html("p", spec.text, tables); return; }
        var box = html("div", null, tables);
        box.className = "kfig-table";
        var table = html("table", null, box);
        html("caption", name, table);
        var tr = html("tr", null, html("thead", null, table));
        spec.head.forEach(function (h) { html("th", h, tr).setAttribute("scope", "col"); });
        var body = html("tbody", null, table);
        spec.rows.forEach(function (row) {
          var r = html("tr", null, body);
          row.forEach(function (v, c) {
            var cell = html(spec.rowHeaders && c === 0 ? "th" : "td", v, r);
            if (spec.rowHeaders && c === 0) cell.setAttribute("scope", "row");
          });
        });
        if (box.scrollHeight > box.clientHeight + 1) {  // a long table scrolls: reachable by keyboard
          box.setAttribute("tabindex", "0");
          box.setAttribute("role", "group");
          box.setAttribute("aria-label", name);
        }
      });
    }
    details.addEventListener("toggle", function () { if (details.open) fillTables(); });

    // ---- the sentence of the position: a visible readout under the drawing, updated at once,
    // and a polite live region that reads it after a pause (created with its text, so that
    // nothing is announced on load). The readout is hidden from screen readers, which find
    // the same sentence in the live region: read once, not twice.
    var readout = null, live = null, pending = null;
    if (P.sliders.length) {
      readout = html("p", P.announce[frameIndex()]);
      readout.className = "kfig-readout";
      readout.setAttribute("aria-hidden", "true");
      live = html("div", P.announce[frameIndex()]);
      live.className = "kfig-live";
      live.setAttribute("aria-live", "polite");
      live.setAttribute("aria-atomic", "true");
    }
    function announce() {
      readout.textContent = P.announce[frameIndex()];
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () {
        pending = null;
        live.textContent = P.announce[frameIndex()];
      }, 150);
    }
    svg.parentNode.insertBefore(details, svg.nextSibling);
    if (live) svg.parentNode.insertBefore(live, svg.nextSibling);
    if (readout) svg.parentNode.insertBefore(readout, svg.nextSibling);

    // ---- controls: a labelled range input per slider, its value always shown next to it
    var box = root.querySelector(".kfig-controls");
    var inputs = P.sliders.map(function (s, n) {
      var wrapper = html("div", null, box);
      wrapper.className = "kfig-control";
      var id = root.id + "-s" + n;
      var lab = html("label", s.label, wrapper);
      lab.setAttribute("for", id);
      var inp = html("input", null, wrapper);
      inp.type = "range"; inp.id = id; inp.className = "kfig-slider"; inp.min = 0; inp.max = s.values.length - 1;
      inp.step = 1; inp.value = s.index; inp.setAttribute("data-name", s.name);
      inp.setAttribute("aria-valuetext", s.text[s.index]);
      var out = html("output", s.text[s.index], wrapper);
      out.setAttribute("aria-hidden", "true");  // the slider's aria-valuetext says it
      inp.addEventListener("input", function () { set(n, Number(inp.value)); });
      inp.addEventListener("keydown", function (ev) {
        if (ev.key !== "PageUp" && ev.key !== "PageDown") return;  // arrows, Home, End: native
        ev.preventDefault();
        var big = Math.max(1, Math.round((s.values.length - 1) / 10));
        set(n, index[n] + (ev.key === "PageUp" ? big : -big));
      });
      return { input: inp, output: out };
    });

    function set(n, g) {
      var s = P.sliders[n];
      g = Math.max(0, Math.min(s.values.length - 1, Math.round(g)));
      var changed = g !== index[n];
      index[n] = g;
      inputs[n].input.value = g;
      inputs[n].output.textContent = s.text[g];
      inputs[n].input.setAttribute("aria-valuetext", s.text[g]);
      redraw(false);
      if (changed) announce();
    }

    // ---- sliders that stay on screen with the panels they drive
    /** The bottom of the page's fixed or sticky bars at the top of the window (0 if none). */
    function headerBottom() {
      var r = root.getBoundingClientRect(), bottom = 0, seen = [];
      if (!document.elementsFromPoint) return 0;
      document.elementsFromPoint(clamp((r.left + r.right) / 2, 0, window.innerWidth - 1), 1).forEach(function (e) {
        for (; e && e !== document.body && e !== document.documentElement; e = e.parentElement) {
          if (seen.indexOf(e) >= 0 || (e.closest && e.closest(".kfig"))) return;
          seen.push(e);
          var pos = getComputedStyle(e).position, b = e.getBoundingClientRect();
          if ((pos === "fixed" || pos === "sticky") && b.top <= 1) { bottom = Math.max(bottom, b.bottom); return; }
        }
      });
      return Math.ceil(bottom);
    }
    function fit() {
      var w = Math.floor(svg.getBoundingClientRect().width) || nominal[0];
      if (w !== width) {
        build(w);
        redraw(true);
      }
      if (box) root.style.setProperty("--kfig-top", headerBottom() + "px");  // the sticky sliders' place
    }
    fit();
    if (window.ResizeObserver) new ResizeObserver(fit).observe(root);
    window.addEventListener("resize", fit);

    root.kfig = {
      payload: P, index: index, frameIndex: frameIndex, data: data, set: set,
      columns: function () { return cols; },
      scale: function (k) { var s = scales[k]; return { x: s.x, y: s.y, xinv: s.xinv, yinv: s.yinv }; }
    };
    return root.kfig;
  };
})();
