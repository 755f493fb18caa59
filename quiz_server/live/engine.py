"""The live contest as a pure state machine: phases, deadlines, answer acceptance and scoring.

No Flask, sockets or database here. Time is always passed in (`now`), so tests drive it with
an injected clock and every rule is exact at its boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..questions import QuestionType
from ..refusals import Refusal as Refusal  # the engine's answers: re-exported


class Phase(StrEnum):
    LOBBY = "lobby"
    QUESTION = "question"
    REVEAL = "reveal"
    LEADERBOARD = "leaderboard"
    FINISHED = "finished"


@dataclass(frozen=True)
class Scoring:
    """Points for a correct answer: speed decides `speed_share` of `base_points`; streaks add more."""

    base_points: int = 1000
    speed_share: float = 0.5
    streak_bonus: int = 100
    streak_cap: int = 5

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Scoring:
        return _from_settings(cls, settings.get("scoring", {}))


@dataclass(frozen=True)
class Timing:
    """A contest's phase lengths. `grace_seconds` is not a contest setting: it is the one answer
    grace of the deployment (`Settings.answer_grace_seconds`), which the live layer puts here so
    that the reveal waits exactly as long as answers are still taken."""

    question_seconds: int = 20
    reveal_seconds: int = 8  # the reveal's base length, before reading time for the explanation
    leaderboard_seconds: int = 8
    grace_seconds: float = 1.5
    auto_advance: bool = True
    # When the server could not take answers (a restart, a database outage), the open question
    # gets the lost time back on recovery (`outage_credit`).
    outage_credit: bool = True
    # Close the question as soon as every joined member has answered (host-led rounds).
    close_early: bool = True
    # Reading time added per character of the explanation (an older reader's pace, about
    # 4 characters a second) and the longest a reveal may last.
    reveal_seconds_per_char: float = 0.25
    reveal_seconds_max: int = 45

    @classmethod
    def from_settings(cls, settings: dict[str, Any], grace_seconds: float = 1.5) -> Timing:
        per_contest = {k: v for k, v in settings.get("timing", {}).items() if k != "grace_seconds"}
        return replace(_from_settings(cls, per_contest), grace_seconds=grace_seconds)


def _from_settings(cls: Any, values: dict[str, Any]) -> Any:
    known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
    return cls(**known)


@dataclass(frozen=True)
class Round:
    """The stored live state of a contest. `phase_ends_at` is the question's deadline while a
    question is open, and the moment the timer moves on during reveal and leaderboard.
    While paused, `phase_ends_at` is the deadline as it stood and `paused_remaining` the
    seconds that were left; the clock of the phase does not run."""

    phase: Phase
    position: int
    total: int
    seq: int
    phase_ends_at: datetime | None = None
    paused_remaining: float | None = None

    @property
    def is_last(self) -> bool:
        return self.position >= self.total - 1

    @property
    def paused(self) -> bool:
        return self.paused_remaining is not None


def open_question(rnd: Round, now: datetime, seconds: int) -> Round:
    """Open the next question (from the lobby or a leaderboard)."""
    return replace(
        rnd,
        phase=Phase.QUESTION,
        position=rnd.position + 1,
        seq=rnd.seq + 1,
        phase_ends_at=now + timedelta(seconds=seconds),
        paused_remaining=None,
    )


def reveal_length(timing: Timing, explanation: str | None) -> float:
    """How long the reveal stays up: the base, plus time to read the explanation at an older
    reader's pace, never past the cap (nor below the base, should the cap be set lower)."""
    reading = len("".join((explanation or "").split())) * timing.reveal_seconds_per_char
    return max(
        float(timing.reveal_seconds),
        min(timing.reveal_seconds + reading, timing.reveal_seconds_max),
    )


def advance(
    rnd: Round, now: datetime, timing: Timing, next_seconds: int, explanation: str | None = None
) -> Round:
    """The next phase: lobby/leaderboard → question → reveal → leaderboard (or finished).
    `explanation` is the open question's, which sets the reveal's length."""
    if rnd.phase in (Phase.LOBBY, Phase.LEADERBOARD):
        if rnd.phase is Phase.LEADERBOARD and rnd.is_last:
            return finish(rnd)
        return open_question(rnd, now, next_seconds)
    if rnd.phase is Phase.QUESTION:
        return _timed(rnd, Phase.REVEAL, now, reveal_length(timing, explanation))
    if rnd.phase is Phase.REVEAL:
        return _timed(rnd, Phase.LEADERBOARD, now, timing.leaderboard_seconds)
    return rnd


def _timed(rnd: Round, phase: Phase, now: datetime, seconds: float) -> Round:
    ends = now + timedelta(seconds=seconds)
    return replace(rnd, phase=phase, seq=rnd.seq + 1, phase_ends_at=ends, paused_remaining=None)


def finish(rnd: Round) -> Round:
    return replace(
        rnd, phase=Phase.FINISHED, seq=rnd.seq + 1, phase_ends_at=None, paused_remaining=None
    )


def extend(rnd: Round, seconds: int) -> Round:
    """More time for the open question; phones see the new deadline through the bumped seq.
    Not while paused: the host resumes first, so the shown deadline never jumps twice."""
    if rnd.phase is not Phase.QUESTION or rnd.phase_ends_at is None or rnd.paused:
        return rnd
    return replace(
        rnd, seq=rnd.seq + 1, phase_ends_at=rnd.phase_ends_at + timedelta(seconds=seconds)
    )


OUTAGE_SECONDS = 5.0  # a heartbeat older than this (written every 2 s) is an outage


def outage_credit(
    rnd: Round,
    opens_at: datetime | None,
    heartbeat: datetime | None,
    now: datetime,
    threshold: float = OUTAGE_SECONDS,
) -> int:
    """Whole seconds to give back to the open question after nothing could serve it from the
    last `heartbeat` (the server's last sign of life while running the contest) until `now`;
    0 for none. Counted from when the question was open; an outage that began after the
    deadline cost no answering time, and a paused question loses nothing."""
    if rnd.phase is not Phase.QUESTION or rnd.paused or rnd.phase_ends_at is None:
        return 0
    if heartbeat is None:
        return 0
    start = max(heartbeat, opens_at) if opens_at is not None else heartbeat
    if start >= rnd.phase_ends_at:
        return 0
    gap = (now - start).total_seconds()
    return math.ceil(gap) if gap >= threshold else 0


TIMED_PHASES = (Phase.QUESTION, Phase.REVEAL, Phase.LEADERBOARD)


def pause(rnd: Round, now: datetime) -> Round:
    """Freeze the running phase's clock (a question, a reveal or a leaderboard).

    Answers are refused while a question is paused (`Refusal.PAUSED`): a member must not get
    unlimited thinking time while the room waits, and phones grey their options meanwhile."""
    if rnd.phase not in TIMED_PHASES or rnd.phase_ends_at is None or rnd.paused:
        return rnd
    remaining = max((rnd.phase_ends_at - now).total_seconds(), 0.0)
    return replace(rnd, seq=rnd.seq + 1, paused_remaining=remaining)


def resume(rnd: Round, now: datetime) -> Round:
    """Restart the clock with the seconds that were left when it was paused."""
    if not rnd.paused or rnd.paused_remaining is None:
        return rnd
    ends = now + timedelta(seconds=rnd.paused_remaining)
    return replace(rnd, seq=rnd.seq + 1, phase_ends_at=ends, paused_remaining=None)


def skip(rnd: Round, now: datetime) -> Round:
    """Close the open question now (paused or not); the reveal follows after the grace, so an
    answer already on its way is still taken."""
    if rnd.phase is not Phase.QUESTION or rnd.phase_ends_at is None:
        return rnd
    ends = min(rnd.phase_ends_at, now)
    return replace(rnd, seq=rnd.seq + 1, phase_ends_at=ends, paused_remaining=None)


def close_early(rnd: Round, now: datetime, answered: int, participants: int) -> Round:
    """Close the open question now when every participant has answered (the reveal follows
    after the grace, as for a skip). Unchanged while paused, once closed, or with nobody in."""
    if rnd.phase is not Phase.QUESTION or rnd.phase_ends_at is None or rnd.paused:
        return rnd
    if participants <= 0 or answered < participants or rnd.phase_ends_at <= now:
        return rnd
    return skip(rnd, now)


def due_at(rnd: Round, timing: Timing) -> datetime | None:
    """When the timer should advance on its own; None when it waits for the host.

    A question always closes by itself, `grace` after its deadline, so the reveal never
    goes out while a late-but-allowed answer could still arrive.
    """
    if rnd.phase_ends_at is None or rnd.paused:
        return None
    if rnd.phase is Phase.QUESTION:
        return rnd.phase_ends_at + timedelta(seconds=timing.grace_seconds)
    if rnd.phase in (Phase.REVEAL, Phase.LEADERBOARD) and timing.auto_advance:
        return rnd.phase_ends_at
    return None


@dataclass(frozen=True)
class Window:
    """The stored acceptance window of one question."""

    opens_at: datetime | None
    closes_at: datetime | None
    revealed_at: datetime | None = None
    paused: bool = False


def check_open(window: Window, now: datetime, grace_seconds: float) -> Refusal | None:
    """Accept up to `grace` after the deadline (network delay), never once the answer is out,
    and never while the question is paused."""
    if window.opens_at is None or window.closes_at is None or now < window.opens_at:
        return Refusal.NOT_OPEN
    if window.revealed_at is not None and now >= window.revealed_at:
        return Refusal.TOO_LATE
    if window.paused:
        return Refusal.PAUSED
    if now > window.closes_at + timedelta(seconds=grace_seconds):
        return Refusal.TOO_LATE
    return None


@dataclass(frozen=True)
class Streak:
    """Consecutive correct answers ending at question `position`."""

    length: int = 0
    position: int = -1


@dataclass(frozen=True)
class Marked:
    correct: bool
    points: int
    potential_points: int  # the points had it been right: safe to tell before the reveal
    elapsed_ms: int
    streak: Streak


def mark(
    qtype: QuestionType,
    answer: Any,
    choice: list[str],
    *,
    position: int,
    window: Window,
    now: datetime,
    streak: Streak,
    scoring: Scoring,
) -> Marked:
    """Score one accepted answer. Multiple-choice answers need the exact set."""
    assert window.opens_at is not None and window.closes_at is not None
    limit = (window.closes_at - window.opens_at).total_seconds()
    elapsed = min(max((now - window.opens_at).total_seconds(), 0.0), limit)
    elapsed_ms = round(elapsed * 1000)
    length = streak.length + 1 if streak.position == position - 1 else 1
    potential = points_for(elapsed, limit, length, scoring)
    if not qtype.is_correct(answer, choice):
        return Marked(False, 0, potential, elapsed_ms, Streak(0, position))
    return Marked(True, potential, potential, elapsed_ms, Streak(length, position))


def points_for(elapsed: float, limit: float, streak_length: int, scoring: Scoring) -> int:
    speed = 1.0 - scoring.speed_share * (elapsed / limit if limit > 0 else 1.0)
    bonus = scoring.streak_bonus * min(max(streak_length - 1, 0), scoring.streak_cap)
    return round(scoring.base_points * speed) + bonus
