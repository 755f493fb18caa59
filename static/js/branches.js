/* The join form's branch picker, shared by the live phone page and the campaign page. Up to
 * RADIO_MAX branches are radio buttons; more go in a <select> grouped by agency (one line tall,
 * so the join button stays on the first screen of a phone), and from SEARCH_MIN on a search box
 * filters it by branch or agency name. Plain DOM, no framework: WeChat's browser runs it.
 * Markup: #branch-search, #branch-list, #branch-select, #branch-count (see play.html). */
(function () {
  "use strict";

  var P = window.QuizPage;
  var $ = P.$, el = P.el, fmt = P.fmt, S = P.S;
  var RADIO_MAX = 4;
  var SEARCH_MIN = 10;

  /* Branches under their group (an agency's name), in the given order; ungrouped ones last. */
  function grouped(branches) {
    var groups = [], byName = {};
    branches.forEach(function (b) {
      var key = b.group || "";
      if (!Object.prototype.hasOwnProperty.call(byName, key)) {
        byName[key] = { group: key, items: [] };
        groups.push(byName[key]);
      }
      byName[key].items.push(b);
    });
    return groups.filter(function (g) { return g.group; }).concat(groups.filter(function (g) { return !g.group; }));
  }

  function fillRadios(branches) {
    var list = $("branch-list"), groups = grouped(branches);
    var titled = groups.length > 1 || (groups[0] && groups[0].group);
    groups.forEach(function (g) {
      var box = el("div", "branch-group");
      if (titled) box.appendChild(el("p", "branch-group-title", g.group || S.no_parent));
      g.items.forEach(function (b) {
        var label = el("label", "branch-choice");
        var input = el("input");
        input.type = "radio";
        input.name = "branch";
        input.value = String(b.id);
        label.appendChild(input);
        label.appendChild(el("span", null, b.name));
        box.appendChild(label);
      });
      list.appendChild(box);
    });
    if (branches.length === 1) list.querySelector("input").checked = true;
  }

  function matches(b, query) {
    return !query || (b.name + " " + (b.group || "")).toLowerCase().indexOf(query) >= 0;
  }

  /* The <select> with the branches matching `query`; a single match is chosen at once, and an
   * earlier choice is kept while it still matches. */
  function fillSelect(branches, query) {
    var select = $("branch-select"), kept = select.value;
    query = query.trim().toLowerCase();
    var found = branches.filter(function (b) { return matches(b, query); });
    select.textContent = "";
    var blank = el("option", null, found.length ? S.branch_required : S.branch_none_found);
    blank.value = "";
    select.appendChild(blank);
    grouped(found).forEach(function (g) {
      var box = el("optgroup");
      box.label = g.group || S.no_parent;
      g.items.forEach(function (b) {
        var opt = el("option", null, b.name);
        opt.value = String(b.id);
        box.appendChild(opt);
      });
      select.appendChild(box);
    });
    var ids = found.map(function (b) { return String(b.id); });
    select.value = found.length === 1 ? ids[0] : ids.indexOf(kept) >= 0 ? kept : "";
    var count = $("branch-count");
    count.hidden = !query;
    count.textContent = query ? fmt("branch_found", { n: found.length }) : "";
  }

  var current = [];

  /* Show `branches` ([{id, name, group}]) in the picker. */
  function render(branches) {
    current = branches;
    $("branch-list").textContent = "";
    $("branch-select").textContent = "";
    var useSelect = branches.length > RADIO_MAX;
    $("branch-list").hidden = useSelect;
    $("branch-select").hidden = !useSelect;
    $("branch-search").hidden = branches.length < SEARCH_MIN;
    $("branch-search").value = "";
    $("branch-count").hidden = true;
    if (useSelect) fillSelect(branches, "");
    else fillRadios(branches);
  }

  /* The chosen branch id as a string ("" when none). */
  function chosen() {
    if (!$("branch-select").hidden) return $("branch-select").value;
    var checked = $("branch-list").querySelector("input:checked");
    return checked ? checked.value : "";
  }

  /* Where to send the member who has not chosen yet. */
  function focus() {
    var target = !$("branch-select").hidden ? $("branch-select") : $("branch-list").querySelector("input");
    if (target) target.focus();
  }

  function start() {
    var search = $("branch-search");
    if (search) search.addEventListener("input", function () { fillSelect(current, search.value); });
  }

  start();
  window.QuizBranches = { render: render, chosen: chosen, focus: focus };
})();
