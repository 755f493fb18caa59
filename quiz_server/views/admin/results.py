"""Results: the organizer's and branch secretaries' result pages and report downloads.

A secretary sees only the rows of the branches they are assigned to (User.units, or the
branches under an assigned agency); organizers see everything.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import audit, reports, standings
from ...auth import role_required
from ...contests import is_finished
from ...extensions import db
from ...models import Contest
from ...orgs import Tree
from ..lookup import contest_or_404, is_campaign
from .console import XLSX, download

bp = Blueprint("results", __name__)

MEMBERS_SHOWN = 100


def visible_branches(contest: Contest) -> set[int] | None:
    """None for organizers (everything); a secretary's own branches in this contest, else 403."""
    if current_user.role == "organizer":
        return None
    tree = Tree.load(db.session)
    own = {b.id for unit in current_user.units for b in tree.branches_under(unit.id)}
    mine = own & {u.id for u in contest.units}
    if not mine:
        abort(403)
    return mine


ANSWERS_LATER = "题目统计含正确答案，竞赛结束后才向组织者以外的账号开放。"


def answers_visible(contest: Contest) -> bool:
    """Sheets listing correct answers: organizers always (labelled 含答案), everyone else only
    once the contest is over, so no answer key leaves the console while questions can be asked."""
    return current_user.role == "organizer" or is_finished(
        contest, current_app.config["QUIZ"].clock()
    )


def _sheets(contest: Contest, scope: set[int] | None) -> list[reports.Sheet]:
    sheets = reports.build(db.session, contest, scope, current_app.config["QUIZ"].clock())
    return sheets if answers_visible(contest) else [s for s in sheets if not s.answers]


@bp.route("/admin/contests/<int:contest_id>/results")
@role_required("organizer", "secretary")
def contest_results(contest_id: int) -> str:
    contest = contest_or_404(contest_id)
    scope = visible_branches(contest)
    sheets = {s.key: s for s in _sheets(contest, scope)}
    if contest.mode == "stage":  # its own sheets: scores, buzz log, rulings, actions
        return render_template(
            "stage/results.html", contest=contest, sheets=sheets, limited=scope is not None
        )
    return render_template(
        "results/contest.html",
        contest=contest,
        sheets=sheets,
        answers_later=None if answers_visible(contest) else ANSWERS_LATER,
        over_registered=_over_registered(contest, scope),
        limited=scope is not None,
        metric_label=_metric_label(contest),
        tie_break=standings.TIE_BREAK_NOTE,
        member_tie_break=standings.MEMBER_TIE_BREAK_NOTE,
        members_shown=MEMBERS_SHOWN,
        csv_sheets=[s for s in sheets.values() if s.key != "about"],
    )


def _over_registered(contest: Contest, scope: set[int] | None) -> list[str]:
    """Branches with more participants than registered members (capped at 100 %, flagged)."""
    if is_campaign(contest):
        return []  # the campaign's fair-play page lists them
    rows = standings.branches(db.session, contest)
    return [r.name for r in rows if r.over_registered and (scope is None or r.unit_id in scope)]


def _metric_label(contest: Contest) -> str:
    if is_campaign(contest):
        return "网络竞答单位排名（见单位排名页）"
    return standings.METRICS[contest.settings.get("ranking_metric", "avg_registered")]


@bp.route("/admin/contests/<int:contest_id>/report.xlsx")
@role_required("organizer", "secretary")
def report_xlsx(contest_id: int) -> Response:
    contest = contest_or_404(contest_id)
    sheets = _sheets(contest, visible_branches(contest))
    name = reports.filename(contest, "成绩报表", datetime.now(UTC)) + ".xlsx"
    audit.record("report.export", contest=contest, detail="成绩报表（Excel）")
    db.session.commit()
    return download(reports.workbook_bytes(sheets), name, XLSX)


@bp.route("/admin/contests/<int:contest_id>/report/<sheet>.csv")
@role_required("organizer", "secretary")
def report_csv(contest_id: int, sheet: str) -> Response:
    contest = contest_or_404(contest_id)
    built = reports.build(
        db.session, contest, visible_branches(contest), current_app.config["QUIZ"].clock()
    )
    found = {s.key: s for s in built}
    if sheet not in found:
        abort(404)
    if found[sheet].answers and not answers_visible(contest):
        return render_template("errors/403.html", message=ANSWERS_LATER), 403  # type: ignore[return-value]  # Flask accepts a (body, status) pair
    name = reports.filename(contest, found[sheet].title, datetime.now(UTC)) + ".csv"
    audit.record("report.export", contest=contest, detail=f"{found[sheet].title}（CSV）")
    db.session.commit()
    return download(reports.csv_bytes(found[sheet]), name, "text/csv; charset=utf-8")
