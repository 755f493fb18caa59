"""After every event of a stage contest: the new board to each audience's room, the hall's
round stepped in line, and a timer for the next deadline (the answer clock, the buzz settle).

Rooms: `s{id}` every public screen and team device, `r{id}` the referee consoles (each with
a 繁體 twin, as in the live layer). Several processes share them through the message queue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from .. import i18n
from ..contests import Mode, in_mode
from ..extensions import db, socketio
from ..live.door import background_fault
from ..models import Contest, StageEvent
from . import audience, payloads
from .clock import order
from .engine import Board, Event, Kind, Step
from .state import now, state
from .store import Loaded, load, record

log = logging.getLogger(__name__)

STAGE = "/stage"
REFEREE = "/referee"
SETTLE_SECONDS = 0.5  # after the first valid buzz arrives, later-arriving earlier taps still count
WATCH_SECONDS = 5.0
# A deadline is at most a round's clock after the event that set it: a contest whose last event
# is older than this has nothing left for a timer (a stage contest is staged in one sitting).
RECENT = timedelta(hours=12)


def public_room(contest_id: int, locale: str = i18n.HANS) -> str:
    return f"s{contest_id}" if locale == i18n.HANS else f"s{contest_id}:hant"


def referee_room(contest_id: int, locale: str = i18n.HANS) -> str:
    return f"r{contest_id}" if locale == i18n.HANS else f"r{contest_id}:hant"


def public_payload(loaded: Loaded, board: Board) -> dict[str, Any]:
    payload = payloads.public(db.session, loaded, board, now())
    return {**payload, "audience": audience.accuracy(loaded, board)}


def referee_payload(loaded: Loaded, board: Board) -> dict[str, Any]:
    payload = payloads.referee(db.session, loaded, board, now())
    return {**payload, "audience": audience.accuracy(loaded, board)}


def publish(contest_id: int) -> None:
    """Send the stored board to every screen of the contest, in each language."""
    loaded = load(db.session, contest_id)
    if loaded is None:
        return
    for locale in i18n.LOCALES:
        socketio.emit(
            "board", i18n.convert(public_payload(loaded, loaded.board), locale),
            to=public_room(contest_id, locale), namespace=STAGE,
        )  # fmt: skip
        socketio.emit(
            "board", i18n.convert(referee_payload(loaded, loaded.board), locale),
            to=referee_room(contest_id, locale), namespace=REFEREE,
        )  # fmt: skip


def after_event(contest_id: int, before: Loaded, board: Board) -> None:
    """Everything an accepted event sets off: the hall follows, screens update, timers start."""
    fresh = load(db.session, contest_id)
    if fresh is not None:
        try:
            audience.follow(fresh, board)
        except Exception:  # the hall must never hold up the stage
            log.exception("audience round of stage %s did not follow", contest_id)
            db.session.rollback()
    publish(contest_id)
    if board.deadline is not None:
        arm(contest_id, "deadline", board.deadline - now())
    if board.step == Step.OPEN and board.buzzed and not before.board.buzzed:
        arm(contest_id, "settle", SETTLE_SECONDS)


# ---------------------------------------------------------------- timers


def arm(contest_id: int, what: str, seconds: float) -> None:
    """Call `tick` once `seconds` from now in this process (tests call `tick` themselves)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is a proxy
    key = (contest_id, what)
    if not app.config["QUIZ"].run_timers or key in state(app).timers:
        return
    state(app).timers.add(key)
    socketio.start_background_task(_later, app, contest_id, what, max(0.0, seconds))


def _later(app: Flask, contest_id: int, what: str, seconds: float) -> None:
    try:
        socketio.sleep(seconds + 0.05)
        with app.app_context():
            state(app).timers.discard((contest_id, what))
            try:
                tick(contest_id)
            except Exception as error:  # the stage watch looks again within seconds
                background_fault(f"stage timer {what} of contest {contest_id}", error)
    finally:
        state(app).timers.discard((contest_id, what))


def tick(contest_id: int) -> None:
    """Act on what is due: a passed deadline is a timeout; a settled buzz is awarded to the
    earliest tap unless the taps tie, which waits for the referee. Safe to call any time, from
    any process: the log's unique `seq` lets one of two racing ticks through."""
    loaded = load(db.session, contest_id)
    if loaded is None:
        return
    board, moment = loaded.board, now()
    event: Event | None = None
    if board.deadline is not None and moment >= board.deadline:
        event = Event(Kind.TIMEOUT, moment)
    elif board.deadline is not None and board.step != Step.OPEN:
        arm(contest_id, "deadline", board.deadline - moment)  # a newer deadline than we slept for
    elif board.step == Step.OPEN and board.buzzed:
        buzzes = [b for b in payloads.current_buzzes(loaded, board) if b.team in board.buzzed]
        first_arrival = min(b.arrived for b in buzzes)
        result = order(buzzes)
        if moment >= first_arrival + SETTLE_SECONDS and result.winner is not None:
            event = Event(Kind.AWARD, moment, team=result.winner)
        elif moment < first_arrival + SETTLE_SECONDS:
            arm(contest_id, "settle", first_arrival + SETTLE_SECONDS - moment)
    if event is None:
        return
    done = record(db.session, contest_id, event, actor="timer")
    if not isinstance(done, str):
        after_event(contest_id, done[0], done[1])


# ---------------------------------------------------------------- at process start


def recent_contests() -> list[int]:
    """Stage contests with an event in the last `RECENT`: the only ones a deadline can be
    pending for (finished ones are skipped by `tick`, which finds nothing due)."""
    since = now() - RECENT.total_seconds()
    return list(
        db.session.scalars(
            select(Contest.id)
            .where(in_mode(Mode.STAGE), Contest.archived_at.is_(None))
            .where(
                select(StageEvent.id)
                .where(StageEvent.contest_id == Contest.id, StageEvent.t >= since)
                .exists()
            )
            .order_by(Contest.id)
        )
    )


def resume_all() -> list[int]:
    """One look over the recent stage contests: act on every passed deadline and arm a timer for
    every pending one (`tick`). Returns the contests looked at."""
    contests = recent_contests()
    for contest_id in contests:
        try:
            tick(contest_id)
        except Exception:
            log.exception("stage contest %s: resuming its timers failed", contest_id)
            db.session.rollback()
    return contests


def watch_stages(app: Flask) -> None:
    """From process start, keep every stage contest's timers running in this process too, as
    `live.watch_contests` does for live rounds: a deadline that passed while no process ran
    (a restart) is acted on at once, without waiting for the referee console. Several processes
    may all watch: the log's unique (contest, seq) lets exactly one of two racing ticks write,
    and `arm` keeps one timer per contest and purpose in each process."""

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    resume_all()
                except Exception as error:
                    background_fault("stage watch", error)
            socketio.sleep(WATCH_SECONDS)

    socketio.start_background_task(loop)
