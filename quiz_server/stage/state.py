"""What the stage layer keeps between events, per app and per process: each team device's
clock exchanges (a socket lives in one process) and the timers running here."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from .clock import DeviceClock

KEY = "quiz_stage"


@dataclass
class StageState:
    clocks: dict[str, DeviceClock] = field(default_factory=dict)  # sid → exchanges
    pending: dict[str, dict[float, tuple[float, float]]] = field(
        default_factory=dict
    )  # sid → t0 → (t1, t2)
    timers: set[tuple[int, str]] = field(default_factory=set)  # (contest id, what it waits for)


def init_app(app: Flask) -> None:
    app.extensions[KEY] = StageState()


def state(app: Flask | None = None) -> StageState:
    return (app or current_app).extensions[KEY]


def now() -> float:
    """The server clock (the app's injected clock) as seconds since the epoch."""
    return float(current_app.config["QUIZ"].clock().timestamp())
