/*
 * kfig.js -- kernel-free interactive figures of softmaxbook (MIT licence).
 *
 * softmaxbook.interactive.Figure.html() inlines this file next to a JSON payload of
 * frames computed in Python when the notebook ran. No kernel, no network, no library:
 * moving a slider picks the precomputed frame and updates an SVG in place.
 *
 * DOM (what the browser tests rely on):
 *   figure.kfig#kfig-XXXX
 *     div.kfig-controls > label.kfig-control > span + input[type=range].kfig-slider[data-name] + output
 *     svg.kfig-svg > g.kfig-panel[data-panel=k] > ... elements with data-trace=i:
 *        line: path (d = "M x y L x y ...", a new M after a gap)   points: g > circle
 *        band: path    bars: g > rect    heatmap: g > rect + text    hline/vline: line    text: text
 *     figcaption
 *     script.kfig-data (JSON: sliders, panels, traces, frames)
 *   root.kfig = {payload, index, frameIndex(), data(i), scale(k), set(sliderNo, gridIndex)}
 *     scale(k) -> {x(v), y(v), xinv(px), yinv(px)}: data <-> SVG user units of panel k.
 * Frames are row-major over the sliders (first slider slowest). Fields of a trace that
 * are the same in every frame are stored once in traces[i].static; frames[f][i] holds
 * the varying fields only (null when none vary).
 */
(function () {
  "use strict";
  if (window.softmaxbookFigure) return;
  var NS = "http://www.w3.org/2000/svg";
  var M = { left: 62, right: 14, top: 30, bottom: 48, legendRow: 16, legendGap: 52 };

  function node(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function r2(v) { return Math.round(v * 100) / 100; }

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
  function heat(v, vmax) {
    var t = Math.max(-1, Math.min(1, v / vmax));
    var end = t < 0 ? [33, 102, 172] : [178, 24, 43];
    var s = Math.abs(t);
    var c = [0, 1, 2].map(function (i) { return Math.round(255 + (end[i] - 255) * s); });
    return "rgb(" + c.join(",") + ")";
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

  function ensureStyle() {
    if (document.getElementById("kfig-style")) return;
    var s = document.createElement("style");
    s.id = "kfig-style";
    s.textContent =
      ".kfig{margin:1em 0;max-width:100%}" +
      ".kfig-controls{display:flex;flex-wrap:wrap;gap:.4em 1.5em;margin-bottom:.3em}" +
      ".kfig-control{display:flex;align-items:center;gap:.5em;font-size:.95em}" +
      ".kfig-control input{width:16em;max-width:60vw}" +
      ".kfig-control output{font-variant-numeric:tabular-nums;min-width:4.5em}" +
      ".kfig-svg{width:100%;height:auto;display:block;font-family:sans-serif}" +
      ".kfig figcaption{font-size:.9em;color:#333;margin-top:.3em}";
    document.head.appendChild(s);
  }

  window.softmaxbookFigure = function (root) {
    if (!root || root.kfig) return root && root.kfig;
    ensureStyle();
    var P = JSON.parse(root.querySelector("script.kfig-data").textContent);
    var svg = root.querySelector("svg.kfig-svg");
    var vb = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    var W = vb[2], H = vb[3], nP = P.panels.length;
    var sizes = P.sliders.map(function (s) { return s.values.length; });
    var index = P.sliders.map(function (s) { return s.index; });
    var scales = [], layers = [], elems = [];

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
    function varies(i) {
      for (var f = 0; f < P.frames.length; f++) if (P.frames[f][i]) return true;
      return false;
    }

    // ---- axes, ticks, labels, legends (drawn once)
    P.panels.forEach(function (pn, k) {
      var labelled = P.traces.filter(function (t) { return t.panel === k && t.label && pn.legend; });
      var x0 = k * W / nP + M.left, x1 = (k + 1) * W / nP - M.right;
      // Legend entries flow left to right and wrap; widths estimated from the label length.
      var slots = [], cx = 0, row = 0;
      labelled.forEach(function (t) {
        var w = 23 + 6.3 * t.label.length + 14;
        if (cx > 0 && cx + w > x1 - x0) { row += 1; cx = 0; }
        slots.push([cx, row]);
        cx += w;
      });
      var rows = labelled.length ? row + 1 : 0;
      var y0 = M.top, y1 = H - M.bottom - rows * M.legendRow;
      var xs = axisMap(pn.xlim, pn.xscale, x0, x1);
      var ys = axisMap(pn.ylim, pn.yscale, pn.yflip ? y0 : y1, pn.yflip ? y1 : y0);
      scales.push({ x: xs.fwd, y: ys.fwd, xinv: xs.inv, yinv: ys.inv, box: [x0, y0, x1, y1] });
      var g = node("g", { "class": "kfig-panel", "data-panel": k }, svg);
      var clipId = root.id + "-clip" + k;
      node("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
        node("clipPath", { id: clipId }, node("defs", {}, g)));
      node("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: "#fff", stroke: "#444" }, g);
      pn.xticks.forEach(function (t) {
        var px = xs.fwd(t[0]); if (px === null) return;
        node("line", { x1: px, x2: px, y1: y0, y2: y1, stroke: "#e3e3e3" }, g);
        node("line", { x1: px, x2: px, y1: y1, y2: y1 + 4, stroke: "#444" }, g);
        node("text", { x: px, y: y1 + 16, "text-anchor": "middle", "font-size": 11 }, g).textContent = t[1];
      });
      pn.yticks.forEach(function (t) {
        var py = ys.fwd(t[0]); if (py === null) return;
        node("line", { x1: x0, x2: x1, y1: py, y2: py, stroke: "#e3e3e3" }, g);
        node("line", { x1: x0 - 4, x2: x0, y1: py, y2: py, stroke: "#444" }, g);
        node("text", { x: x0 - 6, y: py + 4, "text-anchor": "end", "font-size": 11 }, g).textContent = t[1];
      });
      node("text", { x: (x0 + x1) / 2, y: y1 + 32, "text-anchor": "middle", "font-size": 12 }, g).textContent = pn.xlabel;
      node("text", { x: 0, y: 0, "text-anchor": "middle", "font-size": 12,
        transform: "translate(" + (x0 - 46) + "," + (y0 + y1) / 2 + ") rotate(-90)" }, g).textContent = pn.ylabel;
      if (pn.title) node("text", { x: (x0 + x1) / 2, y: y0 - 10, "text-anchor": "middle", "font-size": 13,
        "font-weight": "bold" }, g).textContent = pn.title;
      labelled.forEach(function (t, j) {
        var lx = x0 + slots[j][0], ly = y1 + M.legendGap + slots[j][1] * M.legendRow;
        if (t.kind === "band" || t.kind === "bars") {
          node("rect", { x: lx, y: ly - 8, width: 18, height: 9, fill: t.color, "fill-opacity": t.kind === "band" ? 0.25 : 1 }, g);
        } else if (t.kind === "points") {
          node("circle", { cx: lx + 9, cy: ly - 4, r: 3.5, fill: t.color }, g);
        } else {
          node("line", { x1: lx, x2: lx + 18, y1: ly - 4, y2: ly - 4, stroke: t.color, "stroke-width": 2,
            "stroke-dasharray": t.dash ? "5 3" : "none" }, g);
        }
        node("text", { x: lx + 23, y: ly, "font-size": 11 }, g).textContent = t.label;
      });
      layers.push(node("g", { "clip-path": "url(#" + clipId + ")" }, g));
    });

    // ---- one element per trace, updated in place on every frame
    P.traces.forEach(function (t, i) {
      var layer = t.kind === "text" ? layers[t.panel].parentNode : layers[t.panel];
      var a = { "data-trace": i };
      var e;
      if (t.kind === "line") {
        a.fill = "none"; a.stroke = t.color; a["stroke-width"] = t.width;
        if (t.dash) a["stroke-dasharray"] = "6 4";
        e = node("path", a, layer);
      } else if (t.kind === "band") {
        a.fill = t.color; a["fill-opacity"] = 0.2; a.stroke = "none";
        e = node("path", a, layer);
      } else if (t.kind === "hline" || t.kind === "vline") {
        a.stroke = t.color; a["stroke-width"] = 1.4;
        if (t.dash) a["stroke-dasharray"] = "6 4";
        e = node("line", a, layer);
      } else if (t.kind === "text") {
        a.fill = t.color === "#000000" ? "#000" : t.color; a["font-size"] = 12;
        e = node("text", a, layer);
      } else {
        e = node("g", a, layer);
      }
      elems.push(e);
    });

    function drawTrace(i) {
      var t = P.traces[i], d = data(i), e = elems[i], sc = scales[t.panel], b = sc.box;
      if (t.kind === "line") {
        e.setAttribute("d", polyline(d.x, d.y, sc));
      } else if (t.kind === "band") {
        var up = "", down = [];
        for (var j = 0; j < d.x.length; j++) {
          var px = sc.x(d.x[j]), p1 = sc.y(d.y1[j]), p2 = sc.y(d.y2[j]);
          if (px === null || p1 === null || p2 === null) continue;
          up += (up ? " L " : "M ") + r2(px) + " " + r2(p2);
          down.unshift(" L " + r2(px) + " " + r2(p1));
        }
        e.setAttribute("d", up ? up + down.join("") + " Z" : "");
      } else if (t.kind === "hline") {
        var py = sc.y(d.y[0]);
        setAll(e, { x1: b[0], x2: b[2], y1: py === null ? -9 : py, y2: py === null ? -9 : py });
      } else if (t.kind === "vline") {
        var vx = sc.x(d.x[0]);
        setAll(e, { y1: b[1], y2: b[3], x1: vx === null ? -9 : vx, x2: vx === null ? -9 : vx });
      } else if (t.kind === "text") {
        setAll(e, { x: b[0] + t.x * (b[2] - b[0]) + 4, y: b[3] - t.y * (b[3] - b[1]) + 14 });
        e.textContent = d.text;
      } else if (t.kind === "points") {
        sync(e, "circle", d.x.length, { r: t.size / 2, fill: t.color });
        for (var k = 0; k < d.x.length; k++) {
          var cx = sc.x(d.x[k]), cy = sc.y(d.y[k]);
          setAll(e.childNodes[k], { cx: cx === null ? -99 : r2(cx), cy: cy === null ? -99 : r2(cy) });
        }
      } else if (t.kind === "bars") {
        sync(e, "rect", d.x.length, { fill: t.color });
        var base = sc.y(Math.max(0, P.panels[t.panel].yscale === "log" ? P.panels[t.panel].ylim[0] : 0));
        if (base === null) base = b[3];
        for (var q = 0; q < d.x.length; q++) {
          var xl = sc.x(d.x[q] - t.width / 2), xr = sc.x(d.x[q] + t.width / 2), top = sc.y(d.heights[q]);
          if (top === null) top = base;
          setAll(e.childNodes[q], { x: r2(xl), width: r2(xr - xl), y: r2(Math.min(top, base)),
            height: r2(Math.abs(base - top)) });
        }
      } else if (t.kind === "heatmap") {
        var rows = t.shape[0], cols = t.shape[1], n = rows * cols;
        if (e.childNodes.length !== 2 * n) {
          while (e.firstChild) e.removeChild(e.firstChild);
          for (var c = 0; c < n; c++) node("rect", { stroke: "#fff" }, e);
          for (c = 0; c < n; c++) node("text", { "text-anchor": "middle", "font-size": 12 }, e);
        }
        for (var r = 0; r < rows; r++) for (var s = 0; s < cols; s++) {
          var m = r * cols + s, xa = sc.x(s - 0.5), xb = sc.x(s + 0.5), ya = sc.y(r - 0.5), yb = sc.y(r + 0.5);
          setAll(e.childNodes[m], { x: r2(Math.min(xa, xb)), y: r2(Math.min(ya, yb)), width: r2(Math.abs(xb - xa)),
            height: r2(Math.abs(yb - ya)), fill: heat(d.z[m], t.vmax) });
          var tx = e.childNodes[n + m];
          setAll(tx, { x: r2((xa + xb) / 2), y: r2((ya + yb) / 2 + 4),
            fill: Math.abs(d.z[m]) > 0.6 * t.vmax ? "#fff" : "#111" });
          tx.textContent = d.text[m];
        }
      }
    }

    function setAll(e, attrs) { for (var k in attrs) e.setAttribute(k, attrs[k]); }
    function sync(g, tag, n, attrs) {
      while (g.childNodes.length > n) g.removeChild(g.lastChild);
      while (g.childNodes.length < n) node(tag, attrs, g);
    }

    var moving = P.traces.map(function (t, i) { return varies(i); });
    function redraw(all) {
      for (var i = 0; i < P.traces.length; i++) if (all || moving[i]) drawTrace(i);
    }

    // ---- controls
    var box = root.querySelector(".kfig-controls");
    var inputs = P.sliders.map(function (s, n) {
      var lab = document.createElement("label");
      lab.className = "kfig-control";
      var name = document.createElement("span");
      name.textContent = s.label;
      var inp = document.createElement("input");
      inp.type = "range"; inp.className = "kfig-slider"; inp.min = 0; inp.max = s.values.length - 1;
      inp.step = 1; inp.value = s.index; inp.setAttribute("data-name", s.name);
      inp.setAttribute("aria-valuetext", s.label + " = " + s.text[s.index]);
      var out = document.createElement("output");
      out.textContent = s.text[s.index];
      inp.addEventListener("input", function () { set(n, Number(inp.value)); });
      lab.appendChild(name); lab.appendChild(inp); lab.appendChild(out); box.appendChild(lab);
      return { input: inp, output: out };
    });

    function set(n, g) {
      var s = P.sliders[n];
      g = Math.max(0, Math.min(s.values.length - 1, Math.round(g)));
      index[n] = g;
      inputs[n].input.value = g;
      inputs[n].output.textContent = s.text[g];
      inputs[n].input.setAttribute("aria-valuetext", s.label + " = " + s.text[g]);
      redraw(false);
    }

    redraw(true);
    root.kfig = {
      payload: P, index: index, frameIndex: frameIndex, data: data, set: set,
      scale: function (k) { var s = scales[k]; return { x: s.x, y: s.y, xinv: s.xinv, yinv: s.yinv }; }
    };
    return root.kfig;
  };
})();
