"""The stage namespace `/stage`: team devices (join by PIN, re-join by token, clock exchanges,
buzz, answer, pick a risk value) and the public big screen (watch by contest PIN).

A buzz carries the device's own tap time; `clock` converts it with the device's estimated
offset, so the order is the order of the taps (docs/stage.md)."""

from __future__ import annotations

from typing import Any

from flask import request, session
from sqlalchemy import select

from .. import i18n
from ..extensions import db, socketio
from ..live.door import LiveNamespace, lang, refuse, whole
from ..models import Contest, StageTeam
from ..questions import question_type
from .broadcast import STAGE, after_event, public_payload, public_room
from .clock import DeviceClock, Sample, convert
from .engine import Event, Kind, Step
from .state import now, state
from .store import Loaded, load, log_refused, record

PENDING_MAX = 8  # exchanges a device may have in flight


def _number(value: Any) -> float | None:
    """A finite time stamp in seconds (a device sends milliseconds since the epoch / 1000)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 < value < 1e11 else None


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid


class TeamNamespace(LiveNamespace):
    def on_connect(self, auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        session["lang"] = i18n.normalise(auth.get("lang"))
        token = auth.get("token")
        if isinstance(token, str) and 8 <= len(token) <= 64:
            team = db.session.scalar(select(StageTeam).where(StageTeam.token == token))
            if team is not None:
                self._bind(team)
                socketio.emit("joined", self._welcome(team), to=_sid(), namespace=STAGE)

    def on_disconnect(self, *_: Any) -> None:
        sid = _sid()
        state().clocks.pop(sid, None)
        state().pending.pop(sid, None)

    def on_join(self, data: dict[str, Any]) -> dict[str, Any]:
        pin, team_pin = data.get("pin"), data.get("team_pin")
        if not isinstance(pin, str) or not isinstance(team_pin, str) or len(team_pin) > 12:
            return refuse("bad_request")
        contest = db.session.scalar(select(Contest).where(Contest.pin == pin.strip()))
        if contest is None or contest.mode != "stage":
            return refuse("no_such_contest")
        team = db.session.scalar(
            select(StageTeam).where(
                StageTeam.contest_id == contest.id, StageTeam.pin == team_pin.strip()
            )
        )
        if team is None:
            return refuse("stage_no_such_team")
        self._bind(team)
        return {"ok": True, **self._welcome(team)}

    def on_watch(self, data: dict[str, Any]) -> dict[str, Any]:
        """The big screen: public, by contest PIN; it never receives an answer before the ruling."""
        pin = data.get("pin")
        contest = (
            db.session.scalar(select(Contest).where(Contest.pin == pin.strip()))
            if isinstance(pin, str)
            else None
        )
        loaded = load(db.session, contest.id) if contest else None
        if loaded is None:
            return refuse("no_such_contest")
        socketio.server.enter_room(_sid(), public_room(loaded.contest.id, lang()), namespace=STAGE)
        return {"ok": True, "board": public_payload(loaded, loaded.board)}

    def on_clock(self, data: dict[str, Any]) -> dict[str, Any]:
        """One NTP-style exchange; `last` completes the previous one with the device's t3."""
        t1 = now()
        t0, last = _number(data.get("t0")), data.get("last")
        if t0 is None:
            return refuse("bad_request")
        sid = _sid()
        pending = state().pending.setdefault(sid, {})
        if isinstance(last, dict):
            prev_t0, t3 = _number(last.get("t0")), _number(last.get("t3"))
            stamps = pending.pop(prev_t0, None) if prev_t0 is not None else None
            if stamps is not None and t3 is not None and prev_t0 is not None:
                clocks = state().clocks
                clocks[sid] = clocks.get(sid, DeviceClock()).add(Sample(prev_t0, *stamps, t3))
        while len(pending) >= PENDING_MAX:
            pending.pop(next(iter(pending)))
        t2 = now()
        pending[t0] = (t1, t2)
        return {"ok": True, "t0": t0, "t1": t1, "t2": t2}

    def on_buzz(self, data: dict[str, Any]) -> dict[str, Any]:
        arrived = now()
        team_id, tap = session.get("team"), _number(data.get("tap"))
        if team_id is None:
            return refuse("not_joined")
        if tap is None:
            return refuse("bad_request")
        clock = state().clocks.get(_sid(), DeviceClock())
        estimate = clock.estimate(arrived)
        buzz = convert(team_id, tap, estimate, arrived)
        note = {
            "tap": tap, "offset": buzz.offset, "uncertainty": buzz.uncertainty,
            "arrived": arrived, "clamped": buzz.clamped,
            "rtt": estimate.rtt if estimate else None, "synced": estimate is not None,
        }  # fmt: skip
        event = Event(Kind.BUZZ, buzz.at, team=team_id)
        done = record(db.session, session["cid"], event, actor=f"team:{team_id}", data=note)
        if isinstance(done, str):
            loaded = load(db.session, session["cid"])
            if loaded is not None:
                log_refused(db.session, loaded, event, f"team:{team_id}", {**note, "refused": done})
            return refuse(done)
        before, board = done
        after_event(before.contest.id, before, board)
        foul = team_id in board.locked
        return {"ok": True, "foul": foul, "uncertainty_ms": round(buzz.uncertainty * 1000, 1)}

    def on_answer(self, data: dict[str, Any]) -> dict[str, Any]:
        team_id, raw = session.get("team"), data.get("choice")
        if team_id is None:
            return refuse("not_joined")
        if not isinstance(raw, list | str):
            return refuse("bad_request")
        loaded = load(db.session, session["cid"])
        assert loaded is not None
        if loaded.board.step not in (Step.ANSWERING, Step.SPEED) or loaded.board.team != team_id:
            return refuse("stage_not_your_turn")
        question = loaded.question(db.session)
        if question is None:
            return refuse("stage_wrong_step")
        qtype = question_type(question.type)
        choice = qtype.parse_choice(raw, question.options)
        if choice is None:
            return refuse("no_such_option")
        correct = qtype.is_correct(question.answer, choice)
        event = Event(Kind.ANSWER, now(), team=team_id, correct=correct)
        done = record(
            db.session, loaded.contest.id, event, f"team:{team_id}", {"choice": ",".join(choice)}
        )
        if isinstance(done, str):
            return refuse(done)
        after_event(loaded.contest.id, done[0], done[1])
        return {"ok": True, "correct": correct}

    def on_pick(self, data: dict[str, Any]) -> dict[str, Any]:
        team_id, value = session.get("team"), whole(data.get("value"), 1, 1000)
        if team_id is None:
            return refuse("not_joined")
        if value is None:
            return refuse("bad_request")
        event = Event(Kind.PICK, now(), team=team_id, value=value)
        done = record(db.session, session["cid"], event, f"team:{team_id}")
        if isinstance(done, str):
            return refuse(done)
        after_event(session["cid"], done[0], done[1])
        return {"ok": True}

    def _bind(self, team: StageTeam) -> None:
        session["team"], session["cid"] = team.id, team.contest_id
        socketio.server.enter_room(_sid(), public_room(team.contest_id, lang()), namespace=STAGE)

    def _welcome(self, team: StageTeam) -> dict[str, Any]:
        loaded: Loaded | None = load(db.session, team.contest_id)
        assert loaded is not None
        me = {
            "id": team.id,
            "team_name": team.name,
            "desk": team.desk,
            "member_names": [m["name"] for m in team.members],
        }
        return {"token": team.token, "team": me, "board": public_payload(loaded, loaded.board)}


socketio.on_namespace(TeamNamespace(STAGE))
