"""The answer path, the hottest code of a contest: one prebuilt state read per answer, then
group commit (`batch`): the answers of a few milliseconds are inserted and their streaks
updated in one transaction, and each ack goes out after that commit. What never changes
about a question is cached per app; no ORM object is built on the way."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Answer, Contest, ContestQuestion, Participant, Question
from ..questions import QuestionType, question_type
from . import engine, payloads
from .batch import Batcher
from .counters import mark_dirty
from .door import busy, refuse
from .engine import Refusal
from .state import now, settings, state


@dataclass(frozen=True)
class Asked:
    """What never changes about a drawn question: cached per process for the answer path."""

    cq_id: int
    qtype: QuestionType
    options: list[str]
    answer: Any


def asked_question(contest_id: int, position: int) -> Asked | None:
    asked = state().asked
    key = (contest_id, position)
    if key not in asked:
        row = db.session.execute(
            select(ContestQuestion.id, Question.type, Question.options, Question.answer)
            .join(Question, ContestQuestion.question_id == Question.id)
            .where(ContestQuestion.contest_id == contest_id, ContestQuestion.position == position)
        ).first()
        db.session.close()  # the answer path then holds no connection while its batch gathers
        if row is None:
            return None
        asked[key] = Asked(row.id, question_type(row.type), row.options, row.answer)
    return asked[key]


log = logging.getLogger(__name__)

_ANSWERS, _QUESTIONS, _PEOPLE, _CONTESTS = (
    cast(Table, m.__table__) for m in (Answer, ContestQuestion, Participant, Contest)
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
        _PEOPLE.c.token,
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
_UPDATE_STREAK = (
    update(_PEOPLE)
    .where(_PEOPLE.c.id == bindparam("pid"))
    .values(streak=bindparam("new_streak"), streak_position=bindparam("new_position"))
)
_STORED = select(
    _ANSWERS.c.participant_id,
    _ANSWERS.c.contest_question_id,
    _ANSWERS.c.choice,
    _ANSWERS.c.elapsed_ms,
    _ANSWERS.c.potential_points,
)


def _insert_new(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the keys that went in: one row that is already
    stored (a retry, a second phone, another process) never fails the rest of its batch."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(_ANSWERS)
        .on_conflict_do_nothing(index_elements=["participant_id", "contest_question_id"])
        .returning(_ANSWERS.c.participant_id, _ANSWERS.c.contest_question_id)
    )


_INSERT_NEW = {name: _insert_new(name) for name in ("postgresql", "sqlite")}


@dataclass(frozen=True)
class Marked:
    """An accepted, scored answer waiting for its batch."""

    position: int
    row: dict[str, Any]
    streak: dict[str, Any]

    @property
    def key(self) -> tuple[int, int]:
        return self.row["participant_id"], self.row["contest_question_id"]


def answer(pid: int, cid: int, position: int, raw: Any, token: str | None = None) -> dict[str, Any]:
    """Take member `pid`'s answer to question `position` of contest `cid` (checked at the door);
    `token` is the one the socket was seated with: a seat released since then refuses it."""
    asked = asked_question(cid, position)
    if asked is None:
        return refuse(Refusal.NOT_OPEN, position=position)
    # Core connections, not the ORM session: a third of the CPU, and each goes back to the
    # pool at once, so no connection is held while the batch gathers.
    with db.engine.connect() as conn:
        found = conn.execute(_ANSWER_STATE, {"pid": pid, "cq_id": asked.cq_id}).first()
    if not found:
        return refuse(Refusal.NOT_OPEN, position=position)
    if found.kicked:
        return refuse(Refusal.KICKED, position=position)
    if token is not None and found.token != token:
        return refuse("seat_released", position=position)
    taken = _take(pid, cid, position, asked, found, raw)
    if not isinstance(taken, Marked):
        return taken
    result = answer_batcher().submit(taken)
    if result.get("ok"):
        mark_dirty(cid, "progress")
    return result


def _take(
    pid: int, cid: int, position: int, asked: Asked, found: Any, raw: Any
) -> Marked | dict[str, Any]:
    moment = now()
    paused = found.paused_remaining is not None
    window = engine.Window(found.opens_at, found.closes_at, found.revealed_at, paused)
    refusal = engine.check_open(window, moment, settings().answer_grace_seconds)
    if refusal is not None:
        return _stored_or(pid, asked.cq_id, position, refusal)
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
        streak=engine.Streak(found.streak, found.streak_position),
        scoring=engine.Scoring.from_settings(found.settings),
    )
    row = {
        "contest_id": cid,
        "participant_id": pid,
        "contest_question_id": asked.cq_id,
        "choice": ",".join(choice),
        "correct": marked.correct,
        "points": marked.points,
        "potential_points": marked.potential_points,
        "elapsed_ms": marked.elapsed_ms,
        "answered_at": moment,
    }
    streak = {
        "pid": pid,
        "new_streak": marked.streak.length,
        "new_position": marked.streak.position,
    }
    return Marked(position, row, streak)


def answer_batcher() -> Batcher[Marked, dict[str, Any]]:
    """This app's group commit for answers (made on first use: it needs the async mode)."""
    live = state()
    if live.answer_batcher is None:
        window = settings().commit_window_ms / 1000
        live.answer_batcher = Batcher(commit_answers, lambda _error: busy(), window)
    return live.answer_batcher


def commit_answers(batch: list[Marked]) -> list[dict[str, Any]]:
    """Insert a batch in one transaction; each member's ack, in order. The first of several
    answers of one member to one question goes in; the others, like answers already stored,
    get the stored result back (same choice) or `already_answered`. A row the database refuses
    for another reason (a seat gone meanwhile) is retried alone, so it cannot fail the others'
    batches again and again."""
    try:
        return _commit(batch)
    except IntegrityError:
        if len(batch) == 1:
            raise
    return [_commit_alone(item) for item in batch]


def _commit_alone(item: Marked) -> dict[str, Any]:
    try:
        return _commit([item])[0]
    except IntegrityError:
        log.warning("answer of participant %s refused by the database", item.key[0])
        return busy()


def _commit(batch: list[Marked]) -> list[dict[str, Any]]:
    first: dict[tuple[int, int], Marked] = {}
    for item in batch:
        first.setdefault(item.key, item)
    with db.engine.begin() as conn:  # commits on leaving: durable before any ack
        statement = _INSERT_NEW[conn.dialect.name]
        inserted = {tuple(r) for r in conn.execute(statement, [i.row for i in first.values()])}
        streaks = [first[key].streak for key in inserted]
        if streaks:
            conn.execute(_UPDATE_STREAK, streaks)
    won = {id(first[key]) for key in inserted}
    stored = _stored([item.key for item in batch if id(item) not in won])
    return [_result(item, id(item) in won, stored) for item in batch]


def _result(item: Marked, won: bool, stored: dict[tuple[int, int], Any]) -> dict[str, Any]:
    if won:
        row = item.row
        return _ok(item.position, row["choice"], row["elapsed_ms"], row["potential_points"])
    found = stored.get(item.key)
    if found is None:  # its winner is gone again (cannot happen on one database): retry
        return busy()
    return _stored_result(found, item.position, item.row["choice"])


def _stored(keys: list[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    if not keys:
        return {}
    pids, cq_ids = {k[0] for k in keys}, {k[1] for k in keys}
    with db.engine.connect() as conn:
        rows = conn.execute(
            _STORED.where(
                _ANSWERS.c.participant_id.in_(pids), _ANSWERS.c.contest_question_id.in_(cq_ids)
            )
        ).all()
    return {(r.participant_id, r.contest_question_id): r for r in rows}


def _ok(position: int, choice: str, elapsed_ms: int, potential: int) -> dict[str, Any]:
    return {"ok": True, **payloads.answer_fields(position, choice, elapsed_ms, potential)}


def _stored_result(stored: Any, position: int, choice: str | None) -> dict[str, Any]:
    """A retry of the stored answer gets its result back (that is how a phone that lost the ack
    learns it counted); a different choice is refused and told the stored one."""
    if choice is None or stored.choice == choice:
        return _ok(position, stored.choice, stored.elapsed_ms, stored.potential_points)
    return refuse(Refusal.ALREADY_ANSWERED, position=position, choice=stored.choice.split(","))


def _stored_or(pid: int, cq_id: int, position: int, reason: str) -> dict[str, Any]:
    """Past the window, an answer already stored still gets its result back; else `reason`."""
    stored = _stored([(pid, cq_id)]).get((pid, cq_id))
    return _stored_result(stored, position, None) if stored else refuse(reason, position=position)
