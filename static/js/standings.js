// Public standings page: draw the bars, and refresh the table in place every few seconds so
// the big screen never flashes; bars glide from their previous length (a small branch race).
// The server renders and escapes the table; we swap in the parsed node, never innerHTML.
// Widths are set through the CSSOM because the CSP forbids inline style attributes.
(function () {
  "use strict";
  var P = window.QuizPage, all = P.all;
  var live = P.$("standings-live");
  if (!live) return;
  var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 10;

  function widths(root) {
    var out = {};
    all("tr[data-unit] .bar-fill", root).forEach(function (fill) {
      out[fill.closest("tr").getAttribute("data-unit")] = fill.style.width;
    });
    return out;
  }

  function drawBars(root, previous) {
    var fills = all("tr[data-unit] .bar-fill", root);
    fills.forEach(function (fill) {
      fill.style.width = previous[fill.closest("tr").getAttribute("data-unit")] || "0%";
    });
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () {
        fills.forEach(function (fill) {
          var share = parseFloat(fill.getAttribute("data-w")) || 0;
          fill.style.width = Math.max(0, Math.min(1, share)) * 100 + "%";
        });
      });
    });
  }

  function refresh() {
    if (document.hidden) return;
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var parsed = new DOMParser().parseFromString(html, "text/html").getElementById("standings-live");
        var current = P.$("standings-live");
        if (!parsed || !current) return;
        var fresh = document.importNode(parsed, true);
        var previous = widths(current);
        current.replaceWith(fresh);
        drawBars(fresh, previous);
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  drawBars(live, {});
  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
})();
