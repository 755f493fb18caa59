"""The console's home page: every contest the account may see (archived ones on their own
list), with bank and account totals."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import Select, func, select

from ...auth import role_required
from ...extensions import db
from ...models import Bank, Contest, ContestUnit, Participant, User, UserUnit
from ...orgs import Tree
from .console import bp


@bp.route("/")
@role_required("organizer", "secretary")
def index() -> str:
    archived = request.args.get("archived") == "1"
    shown = _visible_contests().where(
        Contest.archived_at.is_not(None) if archived else Contest.archived_at.is_(None)
    )
    contests = db.session.scalars(shown.order_by(Contest.id.desc())).all()
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
    return render_template(
        "admin/index.html", contests=contests, joined=counts, totals=totals, archived=archived
    )


def _visible_contests() -> Select:
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
