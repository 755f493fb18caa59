"""The host's counters (joined members, answers to the open question), throttled: the pulse
sends them a few times a second at most, however many phones join or answer."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from ..extensions import db, socketio
from ..models import Answer, Contest, Participant
from . import payloads
from .door import background_fault
from .engine import Phase
from .rooms import HOST, emit_localised
from .rounds import step
from .state import settings, state

PULSE_SECONDS = 0.5


def mark_dirty(contest_id: int, what: str) -> None:
    """Note that the host's counters changed; the pulse sends them a few times a second at most."""
    live = state()
    live.dirty[what].add(contest_id)
    if not live.pulse_running and settings().run_timers:
        live.pulse_running = True
        socketio.start_background_task(_pulse_loop, current_app._get_current_object())  # type: ignore[attr-defined]  # current_app is a proxy


def _pulse_loop(app: Flask) -> None:
    try:
        while True:
            socketio.sleep(PULSE_SECONDS)
            with app.app_context():
                try:
                    flush_counters()
                except Exception as error:  # the pulse goes on: hosts keep their counters
                    background_fault("host counters", error)
    finally:
        state(app).pulse_running = False


def flush_counters() -> None:
    for contest_id in _take("joined"):
        emit_localised("joined", joined_counts(contest_id), contest_id, HOST)
    for contest_id in _take("progress"):
        counts = progress_counts(contest_id)
        emit_localised("progress", counts, contest_id, HOST)
        close_if_all_answered(contest_id, counts)


def close_if_all_answered(contest_id: int, counts: dict[str, Any]) -> None:
    """Close the question early once everyone has answered: checked here, a few times a second,
    not on each answer; `step`'s compare-and-set makes racing pulses of several processes safe."""
    contest = db.session.get(Contest, contest_id)
    if contest is None or contest.phase != Phase.QUESTION or contest.position != counts["position"]:
        return
    if counts["participants"] <= 0 or counts["answered"] < counts["participants"]:
        return
    step(
        contest_id,
        "close_early",
        expect_seq=contest.seq,
        answered=(counts["answered"], counts["participants"]),
    )


def _take(what: str) -> list[int]:
    dirty = state().dirty[what]
    taken = list(dirty)
    dirty.difference_update(taken)
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
