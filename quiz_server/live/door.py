"""The base of the live namespaces: every event is checked at the door and always acked.

A payload that is not an object reaches the handler as `{}` (each handler then checks its
fields: types, sizes, ranges); an event no handler takes is refused with `bad_request` and one
rate-limited log line; a passing database shortage (no free connection within the pool
timeout, the database unreachable) is refused with `busy` and `retry: true`, in a second or
two; any other unexpected fault is rolled back and refused with `server_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_socketio import Namespace
from sqlalchemy import exc

from .. import i18n, transport
from ..extensions import db
from ..messages import REFUSALS

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]

BUSY = "busy"


def refuse(reason: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "reason": reason, "message": REFUSALS.get(reason, reason), **extra}


def busy() -> dict[str, Any]:
    """Nothing was taken, for a passing reason: the phone tries again by itself, soon."""
    return refuse(BUSY, retry=True)


def is_shortage(error: BaseException) -> bool:
    """A fault that passes by itself: the pool had no free connection in time, or the
    database could not be reached (restart, network)."""
    return isinstance(error, exc.TimeoutError | exc.OperationalError | exc.InterfaceError) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    )


def background_fault(where: str, error: Exception) -> None:
    """A background loop's fault (a timer, a counter pulse, a watch), after which the loop goes
    on: a passing shortage is one warning line, anything else a logged traceback."""
    if is_shortage(error):
        log.warning("%s: %s; retrying", where, error.__class__.__name__)
    else:
        log.error("%s failed; retrying", where, exc_info=error)
    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone; the pool replaces it
        db.session.close()


def fault_result(where: str, error: Exception) -> dict[str, Any]:
    """The refusal for an unexpected `error` (logged), after rolling back what it left."""
    if is_shortage(error):
        log.warning("%s: %s", where, error.__class__.__name__)
    else:
        log.error("%s failed", where, exc_info=error)
    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone; the pool replaces it
        db.session.close()
    return busy() if is_shortage(error) else refuse("server_error")


def lang() -> str:
    """The language this socket reads, chosen at connect."""
    return str(session.get("lang", i18n.HANS))


def whole(value: Any, low: int, high: int) -> int | None:
    """`value` when it is an int in [low, high] (a bool is not), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


class LiveNamespace(Namespace):
    """Routes `<event>` to `on_<event>(data)`; connect and disconnect go through unchanged."""

    def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return super().trigger_event(event, *args)
        handler = getattr(self, f"on_{event}", None)
        run = self._guarded(event, handler) if handler else self._unknown(event)
        return self.socketio._handle_event(run, event, self.namespace, *args)

    def events(self) -> list[str]:
        """The events a client may send here (connect is the socket's own life cycle)."""
        return sorted(n[3:] for n in dir(self) if n.startswith("on_") and n != "on_connect")

    def refusal(self) -> dict[str, Any] | None:
        """Checked before every event handler: a refusal for this socket, or None."""
        return None

    def _guarded(self, event: str, handler: Handler) -> Callable[..., Any]:
        def run(data: Any = None) -> Any:
            try:
                result = self.refusal() or handler(data if isinstance(data, dict) else {})
            except Exception as error:
                result = fault_result(f"{self.namespace} {event}", error)
            return i18n.convert(result, lang())

        return run

    def _unknown(self, event: str) -> Callable[..., Any]:
        """Any event no handler takes, malformed ones included: one log line and a refusal."""

        def run(*args: Any) -> Any:
            detail = f": {args[0]}" if event == transport.INVALID_EVENT and args else ""
            transport.bad_frames.note(f"{request.namespace} {event!r}{detail}")  # type: ignore[attr-defined]  # Flask-SocketIO sets request.namespace
            return i18n.convert(refuse("bad_request"), lang())

        return run
