"""The room's payload of the current phase, built once per phase per process, and its broadcast."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, select

from ..extensions import db, socketio
from ..models import Contest
from ..wire import ms
from . import payloads
from .rooms import HOST, PLAY, emit_localised
from .state import now, state

_CURRENT_SEQ = select(Contest.__table__.c.seq).where(Contest.__table__.c.id == bindparam("cid"))


def current_seq(contest_id: int) -> int | None:
    """One indexed read: enough to tell whether a per-phase cache is still good."""
    return db.session.execute(_CURRENT_SEQ, {"cid": contest_id}).scalar()


def known_seq(contest_id: int) -> int | None:
    """The newest `seq` this process has seen for the contest, without a query: the phase it
    last built (its own steps broadcast through `phase_payload_of`, every snapshot too) or, with
    several processes, the last `phase` the message queue delivered to its rooms (which also
    carries this process's own broadcasts back). A phone asks after a phase reached it through
    this process, so this is never older than what the phone saw; None: nothing seen yet."""
    cached = state().phases.get(contest_id)
    seen = cached["seq"] if cached is not None else None
    delivered = getattr(socketio.server.manager, "delivered", {}).get(contest_id)
    if delivered is not None and (seen is None or delivered > seen):
        return int(delivered)
    return seen


def phase_payload_of(contest_id: int, seq: int | None = None) -> dict[str, Any]:
    """The room's payload for the contest's current phase, built once per phase per process;
    a reconnect storm costs one light query per phone, not a payload build each (none when
    the caller has just read `seq`)."""
    phases = state().phases
    if seq is None:
        seq = current_seq(contest_id)
    cached = phases.get(contest_id)
    if cached is not None and cached["seq"] == seq:
        return cached
    if wait_for_builder(("phase", contest_id, seq)):
        cached = phases.get(contest_id)
        if cached is not None and cached["seq"] == seq:
            return cached
    with building(("phase", contest_id, seq)):
        contest = db.session.get(Contest, contest_id)
        assert contest is not None
        cached = payloads.phase_payload(db.session, contest)
        phases[contest_id] = cached
    return cached


def wait_for_builder(key: tuple[Any, ...]) -> bool:
    """When another request of this process is already building `key`, wait for it (True)
    instead of building it again: a thousand phones asking at once cost one build. The
    waiter's connection goes back to the pool first (its objects stay usable: sessions do not
    expire on commit), so a reconnect storm never holds the pool while one request builds."""
    event = state().builders.get(key)
    if event is None:
        return False
    db.session.commit()
    event.wait(10)
    return True


@contextmanager
def building(key: tuple[Any, ...]) -> Iterator[None]:
    builders = state().builders
    event = builders.setdefault(key, socketio.server.eio.create_event())
    try:
        yield
    finally:
        event.set()
        builders.pop(key, None)


def stamped(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "server_now": ms(now())}


def broadcast(contest_id: int) -> None:
    """One emit per audience (phones in 简体, phones in 繁體, the host), whatever the number of phones."""
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    payload = stamped(phase_payload_of(contest.id))
    emit_localised("phase", payload, contest_id, PLAY)
    emit_localised("phase", payload, contest_id, HOST)
