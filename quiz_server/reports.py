"""What organizers send upward: standings and per-question statistics as sheets, written to
one xlsx workbook or one CSV per sheet. Headers in Chinese; every number is a number.

A report may be limited to some branches (a branch secretary's): then only their rows appear,
and the question statistics describe only their members.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import standings
from .contests import is_campaign
from .models import Answer, Contest, ContestQuestion
from .orgs import KINDS
from .questions import question_type
from .ranking import METRICS
from .spreadsheets import csv_field, xlsx_text

GROUP_SHARE = 0.27  # Kelley's upper and lower 27 % groups for the discrimination index
PERCENT, TWO, ONE, WHOLE = "0.0%", "0.00", "0.0", "0"


@dataclass(frozen=True)
class Column:
    header: str
    number_format: str | None = None
    width: int = 12


@dataclass(frozen=True)
class Sheet:
    key: str  # the CSV name: /report/<key>.csv
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    answers: bool = False  # lists correct answers: only after the contest, or for organizers


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


# ---------------------------------------------------------------- the sheets


def build(
    session: Session, contest: Contest, branch_ids: Collection[int] | None = None
) -> list[Sheet]:
    """Every sheet of the contest's report; `branch_ids` limits it to those branches' rows."""
    if is_campaign(contest):
        from . import campaign_report

        return campaign_report.sheets(session, contest, branch_ids)
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


# ---------------------------------------------------------------- writing files


def workbook_bytes(sheets: list[Sheet]) -> bytes:
    """Written in openpyxl's streaming mode: a 5,000-member report stays a quick download."""
    book = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(book.create_sheet(sheet.title), sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F3E3E5")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.append([_header_cell(ws, c.header) for c in sheet.columns])
    formats = [c.number_format for c in sheet.columns]
    for row in sheet.rows:
        ws.append([_value(ws, v, f) for v, f in zip(row, formats, strict=True)])


def _value(ws: Any, value: Any, number_format: str | None) -> Any:
    if isinstance(value, str):
        return xlsx_text(ws, value)  # a name such as "=1+2" stays text
    return _cell(ws, value, number_format) if number_format and value is not None else value


def _header_cell(ws: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
    return cell


def _cell(ws: Any, value: Any, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def csv_bytes(sheet: Sheet) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese headers correctly on a double click."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in sheet.columns])
    writer.writerows([["" if v is None else csv_field(v) for v in row] for row in sheet.rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def filename(contest: Contest, suffix: str, when: datetime) -> str:
    return f"竞赛{contest.pin}-{suffix}-{when:%Y%m%d-%H%M}"
