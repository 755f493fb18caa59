"""Socket.IO namespaces `/play` (phones) and `/host` (big screen).

This module translates events into engine calls, persists, and broadcasts; it never scores by
itself. The wire contract is docs/live-protocol.md. The rules of DESIGN.md's live layer hold
here: one broadcast per question, durable before ack, stored deadlines, token resume.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, request, session
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import engine, i18n, payloads, transport
from .auth import has_role
from .config import Settings
from .contests import joiner_name, new_participant, roster_seat, round_of
from .engine import Phase, Refusal
from .extensions import db, socketio
from .messages import REFUSALS
from .models import Answer, Contest, ContestQuestion, Participant, Question
from .questions import QuestionType, question_type

log = logging.getLogger(__name__)

PLAY = "/play"
HOST = "/host"
HOST_ACTIONS = ("start", "next", "extend", "end", "pause", "resume", "skip")
PULSE_SECONDS = 0.5


def settings() -> Settings:
    return current_app.config["QUIZ"]


def now() -> Any:
    return settings().clock()


def room(contest_id: int, locale: str = i18n.HANS) -> str:
    """The phones' room of a contest; members reading 繁體 share a second room per contest."""
    return f"c{contest_id}" if locale == i18n.HANS else f"c{contest_id}:hant"


def member_room(participant_id: int) -> str:
    """One member's own room: reaches their phone from any process (kick), without a sid."""
    return f"p{participant_id}"


def host_room(contest_id: int, locale: str = i18n.HANS) -> str:
    return f"h{contest_id}" if locale == i18n.HANS else f"h{contest_id}:hant"


def emit_localised(event: str, payload: dict[str, Any], contest_id: int, namespace: str) -> None:
    """One emit per language room of an audience; OpenCC converts the payload once, not per socket."""
    to = room if namespace == PLAY else host_room
    for locale in i18n.LOCALES:
        socketio.emit(
            event, i18n.convert(payload, locale), to=to(contest_id, locale), namespace=namespace
        )


def refuse(reason: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "reason": reason, "message": REFUSALS.get(reason, reason), **extra}


def handler(event: str, namespace: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an event handler that always acks: a bad payload or a fault becomes a refusal."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapped(data: Any = None) -> Any:
            try:
                result = fn(data if isinstance(data, dict) else {})
            except Exception:
                log.exception("%s %s failed", namespace, event)
                db.session.rollback()
                result = refuse("server_error")
            return i18n.convert(result, session.get("lang", i18n.HANS))

        socketio.on_event(event, wrapped, namespace=namespace)
        return wrapped

    return decorator


def on_unknown(event: Any, *args: Any) -> dict[str, Any]:
    """Any event no handler takes, malformed ones included: one log line and a refusal."""
    detail = f": {args[0]}" if event == transport.INVALID_EVENT and args else ""
    transport.bad_frames.note(f"{request.namespace} {event!r}{detail}")  # type: ignore[attr-defined]
    return i18n.convert(refuse("bad_request"), session.get("lang", i18n.HANS))


for _namespace in (PLAY, HOST):
    socketio.on_event("*", on_unknown, namespace=_namespace)


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


# ---------------------------------------------------------------- phones: join and resume


@socketio.on("connect", namespace=PLAY)
def play_connect(auth: Any = None) -> None:
    auth = auth if isinstance(auth, dict) else {}
    session["lang"] = i18n.normalise(auth.get("lang"))
    token = auth.get("token")
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return
    participant = db.session.scalar(select(Participant).where(Participant.token == token))
    if participant is None or participant.kicked:
        reason = "kicked" if participant else "unknown_token"
        _to_self("session_ended", refuse(reason))
        return
    _bind(participant)
    _to_self("snapshot", snapshot(participant))


def _to_self(event: str, payload: dict[str, Any]) -> None:
    """An event for this socket only, in its member's language."""
    payload = i18n.convert(payload, session.get("lang", i18n.HANS))
    socketio.emit(event, payload, to=request.sid, namespace=PLAY)  # type: ignore[attr-defined]


@handler("join", PLAY)
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    pin, name, branch_id = data.get("pin"), data.get("name"), data.get("branch_id")
    if not isinstance(pin, str) or not isinstance(name, str) or _int(branch_id, 1, 2**31) is None:
        return refuse("bad_request")
    name, bad_name = joiner_name(name)
    if bad_name:
        return refuse(bad_name)
    contest = db.session.scalar(select(Contest).where(Contest.pin == pin.strip()))
    if contest is None:
        return refuse("no_such_contest")
    if contest.mode == "campaign":
        return refuse("campaign_mode", url=f"/c/{contest.pin}")
    if contest.phase == Phase.FINISHED:
        return refuse("contest_over")
    if branch_id not in {u.id for u in contest.units}:
        return refuse("no_such_branch")
    address = request.remote_addr or ""
    entry = None
    if contest.roster_bound:
        seat = roster_seat(
            db.session, contest, branch_id, name, data.get("member_no"), address, now()
        )
        if isinstance(seat, str):
            db.session.commit()  # the try counts towards the rate limit and the flags
            return refuse(seat)
        entry = seat
        db.session.commit()
    participant = new_participant(db.session, contest, branch_id, name, entry, address)
    try:
        db.session.commit()
    except IntegrityError:  # (contest, roster entry) is unique: one person, one join
        db.session.rollback()
        return refuse("already_joined")
    _bind(participant)
    mark_dirty(contest.id, "joined")
    return {"ok": True, "token": participant.token, "snapshot": snapshot(participant)}


def _bind(participant: Participant) -> None:
    session["pid"] = participant.id
    session["cid"] = participant.contest_id
    session["unit"] = participant.unit_id
    locale = session.get("lang", i18n.HANS)
    socketio.server.enter_room(request.sid, room(participant.contest_id, locale), namespace=PLAY)  # type: ignore[attr-defined]
    socketio.server.enter_room(request.sid, member_room(participant.id), namespace=PLAY)  # type: ignore[attr-defined]


def snapshot(participant: Participant) -> dict[str, Any]:
    payload = phase_payload_of(participant.contest_id)
    me = payloads.me(db.session, participant, payload)
    return {**stamped(payload), "me": me}


@handler("sync", PLAY)
def on_sync(_data: dict[str, Any]) -> dict[str, Any]:
    participant = _participant()
    if participant is None:
        return refuse("not_joined")
    if participant.kicked:
        return refuse(Refusal.KICKED)
    return {"ok": True, "snapshot": snapshot(participant)}


def _participant() -> Participant | None:
    pid = session.get("pid")
    return db.session.get(Participant, pid) if pid is not None else None


# ---------------------------------------------------------------- phones: the answer path


@dataclass(frozen=True)
class _Asked:
    """What never changes about a drawn question: cached per process for the answer path."""

    cq_id: int
    qtype: QuestionType
    options: list[str]
    answer: Any


_asked: dict[tuple[int, int], _Asked] = {}


def _asked_question(contest_id: int, position: int) -> _Asked | None:
    key = (contest_id, position)
    if key not in _asked:
        row = db.session.execute(
            select(ContestQuestion.id, Question.type, Question.options, Question.answer)
            .join(Question, ContestQuestion.question_id == Question.id)
            .where(ContestQuestion.contest_id == contest_id, ContestQuestion.position == position)
        ).first()
        if row is None:
            return None
        _asked[key] = _Asked(row.id, question_type(row.type), row.options, row.answer)
    return _asked[key]


_ANSWERS, _QUESTIONS, _PEOPLE, _CONTESTS = (
    m.__table__
    for m in (Answer, ContestQuestion, Participant, Contest)  # type: ignore[attr-defined]
)
# Built once: the answer path then skips statement construction and cache-key work per call.
_ANSWER_STATE = (
    select(
        _QUESTIONS.c.opens_at,
        _QUESTIONS.c.closes_at,
        _QUESTIONS.c.revealed_at,
        _CONTESTS.c.settings,
        _CONTESTS.c.paused_remaining,
        _PEOPLE.c.kicked,
        _PEOPLE.c.streak,
        _PEOPLE.c.streak_position,
    )  # fmt: skip
    .select_from(
        _QUESTIONS.join(_CONTESTS, _QUESTIONS.c.contest_id == _CONTESTS.c.id).join(
            _PEOPLE, _PEOPLE.c.id == bindparam("pid")
        )
    )
    .where(_QUESTIONS.c.id == bindparam("cq_id"))
)
_INSERT_ANSWER = insert(_ANSWERS)
_UPDATE_STREAK = (
    update(_PEOPLE)
    .where(_PEOPLE.c.id == bindparam("pid"))
    .values(streak=bindparam("new_streak"), streak_position=bindparam("new_position"))
)


@handler("answer", PLAY)
def on_answer(data: dict[str, Any]) -> dict[str, Any]:
    """The hot path: three statements (state, insert, update) and one commit, before the ack."""
    pid, cid = session.get("pid"), session.get("cid")
    position, raw = _int(data.get("position"), 0, 10_000), data.get("choice")
    if pid is None:
        return refuse("not_joined")
    if position is None or not isinstance(raw, list | str):
        return refuse("bad_request")
    asked = _asked_question(cid, position)
    state = asked and db.session.execute(_ANSWER_STATE, {"pid": pid, "cq_id": asked.cq_id}).first()
    if not asked or not state:
        return refuse(Refusal.NOT_OPEN, position=position)
    if state.kicked:
        return refuse(Refusal.KICKED, position=position)
    return _take_answer(pid, position, asked, state, raw)


def _take_answer(pid: int, position: int, asked: _Asked, state: Any, raw: Any) -> dict[str, Any]:
    moment = now()
    paused = state.paused_remaining is not None
    window = engine.Window(state.opens_at, state.closes_at, state.revealed_at, paused)
    refusal = engine.check_open(window, moment, settings().answer_grace_seconds)
    if refusal is not None:
        return _stored_or(pid, asked.cq_id, position, None, refusal)
    choice = asked.qtype.parse_choice(raw, asked.options)
    if choice is None:
        return refuse(Refusal.NO_SUCH_OPTION, position=position)
    marked = engine.mark(
        asked.qtype,
        asked.answer,
        choice,
        position=position,
        window=window,
        now=moment,
        streak=engine.Streak(state.streak, state.streak_position),
        scoring=engine.Scoring.from_settings(state.settings),
    )
    row = {
        "contest_id": session["cid"],
        "participant_id": pid,
        "contest_question_id": asked.cq_id,
        "choice": ",".join(choice),
        "correct": marked.correct,
        "points": marked.points,
        "potential_points": marked.potential_points,
        "elapsed_ms": marked.elapsed_ms,
        "answered_at": moment,
    }
    try:
        db.session.execute(_INSERT_ANSWER, row)
        streak = {
            "pid": pid,
            "new_streak": marked.streak.length,
            "new_position": marked.streak.position,
        }
        db.session.execute(_UPDATE_STREAK, streak)
        db.session.commit()  # durable before the ack
    except IntegrityError:
        db.session.rollback()
        return _stored_or(pid, asked.cq_id, position, choice, Refusal.ALREADY_ANSWERED)
    mark_dirty(session["cid"], "progress")
    return {"ok": True, **payloads.answer_result(Answer(**row), position)}


def _stored_or(
    pid: int, cq_id: int, position: int, choice: list[str] | None, reason: str
) -> dict[str, Any]:
    """A retry of an answer already stored gets the stored result back; anything else, `reason`."""
    stored = db.session.scalar(
        select(Answer).where(Answer.participant_id == pid, Answer.contest_question_id == cq_id)
    )
    if stored is not None and (choice is None or stored.choice == ",".join(choice)):
        return {"ok": True, **payloads.answer_result(stored, position)}
    if stored is not None:
        return refuse(Refusal.ALREADY_ANSWERED, position=position, choice=stored.choice.split(","))
    return refuse(reason, position=position)


# ---------------------------------------------------------------- phones: own standing


_standings_cache: dict[int, tuple[int, dict[str, Any]]] = {}


@handler("standing", PLAY)
def on_standing(_data: dict[str, Any]) -> dict[str, Any]:
    pid, cid = session.get("pid"), session.get("cid")
    if pid is None:
        return refuse("not_joined")
    table = _standings_table(cid)
    me = table["members"].get(pid)
    branch = table["branches"].get(session.get("unit"))
    if me is None or branch is None:
        return refuse("kicked")
    return {"ok": True, **me, "of": table["of"], "branch": {**branch, "of": table["branch_of"]}}


def _standings_table(contest_id: int) -> dict[str, Any]:
    """Ranks for every member and branch, computed once per phase and kept for the requests
    that arrive spread over the leaderboard phase."""
    seq = current_seq(contest_id)
    cached = _standings_cache.get(contest_id)
    if cached is not None and cached[0] == seq:
        return cached[1]
    if wait_for_builder(("standings", contest_id, seq)):
        cached = _standings_cache.get(contest_id)
        if cached is not None and cached[0] == seq:
            return cached[1]
    with building(("standings", contest_id, seq)):
        return _build_standings_table(contest_id, seq)


def _build_standings_table(contest_id: int, seq: int | None) -> dict[str, Any]:
    from . import standings

    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    members = standings.members(db.session, contest_id)
    branches = standings.branches(db.session, contest)
    table = {
        "members": {
            m.participant_id: {"score": m.score, "rank": m.rank, "correct": m.correct}
            for m in members
        },
        "branches": {b.unit_id: {"name": b.name, "rank": b.rank} for b in branches},
        "of": len(members),
        "branch_of": len(branches),
    }
    _standings_cache[contest_id] = (seq, table)
    return table


# ---------------------------------------------------------------- phase changes and broadcasts


_phase_cache: dict[int, dict[str, Any]] = {}


_CURRENT_SEQ = select(_CONTESTS.c.seq).where(_CONTESTS.c.id == bindparam("cid"))


def current_seq(contest_id: int) -> int | None:
    """One indexed read: enough to tell whether a per-phase cache is still good."""
    return db.session.execute(_CURRENT_SEQ, {"cid": contest_id}).scalar()


def phase_payload_of(contest_id: int) -> dict[str, Any]:
    """The room's payload for the contest's current phase, built once per phase per process;
    a reconnect storm costs one light query per phone, not a payload build each."""
    seq = current_seq(contest_id)
    cached = _phase_cache.get(contest_id)
    if cached is not None and cached["seq"] == seq:
        return cached
    if wait_for_builder(("phase", contest_id, seq)):
        cached = _phase_cache.get(contest_id)
        if cached is not None and cached["seq"] == seq:
            return cached
    with building(("phase", contest_id, seq)):
        contest = db.session.get(Contest, contest_id)
        assert contest is not None
        cached = payloads.phase_payload(db.session, contest)
        _phase_cache[contest_id] = cached
    return cached


_builders: dict[tuple[Any, ...], Any] = {}


def wait_for_builder(key: tuple[Any, ...]) -> bool:
    """When another request of this process is already building `key`, wait for it (True)
    instead of building it again: a thousand phones asking at once cost one build."""
    event = _builders.get(key)
    if event is None:
        return False
    event.wait(10)
    return True


@contextmanager
def building(key: tuple[Any, ...]) -> Iterator[None]:
    event = _builders.setdefault(key, socketio.server.eio.create_event())
    try:
        yield
    finally:
        event.set()
        _builders.pop(key, None)


def stamped(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "server_now": payloads.ms(now())}


def step(
    contest_id: int, action: str, *, expect_seq: int | None = None, seconds: int = 10
) -> str | None:
    """Apply one host or timer action; return a refusal reason or None.

    The write is compare-and-set on `seq`: when two processes (or a host click and the timer)
    race for the same step, exactly one applies it and broadcasts.
    """
    contest = db.session.get(Contest, contest_id)
    if contest is None:
        return "no_such_contest"
    before = round_of(contest)
    if expect_seq is not None and expect_seq != before.seq:
        return Refusal.WRONG_PHASE
    moment = now()
    after = _next_round(contest, before, action, moment, seconds)
    if after is None or after == before:
        return Refusal.WRONG_PHASE
    cas = db.session.execute(
        update(Contest)
        .where(Contest.id == contest_id, Contest.seq == before.seq)
        .values(
            phase=after.phase.value,
            position=after.position,
            seq=after.seq,
            phase_ends_at=after.phase_ends_at,
            paused_remaining=after.paused_remaining,
        )
    )
    if cas.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return Refusal.WRONG_PHASE
    _stamp_question(contest, before, after, moment)
    db.session.commit()
    broadcast(contest_id)
    if after.phase is not Phase.FINISHED:
        ensure_timer(current_app._get_current_object(), contest_id)  # type: ignore[attr-defined]
    return None


def _next_round(
    contest: Contest, rnd: engine.Round, action: str, moment: Any, seconds: int
) -> engine.Round | None:
    timing = engine.Timing.from_settings(contest.settings)
    if action == "start":
        if rnd.phase is not Phase.LOBBY or rnd.total == 0:
            return None
        return engine.open_question(rnd, moment, contest.questions[0].time_limit)
    if action == "next":
        upcoming = rnd.position + 1
        limit = contest.questions[upcoming].time_limit if upcoming < rnd.total else 0
        if rnd.phase is Phase.LOBBY and rnd.total == 0:
            return None
        return engine.advance(rnd, moment, timing, limit)
    if action == "extend":
        return engine.extend(rnd, seconds)
    if action == "end":
        return engine.finish(rnd) if rnd.phase is not Phase.FINISHED else None
    moves = {"pause": engine.pause, "resume": engine.resume, "skip": engine.skip}
    return moves[action](rnd, moment) if action in moves else None


def _stamp_question(
    contest: Contest, before: engine.Round, after: engine.Round, moment: Any
) -> None:
    """Keep each question's stored window in step with the phase: opened, extended, revealed."""
    if after.phase is Phase.QUESTION:
        cq = contest.questions[after.position]
        if after.position != before.position:
            cq.opens_at = moment
        elif _resumed_later(before, after):
            # The pause does not count as answering time: the window slides by its length.
            cq.opens_at = cq.opens_at + (after.phase_ends_at - before.phase_ends_at)  # type: ignore[operator]
        cq.closes_at = after.phase_ends_at
    if before.phase is Phase.QUESTION and after.phase is not Phase.QUESTION:
        contest.questions[before.position].revealed_at = moment


def _resumed_later(before: engine.Round, after: engine.Round) -> bool:
    return (
        before.paused
        and not after.paused
        and before.phase_ends_at is not None
        and after.phase_ends_at is not None
        and after.phase_ends_at > before.phase_ends_at
    )


def broadcast(contest_id: int) -> None:
    """One emit per audience (phones in 简体, phones in 繁體, the host), whatever the number of phones."""
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    payload = stamped(phase_payload_of(contest.id))
    emit_localised("phase", payload, contest_id, PLAY)
    emit_localised("phase", payload, contest_id, HOST)


# ---------------------------------------------------------------- the timer


_timers: set[int] = set()


def ensure_timer(app: Flask, contest_id: int) -> None:
    """Run this contest's timer in this process (once). Tests drive `tick` by hand instead."""
    if not app.config["QUIZ"].run_timers or contest_id in _timers:
        return
    _timers.add(contest_id)
    socketio.start_background_task(_timer_loop, app, contest_id)


def _timer_loop(app: Flask, contest_id: int) -> None:
    try:
        while True:
            with app.app_context():
                wait = tick(contest_id)
            if wait is None:
                return
            socketio.sleep(wait)
    except Exception:
        log.exception("timer of contest %s stopped", contest_id)
    finally:
        _timers.discard(contest_id)


def tick(contest_id: int) -> float | None:
    """Advance the contest if a stored deadline has passed. Returns how long to wait before
    looking again (never more than a second, so a deadline moved by another process is seen),
    or None once the contest is over."""
    contest = db.session.get(Contest, contest_id)
    if contest is None or contest.phase == Phase.FINISHED:
        return None
    rnd = round_of(contest)
    due = engine.due_at(rnd, engine.Timing.from_settings(contest.settings))
    moment = now()
    if due is None:
        return 1.0
    if moment >= due:
        step(contest_id, "next", expect_seq=rnd.seq)
        return 0.0
    return min((due - moment).total_seconds(), 1.0)


WATCH_SECONDS = 5.0


def running_contests() -> list[int]:
    return list(
        db.session.scalars(
            select(Contest.id).where(
                Contest.mode == "live", Contest.phase.notin_([Phase.LOBBY, Phase.FINISHED])
            )
        )
    )


def watch_contests(app: Flask) -> None:
    """Keep a timer running in this process for every running contest, also those started by
    another process or before a restart: state is in the database, and the compare-and-set in
    `step` lets several processes' timers race safely, so a contest outlives any one process."""

    def loop() -> None:
        while True:
            try:
                with app.app_context():
                    for contest_id in running_contests():
                        ensure_timer(app, contest_id)
            except Exception:
                log.exception("contest watch failed; retrying")
            socketio.sleep(WATCH_SECONDS)

    socketio.start_background_task(loop)


# ---------------------------------------------------------------- host counters, throttled


_dirty: dict[str, set[int]] = {"joined": set(), "progress": set()}
_pulse_running = False


def mark_dirty(contest_id: int, what: str) -> None:
    """Note that the host's counters changed; the pulse sends them a few times a second at most."""
    global _pulse_running
    _dirty[what].add(contest_id)
    if not _pulse_running and settings().run_timers:
        _pulse_running = True
        socketio.start_background_task(_pulse_loop, current_app._get_current_object())  # type: ignore[attr-defined]


def _pulse_loop(app: Flask) -> None:
    global _pulse_running
    try:
        while True:
            socketio.sleep(PULSE_SECONDS)
            with app.app_context():
                flush_counters()
    finally:
        _pulse_running = False


def flush_counters() -> None:
    for contest_id in _take("joined"):
        emit_localised("joined", joined_counts(contest_id), contest_id, HOST)
    for contest_id in _take("progress"):
        emit_localised("progress", progress_counts(contest_id), contest_id, HOST)


def _take(what: str) -> list[int]:
    taken = list(_dirty[what])
    _dirty[what].difference_update(taken)
    return taken


def joined_counts(contest_id: int) -> dict[str, Any]:
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    counts = dict(
        db.session.execute(
            select(Participant.unit_id, func.count())
            .where(Participant.contest_id == contest_id, Participant.kicked.is_(False))
            .group_by(Participant.unit_id)
        ).all()
    )
    branches = [{"id": u.id, "name": u.name, "count": counts.get(u.id, 0)} for u in contest.units]
    return {"total": sum(counts.values()), "branches": branches}


def progress_counts(contest_id: int) -> dict[str, Any]:
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    cq = payloads.current_question(contest)
    answered = 0
    if cq is not None:
        answered = (
            db.session.scalar(select(func.count()).where(Answer.contest_question_id == cq.id)) or 0
        )
    return {
        "position": contest.position,
        "answered": answered,
        "participants": payloads.participant_count(db.session, contest_id),
    }


# ---------------------------------------------------------------- the big screen


@socketio.on("connect", namespace=HOST)
def host_connect(auth: Any = None) -> None:
    if not has_role("organizer"):
        raise ConnectionRefusedError("organizer login required")
    session["lang"] = i18n.normalise(request.cookies.get(i18n.COOKIE))


@handler("watch", HOST)
def on_watch(data: dict[str, Any]) -> dict[str, Any]:
    if not has_role("organizer"):
        return refuse("forbidden")
    contest_id = _int(data.get("contest_id"), 1, 2**31)
    contest = db.session.get(Contest, contest_id) if contest_id else None
    if contest is None:
        return refuse("no_such_contest")
    socketio.server.enter_room(
        request.sid, host_room(contest.id, session.get("lang", i18n.HANS)), namespace=HOST
    )  # type: ignore[attr-defined]
    from .links import join_url

    snap = {
        **stamped(phase_payload_of(contest.id)),
        "join_url": join_url(contest.pin),
        "joined": joined_counts(contest.id),
        "progress": progress_counts(contest.id),
    }
    return {"ok": True, "snapshot": snap}


@handler("control", HOST)
def on_control(data: dict[str, Any]) -> dict[str, Any]:
    if not has_role("organizer"):
        return refuse("forbidden")
    contest_id = _int(data.get("contest_id"), 1, 2**31)
    action = data.get("action")
    seconds = _int(data.get("seconds", 10), 1, 300)
    if contest_id is None or action not in HOST_ACTIONS or seconds is None:
        return refuse("bad_request")
    reason = step(contest_id, action, seconds=seconds)
    return refuse(reason) if reason else {"ok": True}


# ---------------------------------------------------------------- the control page: members


@handler("kick", HOST)
def on_kick(data: dict[str, Any]) -> dict[str, Any]:
    """Remove a member: the seat's token stops working, and their phone is told, wherever it is."""
    if not has_role("organizer"):
        return refuse("forbidden")
    contest_id = _int(data.get("contest_id"), 1, 2**31)
    participant_id = _int(data.get("participant_id"), 1, 2**31)
    if contest_id is None or participant_id is None:
        return refuse("bad_request")
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.contest_id != contest_id:
        return refuse("no_such_participant")
    participant.kicked = True
    db.session.commit()
    ended = refuse(Refusal.KICKED)
    socketio.emit("session_ended", ended, to=member_room(participant.id), namespace=PLAY)
    mark_dirty(contest_id, "joined")
    return {"ok": True, "roster": roster(contest_id)}


@handler("roster", HOST)
def on_roster(data: dict[str, Any]) -> dict[str, Any]:
    if not has_role("organizer"):
        return refuse("forbidden")
    contest_id = _int(data.get("contest_id"), 1, 2**31)
    if contest_id is None or db.session.get(Contest, contest_id) is None:
        return refuse("no_such_contest")
    return {"ok": True, "roster": roster(contest_id)}


def roster(contest_id: int) -> dict[str, Any]:
    """Joined members per branch, with names and scores: for the organizer's control page only."""
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    scores = (
        select(Answer.participant_id, func.sum(Answer.points).label("score"))
        .where(Answer.contest_id == contest_id)
        .group_by(Answer.participant_id)
        .subquery()
    )
    who = (Participant.id, Participant.unit_id, Participant.name, Participant.kicked)
    rows = db.session.execute(
        select(*who, scores.c.score)
        .outerjoin(scores, scores.c.participant_id == Participant.id)
        .where(Participant.contest_id == contest_id)
        .order_by(Participant.joined_at, Participant.id)
    ).all()
    members: dict[int, list[dict[str, Any]]] = {}
    for pid, unit_id, name, kicked, score in rows:
        member = {"id": pid, "name": name, "kicked": kicked, "score": int(score or 0)}
        members.setdefault(unit_id, []).append(member)
    branches = [
        {"id": u.id, "name": u.name, "members": members.get(u.id, [])} for u in contest.units
    ]
    total = sum(not m["kicked"] for group in members.values() for m in group)
    return {"total": total, "branches": branches}
