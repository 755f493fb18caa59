"""The answer path, the hottest code of a contest: no query per answer, but group commit
(`batch`): the answers of a few milliseconds are judged against one read of their seats and
windows, inserted and their streaks updated in one transaction, and each ack goes out after
that commit. What never changes about a question is cached per app; no ORM object is built."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
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
# Built once: the batch then skips statement construction and cache-key work per call. One
# read per batch, in the batch's own transaction: the seats (kicked, token, streak) and the
# windows of every answer in it, as the database has them at commit time.
_BATCH_STATE = (
    select(
        _PEOPLE.c.id.label("pid"),
        _PEOPLE.c.kicked,
        _PEOPLE.c.token,
        _PEOPLE.c.streak,
        _PEOPLE.c.streak_position,
        _QUESTIONS.c.id.label("cq_id"),
        _QUESTIONS.c.opens_at,
        _QUESTIONS.c.closes_at,
        _QUESTIONS.c.revealed_at,
        _CONTESTS.c.settings,
        _CONTESTS.c.paused_remaining,
    )  # fmt: skip
    .select_from(
        _PEOPLE.join(_CONTESTS, _CONTESTS.c.id == _PEOPLE.c.contest_id).join(
            _QUESTIONS, _QUESTIONS.c.contest_id == _CONTESTS.c.id
        )
    )
    .where(
        _PEOPLE.c.id.in_(bindparam("pids", expanding=True)),
        _QUESTIONS.c.id.in_(bindparam("cq_ids", expanding=True)),
    )
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
class Offered:
    """An answer that passed the door (its choice is one of the options), waiting for its batch;
    `moment` is when it arrived, the time its window is judged and its speed scored by."""

    pid: int
    cid: int
    position: int
    asked: Asked
    choice: list[str]
    token: str | None
    moment: datetime

    @property
    def key(self) -> tuple[int, int]:
        return self.pid, self.asked.cq_id


@dataclass(frozen=True)
class Marked:
    """An accepted, scored answer: its row and its member's new streak."""

    row: dict[str, Any]
    streak: dict[str, Any]


@dataclass(frozen=True)
class Late:
    """Outside its window (`reason`): an answer already stored still gets its result back."""

    reason: str


Verdict = Marked | Late | dict[str, Any]  # a final refusal is the ack itself


def answer(pid: int, cid: int, position: int, raw: Any, token: str | None = None) -> dict[str, Any]:
    """Take member `pid`'s answer to question `position` of contest `cid` (checked at the door);
    `token` is the one the socket was seated with: a seat released since then refuses it.
    No query here: the seat and the window are read once per batch (`commit_answers`)."""
    asked = asked_question(cid, position)
    if asked is None:
        return refuse(Refusal.NOT_OPEN, position=position)
    choice = asked.qtype.parse_choice(raw, asked.options)
    if choice is None:
        return refuse(Refusal.NO_SUCH_OPTION, position=position)
    offered = Offered(pid, cid, position, asked, choice, token, now())
    result = answer_batcher().submit(offered)
    if result.get("ok"):
        mark_dirty(cid, "progress")
    return result


def judge(item: Offered, found: Any, grace_seconds: float) -> Verdict:
    """The protocol's checks on one answer against its seat and window as stored (`found`, None
    when the seat or the question is not there), in order: kicked, a released seat's token,
    the window at arrival (deadline + grace, reveal, pause); then its score."""
    if found is None:
        return refuse(Refusal.NOT_OPEN, position=item.position)
    if found.kicked:
        return refuse(Refusal.KICKED, position=item.position)
    if item.token is not None and found.token != item.token:
        return refuse("seat_released", position=item.position)
    paused = found.paused_remaining is not None
    window = engine.Window(found.opens_at, found.closes_at, found.revealed_at, paused)
    refusal = engine.check_open(window, item.moment, grace_seconds)
    if refusal is not None:
        return Late(refusal)
    marked = engine.mark(
        item.asked.qtype,
        item.asked.answer,
        item.choice,
        position=item.position,
        window=window,
        now=item.moment,
        streak=engine.Streak(found.streak, found.streak_position),
        scoring=engine.Scoring.from_settings(found.settings),
    )
    row = {
        "contest_id": item.cid,
        "participant_id": item.pid,
        "contest_question_id": item.asked.cq_id,
        "choice": ",".join(item.choice),
        "correct": marked.correct,
        "points": marked.points,
        "potential_points": marked.potential_points,
        "elapsed_ms": marked.elapsed_ms,
        "answered_at": item.moment,
    }
    streak = {
        "pid": item.pid,
        "new_streak": marked.streak.length,
        "new_position": marked.streak.position,
    }
    return Marked(row, streak)


def answer_batcher() -> Batcher[Offered, dict[str, Any]]:
    """This app's group commit for answers (made on first use: it needs the async mode)."""
    live = state()
    if live.answer_batcher is None:
        window = settings().commit_window_ms / 1000
        live.answer_batcher = Batcher(commit_answers, lambda _error: busy(), window)
    return live.answer_batcher


def commit_answers(batch: list[Offered]) -> list[dict[str, Any]]:
    """Judge and insert a batch in one transaction; each member's ack, in order. The first of
    several answers of one member to one question is judged and goes in; the others, like
    answers already stored, get the stored result back (same choice) or `already_answered`.
    A row the database refuses for another reason (a seat gone meanwhile) is retried alone, so
    it cannot fail the others' batches again and again."""
    try:
        return _commit(batch)
    except IntegrityError:
        if len(batch) == 1:
            raise
    return [_commit_alone(item) for item in batch]


def _commit_alone(item: Offered) -> dict[str, Any]:
    try:
        return _commit([item])[0]
    except IntegrityError:
        log.warning("answer of participant %s refused by the database", item.pid)
        return busy()


def _commit(batch: list[Offered]) -> list[dict[str, Any]]:
    first: dict[tuple[int, int], Offered] = {}
    for item in batch:
        first.setdefault(item.key, item)
    grace = settings().answer_grace_seconds
    with db.engine.begin() as conn:  # commits on leaving: durable before any ack
        params = {"pids": list({k[0] for k in first}), "cq_ids": list({k[1] for k in first})}
        found = {(r.pid, r.cq_id): r for r in conn.execute(_BATCH_STATE, params)}
        verdicts = {key: judge(item, found.get(key), grace) for key, item in first.items()}
        marked = {key: v for key, v in verdicts.items() if isinstance(v, Marked)}
        inserted: set[tuple[int, int]] = set()
        if marked:
            statement = _INSERT_NEW[conn.dialect.name]
            rows = [v.row for v in marked.values()]
            inserted = {(r[0], r[1]) for r in conn.execute(statement, rows)}
        if inserted:
            conn.execute(_UPDATE_STREAK, [marked[key].streak for key in inserted])
    won = {id(first[key]) for key in inserted}
    stored = _stored([
        item.key for item in batch
        if id(item) not in won and not isinstance(verdicts[item.key], dict)
    ])  # fmt: skip
    return [_result(item, verdicts[item.key], id(item) in won, stored) for item in batch]


def _result(
    item: Offered, verdict: Verdict, won: bool, stored: dict[tuple[int, int], Any]
) -> dict[str, Any]:
    if isinstance(verdict, dict):
        return verdict
    found = stored.get(item.key)
    if isinstance(verdict, Late):
        return (
            _stored_result(found, item.position, None)
            if found
            else refuse(verdict.reason, position=item.position)
        )
    if won:
        row = verdict.row
        return _ok(item.position, row["choice"], row["elapsed_ms"], row["potential_points"])
    if found is None:  # its winner is gone again (cannot happen on one database): retry
        return busy()
    return _stored_result(found, item.position, ",".join(item.choice))


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
