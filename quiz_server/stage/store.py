"""The stage contest in the database: its programme read from the rows, its board rebuilt by
replaying the event log, and new events appended under a numbered, unique `seq`.

Appending is optimistic: two processes that both append seq n collide on the unique
constraint, the loser replays and tries again, so the log never forks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import DbSession
from ..models import Contest, Question, StageEvent, StageRound, StageTeam
from .engine import (
    Board,
    Event,
    Kind,
    Programme,
    RoundSpec,
    StageRefusal,
    apply,
    can_undo,
    replay,
)

RETRIES = 5


@dataclass(frozen=True)
class Loaded:
    """Everything one event needs: the contest's rows, its programme, its log and its board."""

    contest: Contest
    rounds: list[StageRound]
    teams: list[StageTeam]
    programme: Programme
    rows: list[StageEvent]
    board: Board

    def events(self) -> list[Event]:
        return [event_of(row) for row in self.rows]

    def team(self, team_id: int | None) -> StageTeam | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def question(self, session: DbSession) -> Question | None:
        """The question of the board's slot (a speed round: the pool's next one), if any."""
        if not 0 <= self.board.round < len(self.rounds):
            return None
        ids = self.rounds[self.board.round].question_ids
        index = (
            self.board.pool if self.rounds[self.board.round].kind == "speed" else self.board.slot
        )
        return session.get(Question, ids[index]) if 0 <= index < len(ids) else None


def event_of(row: StageEvent) -> Event:
    data = row.data or {}
    return Event(
        Kind(row.kind), row.t, team=row.team_id, value=data.get("value"),
        correct=data.get("correct"), reason=str(data.get("reason", "")),
    )  # fmt: skip


def programme_of(rounds: list[StageRound], teams: list[StageTeam]) -> Programme:
    return Programme(
        rounds=tuple(RoundSpec.from_settings(r.settings, r.slots, _pool_size(r)) for r in rounds),
        teams=tuple(t.id for t in teams),
        members={t.id: len(t.members) for t in teams},
    )


def _pool_size(r: StageRound) -> int | None:
    return len(r.question_ids) if r.kind == "speed" else None


def load(session: DbSession, contest_id: int) -> Loaded | None:
    contest = session.get(Contest, contest_id)
    if contest is None or contest.mode != "stage":
        return None
    where = (StageRound.contest_id == contest_id,)
    rounds = list(session.scalars(select(StageRound).where(*where).order_by(StageRound.position)))
    teams = list(
        session.scalars(
            select(StageTeam).where(StageTeam.contest_id == contest_id).order_by(StageTeam.position)
        )
    )
    rows = list(
        session.scalars(
            select(StageEvent).where(StageEvent.contest_id == contest_id).order_by(StageEvent.seq)
        )
    )
    programme = programme_of(rounds, teams)
    board = replay(programme, [event_of(r) for r in rows])
    return Loaded(contest, rounds, teams, programme, rows, board)


def record(
    session: DbSession,
    contest_id: int,
    event: Event,
    actor: str,
    data: dict[str, Any] | None = None,
) -> tuple[Loaded, Board] | StageRefusal:
    """Apply `event` to the stored board and append it to the log (committed), or the refusal.
    `data` is logged with it (a buzz's device tap and clock estimate, say)."""
    for _ in range(RETRIES):
        loaded = load(session, contest_id)
        assert loaded is not None
        after = _after(loaded, event)
        if isinstance(after, StageRefusal):
            return after
        session.add(_row(contest_id, len(loaded.rows), event, actor, loaded.board, data))
        try:
            session.commit()
        except IntegrityError:  # another process appended this seq first: replay, retry
            session.rollback()
            continue
        return loaded, after
    return StageRefusal.WRONG_STEP


def log_refused(
    session: DbSession, loaded: Loaded, event: Event, actor: str, data: dict[str, Any]
) -> None:
    """Keep a refused buzz in the log (a late or locked-out tap belongs in the buzz log); the
    fold skips it on every replay. Committed; a lost race only loses this note."""
    session.add(_row(loaded.contest.id, len(loaded.rows), event, actor, loaded.board, data))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def _after(loaded: Loaded, event: Event) -> Board | StageRefusal:
    if event.kind == Kind.UNDO:
        events = loaded.events()
        if not can_undo(events):
            return StageRefusal.NOTHING_TO_UNDO
        return replay(loaded.programme, [*events, event])
    return apply(loaded.programme, loaded.board, event)


def _row(
    contest_id: int, seq: int, event: Event, actor: str, board: Board, data: dict[str, Any] | None
) -> StageEvent:
    values = {k: v for k, v in event.to_json().items() if k in ("value", "correct", "reason")}
    return StageEvent(
        contest_id=contest_id, seq=seq, kind=event.kind.value, team_id=event.team, t=event.at,
        data={**values, "round": board.round, "slot": board.slot, **(data or {})},
        actor=actor[:64], at=datetime.fromtimestamp(event.at, UTC),
    )  # fmt: skip
