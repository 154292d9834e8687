/* Code blocks that a toggle reveals (exercise solutions, hidden code cells) can scroll
   sideways. pydata-sphinx-theme makes scrollable blocks reachable by keyboard
   (tabindex=0) when the page loads, when it is resized and when nodes are added, but not
   when a toggle only changes classes or opens a <details>: then a keyboard user cannot
   scroll the revealed code (axe: scrollable-region-focusable). After a toggle, ask the
   theme to look again (its check runs on the window's resize event, debounced 300 ms). */
(function () {
  "use strict";
  function rescan() { window.dispatchEvent(new Event("resize")); }
  document.addEventListener("toggle", rescan, true);  // <details> do not bubble it: capture
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.closest && t.closest(".toggle-button, .admonition-title, .dropdown summary")) setTimeout(rescan, 0);
  });
})();
