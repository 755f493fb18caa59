/* The member's phone page: join, answer, see the reveal and standings.
 * Wire contract: docs/live-protocol.md. Plain ES2017, no build step; every string shown comes
 * from the template or the #strings catalogue; data is only ever put in the page as text. */
(function () {
  "use strict";

  var P = window.QuizPage;
  var S = P.S, $ = P.$, fmt = P.fmt, refusalText = P.refusalText, el = P.el, setText = P.setText;
  var app = document.getElementById("app");
  var params = new URLSearchParams(location.search);
  var ANSWER_TIMEOUT_MS = 8000;
  var NAME_MAX = 20;
  var RETRY_FIRST_MS = 500, RETRY_MAX_MS = 8000, JOIN_TRIES = 8;

  /* A refusal the server asks us to repeat (busy, a database hiccup): the phone retries by
   * itself, keeping the question and the choice, instead of showing an error for good. */
  function retryable(ack) {
    return !!ack && !ack.ok && (ack.retry === true || ack.reason === "server_error" || ack.reason === "busy");
  }

  /* Doubling from 0.5 s up to 8 s, each wait between half and one and a half of that, so a
   * room of phones refused together does not come back together. */
  function backoffMs(tries) {
    var base = Math.min(RETRY_FIRST_MS * Math.pow(2, Math.max(tries - 1, 0)), RETRY_MAX_MS);
    return base * (0.5 + Math.random());
  }

  // ---- small helpers ------------------------------------------------------------------
  function fillAll(name, text) {
    var nodes = document.querySelectorAll('[data-fill="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = text || "";
  }

  function sameSet(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    var x = a.slice().sort(), y = b.slice().sort();
    for (var i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }

  var store = {
    get: function (key) {
      try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
    },
    set: function (key, value) {
      try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
    },
    del: function (key) {
      try { localStorage.removeItem(key); } catch (e) { /* private mode */ }
    }
  };
  var KEY = {
    token: function (pin) { return "quiz.token." + pin; },
    pending: function (pin) { return "quiz.pending." + pin; },
    lastPin: "quiz.lastPin",
    large: "quiz.largeText",
    lang: "quiz.lang"
  };
  var LOCALE = document.documentElement.getAttribute("data-locale") || "zh-Hans";

  // ---- per-member option order (docs/live-protocol.md: shuffle() in play.js) -------------
  function mulberry32(a) {
    return function () {
      a = (a + 0x6D2B79F5) | 0;
      var t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /* Fisher–Yates driven by mulberry32 seeded with (seed ^ imul(position + 1, 0x9E3779B1)) >>> 0,
   * so one seed gives each question its own stable order. Returns a new array. */
  function shuffle(options, seed, position) {
    var rand = mulberry32((seed ^ Math.imul(position + 1, 0x9E3779B1)) >>> 0);
    var out = options.slice();
    for (var i = out.length - 1; i > 0; i--) {
      var j = Math.floor(rand() * (i + 1));
      var tmp = out[i]; out[i] = out[j]; out[j] = tmp;
    }
    return out;
  }
  window.QuizPlay = { shuffle: shuffle };

  // ---- state ------------------------------------------------------------------------------
  var state = {
    pin: "",
    token: null,
    socket: null,
    seq: null,          // last phase seq applied
    offset: 0,          // server clock - our clock, ms
    payload: null,      // last phase payload
    me: null,
    answers: {},        // position -> {status: ok|refused|lost, choice, points_if_correct, ...}
    pending: null,      // {position, choice, retried} not yet acknowledged
    attempt: 0,         // bumps on every send and disconnect; stale acks are ignored
    sending: false,
    selection: {},      // position -> [ids] being built for a multiple-choice question
    standingSeq: null,
    standing: null,
    timer: null,
    screen: null,
    contest: null       // /api/contests/<pin> result for the join form
  };

  // ---- screens ----------------------------------------------------------------------------
  var SCREENS = ["connecting", "join", "lobby", "question", "reveal", "leaderboard", "finished"];

  function show(name) {
    SCREENS.forEach(function (s) { $("screen-" + s).hidden = s !== name; });
    if (state.screen !== name) {
      state.screen = name;
      var heading = $("screen-" + name).querySelector("[tabindex='-1']");
      if (heading && name !== "join") heading.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }

  var noticeTimer = null;

  function notice(text) {
    var node = $("notice");
    node.textContent = text || "";
    node.hidden = !text;
    clearTimeout(noticeTimer);
    if (text) noticeTimer = setTimeout(function () { node.hidden = true; }, 15000);
  }

  function setConn(which) {
    var node = $("conn");
    node.setAttribute("data-state", which);
    document.body.classList.toggle("is-offline", which === "disconnected");
    setText("conn-text", which === "idle" ? "" : S["status_" + which]);
  }

  // ---- large text ---------------------------------------------------------------------------
  function setLarge(on) {
    document.body.classList.toggle("large-text", on);
    $("large-toggle").setAttribute("aria-pressed", on ? "true" : "false");
    store.set(KEY.large, on);
  }

  // ---- 简/繁 -----------------------------------------------------------------------------------
  /* The member's choice outlives a cleared cookie (WeChat's browser drops them): an explicit
   * ?lang= is remembered here, and a page served in the other script is reloaded in the
   * remembered one. Returns true when the page is about to reload. */
  function keepLanguage() {
    if (params.has("lang")) { store.set(KEY.lang, LOCALE); return false; }
    var wanted = store.get(KEY.lang);
    if (!wanted || wanted === LOCALE) return false;
    params.set("lang", wanted);
    location.replace(location.pathname + "?" + params.toString());
    return true;
  }

  // ---- join form ----------------------------------------------------------------------------
  var lookupTimer = null;
  var lookupSeq = 0;

  function showJoin(message) {
    show("join");
    $("join-error").textContent = message || "";
    $("join-btn").disabled = false;
    $("join-btn").textContent = S.join;
    var pin = $("pin").value.trim();
    if (pin && (!state.contest || state.contest.pin !== pin)) lookup(pin, true);
  }

  function lookup(pin, collapse) {
    var ticket = ++lookupSeq;
    state.contest = null;
    $("branch-field").hidden = true;
    $("member-no-field").hidden = true;
    pinMsg(S.contest_loading, false);
    fetch(app.getAttribute("data-api").replace("PIN", encodeURIComponent(pin)), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (res) {
      if (res.status === 404) return { notFound: true };
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    }).then(function (data) {
      if (ticket !== lookupSeq) return;
      if (data.notFound) {
        pinMsg(S.contest_not_found, true);
        showPinField(true);
        $("join-contest").hidden = true;
        return;
      }
      state.contest = data;
      pinMsg(data.phase === "finished" ? S.contest_closed : "", true);
      setText("join-contest-title", data.title);
      setText("join-contest-pin", data.pin);
      $("join-contest").hidden = false;
      if (collapse && data.phase !== "finished") showPinField(false);
      $("member-no-field").hidden = !data.roster_bound;
      renderBranches(data.branches || []);
    }).catch(function () {
      if (ticket === lookupSeq) pinMsg(S.network_error, true);
    });
  }

  /* The PIN's line: a problem with it is shown as prominently as the form's own errors. */
  function pinMsg(text, isError) {
    var node = $("pin-msg");
    node.textContent = text || "";
    node.classList.toggle("form-error", !!(text && isError));
    node.setAttribute("role", text && isError ? "alert" : "status");
  }

  function showPinField(visible) {
    $("pin-field").hidden = !visible;
    $("join-contest-pinline").hidden = visible;
  }

  function renderBranches(branches) {
    window.QuizBranches.render(branches.map(function (b) { return { id: b.id, name: b.name, group: b.parent }; }));
    $("branch-field").hidden = branches.length === 0;
  }

  function onJoinSubmit(event) {
    event.preventDefault();
    var pin = $("pin").value.replace(/\D/g, "");
    var name = $("name").value.trim();
    var memberNo = $("member-no").value.trim();
    var error = $("join-error");
    error.textContent = "";
    if (!pin) { error.textContent = S.pin_required; return $("pin").focus(); }
    if (!state.contest || state.contest.pin !== pin) { lookup(pin, false); error.textContent = S.contest_loading; return; }
    if (state.contest.phase === "finished") { error.textContent = S.contest_closed; return; }
    if (!name) { error.textContent = S.refusals.name_required; return $("name").focus(); }
    if (Array.from(name).length > NAME_MAX) { error.textContent = S.name_too_long; return $("name").focus(); }
    if (state.contest.roster_bound && !memberNo) { error.textContent = S.member_no_required; return $("member-no").focus(); }
    var branch = window.QuizBranches.chosen();
    if (!branch) { error.textContent = S.branch_required; return window.QuizBranches.focus(); }

    var payload = { pin: pin, name: name, branch_id: Number(branch) };
    if (state.contest.roster_bound) payload.member_no = memberNo;
    $("join-btn").disabled = true;
    $("join-btn").textContent = S.joining;
    state.pin = pin;
    state.token = null;
    // One id per join, kept until it is acked: a join re-sent after a lost ack gets its seat back.
    if (!state.joinId) state.joinId = randomId();
    payload.join_id = state.joinId;
    sendJoin(payload, 1);
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sendJoin(payload, tries) {
    var error = $("join-error");
    connect().timeout(10000).emit("join", payload, function (err, ack) {
      if (!err && retryable(ack) && tries < JOIN_TRIES) {
        error.textContent = S.join_retrying;
        setTimeout(function () { sendJoin(payload, tries + 1); }, backoffMs(tries));
        return;
      }
      $("join-btn").disabled = false;
      $("join-btn").textContent = S.join;
      if (err) { error.textContent = S.network_error; return; }
      if (!ack || !ack.ok) { state.joinId = null; error.textContent = refusalText(ack); return; }
      state.joinId = null;
      error.textContent = "";
      var pin = payload.pin;
      state.token = ack.token;
      store.set(KEY.token(pin), ack.token);
      store.set(KEY.lastPin, pin);
      state.seq = null;
      if (ack.snapshot) applyPayload(ack.snapshot, "snapshot");
    });
  }

  // ---- connection -------------------------------------------------------------------------
  function connect() {
    if (state.socket) return state.socket;
    var options = {
      // A function, so every reconnect sends the token we hold by then.
      auth: function (cb) { cb(state.token ? { token: state.token, lang: LOCALE } : { lang: LOCALE }); },
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000
    };
    if (params.get("transport") === "polling") options.transports = ["polling"];
    var socket = io("/play", options);
    state.socket = socket;
    setConn("connecting");
    socket.on("connect", function () {
      setConn("connected");
      // The server answers a token connect with `snapshot`, which resends a pending answer;
      // should that snapshot not come, resend anyway (repeats are idempotent on the server).
      if (state.token && state.pending) setTimeout(sendPending, 3000);
    });
    socket.on("disconnect", function (reason) {
      state.attempt++;
      state.sending = false;
      setConn("disconnected");
      if (state.pending) answerStatus("offline");
      if (reason === "io server disconnect" && state.token) socket.connect();
    });
    socket.on("connect_error", function () { setConn("disconnected"); });
    socket.io.on("reconnect_attempt", function () { setConn("disconnected"); });
    socket.on("phase", function (p) { applyPayload(p, "phase"); });
    socket.on("snapshot", function (p) { applyPayload(p, "snapshot"); });
    // After a message-queue outage the server sends the current phase to every phone.
    socket.on("resync", function (p) {
      applyPayload(p, "resync");
      if (state.pending) setTimeout(sendPending, backoffMs(1));
    });
    socket.on("time_credit", function (c) {
      if (c && typeof c.seconds === "number") notice(fmt("time_credit", { s: c.seconds }));
    });
    // A resume that met a passing fault on the server: ask again for the snapshot, later.
    socket.on("retry", function () { setTimeout(function () { requestSync(1); }, backoffMs(1)); });
    socket.on("session_ended", function (data) {
      endSession((data && (data.message || S.refusals[data.reason])) || S.session_ended);
    });
    return socket;
  }

  /* Back on the network or back from a locked screen: reconnect now, not after the backoff
   * (which can reach 5 s, a third of a question). disconnect() + connect() resets it. */
  function reconnectNow() {
    var socket = state.socket;
    if (!socket || socket.connected) return;
    socket.disconnect();
    socket.connect();
  }

  function endSession(message) {
    store.del(KEY.token(state.pin));
    store.del(KEY.pending(state.pin));
    state.token = null;
    state.pending = null;
    state.seq = null;
    state.me = null;
    state.payload = null;
    state.answers = {};
    stopTimer();
    notice("");
    showJoin(message || S.session_ended);
  }

  function requestSync(tries) {
    if (!state.socket || !state.socket.connected) return;
    tries = tries || 1;
    state.socket.timeout(ANSWER_TIMEOUT_MS).emit("sync", {}, function (err, ack) {
      if (!err && ack && ack.ok && ack.snapshot) return applyPayload(ack.snapshot, "snapshot");
      if (!err && ack && (ack.reason === "unknown_token" || ack.reason === "kicked")) {
        return endSession(ack.message || S.refusals[ack.reason]);
      }
      if ((err || retryable(ack)) && tries < JOIN_TRIES) {
        setTimeout(function () { requestSync(tries + 1); }, backoffMs(tries));
      }
    });
  }

  // ---- phases -------------------------------------------------------------------------------
  function applyPayload(p, kind) {
    if (!p || typeof p.seq !== "number") return;
    if (typeof p.server_now === "number") state.offset = p.server_now - Date.now();
    if (state.seq !== null) {
      if (p.seq < state.seq) return;
      if (p.seq === state.seq && kind !== "snapshot") return;
      // A gap: some phase never reached us; our own part (answer, score) comes with a snapshot.
      // After a resync every phone asks at once, so those spread their asks over 2 s.
      if (kind === "phase" && p.seq > state.seq + 1) requestSync();
      if (kind === "resync" && p.seq > state.seq + 1) setTimeout(requestSync, Math.random() * 2000);
    }
    state.seq = p.seq;
    state.payload = p;
    if (p.me) applyMe(p.me);
    if (kind === "snapshot") reconcilePending(p);
    render();
  }

  function applyMe(me) {
    state.me = me;
    var a = me.answer;
    if (a && typeof a.position === "number") {
      state.answers[a.position] = Object.assign({}, state.answers[a.position] || {}, a, { status: "ok" });
    }
  }

  function render() {
    var p = state.payload;
    if (!p) return;
    fillAll("contest-title", p.contest && p.contest.title);
    if (state.me) {
      fillAll("me-name", state.me.name);
      fillAll("me-branch", state.me.branch && state.me.branch.name);
    }
    if (p.phase !== "question") stopTimer();
    if (p.phase === "lobby") show("lobby");
    else if (p.phase === "question") renderQuestion(p);
    else if (p.phase === "reveal") renderReveal(p);
    else if (p.phase === "leaderboard") renderLeaderboard(p);
    else if (p.phase === "finished") renderFinished(p);
  }

  // ---- question -------------------------------------------------------------------------------
  /* Shuffled only where the contest asks for it (no shared screen): then no letters either. */
  function shuffled() {
    var p = state.payload;
    return !!(p && p.contest && p.contest.shuffle);
  }

  function orderedOptions(q) {
    if (!shuffled() || q.type === "judge" || !state.me || typeof state.me.seed !== "number") return q.options.slice();
    return shuffle(q.options, state.me.seed, q.position);
  }

  function lettered(opt) {
    return !shuffled() && typeof opt.letter === "string";
  }

  function remainingMs(q, p) {
    var now = p.paused ? p.server_now : Date.now() + state.offset;
    return q.closes_at - now;
  }

  function renderQuestion(p) {
    var q = p.question;
    show("question");
    setText("q-progress", fmt("progress", { n: q.position + 1, total: p.total }));
    setText("q-type", q.type_label);
    setText("q-stem", q.stem);
    var record = state.answers[q.position];
    var pending = state.pending && state.pending.position === q.position ? state.pending : null;
    if (record || pending) renderAnswered(q, record, pending);
    else renderOptions(q, p);
    startTimer();
  }

  function renderOptions(q, p) {
    var box = $("q-options");
    var multiple = q.type === "multiple";
    var picked = state.selection[q.position] || [];
    var closed = remainingMs(q, p) <= 0;
    box.hidden = false;
    $("q-answered").hidden = true;
    box.textContent = "";
    box.className = "options" + (q.type === "judge" ? " options-judge" : "");
    orderedOptions(q).forEach(function (opt) {
      var button = el("button", "option" + (q.type === "judge" ? " option-" + opt.id : ""));
      button.type = "button";
      button.setAttribute("data-id", opt.id);
      if (multiple) {
        button.setAttribute("aria-pressed", picked.indexOf(opt.id) >= 0 ? "true" : "false");
        button.appendChild(el("span", "option-check"));
      }
      if (lettered(opt)) {
        button.classList.add("option-lettered", "place-" + "ABCDEFGH".indexOf(opt.letter));
        button.appendChild(P.mark(opt.letter));
      }
      button.appendChild(el("span", "option-text", opt.text));
      button.disabled = closed || !!p.paused;
      box.appendChild(button);
    });
    $("q-hint").hidden = !multiple;
    setText("q-hint", multiple ? S.multiple_hint : "");
    $("q-submit").hidden = !multiple;
    $("q-submit").disabled = picked.length === 0 || closed || !!p.paused;
    $("q-submit").textContent = picked.length ? S.submit + "（" + fmt("chosen_count", { n: picked.length }) + "）" : S.submit;
    setText("q-feedback", closed ? S.time_up_wait : "");
  }

  function onOptionTap(event) {
    var button = event.target.closest ? event.target.closest("button.option") : null;
    var p = state.payload;
    if (!button || button.disabled || !p || p.phase !== "question") return;
    var q = p.question, id = button.getAttribute("data-id");
    if (q.type !== "multiple") return submit(q.position, [id]);
    var picked = (state.selection[q.position] || []).slice();
    var at = picked.indexOf(id);
    if (at >= 0) picked.splice(at, 1); else picked.push(id);
    state.selection[q.position] = picked;
    renderOptions(q, p);
  }

  function onSubmitTap() {
    var p = state.payload;
    if (!p || p.phase !== "question") return;
    var picked = state.selection[p.question.position] || [];
    if (picked.length) submit(p.question.position, picked.slice().sort());
  }

  function renderAnswered(q, record, pending) {
    $("q-options").hidden = true;
    $("q-hint").hidden = true;
    $("q-submit").hidden = true;
    $("q-answered").hidden = false;
    var choice = (record && record.choice) || (pending && pending.choice) || [];
    var list = $("q-chosen");
    list.textContent = "";
    q.options.forEach(function (opt) {
      if (choice.indexOf(opt.id) < 0) return;
      var item = el("li");
      if (lettered(opt)) item.appendChild(P.mark(opt.letter));
      item.appendChild(el("span", "option-text", opt.text));
      list.appendChild(item);
    });
    if (record && record.status === "ok") answerStatus("ok");
    else if (record) answerStatus("refused", record.message);
    else answerStatus(state.socket && state.socket.connected ? (pending.retried ? "retrying" : "sending") : "offline");
  }

  /* The answered panel's line: sending → ok, or retrying/offline until the ack comes. */
  function answerStatus(which, message) {
    var text = {
      sending: S.submitting, retrying: S.retrying, busy: S.busy_retrying, offline: S.offline_pending,
      ok: S.submitted, refused: message
    }[which];
    if (state.screen !== "question") return;
    setText("q-answered-text", text);
    $("q-answered").setAttribute("data-state", which);
    $("q-answered-spin").hidden = which === "ok" || which === "refused";
    setText("q-feedback", "");
  }

  // ---- answers: never lose one ------------------------------------------------------------------
  function submit(position, choice) {
    if (state.pending || state.answers[position]) return;
    state.pending = { position: position, choice: choice, retried: false };
    store.set(KEY.pending(state.pin), state.pending);
    if (state.payload) renderQuestion(state.payload);
    sendPending();
  }

  function clearPending() {
    state.pending = null;
    store.del(KEY.pending(state.pin));
  }

  function sendPending() {
    var pending = state.pending;
    if (!pending || state.sending) return;
    if (!state.socket || !state.socket.connected) {
      pending.retried = true;
      store.set(KEY.pending(state.pin), pending);
      answerStatus("offline");
      return;
    }
    var attempt = ++state.attempt;
    state.sending = true;
    var payload = { position: pending.position, choice: pending.choice };
    state.socket.timeout(ANSWER_TIMEOUT_MS).emit("answer", payload, function (err, ack) {
      if (attempt !== state.attempt || pending !== state.pending) return;
      state.sending = false;
      if (err || retryable(ack)) {
        // No ack in time, or the server could not take it now: the answer stays pending (and
        // stored) and goes again, until it gets an ok or a final refusal (e.g. too late).
        pending.retried = true;
        pending.tries = (pending.tries || 0) + 1;
        store.set(KEY.pending(state.pin), pending);
        answerStatus(err ? "retrying" : "busy");
        setTimeout(sendPending, err ? 500 : backoffMs(pending.tries));
        return;
      }
      onAnswerAck(pending, ack || {});
    });
  }

  function onAnswerAck(pending, ack) {
    var position = pending.position;
    var current = state.payload && state.payload.position === position && state.payload.phase === "question";
    clearPending();
    if (ack.ok) {
      state.answers[position] = Object.assign({}, state.answers[position] || {}, {
        status: "ok",
        position: position,
        choice: ack.choice || pending.choice,
        elapsed_ms: ack.elapsed_ms,
        points_if_correct: ack.points_if_correct
      });
      if (!current && pending.retried) notice(S.answer_delivered_late);
    } else if (ack.reason === "already_answered") {
      // Another device or an earlier send holds a different choice: the snapshot tells which.
      state.answers[position] = { status: "refused", position: position, choice: pending.choice, message: refusalText(ack) };
      requestSync();
    } else {
      var lost = pending.retried && ["too_late", "not_open", "wrong_phase"].indexOf(ack.reason) >= 0;
      var message = lost ? S.answer_lost : refusalText(ack);
      state.answers[position] = { status: lost ? "lost" : "refused", position: position, choice: pending.choice, message: message };
      if (!current) notice(message);
    }
    render();
  }

  /* After a (re)connect snapshot: drop, resend or give up on the answer we could not confirm. */
  function reconcilePending(p) {
    var pending = state.pending;
    if (!pending) return;
    var record = state.answers[pending.position];
    if (record && record.status === "ok") { clearPending(); return; }
    if (p.position === pending.position && p.phase !== "question" && p.me) {
      // The question closed and the server has no answer from us for it: say so plainly.
      state.answers[pending.position] = { status: "lost", position: pending.position, choice: pending.choice, message: S.answer_lost };
      clearPending();
      if (p.phase !== "reveal") notice(S.answer_lost); // the reveal banner says it otherwise
      return;
    }
    pending.retried = true;
    if (p.position !== pending.position) notice(S.answer_late_check);
    setTimeout(sendPending, 0);
  }

  // ---- countdown -------------------------------------------------------------------------------
  function startTimer() {
    if (!state.timer) state.timer = setInterval(tick, 250);
    tick();
  }

  function stopTimer() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  function tick() {
    var p = state.payload;
    if (!p || p.phase !== "question" || !p.question) return stopTimer();
    var q = p.question;
    var left = remainingMs(q, p);
    var span = Math.max(q.closes_at - q.opens_at, q.time_limit * 1000, left, 1);
    var fraction = Math.max(0, Math.min(1, left / span));
    $("q-bar").style.transform = "scaleX(" + fraction.toFixed(4) + ")";
    $("q-countdown").setAttribute("data-urgent", left <= 5000 ? "true" : "false");
    setText("q-sec", p.paused ? S.paused : left > 0 ? fmt("seconds", { s: Math.ceil(left / 1000) }) : S.time_up);
    if (left <= 0 && !state.answers[q.position] && !state.pending && !$("q-options").hidden) {
      var buttons = $("q-options").querySelectorAll("button");
      if (buttons.length && !buttons[0].disabled) renderOptions(q, p);
    }
  }

  // ---- reveal ---------------------------------------------------------------------------------
  function renderReveal(p) {
    var q = p.question, r = p.reveal || {};
    var correct = r.correct || [];
    var record = state.answers[q.position];
    var pending = state.pending && state.pending.position === q.position;
    show("reveal");
    var result = "none", title = S.not_answered, points = "";
    if (pending) {
      result = "pending"; title = S.retrying;
    } else if (record && record.status === "ok") {
      var right = typeof record.correct === "boolean" ? record.correct : sameSet(record.choice, correct);
      var earned = typeof record.points === "number" ? record.points : right ? record.points_if_correct || 0 : 0;
      result = right ? "right" : "wrong";
      title = right ? S.correct : S.wrong;
      points = fmt("earned", { points: earned });
    } else if (record) {
      result = record.status === "lost" ? "lost" : "wrong";
      title = record.message;
      points = fmt("earned", { points: 0 });
    }
    $("r-banner").setAttribute("data-result", result);
    setText("r-icon", { right: "✓", wrong: "✗", lost: "!", none: "–", pending: "…" }[result]);
    setText("r-result", title);
    setText("r-points", points);
    setText("r-progress", fmt("progress", { n: q.position + 1, total: p.total }));
    setText("r-stem", q.stem);
    var mine = record ? record.choice || [] : [];
    var list = $("r-options");
    list.textContent = "";
    orderedOptions(q).forEach(function (opt) {
      var isRight = correct.indexOf(opt.id) >= 0, isMine = mine.indexOf(opt.id) >= 0;
      var item = el("li", "reveal-option" + (isRight ? " is-correct" : "") + (isMine ? " is-mine" : ""));
      item.appendChild(el("span", "reveal-mark", isRight ? "✓" : isMine ? "✗" : ""));
      if (lettered(opt)) item.appendChild(P.mark(opt.letter));
      item.appendChild(el("span", "option-text", opt.text));
      if (isMine) item.appendChild(el("span", "mine-tag", S.your_choice));
      list.appendChild(item);
    });
    setText("r-explain", r.explanation);
    setText("r-source", r.source ? fmt("source", { source: r.source }) : "");
    $("r-explain-card").hidden = !r.explanation && !r.source;
  }

  // ---- standings ---------------------------------------------------------------------------------
  function askStanding(p, prefix) {
    if (state.standingSeq === p.seq) return renderStanding(prefix);
    state.standingSeq = p.seq;
    state.standing = null;
    renderStanding(prefix);
    var delay = Math.random() * 2000; // spreads the requests (protocol: 0–2 s)
    setTimeout(function () { fetchStanding(p.seq, prefix, 1); }, delay);
  }

  function fetchStanding(seq, prefix, triesLeft) {
    if (state.standingSeq !== seq) return;
    if (!state.socket || !state.socket.connected) return setText(prefix + "-status", S.standing_failed);
    state.socket.timeout(ANSWER_TIMEOUT_MS).emit("standing", {}, function (err, ack) {
      if (state.standingSeq !== seq) return;
      if (err || !ack || !ack.ok) {
        if (triesLeft > 0) setTimeout(function () { fetchStanding(seq, prefix, triesLeft - 1); }, 3000);
        else setText(prefix + "-status", S.standing_failed);
        return;
      }
      state.standing = ack;
      renderStanding(prefix);
    });
  }

  function renderStanding(prefix) {
    var s = state.standing;
    var score = s ? s.score : state.me && state.me.score;
    setText(prefix + "-score", typeof score === "number" ? fmt("points", { points: score }) : "");
    setText(prefix + "-rank", s && s.rank ? fmt(s.tied ? "tied_rank" : "rank", { rank: s.rank }) : "");
    setText(prefix + "-of", s && s.of ? fmt("rank_of", { of: s.of }) : "");
    setText(prefix + "-correct", s && typeof s.correct === "number" ? fmt("correct_count", { correct: s.correct }) : "");
    var branch = s && s.branch;
    $(prefix + "-branch").hidden = !(branch && branch.rank);
    setText(prefix + "-branch", branch && branch.rank ? fmt(branch.tied ? "branch_rank_tied" : "branch_rank", branch) : "");
    setText(prefix + "-status", s ? "" : S.standing_loading);
  }

  function renderLeaderboard(p) {
    show("leaderboard");
    askStanding(p, "lb");
  }

  function renderFinished(p) {
    show("finished");
    askStanding(p, "fin");
  }

  // ---- start -------------------------------------------------------------------------------
  function start() {
    if (keepLanguage()) return;
    setLarge(store.get(KEY.large) === true);
    $("large-toggle").addEventListener("click", function () {
      setLarge(!document.body.classList.contains("large-text"));
    });
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });
    $("join-form").addEventListener("submit", onJoinSubmit);
    $("pin").addEventListener("input", function () {
      var pin = this.value.replace(/\D/g, "");
      if (pin !== this.value) this.value = pin;
      clearTimeout(lookupTimer);
      state.contest = null;
      $("join-contest").hidden = true;
      $("branch-field").hidden = true;
      pinMsg("", false);
      if (pin.length >= 4) lookupTimer = setTimeout(function () { lookup(pin, false); }, 400);
    });
    $("pin-change").addEventListener("click", function () { showPinField(true); $("pin").focus(); });
    $("q-options").addEventListener("click", onOptionTap);
    $("q-submit").addEventListener("click", onSubmitTap);

    var pin = app.getAttribute("data-pin") || store.get(KEY.lastPin) || "";
    state.pin = pin;
    $("pin").value = pin;
    state.token = pin ? store.get(KEY.token(pin)) : null;
    state.pending = pin ? store.get(KEY.pending(pin)) : null;
    if (state.token) {
      show("connecting");
      connect();
    } else {
      state.pending = null;
      showJoin();
    }
  }

  start();
})();
