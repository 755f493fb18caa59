"""Per-question statistics of a report (the 薄弱环节 list): facility, discrimination, the
most-chosen wrong option and the average time, and option ids as an organizer reads them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .. import standings
from ..models import Answer, Contest, ContestQuestion
from ..questions import question_type

GROUP_SHARE = 0.27  # Kelley's upper and lower 27 % groups for the discrimination index


@dataclass(frozen=True)
class QuestionStat:
    position: int
    qid: str
    type_label: str
    category: str
    stem: str
    correct_answer: str
    answered: int
    correct: int
    discrimination: float | None
    wrong_choice: str
    wrong_count: int
    avg_seconds: float | None

    @property
    def facility(self) -> float | None:
        return self.correct / self.answered if self.answered else None


# ---------------------------------------------------------------- per-question statistics


def question_stats(
    session: Session, contest: Contest, members: list[standings.MemberRow]
) -> list[QuestionStat]:
    """Statistics over `members`' answers, the most-missed question first (the 薄弱环节 list)."""
    ids = [m.participant_id for m in members]
    totals = _answer_totals(session, contest.id, ids)
    wrong = _wrong_choices(session, contest.id, ids)
    index = _discrimination(session, contest.id, members)
    stats = [
        _stat(cq, totals.get(cq.id), wrong.get(cq.id), index.get(cq.id)) for cq in contest.questions
    ]
    stats.sort(key=lambda s: (s.facility if s.facility is not None else 2.0, s.position))
    return stats


def _in(ids: Collection[int]) -> Any:
    return Answer.participant_id.in_(ids)


def _answer_totals(session: Session, contest_id: int, ids: list[int]) -> dict[int, Any]:
    query = (
        select(
            Answer.contest_question_id,
            func.count().label("answered"),
            func.sum(case((Answer.correct, 1), else_=0)).label("correct"),
            func.avg(Answer.elapsed_ms).label("avg_ms"),
        )
        .where(Answer.contest_id == contest_id, _in(ids))
        .group_by(Answer.contest_question_id)
    )
    return {row.contest_question_id: row for row in session.execute(query)}


def _wrong_choices(session: Session, contest_id: int, ids: list[int]) -> dict[int, tuple[str, int]]:
    """The most-chosen wrong choice per question (ties: the alphabetically first)."""
    query = (
        select(Answer.contest_question_id, Answer.choice, func.count().label("n"))
        .where(Answer.contest_id == contest_id, Answer.correct.is_(False), _in(ids))
        .group_by(Answer.contest_question_id, Answer.choice)
    )
    best: dict[int, tuple[str, int]] = {}
    for cq_id, choice, n in session.execute(query):
        current = best.get(cq_id)
        if current is None or (-n, choice) < (-current[1], current[0]):
            best[cq_id] = (choice, n)
    return best


def _discrimination(
    session: Session, contest_id: int, members: list[standings.MemberRow]
) -> dict[int, float]:
    """Share correct in the top 27 % by score minus the bottom 27 % (no answer counts as wrong)."""
    size = round(len(members) * GROUP_SHARE)
    if size < 1 or len(members) < 2:
        return {}
    top = {m.participant_id for m in members[:size]}
    bottom = {m.participant_id for m in members[-size:]}
    query = select(Answer.contest_question_id, Answer.participant_id).where(
        Answer.contest_id == contest_id, Answer.correct.is_(True), _in(top | bottom)
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for cq_id, pid in session.execute(query):
        counts[cq_id]["top" if pid in top else "bottom"] += 1
    return {cq_id: (c["top"] - c["bottom"]) / size for cq_id, c in counts.items()}


def _stat(
    cq: ContestQuestion, totals: Any, wrong: tuple[str, int] | None, index: float | None
) -> QuestionStat:
    q = cq.question
    answered = int(totals.answered) if totals else 0
    return QuestionStat(
        position=cq.position + 1,
        qid=q.qid,
        type_label=question_type(q.type).label,
        category=q.category,
        stem=q.stem,
        correct_answer=choice_text(q.type, q.options, question_type(q.type).correct_ids(q.answer)),
        answered=answered,
        correct=int(totals.correct or 0) if totals else 0,
        discrimination=index if index is not None else (0.0 if answered else None),
        wrong_choice=choice_text(q.type, q.options, wrong[0].split(",")) if wrong else "",
        wrong_count=wrong[1] if wrong else 0,
        avg_seconds=float(totals.avg_ms) / 1000 if totals and totals.avg_ms is not None else None,
    )


def choice_text(qtype: str, options: list[str], ids: Iterable[str]) -> str:
    """Option ids as an organizer reads them: "B. 注意车辆" or "错误"; several joined by "；"."""
    kind = question_type(qtype)
    labels = dict(zip(kind.option_ids(options), kind.option_labels(options), strict=True))
    if qtype == "judge":
        return "；".join(labels.get(i, i) for i in ids)
    return "；".join(f"{i}. {labels[i]}" if i in labels else i for i in ids)
