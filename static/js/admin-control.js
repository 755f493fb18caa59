/* Live control page: talks to the /host namespace (watch, control, roster, kick) and shows the
 * phase, the clock, answer progress and the joined members per branch. Strings: #strings. */
(function () {
  "use strict";

  var P = window.QuizPage;
  var S = P.S, $ = P.$, fmt = P.fmt, all = P.all, setText = P.setText;
  var root = $("control");
  var contestId = Number(root.dataset.contestId);
  var state = { payload: null, offset: 0, timer: null };


  var socket = io("/host", { transports: ["websocket", "polling"] });

  socket.on("connect", function () {
    setConn("connected");
    socket.emit("watch", { contest_id: contestId }, function (ack) {
      if (!ack || !ack.ok) { showError(fmt("watch_failed", { message: ack ? ack.message : "" })); return; }
      applyPhase(ack.snapshot);
      if (ack.snapshot.progress) applyProgress(ack.snapshot.progress);
      loadRoster();
    });
  });
  socket.on("connect_error", function () { setConn("disconnected"); showError(S.login_required); });
  socket.on("disconnect", function () { setConn("disconnected"); });
  socket.on("phase", applyPhase);
  socket.on("progress", applyProgress);
  socket.on("joined", function () { loadRoster(); });

  function setConn(kind) {
    $("conn").dataset.state = kind;
    setText("conn-text", S["status_" + kind]);
  }

  function showError(message) { setText("control-error", message || ""); }

  all("[data-action]", root).forEach(function (button) {
    button.addEventListener("click", function () { act(button.dataset.action); });
  });

  function act(action) {
    if (action === "end" && !window.confirm(S.confirm_end)) return;
    var data = { contest_id: contestId, action: action };
    if (action === "extend") data.seconds = Number($("extend-seconds").value);
    showError("");
    socket.emit("control", data, function (ack) {
      if (!ack || !ack.ok) showError(fmt("control_failed", { message: ack ? ack.message : "" }));
    });
  }

  function applyPhase(p) {
    state.payload = p;
    state.offset = p.server_now - Date.now();
    var badge = $("phase-badge");
    badge.textContent = S["phase_" + p.phase] || p.phase;
    badge.className = "badge badge-" + p.phase;
    $("paused-badge").hidden = !p.paused;
    setText("progress-text", p.position >= 0 ? fmt("progress", { n: p.position + 1, total: p.total }) : "");
    setText("stem", p.question ? p.question.stem : "");
    if (p.reveal) setText("answered-text", fmt("answered", p.reveal));
    updateButtons(p);
    tick();
    if (!state.timer) state.timer = window.setInterval(tick, 250);
  }

  function updateButtons(p) {
    var allowed = {
      start: p.phase === "lobby",
      next: p.phase !== "finished" && p.phase !== "lobby",
      pause: !p.paused && ["question", "reveal", "leaderboard"].indexOf(p.phase) >= 0,
      resume: !!p.paused,
      skip: p.phase === "question",
      extend: p.phase === "question" && !p.paused,
      end: p.phase !== "finished"
    };
    all("[data-action]", root).forEach(function (button) {
      button.disabled = !allowed[button.dataset.action];
    });
  }

  function tick() {
    var p = state.payload;
    if (!p) return;
    var ends = p.phase === "question" && p.question ? p.question.closes_at : null;
    if (!ends || p.phase === "finished") { setText("clock", p.paused ? S.paused : "—"); return; }
    var now = p.paused ? p.server_now : Date.now() + state.offset;
    var left = Math.max(0, ends - now);
    setText("clock", p.paused ? S.paused + " · " + fmt("remaining", { s: Math.ceil(left / 1000) })
      : left > 0 ? fmt("remaining", { s: Math.ceil(left / 1000) }) : S.time_up);
  }

  function applyProgress(progress) {
    if (progress.position >= 0) setText("answered-text", fmt("answered", progress));
  }

  var rosterPending = false;
  function loadRoster() {
    if (rosterPending) return;
    rosterPending = true;
    socket.emit("roster", { contest_id: contestId }, function (ack) {
      rosterPending = false;
      if (ack && ack.ok) renderRoster(ack.roster);
    });
  }

  function renderRoster(roster) {
    setText("roster-total", String(roster.total));
    var box = $("roster");
    box.replaceChildren();
    roster.branches.forEach(function (branch) {
      var node = $("branch-tpl").content.cloneNode(true);
      var active = branch.members.filter(function (m) { return !m.kicked; });
      node.querySelector(".roster-name").textContent = branch.name;
      node.querySelector(".roster-count").textContent = fmt("members", { n: active.length });
      var list = node.querySelector(".roster-members");
      if (!branch.members.length) {
        var empty = document.createElement("li");
        empty.className = "muted small";
        empty.textContent = S.no_members;
        list.appendChild(empty);
      }
      branch.members.forEach(function (member) { list.appendChild(memberRow(member)); });
      box.appendChild(node);
    });
  }

  function memberRow(member) {
    var row = $("member-tpl").content.cloneNode(true);
    var li = row.querySelector("li");
    row.querySelector(".member-label").textContent = member.name;
    row.querySelector(".member-score").textContent = fmt("score", { score: member.score });
    var button = row.querySelector(".kick");
    if (member.kicked) {
      li.classList.add("is-kicked");
      button.disabled = true;
      button.textContent = S.kicked;
    } else {
      button.addEventListener("click", function () { kick(member); });
    }
    var release = row.querySelector(".release");
    if (member.released) {
      li.classList.add("is-released");
      release.hidden = false;
      release.disabled = true;
      release.textContent = S.released;
    } else if (member.releasable) {
      release.hidden = false;
      release.addEventListener("click", function () { releaseSeat(member); });
    }
    return row;
  }

  /* A POST with the page's CSRF token (not a socket event): the seat's token is revoked. */
  function releaseSeat(member) {
    if (!window.confirm(fmt("confirm_release", { name: member.name }))) return;
    var url = root.dataset.releaseUrl.replace("/0/release", "/" + member.id + "/release");
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": root.dataset.csrf } })
      .then(function (r) { return r.json(); })
      .then(function (ack) {
        if (!ack || !ack.ok) { showError(fmt("control_failed", { message: ack ? ack.message : "" })); return; }
        renderRoster(ack.roster);
      })
      .catch(function () { showError(fmt("control_failed", { message: "" })); });
  }

  function kick(member) {
    if (!window.confirm(fmt("confirm_kick", { name: member.name }))) return;
    socket.emit("kick", { contest_id: contestId, participant_id: member.id }, function (ack) {
      if (!ack || !ack.ok) { showError(fmt("control_failed", { message: ack ? ack.message : "" })); return; }
      renderRoster(ack.roster);
    });
  }
})();
