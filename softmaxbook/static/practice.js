/* In-page practice checks of the course website (softmaxbook/grader/practice.py).
 *
 * Each <section class="practice-check"> holds a form (a text field for a number, radio
 * buttons for a choice), a polite live region and its exercise's data, computed from the
 * answer key when the site was built. Submitting the form (Enter, or the Check button)
 * shows the verdict check() gives in a notebook: the same status, score and feedback.
 * Numbers are graded as softmaxbook.grader.kinds.Numeric grades them: within the tolerance
 * of every entry is right; a declared wrong answer gets its own feedback; entries all within
 * `close` of the reference are told what precision to give.
 */
(function () {
  "use strict";

  var STYLE =
    ".practice-check{border:1px solid var(--pst-color-border,#ccc);border-left:6px solid #767676;" +
    "border-radius:4px;padding:.6em 1em;margin:1em 0}" +
    ".practice-check[data-state=correct]{border-left-color:#2e7d32}" +
    ".practice-check[data-state=partly]{border-left-color:#ef6c00}" +
    ".practice-check[data-state=wrong]{border-left-color:#c62828}" +
    ".practice-check .practice-title{margin:0 0 .5em}" +
    ".practice-check fieldset{border:0;margin:0 0 .5em;padding:0}" +
    ".practice-check legend{padding:0;margin-bottom:.3em}" +
    ".practice-check .practice-option{display:block;margin:.2em 0;cursor:pointer}" +
    ".practice-check label{margin-right:.5em}" +
    ".practice-check input[type=text]{font:inherit;min-width:16em;max-width:100%;padding:.2em .4em;" +
    "color:var(--pst-color-text-base,#222);background:var(--pst-color-background,#fff);" +
    "border:1px solid #767676;border-radius:3px}" +
    ".practice-check button{font:inherit;margin:.3em 0;padding:.2em .9em;cursor:pointer;" +
    "color:var(--pst-color-text-base,#222);background:var(--pst-color-surface,#f3f4f5);" +
    "border:1px solid #767676;border-radius:3px}" +
    ".practice-check input:focus{outline:none}.practice-check button:focus{outline:none}" +
    ".practice-check input:focus-visible,.practice-check button:focus-visible{outline:3px solid #0b5cad;" +
    "outline-offset:2px}" +
    "html[data-theme=dark] .practice-check input:focus-visible,html[data-theme=dark] .practice-check " +
    "button:focus-visible{outline-color:#8fd3ff}" +
    ".practice-check .practice-verdict{margin:.4em 0 0}.practice-check .practice-verdict:empty{display:none}" +
    ".practice-check .practice-status{font-weight:bold}";

  function addStyle() {
    if (document.getElementById("practice-style")) return;
    var s = document.createElement("style");
    s.id = "practice-style";
    s.textContent = STYLE;
    document.head.appendChild(s);
  }

  // ------------------------------------------------------------------ reading a number
  // Every word the script shows comes from the page data (softmaxbook/grader/practice.py): a
  // text, or one per language ({"en": ..., "zh-CN": ...}), picked by the page's language.
  var WORDS = {};
  function pick(t) { return typeof t === "string" ? t : (t[document.documentElement.lang] || t.en); }
  function say(key, vars) {
    return pick(WORDS[key]).replace(/\{(\w+)\}/g, function (m, name) {
      return vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
    });
  }
  function unreadable() { return refusal(say("unreadable"), true); }
  var FUNCTIONS = { log: Math.log, ln: Math.log, log2: Math.log2, exp: Math.exp, sqrt: Math.sqrt, abs: Math.abs };
  var CONSTANTS = { pi: Math.PI, e: Math.E, E: Math.E };

  // A refusal, and whether it is about how the answer is written (then the shape's help follows,
  // as in check()).
  function refusal(message, aboutForm) {
    var e = new Error(message);
    e.aboutForm = aboutForm;
    return e;
  }

  function tokens(text) {
    var out = [], re = /\s*(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z_0-9]*|\*\*|[-+*\/^(),\[\]])/y;
    text = text.replace(/\u2212/g, "-").replace(/[\u00d7\u00b7]/g, "*");
    re.lastIndex = 0;
    while (re.lastIndex < text.length) {
      var start = re.lastIndex, m = re.exec(text);
      if (!m) {
        if (/^\s*$/.test(text.slice(start))) break;
        throw unreadable();
      }
      out.push(m[1] === "^" ? "**" : m[1]);
    }
    return out;
  }

  // A small recursive-descent reader with Python's precedence: ** binds tighter than a
  // unary minus and is right-associative; commas (outside brackets too) make lists.
  function read(text) {
    var t = tokens(text), k = 0;
    function peek() { return t[k]; }
    function take(x) { if (t[k] !== x) throw unreadable(); k++; }
    function items(close) {
      var list = [seq()];
      while (peek() === ",") { k++; if (peek() === close) break; list.push(seq()); }
      return list;
    }
    function seq() {
      if (peek() === "[") { k++; var l = peek() === "]" ? [] : items("]"); take("]"); return l; }
      return sum();
    }
    function sum() {
      var v = product();
      while (peek() === "+" || peek() === "-") { var op = t[k++], w = product(); v = op === "+" ? v + w : v - w; }
      return v;
    }
    function product() {
      var v = unary();
      while (peek() === "*" || peek() === "/") {
        var op = t[k++], w = unary();
        if (op === "/" && w === 0) throw refusal(say("division"), false);
        v = op === "*" ? v * w : v / w;
      }
      return v;
    }
    function unary() {
      if (peek() === "-") { k++; return -unary(); }
      if (peek() === "+") { k++; return unary(); }
      return power();
    }
    function power() {
      var v = atom();
      if (peek() === "**") { k++; return Math.pow(v, unary()); }
      return v;
    }
    function atom() {
      var x = t[k++];
      if (x === undefined) throw unreadable();
      if (x === "(") {
        var inner = items(")");
        take(")");
        return inner.length === 1 ? inner[0] : inner;
      }
      if (/^[\d.]/.test(x)) return Number(x);
      if (Object.prototype.hasOwnProperty.call(FUNCTIONS, x)) {
        take("(");
        var a = sum();
        take(")");
        return FUNCTIONS[x](a);
      }
      if (Object.prototype.hasOwnProperty.call(CONSTANTS, x)) return CONSTANTS[x];
      if (/^[A-Za-z_]/.test(x) && peek() !== "(") {      // as check() says: numbers have no symbols
        throw refusal(say("unknown_name", { name: x }), false);
      }
      throw unreadable();
    }
    var value = items(null);
    if (k !== t.length) throw unreadable();
    if (value.length === 1) value = value[0];
    if (typeof value !== "number" && !Array.isArray(value)) throw unreadable();
    return value;
  }

  // The entries of `value` for `shape`, checked as softmaxbook.grader.reading.check_shape does.
  function flatten(value, shape) {
    var isList = Array.isArray;
    if (shape.length === 0) {
      if (isList(value)) throw refusal(say("single", { n: value.length }), true);
      return [value];
    }
    if (!isList(value)) {
      throw refusal(shape.length === 1 ? say("vector", { n: shape[0] })
                                       : say("matrix", { rows: shape[0], cols: shape[1] }), true);
    }
    if (shape.length === 1) {
      if (value.length === 1 && isList(value[0])) value = value[0];
      if (value.every(function (v) { return isList(v) && v.length === 1; })) value = value.map(function (v) { return v[0]; });
      if (value.length !== shape[0] || value.some(isList)) {
        throw refusal(say("vector_got", { n: shape[0], got: value.length }), true);
      }
      return value;
    }
    var ok = value.length === shape[0] && value.every(function (r) {
      return isList(r) && r.length === shape[1] && !r.some(isList);
    });
    if (!ok) throw refusal(say("matrix", { rows: shape[0], cols: shape[1] }), true);
    return [].concat.apply([], value);
  }

  function significantDigits(x) {
    var m = String(Math.abs(x)).split(/e/i)[0].replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
    return Math.max(m.length, 1);
  }

  function result(passed, score, message, details) {
    message = pick(message);
    if (details && details.length) {
      message = say("with_details", { headline: message.replace(/[.\u3002]+$/, ""),
        details: details.map(function (d) { return d.replace(/[.\u3002]+$/, ""); }).join(say("separator")) });
    }
    return { passed: passed, score: score, message: message,
             status: passed ? "correct" : (score > 0 ? "partly right" : "not right yet") };
  }

  function within(a, b, tol) {
    for (var i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol[i])) return false;
    return true;
  }

  function gradeNumber(D, text) {
    WORDS = D.words;
    if (!text.trim()) return result(false, 0, say("unread", { why: say("empty") }));
    var a;
    try {
      a = flatten(read(text), D.shape);
    } catch (err) {
      if (!err.aboutForm) return result(false, 0, say("unread", { why: err.message }));
      return result(false, 0, say("unread", { why: say("refusal_how", { refusal: err.message.replace(/[.\u3002]+$/, ""),
                                                                         how: pick(D.messages.how) }) }));
    }
    if (a.some(function (v) { return typeof v !== "number" || !isFinite(v); })) {
      return result(false, 0, D.messages.nonfinite);
    }
    var ref = D.reference, ok = a.map(function (v, i) { return Math.abs(v - ref[i]) <= D.tolerance[i]; });
    var right = ok.filter(Boolean).length;
    if (right === ok.length) return result(true, 1, D.messages.correct);
    var score = ok.length > 1 ? right / ok.length : 0;
    for (var w = 0; w < D.wrong.length; w++) {
      if (within(a, D.wrong[w].value, D.wrong[w].tolerance)) return result(false, score, D.wrong[w].message);
    }
    var details = ok.length > 1 ? [say("entries", { positions: D.positions.filter(function (_, i) { return !ok[i]; }).join(", ") })] : [];
    var close = a.every(function (v, i) { return ok[i] || Math.abs(v - ref[i]) <= D.close * Math.abs(ref[i]) + D.atol; });
    if (close) {
      var fewer = D.digits !== null && a.some(function (v, i) { return !ok[i] && significantDigits(v) < D.digits; });
      return result(false, score, D.messages[fewer ? "close_fewer" : "close_other"], details);
    }
    return result(false, score, D.messages.not, details);
  }

  // ------------------------------------------------------------------ the page
  function show(box, r) {
    var out = box.querySelector(".practice-verdict");
    box.setAttribute("data-state", r.passed ? "correct" : (r.score > 0 ? "partly" : "wrong"));
    out.textContent = "";
    var status = document.createElement("span");
    status.className = "practice-status";
    status.textContent = say("score", { status: say("status_" + r.status.replace(/ /g, "_")),
                                        score: Math.round(r.score * 100) + "%" });
    var message = document.createElement("span");
    message.className = "practice-message";
    message.textContent = pick(r.message);
    out.appendChild(status);
    out.appendChild(document.createTextNode(say("colon")));
    out.appendChild(message);
  }

  function setUp(box) {
    if (box.getAttribute("data-ready")) return;
    var D = JSON.parse(box.querySelector("script.practice-data").textContent);
    WORDS = D.words;
    var form = box.querySelector("form");
    function grade() {
      if (D.kind === "choice") {
        var picked = box.querySelector("input[type=radio]:checked");
        return D.verdicts[picked ? picked.value : ""];
      }
      return gradeNumber(D, box.querySelector("input[type=text]").value);
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      show(box, grade());
    });
    form.addEventListener("keydown", function (e) {   // Enter on an option submits, as in the text field
      if (e.key === "Enter" && e.target.type === "radio") {
        e.preventDefault();
        show(box, grade());
      }
    });
    box.setAttribute("data-ready", "1");
  }

  addStyle();
  Array.prototype.forEach.call(document.querySelectorAll("section.practice-check"), setUp);
  window.softmaxbookPractice = { gradeNumber: gradeNumber };     // what the tests compare with check()
})();
