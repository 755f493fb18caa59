"""Fair-play review pages. A campaign's: attempts with fast answers or a hidden page, devices
used for several members or several devices for one, join bursts, and over-registered
branches. A live round's: the seat flags (second devices refused a roster seat, join bursts,
repeated device ids), the same `fairplay` figures as the campaign page shows."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import fairplay
from ...auth import role_required
from ...campaign import attempts, rankings
from ...extensions import db
from ...models import Attempt, Contest, Participant
from ..lookup import contest_or_404, is_campaign
from .console import bp


@bp.route("/campaigns/<int:contest_id>/flags")
@role_required("organizer")
def flags(contest_id: int) -> str:
    contest = contest_or_404(contest_id)
    if not is_campaign(contest):
        abort(404)
    rules = attempts.rules_of(contest)
    flagged = db.session.scalars(
        select(Attempt)
        .where(
            Attempt.contest_id == contest.id,
            (Attempt.fast_count > 0) | (Attempt.hidden_count > 0) | (Attempt.closed_by == "hidden"),
        )
        .options(selectinload(Attempt.participant).selectinload(Participant.unit))
        .order_by(Attempt.started_at.desc())
        .limit(500)
    ).all()
    return render_template(
        "admin/campaign_flags.html",
        contest=contest,
        rules=rules,
        flagged=flagged,
        devices=attempts.attempts_by_device(db.session, contest),
        **_seat_flags(contest),
        over=[
            r
            for r in rankings.campaign_unit_rows(db.session, contest, "branch")
            if r["over_registered"]
        ],
    )


@bp.route("/contests/<int:contest_id>/fairplay")
@role_required("organizer")
def live_flags(contest_id: int) -> str:
    contest = contest_or_404(contest_id)
    if is_campaign(contest):
        abort(404)
    return render_template("admin/live_flags.html", contest=contest, **_seat_flags(contest))


def _seat_flags(contest: Contest) -> dict[str, object]:
    """What admin/_seat_flags.html shows, for either mode."""
    return {
        "second_devices": fairplay.second_devices(db.session, contest),
        "bursts": fairplay.bursts(db.session, contest),
        "burst_rule": (fairplay.BURST_SEATS, int(fairplay.BURST_WINDOW.total_seconds() // 60)),
        "join_devices": fairplay.repeated_devices(db.session, contest),
    }
