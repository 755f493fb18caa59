"""The phones' namespace `/play`: join, resume by token, answer, sync, own standing.

This module translates events into engine calls, persists, and broadcasts; it never scores by
itself. The wire contract is docs/live-protocol.md. The rules of DESIGN.md's live layer hold
here: one broadcast per question, durable before ack, stored deadlines, token resume.
"""

from __future__ import annotations

from typing import Any

from flask import request, session

from .. import i18n, links
from ..contests import joiner_name
from ..extensions import socketio
from . import answers, seats
from .door import LiveNamespace, busy, fault_result, lang, refuse, whole
from .engine import Refusal
from .ranks import ranks_of
from .rooms import PLAY

RESUME_KEY = "resume_token"  # noqa: S105  (a session key, not a secret) a token whose resume met a fault: `sync` tries it again


class PlayNamespace(LiveNamespace):
    def on_connect(self, auth: Any = None) -> None:
        """Resume by token. Always answered: a snapshot, `session_ended`, or on a fault the
        event `retry` (`busy`, `retry: true`), after which the phone calls `sync`."""
        auth = auth if isinstance(auth, dict) else {}
        session["lang"] = i18n.normalise(auth.get("lang"))
        token = auth.get("token")
        if not isinstance(token, str) or not 8 <= len(token) <= 64:
            return
        try:
            reply = _resume(token)
        except Exception as error:
            fault_result(f"{PLAY} connect", error)  # logged and rolled back
            session[RESUME_KEY] = token
            reply = ("retry", busy())
        if reply is not None:
            _to_self(*reply)

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
        contest = seats.join_contest(pin.strip())
        if contest is None:
            return refuse("no_such_contest")
        refusal = seats.join_refusal(contest, branch_id)  # type: ignore[arg-type]  # checked above
        if refusal == "campaign_mode":
            return refuse(refusal, url=links.campaign(pin.strip()))
        if refusal:
            return refuse(refusal)
        join_id = data.get("join_id")
        if join_id is not None and not _join_id(join_id):
            return refuse("bad_request")
        return seats.seat(contest, branch_id, name, data.get("member_no"), join_id)  # type: ignore[arg-type]  # checked above

    def on_sync(self, _data: dict[str, Any]) -> dict[str, Any]:
        if session.get("pid") is None and session.get(RESUME_KEY):
            reply = _resume(session[RESUME_KEY])  # the resume the connect could not finish
            session.pop(RESUME_KEY, None)
            if reply is None or reply[0] != "snapshot":
                return reply[1] if reply else refuse("not_joined")
            return {"ok": True, "snapshot": reply[1]}
        seat = seats.seat_of_socket()
        if seat is None:
            return refuse("not_joined")
        if seat.kicked:
            return refuse(Refusal.KICKED)
        return {"ok": True, "snapshot": seats.snapshot(seat)}

    def on_answer(self, data: dict[str, Any]) -> dict[str, Any]:
        pid, cid = session.get("pid"), session.get("cid")
        position, raw = whole(data.get("position"), 0, 10_000), data.get("choice")
        if pid is None:
            return refuse("not_joined")
        if position is None or not isinstance(raw, list | str):
            return refuse("bad_request")
        return answers.answer(pid, cid, position, raw, session.get("token"))  # type: ignore[arg-type]  # joined: the socket's session holds ints

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


def _join_id(value: Any) -> bool:
    """A phone's join id: 16–64 URL-safe characters (it is as secret as a token)."""
    return (
        isinstance(value, str)
        and 16 <= len(value) <= 64
        and value.isascii()
        and (value.replace("-", "").replace("_", "").isalnum())
    )


def _resume(token: str) -> tuple[str, dict[str, Any]] | None:
    """(event, payload) for a phone that connects with `token`; None when its socket is gone."""
    seat = seats.seat_by_token(token)
    if seat is None or seat.kicked:
        return "session_ended", refuse("kicked" if seat else "unknown_token")
    if not seats.bind(seat):
        return None
    return "snapshot", seats.snapshot(seat)


def _to_self(event: str, payload: dict[str, Any]) -> None:
    """An event for this socket only, in its member's language."""
    payload = i18n.convert(payload, lang())
    socketio.emit(event, payload, to=request.sid, namespace=PLAY)  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid


socketio.on_namespace(PlayNamespace(PLAY))
