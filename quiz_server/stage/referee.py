"""The referee's namespace `/referee`: organizer only (checked at connect and before every
event). The console sees the current question's answer, the buzz order with its gaps, the
rulings log; every action it takes is an event in the contest's log, with who took it."""

from __future__ import annotations

from typing import Any

from flask import request, session
from flask_login import current_user

from .. import i18n
from ..auth import has_role
from ..extensions import db, socketio
from ..live.door import LiveNamespace, lang, refuse, whole
from .broadcast import REFEREE, after_event, referee_payload, referee_room, tick
from .engine import Event, Kind
from .state import now
from .store import load, record

# action → what it needs besides the contest: the team, a value, a verdict, a reason
ACTIONS: dict[str, tuple[str, ...]] = {
    "next": (), "open": (), "close": (), "start": (), "undo": (),
    "award": ("team",), "pick": ("team", "value"), "rule": ("correct",),
    "adjust": ("team", "value", "reason"),
}  # fmt: skip
REASON_MAX = 200


class RefereeNamespace(LiveNamespace):
    def on_connect(self, auth: Any = None) -> None:
        if not has_role("organizer"):
            raise ConnectionRefusedError("organizer login required")
        session["lang"] = i18n.normalise(request.cookies.get(i18n.COOKIE))

    def refusal(self) -> dict[str, Any] | None:
        return None if has_role("organizer") else refuse("forbidden")

    def on_watch(self, data: dict[str, Any]) -> dict[str, Any]:
        contest_id = whole(data.get("contest_id"), 1, 2**31)
        loaded = load(db.session, contest_id) if contest_id else None
        if loaded is None or contest_id is None:
            return refuse("no_such_contest")
        socketio.server.enter_room(request.sid, referee_room(contest_id, lang()), namespace=REFEREE)  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid
        tick(contest_id)  # a deadline passed while no timer ran (a restart): act on it now
        loaded = load(db.session, contest_id)
        assert loaded is not None
        return {"ok": True, "board": referee_payload(loaded, loaded.board)}

    def on_act(self, data: dict[str, Any]) -> dict[str, Any]:
        contest_id = whole(data.get("contest_id"), 1, 2**31)
        action = data.get("action")
        if contest_id is None or action not in ACTIONS:
            return refuse("bad_request")
        event = _event(action, data)
        if event is None:
            return refuse("bad_request")
        if load(db.session, contest_id) is None:
            return refuse("no_such_contest")
        actor = f"referee:{current_user.username}"
        done = record(db.session, contest_id, event, actor)
        if isinstance(done, str):
            return refuse(done)
        after_event(contest_id, done[0], done[1])
        return {"ok": True}


def _event(action: str, data: dict[str, Any]) -> Event | None:
    """The engine event for a referee action, or None when its fields are missing or wrong."""
    needs = ACTIONS[action]
    team = whole(data.get("team"), 1, 2**31) if "team" in needs else None
    value = whole(data.get("value"), -1000, 1000) if "value" in needs else None
    correct = data.get("correct") if "correct" in needs else None
    reason = data.get("reason", "") if "reason" in needs else ""
    if ("team" in needs and team is None) or ("value" in needs and value is None):
        return None
    if "correct" in needs and not isinstance(correct, bool):
        return None
    if not isinstance(reason, str) or len(reason) > REASON_MAX:
        return None
    return Event(
        Kind(action), now(), team=team, value=value, correct=correct, reason=reason.strip()
    )


socketio.on_namespace(RefereeNamespace(REFEREE))
