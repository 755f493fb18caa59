/* The big screen: lobby with the join QR, questions, reveal with the answer distribution,
 * a branch bar race, the podium; and the host's controls. Wire contract: docs/live-protocol.md.
 * Plain ES2017, no build step; strings come from the template or the #strings catalogue. */
(function () {
  "use strict";

  var P = window.QuizPage;
  var S = P.S, $ = P.$, fmt = P.fmt, refusalText = P.refusalText, el = P.el, setText = P.setText;
  var app = document.getElementById("app");
  var contestId = Number(app.getAttribute("data-contest-id"));
  var params = new URLSearchParams(location.search);
  var ACK_TIMEOUT_MS = 8000;
  var RACE_DELAY_MS = 700; // the board first shows the previous standings, then moves
  var SCENES = ["loading", "lobby", "question", "reveal", "leaderboard", "finished"];
  var LETTERS = "ABCDEFGH";


  function percent(rate) {
    if (typeof rate !== "number" || isNaN(rate)) return null;
    return Math.round(rate <= 1 ? rate * 100 : rate);
  }

  function number(value) {
    if (typeof value !== "number") return value == null ? "" : String(value);
    return Math.round(value) === value ? String(value) : value.toFixed(1);
  }

  var state = {
    socket: null,
    seq: null,
    offset: 0,
    payload: null,
    joined: null,
    progress: null,
    scene: null,
    timer: null,
    raceSeq: null,
    raceRows: new Map(),
    endArmed: null,
    toastTimer: null
  };

  // ---- scenes ----------------------------------------------------------------------------------
  function showScene(name) {
    SCENES.forEach(function (s) { $("scene-" + s).hidden = s !== name; });
    state.scene = name;
    document.body.setAttribute("data-scene", name);
  }

  function showControls(phase) {
    var visible = {
      lobby: ["start", "end"],
      question: ["next", "extend", "end"],
      reveal: ["next", "end"],
      leaderboard: ["next", "end"],
      finished: []
    }[phase] || [];
    var buttons = document.querySelectorAll(".btn-control");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = visible.indexOf(buttons[i].getAttribute("data-action")) < 0;
    }
  }

  function toast(text) {
    var node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(function () { node.hidden = true; }, 6000);
  }

  function setConn(which) {
    $("conn").setAttribute("data-state", which);
    setText("conn-text", S["status_" + which]);
  }

  // ---- connection ----------------------------------------------------------------------------------
  function connect() {
    var options = { reconnectionDelay: 1000, reconnectionDelayMax: 5000 };
    if (params.get("transport") === "polling") options.transports = ["polling"];
    var socket = io("/host", options);
    state.socket = socket;
    setConn("connecting");
    socket.on("connect", function () { setConn("connected"); watch(); });
    socket.on("disconnect", function () { setConn("disconnected"); });
    socket.on("connect_error", function (err) {
      setConn("disconnected");
      // Refused because the server was busy (a database hiccup): try again shortly.
      if (err && err.data && err.data.retry) {
        setTimeout(function () { socket.connect(); }, 1000 + Math.random() * 2000);
        return;
      }
      // Refused by the server (the organizer session ended), not a network failure.
      if (!socket.active) toast(S.login_required);
    });
    socket.on("phase", function (p) { applyPayload(p, false); });
    // After a message-queue outage: the current phase (a gap takes a fresh snapshot).
    socket.on("resync", function (p) { applyPayload(p, false); });
    socket.on("time_credit", function (c) {
      if (c && typeof c.seconds === "number") toast(fmt("time_credit", { s: c.seconds }));
    });
    socket.on("joined", applyJoined);
    socket.on("progress", applyProgress);
  }

  function watch() {
    state.socket.timeout(ACK_TIMEOUT_MS).emit("watch", { contest_id: contestId }, function (err, ack) {
      if (err) { setTimeout(function () { if (state.socket.connected) watch(); }, 2000); return; }
      if (!ack || !ack.ok) { toast(fmt("watch_failed", { message: refusalText(ack) })); return; }
      var snap = ack.snapshot || {};
      var url = snap.join_url || ack.join_url;
      if (url) setText("join-url", url);
      var joined = snap.joined !== undefined ? snap.joined : ack.joined;
      if (joined !== undefined) applyJoined(joined);
      applyPayload(snap, true);
      if (snap.progress) applyProgress(snap.progress);
    });
  }

  function applyPayload(p, snapshot) {
    if (!p || typeof p.seq !== "number") return;
    if (typeof p.server_now === "number") state.offset = p.server_now - Date.now();
    if (state.seq !== null && !snapshot) {
      if (p.seq <= state.seq) return;
      if (p.seq > state.seq + 1) watch(); // a missed phase: take a fresh snapshot
    }
    if (state.seq !== null && snapshot && p.seq < state.seq) return;
    var question = p.question && p.question.position;
    if (state.progress && state.progress.position !== question) state.progress = null;
    state.seq = p.seq;
    state.payload = p;
    render();
  }

  function applyJoined(data) {
    if (typeof data === "number") data = { total: data, branches: [] };
    state.joined = data || { total: 0, branches: [] };
    if (state.payload && state.payload.phase === "lobby") renderLobby();
  }

  function applyProgress(data) {
    state.progress = data;
    var p = state.payload;
    if (p && p.phase === "question" && p.question && data.position === p.question.position) renderAnswered();
  }

  // ---- rendering --------------------------------------------------------------------------------------
  function render() {
    var p = state.payload;
    if (p.phase !== "question") stopTimer();
    showControls(p.phase);
    if (p.phase === "lobby") renderLobby();
    else if (p.phase === "question") renderQuestion(p);
    else if (p.phase === "reveal") renderReveal(p);
    else if (p.phase === "leaderboard") renderLeaderboard(p);
    else if (p.phase === "finished") renderFinished(p);
  }

  function renderLobby() {
    showScene("lobby");
    var joined = state.joined || { total: 0, branches: [] };
    setText("lobby-total", fmt("joined_total", { total: joined.total || 0 }));
    var list = $("joined-list");
    list.textContent = "";
    var branches = (joined.branches || []).filter(function (b) { return b.count > 0; });
    branches.sort(function (a, b) { return b.count - a.count || String(a.name).localeCompare(String(b.name), "zh"); });
    if (!branches.length) list.appendChild(el("li", "joined-empty", S.no_branches_joined));
    branches.forEach(function (b) {
      var item = el("li", "joined-chip");
      item.appendChild(el("span", "joined-name", b.name));
      item.appendChild(el("span", "joined-count", fmt("people", { n: b.count })));
      list.appendChild(item);
    });
  }

  /* The option's mark (letter, colour, shape): phones show the same one, judge questions too. */
  function optionMark(opt, index) {
    return P.mark(opt.letter || LETTERS.charAt(index), "sq-letter");
  }

  function progressText(p) {
    return fmt("progress", { n: p.question.position + 1, total: p.total });
  }

  function renderQuestion(p) {
    var q = p.question;
    showScene("question");
    setText("sq-progress", progressText(p));
    setText("sq-type", q.type_label);
    setText("sq-stem", q.stem);
    $("sq-paused").hidden = !p.paused;
    var list = $("sq-options");
    list.textContent = "";
    list.className = "sq-options" + (q.type === "judge" ? " sq-options-judge" : "") +
      (q.options.length > 4 ? " sq-options-many" : "");
    q.options.forEach(function (opt, i) {
      var item = el("li", "sq-option sq-option-" + i + " place-" + i);
      item.appendChild(optionMark(opt, i));
      item.appendChild(el("span", "sq-text", opt.text));
      list.appendChild(item);
    });
    renderAnswered();
    startTimer();
    fitScene();
  }

  function renderAnswered() {
    var p = state.payload, pr = state.progress;
    var participants = pr ? pr.participants : state.joined ? state.joined.total : 0;
    setText("sq-answered", fmt("answered", { answered: pr ? pr.answered : 0, participants: participants || 0 }));
  }

  function startTimer() {
    if (!state.timer) state.timer = setInterval(tick, 200);
    tick();
  }

  function stopTimer() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  function tick() {
    var p = state.payload;
    if (!p || p.phase !== "question") return stopTimer();
    var q = p.question;
    var now = p.paused ? p.server_now : Date.now() + state.offset;
    var left = q.closes_at - now;
    var span = Math.max(q.closes_at - q.opens_at, q.time_limit * 1000, left, 1);
    $("sq-bar").style.transform = "scaleX(" + Math.max(0, Math.min(1, left / span)).toFixed(4) + ")";
    $("scene-question").setAttribute("data-urgent", left <= 5000 && left > 0 ? "true" : "false");
    setText("sq-sec", p.paused ? S.paused : left > 0 ? String(Math.ceil(left / 1000)) : S.time_up);
  }

  function renderReveal(p) {
    var q = p.question, r = p.reveal || {};
    var correct = r.correct || [], dist = r.distribution || {};
    showScene("reveal");
    setText("sr-progress", progressText(p));
    setText("sr-type", q.type_label);
    setText("sr-stem", q.stem);
    setText("sr-answered", fmt("answered", { answered: r.answered || 0, participants: r.participants || 0 }));
    var answered = Math.max(r.answered || 0, 1);
    var list = $("sr-dist");
    list.textContent = "";
    q.options.forEach(function (opt, i) {
      var count = dist[opt.id] || 0;
      var item = el("li", "dist-row place-" + i + (correct.indexOf(opt.id) >= 0 ? " is-correct" : ""));
      item.appendChild(optionMark(opt, i));
      var body = el("span", "dist-body");
      body.appendChild(el("span", "dist-text", opt.text));
      var track = el("span", "dist-track");
      var bar = el("span", "dist-bar");
      track.appendChild(bar);
      body.appendChild(track);
      item.appendChild(body);
      var figures = el("span", "dist-figures");
      figures.appendChild(el("span", "dist-percent", Math.round((count / answered) * 100) + "%"));
      figures.appendChild(el("span", "dist-count", fmt("people", { n: count })));
      item.appendChild(figures);
      list.appendChild(item);
      bar.setAttribute("data-width", String((count / answered) * 100));
    });
    // Grow the bars after layout, so the CSS transition plays.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        var bars = list.querySelectorAll(".dist-bar");
        for (var i = 0; i < bars.length; i++) bars[i].style.width = bars[i].getAttribute("data-width") + "%";
      });
    });
    setText("sr-explain", r.explanation);
    setText("sr-source", r.source ? fmt("source", { source: r.source }) : "");
    $("sr-explain").parentNode.hidden = !r.explanation && !r.source;
    fitScene();
  }

  /* Long stems and options must fit the projector without scrolling: shrink the scene's type
   * step by step (CSS reads --fit) until nothing overflows its box. */
  function shrinkToFit(scene, name, nodes) {
    var value = 1;
    scene.style.setProperty(name, "1");
    while (value > 0.5 && nodes.some(function (n) { return n.scrollHeight > n.clientHeight + 1; })) {
      value -= 0.05;
      scene.style.setProperty(name, value.toFixed(2));
    }
  }

  function fitScene() {
    var all = function (selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); };
    if (state.scene === "question") {
      shrinkToFit($("scene-question"), "--fit", [$("sq-options")].concat(all("#sq-options .sq-option")));
    } else if (state.scene === "reveal") {
      shrinkToFit($("scene-reveal"), "--fit", [$("sr-dist")]);
      shrinkToFit($("scene-reveal"), "--fit-explain", [$("sr-explain").parentNode]);
    }
  }

  // ---- leaderboard: a bar race with FLIP reordering ----------------------------------------------------------
  function renderLeaderboard(p) {
    var lb = p.leaderboard || { members: [], branches: [] };
    showScene("leaderboard");
    var first = (lb.branches || [])[0];
    setText("lb-metric", first && first.metric_label ? "· " + first.metric_label : "");
    renderTopMembers(lb.members || []);
    if (state.raceSeq === p.seq) return updateRace(lb.branches || []);
    state.raceSeq = p.seq;
    var seq = p.seq;
    setTimeout(function () { if (state.raceSeq === seq) updateRace(lb.branches || []); }, RACE_DELAY_MS);
  }

  function makeRaceRow() {
    var row = el("li", "race-row");
    row.appendChild(el("span", "race-rank"));
    var body = el("div", "race-body");
    var head = el("div", "race-head");
    head.appendChild(el("span", "race-name"));
    head.appendChild(el("span", "race-sub"));
    body.appendChild(head);
    var track = el("div", "race-track");
    track.appendChild(el("div", "race-bar"));
    body.appendChild(track);
    row.appendChild(body);
    row.appendChild(el("span", "race-value mono"));
    return row;
  }

  function branchSub(b) {
    var parts = [];
    var rate = percent(b.participation_rate), acc = percent(b.accuracy);
    if (rate !== null) parts.push(fmt("participation", { rate: rate }));
    if (acc !== null) parts.push(fmt("accuracy", { rate: acc }));
    return parts.join("　");
  }

  function updateRace(branches) {
    var list = $("race");
    var sorted = branches.slice().sort(function (a, b) { return a.rank - b.rank; });
    var max = 0;
    sorted.forEach(function (b) { max = Math.max(max, Number(b.metric) || 0); });
    var before = new Map();
    state.raceRows.forEach(function (row, id) { before.set(id, row.getBoundingClientRect().top); });
    var keep = new Set(), fresh = [];
    sorted.forEach(function (b, i) {
      var row = state.raceRows.get(b.id);
      if (!row) { row = makeRaceRow(); state.raceRows.set(b.id, row); fresh.push(row); }
      keep.add(b.id);
      row.classList.toggle("is-top", b.rank <= 3 && Number(b.metric) > 0);
      row.setAttribute("data-rank", String(b.rank));
      showRank(row.querySelector(".race-rank"), b, sorted[i - 1]);
      row.querySelector(".race-name").textContent = b.name;
      row.querySelector(".race-sub").textContent = branchSub(b);
      row.querySelector(".race-value").textContent = number(b.metric);
      row.setAttribute("data-width", String(max > 0 ? Math.max(1.5, ((Number(b.metric) || 0) / max) * 100) : 1.5));
      list.appendChild(row);
    });
    state.raceRows.forEach(function (row, id) {
      if (!keep.has(id)) { row.remove(); state.raceRows.delete(id); }
    });
    // FLIP: put each moved row back where it was, then let the transition carry it home.
    state.raceRows.forEach(function (row, id) {
      var top = before.get(id);
      if (top === undefined) return;
      var delta = top - row.getBoundingClientRect().top;
      if (!delta) return;
      row.style.transition = "none";
      row.style.transform = "translateY(" + delta + "px)";
    });
    fresh.forEach(function (row) { row.classList.add("is-new"); });
    // Rows that would be cut off at the bottom fade out instead (the list never scrolls).
    state.raceRows.forEach(function (row) {
      row.classList.toggle("is-below", row.offsetTop + row.offsetHeight > list.clientHeight + 1);
    });
    void list.offsetHeight;
    state.raceRows.forEach(function (row) {
      row.style.transition = "";
      row.style.transform = "";
      row.classList.remove("is-new");
      row.querySelector(".race-bar").style.width = row.getAttribute("data-width") + "%";
    });
  }

  /* A shared rank is shown once, on the first row of the tie, marked 并列; the rows after it
   * leave the number out (not "2, 2, 2"). */
  function showRank(node, row, previous) {
    var continued = previous && previous.rank === row.rank;
    node.textContent = continued ? "" : String(row.rank);
    node.classList.toggle("is-tied", !!row.tied);
    node.classList.toggle("is-tie-continued", !!continued);
    if (row.tied && !continued) node.appendChild(el("span", "tie-tag", S.tied));
    if (row.tied) node.setAttribute("aria-label", fmt("tied_rank", { rank: row.rank }));
    else node.removeAttribute("aria-label");
  }

  function renderTopMembers(members) {
    var list = $("top-members");
    list.textContent = "";
    if (!members.length) list.appendChild(el("li", "muted", S.nobody));
    members.slice(0, 10).forEach(function (m, i) {
      var item = el("li", "member-row" + (m.rank <= 3 && m.score > 0 ? " is-top" : ""));
      var rank = el("span", "member-rank");
      showRank(rank, m, members[i - 1]);
      item.appendChild(rank);
      var who = el("span", "member-who");
      who.appendChild(el("span", "member-name", m.name));
      who.appendChild(el("span", "member-branch", m.branch));
      item.appendChild(who);
      item.appendChild(el("span", "member-score mono", number(m.score)));
      list.appendChild(item);
    });
  }

  // ---- finished: podiums ------------------------------------------------------------------------------------
  function renderFinished(p) {
    var lb = p.leaderboard || { members: [], branches: [] };
    showScene("finished");
    // Nobody stands on a podium with nothing scored.
    var members = (lb.members || []).filter(function (m) { return m.score > 0; });
    var branches = (lb.branches || []).filter(function (b) { return Number(b.metric) > 0; });
    renderPodium($("podium-members"), members.slice(0, 3), function (m) {
      return { name: m.name, sub: m.branch, value: fmt("points", { points: number(m.score) }) };
    });
    var top = (lb.branches || [])[0];
    setText("fin-metric", top && top.metric_label ? "· " + top.metric_label : "");
    renderPodium($("podium-branches"), branches.slice(0, 3), function (b) {
      return { name: b.name, sub: "", value: number(b.metric) };
    });
  }

  function renderPodium(list, entries, describe) {
    list.textContent = "";
    if (!entries.length) list.appendChild(el("li", "muted", S.nobody));
    entries.forEach(function (entry, i) {
      var d = describe(entry);
      var item = el("li", "podium-place podium-" + (i + 1));
      item.style.setProperty("--place", String(i));
      item.appendChild(el("span", "podium-name", d.name));
      item.appendChild(el("span", "podium-sub", d.sub));
      item.appendChild(el("span", "podium-value mono", d.value));
      var step = el("span", "podium-step");
      step.appendChild(el("span", "podium-rank", String(entry.rank || i + 1)));
      if (entry.tied) step.appendChild(el("span", "tie-tag", S.tied));
      item.appendChild(step);
      list.appendChild(item);
    });
  }

  // ---- controls ----------------------------------------------------------------------------------------------
  function control(action, seconds) {
    if (!state.socket || !state.socket.connected) { toast(S.status_disconnected); return; }
    var payload = { contest_id: contestId, action: action };
    if (seconds) payload.seconds = seconds;
    state.socket.timeout(ACK_TIMEOUT_MS).emit("control", payload, function (err, ack) {
      if (err) { toast(fmt("control_failed", { message: S.status_disconnected })); return; }
      if (!ack || !ack.ok) toast(fmt("control_failed", { message: refusalText(ack) }));
    });
  }

  function onControlClick(event) {
    var button = event.target.closest ? event.target.closest(".btn-control") : null;
    if (!button || button.hidden) return;
    button.blur(); // so a later space bar press is ours, not a second click
    var action = button.getAttribute("data-action");
    if (action === "end") return armEnd(button);
    control(action, Number(button.getAttribute("data-seconds")) || 0);
  }

  /* 结束 needs a second press within a few seconds: ending a contest cannot be undone. */
  function armEnd(button) {
    if (state.endArmed) {
      clearTimeout(state.endArmed);
      state.endArmed = null;
      button.textContent = S.end;
      button.classList.remove("is-armed");
      control("end");
      return;
    }
    button.textContent = S.confirm_end;
    button.classList.add("is-armed");
    state.endArmed = setTimeout(function () {
      state.endArmed = null;
      button.textContent = S.end;
      button.classList.remove("is-armed");
    }, 4000);
  }

  function forward() {
    var p = state.payload;
    if (!p) return;
    if (p.phase === "lobby") control("start");
    else if (p.phase !== "finished") control("next");
  }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (key === " " || key === "Spacebar" || key === "ArrowRight" || key === "PageDown") {
      event.preventDefault();
      if (!event.repeat) forward();
    } else if (key === "f" || key === "F") {
      toggleFullscreen();
    }
  }

  function toggleFullscreen() {
    var doc = document;
    if (doc.fullscreenElement || doc.webkitFullscreenElement) {
      (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
    } else {
      var root = doc.documentElement;
      var request = root.requestFullscreen || root.webkitRequestFullscreen;
      if (request) request.call(root);
    }
  }

  function onFullscreenChange() {
    var on = !!(document.fullscreenElement || document.webkitFullscreenElement);
    setText("fullscreen", on ? S.exit_fullscreen : S.fullscreen);
    document.body.classList.toggle("is-fullscreen", on);
  }

  function start() {
    showScene("loading");
    document.querySelector(".controls").addEventListener("click", onControlClick);
    document.addEventListener("keydown", onKey);
    $("fullscreen").addEventListener("click", function () { this.blur(); toggleFullscreen(); });
    document.addEventListener("fullscreenchange", onFullscreenChange);
    document.addEventListener("webkitfullscreenchange", onFullscreenChange);
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(fitScene, 150);
    });
    connect();
  }

  start();
})();
