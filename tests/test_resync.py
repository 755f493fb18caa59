"""Resync after the message queue comes back: the rule of the delivery watch, the note it
keeps of what reached the rooms, and the local `resync` emit phones and host screens get.
The Redis outage itself, with real processes: tests/test_faults.py."""

from __future__ import annotations

import pytest
from test_live import control, host, live_app, phone, t  # noqa: F401  (fixtures)

from quiz_server.live import resync

CASES = [
    ("in step", 5, 5, None, 10.0, None),
    ("first seen: no baseline", None, 7, None, 10.0, None),
    ("behind: the clock starts", 5, 6, None, 10.0, 10.0),
    ("still behind: since then", 5, 7, 9.0, 10.0, 9.0),
    ("caught up", 7, 7, 9.0, 10.0, None),
    ("no contest", 5, None, 9.0, 10.0, None),
]


@pytest.mark.parametrize(("why", "delivered", "current", "since", "now", "expect"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_behind_since(why, delivered, current, since, now, expect):
    assert resync.behind_since(delivered, current, since, now) == expect, why


def test_the_manager_notes_the_newest_phase_each_contest_room_got():
    delivered: dict[int, int] = {}
    phase = {"event": "phase", "namespace": "/play", "room": "c12", "data": [{"seq": 4}]}
    resync.note_delivery(delivered, phase)
    resync.note_delivery(delivered, {**phase, "room": "c12:hant", "data": [{"seq": 3}]})
    resync.note_delivery(delivered, {**phase, "event": "joined", "data": [{"seq": 9}]})
    resync.note_delivery(delivered, {**phase, "namespace": "/host", "data": [{"seq": 9}]})
    resync.note_delivery(delivered, {**phase, "room": "p3", "data": [{"seq": 9}]})
    assert delivered == {12: 4}


def test_resync_sends_the_current_phase_to_this_process_phones_and_host(live_app, t, host):  # noqa: F811
    member, _ = phone(live_app, t, "张三", 0)
    assert control(host, t, "start") == {"ok": True}
    member.get_received("/play")
    host.get_received("/host")
    with live_app.app_context():
        assert resync.local_contests() == {t["contest_id"]}
        resync.resync(t["contest_id"])
    got = [e for e in member.get_received("/play") if e["name"] == "resync"]
    assert len(got) == 1
    payload = got[0]["args"][0]
    assert payload["phase"] == "question" and payload["position"] == 0
    assert "answer" not in str(payload["question"])  # the same room payload as `phase`
    assert [e["name"] for e in host.get_received("/host")].count("resync") == 1
