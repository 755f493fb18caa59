"""The stage contest's pages: the team device and the big screen (public, by contest PIN;
the device then joins with its team's PIN) and the referee console (organizer login)."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, abort, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import links
from ..auth import role_required
from ..extensions import db
from ..messages import strings_for
from ..models import Contest, StageTeam

bp = Blueprint("stage", __name__, url_prefix="/stage")


def _stage_by_pin(pin: str) -> Contest:
    contest = db.session.scalar(select(Contest).where(Contest.pin == pin))
    if contest is None or contest.mode != "stage":
        abort(404)
    return contest


@bp.route("/<pin>/team")
def team(pin: str) -> str:
    return render_template(
        "stage/team.html", contest=_stage_by_pin(pin), strings=strings_for("stage")
    )


@bp.route("/<pin>/screen")
def screen(pin: str) -> str:
    return render_template(
        "stage/screen.html", contest=_stage_by_pin(pin), strings=strings_for("stage")
    )


@bp.route("/referee/<int:contest_id>")
@role_required("organizer")
def referee(contest_id: int) -> str:
    contest = db.session.get(Contest, contest_id)
    if contest is None or contest.mode != "stage":
        abort(404)
    return render_template("stage/referee.html", contest=contest, strings=strings_for("stage"))


@bp.route("/referee/<int:contest_id>/qr/<int:team_id>.svg")
@role_required("organizer")
def team_qr(contest_id: int, team_id: int) -> Response:
    """A team's join code, carrying its token: organizer only, printed for that desk."""
    team = db.session.get(StageTeam, team_id)
    contest = db.session.get(Contest, contest_id)
    if team is None or contest is None or team.contest_id != contest_id:
        abort(404)
    url = links.absolute(f"/stage/{contest.pin}/team#t={team.token}")
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", border=2, omitsize=True, title=team.name)
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.cache_control.no_store = True
    return response
