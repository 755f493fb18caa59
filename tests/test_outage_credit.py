"""Time credit after an outage: the pure rule as a table, then the timer that applies it once,
on a socket-level live contest with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_live import answer, control, host, live_app, phone, right, t  # noqa: F401  (fixtures)

from quiz_server import live
from quiz_server.extensions import db
from quiz_server.live import engine
from quiz_server.live.engine import Phase, Round
from quiz_server.models import Contest

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def question(ends: float, paused: bool = False) -> Round:
    return Round(Phase.QUESTION, 0, 5, 1, at(ends), 3.0 if paused else None)


# A 20 s question opened at 0 (deadline 20); (round, heartbeat, now) → seconds given back.
CASES = [
    ("no outage: beats 2 s apart", question(20), at(8), at(10), 0),
    ("just under the threshold", question(20), at(8), at(12.9), 0),
    ("a 12 s outage mid-question", question(20), at(5), at(17), 12),
    ("the deadline passed during it", question(20), at(5), at(35), 30),
    ("fractions round up", question(20), at(5), at(15.2), 11),
    ("it began after the deadline", question(20), at(20.5), at(40), 0),
    ("a stale beat from before the question counts from its opening", question(20), at(-60), at(9), 9),
    ("paused: no clock ran", question(20, paused=True), at(5), at(30), 0),
    ("no beat yet", question(20), None, at(30), 0),
    ("not a question", Round(Phase.REVEAL, 0, 5, 2, at(28)), at(5), at(30), 0),
]  # fmt: skip


@pytest.mark.parametrize(("why", "rnd", "beat", "now", "owed"), CASES, ids=[c[0] for c in CASES])
def test_outage_credit_rule(why, rnd, beat, now, owed):
    assert engine.outage_credit(rnd, at(0), beat, now) == owed, why


def test_the_setting_is_on_by_default_and_can_be_turned_off():
    assert engine.Timing().outage_credit is True
    assert engine.Timing.from_settings({"timing": {"outage_credit": False}}).outage_credit is False


def test_the_timer_gives_the_lost_time_back_once_and_says_so(live_app, t, host, clock):  # noqa: F811
    member, _ = phone(live_app, t, "张三", 0)
    assert control(host, t, "start") == {"ok": True}
    cid = t["contest_id"]
    with live_app.app_context():
        assert live.tick(cid) == 1.0  # the first beat
        ends = db.session.get(Contest, cid).phase_ends_at
    clock.advance(1)
    with live_app.app_context():
        live.tick(cid)  # a beat 1 s later is not due: nothing written, nothing owed
        assert db.session.get(Contest, cid).phase_ends_at == ends
    member.get_received("/play")
    clock.advance(29)  # 30 s without a beat: the deadline (20 s) passed while nobody served
    with live_app.app_context():
        assert live.tick(cid) == 0.0  # extended, not revealed
        contest = db.session.get(Contest, cid)
        assert contest.phase == "question"
        assert contest.phase_ends_at == ends + timedelta(seconds=30)
        assert live.tick(cid) == 1.0  # the beat is fresh now: no second credit
        assert db.session.get(Contest, cid).phase_ends_at == ends + timedelta(seconds=30)
    events = {e["name"]: e["args"][0] for e in member.get_received("/play")}
    assert events["time_credit"] == {"position": 0, "seconds": 30}
    assert events["phase"]["question"]["closes_at"] > events["phase"]["question"]["opens_at"]
    assert answer(member, 0, right(t, 0))["ok"]  # the member still answers, 30 s late


def test_no_credit_when_the_contest_turns_it_off(live_app, t, host, clock):  # noqa: F811
    with live_app.app_context():
        contest = db.session.get(Contest, t["contest_id"])
        contest.settings = {**contest.settings, "timing": {"outage_credit": False}}
        db.session.commit()
    assert control(host, t, "start") == {"ok": True}
    with live_app.app_context():
        live.tick(t["contest_id"])
    clock.advance(40)
    with live_app.app_context():
        live.tick(t["contest_id"])
        assert db.session.get(Contest, t["contest_id"]).phase == "reveal"
