"""Live control of a contest from the console: phase buttons, the clock, the joined roster.
The page talks to the `/host` socket namespace; this module serves it, and releases a roster
seat whose member lost their phone or token (a POST with the page's CSRF token)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template

from ... import audit
from ...auth import role_required
from ...contests import release_seat
from ...extensions import db, socketio
from ...live.counters import mark_dirty
from ...live.door import refuse
from ...live.host import roster
from ...live.rooms import PLAY, member_room
from ...messages import strings_for
from ...models import Participant
from ..lookup import contest_or_404
from .console import bp


@bp.route("/contests/<int:contest_id>/control")
@role_required("organizer")
def control(contest_id: int) -> str:
    found = contest_or_404(contest_id)
    return render_template(
        "admin/control.html", contest=found, strings=strings_for("admin-control")
    )


@bp.route("/contests/<int:contest_id>/seats/<int:participant_id>/release", methods=["POST"])
@role_required("organizer")
def release(contest_id: int, participant_id: int) -> Any:
    """Free a roster member's seat: the old token stops working and the old phone is told; the
    member joins again with their roster name and number and gets the same seat back."""
    contest = contest_or_404(contest_id)
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.contest_id != contest.id:
        return jsonify(refuse("no_such_participant")), 404
    if not release_seat(participant):
        return jsonify(refuse("not_releasable")), 400
    audit.record("member.release", contest=contest, detail=participant.name)
    db.session.commit()
    socketio.emit(
        "session_ended", refuse("seat_released"), to=member_room(participant.id), namespace=PLAY
    )
    mark_dirty(contest.id, "joined")
    return jsonify(ok=True, roster=roster(contest.id))
