"""The organizer's live controls over /host: pause, resume, skip, kick, the roster, and the role
check on every host event (a member's or an anonymous socket can never drive a contest)."""

from __future__ import annotations

import pytest
from conftest import login, make_user
from sqlalchemy import select
from test_live import answer, control, live_app, phases, phone, right, t  # noqa: F401  (fixtures)
from test_scale_out import Phone, cluster  # noqa: F401  (fixture)

from quiz_server import live
from quiz_server.extensions import db, socketio
from quiz_server.models import Contest, Participant, User


@pytest.fixture
def host(live_app, t):  # noqa: F811
    http = live_app.test_client()
    login(http, t["user_id"])
    client = socketio.test_client(live_app, namespace="/host", flask_test_client=http)
    ack = client.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)
    assert ack["ok"]
    return client


def host_emit(host, event, **data):
    return host.emit(event, data, namespace="/host", callback=True)


def test_pause_refuses_answers_and_resume_keeps_the_time_that_was_left(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    clock.advance(5)
    assert control(host, t, "pause") == {"ok": True}
    paused = phases(a1)[-1]
    assert paused["paused"] is True and paused["phase"] == "question"
    refused = answer(a1, 0, right(t, 0))
    assert (refused["ok"], refused["reason"]) == (False, "paused") and refused["message"]
    clock.advance(100)
    with live_app.app_context():
        assert live.tick(t["contest_id"]) == 1.0  # the timer waits: no reveal while paused
    assert control(host, t, "resume") == {"ok": True}
    resumed = phases(a1)[-1]
    assert resumed["paused"] is False
    assert resumed["question"]["closes_at"] - resumed["server_now"] == 15_000  # 20 s less 5 used
    clock.advance(1)
    ack = answer(a1, 0, right(t, 0))
    assert ack["ok"] and ack["elapsed_ms"] == 6000  # the pause is not counted as answering time


def test_skip_closes_the_question_now(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    b1, _ = phone(live_app, t, "王五", 1)
    control(host, t, "start")
    clock.advance(3)
    assert control(host, t, "skip") == {"ok": True}
    assert answer(a1, 0, right(t, 0))["ok"]  # on its way when the host clicked: within the grace
    clock.advance(2)
    assert answer(b1, 0, right(t, 0))["reason"] == "too_late"
    with live_app.app_context():
        live.tick(t["contest_id"])
        assert db.session.get(Contest, t["contest_id"]).phase == "reveal"
    assert control(host, t, "skip")["reason"] == "wrong_phase"


def test_extend_while_paused_is_refused(live_app, t, host):  # noqa: F811
    control(host, t, "start")
    control(host, t, "pause")
    assert control(host, t, "extend", seconds=10)["reason"] == "wrong_phase"


def test_roster_lists_joined_members_per_branch(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    phone(live_app, t, "李四", 0)
    phone(live_app, t, "王五", 1)
    control(host, t, "start")
    clock.advance(2)
    answer(a1, 0, right(t, 0))
    ack = host_emit(host, "roster", contest_id=t["contest_id"])
    assert ack["ok"] and ack["roster"]["total"] == 3
    by_branch = {b["name"]: b["members"] for b in ack["roster"]["branches"]}
    assert [m["name"] for m in by_branch["第1党支部"]] == ["张三", "李四"]
    assert [m["name"] for m in by_branch["第2党支部"]] == ["王五"]
    assert by_branch["第1党支部"][0]["score"] > 0 and by_branch["第1党支部"][1]["score"] == 0


def test_kick_ends_the_session_and_the_token_cannot_take_the_seat_again(live_app, t, host, clock):  # noqa: F811
    a1, joined = phone(live_app, t, "张三", 0)
    b1, _ = phone(live_app, t, "王五", 1)
    with live_app.app_context():
        pid = db.session.scalar(select(Participant.id).where(Participant.name == "张三"))
    ack = host_emit(host, "kick", contest_id=t["contest_id"], participant_id=pid)
    assert ack["ok"] and ack["roster"]["total"] == 1
    ended = [e["args"][0] for e in a1.get_received("/play") if e["name"] == "session_ended"]
    assert [e["reason"] for e in ended] == ["kicked"]
    others = [e for e in b1.get_received("/play") if e["name"] == "session_ended"]
    assert not others  # only the kicked phone is told
    control(host, t, "start")
    assert answer(a1, 0, right(t, 0))["reason"] == "kicked"
    again = socketio.test_client(live_app, namespace="/play", auth={"token": joined["token"]})
    events = again.get_received("/play")
    assert [e["args"][0]["reason"] for e in events if e["name"] == "session_ended"] == ["kicked"]
    assert not [e for e in events if e["name"] == "snapshot"]
    assert again.emit("sync", {}, namespace="/play", callback=True)["reason"] == "not_joined"


def test_kick_refuses_a_member_of_another_contest(live_app, t, host):  # noqa: F811
    phone(live_app, t, "张三", 0)
    ack = host_emit(host, "kick", contest_id=t["contest_id"] + 1, participant_id=1)
    assert ack["reason"] == "no_such_participant"
    bad = host_emit(host, "kick", contest_id=t["contest_id"], participant_id="1")
    assert bad["reason"] == "bad_request"


# ---------------------------------------------------------------- roles on every host event


def host_events() -> list[str]:
    return socketio.server.namespace_handlers["/host"].events()


def test_the_host_namespace_has_the_events_the_control_page_needs(live_app):  # noqa: F811
    assert {"watch", "control", "kick", "roster"} <= set(host_events())


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary"])
def test_only_an_organizer_can_connect_to_host(live_app, t, who):  # noqa: F811
    http = live_app.test_client()
    if who == "secretary":
        with live_app.app_context():
            sec = make_user(db.session, "sec", "secretary")
            db.session.commit()
            login(http, sec.id)
    if who == "member":
        member, _ = phone(live_app, t, "张三", 0)
        for event in host_events():  # a member's socket: the /play namespace has no host events
            data = {"contest_id": t["contest_id"], "action": "end"}
            refused = member.emit(event, data, namespace="/play", callback=True)
            assert refused["reason"] == "bad_request"
    client = socketio.test_client(live_app, namespace="/host", flask_test_client=http)
    assert not client.is_connected("/host")
    with live_app.app_context():
        assert db.session.get(Contest, t["contest_id"]).phase == "lobby"


def test_every_host_event_checks_the_role_again(live_app, t, host):  # noqa: F811
    """Demoted after connecting: each event reloads the user and refuses."""
    phone(live_app, t, "张三", 0)
    with live_app.app_context():
        db.session.get(User, t["user_id"]).role = "secretary"
        db.session.commit()
    for event in host_events():
        ack = host_emit(host, event, contest_id=t["contest_id"], action="start", participant_id=1)
        assert ack["reason"] == "forbidden", event
    with live_app.app_context():
        assert db.session.get(Contest, t["contest_id"]).phase == "lobby"
        assert not db.session.get(Participant, 1).kicked


# ---------------------------------------------------------------- across processes


@pytest.mark.server
def test_kick_on_one_process_reaches_the_phone_on_the_other(cluster):  # noqa: F811
    """The phone is connected to process B; the organizer kicks from process A via Redis."""
    import threading

    import socketio as sio
    from servers import login_cookie

    a, b = cluster["bases"]
    host = sio.Client(reconnection=False)
    cookie = login_cookie(a, "host", "password123")
    host.connect(a, namespaces=["/host"], headers={"Cookie": cookie}, wait_timeout=10)
    phone_b = Phone(b)
    ended: list[dict] = []
    told = threading.Event()

    def on_ended(data: dict) -> None:
        ended.append(data)
        told.set()

    phone_b.client.on("session_ended", on_ended, namespace="/play")
    join = {"pin": cluster["pin"], "name": "甲", "branch_id": cluster["branches"][0]}
    assert phone_b.call("join", join)["ok"]
    roster = host.call("roster", {"contest_id": cluster["contest_id"]}, namespace="/host")["roster"]
    pid = roster["branches"][0]["members"][0]["id"]
    kick = {"contest_id": cluster["contest_id"], "participant_id": pid}
    assert host.call("kick", kick, namespace="/host")["ok"]
    assert told.wait(10), "the kicked phone on the other process was not told"
    assert ended[0]["reason"] == "kicked"
    for client in (host, phone_b.client):
        client.disconnect()


def test_a_host_socket_stops_at_its_next_event_once_the_account_logs_out(live_app, t, host):  # noqa: F811
    from test_admin import token

    assert control(host, t, "start") == {"ok": True}
    other_device = live_app.test_client()
    login(other_device, t["user_id"])
    assert other_device.post("/logout", data={"csrf_token": token(other_device)}).status_code == 302
    refused = control(host, t, "pause")
    assert (refused["ok"], refused["reason"]) == (False, "forbidden")
