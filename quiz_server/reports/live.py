"""The report of a live round: branch and agency standings, members, question statistics and a
sheet that explains the figures.

A report may be limited to some branches (a branch secretary's): then only their rows appear,
and the question statistics describe only their members.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from .. import standings
from ..extensions import DbSession
from ..models import Contest
from ..orgs import KINDS
from ..ranking import METRICS
from .questions import QuestionStat, question_stats
from .sheets import ONE, PERCENT, TWO, WHOLE, Column, Sheet


def sheets(
    session: DbSession, contest: Contest, branch_ids: Collection[int] | None = None
) -> list[Sheet]:
    """Every sheet of the round's report; `branch_ids` limits it to those branches' rows."""
    table = standings.rolled_up(session, contest)
    members = standings.members(session, contest.id)
    if branch_ids is not None:
        allowed = set(branch_ids)
        above = {a.id for b in allowed if b in table.tree.units for a in table.tree.ancestors(b)}
        table = standings.Standings(
            table.metric,
            [r for r in table.branches if r.unit_id in allowed],
            [r for r in table.agencies if r.unit_id in above],
            [r for r in table.systems if r.unit_id in above],
            table.tree,
        )
        members = [m for m in members if m.unit_id in allowed]
    return [
        _branch_sheet(table),
        _agency_sheet(table),
        _member_sheet(table, members),
        _question_sheet(question_stats(session, contest, members)),
        _about_sheet(contest, table, branch_ids is not None),
    ]


METRIC_COLUMNS = [
    Column("注册党员数", WHOLE),
    Column(METRICS["participants"].label, WHOLE),
    Column(METRICS["participation_rate"].label, PERCENT),
    Column(METRICS["total"].label, WHOLE),
    Column(METRICS["avg_participants"].label, TWO, 14),
    Column(METRICS["avg_registered"].label, TWO, 14),
    Column(METRICS["accuracy"].label, PERCENT),
    Column("答对平均用时（秒）", ONE, 14),
]


def _metric_values(row: standings.BranchRow) -> list[Any]:
    return [
        row.registered,
        row.participants,
        round(row.participation_rate, 4),
        row.score,
        round(row.avg_participants, 2),
        round(row.avg_registered, 2),
        round(row.accuracy, 4),
        round(row.avg_time_ms / 1000, 1),
    ]


def _parent_name(table: standings.Standings, row: standings.BranchRow) -> str:
    parent = table.tree.units.get(row.parent_id) if row.parent_id is not None else None
    return parent.name if parent is not None else ""


def _branch_sheet(table: standings.Standings) -> Sheet:
    columns = [
        Column("排名", WHOLE, 6),
        Column("单位编码"),
        Column("党支部", width=24),
        Column("上级单位", width=24),
        *METRIC_COLUMNS,
    ]
    rows = [
        [
            r.rank,
            table.tree.units[r.unit_id].code,
            r.name,
            _parent_name(table, r),
            *_metric_values(r),
        ]
        for r in table.branches
    ]
    return Sheet("branches", "支部排名", columns, rows)


def _agency_sheet(table: standings.Standings) -> Sheet:
    columns = [
        Column("排名", WHOLE, 6),
        Column("层级", width=16),
        Column("单位编码"),
        Column("单位名称", width=24),
        Column("党支部数", WHOLE),
        *METRIC_COLUMNS,
    ]
    rows = [
        [
            r.rank,
            KINDS.get(r.kind, r.kind),
            table.tree.units[r.unit_id].code,
            r.name,
            len(table.tree.branches_under(r.unit_id)),
            *_metric_values(r),
        ]
        for r in (*table.agencies, *table.systems)
    ]
    return Sheet("agencies", "机关排名", columns, rows)


def _member_sheet(table: standings.Standings, members: list[standings.MemberRow]) -> Sheet:
    columns = [
        Column("排名", WHOLE, 6),
        Column("姓名"),
        Column("党支部", width=24),
        Column("上级单位", width=24),
        Column("得分", WHOLE),
        Column("答对题数", WHOLE),
        Column("作答题数", WHOLE),
        Column("正确率", PERCENT),
        Column("答对总用时（秒）", ONE, 14),
    ]
    rows = []
    for m in members:
        branch = table.row(m.unit_id) if m.unit_id in table.tree.units else None
        rows.append(
            [
                m.rank,
                m.name,
                branch.name if branch else "",
                _parent_name(table, branch) if branch else "",
                m.score,
                m.correct,
                m.answered,
                round(m.correct / m.answered, 4) if m.answered else 0.0,
                round(m.time_ms / 1000, 1),
            ]
        )
    return Sheet("members", "个人成绩", columns, rows)


def _question_sheet(stats: list[QuestionStat]) -> Sheet:
    columns = [
        Column("题序", WHOLE, 6),
        Column("题目编号"),
        Column("题型", width=8),
        Column("分类"),
        Column("题干", width=48),
        Column("正确答案", width=20),
        Column("作答人数", WHOLE),
        Column("答对人数", WHOLE),
        Column("通过率", PERCENT),
        Column("区分度", TWO),
        Column("最多人选的错误答案", width=24),
        Column("选该错误答案人数", WHOLE, 14),
        Column("平均用时（秒）", ONE, 14),
    ]
    rows = [
        [
            s.position,
            s.qid,
            s.type_label,
            s.category,
            s.stem,
            s.correct_answer,
            s.answered,
            s.correct,
            _rounded(s.facility, 4),
            _rounded(s.discrimination, 2),
            s.wrong_choice,
            s.wrong_count,
            _rounded(s.avg_seconds, 1),
        ]
        for s in stats
    ]
    return Sheet("questions", "题目统计", columns, rows, answers=True)


def _about_sheet(contest: Contest, table: standings.Standings, limited: bool) -> Sheet:
    lines = [
        ["竞赛", contest.title],
        ["竞赛码", contest.pin],
        ["排名依据", standings.METRICS[table.metric]],
        ["支部同分规则", standings.TIE_BREAK_NOTE],
        ["个人同分规则", standings.MEMBER_TIE_BREAK_NOTE],
        ["通过率", "答对人数 ÷ 作答人数；题目统计按通过率从低到高排列（薄弱环节在前）"],
        ["区分度", "总分前 27% 与后 27% 两组答对比例之差（未作答按答错计），范围 −1～1"],
        ["范围", "仅含本人所在党支部" if limited else "全部参赛党支部"],
    ]
    return Sheet("about", "说明", [Column("项目", width=14), Column("内容", width=80)], lines)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)
