"""What the live layer keeps between events, per app: `app.extensions["quiz_live"]`.

Every cache here is keyed by database ids, and ids mean something only within one app's
database: two apps in one process (a test session, a CLI beside a server) each have their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from ..config import Settings

KEY = "quiz_live"


@dataclass
class LiveState:
    # (contest id, position) → what never changes about a drawn question (answers.Asked)
    asked: dict[tuple[int, int], Any] = field(default_factory=dict)
    # contest id → (monotonic expiry, its branches: id → name), for joins and snapshots
    branches: dict[int, tuple[float, dict[int, str]]] = field(default_factory=dict)
    # contest id → the room's phase payload, which carries its own `seq`
    phases: dict[int, dict[str, Any]] = field(default_factory=dict)
    # contest id → (seq, ranks of every member and branch)
    ranks: dict[int, tuple[int | None, dict[str, Any]]] = field(default_factory=dict)
    # what a request of this process is building right now → the event others wait on
    builders: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # contests whose timer runs in this process
    timers: set[int] = field(default_factory=set)
    # host counters changed since the last pulse, by kind ("joined", "progress")
    dirty: dict[str, set[int]] = field(default_factory=lambda: {"joined": set(), "progress": set()})
    pulse_running: bool = False
    # group commit of answers (batch.Batcher), made on first use
    answer_batcher: Any = None


def init_app(app: Flask) -> None:
    app.extensions[KEY] = LiveState()


def state(app: Flask | None = None) -> LiveState:
    return (app or current_app).extensions[KEY]


def settings() -> Settings:
    return current_app.config["QUIZ"]


def now() -> datetime:
    return settings().clock()
