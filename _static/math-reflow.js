/* MathJax 4 breaks a long display equation to fit the width of its column when the page is
   typeset (softmaxbook/sphinxext.py sets output.displayOverflow = "linebreak"). An
   equation inside a closed solution or a hidden cell has no width then, so it is not
   broken, and a phone turned sideways changes the width. So when a reader opens hidden
   content whose display math is wider than its column, or the window's width changes,
   MathJax measures and breaks the equations again (its "metrics" step and what follows;
   about 1-2 s for the longest chapter on a loaded test machine). */
(function () {
  "use strict";
  var width = window.innerWidth, timer = null;

  function reflow() {
    var mj = window.MathJax;
    if (!mj || !mj.startup || !mj.startup.promise || !mj._ || !mj._.core) return;
    mj.startup.promise = mj.startup.promise.then(function () {
      return mj.startup.document.rerenderPromise(mj._.core.MathItem.STATE.METRICS);
    });
  }

  // only when revealed math is wider than its column (MathJax re-lays out the whole page)
  function reflowIfMath(container) {
    var wide = [].some.call((container || document).querySelectorAll("div.math > mjx-container"),
                            function (c) { return c.scrollWidth > c.clientWidth + 1; });
    if (wide) reflow();
  }

  // <details> (hidden cells, dropdowns) do not bubble "toggle": capture it
  document.addEventListener("toggle", function (e) {
    if (e.target.open) reflowIfMath(e.target);
  }, true);
  // sphinx-togglebutton (solutions) shows its content by changing classes after the click
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest && e.target.closest(".toggle-button");
    if (button) setTimeout(function () { reflowIfMath(button.closest(".admonition, .toggle, .cell") || document); }, 0);
  });
  window.addEventListener("resize", function () {
    if (window.innerWidth === width) return;  // also ignores the resize events of rescan-scrollables.js
    clearTimeout(timer);
    timer = setTimeout(function () { width = window.innerWidth; reflow(); }, 250);
  });
})();
