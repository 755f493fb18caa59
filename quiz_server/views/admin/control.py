"""Live control of a contest from the console: phase buttons, the clock, the joined roster.
The page talks to the `/host` socket namespace; this module only serves it."""

from __future__ import annotations

from flask import render_template

from ...auth import role_required
from ...messages import strings_for
from ..lookup import contest_or_404
from .console import bp


@bp.route("/contests/<int:contest_id>/control")
@role_required("organizer")
def control(contest_id: int) -> str:
    found = contest_or_404(contest_id)
    return render_template(
        "admin/control.html", contest=found, strings=strings_for("admin-control")
    )
