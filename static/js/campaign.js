/* Campaign phone page: join, attempts left, the timed attempt over plain HTTP, results, practice.
 * Every request is retried on a weak network (answers are idempotent per attempt + position);
 * text comes from the template or the #strings catalogue; data goes in as text only. */
(function () {
  "use strict";

  var P = window.QuizPage;
  var S = P.S, $ = P.$, fmt = P.fmt, el = P.el;
  var app = $("app");
  var PIN = app.dataset.pin;
  var BASE = app.dataset.api;
  var TOKEN_KEY = "campaign-token:" + PIN;
  var DEVICE_KEY = "quiz-device";
  var state = { info: null, me: null, attempt: null, index: 0, offset: 0, timer: null, hidden: 0,
                selected: [], practice: [], pIndex: 0, pSelected: [], submitting: false };

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fill(name, text) {
    document.querySelectorAll('[data-fill="' + name + '"]').forEach(function (n) { n.textContent = text; });
  }
  function show(id) {
    document.querySelectorAll(".screen").forEach(function (s) { s.hidden = s.id !== id; });
    var focus = document.querySelector("#" + id + " [tabindex='-1']");
    if (focus) focus.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  function notice(text) {
    var n = $("notice");
    n.textContent = text || "";
    n.hidden = !text;
  }
  function storage(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      if (value === null) window.localStorage.removeItem(key); else window.localStorage.setItem(key, value);
    } catch (e) { return null; }
    return null;
  }
  function device() {
    var id = storage(DEVICE_KEY);
    if (!id) {
      id = Array.prototype.map.call(window.crypto.getRandomValues(new Uint8Array(12)), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      storage(DEVICE_KEY, id);
    }
    return id;
  }
  function now() { return Date.now() + state.offset; }
  function clockFrom(data) { if (data && data.server_now) state.offset = data.server_now - Date.now(); }
  function duration(ms) {
    var s = Math.max(Math.round(ms / 1000), 0);
    return s >= 60 ? fmt("minutes_seconds", { m: Math.floor(s / 60), s: s % 60 }) : fmt("seconds_only", { s: s });
  }
  /* Times in the contest's zone (a member travelling still sees the organizer's days). */
  function day(ms) {
    var tz = state.info && state.info.tz;
    try {
      return new Date(ms).toLocaleString("zh-CN", { timeZone: tz, month: "numeric", day: "numeric",
                                                    hour: "2-digit", minute: "2-digit", hour12: false });
    } catch (e) {
      return new Date(ms).toLocaleString("zh-CN");
    }
  }

  /* HTTP with retries: network errors and 5xx are retried with backoff; refusals come back. */
  function api(method, path, body, tries) {
    tries = tries === undefined ? 6 : tries;
    var headers = { "Content-Type": "application/json", "X-Member-Token": storage(TOKEN_KEY) || "" };
    var ctrl = window.AbortController ? new AbortController() : null;
    var timeout = setTimeout(function () { if (ctrl) ctrl.abort(); }, 10000);
    return fetch(BASE + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
                                 signal: ctrl ? ctrl.signal : undefined, credentials: "same-origin" })
      .then(function (res) {
        clearTimeout(timeout);
        if (res.status >= 500) throw new Error("server " + res.status);
        return res.json().then(function (data) { data.status = res.status; clockFrom(data); return data; });
      })
      .catch(function (err) {
        clearTimeout(timeout);
        if (tries <= 1) throw err;
        notice(S.network_error);
        return new Promise(function (resolve) { setTimeout(resolve, 700 * (7 - tries)); })
          .then(function () { return api(method, path, body, tries - 1); });
      })
      .then(function (data) { if (data && data.status < 500) notice(""); return data; });
  }

  /* ------------------------------------------------------------------ start */
  function boot() {
    api("GET", "").then(function (info) {
      if (info.status === 404) return show("screen-missing");
      state.info = info;
      fill("title", info.title);
      fill("window", day(info.starts_at) + " — " + day(info.ends_at));
      renderRules(info);
      if (storage(TOKEN_KEY)) return home();
      showJoin();
    }).catch(function () { notice(S.network_error); });
  }

  function renderRules(info) {
    var list = $("rules");
    clear(list);
    var timing = info.time_mode === "attempt" ? "每次 " + info.count + " 题，限时 " + duration(info.attempt_seconds * 1000)
      : "每次 " + info.count + " 题，每题限时 " + info.question_seconds + " 秒";
    [timing, info.per_day ? "每天最多作答 " + info.per_day + " 次" : "每天作答次数不限",
     info.total ? "全程最多作答 " + info.total + " 次" : null, "成绩按" + info.counting_label + "计，同分用时短者在前",
     info.review_label].forEach(function (t) { if (t) list.appendChild(el("li", null, t)); });
  }

  function showJoin() {
    var info = state.info;
    $("member-no-field").hidden = !info.roster_bound;
    window.QuizBranches.render(info.branches.map(function (b) {
      return { id: b.id, name: b.name, group: b.path.join(" / ") };
    }));
    show("screen-join");
  }

  $("join-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var picked = window.QuizBranches.chosen();
    var name = $("name").value.trim();
    $("join-error").textContent = "";
    if (!name) { $("join-error").textContent = S.refusals.name_required; return; }
    if (!picked) { $("join-error").textContent = S.refusals.no_such_branch; window.QuizBranches.focus(); return; }
    $("join-btn").disabled = true;
    api("POST", "/join", { name: name, branch_id: Number(picked), member_no: $("member-no").value.trim(),
                           device: device() })
      .then(function (res) {
        $("join-btn").disabled = false;
        if (!res.ok) { $("join-error").textContent = res.message; return; }
        storage(TOKEN_KEY, res.token);
        home();
      }).catch(function () { $("join-btn").disabled = false; $("join-error").textContent = S.network_error; });
  });

  /* ------------------------------------------------------------------ home */
  function home() {
    stopTimer();
    api("GET", "/me").then(function (me) {
      if (me.status === 401) { storage(TOKEN_KEY, null); return showJoin(); }
      state.me = me;
      fill("me-name", me.name);
      fill("me-branch", me.branch);
      $("left-today").textContent = me.left.today === null ? S.left_unlimited : fmt("left_today", { n: me.left.today });
      $("left-total").hidden = me.left.total === null;
      $("left-total").textContent = me.left.total === null ? "" : fmt("left_total", { n: me.left.total });
      $("blocked").hidden = !me.blocked;
      $("blocked").textContent = me.blocked ? me.blocked.message : "";
      $("start-btn").disabled = !me.can_start;
      $("start-btn").textContent = me.current ? fmt("continue", { n: me.current.answered, total: me.current.total }) : S.start;
      renderHistory(me.history);
      show("screen-home");
    }).catch(function () { notice(S.network_error); });
  }

  function renderHistory(items) {
    var list = $("history");
    clear(list);
    $("history-card").hidden = !items.length;
    items.slice().reverse().forEach(function (a) {
      var li = el("li", null, fmt("history_item", { n: a.number, score: a.score, time: duration(a.time_ms) }));
      if (a.closed_by === "deadline" || a.closed_by === "hidden") li.appendChild(el("span", "muted", S["closed_by_" + a.closed_by]));
      var link = el("button", "link-button", "查看");
      link.type = "button";
      link.addEventListener("click", function () { showResult(a.id); });
      li.appendChild(link);
      list.appendChild(li);
    });
  }

  $("start-btn").addEventListener("click", function () {
    $("start-btn").disabled = true;
    api("POST", "/attempts", { device: device() }).then(function (res) {
      $("start-btn").disabled = false;
      if (!res.ok) { $("blocked").hidden = false; $("blocked").textContent = res.message; return; }
      if (res.continued) notice(S.continued_here);
      begin(res.attempt);
    }).catch(function () { $("start-btn").disabled = false; notice(S.network_error); });
  });

  /* ------------------------------------------------------------------ the attempt */
  function begin(attempt) {
    state.attempt = attempt;
    state.hidden = attempt.hidden_count || 0;
    var first = attempt.items.findIndex(function (i) { return !i.choice; });
    state.index = first < 0 ? 0 : first;
    renderItem();
    show("screen-attempt");
    startTimer();
  }

  function current() { return state.attempt.items[state.index]; }

  function renderItem() {
    var a = state.attempt;
    var item = current();
    state.selected = item.choice ? item.choice.slice() : [];
    $("q-progress").textContent = fmt("progress", { n: item.position + 1, total: a.total });
    $("q-type").textContent = item.type_label;
    $("q-stem").textContent = item.stem;
    $("q-hint").hidden = item.type !== "multiple";
    $("q-hint").textContent = S.multiple_hint;
    $("q-save").textContent = item.choice ? S.saved : "";
    var box = $("q-options");
    clear(box);
    box.className = "options" + (item.type === "judge" ? " options-judge" : "");
    item.options.forEach(function (o) {
      var b = el("button", "option option-" + o.id);
      b.type = "button";
      b.dataset.id = o.id;
      b.setAttribute("aria-pressed", state.selected.indexOf(o.id) >= 0 ? "true" : "false");
      b.disabled = !!item.choice;
      if (item.type !== "judge") b.appendChild(el("span", "option-check"));
      b.appendChild(el("span", null, o.text));
      b.addEventListener("click", function () { choose(o.id); });
      box.appendChild(b);
    });
    renderDots();
    var questionMode = a.time_mode === "question";
    $("prev-btn").hidden = questionMode;
    $("prev-btn").disabled = state.index === 0;
    $("next-btn").hidden = questionMode && item.type !== "multiple";
    $("next-btn").textContent = questionMode ? S.submit : S.next;
    $("next-btn").disabled = !questionMode && state.index >= a.items.length - 1 && item.type !== "multiple";
    tick();
  }

  function renderDots() {
    var nav = $("q-dots");
    clear(nav);
    if (state.attempt.time_mode === "question") return;
    state.attempt.items.forEach(function (item, i) {
      var d = el("button", "dot" + (item.choice ? " dot-done" : "") + (i === state.index ? " dot-current" : ""), String(i + 1));
      d.type = "button";
      d.setAttribute("aria-label", fmt("progress", { n: i + 1, total: state.attempt.total }));
      d.addEventListener("click", function () { state.index = i; renderItem(); });
      nav.appendChild(d);
    });
  }

  function choose(id) {
    var item = current();
    if (item.choice) return;
    if (item.type === "multiple") {
      var at = state.selected.indexOf(id);
      if (at >= 0) state.selected.splice(at, 1); else state.selected.push(id);
      document.querySelectorAll("#q-options .option").forEach(function (b) {
        b.setAttribute("aria-pressed", state.selected.indexOf(b.dataset.id) >= 0 ? "true" : "false");
      });
      return;
    }
    state.selected = [id];
    save().then(advance);
  }

  function save() {
    var item = current();
    if (item.choice || !state.selected.length) return Promise.resolve(true);
    var a = state.attempt;
    var choice = state.selected.slice();
    $("q-save").textContent = S.saving;
    document.querySelectorAll("#q-options .option").forEach(function (b) {
      b.disabled = true;
      b.setAttribute("aria-pressed", choice.indexOf(b.dataset.id) >= 0 ? "true" : "false");
    });
    return api("POST", "/attempts/" + a.id + "/answers", { position: item.position, choice: choice }, 12).then(function (res) {
      if (res.ok) {
        item.choice = res.choice;
        $("q-save").textContent = S.saved;
        if (res.attempt) { state.attempt = res.attempt; }
        if (res.finished) { showResult(a.id); return false; }
        return true;
      }
      $("q-save").textContent = res.message;
      if (res.finished) { showResult(a.id); return false; }
      if (res.reason === "already_answered" || res.reason === "too_late") item.choice = item.choice || [];
      return true;
    }).catch(function () { $("q-save").textContent = S.network_error; return false; });
  }

  function advance(ok) {
    if (!ok || !state.attempt) return;
    var items = state.attempt.items;
    if (state.attempt.time_mode === "question") {
      state.index = items.length - 1;
      renderItem();
      return;
    }
    var next = items.findIndex(function (i, n) { return n > state.index && !i.choice; });
    if (next < 0) next = items.findIndex(function (i) { return !i.choice; });
    if (next >= 0) { state.index = next; renderItem(); } else { renderDots(); }
  }

  $("prev-btn").addEventListener("click", function () {
    if (state.index > 0) { state.index -= 1; renderItem(); }
  });
  $("next-btn").addEventListener("click", function () {
    save().then(function (ok) {
      if (!ok) return;
      if (state.attempt.time_mode === "question") return advance(true);
      if (state.index < state.attempt.items.length - 1) { state.index += 1; renderItem(); }
    });
  });

  var confirmArmed = false;
  $("submit-btn").addEventListener("click", function () {
    var open = state.attempt.items.filter(function (i) { return !i.choice; }).length + (state.attempt.total - state.attempt.items.length);
    if (open && !confirmArmed) {
      confirmArmed = true;
      $("submit-btn").textContent = fmt("confirm_submit", { n: open });
      setTimeout(function () { confirmArmed = false; $("submit-btn").textContent = S.submit; }, 4000);
      return;
    }
    confirmArmed = false;
    $("submit-btn").textContent = S.submit;
    save().then(finish);
  });

  function finish() {
    if (state.submitting || !state.attempt) return;
    state.submitting = true;
    var id = state.attempt.id;
    api("POST", "/attempts/" + id + "/submit", {}, 12).then(function () {
      state.submitting = false;
      showResult(id);
    }).catch(function () { state.submitting = false; notice(S.network_error); });
  }

  /* Server-corrected countdown: the deadline is the server's, `offset` maps it to this clock. */
  function startTimer() { stopTimer(); state.timer = setInterval(tick, 250); }
  function stopTimer() { if (state.timer) clearInterval(state.timer); state.timer = null; }
  function tick() {
    var a = state.attempt;
    if (!a) return;
    var item = current();
    var deadline = a.time_mode === "question" ? item.deadline : a.deadline;
    var total = a.time_mode === "question" ? deadline - item.opened_at : a.deadline - a.started_at;
    var left = Math.max(deadline - now(), 0);
    $("q-sec").textContent = duration(left);
    $("q-bar").style.width = (total > 0 ? (100 * left) / total : 0) + "%";
    $("q-countdown").dataset.urgent = left < 10000 ? "true" : "false";
    if (left > 0) return;
    if (a.time_mode === "question" && now() < a.deadline) {
      stopTimer();
      api("GET", "/attempts/" + a.id).then(function (res) {
        if (res.attempt.finished) return showResult(a.id);
        begin(res.attempt);
      });
      return;
    }
    stopTimer();
    notice(S.time_up);
    finish();
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden" || !state.attempt || $("screen-attempt").hidden) return;
    state.hidden += 1;
    var id = state.attempt.id;
    api("POST", "/attempts/" + id + "/hidden", { count: state.hidden }).then(function (res) {
      if (res.finished && res.closed_by === "hidden") { notice(S.hidden_submitted); showResult(id); }
      else if (res.ok) notice(fmt("hidden_warning", { n: state.hidden }));
    });
  });

  /* ------------------------------------------------------------------ the result */
  function showResult(id) {
    stopTimer();
    state.attempt = null;
    api("GET", "/attempts/" + id + "/result").then(function (res) {
      if (!res.ok) return home();
      var r = res.result;
      $("r-score").textContent = fmt("score", { score: r.score, full: r.full_mark });
      $("r-closed").textContent = r.closed_by === "deadline" || r.closed_by === "hidden" ? S["closed_by_" + r.closed_by] : "";
      $("r-correct").textContent = fmt("correct_count", { correct: r.correct, total: r.total });
      $("r-time").textContent = duration(r.time_ms);
      $("r-rank").textContent = r.rank ? fmt("rank", { rank: r.rank, of: r.of }) : "—";
      $("r-branch").textContent = r.branch.rank ? fmt("branch_rank", { name: r.branch.name, rank: r.branch.rank, of: r.branch.of }) : r.branch.name;
      $("r-later").hidden = r.review_visible && !r.review_held;
      $("r-later").textContent = !r.review_visible ? fmt("review_later", { when: day(r.review_at) })
        : r.review_held ? fmt("review_held", { n: r.review_held }) : "";
      renderReview(r.review);
      show("screen-result");
    });
  }

  function renderReview(items) {
    var list = $("r-review");
    clear(list);
    items.forEach(function (item) {
      var li = el("li", "card review-item " + (item.is_correct ? "is-right" : "is-wrong"));
      var head = el("p", "review-head");
      head.appendChild(el("span", "tag", item.type_label));
      head.appendChild(el("span", "review-mark", item.is_correct ? S.right : S.wrong));
      li.appendChild(head);
      li.appendChild(el("p", "review-stem", (item.position + 1) + ". " + item.stem));
      var opts = el("ul", "review-options");
      item.options.forEach(function (o) {
        var mine = item.choice && item.choice.indexOf(o.id) >= 0;
        var right = item.correct_ids.indexOf(o.id) >= 0;
        var row = el("li", "review-option" + (right ? " is-answer" : "") + (mine ? " is-mine" : ""), o.text);
        if (right) row.appendChild(el("span", "review-label", S.correct_answer));
        if (mine) row.appendChild(el("span", "review-label", S.your_choice));
        opts.appendChild(row);
      });
      li.appendChild(opts);
      if (!item.choice) li.appendChild(el("p", "muted", S.not_answered));
      if (item.explanation) li.appendChild(el("p", "explain", item.explanation));
      if (item.source) li.appendChild(el("p", "source", fmt("source", { source: item.source })));
      list.appendChild(li);
    });
  }

  $("home-btn").addEventListener("click", home);

  /* ------------------------------------------------------------------ practice */
  $("practice-btn").addEventListener("click", function () {
    var chips = $("p-categories");
    clear(chips);
    var cats = [{ id: "", title: "全部" }].concat(state.info.categories || []);
    cats.forEach(function (c, i) {
      var b = el("button", "chip", c.title);
      b.type = "button";
      b.setAttribute("aria-pressed", i === 0 ? "true" : "false");
      b.addEventListener("click", function () {
        chips.querySelectorAll(".chip").forEach(function (x) { x.setAttribute("aria-pressed", x === b ? "true" : "false"); });
        loadPractice(c.id);
      });
      chips.appendChild(b);
    });
    show("screen-practice");
    loadPractice("");
  });
  $("p-back").addEventListener("click", home);

  function loadPractice(category) {
    api("GET", "/practice?category=" + encodeURIComponent(category)).then(function (res) {
      state.practice = res.questions || [];
      state.practiceNote = res.ok ? "" : res.message;
      for (var i = state.practice.length - 1; i > 0; i--) {
        var j = Math.floor(Math.random() * (i + 1));
        var t = state.practice[i]; state.practice[i] = state.practice[j]; state.practice[j] = t;
      }
      state.pIndex = 0;
      renderPractice();
    });
  }

  function renderPractice() {
    var q = state.practice[state.pIndex % Math.max(state.practice.length, 1)];
    var box = $("p-options");
    clear(box);
    $("p-feedback").hidden = true;
    state.pSelected = [];
    if (!q) { $("p-stem").textContent = state.practiceNote || S.practice_empty; $("p-type").textContent = ""; return; }
    $("p-type").textContent = q.type_label;
    $("p-stem").textContent = q.stem;
    box.className = "options" + (q.type === "judge" ? " options-judge" : "");
    q.options.forEach(function (o) {
      var b = el("button", "option option-" + o.id);
      b.type = "button";
      b.dataset.id = o.id;
      b.setAttribute("aria-pressed", "false");
      if (q.type !== "judge") b.appendChild(el("span", "option-check"));
      b.appendChild(el("span", null, o.text));
      b.addEventListener("click", function () {
        if (q.type !== "multiple") state.pSelected = [];
        var at = state.pSelected.indexOf(o.id);
        if (at >= 0) state.pSelected.splice(at, 1); else state.pSelected.push(o.id);
        box.querySelectorAll(".option").forEach(function (x) {
          x.setAttribute("aria-pressed", state.pSelected.indexOf(x.dataset.id) >= 0 ? "true" : "false");
        });
      });
      box.appendChild(b);
    });
  }

  $("p-check").addEventListener("click", function () {
    var q = state.practice[state.pIndex % Math.max(state.practice.length, 1)];
    if (!q || !state.pSelected.length) return;
    api("POST", "/practice/" + q.id, { choice: state.pSelected }).then(function (res) {
      var fb = $("p-feedback");
      clear(fb);
      if (!res.ok) { fb.className = "practice-feedback"; fb.appendChild(el("p", null, res.message)); fb.hidden = false; return; }
      fb.className = "practice-feedback " + (res.correct ? "is-right" : "is-wrong");
      fb.appendChild(el("p", "review-mark", res.verdict + "。"));
      fb.appendChild(el("p", null, fmt("answer_line", { answer: res.answer_text })));
      if (res.explanation) fb.appendChild(el("p", "explain", res.explanation));
      if (res.source) fb.appendChild(el("p", "source", fmt("source", { source: res.source })));
      fb.hidden = false;
    });
  });
  $("p-next").addEventListener("click", function () { state.pIndex += 1; renderPractice(); });

  $("large-toggle").addEventListener("click", function () {
    var on = document.body.classList.toggle("large-text");
    this.setAttribute("aria-pressed", on ? "true" : "false");
  });

  boot();
})();
