"""The big screen for a live contest, and the join QR code it shows."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from ..auth import role_required
from ..links import join_url
from ..messages import strings_for
from .lookup import contest_by_pin, contest_or_404

bp = Blueprint("host", __name__, url_prefix="/host")


@bp.route("/<int:contest_id>")
@role_required("organizer")
def screen(contest_id: int) -> str:
    contest = contest_or_404(contest_id)
    return render_template(
        "host.html",
        contest=contest,
        join_url=join_url(contest.pin),
        strings=strings_for("host"),
    )


@bp.route("/qr/<pin>.svg")
def qr(pin: str) -> Response:
    """Public, by PIN: the code carries only the join URL that the PIN already gives. Never by
    contest id, which counts up and would hand out every contest's PIN."""
    contest = contest_by_pin(pin)
    if contest is None:
        abort(404)
    buffer = io.BytesIO()
    # Error level M and a quiet zone of 2 modules read well off a projector at a distance.
    url = join_url(contest.pin)
    segno.make(url, error="m").save(
        buffer, kind="svg", border=2, dark="#000", light="#fff", omitsize=True, title=url
    )
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.cache_control.no_cache = True
    return response
