"""The phones' namespace `/play`: join, resume by token, answer, sync, own standing.

This module translates events into engine calls, persists, and broadcasts; it never scores by
itself. The wire contract is docs/live-protocol.md. The rules of DESIGN.md's live layer hold
here: one broadcast per question, durable before ack, stored deadlines, token resume.
"""

from __future__ import annotations

from typing import Any

from flask import request, session
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import i18n, links
from ..contests import is_campaign, joiner_name, new_participant, roster_seat
from ..extensions import db, socketio
from ..models import Contest, Participant
from . import answers, payloads
from .counters import mark_dirty
from .door import LiveNamespace, lang, refuse, whole
from .engine import Phase, Refusal
from .phase import phase_payload_of, stamped
from .ranks import ranks_of
from .rooms import PLAY, member_room, room
from .state import now


class PlayNamespace(LiveNamespace):
    def on_connect(self, auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        session["lang"] = i18n.normalise(auth.get("lang"))
        token = auth.get("token")
        if not isinstance(token, str) or not 8 <= len(token) <= 64:
            return
        participant = db.session.scalar(select(Participant).where(Participant.token == token))
        if participant is None or participant.kicked:
            reason = "kicked" if participant else "unknown_token"
            _to_self("session_ended", refuse(reason))
            return
        _bind(participant)
        _to_self("snapshot", snapshot(participant))

    def on_join(self, data: dict[str, Any]) -> dict[str, Any]:
        pin, name, branch_id = data.get("pin"), data.get("name"), data.get("branch_id")
        if (
            not isinstance(pin, str)
            or not isinstance(name, str)
            or whole(branch_id, 1, 2**31) is None
        ):
            return refuse("bad_request")
        name, bad_name = joiner_name(name)
        if bad_name:
            return refuse(bad_name)
        contest = db.session.scalar(select(Contest).where(Contest.pin == pin.strip()))
        if contest is None:
            return refuse("no_such_contest")
        if is_campaign(contest):
            return refuse("campaign_mode", url=links.campaign(contest.pin))
        if contest.phase == Phase.FINISHED:
            return refuse("contest_over")
        if branch_id not in {u.id for u in contest.units}:
            return refuse("no_such_branch")
        return _seat(contest, branch_id, name, data.get("member_no"))

    def on_sync(self, _data: dict[str, Any]) -> dict[str, Any]:
        participant = _participant()
        if participant is None:
            return refuse("not_joined")
        if participant.kicked:
            return refuse(Refusal.KICKED)
        return {"ok": True, "snapshot": snapshot(participant)}

    def on_answer(self, data: dict[str, Any]) -> dict[str, Any]:
        pid, cid = session.get("pid"), session.get("cid")
        position, raw = whole(data.get("position"), 0, 10_000), data.get("choice")
        if pid is None:
            return refuse("not_joined")
        if position is None or not isinstance(raw, list | str):
            return refuse("bad_request")
        return answers.answer(pid, cid, position, raw)  # type: ignore[arg-type]  # joined: the socket's session holds ints

    def on_standing(self, _data: dict[str, Any]) -> dict[str, Any]:
        pid, cid = session.get("pid"), session.get("cid")
        if pid is None:
            return refuse("not_joined")
        table = ranks_of(cid)  # type: ignore[arg-type]  # joined: the socket's session holds ints
        me = table["members"].get(pid)
        branch = table["branches"].get(session.get("unit"))
        if me is None or branch is None:
            return refuse("kicked")
        return {"ok": True, **me, "of": table["of"], "branch": {**branch, "of": table["branch_of"]}}


def _seat(contest: Contest, branch_id: int, name: str, member_no: Any) -> dict[str, Any]:
    """Seat a joiner (on their roster line, if the contest has a roster) and bind the socket."""
    address = request.remote_addr or ""
    entry = None
    if contest.roster_bound:
        seat = roster_seat(db.session, contest, branch_id, name, member_no, address, now())
        if isinstance(seat, str):
            db.session.commit()  # the try counts towards the rate limit and the flags
            return refuse(seat)
        db.session.commit()
        if isinstance(seat, Participant):  # a released seat, re-claimed: same row, new token
            return _seated(seat)
        entry = seat
    participant = new_participant(db.session, contest, branch_id, name, entry, address)
    try:
        db.session.commit()
    except IntegrityError:  # (contest, roster entry) is unique: one person, one join
        db.session.rollback()
        return refuse("already_joined")
    return _seated(participant)


def _seated(participant: Participant) -> dict[str, Any]:
    _bind(participant)
    mark_dirty(participant.contest_id, "joined")
    return {"ok": True, "token": participant.token, "snapshot": snapshot(participant)}


def _to_self(event: str, payload: dict[str, Any]) -> None:
    """An event for this socket only, in its member's language."""
    payload = i18n.convert(payload, lang())
    socketio.emit(event, payload, to=request.sid, namespace=PLAY)  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid


def _bind(participant: Participant) -> None:
    session["pid"] = participant.id
    session["cid"] = participant.contest_id
    session["unit"] = participant.unit_id
    sid = request.sid  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid
    socketio.server.enter_room(sid, room(participant.contest_id, lang()), namespace=PLAY)
    socketio.server.enter_room(sid, member_room(participant.id), namespace=PLAY)


def snapshot(participant: Participant) -> dict[str, Any]:
    payload = phase_payload_of(participant.contest_id)
    me = payloads.me(db.session, participant, payload)
    return {**stamped(payload), "me": me}


def _participant() -> Participant | None:
    pid = session.get("pid")
    return db.session.get(Participant, pid) if pid is not None else None


socketio.on_namespace(PlayNamespace(PLAY))
