"""Organizer console (contest list for now; the full console grows here)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from ..auth import role_required
from ..extensions import db
from ..models import Contest

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@role_required("organizer", "secretary")
def index() -> str:
    contests = db.session.scalars(select(Contest).order_by(Contest.id.desc())).all()
    return render_template("admin/index.html", contests=contests)
