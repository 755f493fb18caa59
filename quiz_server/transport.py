"""The Socket.IO transport's defences against hostile clients, below the event handlers.

Engine.IO and simple-websocket serve phones well but trust the client more than a public contest
can: no origin check with `cors_allowed_origins=[]`, compressed frames expanded without a bound,
a closed WebSocket whose TCP connection stays open, a traceback in the log for every malformed
frame. Each defence here is one small, named piece; `init_app` installs them all, with one
saving below the handlers (`EventSessions`: no cookie session opened per event).
"""

from __future__ import annotations

import io
import logging
import math
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_socketio import SocketIO
from socketio.packet import BINARY_EVENT, EVENT, Packet

log = logging.getLogger(__name__)

# The largest legitimate event is a join (PIN, a 20-character name, a 32-character member number:
# under 300 bytes); a long-polling POST may carry a few queued events at once. 16 KB is ample.
MAX_EVENT_BYTES = 16 * 1024

# Events a client may never send: they name the server's own connection life cycle.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error", "*"})
INVALID_EVENT = "invalid event"


class BadFrameLog:
    """One warning line per malformed frame or event, at most `limit` lines a minute per
    process; what is left out is counted and the count logged when the minute is over."""

    def __init__(
        self, limit: int = 20, period: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.period, self.clock = limit, period, clock
        self.started, self.written, self.suppressed = -math.inf, 0, 0

    def note(self, what: str) -> None:
        moment = self.clock()
        if moment - self.started >= self.period:
            if self.suppressed:
                log.warning("%d more refusals of client input not logged", self.suppressed)
            self.started, self.written, self.suppressed = moment, 0, 0
        if self.written < self.limit:
            self.written += 1
            log.warning("refused from a client: %s", what[:200])
        else:
            self.suppressed += 1


bad_frames = BadFrameLog()


def _one_line(record: logging.LogRecord) -> bool:
    """Engine.IO and Socket.IO log a client's garbage as an error with a traceback: keep one
    rate-limited line of it instead."""
    if record.levelno < logging.WARNING:
        return True
    reason = f": {record.exc_info[1]!r}" if record.exc_info else ""
    bad_frames.note(f"{record.getMessage()}{reason}")
    return False


class CheckedPacket(Packet):
    """Socket.IO packets as the server reads them. Every event a phone or screen sends is
    `[name, {payload}]`; anything else (not JSON, no name, a reserved name such as `connect`,
    zero or several arguments) becomes the event `INVALID_EVENT`, which no handler takes, so the
    catch-all refuses it with `bad_request` and an ack id still gets its ack."""

    def decode(self, encoded_packet: Any) -> int:
        if not isinstance(encoded_packet, str) or encoded_packet[:1] not in (
            str(EVENT),
            str(BINARY_EVENT),
        ):
            return super().decode(encoded_packet)
        try:
            attachments = super().decode(encoded_packet) or 0
        except (ValueError, TypeError) as err:
            self.data = [INVALID_EVENT, f"{err}: {encoded_packet[:80]!r}"]
            return 0
        if not _well_formed(self.data):
            self.data = [INVALID_EVENT, repr(self.data)[:80]]
        return attachments


def _well_formed(data: Any) -> bool:
    return (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[0], str)
        and data[0] not in RESERVED_EVENTS
        and isinstance(data[1], dict)
    )


def allowed_origins(public_url: str | None) -> Callable[[str, dict[str, Any]], bool]:
    """The origin check for Engine.IO: the page must come from this server (the host the request
    names, as seen directly or through the proxy's X-Forwarded-* headers) or from QUIZ_PUBLIC_URL.
    Browsers always send Origin with a WebSocket, so a page elsewhere cannot ride a member's or
    organizer's cookie into /play or /host."""
    public = _origin(public_url) if public_url else None

    def allowed(origin: str, environ: dict[str, Any]) -> bool:
        return origin == public or origin in _own_origins(environ)

    return allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _own_origins(environ: dict[str, Any]) -> Iterable[str]:
    scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
    forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
    forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
    return {f"{scheme}://{host}", f"{forwarded_scheme}://{forwarded_host}"}


class BoundedWebSocket(SimpleWebSocketWSGI):
    """simple-websocket as Engine.IO drives it, with three limits it lacks by default:
    - no permessage-deflate: simple-websocket inflates a compressed frame before any size check
      (0.5 MB on the wire became ~1 GB in memory), so the offer is dropped before the handshake;
    - a message size limit checked as frames arrive, not after a whole message is buffered;
    - closing ends the TCP connection too: otherwise a socket the server gave up on (no pong
      within the ping timeout) keeps its connection and greenlet until the client speaks."""

    def __init__(self, handler: Any, server: Any, **kwargs: Any) -> None:
        super().__init__(handler, server, **kwargs)
        self.server_args["max_message_size"] = server.max_http_buffer_size

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return super().__call__(environ, start_response)

    def close(self) -> None:
        try:
            super().close()
            self.ws.sock.shutdown(socket.SHUT_RDWR)  # the peer sees EOF at once
        except OSError:
            pass  # the client has closed it already
        self.ws.event.set()  # wake the handler waiting in receive()

    def wait(self) -> Any:
        """The next message that can be an Engine.IO packet; other text is noted and dropped."""
        while True:
            data = super().wait()
            if not isinstance(data, str) or (data and data[0] in "0123456"):
                return data
            bad_frames.note(f"not an Engine.IO packet: {data[:80]!r}")


def _bounded(websocket: Any) -> Any:
    """This async driver's WebSocket class with the limits, when it is simple-websocket's."""
    if isinstance(websocket, type) and issubclass(websocket, SimpleWebSocketWSGI):
        return type("BoundedWebSocket", (BoundedWebSocket, websocket), {})
    return websocket


class PollingGuard:
    """WSGI middleware in front of Engine.IO for long-polling POSTs: one over the size limit is
    refused at once with 413, one whose packets a client may not send (not UTF-8, or a type other
    than close, pong, message, upgrade) with 400. Engine.IO refuses both too, but by disconnecting
    the session and waiting for its queue to drain: the client hung ping_interval + ping_timeout."""

    CLIENT_PACKETS = frozenset("1345b")  # b: a base64 binary message

    def __init__(self, app: Callable[..., Any], path: str = "/socket.io/") -> None:
        self.app, self.path = app, path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "POST" or not environ.get("PATH_INFO", "").startswith(
            self.path
        ):
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_EVENT_BYTES:
            bad_frames.note(f"polling POST of {length} bytes")
            return _refuse(
                start_response, "413 Payload Too Large", f"at most {MAX_EVENT_BYTES} bytes"
            )
        body = environ["wsgi.input"].read(int(length))
        try:
            packets = body.decode().split("\x1e") if body else []
        except UnicodeDecodeError:
            packets = ["not UTF-8"]
        bad = [p for p in packets if p[:1] not in self.CLIENT_PACKETS]
        if bad:
            bad_frames.note(f"polling POST with packet {bad[0][:80]!r}")
            return _refuse(start_response, "400 Bad Request", "not an Engine.IO client packet")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _refuse(start_response: Any, status: str, why: str) -> list[bytes]:
    body = why.encode()
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def server_options(public_url: str | None) -> dict[str, Any]:
    """The Socket.IO options that carry these defences, for `socketio.init_app`."""
    return {
        "cors_allowed_origins": allowed_origins(public_url),
        "max_http_buffer_size": MAX_EVENT_BYTES,
        "serializer": CheckedPacket,
    }


class EventSessions(SecureCookieSessionInterface):
    """Flask opens the cookie session for every request context, and Flask-SocketIO pushes one
    per socket event, then replaces that session with its own copy made at the socket's first
    event (`saved_session` in the socket's environ). Opening it again (a signing serializer,
    the cookie's HMAC and JSON) was thrown away on every answer; pages are unchanged."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "saved_session" in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask, socketio: SocketIO) -> None:
    """Install what `init_app`'s options cannot carry (call right after `socketio.init_app`)."""
    app.session_interface = EventSessions()
    eio = socketio.server.eio
    eio._async = {**eio._async, "websocket": _bounded(eio._async["websocket"])}
    app.wsgi_app = PollingGuard(app.wsgi_app)  # type: ignore[method-assign]  # the documented way to add WSGI middleware
    for name in ("engineio.server", "socketio.server"):
        logger = logging.getLogger(name)
        if _one_line not in logger.filters:
            logger.addFilter(_one_line)
