"""Socket.IO namespaces `/play` (phones) and `/host` (big screen).

This module translates events into engine calls, persists, and broadcasts; it never scores by
itself. The wire contract is docs/live-protocol.md. The rules of DESIGN.md's live layer hold
here: one broadcast per question, durable before ack, stored deadlines, token resume.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, request, session
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from . import engine, payloads
from .auth import has_role
from .config import Settings
from .contests import round_of, window_of
from .engine import Phase, Refusal
from .extensions import db, socketio
from .messages import REFUSALS
from .models import Answer, Contest, ContestQuestion, Participant, Question
from .questions import question_type

log = logging.getLogger(__name__)

PLAY = "/play"
HOST = "/host"
NAME_MAX = 20
HOST_ACTIONS = ("start", "next", "extend", "end")
PULSE_SECONDS = 0.5


def settings() -> Settings:
    return current_app.config["QUIZ"]


def now() -> Any:
    return settings().clock()


def room(contest_id: int) -> str:
    return f"c{contest_id}"


def host_room(contest_id: int) -> str:
    return f"h{contest_id}"


def refuse(reason: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "reason": reason, "message": REFUSALS.get(reason, reason), **extra}


def handler(event: str, namespace: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an event handler that always acks: a bad payload or a fault becomes a refusal."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapped(data: Any = None) -> Any:
            try:
                return fn(data if isinstance(data, dict) else {})
            except Exception:
                log.exception("%s %s failed", namespace, event)
                db.session.rollback()
                return refuse("server_error")

        socketio.on_event(event, wrapped, namespace=namespace)
        return wrapped

    return decorator


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


# ---------------------------------------------------------------- phones: join and resume


@socketio.on("connect", namespace=PLAY)
def play_connect(auth: Any = None) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return
    participant = db.session.scalar(select(Participant).where(Participant.token == token))
    if participant is None or participant.kicked:
        reason = "kicked" if participant else "unknown_token"
        socketio.emit("session_ended", refuse(reason), to=request.sid, namespace=PLAY)  # type: ignore[attr-defined]
        return
    _bind(participant)
    socketio.emit("snapshot", snapshot(participant), to=request.sid, namespace=PLAY)  # type: ignore[attr-defined]


@handler("join", PLAY)
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    pin, name, branch_id = data.get("pin"), data.get("name"), data.get("branch_id")
    if not isinstance(pin, str) or not isinstance(name, str) or _int(branch_id, 1, 2**31) is None:
        return refuse("bad_request")
    name = " ".join(name.split())
    if not name:
        return refuse("name_required")
    if len(name) > NAME_MAX:
        return refuse("name_too_long")
    contest = db.session.scalar(select(Contest).where(Contest.pin == pin.strip()))
    if contest is None:
        return refuse("no_such_contest")
    if contest.mode == "campaign":
        return refuse("campaign_mode", url=f"/c/{contest.pin}")
    if contest.phase == Phase.FINISHED:
        return refuse("contest_over")
    if branch_id not in {u.id for u in contest.units}:
        return refuse("no_such_branch")
    participant = Participant(
        contest_id=contest.id,
        unit_id=branch_id,
        name=name,
        token=secrets.token_urlsafe(24),
        seed=secrets.randbelow(2**31),
    )
    db.session.add(participant)
    db.session.commit()
    _bind(participant)
    mark_dirty(contest.id, "joined")
    return {"ok": True, "token": participant.token, "snapshot": snapshot(participant)}


def _bind(participant: Participant) -> None:
    session["pid"] = participant.id
    session["cid"] = participant.contest_id
    socketio.server.enter_room(request.sid, room(participant.contest_id), namespace=PLAY)  # type: ignore[attr-defined]


def snapshot(participant: Participant) -> dict[str, Any]:
    contest = db.session.get(Contest, participant.contest_id)
    assert contest is not None
    return {**stamped(phase_payload(contest)), "me": payloads.me(db.session, participant, contest)}


@handler("sync", PLAY)
def on_sync(_data: dict[str, Any]) -> dict[str, Any]:
    participant = _participant()
    if participant is None:
        return refuse("not_joined")
    return {"ok": True, "snapshot": snapshot(participant)}


def _participant() -> Participant | None:
    pid = session.get("pid")
    return db.session.get(Participant, pid) if pid is not None else None


# ---------------------------------------------------------------- phones: the answer path


@handler("answer", PLAY)
def on_answer(data: dict[str, Any]) -> dict[str, Any]:
    pid, cid = session.get("pid"), session.get("cid")
    position, raw = _int(data.get("position"), 0, 10_000), data.get("choice")
    if pid is None:
        return refuse("not_joined")
    if position is None or not isinstance(raw, list | str):
        return refuse("bad_request")
    found = db.session.execute(
        select(ContestQuestion, Question, Contest.settings)
        .join(Question, ContestQuestion.question_id == Question.id)
        .join(Contest, ContestQuestion.contest_id == Contest.id)
        .where(ContestQuestion.contest_id == cid, ContestQuestion.position == position)
    ).first()
    participant = db.session.get(Participant, pid)
    if found is None or participant is None:
        return refuse(Refusal.NOT_OPEN, position=position)
    if participant.kicked:
        return refuse(Refusal.KICKED, position=position)
    return _take_answer(participant, *found, raw)


def _take_answer(
    participant: Participant, cq: ContestQuestion, q: Question, contest_settings: dict[str, Any], raw: Any
) -> dict[str, Any]:
    qtype = question_type(q.type)
    moment = now()
    refusal = engine.check_open(window_of(cq), moment, settings().answer_grace_seconds)
    if refusal is not None:
        return _stored_or(participant.id, cq, None, refusal)
    choice = qtype.parse_choice(raw, q.options)
    if choice is None:
        return refuse(Refusal.NO_SUCH_OPTION, position=cq.position)
    marked = engine.mark(
        qtype,
        q.answer,
        choice,
        position=cq.position,
        window=window_of(cq),
        now=moment,
        streak=engine.Streak(participant.streak, participant.streak_position),
        scoring=engine.Scoring.from_settings(contest_settings),
    )
    answer = Answer(
        contest_id=cq.contest_id,
        participant_id=participant.id,
        contest_question_id=cq.id,
        choice=",".join(choice),
        correct=marked.correct,
        points=marked.points,
        potential_points=marked.potential_points,
        elapsed_ms=marked.elapsed_ms,
        answered_at=moment,
    )
    participant.streak, participant.streak_position = marked.streak.length, marked.streak.position
    db.session.add(answer)
    try:
        db.session.commit()  # durable before the ack
    except IntegrityError:
        db.session.rollback()
        return _stored_or(participant.id, cq, choice, Refusal.ALREADY_ANSWERED)
    mark_dirty(cq.contest_id, "progress")
    return {"ok": True, **payloads.answer_result(answer, cq.position)}


def _stored_or(pid: int, cq: ContestQuestion, choice: list[str] | None, reason: str) -> dict[str, Any]:
    """A retry of an answer already stored gets the stored result back; anything else, `reason`."""
    stored = db.session.scalar(
        select(Answer).where(Answer.participant_id == pid, Answer.contest_question_id == cq.id)
    )
    if stored is not None and (choice is None or stored.choice == ",".join(choice)):
        return {"ok": True, **payloads.answer_result(stored, cq.position)}
    if stored is not None:
        return refuse(Refusal.ALREADY_ANSWERED, position=cq.position, choice=stored.choice.split(","))
    return refuse(reason, position=cq.position)


# ---------------------------------------------------------------- phones: own standing


_standings_cache: dict[int, tuple[int, dict[str, Any]]] = {}


@handler("standing", PLAY)
def on_standing(_data: dict[str, Any]) -> dict[str, Any]:
    participant = _participant()
    if participant is None:
        return refuse("not_joined")
    table = _standings_table(participant.contest_id)
    me = table["members"].get(participant.id)
    branch = table["branches"].get(participant.unit_id)
    if me is None:
        return refuse("kicked")
    return {"ok": True, **me, "of": table["of"], "branch": {**branch, "of": table["branch_of"]}}


def _standings_table(contest_id: int) -> dict[str, Any]:
    """Ranks for every member and branch, computed once per phase and kept for the requests
    that arrive spread over the leaderboard phase."""
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    cached = _standings_cache.get(contest_id)
    if cached is not None and cached[0] == contest.seq:
        return cached[1]
    from . import standings

    members = standings.members(db.session, contest_id)
    branches = standings.branches(db.session, contest)
    table = {
        "members": {m.participant_id: {"score": m.score, "rank": m.rank, "correct": m.correct} for m in members},
        "branches": {b.unit_id: {"name": b.name, "rank": b.rank} for b in branches},
        "of": len(members),
        "branch_of": len(branches),
    }
    _standings_cache[contest_id] = (contest.seq, table)
    return table


# ---------------------------------------------------------------- phase changes and broadcasts


_phase_cache: dict[int, dict[str, Any]] = {}


def phase_payload(contest: Contest) -> dict[str, Any]:
    """The room's payload for the contest's current phase, built once per phase per process."""
    cached = _phase_cache.get(contest.id)
    if cached is None or cached["seq"] != contest.seq:
        cached = payloads.phase_payload(db.session, contest)
        _phase_cache[contest.id] = cached
    return cached


def stamped(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "server_now": payloads.ms(now())}


def step(contest_id: int, action: str, *, expect_seq: int | None = None, seconds: int = 10) -> str | None:
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
        .values(phase=after.phase.value, position=after.position, seq=after.seq, phase_ends_at=after.phase_ends_at)
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


def _next_round(contest: Contest, rnd: engine.Round, action: str, moment: Any, seconds: int) -> engine.Round | None:
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
    return None


def _stamp_question(contest: Contest, before: engine.Round, after: engine.Round, moment: Any) -> None:
    """Keep each question's stored window in step with the phase: opened, extended, revealed."""
    if after.phase is Phase.QUESTION:
        cq = contest.questions[after.position]
        if after.position != before.position:
            cq.opens_at = moment
        cq.closes_at = after.phase_ends_at
    if before.phase is Phase.QUESTION and after.phase is not Phase.QUESTION:
        contest.questions[before.position].revealed_at = moment


def broadcast(contest_id: int) -> None:
    """One emit to the phones' room and one to the host room, whatever the number of phones."""
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    payload = stamped(phase_payload(contest))
    socketio.emit("phase", payload, to=room(contest_id), namespace=PLAY)
    socketio.emit("phase", payload, to=host_room(contest_id), namespace=HOST)


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


def resume_timers(app: Flask) -> None:
    """After a restart, pick up every contest that was running (its state is in the database)."""
    with app.app_context():
        running = db.session.scalars(
            select(Contest.id).where(Contest.mode == "live", Contest.phase.notin_([Phase.LOBBY, Phase.FINISHED]))
        ).all()
    for contest_id in running:
        ensure_timer(app, contest_id)


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
        socketio.emit("joined", joined_counts(contest_id), to=host_room(contest_id), namespace=HOST)
    for contest_id in _take("progress"):
        socketio.emit("progress", progress_counts(contest_id), to=host_room(contest_id), namespace=HOST)


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
        answered = db.session.scalar(select(func.count()).where(Answer.contest_question_id == cq.id)) or 0
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


@handler("watch", HOST)
def on_watch(data: dict[str, Any]) -> dict[str, Any]:
    if not has_role("organizer"):
        return refuse("forbidden")
    contest_id = _int(data.get("contest_id"), 1, 2**31)
    contest = db.session.get(Contest, contest_id) if contest_id else None
    if contest is None:
        return refuse("no_such_contest")
    socketio.server.enter_room(request.sid, host_room(contest.id), namespace=HOST)  # type: ignore[attr-defined]
    snap = {
        **stamped(phase_payload(contest)),
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
