"""The audit log page: every recorded organizer action, newest first, filterable by contest,
user and action, fifty to a page, and its CSV export (formula-safe, as every export)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from ... import audit, reports
from ...auth import role_required
from ...extensions import db
from ...models import Contest, User
from ...reports.sheets import Column, Sheet
from ..site import beijing
from .console import bp, download

EXPORT_MAX = 100_000


def _filter() -> audit.Filter:
    return audit.Filter(
        contest_id=_id(request.args.get("contest")),
        user_id=_id(request.args.get("user")),
        action=request.args.get("action") if request.args.get("action") in audit.ACTIONS else None,
    )


def _id(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and int(text) < 2**31 else None


@bp.route("/audit")
@role_required("organizer")
def audit_log() -> str:
    where = _filter()
    page = _id(request.args.get("page")) or 1
    rows, total = audit.entries(where, page)
    return render_template(
        "admin/audit.html",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + audit.PAGE_SIZE - 1) // audit.PAGE_SIZE, 1),
        where=where,
        actions=audit.ACTIONS,
        users=db.session.scalars(select(User).order_by(User.username)).all(),
        contests=db.session.execute(select(Contest.id, Contest.title).order_by(Contest.id.desc())),
        args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.route("/audit.csv")
@role_required("organizer")
def audit_csv() -> Response:
    rows, _ = audit.entries(_filter(), 1, EXPORT_MAX)
    audit.record("report.export", detail="导出操作记录")
    db.session.commit()
    sheet = Sheet(
        key="audit",
        title="操作记录",
        columns=[
            Column(h)
            for h in ("时间（北京时间）", "账号", "操作", "竞赛编号", "竞赛", "详情", "地址")
        ],
        rows=[_row(e) for e in rows],
    )
    name = f"操作记录-{datetime.now(UTC):%Y%m%d-%H%M}.csv"
    return download(reports.csv_bytes(sheet), name, "text/csv; charset=utf-8")


def _row(entry: Any) -> list[Any]:
    return [
        beijing(entry.at), entry.username, audit.ACTIONS.get(entry.action, entry.action),
        entry.contest_id, entry.contest_title, entry.detail, entry.address,
    ]  # fmt: skip
