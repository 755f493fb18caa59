"""Seating a phone: joining and resuming by token, close to the bare transport.

A join reads one light row of its contest (by PIN), checks the branch against a per-process
cache, inserts the seat without building an ORM object, commits and binds the socket; its
snapshot is the cached phase payload and a `me` made from what the join just wrote (a new
seat has no score and no answer). A join either acks a seat or leaves none behind: a socket
gone before its join runs gets no seat, and one gone while the join ran has its seat deleted
again, without an error. A join carrying the phone's `join_id` that is already seated (the ack
was lost on its way) gets that same seat back, so a retry never makes a second one.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

from flask import request, session
from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..contests import Mode, roster_seat
from ..extensions import db, socketio
from ..models import Contest, ContestUnit, Participant, Unit
from . import payloads
from .counters import mark_dirty
from .door import lang, refuse
from .engine import Phase
from .phase import phase_payload_of, stamped
from .rooms import PLAY, member_room, room
from .state import now, state

# Branch names may be renamed by an organisation import: a join sees a rename this late at most.
BRANCHES_TTL_SECONDS = 10.0

_PEOPLE = cast(Table, Participant.__table__)
_CONTESTS = cast(Table, Contest.__table__)
_JOIN_CONTEST = select(
    _CONTESTS.c.id, _CONTESTS.c.mode, _CONTESTS.c.phase, _CONTESTS.c.seq, _CONTESTS.c.roster_bound
).where(_CONTESTS.c.pin == bindparam("pin"))
_SEAT_COLUMNS = (
    _PEOPLE.c.id,
    _PEOPLE.c.contest_id,
    _PEOPLE.c.unit_id,
    _PEOPLE.c.name,
    _PEOPLE.c.seed,
    _PEOPLE.c.token,
    _PEOPLE.c.kicked,
)
_SEAT_BY_TOKEN = select(*_SEAT_COLUMNS).where(_PEOPLE.c.token == bindparam("token"))
_SEAT_BY_ID = select(*_SEAT_COLUMNS).where(_PEOPLE.c.id == bindparam("pid"))
_INSERT_SEAT = insert(_PEOPLE)
_SEAT_BY_JOIN_KEY = select(*_SEAT_COLUMNS).where(
    _PEOPLE.c.contest_id == bindparam("cid"), _PEOPLE.c.join_key == bindparam("key")
)


def _insert_keyed(dialect: str) -> Any:
    """A seat with a join id: nothing happens when that id is already seated in the contest."""
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert_for(_PEOPLE)
        .on_conflict_do_nothing(index_elements=["contest_id", "join_key"])
        .returning(_PEOPLE.c.id)
    )


_INSERT_KEYED = {name: _insert_keyed(name) for name in ("postgresql", "sqlite")}
_DELETE_SEAT = delete(_PEOPLE).where(_PEOPLE.c.id == bindparam("pid"))


@dataclass(frozen=True)
class Seat:
    id: int
    contest_id: int
    unit_id: int
    name: str
    seed: int
    token: str
    kicked: bool = False


def join_contest(pin: str) -> Any:
    """(id, mode, phase, seq, roster_bound) of the contest with this PIN, or None."""
    return db.session.execute(_JOIN_CONTEST, {"pin": pin}).first()


def branches_of(contest_id: int) -> dict[int, str]:
    """The contest's branches, id → name, read at most every `BRANCHES_TTL_SECONDS` per process."""
    cache = state().branches
    cached = cache.get(contest_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    rows = db.session.execute(
        select(Unit.id, Unit.name)
        .join(ContestUnit, ContestUnit.unit_id == Unit.id)
        .where(ContestUnit.contest_id == contest_id)
    )
    names = {row.id: row.name for row in rows}
    cache[contest_id] = (time.monotonic() + BRANCHES_TTL_SECONDS, names)
    return names


def join_refusal(contest: Any, branch_id: int) -> str | None:
    if contest.mode == Mode.CAMPAIGN:
        return "campaign_mode"
    if contest.mode == Mode.STAGE:
        return "stage_mode"
    if contest.phase == Phase.FINISHED:
        return "contest_over"
    return None if branch_id in branches_of(contest.id) else "no_such_branch"


def seat(
    contest: Any, branch_id: int, name: str, member_no: Any, join_id: str | None = None
) -> dict[str, Any]:
    """Seat a joiner (on their roster line, if the contest has a roster) and bind the socket."""
    if not _connected():
        return refuse("gone")  # nobody will read it: the socket closed before its join ran
    if join_id and contest.roster_bound:  # the roster would refuse the retry its own line
        again = _retake(contest, join_id, branch_id, name)
        if again is not None:
            return again
    address = request.remote_addr or ""
    entry_id = None
    if contest.roster_bound:
        full = db.session.get(Contest, contest.id)
        assert full is not None
        entry = roster_seat(db.session, full, branch_id, name, member_no, address, now())
        db.session.commit()  # the try counts towards the rate limit and the flags
        if isinstance(entry, str):
            return refuse(entry)
        if isinstance(entry, Participant):  # a released seat, re-claimed: same row, new token
            return _reclaimed(contest, entry)
        entry_id, name = entry.id, entry.name  # the seat carries the roster's form of the name
    new = Seat(0, contest.id, branch_id, name, secrets.randbelow(2**31), secrets.token_urlsafe(24))
    row = {
        "contest_id": new.contest_id,
        "unit_id": branch_id,
        "name": name,
        "token": new.token,
        "seed": new.seed,
        "roster_entry_id": entry_id,
        "join_address": address[:64],
        "join_key": join_id,
    }
    try:
        pid = _insert(row)
        db.session.commit()
    except IntegrityError:  # (contest, roster entry) is unique: one person, one join
        db.session.rollback()
        return refuse("already_joined")
    if pid is None:  # this join id is seated already: a retry whose ack was lost
        return _retake(contest, join_id, branch_id, name) or refuse("already_joined")  # type: ignore[arg-type]  # a keyed insert had a join id
    new = Seat(pid, new.contest_id, branch_id, name, new.seed, new.token)
    if not bind(new):
        db.session.execute(_DELETE_SEAT, {"pid": pid})  # gone while joining: no orphan seat
        db.session.commit()
        return refuse("gone")
    mark_dirty(contest.id, "joined")
    return {"ok": True, "token": new.token, "snapshot": snapshot(new, contest.seq, new=True)}


def _reclaimed(contest: Any, participant: Participant) -> dict[str, Any]:
    again = Seat(
        participant.id, participant.contest_id, participant.unit_id, participant.name,
        participant.seed, participant.token,
    )  # fmt: skip
    if not bind(again):
        return refuse("gone")  # the row keeps its new token; the phone's retry re-claims it
    mark_dirty(contest.id, "joined")
    return {"ok": True, "token": again.token, "snapshot": snapshot(again, contest.seq)}


def _insert(row: dict[str, Any]) -> int | None:
    """The new seat's id; None when its join id is already seated."""
    if row["join_key"] is None:
        return int(db.session.execute(_INSERT_SEAT, row).inserted_primary_key[0])  # type: ignore[attr-defined]  # an INSERT's result is a CursorResult
    keyed = _INSERT_KEYED[db.engine.dialect.name]
    return db.session.execute(keyed, row).scalar()


def _retake(contest: Any, join_id: str, branch_id: int, name: str) -> dict[str, Any] | None:
    """The seat this join id already holds, for the same name and branch; None if it has none."""
    values = {"cid": contest.id, "key": join_id}
    row = db.session.execute(_SEAT_BY_JOIN_KEY, values).first()
    if row is None:
        return None
    seat = Seat(*row)
    if seat.kicked:
        return refuse("kicked")
    if (seat.unit_id, seat.name) != (branch_id, name):
        return refuse("already_joined")
    if not bind(seat):
        return refuse("gone")
    return {"ok": True, "token": seat.token, "snapshot": snapshot(seat, contest.seq)}


def seat_by_token(token: str) -> Seat | None:
    row = db.session.execute(_SEAT_BY_TOKEN, {"token": token}).first()
    return Seat(*row) if row is not None else None


def seat_of_socket() -> Seat | None:
    pid = session.get("pid")
    row = db.session.execute(_SEAT_BY_ID, {"pid": pid}).first() if pid is not None else None
    return Seat(*row) if row is not None else None


def bind(seat: Seat) -> bool:
    """Put the socket in its contest's room and its member room; False when it is gone."""
    sid = request.sid  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid
    try:
        socketio.server.enter_room(sid, room(seat.contest_id, lang()), namespace=PLAY)
        socketio.server.enter_room(sid, member_room(seat.id), namespace=PLAY)
    except (KeyError, ValueError):  # disconnected meanwhile: python-socketio forgot the sid
        return False
    session["pid"], session["cid"], session["unit"] = seat.id, seat.contest_id, seat.unit_id
    session["token"] = seat.token  # a released seat's new token leaves this socket behind
    return True


def snapshot(seat: Seat, seq: int | None = None, *, new: bool = False) -> dict[str, Any]:
    """The cached phase payload and the member's own part."""
    payload = phase_payload_of(seat.contest_id, seq)
    branch = branches_of(seat.contest_id).get(seat.unit_id, "")
    return {**stamped(payload), "me": payloads.me(db.session, seat, branch, payload, new=new)}


def _connected() -> bool:
    return bool(socketio.server.manager.is_connected(request.sid, PLAY))  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid
