/* Live unit rankings: polls the JSON every few seconds and redraws the table and the charts.
 * Cells are filled with textContent; the charts are SVG the server drew and escaped, parsed as
 * SVG (not HTML) and imported node by node. */
(function () {
  "use strict";

  var P = window.QuizPage;
  var $ = P.$, fmt = P.fmt, el = P.el, all = P.all;
  var root = $("rankings");
  var API = root.dataset.api;
  var POLL_MS = 5000;
  var METRICS = P.json("metrics", {}); // key -> {label, percent}: the server's one metric table
  function pct(x) { return (x * 100).toFixed(1) + "%"; }
  function clock(ms) {
    var d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) { return ("0" + n).slice(-2); }).join(":");
  }
  function bars() {
    all(".rk-fill", root).forEach(function (f) {
      f.style.width = Math.min(Number(f.dataset.rate) * 100, 100) + "%";
    });
  }

  function row(r, metric) {
    var tr = el("tr", r.rank <= 3 ? "rk-top rk-top-" + r.rank : "");
    tr.appendChild(el("td", "rk-rank", String(r.rank)));
    var unit = el("td", "rk-unit", r.unit);
    if (r.parent) unit.appendChild(el("small", null, r.parent));
    tr.appendChild(unit);
    tr.appendChild(el("td", "num", r.participants + " / " + r.registered));
    var cell = el("td");
    var rate = el("div", "rk-rate");
    cell.appendChild(rate);
    var bar = el("span", "rk-bar");
    var fill = el("span", "rk-fill");
    fill.dataset.rate = r.participation_rate;
    bar.appendChild(fill);
    rate.appendChild(bar);
    rate.appendChild(el("span", "num", pct(r.participation_rate)));
    tr.appendChild(cell);
    tr.appendChild(el("td", "num", r.avg_registered.toFixed(1)));
    tr.appendChild(el("td", "num", r.avg_participants.toFixed(1)));
    tr.appendChild(el("td", "num", pct(r.full_mark_rate)));
    tr.appendChild(el("td", "num", r.attempts_per_member.toFixed(2)));
    tr.appendChild(el("td", "num rk-metric", r.metric.toFixed(METRICS[metric] ? METRICS[metric].decimals : 2)));
    return tr;
  }

  function charts(list) {
    var box = $("rk-charts");
    var parser = new DOMParser();
    while (box.firstChild) box.removeChild(box.firstChild);
    list.forEach(function (c) {
      var fig = el("figure", "rk-chart");
      fig.appendChild(el("figcaption", null, c.unit));
      var doc = parser.parseFromString(c.svg, "image/svg+xml");
      if (doc.documentElement.nodeName === "svg") fig.appendChild(document.importNode(doc.documentElement, true));
      box.appendChild(fig);
    });
  }

  var lastOk = null;
  function poll() {
    fetch(API, { headers: { Accept: "application/json" } })
      .then(function (res) { if (!res.ok) throw new Error(String(res.status)); return res.json(); })
      .then(function (data) {
        var body = $("rk-body");
        while (body.firstChild) body.removeChild(body.firstChild);
        data.rows.forEach(function (r) { body.appendChild(row(r, data.metric)); });
        charts(data.charts);
        bars();
        lastOk = data.updated_at;
        P.setText("rk-updated", fmt("updated", { time: clock(Date.now()) }));
      })
      .catch(function () {
        if (lastOk) P.setText("rk-updated", fmt("stale", { time: clock(lastOk) }));
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  bars();
  P.setText("rk-updated", fmt("updated", { time: clock(Date.now()) }));
  setTimeout(poll, POLL_MS);
})();
