/* The team device (答题台): join with the team's PIN (or the token a QR code carries), keep the
 * clock exchanges going, show the round, the buzz button and the team's own choices. */
(function () {
  "use strict";
  var P = window.QuizPage, $ = P.$, S = P.S, fmt = P.fmt, el = P.el, setText = P.setText;
  var app = $("app"), pin = app.getAttribute("data-pin");
  var key = "stage-token-" + pin;
  var fromHash = (location.hash.match(/t=([\w-]+)/) || [])[1];
  if (fromHash) { localStorage.setItem(key, fromHash); history.replaceState(null, "", location.pathname); }
  var token = localStorage.getItem(key);
  var me = null, board = null, buzzed = null, countdown = null;

  var socket = io("/stage", { auth: { token: token || undefined, lang: document.documentElement.dataset.locale } });
  var clock = new window.StageClock(socket);

  function conn(which) { $("conn").setAttribute("data-state", which); setText("conn-text", S["status_" + which]); }
  socket.on("connect", function () { conn("connected"); clock.start(); if (!token) show("join"); });
  socket.on("disconnect", function () { conn("disconnected"); clock.stop(); });
  socket.on("joined", welcome);
  socket.on("board", function (b) { render(b); });

  function show(which) { $("join").hidden = which !== "join"; $("desk").hidden = which !== "desk"; }

  function welcome(ack) {
    me = ack.team; token = ack.token; localStorage.setItem(key, token);
    setText("st-team", me.team_name);
    setText("st-desk", fmt("desk", { desk: me.desk }) + " · " + me.member_names.join("、"));
    show("desk");
    render(ack.board);
  }

  $("join-form").addEventListener("submit", function (e) {
    e.preventDefault();
    socket.emit("join", { pin: pin, team_pin: $("team-pin").value.trim() }, function (ack) {
      if (ack.ok) return welcome(ack);
      $("join-error").hidden = false; setText("join-error", P.refusalText(ack));
    });
  });

  $("st-buzz").addEventListener("pointerdown", function (e) {
    e.preventDefault();
    var tap = window.StageClock.now();
    if (navigator.vibrate) navigator.vibrate(30);
    $("st-buzz").setAttribute("data-state", "sent");
    socket.emit("buzz", { tap: tap }, function (ack) {
      buzzed = ack.ok ? (ack.foul ? "foul" : "sent") : null;
      setText("st-status", ack.ok ? S[ack.foul ? "buzz_foul" : "buzz_sent"] : P.refusalText(ack));
      if (board) render(board);
    });
  });

  function mine(b) { return me && b.turn && b.turn.team === me.id; }
  function team(b, id) { return b.teams.filter(function (t) { return t.id === id; })[0]; }

  function render(b) {
    if (board && (b.round || {}).slot !== (board.round || {}).slot) buzzed = null;
    if (board && b.round && board.round && b.round.index !== board.round.index) buzzed = null;
    board = b;
    if (!me) return;
    var mineNow = mine(b), kind = b.round && b.round.kind, t = team(b, me.id);
    setText("st-score", t ? t.score : 0);
    setText("st-round", b.round ? b.round.title + " · " + fmt("slot_of", { n: b.round.slot + 1, total: b.round.slots }) : S.step_lobby);
    var buzzing = kind === "buzz" && (b.step === "shown" || b.step === "open");
    var button = $("st-buzz");
    button.hidden = !buzzing;
    var locked = t && t.locked;
    button.disabled = !!locked || buzzed === "sent";
    button.setAttribute("data-state", locked ? "foul" : buzzed === "sent" ? "sent" : b.step === "open" ? "open" : "wait");
    button.textContent = locked ? S.buzz_foul : S.buzz;
    var status = S["step_" + b.step] || "";
    if (buzzing && b.step === "shown" && !locked) status = S.buzz_wait;
    if (kind === "buzz" && b.step === "answering") status = b.buzz.winner === me.id ? S.buzz_won : fmt("winner", { team: (team(b, b.buzz.winner) || {}).team_name });
    else if (mineNow && (b.step === "answering" || b.step === "speed")) status = S.your_turn;
    else if (mineNow && b.step === "picking") status = S.your_pick;
    else if (b.turn && b.step !== "ruled") status = fmt("other_turn", { team: (team(b, b.turn.team) || {}).team_name });
    if (b.turn && b.turn.member_name && mineNow) status += " · " + fmt("seat", { seat: b.turn.seat, name: b.turn.member_name });
    if (b.step === "ruled" && b.last) status = S["outcome_" + b.last.outcome] + " " + (b.last.points ? fmt("points_of", { points: (b.last.points > 0 ? "+" : "") + b.last.points }) : "");
    setText("st-status", status);
    renderPick(b, mineNow && b.step === "picking");
    renderQuestion(b, mineNow && (b.step === "answering" || b.step === "speed") && kind !== "buzz");
  }

  function renderPick(b, on) {
    var box = $("st-pick");
    box.hidden = !on; box.textContent = "";
    if (!on) return;
    b.round.risk_values.forEach(function (v) {
      var btn = el("button", "btn btn-primary st-value", v + " 分");
      btn.type = "button";
      btn.addEventListener("click", function () { socket.emit("pick", { value: v }, toast); });
      box.appendChild(btn);
    });
  }

  function renderQuestion(b, on) {
    $("st-question").hidden = !b.question;
    var box = $("st-options");
    box.textContent = "";
    if (!b.question) return;
    setText("st-stem", b.question.stem);
    b.question.options.forEach(function (o) {
      var btn = el("button", "st-option", o.id + "　" + o.text);
      btn.type = "button"; btn.disabled = !on; btn.setAttribute("data-id", o.id);
      btn.addEventListener("click", function () {
        if (b.question.type === "multiple") { btn.classList.toggle("is-picked"); return; }
        socket.emit("answer", { choice: [o.id] }, toast);
      });
      box.appendChild(btn);
    });
    if (b.question.type === "multiple" && on) {
      var submit = el("button", "btn btn-primary btn-block", "提交");
      submit.type = "button";
      submit.addEventListener("click", function () {
        var picked = P.all(".st-option.is-picked", box).map(function (x) { return x.getAttribute("data-id"); });
        socket.emit("answer", { choice: picked }, toast);
      });
      box.appendChild(submit);
    }
    tickCountdown();
  }

  function toast(ack) { if (!ack.ok) setText("st-status", P.refusalText(ack)); }

  function tickCountdown() {
    clearTimeout(countdown);
    if (!board || !board.deadline) { setText("st-countdown", ""); return; }
    var left = Math.max(0, board.deadline - clock.serverNow());
    setText("st-countdown", fmt("seconds", { s: Math.ceil(left) }));
    if (left > 0) countdown = setTimeout(tickCountdown, 250);
  }
})();
