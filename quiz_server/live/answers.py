"""The answer path, the hottest code of a contest: three prebuilt statements (state, insert,
update) and one commit before the ack; what never changes about a question is cached per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Answer, Contest, ContestQuestion, Participant, Question
from ..questions import QuestionType, question_type
from . import engine, payloads
from .counters import mark_dirty
from .door import refuse
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
        if row is None:
            return None
        asked[key] = Asked(row.id, question_type(row.type), row.options, row.answer)
    return asked[key]


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


def answer(pid: int, cid: int, position: int, raw: Any) -> dict[str, Any]:
    """Take member `pid`'s answer to question `position` of contest `cid` (checked at the door)."""
    asked = asked_question(cid, position)
    found = asked and db.session.execute(_ANSWER_STATE, {"pid": pid, "cq_id": asked.cq_id}).first()
    if not asked or not found:
        return refuse(Refusal.NOT_OPEN, position=position)
    if found.kicked:
        return refuse(Refusal.KICKED, position=position)
    return _take(pid, cid, position, asked, found, raw)


def _take(pid: int, cid: int, position: int, asked: Asked, found: Any, raw: Any) -> dict[str, Any]:
    moment = now()
    paused = found.paused_remaining is not None
    window = engine.Window(found.opens_at, found.closes_at, found.revealed_at, paused)
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
    mark_dirty(cid, "progress")
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
