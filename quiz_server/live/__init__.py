"""The live round: host-led contests on the big screen and phones, over Socket.IO.

`engine` decides (pure, injected clock); `play` and `host` are the two namespaces, each a
`door.LiveNamespace`; `answers`, `rounds`, `phase`, `counters` and `ranks` persist and
broadcast; `payloads` builds what each audience sees; `state` keeps the per-app caches.

Importing the package loads nothing else, so the pure engine can be imported by modules the
socket layer itself depends on (contests) without an import cycle; the names below load their
module on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from .counters import flush_counters
    from .resync import watch_delivery
    from .rounds import step, tick, watch_contests

_EXPORTS = {
    "flush_counters": "counters",
    "step": "rounds",
    "tick": "rounds",
    "watch_contests": "rounds",
    "watch_delivery": "resync",
}

__all__ = [
    "flush_counters", "init_app", "queue_manager", "step", "tick", "watch_contests",
    "watch_delivery",
]  # fmt: skip


def init_app(app: Flask) -> None:
    """Give `app` its own live state. Call before `socketio.init_app(app)`: the first call
    imports the namespaces, which register with `socketio` then, so every app gets them."""
    from . import host, play, state  # noqa: F401  (registering the namespaces)

    state.init_app(app)


def queue_manager(app: Flask, url: str | None, channel: str) -> Any:
    """The Socket.IO client manager for a Redis queue (resync after an outage), else None."""
    from .resync import manager_for

    return manager_for(app, url, channel)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
