"""Phones never stay behind the contest because the message queue dropped a broadcast.

With several processes, a phase change reaches the other processes' phones through Redis; while
Redis is away those broadcasts are lost (python-socketio logs and drops them). Two things bring
every process's own sockets back in step, each with a *local* emit (Redis is not trusted here):

- the message queue's listener reconnects (`QueueManager` below): every process sends `resync`
  (the room's current phase payload) to all its phones and host screens at once;
- a watch (`watch_delivery`) compares, once a second, the `seq` each contest has in the database
  with the last one this process's rooms were given; behind for longer than `PATIENCE` seconds
  (a queue that drops without a visible reconnect, a whole outage) → `resync` for that contest.

Phones apply `resync` like `phase`; one that sees a `seq` gap asks for its snapshot (`sync`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import socketio as sio
from flask import Flask

from .. import i18n
from ..extensions import db, socketio
from .door import background_fault
from .phase import current_seq, phase_payload_of, stamped
from .rooms import HOST, PLAY, host_room, room

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0
PATIENCE = 2.0  # a broadcast through Redis takes milliseconds; two seconds behind is a loss
RETRY_MAX = 2.0  # the library doubles its retry up to 60 s: phones would wait a minute
_ROOM = re.compile(r"^[ch](\d+)(?::hant)?$")


class QueueManager(sio.RedisManager):
    """The Redis message queue, with a bounded retry and a hook for when it is back, and a note
    of the last phase `seq` each contest's local rooms were given."""

    def __init__(self, url: str, channel: str, on_reconnect: Callable[[], None]) -> None:
        super().__init__(url, channel=channel)
        self.on_reconnect = on_reconnect
        self.delivered: dict[int, int] = {}

    def _redis_listen_with_retries(self) -> Iterator[Any]:  # pragma: no cover - needs Redis
        retry, subscribed, failed = 0.5, False, False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed, retry = True, 0.5
                    if failed:
                        failed = False
                        log.warning("message queue back: resyncing this process's sockets")
                        self.on_reconnect()
                yield from self.pubsub.listen()
            except Exception as err:  # noqa: BLE001  # any failure of the connection: retry
                log.error("message queue unreachable (%s); retrying in %g s", err, retry)  # noqa: TRY400  # one line, no traceback
                subscribed, failed = False, True
                time.sleep(retry)
                retry = min(retry * 2, RETRY_MAX)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        note_delivery(self.delivered, message)
        super()._handle_emit(message)


def note_delivery(delivered: dict[int, int], message: dict[str, Any]) -> None:
    """Remember the newest `phase` seq that reached a contest's phone room in this process."""
    if message.get("event") != "phase" or message.get("namespace") != PLAY:
        return
    match = _ROOM.match(str(message.get("room") or ""))
    data = message.get("data")
    payload = data[0] if isinstance(data, list) and data else data
    if match and isinstance(payload, dict) and isinstance(payload.get("seq"), int):
        cid = int(match.group(1))
        delivered[cid] = max(delivered.get(cid, 0), payload["seq"])


def behind_since(
    delivered: int | None, current: int | None, since: float | None, now: float
) -> float | None:
    """The pure rule of the watch: since when this process's rooms have been behind the stored
    `seq` (None: in step). A contest first seen counts as in step: its phones got snapshots."""
    if current is None or delivered is None or current <= delivered:
        return None
    return now if since is None else since


def manager_for(app: Flask, url: str | None, channel: str) -> QueueManager | None:
    """The client manager for `socketio.init_app` when the queue is Redis, else None (the
    library's own choice)."""
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return QueueManager(url, channel, on_reconnect=lambda: _resync_soon(app))


def _resync_soon(app: Flask) -> None:
    socketio.start_background_task(_resync_all, app)


def _resync_all(app: Flask) -> None:
    with app.app_context():
        for contest_id in local_contests():
            try:
                resync(contest_id)
            except Exception as error:
                background_fault(f"resync of contest {contest_id}", error)


def local_contests() -> set[int]:
    """The contests with a phone or a host screen connected to this process."""
    rooms = socketio.server.manager.rooms
    ids = set()
    for namespace in (PLAY, HOST):
        for name in list(rooms.get(namespace, {})):
            match = _ROOM.match(str(name or ""))
            if match:
                ids.add(int(match.group(1)))
    return ids


def resync(contest_id: int) -> None:
    """The current phase to this process's own phones and host screens, not through the queue."""
    payload = stamped(phase_payload_of(contest_id))
    for locale in i18n.LOCALES:
        localised = i18n.convert(payload, locale)
        for namespace, to in (
            (PLAY, room(contest_id, locale)),
            (HOST, host_room(contest_id, locale)),
        ):
            socketio.server.emit("resync", localised, to=to, namespace=namespace, ignore_queue=True)
    manager = socketio.server.manager
    if isinstance(manager, QueueManager):
        manager.delivered[contest_id] = max(manager.delivered.get(contest_id, 0), payload["seq"])


def watch_delivery(app: Flask) -> None:
    """Once a second: any contest whose local rooms are behind the database gets a `resync`."""
    if not isinstance(socketio.server.manager, QueueManager):
        return
    lag: dict[int, float] = {}

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    _check(lag)
                except Exception as error:
                    background_fault("delivery watch", error)
            socketio.sleep(WATCH_SECONDS)

    socketio.start_background_task(loop)


def _check(lag: dict[int, float]) -> None:
    manager: QueueManager = socketio.server.manager
    moment = time.monotonic()
    for contest_id in local_contests():
        current = current_seq(contest_id)
        delivered = manager.delivered.setdefault(contest_id, current or 0)
        since = behind_since(delivered, current, lag.get(contest_id), moment)
        if since is None:
            lag.pop(contest_id, None)
        elif moment - since >= PATIENCE:
            log.warning("contest %s: phones here missed seq %s; resyncing", contest_id, current)
            resync(contest_id)
            lag.pop(contest_id, None)
        else:
            lag[contest_id] = since
    db.session.rollback()  # end the read transaction; the next look sees new commits
