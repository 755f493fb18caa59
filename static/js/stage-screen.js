/* The stage big screen: scoreboard (changes animated), the round's name and rules, the
 * question and countdown, the buzz winner, fouls, the hall's accuracy and the final podium.
 * Public by PIN: its board never carries an answer before the ruling. */
(function () {
  "use strict";
  var P = window.QuizPage, $ = P.$, S = P.S, fmt = P.fmt, el = P.el, setText = P.setText;
  var pin = $("app").getAttribute("data-pin");
  var socket = io("/stage", { auth: { lang: document.documentElement.dataset.locale } });
  var shown = {}, offset = 0, board = null, countdown = null;

  function conn(which) { $("conn").setAttribute("data-state", which); setText("conn-text", S["status_" + which]); }
  socket.on("connect", function () {
    conn("connected");
    socket.emit("watch", { pin: pin }, function (ack) { if (ack.ok) render(ack.board); });
  });
  socket.on("disconnect", function () { conn("disconnected"); });
  socket.on("board", render);

  function name(b, id) { var t = b.teams.filter(function (x) { return x.id === id; })[0]; return t ? t.team_name : ""; }

  function render(b) {
    board = b; offset = b.server_now - Date.now() / 1000;
    var r = b.round;
    var over = b.step === "finished";
    setText("ss-round-title", over ? S.step_finished : r ? r.title + "　" + fmt("slot_of", { n: r.slot + 1, total: r.slots }) : S.step_lobby);
    setText("ss-rules", r && !over ? r.rules : "");
    renderBoard(b);
    renderQuestion(b);
    renderBanner(b);
    var fouls = b.buzz && b.buzz.fouls.length ? fmt("fouls", { teams: b.buzz.fouls.map(function (id) { return name(b, id); }).join("、") }) : "";
    setText("ss-fouls", fouls);
    var a = b.audience;
    setText("ss-audience", a && b.question ? (a.rate === null ? S.audience_none : fmt("audience_rate", a)) : "");
    renderPodium(b);
    tick();
  }

  function renderBoard(b) {
    var box = $("ss-board");
    box.textContent = "";
    var best = Math.max.apply(null, b.teams.map(function (t) { return t.score; }));
    b.teams.forEach(function (t) {
      var card = el("div", "ss-team");
      if (b.turn && b.turn.team === t.id) card.classList.add("is-turn");
      if (b.buzz && b.buzz.winner === t.id) card.classList.add("is-winner");
      if (t.locked) card.classList.add("is-foul");
      if (t.score === best && best > 0) card.classList.add("is-lead");
      card.appendChild(el("span", "ss-desk", fmt("desk", { desk: t.desk })));
      card.appendChild(el("span", "ss-name", t.team_name));
      var score = el("span", "ss-score mono", String(t.score));
      if (shown[t.id] !== undefined && shown[t.id] !== t.score) {
        card.classList.add(t.score > shown[t.id] ? "is-up" : "is-down");
        var delta = t.score - shown[t.id];
        card.appendChild(el("span", "ss-delta", (delta > 0 ? "+" : "") + delta));
      }
      shown[t.id] = t.score;
      card.appendChild(score);
      box.appendChild(card);
    });
  }

  function renderQuestion(b) {
    var q = b.question, list = $("ss-options");
    list.textContent = "";
    setText("ss-stem", q ? q.stem : b.step === "picking" ? fmt("other_turn", { team: name(b, b.turn.team) }) + " · " + S.step_picking : b.step === "ready" ? fmt("other_turn", { team: name(b, b.turn.team) }) + " · " + S.step_ready : "");
    if (!q) return;
    q.options.forEach(function (o) {
      var li = el("li", "ss-option");
      li.appendChild(el("span", "ss-letter", o.id));
      li.appendChild(el("span", "", o.text));
      if (b.reveal && b.reveal.correct.indexOf(o.id) >= 0) li.classList.add("is-correct");
      list.appendChild(li);
    });
  }

  function renderBanner(b) {
    var banner = $("ss-banner"), text = "";
    banner.className = "ss-banner";
    if (b.step === "open") { text = S.step_open; banner.classList.add("is-open"); }
    else if (b.round && b.round.kind === "buzz" && b.buzz.winner && b.step === "answering") { text = fmt("winner", { team: name(b, b.buzz.winner) }); banner.classList.add("is-winner"); }
    else if (b.step === "ruled" && b.last) { text = (b.last.team ? name(b, b.last.team) + " " : "") + S["outcome_" + b.last.outcome] + (b.last.points ? " " + (b.last.points > 0 ? "+" : "") + b.last.points : ""); banner.classList.add(b.last.points >= 0 ? "is-right" : "is-wrong"); }
    else if (b.step === "speed" && b.speed) { text = fmt("speed_count", b.speed); }
    else if (b.turn && b.value) { text = name(b, b.turn.team) + " · " + b.value + " 分"; }
    banner.hidden = !text;
    banner.textContent = text;
  }

  function renderPodium(b) {
    var list = $("ss-podium");
    list.hidden = !b.podium; list.textContent = "";
    if (!b.podium) return;
    setText("ss-stem", S.podium);
    b.podium.forEach(function (p, i) {
      var li = el("li", "ss-place ss-place-" + (i + 1));
      li.appendChild(el("span", "ss-rank", String(p.rank)));
      li.appendChild(el("span", "ss-name", name(b, p.team)));
      li.appendChild(el("span", "ss-score mono", String(p.score)));
      list.appendChild(li);
    });
  }

  function tick() {
    clearTimeout(countdown);
    if (!board || !board.deadline) { setText("ss-countdown", ""); return; }
    var left = Math.max(0, board.deadline - (Date.now() / 1000 + offset));
    setText("ss-countdown", Math.ceil(left));
    $("ss-countdown").classList.toggle("is-low", left <= 5);
    if (left > 0) countdown = setTimeout(tick, 200);
  }
})();
