// Public standings page: refresh the table in place, without a page flash on the big screen.
// The server renders (and escapes) the table; we swap in the parsed node, never innerHTML.
(function () {
  "use strict";
  var live = document.getElementById("standings-live");
  if (!live) return;
  var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 10;

  function refresh() {
    if (document.hidden) return;
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("standings-live");
        var current = document.getElementById("standings-live");
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
})();
