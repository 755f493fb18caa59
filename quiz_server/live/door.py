"""The base of the live namespaces: every event is checked at the door and always acked.

A payload that is not an object reaches the handler as `{}` (each handler then checks its
fields: types, sizes, ranges); an event no handler takes is refused with `bad_request` and one
rate-limited log line; an unexpected fault is rolled back and refused with `server_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_socketio import Namespace

from .. import i18n, transport
from ..extensions import db
from ..messages import REFUSALS

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def refuse(reason: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "reason": reason, "message": REFUSALS.get(reason, reason), **extra}


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
            except Exception:
                log.exception("%s %s failed", self.namespace, event)
                db.session.rollback()
                result = refuse("server_error")
            return i18n.convert(result, lang())

        return run

    def _unknown(self, event: str) -> Callable[..., Any]:
        """Any event no handler takes, malformed ones included: one log line and a refusal."""

        def run(*args: Any) -> Any:
            detail = f": {args[0]}" if event == transport.INVALID_EVENT and args else ""
            transport.bad_frames.note(f"{request.namespace} {event!r}{detail}")  # type: ignore[attr-defined]  # Flask-SocketIO sets request.namespace
            return i18n.convert(refuse("bad_request"), lang())

        return run
