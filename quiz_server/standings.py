"""Standings, aggregated in SQL from stored answers so every process and every restart agrees.

Members rank by points, ties by less time spent on correct answers (so a member who answered
nothing cannot win a tie by having used no time). Branches rank by the contest's metric
(default: average over registered members, so turnout counts), ties by accuracy, then by the
average time per correct answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from .models import Answer, Contest, Participant, Unit

METRICS: dict[str, str] = {
    "avg_registered": "人均得分（按注册人数）",
    "avg_participants": "人均得分（按参赛人数）",
    "total": "总得分",
    "participation_rate": "参与率",
    "accuracy": "正确率",
}
TIE_BREAK_NOTE = "同分时依次比较：正确率（高者在前）、答对题目的平均用时（短者在前）。"
MEMBER_TIE_BREAK_NOTE = "个人同分时，答对题目的总用时短者在前。"


@dataclass(frozen=True)
class MemberRow:
    rank: int
    participant_id: int
    name: str
    unit_id: int
    score: int
    correct: int
    answered: int
    time_ms: int


@dataclass(frozen=True)
class BranchRow:
    rank: int
    unit_id: int
    name: str
    participants: int
    registered: int
    score: int
    correct: int
    answered: int
    time_ms: int

    @property
    def avg_participants(self) -> float:
        return self.score / self.participants if self.participants else 0.0

    @property
    def avg_registered(self) -> float:
        """Non-participants count as zero; an unknown head-count falls back to participants."""
        base = self.registered or self.participants
        return self.score / base if base else 0.0

    @property
    def participation_rate(self) -> float | None:
        return self.participants / self.registered if self.registered else None

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0

    @property
    def avg_time_ms(self) -> float:
        return self.time_ms / self.correct if self.correct else 0.0

    def metric(self, name: str) -> float:
        value = getattr(self, name)
        return float(value or 0)


def _member_totals(contest_id: int) -> Any:
    correct = func.coalesce(func.sum(case((Answer.correct, 1), else_=0)), 0)
    return (
        select(
            Participant.id,
            Participant.name,
            Participant.unit_id,
            func.coalesce(func.sum(Answer.points), 0).label("score"),
            correct.cast(Integer).label("correct"),
            func.count(Answer.id).label("answered"),
            func.coalesce(func.sum(case((Answer.correct, Answer.elapsed_ms), else_=0)), 0).label("time_ms"),
        )
        .outerjoin(Answer, Answer.participant_id == Participant.id)
        .where(Participant.contest_id == contest_id, Participant.kicked.is_(False))
        .group_by(Participant.id)
    )


def members(session: Session, contest_id: int) -> list[MemberRow]:
    """Every member, best first; equal score and time share a rank."""
    rows = session.execute(_member_totals(contest_id)).all()
    rows.sort(key=lambda r: (-r.score, r.time_ms, r.id))
    return [
        MemberRow(rank, r.id, r.name, r.unit_id, r.score, r.correct, r.answered, r.time_ms)
        for rank, r in zip(_ranks(rows, lambda r: (r.score, r.time_ms)), rows, strict=True)
    ]


def branches(session: Session, contest: Contest, metric: str | None = None) -> list[BranchRow]:
    """Every participating branch, ranked by `metric` (default: the contest's choice)."""
    metric = metric or contest.settings.get("ranking_metric", "avg_registered")
    if metric not in METRICS:
        raise ValueError(f"unknown ranking metric {metric!r}")
    totals = _member_totals(contest.id).subquery()
    per_unit = {
        r.unit_id: r
        for r in session.execute(
            select(
                totals.c.unit_id,
                func.count().label("participants"),
                func.sum(totals.c.score).label("score"),
                func.sum(totals.c.correct).label("correct"),
                func.sum(totals.c.answered).label("answered"),
                func.sum(totals.c.time_ms).label("time_ms"),
            ).group_by(totals.c.unit_id)
        )
    }
    rows = [_branch_row(unit, per_unit.get(unit.id)) for unit in contest.units]
    return _rank_branches(rows, metric)


def _branch_row(unit: Unit, agg: Any) -> BranchRow:
    values = [int(getattr(agg, k) or 0) if agg else 0 for k in ("participants", "score", "correct", "answered", "time_ms")]
    return BranchRow(0, unit.id, unit.name, values[0], unit.registered, *values[1:])


def _rank_branches(rows: list[BranchRow], metric: str) -> list[BranchRow]:
    def key(r: BranchRow) -> tuple[float, float, float]:
        return (-round(r.metric(metric), 9), -round(r.accuracy, 9), r.avg_time_ms)

    rows.sort(key=lambda r: (*key(r), r.unit_id))
    ranks = _ranks(rows, key)
    return [BranchRow(rank, *_fields(r)[1:]) for rank, r in zip(ranks, rows, strict=True)]


def _fields(row: BranchRow) -> tuple[Any, ...]:
    return tuple(getattr(row, f) for f in row.__dataclass_fields__)


def _ranks(rows: Iterable[Any], key: Any) -> list[int]:
    """Competition ranking (1, 2, 2, 4): rows already sorted; equal keys share a rank."""
    ranks: list[int] = []
    previous = object()
    for index, row in enumerate(rows):
        k = key(row)
        ranks.append(ranks[-1] if k == previous else index + 1)
        previous = k
    return ranks
