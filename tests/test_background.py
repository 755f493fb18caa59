"""Background loops of the live layer outlive a database fault: a pool timeout under a join
storm is one warning line and the loop goes on (the host's counters, the early close and the
contest's timer stop for nobody), never a traceback that ends the greenlet."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import exc

from quiz_server.live import counters, rounds
from quiz_server.live.state import state


class Stop(BaseException):
    """Ends a loop under test: not an Exception, so the loop's own guard lets it through."""


def shortage() -> exc.TimeoutError:
    return exc.TimeoutError("QueuePool limit of size 10 overflow 0 reached")


def test_the_host_counter_pulse_goes_on_after_a_pool_timeout(app, monkeypatch, caplog):
    calls: list[int] = []

    def flush() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise shortage()
        raise Stop

    monkeypatch.setattr(counters, "flush_counters", flush)
    monkeypatch.setattr(counters, "PULSE_SECONDS", 0.01)
    state(app).pulse_running = True
    with caplog.at_level(logging.WARNING), pytest.raises(Stop):
        counters._pulse_loop(app)
    assert len(calls) == 2  # the second pulse ran after the fault
    assert state(app).pulse_running is False
    (record,) = [r for r in caplog.records if "host counters" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None  # no traceback


@pytest.mark.parametrize("fault", [shortage(), RuntimeError("a bug")])
def test_a_contest_timer_looks_again_after_a_fault(app, monkeypatch, caplog, fault):
    calls: list[int] = []

    def tick(contest_id: int) -> float | None:
        calls.append(contest_id)
        if len(calls) == 1:
            raise fault
        return None  # the contest is over: the timer ends by itself

    monkeypatch.setattr(rounds, "tick", tick)
    monkeypatch.setattr(rounds.socketio, "sleep", lambda seconds: None)
    state(app).timers.add(7)
    with caplog.at_level(logging.WARNING):
        rounds._timer_loop(app, 7)
    assert calls == [7, 7] and 7 not in state(app).timers
    (record,) = [r for r in caplog.records if "timer of contest 7" in r.getMessage()]
    assert (record.exc_info is None) == isinstance(fault, exc.TimeoutError)
