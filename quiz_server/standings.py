"""Standings, aggregated in SQL from stored answers so every process and every restart agrees.

Answers count from their question's reveal: while a question is open nothing a member can ask
for (score, rank, correct count, branch figures) may depend on whether an answer to it is right.

Members rank by points, ties by less time spent on correct answers (so a member who answered
nothing cannot win a tie by having used no time). Branches rank by the contest's metric
(default: average over registered members, so turnout counts), ties by accuracy, then by the
average time per correct answer. Agencies and systems roll up from their branches' sums and
rank by the same metric and tie-breaks. A participant is a member who joined the round and was
not removed. Metric labels, participation, ranking and the roll-up come from `ranking`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from sqlalchemy import Integer, and_, case, func, select

from . import ranking
from .contests import settings_of
from .extensions import DbSession
from .models import Answer, Contest, ContestQuestion, Participant, Unit
from .orgs import Tree
from .ranking import over_registered, participation_rate, per_registered, turnout

METRICS: dict[str, str] = ranking.labels(ranking.LIVE_METRICS)
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
    kind: str = "branch"
    parent_id: int | None = None
    capped: int | None = None  # rolled-up rows: the summed turnout of their branches

    @property
    def total(self) -> int:
        return self.score

    @property
    def avg_participants(self) -> float:
        return ranking.per_participant(self.score, self.participants)

    @property
    def avg_registered(self) -> float:
        return per_registered(self.score, self.participants, self.registered)

    @property
    def participation_rate(self) -> float:
        counted = (
            turnout(self.participants, self.registered) if self.capped is None else self.capped
        )
        return participation_rate(counted, self.registered)

    @property
    def over_registered(self) -> bool:
        return over_registered(self.participants, self.registered)

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0

    @property
    def avg_time_ms(self) -> float:
        return self.time_ms / self.correct if self.correct else 0.0

    def metric(self, name: str) -> float:
        value = getattr(self, name)
        return float(value or 0)


def unrevealed(session: DbSession, contest_id: int) -> list[int]:
    """Questions opened and not yet revealed (at most the current one): their answers do not
    count until the reveal. Outside a question phase this is empty and nothing is filtered."""
    return list(
        session.scalars(
            select(ContestQuestion.id).where(
                ContestQuestion.contest_id == contest_id,
                ContestQuestion.opens_at.is_not(None),
                ContestQuestion.revealed_at.is_(None),
            )
        )
    )


def member_score(session: DbSession, contest_id: int, participant_id: int) -> int:
    hidden = unrevealed(session, contest_id)
    score = session.scalar(
        select(func.coalesce(func.sum(Answer.points), 0)).where(
            Answer.participant_id == participant_id, Answer.contest_question_id.notin_(hidden)
        )
    )
    return int(score or 0)


def _member_totals(contest_id: int, hidden: list[int]) -> Any:
    """Per member: points, correct, answered and time on correct answers; answers to the
    `hidden` questions (not yet revealed) left out."""
    counted = Answer.participant_id == Participant.id
    if hidden:
        counted = and_(counted, Answer.contest_question_id.notin_(hidden))
    correct = func.coalesce(func.sum(case((Answer.correct, 1), else_=0)), 0)
    return (
        select(
            Participant.id,
            Participant.name,
            Participant.unit_id,
            func.coalesce(func.sum(Answer.points), 0).label("score"),
            correct.cast(Integer).label("correct"),
            func.count(Answer.id).label("answered"),
            func.coalesce(func.sum(case((Answer.correct, Answer.elapsed_ms), else_=0)), 0).label(
                "time_ms"
            ),
        )
        .outerjoin(Answer, counted)
        .where(Participant.contest_id == contest_id, Participant.kicked.is_(False))
        .group_by(Participant.id)
    )


def members(session: DbSession, contest_id: int) -> list[MemberRow]:
    """Every member, best first; equal score and time share a rank."""
    rows = session.execute(_member_totals(contest_id, unrevealed(session, contest_id))).all()
    chain = (lambda r: r.score, lambda r: -r.time_ms)
    return [
        MemberRow(place, r.id, r.name, r.unit_id, r.score, r.correct, r.answered, r.time_ms)
        for place, r in ranking.rank(rows, chain, lambda r: r.name)
    ]


def branches(session: DbSession, contest: Contest, metric: str | None = None) -> list[BranchRow]:
    """Every participating branch, ranked by `metric` (default: the contest's choice)."""
    metric = metric or settings_of(contest).ranking_metric
    if metric not in METRICS:
        raise ValueError(f"unknown ranking metric {metric!r}")
    totals = _member_totals(contest.id, unrevealed(session, contest.id)).subquery()
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
    keys = ("participants", "score", "correct", "answered", "time_ms")
    values = [int(getattr(agg, k) or 0) if agg else 0 for k in keys]
    participants, score, correct, answered, time_ms = values
    return BranchRow(
        0, unit.id, unit.name, participants, unit.registered, score, correct, answered, time_ms,
        parent_id=unit.parent_id,
    )  # fmt: skip


def _rank_branches(rows: list[BranchRow], metric: str) -> list[BranchRow]:
    """The metric, then accuracy, then the shorter average time per correct answer."""
    chain = (lambda r: r.metric(metric), lambda r: r.accuracy, lambda r: -r.avg_time_ms)
    return [replace(r, rank=place) for place, r in ranking.rank(rows, chain, lambda r: r.name)]


ADDITIVE = ("participants", "registered", "score", "correct", "answered", "time_ms")


@dataclass(frozen=True)
class Standings:
    """Branches, and the agencies and systems above them, each ranked among its own kind."""

    metric: str
    branches: list[BranchRow]
    agencies: list[BranchRow]
    systems: list[BranchRow]
    tree: Tree  # only the contest's branches and their ancestors

    def row(self, unit_id: int) -> BranchRow:
        return self._by_id[unit_id]

    @cached_property
    def _by_id(self) -> dict[int, BranchRow]:
        return {r.unit_id: r for r in (*self.branches, *self.agencies, *self.systems)}

    def outline(self) -> list[tuple[int, BranchRow]]:
        """(depth, row) in the tree's display order, for rendering the standings as a tree."""
        rows = self._by_id
        return [(depth, rows[unit.id]) for depth, unit in self.tree.depth_first()]


def rolled_up(session: DbSession, contest: Contest, metric: str | None = None) -> Standings:
    """Branch standings plus agency and system standings summed from those branches.

    Ratios come from the sums (Tree.rollup), so an agency's average weighs its branches by size."""
    branch_rows = branches(session, contest, metric)
    metric = metric or settings_of(contest).ranking_metric
    full = Tree.load(session)
    sums = ranking.roll_up(
        full, {r.unit_id: {k: getattr(r, k) for k in ADDITIVE} for r in branch_rows}
    )
    above = {a.id: a for r in branch_rows for a in full.ancestors(r.unit_id)}
    rows = [_rolled_row(unit, sums[uid]) for uid, unit in above.items()]
    shown = [full.units[r.unit_id] for r in branch_rows] + list(above.values())
    tree = Tree.of(sorted(shown, key=lambda u: (u.position, u.id)))  # siblings in display order
    return Standings(
        metric,
        branch_rows,
        _rank_branches([r for r in rows if r.kind != "system"], metric),
        _rank_branches([r for r in rows if r.kind == "system"], metric),
        tree,
    )


def _rolled_row(unit: Unit, sums: Mapping[str, float]) -> BranchRow:
    participants, registered, score, correct, answered, time_ms = (int(sums[k]) for k in ADDITIVE)
    return BranchRow(
        0,
        unit.id,
        unit.name,
        participants,
        registered,
        score,
        correct,
        answered,
        time_ms,
        kind=unit.kind,
        parent_id=unit.parent_id,
        capped=int(sums["capped"]),
    )
