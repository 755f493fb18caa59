"""The organizers' audit log: who did what, when, on which contest.

One function, `record`, called from the edges (console views, host socket events, the scheduler,
the command line) in the transaction of the action itself, so an action and its entry are
committed together. Reading it back is `entries`, for the console page and its CSV export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, func, select

from .extensions import db
from .models import AuditEntry, Contest

# Every action on record, with the Chinese the console shows.
ACTIONS: dict[str, str] = {
    "bank.upload": "上传题库",
    "contest.create": "创建竞赛",
    "contest.edit": "修改竞赛",
    "contest.archive": "归档竞赛",
    "contest.unarchive": "取消归档",
    "contest.delete": "删除竞赛",
    "contest.start": "开始竞赛",
    "contest.host": "现场操作",
    "member.kick": "移出成员",
    "member.release": "释放席位",
    "score.change": "修改成绩",
    "report.export": "导出报表",
    "user.create": "创建账号",
    "user.change": "修改账号",
    "orgs.import": "导入组织架构",
}
PAGE_SIZE = 50
DETAIL_MAX = 2000


def record(
    action: str,
    *,
    contest: Contest | None = None,
    contest_id: int | None = None,
    detail: str = "",
    username: str | None = None,
) -> AuditEntry:
    """Add one entry to the session (the caller commits with the action). The actor is the
    logged-in user of the request; without one (the scheduler, the command line) `username`
    names it, else it is 系统."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user = current_user if has_request_context() and current_user.is_authenticated else None
    if contest is None and contest_id is not None:
        contest = db.session.get(Contest, contest_id)
    entry = AuditEntry(
        user_id=user.id if user else None,
        username=(user.username if user else username or "系统")[:64],
        action=action,
        contest_id=contest.id if contest else contest_id,
        contest_title=(contest.title if contest else "")[:200],
        detail=detail[:DETAIL_MAX],
        address=(request.remote_addr or "")[:64] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class Filter:
    """What the audit page is narrowed to; None means any."""

    contest_id: int | None = None
    user_id: int | None = None
    action: str | None = None

    def query(self) -> Select[Any]:
        query = select(AuditEntry)
        if self.contest_id is not None:
            query = query.where(AuditEntry.contest_id == self.contest_id)
        if self.user_id is not None:
            query = query.where(AuditEntry.user_id == self.user_id)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        return query


def entries(where: Filter, page: int = 1, size: int = PAGE_SIZE) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and how many match in all."""
    total = db.session.scalar(select(func.count()).select_from(where.query().subquery())) or 0
    rows = db.session.scalars(
        where.query().order_by(AuditEntry.id.desc()).offset((max(page, 1) - 1) * size).limit(size)
    ).all()
    return list(rows), total
