"""Organizer console: the home page and the blueprint the console's pages hang on.

The pages live by domain noun beside this module (`admin_users`, `admin_banks`,
`admin_contests`); every route carries `role_required`, and a test over the URL map fails when
one does not.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import BytesIO

from flask import Blueprint, render_template, send_file
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..auth import role_required
from ..extensions import db
from ..models import Bank, Contest, ContestUnit, Participant, User, UserUnit
from ..orgs import Tree

bp = Blueprint("admin", __name__, url_prefix="/admin")
BEIJING = timezone(
    timedelta(hours=8), "北京时间"
)  # organizers think in local time; no DST in China

PHASES = {
    "lobby": "等待开始",
    "question": "答题中",
    "reveal": "揭晓答案",
    "leaderboard": "排行榜",
    "finished": "已结束",
}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, name: str, mimetype: str) -> Response:
    """Every console download: an ASCII fallback name plus RFC 5987 `filename*` for a Chinese
    name (a raw non-ASCII header is not latin-1, and gunicorn answers it with a 500)."""
    response = send_file(BytesIO(data), mimetype, as_attachment=True, download_name=name)
    response.cache_control.no_store = True
    return response


@bp.app_context_processor
def _console_names() -> dict[str, object]:
    return {"phase_names": PHASES}


@bp.app_template_filter("beijing")
def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


@bp.route("/")
@role_required("organizer", "secretary")
def index() -> str:
    contests = db.session.scalars(_visible_contests().order_by(Contest.id.desc())).all()
    counts = dict(
        db.session.execute(
            select(Participant.contest_id, func.count())
            .where(Participant.kicked.is_(False))
            .group_by(Participant.contest_id)
        ).all()
    )
    totals = {
        "banks": db.session.scalar(select(func.count()).select_from(Bank)) or 0,
        "users": db.session.scalar(select(func.count()).select_from(User)) or 0,
    }
    return render_template("admin/index.html", contests=contests, joined=counts, totals=totals)


def _visible_contests():  # type: ignore[no-untyped-def]
    """Organizers see every contest; a secretary only those one of their branches takes part in."""
    query = select(Contest)
    if current_user.role == "organizer":
        return query
    mine = secretary_branch_ids(current_user.id)
    return query.where(
        Contest.id.in_(select(ContestUnit.contest_id).where(ContestUnit.unit_id.in_(mine)))
    )


def secretary_branch_ids(user_id: int) -> list[int]:
    """The branches a secretary answers for: assigned units and every branch under them."""
    assigned = db.session.scalars(select(UserUnit.unit_id).where(UserUnit.user_id == user_id))
    tree = Tree.load(db.session)
    return sorted({b.id for uid in assigned if uid in tree.units for b in tree.branches_under(uid)})


# The console's pages register their routes on `bp` when imported.
from . import admin_banks, admin_contests, admin_users  # noqa: E402, F401
