/* MathJax 4 breaks a long display equation to fit the width of its column when the page is
   typeset (softmaxbook/sphinxext.py sets output.displayOverflow = "linebreak"), and not
   again by itself: a phone turned sideways or a narrowed window would keep the breaks of
   the old width (or none). When the window's width changes, MathJax measures and breaks
   the equations again (its "metrics" step and what follows; 1-2 s for the longest chapter
   on a loaded test machine). Equations in closed solutions and hidden cells need nothing:
   those keep their width while hidden (visibility, <details>), so they are broken right. */
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

  window.addEventListener("resize", function () {
    if (window.innerWidth === width) return;  // also ignores the resize events of rescan-scrollables.js
    clearTimeout(timer);
    timer = setTimeout(function () { width = window.innerWidth; reflow(); }, 250);
  });
})();
