"""The big screen for a live contest, and the join QR code it shows."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from ..auth import role_required
from ..extensions import db
from ..messages import strings_for
from ..models import Contest
from .player import join_url

bp = Blueprint("host", __name__, url_prefix="/host")


def _contest_or_404(contest_id: int) -> Contest:
    contest = db.session.get(Contest, contest_id)
    if contest is None:
        abort(404)
    return contest


@bp.route("/<int:contest_id>")
@role_required("organizer")
def screen(contest_id: int) -> str:
    contest = _contest_or_404(contest_id)
    return render_template(
        "host.html",
        contest=contest,
        join_url=join_url(contest.pin),
        strings=strings_for("host"),
    )


@bp.route("/<int:contest_id>/qr.svg")
def qr(contest_id: int) -> Response:
    """Public: the code only carries the public join URL, which the PIN already gives away."""
    contest = _contest_or_404(contest_id)
    buffer = io.BytesIO()
    # Error level M and a quiet zone of 2 modules read well off a projector at a distance.
    url = join_url(contest.pin)
    segno.make(url, error="m").save(
        buffer, kind="svg", border=2, dark="#000", light="#fff", omitsize=True, title=url
    )
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.cache_control.no_cache = True
    return response
