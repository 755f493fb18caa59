"""The report workbook of a campaign: unit participation per level, daily participation up to
today, members' results, the roster's 已参与 / 待参与 list (roster-bound campaigns), and
per-question statistics over every answered attempt item."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..campaign.attempts import rules_of
from ..campaign.rankings import LEVELS, campaign_unit_rows, daily_participation_rows, member_results
from ..extensions import DbSession
from ..models import Attempt, AttemptItem, Contest, Participant, Question
from ..orgs import Tree
from ..questions import question_type
from ..ranking import METRICS
from .members import member_sheet, roster_sheet
from .questions import Figures, answer_figures, choice_text, wrong_text
from .sheets import ONE, PERCENT, TWO, WHOLE, Column, Sheet

UNIT_COLUMNS = [
    ("rank", Column("排名", WHOLE, 6)),
    ("unit", Column("单位", None, 24)),
    ("parent", Column("上级单位", None, 20)),
    ("registered", Column("注册党员数", WHOLE)),
    ("participants", Column(METRICS["participants"].label, WHOLE)),
    ("participation_rate", Column(METRICS["participation_rate"].label, PERCENT)),
    ("avg_registered", Column(METRICS["avg_registered"].label, TWO, 16)),
    ("avg_participants", Column(METRICS["avg_participants"].label, TWO, 16)),
    ("full_marks", Column(METRICS["full_marks"].label, WHOLE)),
    ("full_mark_rate", Column(METRICS["full_mark_rate"].label, PERCENT)),
    ("attempts", Column("作答次数", WHOLE)),
    ("attempts_per_member", Column(METRICS["attempts_per_member"].label, TWO)),
    ("metric", Column("排名指标值", "0.0000", 12)),
]
DAILY_COLUMNS = [
    ("unit", Column("单位", None, 24)),
    ("day", Column("日期", None, 12)),
    ("participants", Column("当日参与人数", WHOLE)),
    ("cumulative", Column("累计参与人数", WHOLE)),
    ("registered", Column("注册党员数", WHOLE)),
    ("cumulative_rate", Column("累计参与率", PERCENT)),
]


def sheets(
    session: DbSession,
    contest: Contest,
    branch_ids: Collection[int] | None = None,
    now: datetime | None = None,
) -> list[Sheet]:
    """Every sheet; `branch_ids` (a secretary's scope) keeps those branches and the units above.
    The daily sheet runs to `now`'s day (the window's last day once it is over)."""
    visible = _visible(session, branch_ids)
    out = [_unit_sheet(session, contest, level, visible) for level in LEVELS]
    daily = [
        r
        for r in daily_participation_rows(session, contest, now)
        if visible is None or r["unit_id"] in visible
    ]
    out.append(_sheet("daily", "每日参与", DAILY_COLUMNS, daily))
    out.append(member_sheet(session, contest, rules_of(contest).counting, branch_ids))
    if contest.roster_bound:
        out.append(roster_sheet(session, contest, branch_ids))
    out.append(_question_sheet(session, contest, branch_ids))
    return out


def _visible(session: DbSession, branch_ids: Collection[int] | None) -> set[int] | None:
    if branch_ids is None:
        return None
    tree = Tree.load(session)
    return {
        u.id for b in branch_ids if b in tree.units for u in (tree.units[b], *tree.ancestors(b))
    }


def _unit_sheet(
    session: DbSession, contest: Contest, level: str, visible: set[int] | None
) -> Sheet:
    rows = [
        r
        for r in campaign_unit_rows(session, contest, level)
        if visible is None or r["unit_id"] in visible
    ]
    return _sheet(f"campaign_{level}", f"{LEVELS[level]}参与", UNIT_COLUMNS, rows)


def _sheet(
    key: str, title: str, columns: list[tuple[str, Column]], rows: list[dict[str, Any]]
) -> Sheet:
    return Sheet(
        key, title, [c for _, c in columns], [[row[k] for k, _ in columns] for row in rows]
    )


def _answered_items(contest_id: int, branch_ids: Collection[int] | None) -> list[Any]:
    """The contest's answered attempt items; a secretary's: only their branches' members'."""
    where = [Attempt.contest_id == contest_id, AttemptItem.choice.is_not(None)]
    if branch_ids is not None:
        members = select(Participant.id).where(
            Participant.contest_id == contest_id, Participant.unit_id.in_(branch_ids)
        )
        where.append(Attempt.participant_id.in_(members))
    return where


def _question_sheet(
    session: DbSession, contest: Contest, branch_ids: Collection[int] | None = None
) -> Sheet:
    """Most-missed first: the 薄弱环节 list over every answered item of every attempt (of the
    given branches' members only, for a secretary); discrimination groups members by their
    counted result."""
    answers = (
        select(
            AttemptItem.question_id.label("question"),
            Attempt.participant_id.label("member"),
            AttemptItem.correct,
            AttemptItem.choice,
            AttemptItem.elapsed_ms,
        )
        .join(Attempt, AttemptItem.attempt_id == Attempt.id)
        .where(*_answered_items(contest.id, branch_ids))
    )
    ranked = [
        m.participant_id
        for m in member_results(session, contest)
        if branch_ids is None or m.unit_id in branch_ids
    ]
    figures = answer_figures(session, answers, ranked)
    questions = session.scalars(select(Question).where(Question.id.in_(figures))).all()
    rows = [_question_row(q, figures[q.id]) for q in questions]
    rows.sort(key=lambda r: (r[6], r[0]))
    columns = [
        Column("题目编号", None, 14), Column("题型", None, 8), Column("分类", None, 10),
        Column("题干", None, 48), Column("正确答案", None, 20), Column("作答次数", WHOLE),
        Column("通过率（难度系数）", PERCENT, 14), Column("区分度", TWO),
        Column("最多人选的错误选项", None, 20), Column("选错人次", WHOLE), Column("平均用时（秒）", ONE),
    ]  # fmt: skip
    return Sheet("campaign_questions", "题目统计", columns, rows, answers=True)


def _question_row(q: Question, f: Figures) -> list[Any]:
    qtype = question_type(q.type)
    return [
        q.qid, qtype.label, q.bank_version.category_title(q.category), q.stem,
        choice_text(q.type, q.options, qtype.correct_ids(q.answer)), f.answered,
        f.facility or 0.0, round(f.discrimination or 0.0, 2),
        wrong_text(q.type, q.options, f), f.wrong_count, (f.avg_ms or 0.0) / 1000,
    ]  # fmt: skip
