"""The live round: host-led contests on the big screen and phones, over Socket.IO.

Importing the package loads nothing else: `live.engine` (the pure state machine) can be
imported by modules the socket layer itself depends on, without an import cycle. The names
below load their module on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .play import flush_counters, step, tick, watch_contests

_EXPORTS = {
    "flush_counters": "play",
    "step": "play",
    "tick": "play",
    "watch_contests": "play",
}

__all__ = ["flush_counters", "step", "tick", "watch_contests"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
