"""The organizer's namespace `/host`: the big screen (watch, control) and the control page's
members (roster, kick). The organizer role is checked at connect and again before every event,
so a demoted user's open socket is refused with `forbidden`."""

from __future__ import annotations

from typing import Any

from flask import request, session
from flask_socketio import ConnectionRefusedError as Refused
from sqlalchemy import func, select

from .. import audit, i18n, links
from ..auth import has_role
from ..extensions import db, socketio
from ..messages import REFUSALS
from ..models import Answer, Contest, Participant
from .counters import joined_counts, mark_dirty, progress_counts
from .door import BUSY, LiveNamespace, fault_result, lang, refuse, whole
from .engine import Refusal
from .phase import phase_payload_of, stamped
from .rooms import HOST, PLAY, host_room, member_room
from .rounds import step

HOST_ACTION_NAMES = {
    "start": "开始", "next": "下一步", "extend": "延长作答", "end": "结束竞赛",
    "pause": "暂停", "resume": "继续", "skip": "跳过本题",
}  # fmt: skip
HOST_ACTIONS = tuple(HOST_ACTION_NAMES)


class HostNamespace(LiveNamespace):
    def on_connect(self, auth: Any = None) -> None:
        """Refused without the organizer role; on a database fault (the role needs the user's
        row), refused with the `busy` refusal as the error's data, so the page retries."""
        try:
            allowed = has_role("organizer")
        except Exception as error:
            raise Refused(REFUSALS[BUSY], fault_result(f"{HOST} connect", error)) from None
        if not allowed:
            raise ConnectionRefusedError("organizer login required")
        session["lang"] = i18n.normalise(request.cookies.get(i18n.COOKIE))

    def refusal(self) -> dict[str, Any] | None:
        return None if has_role("organizer") else refuse("forbidden")

    def on_watch(self, data: dict[str, Any]) -> dict[str, Any]:
        contest_id = whole(data.get("contest_id"), 1, 2**31)
        contest = db.session.get(Contest, contest_id) if contest_id else None
        if contest is None:
            return refuse("no_such_contest")
        socketio.server.enter_room(
            request.sid,  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid
            host_room(contest.id, lang()),
            namespace=HOST,
        )
        snap = {
            **stamped(phase_payload_of(contest.id)),
            "join_url": links.join_url(contest.pin),
            "joined": joined_counts(contest.id),
            "progress": progress_counts(contest.id),
        }
        return {"ok": True, "snapshot": snap}

    def on_control(self, data: dict[str, Any]) -> dict[str, Any]:
        contest_id = whole(data.get("contest_id"), 1, 2**31)
        action = data.get("action")
        seconds = whole(data.get("seconds", 10), 1, 300)
        if contest_id is None or action not in HOST_ACTIONS or seconds is None:
            return refuse("bad_request")
        reason = step(contest_id, action, seconds=seconds)
        if reason:
            return refuse(reason)
        detail = HOST_ACTION_NAMES[action] + (f" {seconds} 秒" if action == "extend" else "")
        audit.record("contest.start" if action == "start" else "contest.host",
                     contest_id=contest_id, detail=detail)  # fmt: skip
        db.session.commit()
        return {"ok": True}

    def on_kick(self, data: dict[str, Any]) -> dict[str, Any]:
        """Remove a member: the seat's token stops working, and their phone is told, wherever it is."""
        contest_id = whole(data.get("contest_id"), 1, 2**31)
        participant_id = whole(data.get("participant_id"), 1, 2**31)
        if contest_id is None or participant_id is None:
            return refuse("bad_request")
        participant = db.session.get(Participant, participant_id)
        if participant is None or participant.contest_id != contest_id:
            return refuse("no_such_participant")
        participant.kicked = True
        audit.record(
            "member.kick", contest_id=contest_id, detail=f"{participant.name}（{participant.id}）"
        )
        db.session.commit()
        ended = refuse(Refusal.KICKED)
        socketio.emit("session_ended", ended, to=member_room(participant.id), namespace=PLAY)
        mark_dirty(contest_id, "joined")
        return {"ok": True, "roster": roster(contest_id)}

    def on_roster(self, data: dict[str, Any]) -> dict[str, Any]:
        contest_id = whole(data.get("contest_id"), 1, 2**31)
        if contest_id is None or db.session.get(Contest, contest_id) is None:
            return refuse("no_such_contest")
        return {"ok": True, "roster": roster(contest_id)}


def roster(contest_id: int) -> dict[str, Any]:
    """Joined members per branch, with names and scores: for the organizer's control page only."""
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    scores = (
        select(Answer.participant_id, func.sum(Answer.points).label("score"))
        .where(Answer.contest_id == contest_id)
        .group_by(Answer.participant_id)
        .subquery()
    )
    who = (
        Participant.id,
        Participant.unit_id,
        Participant.name,
        Participant.kicked,
        Participant.released,
        Participant.roster_entry_id,
    )
    rows = db.session.execute(
        select(*who, scores.c.score)
        .outerjoin(scores, scores.c.participant_id == Participant.id)
        .where(Participant.contest_id == contest_id)
        .order_by(Participant.joined_at, Participant.id)
    ).all()
    members: dict[int, list[dict[str, Any]]] = {}
    for pid, unit_id, name, kicked, released, entry, score in rows:
        member = {
            "id": pid,
            "name": name,
            "kicked": kicked,
            "released": released,  # freed for its roster member to join again
            "releasable": entry is not None and not kicked and not released,
            "score": int(score or 0),
        }
        members.setdefault(unit_id, []).append(member)
    branches = [
        {"id": u.id, "name": u.name, "members": members.get(u.id, [])} for u in contest.units
    ]
    total = sum(not m["kicked"] for group in members.values() for m in group)
    return {"total": total, "branches": branches}


socketio.on_namespace(HostNamespace(HOST))
