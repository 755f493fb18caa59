/* Contest set-up form: changing the bank version reloads the quota inputs for that version and
 * keeps every other field as filled in; the chosen mode shows only its own settings (without
 * scripts both show, each headed with its mode); ticking a unit in the tree ticks every unit
 * under it (the server expands agencies anyway). */
(function () {
  "use strict";
  var all = window.QuizPage.all;

  var version = document.querySelector("[data-reload]");
  if (version) {
    version.addEventListener("change", function () {
      var params = new URLSearchParams();
      new FormData(version.form).forEach(function (value, name) {
        // The quotas name the old version's categories; the token never goes in a URL.
        if (name === "csrf_token" || name.indexOf("quota-") === 0) return;
        params.append(name, value);
      });
      params.set("reloaded", "1");
      window.location.search = params.toString();
    });
  }

  var picks = all("[data-mode-pick]");
  function showMode() {
    var chosen = picks.filter(function (radio) { return radio.checked; })[0];
    if (!chosen) return;
    all("[data-mode-section]").forEach(function (section) {
      section.hidden = section.dataset.modeSection !== chosen.value;
    });
  }
  picks.forEach(function (radio) { radio.addEventListener("change", showMode); });
  showMode();

  all("[data-tree]").forEach(function (tree) {
    var rows = all("[data-depth]", tree);
    rows.forEach(function (row, index) {
      var box = row.querySelector("input[type=checkbox]");
      box.addEventListener("change", function () {
        var depth = Number(row.dataset.depth);
        for (var i = index + 1; i < rows.length && Number(rows[i].dataset.depth) > depth; i++) {
          rows[i].querySelector("input[type=checkbox]").checked = box.checked;
        }
      });
    });
  });
})();
