/* The referee console: the current question with its answer, the buzz order with gaps, the
 * actions (each one an entry in the contest's log), score adjustments with a reason, undo. */
(function () {
  "use strict";
  var P = window.QuizPage, $ = P.$, S = P.S, fmt = P.fmt, el = P.el, setText = P.setText;
  var app = $("app"), contestId = Number(app.getAttribute("data-contest-id"));
  var socket = io("/referee");
  var board = null, offset = 0, countdown = null;

  socket.on("connect", function () {
    socket.emit("watch", { contest_id: contestId }, function (ack) { if (ack.ok) render(ack.board); else toast(ack); });
  });
  socket.on("board", render);

  function act(action, extra) {
    var payload = Object.assign({ contest_id: contestId, action: action }, extra || {});
    socket.emit("act", payload, function (ack) { if (!ack.ok) toast(ack); });
  }
  function toast(ack) { var t = $("toast"); t.hidden = false; t.textContent = P.refusalText(ack); setTimeout(function () { t.hidden = true; }, 4000); }

  P.all("[data-act]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var action = btn.getAttribute("data-act");
      if (action === "undo" && !window.confirm(S.confirm_undo)) return;
      act(action, action === "rule" ? { correct: btn.getAttribute("data-correct") === "true" } : null);
    });
  });
  $("sr-adjust").addEventListener("submit", function (e) {
    e.preventDefault();
    act("adjust", { team: Number($("adj-team").value), value: Number($("adj-value").value), reason: $("adj-reason").value });
    $("adj-reason").value = "";
  });

  function name(b, id) { var t = b.teams.filter(function (x) { return x.id === id; })[0]; return t ? t.team_name : ""; }

  var ENABLED = {
    next: ["lobby", "ruled"], open: ["shown"], close: ["shown", "open"], start: ["ready"],
    rule: ["answering", "speed"], undo: null
  };

  function render(b) {
    board = b; offset = b.server_now - Date.now() / 1000;
    var r = b.round;
    setText("sr-round", r ? r.title + " · " + fmt("slot_of", { n: r.slot + 1, total: r.slots }) + " · " + fmt("round_of", { n: r.index + 1, total: r.of }) : S.step_lobby);
    setText("sr-step", S["step_" + b.step]);
    var turn = b.turn ? name(b, b.turn.team) + (b.turn.member_name ? " · " + fmt("seat", { seat: b.turn.seat, name: b.turn.member_name }) : "") + (b.value ? " · " + b.value + " 分" : "") : "";
    setText("sr-turn", turn);
    var q = b.answer;
    setText("sr-stem", q ? q.stem : "");
    var list = $("sr-options"); list.textContent = "";
    if (q) q.options.forEach(function (o) {
      var li = el("li", q.correct.indexOf(o.id) >= 0 ? "is-correct" : "", o.id + "　" + o.text);
      list.appendChild(li);
    });
    setText("sr-answer", q ? fmt("correct_answer", { answer: q.correct.join("、") }) + (q.explanation ? "　" + q.explanation : "") : "");
    P.all("[data-act]").forEach(function (btn) {
      var on = ENABLED[btn.getAttribute("data-act")];
      btn.disabled = on ? on.indexOf(b.step) < 0 : !b.can_undo;
    });
    renderBuzz(b);
    renderTeams(b);
    var log = $("sr-rulings"); log.textContent = "";
    b.rulings.forEach(function (x) {
      var pts = (x.points > 0 ? "+" : "") + x.points;
      log.appendChild(el("li", "", "第 " + (x.round + 1) + " 轮第 " + (x.slot + 1) + " 题　" + (x.team ? name(b, x.team) : "—") + "　" + S["outcome_" + x.outcome] + "　" + pts + (x.reason ? "　" + x.reason : "")));
    });
    tick();
  }

  function renderBuzz(b) {
    var list = $("sr-order"); list.textContent = "";
    b.buzz_order.forEach(function (x, i) {
      var li = el("li", i === 0 ? "is-first" : "");
      li.appendChild(el("strong", "", name(b, x.team)));
      li.appendChild(el("span", "mono", "　" + fmt("after_open", { ms: x.after_open_ms, u: x.uncertainty_ms })));
      list.appendChild(li);
    });
    var tie = $("sr-tie");
    tie.hidden = !b.tie;
    tie.textContent = b.tie ? fmt("tie", { gap: b.gap_ms }) : "";
    var award = $("sr-award"); award.textContent = "";
    if (b.step === "open") (b.tie || []).forEach(function (id) {
      var btn = el("button", "btn btn-primary", fmt("award", { team: name(b, id) }));
      btn.type = "button";
      btn.addEventListener("click", function () { act("award", { team: id }); });
      award.appendChild(btn);
    });
  }

  function renderTeams(b) {
    var body = $("sr-teams"), select = $("adj-team"), chosen = select.value;
    body.textContent = ""; select.textContent = "";
    b.teams.forEach(function (t) {
      var pinRow = b.team_pins.filter(function (p) { return p.team === t.id; })[0];
      var tr = el("tr", t.locked ? "is-foul" : "");
      [String(t.desk), t.team_name, pinRow ? pinRow.pin : "", String(t.score)].forEach(function (v, i) { tr.appendChild(el("td", i >= 2 ? "mono" : "", v)); });
      var qr = el("a", "", S.team_qr); qr.href = app.getAttribute("data-qr").replace("TEAM", String(t.id)); qr.target = "_blank"; qr.rel = "noopener";
      var cell = el("td"); cell.appendChild(qr); tr.appendChild(cell);
      body.appendChild(tr);
      var option = el("option", "", t.team_name); option.value = String(t.id); select.appendChild(option);
    });
    if (chosen) select.value = chosen;
  }

  function tick() {
    clearTimeout(countdown);
    if (!board || !board.deadline) { setText("sr-countdown", ""); return; }
    var left = Math.max(0, board.deadline - (Date.now() / 1000 + offset));
    setText("sr-countdown", fmt("seconds", { s: Math.ceil(left) }));
    if (left > 0) countdown = setTimeout(tick, 250);
  }
})();
