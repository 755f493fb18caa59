"""A campaign's sheets about people: every member's counted result, and, for a roster-bound
campaign, the roster per branch marked 已参与 or 待参与 (whom a secretary still has to remind).

Taking part is what the participation rate counts: at least one finished attempt. A roster
member who joined but never finished an attempt is 待参与, like one who never joined.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..campaign.rankings import member_results
from ..campaign.rules import COUNTING
from ..extensions import DbSession
from ..models import Attempt, CampaignScore, Contest, Participant, RosterEntry
from .sheets import ONE, WHOLE, Column, Sheet

TOOK_PART, WAITING = "已参与", "待参与"


@dataclass(frozen=True)
class Days:
    first: str
    last: str


def member_sheet(
    session: DbSession, contest: Contest, rule: str, branch_ids: Collection[int] | None
) -> Sheet:
    """Members who took part, best first under the counting rule (equal score and time share
    a place), with their roster number when they joined on a roster line."""
    units = {u.id: u.name for u in contest.units}
    numbers = _member_numbers(session, contest)
    days = _attempt_days(session, contest)
    rows: list[list[Any]] = []
    place, previous = 0, None
    for n, m in enumerate(member_results(session, contest), start=1):
        if (m.score, m.time_ms) != previous:
            place, previous = n, (m.score, m.time_ms)
        if branch_ids is not None and m.unit_id not in branch_ids:
            continue
        seen = days.get(m.participant_id, Days("", ""))
        rows.append([
            place, m.name, numbers.get(m.participant_id, ""), units.get(m.unit_id, ""),
            round(m.score, 1), round(m.time_ms / 1000, 1), m.attempts, "是" if m.full else "否",
            seen.first, seen.last,
        ])  # fmt: skip
    columns = [
        Column("名次", WHOLE, 6), Column("姓名"), Column("党员编号"), Column("党支部", None, 24),
        Column(f"计入成绩（{COUNTING[rule]}）", ONE, 14), Column("计入用时（秒）", ONE, 14),
        Column("完成作答次数", WHOLE), Column("有满分", None, 8),
        Column("首次参与日期", None, 12), Column("最近参与日期", None, 12),
    ]  # fmt: skip
    return Sheet("campaign_members", "成员成绩", columns, rows)


def roster_sheet(session: DbSession, contest: Contest, branch_ids: Collection[int] | None) -> Sheet:
    """Every roster line of the campaign's branches: 待参与 first within each branch, so the
    list a secretary chases people with starts with whom to call."""
    days = _attempt_days(session, contest)
    seats = session.execute(
        select(Participant.roster_entry_id, Participant.id, CampaignScore.attempts)
        .outerjoin(CampaignScore, CampaignScore.participant_id == Participant.id)
        .where(Participant.contest_id == contest.id, Participant.roster_entry_id.is_not(None))
    )
    took = {entry: (int(n or 0), days.get(pid, Days("", "")).last) for entry, pid, n in seats}
    order = {u.id: n for n, u in enumerate(contest.units)}
    names = {u.id: u.name for u in contest.units}
    wanted = [u for u in order if branch_ids is None or u in branch_ids]
    entries = session.scalars(select(RosterEntry).where(RosterEntry.unit_id.in_(wanted))).all()
    lines = []
    for e in entries:
        attempts, last = took.get(e.id, (0, ""))
        status = TOOK_PART if attempts else WAITING
        key = (order[e.unit_id], status != WAITING, e.member_no)
        lines.append((key, [names[e.unit_id], e.name, e.member_no, status, attempts, last]))
    rows = [row for _key, row in sorted(lines, key=lambda line: line[0])]
    columns = [
        Column("党支部", None, 24), Column("姓名"), Column("党员编号"),
        Column(f"{TOOK_PART}/{WAITING}", None, 10), Column("完成作答次数", WHOLE),
        Column("最近参与日期", None, 12),
    ]  # fmt: skip
    return Sheet("campaign_roster", f"{TOOK_PART}与{WAITING}名单", columns, rows)


def _member_numbers(session: DbSession, contest: Contest) -> dict[int, str]:
    return dict(
        session.execute(
            select(Participant.id, RosterEntry.member_no)
            .join(RosterEntry, RosterEntry.id == Participant.roster_entry_id)
            .where(Participant.contest_id == contest.id)
        ).all()
    )


def _attempt_days(session: DbSession, contest: Contest) -> dict[int, Days]:
    """Each member's first and latest day (the contest's zone) with a finished attempt."""
    rows = session.execute(
        select(Attempt.participant_id, func.min(Attempt.local_day), func.max(Attempt.local_day))
        .where(Attempt.contest_id == contest.id, Attempt.finished_at.is_not(None))
        .group_by(Attempt.participant_id)
    )
    return {pid: Days(first, last) for pid, first, last in rows}
