"""Per-question statistics of a report (the 薄弱环节 list): facility, discrimination, the
most-chosen wrong option and the average time, and option ids as an organizer reads them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select

from .. import standings
from ..extensions import DbSession
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


@dataclass(frozen=True)
class Figures:
    """One question's figures over a set of answers (either mode's answer table)."""

    answered: int
    correct: int
    discrimination: float | None
    wrong_choice: str  # the most-chosen wrong choice, as stored ("B" or "A,C"); "" if none
    wrong_count: int
    avg_ms: float | None

    @property
    def facility(self) -> float | None:
        return self.correct / self.answered if self.answered else None


def answer_figures(
    session: DbSession, answers: Select, ranked: Sequence[int]
) -> dict[int, Figures]:
    """{question: figures} over `answers`, a query with the columns `question`, `member`,
    `correct`, `choice` and `elapsed_ms` (live: the answers; campaign: the answered attempt
    items). `ranked` are the members best first, for the discrimination index: the share of
    the top 27 % answering correctly minus that of the bottom 27 % (no answer counts as
    wrong; a question answered by too few members to form groups gets 0)."""
    rows = answers.subquery()
    totals = session.execute(
        select(
            rows.c.question,
            func.count().label("answered"),
            func.sum(case((rows.c.correct, 1), else_=0)).label("correct"),
            func.avg(rows.c.elapsed_ms).label("avg_ms"),
        ).group_by(rows.c.question)
    )
    wrong = _wrong_choices(session, rows)
    index = _discrimination(session, rows, ranked)
    out: dict[int, Figures] = {}
    for question, answered, correct, avg_ms in totals:
        choice, count = wrong.get(question, ("", 0))
        out[question] = Figures(
            answered=int(answered),
            correct=int(correct or 0),
            discrimination=index.get(question, 0.0) if answered else None,
            wrong_choice=choice,
            wrong_count=count,
            avg_ms=float(avg_ms) if avg_ms is not None else None,
        )
    return out


def _wrong_choices(session: DbSession, rows: Any) -> dict[int, tuple[str, int]]:
    """The most-chosen wrong choice per question (ties: the alphabetically first)."""
    query = (
        select(rows.c.question, rows.c.choice, func.count().label("n"))
        .where(rows.c.correct.is_(False))
        .group_by(rows.c.question, rows.c.choice)
    )
    best: dict[int, tuple[str, int]] = {}
    for question, choice, n in session.execute(query):
        current = best.get(question)
        if current is None or (-n, choice) < (-current[1], current[0]):
            best[question] = (choice, n)
    return best


def _discrimination(session: DbSession, rows: Any, ranked: Sequence[int]) -> dict[int, float]:
    size = round(len(ranked) * GROUP_SHARE)
    if size < 1 or len(ranked) < 2:
        return {}
    top, bottom = set(ranked[:size]), set(ranked[-size:])
    query = (
        select(rows.c.question, rows.c.member)
        .where(rows.c.correct.is_(True), rows.c.member.in_(top | bottom))
        .distinct()
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for question, member in session.execute(query):
        counts[question]["top" if member in top else "bottom"] += 1
    return {q: (c["top"] - c["bottom"]) / size for q, c in counts.items()}


def question_stats(
    session: DbSession, contest: Contest, members: list[standings.MemberRow]
) -> list[QuestionStat]:
    """A live round's statistics over `members`' answers, the most-missed question first."""
    answers = select(
        Answer.contest_question_id.label("question"),
        Answer.participant_id.label("member"),
        Answer.correct,
        Answer.choice,
        Answer.elapsed_ms,
    ).where(Answer.contest_id == contest.id, Answer.participant_id.in_(_ids(members)))
    figures = answer_figures(session, answers, _ids(members))
    stats = [_stat(cq, figures.get(cq.id)) for cq in contest.questions]
    stats.sort(key=lambda s: (s.facility if s.facility is not None else 2.0, s.position))
    return stats


def _ids(members: list[standings.MemberRow]) -> list[int]:
    return [m.participant_id for m in members]


def _stat(cq: ContestQuestion, figures: Figures | None) -> QuestionStat:
    q = cq.question
    f = figures or Figures(0, 0, None, "", 0, None)
    return QuestionStat(
        position=cq.position + 1,
        qid=q.qid,
        type_label=question_type(q.type).label,
        category=q.bank_version.category_title(q.category),
        stem=q.stem,
        correct_answer=choice_text(q.type, q.options, question_type(q.type).correct_ids(q.answer)),
        answered=f.answered,
        correct=f.correct,
        discrimination=f.discrimination,
        wrong_choice=wrong_text(q.type, q.options, f),
        wrong_count=f.wrong_count,
        avg_seconds=f.avg_ms / 1000 if f.avg_ms is not None else None,
    )


def wrong_text(qtype: str, options: list[str], figures: Figures) -> str:
    return (
        choice_text(qtype, options, figures.wrong_choice.split(",")) if figures.wrong_choice else ""
    )


def choice_text(qtype: str, options: list[str], ids: Iterable[str]) -> str:
    """Option ids as an organizer reads them: "B. 注意车辆" or "错误"; several joined by "；"."""
    kind = question_type(qtype)
    labels = dict(zip(kind.option_ids(options), kind.option_labels(options), strict=True))
    if qtype == "judge":
        return "；".join(labels.get(i, i) for i in ids)
    return "；".join(f"{i}. {labels[i]}" if i in labels else i for i in ids)
