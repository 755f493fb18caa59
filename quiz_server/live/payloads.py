"""One payload builder per audience. Models are never serialised wholesale: each builder
chooses its fields, and nothing built before a reveal carries the correct answer."""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select

from .. import standings
from ..contests import settings_of
from ..extensions import DbSession
from ..models import Answer, Contest, ContestQuestion, Participant
from ..questions import LETTERS, question_type
from ..ranking import tied
from ..wire import ms
from .engine import Phase

LEADERBOARD_SIZE = 10


def question_for_player(cq: ContestQuestion) -> dict[str, Any]:
    """The open question for phones and the big screen alike: canonical option order, no answer."""
    q = cq.question
    qtype = question_type(q.type)
    # `letter` is the option's place in the canonical order (A, B, …, judge questions too):
    # the big screen and unshuffled phones show it, with a colour and shape per place.
    options = [
        {"id": oid, "text": text, "letter": LETTERS[index]}
        for index, (oid, text) in enumerate(
            zip(qtype.option_ids(q.options), qtype.option_labels(q.options), strict=True)
        )
    ]
    return {
        "position": cq.position,
        "type": q.type,
        "type_label": qtype.label,
        "stem": q.stem,
        "options": options,
        "opens_at": ms(cq.opens_at),
        "closes_at": ms(cq.closes_at),
        "time_limit": cq.time_limit,
    }


def reveal(session: DbSession, cq: ContestQuestion, participants: int) -> dict[str, Any]:
    q = cq.question
    distribution: Counter[str] = Counter()
    for choice, count in session.execute(
        select(Answer.choice, func.count())
        .where(Answer.contest_question_id == cq.id)
        .group_by(Answer.choice)
    ):
        for option_id in choice.split(","):
            distribution[option_id] += count
    return {
        "position": cq.position,
        "correct": question_type(q.type).correct_ids(q.answer),
        "explanation": q.explanation,
        "source": q.source,
        "distribution": dict(distribution),
        "answered": _answered(session, cq.id),
        "participants": participants,
    }


def _answered(session: DbSession, cq_id: int) -> int:
    return session.scalar(select(func.count()).where(Answer.contest_question_id == cq_id)) or 0


def leaderboard(session: DbSession, contest: Contest) -> dict[str, Any]:
    units = {u.id: u.name for u in contest.units}
    metric = contest.settings.get("ranking_metric", "avg_registered")
    ranked = standings.members(session, contest.id)
    member_ties = tied([m.rank for m in ranked])
    members = [
        {
            "rank": m.rank,
            "tied": is_tied,
            "name": m.name,
            "branch": units.get(m.unit_id, ""),
            "score": m.score,
            "correct": m.correct,
        }
        for m, is_tied in list(zip(ranked, member_ties, strict=True))[:LEADERBOARD_SIZE]
    ]
    rows = standings.branches(session, contest, metric)
    branches = [
        {
            "rank": b.rank,
            "tied": is_tied,
            "id": b.unit_id,
            "name": b.name,
            "score": b.score,
            "metric": round(b.metric(metric), 4),
            "metric_label": standings.METRICS[metric],
            "participants": b.participants,
            "registered": b.registered,
            "participation_rate": b.participation_rate,
            "accuracy": round(b.accuracy, 4),
        }
        for b, is_tied in zip(rows, tied([b.rank for b in rows]), strict=True)
    ]
    return {"members": members, "branches": branches}


def participant_count(session: DbSession, contest_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Participant.contest_id == contest_id, Participant.kicked.is_(False)
            )
        )
        or 0
    )


def phase_payload(session: DbSession, contest: Contest) -> dict[str, Any]:
    """What everyone in the contest room sees in the current phase (`server_now` is set at send)."""
    phase = Phase(contest.phase)
    payload: dict[str, Any] = {
        "seq": contest.seq,
        "phase": phase.value,
        "paused": contest.paused_remaining is not None,
        "position": contest.position,
        "total": len(contest.questions),
        # shuffle: phones order options by their own seed and show no letters.
        "contest": {
            "title": contest.title,
            "pin": contest.pin,
            "shuffle": settings_of(contest).shuffle_options,
        },
        # The question's deadline, or when reveal/leaderboard move on (null: waiting for the host).
        "phase_ends_at": ms(contest.phase_ends_at) if _auto(contest, phase) else None,
        "question": None,
        "reveal": None,
        "leaderboard": None,
    }
    cq = current_question(contest)
    if cq is not None and phase is not Phase.LOBBY:
        payload["question"] = question_for_player(cq)
        if phase is not Phase.QUESTION:
            payload["reveal"] = reveal(session, cq, participant_count(session, contest.id))
    if phase in (Phase.LEADERBOARD, Phase.FINISHED):
        payload["leaderboard"] = leaderboard(session, contest)
    return payload


def _auto(contest: Contest, phase: Phase) -> bool:
    return phase is Phase.QUESTION or bool(
        contest.settings.get("timing", {}).get("auto_advance", True)
    )


def current_question(contest: Contest) -> ContestQuestion | None:
    if 0 <= contest.position < len(contest.questions):
        return contest.questions[contest.position]
    return None


class Seat(Protocol):
    """What a snapshot needs of a member's seat: a `Participant`, or a row read without the ORM."""

    @property
    def id(self) -> int: ...
    @property
    def contest_id(self) -> int: ...
    @property
    def unit_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def seed(self) -> int: ...


def me(
    session: DbSession, seat: Seat, branch_name: str, phase: dict[str, Any], *, new: bool = False
) -> dict[str, Any]:
    """The member's own part of a snapshot, beside the room's `phase` payload: never sent to
    anyone else. A `new` seat has no score and no answer yet, so it costs no query."""
    return {
        "name": seat.name,
        "branch": {"id": seat.unit_id, "name": branch_name},
        "seed": seat.seed,
        # as of the last reveal
        "score": 0 if new else standings.member_score(session, seat.contest_id, seat.id),
        "answer": None if new else own_answer(session, seat, phase),
    }


_OWN_ANSWER = (
    select(Answer.choice, Answer.elapsed_ms, Answer.potential_points, Answer.correct, Answer.points)
    .join(ContestQuestion, Answer.contest_question_id == ContestQuestion.id)
    .where(
        Answer.participant_id == bindparam("pid"),
        ContestQuestion.contest_id == bindparam("cid"),
        ContestQuestion.position == bindparam("position"),
    )
)


def own_answer(session: DbSession, seat: Seat, phase: dict[str, Any]) -> dict[str, Any] | None:
    if phase["question"] is None:
        return None
    values = {"pid": seat.id, "cid": seat.contest_id, "position": phase["position"]}
    answer = session.execute(_OWN_ANSWER, values).first()
    if answer is None:
        return None
    result = answer_result(answer, phase["position"])  # type: ignore[arg-type]  # a row with Answer's fields
    if phase["reveal"] is not None:
        result.update(correct=answer.correct, points=answer.points)
    return result


def answer_result(answer: Answer, position: int) -> dict[str, Any]:
    """The ack of an accepted answer; the same dict for a repeated answer or a snapshot."""
    return answer_fields(position, answer.choice, answer.elapsed_ms, answer.potential_points)


def answer_fields(position: int, choice: str, elapsed_ms: int, potential: int) -> dict[str, Any]:
    """`answer_result` from plain values (`choice` as stored: "A,C"), for the answer path."""
    return {
        "position": position,
        "choice": choice.split(","),
        "elapsed_ms": elapsed_ms,
        "points_if_correct": potential,
    }
