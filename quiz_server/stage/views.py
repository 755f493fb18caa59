"""The stage contest's pages: the team device and the big screen (public, by contest PIN;
the device then joins with its team's PIN) and the referee console (organizer login)."""

from __future__ import annotations

import io
from pathlib import Path

import segno
import yaml
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import links
from ..auth import role_required
from ..config import resource_dir
from ..contests import ContestError
from ..extensions import db
from ..messages import strings_for
from ..models import Contest, StageTeam
from .setup import create_stage

bp = Blueprint("stage", __name__, url_prefix="/stage")
PROGRAMME_MAX = 64_000  # characters of YAML a console form takes


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


@bp.route("/new", methods=["GET", "POST"])
@role_required("organizer")
def new() -> str | Response:
    """Create a stage contest from a programme typed or pasted as YAML (JSON is YAML too)."""
    text = request.form.get("programme", "") if request.method == "POST" else _sample()
    error = None
    if request.method == "POST":
        contest, error = _create(text)
        if contest is not None:
            flash(f"已创建现场竞赛“{contest.title}”，竞赛码 {contest.pin}。", "ok")
            return redirect(url_for("stage.referee", contest_id=contest.id))
    return render_template("stage/new.html", programme=text, error=error)


def _create(text: str) -> tuple[Contest | None, str | None]:
    if len(text) > PROGRAMME_MAX:
        return None, f"节目单太长（上限 {PROGRAMME_MAX} 字）"
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return None, f"节目单无法解析：{err}"
    if not isinstance(values, dict):
        return None, "节目单必须是一个对象（title、bank、teams、rounds）"
    try:
        contest = create_stage(db.session, values)
        db.session.commit()
    except ContestError as err:
        db.session.rollback()
        return None, str(err)
    return contest, None


def _sample() -> str:
    path = Path(resource_dir("samples")) / "stage-programme.yaml"
    return path.read_text("utf-8") if path.exists() else ""


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
