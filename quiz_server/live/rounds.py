"""The steps of a live round (host actions and the timer's) and the timer that takes them.

Each step is a compare-and-set on `contest.seq`, so host clicks and the timers of several
processes may race for it: exactly one applies it and broadcasts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from ..contests import Mode, in_mode, is_campaign, round_of
from ..extensions import db, socketio
from ..models import Contest
from . import credit, engine
from .door import background_fault
from .engine import Phase, Refusal
from .phase import broadcast
from .state import now, settings, state

log = logging.getLogger(__name__)

WATCH_SECONDS = 5.0
# A scheduled start is taken this late at most (the server was down at the time); a contest
# found later than that stays in the lobby for the organizer to start by hand.
SCHEDULE_GRACE = timedelta(hours=1)


def step(
    contest_id: int,
    action: str,
    *,
    expect_seq: int | None = None,
    seconds: int = 10,
    answered: tuple[int, int] = (0, 0),
) -> str | None:
    """Apply one host or timer action; return a refusal reason or None. `answered` is
    (answers, participants) for `close_early`, as the host's counters pulse counted them.

    The write is compare-and-set on `seq`: when two processes (or a host click and the timer)
    race for the same step, exactly one applies it and broadcasts.
    """
    contest = db.session.get(Contest, contest_id)
    if contest is None:
        return "no_such_contest"
    if is_campaign(contest):
        return "campaign_mode"
    before = round_of(contest)
    if expect_seq is not None and expect_seq != before.seq:
        return Refusal.WRONG_PHASE
    moment = now()
    after = _next_round(contest, before, action, moment, seconds, answered)
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
    if cas.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult; current_app is a proxy
        db.session.rollback()
        return Refusal.WRONG_PHASE
    _stamp_question(contest, before, after, moment)
    db.session.commit()
    broadcast(contest_id)
    if after.phase is not Phase.FINISHED:
        ensure_timer(current_app._get_current_object(), contest_id)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult; current_app is a proxy
    return None


def timing_of(contest: Contest) -> engine.Timing:
    """The contest's timing with the deployment's answer grace, the same value the answer path
    accepts by: the timer reveals at `closes_at + grace`, never while an answer is still taken."""
    return engine.Timing.from_settings(contest.settings, settings().answer_grace_seconds)


def _next_round(
    contest: Contest,
    rnd: engine.Round,
    action: str,
    moment: Any,
    seconds: int,
    answered: tuple[int, int] = (0, 0),
) -> engine.Round | None:
    timing = timing_of(contest)
    if action == "start":
        if rnd.phase is not Phase.LOBBY or rnd.total == 0:
            return None
        return engine.open_question(rnd, moment, contest.questions[0].time_limit)
    if action == "next":
        upcoming = rnd.position + 1
        limit = contest.questions[upcoming].time_limit if upcoming < rnd.total else 0
        if rnd.phase is Phase.LOBBY and rnd.total == 0:
            return None
        return engine.advance(rnd, moment, timing, limit, _explanation(contest, rnd))
    if action == "close_early":
        return engine.close_early(rnd, moment, *answered) if timing.close_early else None
    if action == "extend":
        return engine.extend(rnd, seconds)
    if action == "end":
        return engine.finish(rnd) if rnd.phase is not Phase.FINISHED else None
    moves = {"pause": engine.pause, "resume": engine.resume, "skip": engine.skip}
    return moves[action](rnd, moment) if action in moves else None


def _explanation(contest: Contest, rnd: engine.Round) -> str | None:
    if rnd.phase is not Phase.QUESTION or not 0 <= rnd.position < rnd.total:
        return None
    return contest.questions[rnd.position].question.explanation


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
            cq.opens_at = cq.opens_at + (after.phase_ends_at - before.phase_ends_at)  # type: ignore[operator,assignment]  # both are set while a question runs
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


# ---------------------------------------------------------------- the timer


def ensure_timer(app: Flask, contest_id: int) -> None:
    """Run this contest's timer in this process (once). Tests drive `tick` by hand instead."""
    timers = state(app).timers
    if not app.config["QUIZ"].run_timers or contest_id in timers:
        return
    timers.add(contest_id)
    socketio.start_background_task(_timer_loop, app, contest_id)


def _timer_loop(app: Flask, contest_id: int) -> None:
    try:
        while True:
            with app.app_context():
                try:
                    wait = tick(contest_id)
                except Exception as error:  # the timer never stops for a fault: it looks again
                    background_fault(f"timer of contest {contest_id}", error)
                    wait = 1.0
            if wait is None:
                return
            socketio.sleep(wait)
    finally:
        state(app).timers.discard(contest_id)


def tick(contest_id: int) -> float | None:
    """Advance the contest if a stored deadline has passed. Returns how long to wait before
    looking again (never more than a second, so a deadline moved by another process is seen),
    or None once the contest is over."""
    contest = db.session.get(Contest, contest_id)
    if contest is None or contest.phase == Phase.FINISHED:
        return None
    rnd = round_of(contest)
    moment = now()
    timing = timing_of(contest)
    owed = credit.beat(contest, rnd, moment)  # commits: `contest` reloads on next use
    if owed and step(contest_id, "extend", expect_seq=rnd.seq, seconds=owed) is None:
        log.warning("contest %s: question %s extended %s s after an outage", contest_id,
                    rnd.position, owed)  # fmt: skip
        credit.announce(contest_id, rnd.position, owed)
        return 0.0
    due = engine.due_at(rnd, timing)
    if due is None:
        return 1.0
    if moment >= due:
        step(contest_id, "next", expect_seq=rnd.seq)
        return 0.0
    return min((due - moment).total_seconds(), 1.0)


def running_contests() -> list[int]:
    return list(
        db.session.scalars(
            select(Contest.id).where(
                in_mode(Mode.LIVE), Contest.phase.notin_([Phase.LOBBY, Phase.FINISHED])
            )
        )
    )


def due_contests(moment: datetime) -> list[tuple[int, int]]:
    """(id, seq) of live contests still in the lobby whose scheduled start has come (at most
    `SCHEDULE_GRACE` ago)."""
    return [
        (row.id, row.seq)
        for row in db.session.execute(
            select(Contest.id, Contest.seq).where(
                in_mode(Mode.LIVE),
                Contest.phase == Phase.LOBBY,
                Contest.archived_at.is_(None),
                Contest.scheduled_at <= moment,
                Contest.scheduled_at > moment - SCHEDULE_GRACE,
            )
        )
    ]


def start_due_contests() -> list[int]:
    """Start every contest whose scheduled time has come; returns those this process started.
    The start is `step`'s compare-and-set on the seq read here, so when the watchers of several
    processes find the same contest, exactly one starts it."""
    from .. import audit

    started = []
    for contest_id, seq in due_contests(now()):
        if step(contest_id, "start", expect_seq=seq) is None:
            audit.record("contest.start", contest_id=contest_id, detail="按计划时间自动开始")
            db.session.commit()
            started.append(contest_id)
    return started


def watch_contests(app: Flask) -> None:
    """Start scheduled contests when their time comes, and keep a timer running in this process
    for every running contest, also those started by another process or before a restart: state
    is in the database, and the compare-and-set in `step` lets several processes race safely,
    so a contest outlives any one process."""

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    start_due_contests()
                    for contest_id in running_contests():
                        ensure_timer(app, contest_id)
                except Exception as error:
                    background_fault("contest watch", error)
            socketio.sleep(WATCH_SECONDS)

    socketio.start_background_task(loop)
