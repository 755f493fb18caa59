/* Contest set-up form: changing the bank version reloads the quota inputs for that version;
 * ticking a unit in the tree ticks every unit under it (the server expands agencies anyway). */
(function () {
  "use strict";
  var all = window.QuizPage.all;

  var version = document.querySelector("[data-reload]");
  if (version) {
    version.addEventListener("change", function () {
      var form = version.form;
      var params = new URLSearchParams();
      ["title", "bank_version", "count", "seed", "scheduled_at"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) params.set(name, field.value);
      });
      all("input[name=units]:checked", form).forEach(function (box) {
        params.append("units", box.value);
      });
      window.location.search = params.toString();
    });
  }

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
