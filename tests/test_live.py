"""Live contests over Socket.IO, through Flask-SocketIO's test client."""

from __future__ import annotations

import json
import re

import pytest
from conftest import login, make_bank, make_branches, make_user
from sqlalchemy import select

from quiz_server import create_app, live
from quiz_server.contests import create_contest
from quiz_server.draw import DrawRule
from quiz_server.extensions import db, socketio
from quiz_server.models import Answer, Contest

ORDER = ["single", "single", "single", "multiple", "judge"]


@pytest.fixture
def live_app(live_settings):
    app = create_app(live_settings)
    with app.app_context():
        version = make_bank(db.session)
        branches = make_branches(db.session)
        contest = create_contest(
            db.session, title="测试竞赛", bank_version=version, rule=5, branches=branches,
            settings={"timing": {"question_seconds": 20, "auto_advance": False}}, seed=7,
        )  # fmt: skip
        user = make_user(db.session)
        db.session.commit()
        app.config["T"] = {
            "contest_id": contest.id, "pin": contest.pin, "user_id": user.id,
            "branches": [b.id for b in branches],
            "types": [cq.question.type for cq in contest.questions],
        }  # fmt: skip
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def t(live_app):
    return live_app.config["T"]


@pytest.fixture
def host(live_app, t):
    http = live_app.test_client()
    login(http, t["user_id"])
    client = socketio.test_client(live_app, namespace="/host", flask_test_client=http)
    assert client.is_connected("/host")
    ack = client.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)
    assert ack["ok"], ack
    return client


def phone(app, t, name, branch_index):
    client = socketio.test_client(app, namespace="/play")
    ack = client.emit(
        "join", {"pin": t["pin"], "name": name, "branch_id": t["branches"][branch_index]},
        namespace="/play", callback=True,
    )  # fmt: skip
    assert ack["ok"], ack
    return client, ack


def control(host, t, action, **extra):
    return host.emit(
        "control",
        {"contest_id": t["contest_id"], "action": action, **extra},
        namespace="/host",
        callback=True,
    )


def answer(client, position, choice):
    return client.emit(
        "answer", {"position": position, "choice": choice}, namespace="/play", callback=True
    )


def phases(client):
    return [e["args"][0] for e in client.get_received("/play") if e["name"] == "phase"]


def correct_choice(qtype):
    return {"single": ["B"], "multiple": ["A", "C"], "judge": ["T"]}[qtype]


def right(t, position):
    return correct_choice(t["types"][position])


def wrong(t, position):
    return {"single": ["C"], "multiple": ["A"], "judge": ["F"]}[t["types"][position]]


def test_full_contest_two_branches(live_app, t, host, clock):
    (a1, join_a1), (a2, _), (b1, _) = (
        phone(live_app, t, "张三", 0),
        phone(live_app, t, "李四", 0),
        phone(live_app, t, "王五", 1),
    )
    _, join_idle = phone(live_app, t, "赵六", 1)  # joins, never answers
    assert join_a1["snapshot"]["phase"] == "lobby" and join_a1["token"]
    assert (
        join_a1["snapshot"]["me"]["seed"] != join_idle["snapshot"]["me"]["seed"]
    )  # per-member order
    assert control(host, t, "start") == {"ok": True}

    for position, qtype in enumerate(t["types"]):
        question = phases(a1)[-1]
        assert (question["phase"], question["position"]) == ("question", position)
        clock.advance(2)
        ack = answer(a1, position, correct_choice(qtype))
        assert ack["ok"] and ack["points_if_correct"] > 0, ack
        clock.advance(3)
        assert answer(a2, position, ["A"] if qtype != "judge" else ["F"])["ok"]
        assert answer(b1, position, correct_choice(qtype))["ok"]
        assert control(host, t, "next") == {"ok": True}  # → reveal
        reveal = phases(a1)[-1]["reveal"]
        assert reveal["correct"] == correct_choice(qtype) and reveal["answered"] == 3
        assert control(host, t, "next") == {"ok": True}  # → leaderboard
        board = phases(b1)[-1]["leaderboard"]
        assert board["members"][0]["name"] == "张三"
        assert control(host, t, "next") == {"ok": True}  # → next question or finished

    final = phases(a2)[-1]
    assert final["phase"] == "finished"
    members = [(m["rank"], m["name"]) for m in final["leaderboard"]["members"]]
    assert members[:2] == [(1, "张三"), (2, "王五")]  # both all right; 张三 was faster
    assert sorted(members[2:]) == [
        (3, "李四"),
        (3, "赵六"),
    ]  # 0 points each: a tie, not a time race
    branches = {b["name"]: b for b in final["leaderboard"]["branches"]}
    # Branch 1: 张三 (all right) + 李四 (all wrong) over 10 registered; branch 2: 王五 + 赵六 (idle) over 20.
    assert branches["第1党支部"]["participants"] == 2 and branches["第2党支部"]["participants"] == 2
    assert (
        branches["第1党支部"]["rank"] == 1
    )  # avg over registered: 张三's points / 10 beats 王五's / 20
    standing = a1.emit("standing", {}, namespace="/play", callback=True)
    assert standing["ok"] and standing["rank"] == 1 and standing["branch"]["rank"] == 1


def test_no_question_payload_carries_the_answer(live_app, t, host):
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    for _ in t["types"]:
        question = phases(a1)[-1]
        assert question["phase"] == "question" and question["reveal"] is None
        text = json.dumps(question["question"], ensure_ascii=False)
        assert "answer" not in text and "correct" not in text and "explanation" not in text
        assert "解析" not in text
        control(host, t, "next")
        control(host, t, "next")
        control(host, t, "next")
    host_events = [e["args"][0] for e in host.get_received("/host") if e["name"] == "phase"]
    assert all(p["reveal"] is None for p in host_events if p["phase"] == "question")


def test_answer_is_durable_before_ack_and_retries_are_idempotent(live_app, t, host, clock):
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    clock.advance(4)
    first = answer(a1, 0, right(t, 0))
    with live_app.app_context():  # a fresh session sees the committed row
        stored = db.session.scalars(select(Answer)).all()
        assert [(a.choice.split(","), a.elapsed_ms) for a in stored] == [(right(t, 0), 4000)]
    assert answer(a1, 0, right(t, 0)) == first
    second = answer(a1, 0, wrong(t, 0))
    assert (second["ok"], second["reason"], second["choice"]) == (
        False,
        "already_answered",
        right(t, 0),
    )
    assert "message" in second and second["message"]


def test_deadlines_grace_and_the_timer(live_app, t, host, clock):
    a1, _ = phone(live_app, t, "张三", 0)
    b1, _ = phone(live_app, t, "王五", 1)
    control(host, t, "start")
    assert answer(a1, 1, right(t, 1))["reason"] == "not_open"
    clock.advance(21.4)  # past the 20 s deadline, within the 1.5 s grace
    assert answer(a1, 0, right(t, 0))["ok"]
    clock.advance(0.2)
    late = answer(b1, 0, right(t, 0))
    assert (late["ok"], late["reason"]) == (False, "too_late")
    with live_app.app_context():
        assert live.tick(t["contest_id"]) == 0.0  # due: the question closes by itself
        assert db.session.get(Contest, t["contest_id"]).phase == "reveal"
        assert live.tick(t["contest_id"]) == 1.0  # auto_advance off: waits for the host


def test_extend_and_end(live_app, t, host, clock):
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    before = phases(a1)[-1]["question"]["closes_at"]
    assert control(host, t, "extend", seconds=10) == {"ok": True}
    assert phases(a1)[-1]["question"]["closes_at"] == before + 10_000
    clock.advance(30)
    assert answer(a1, 0, right(t, 0))["ok"]
    assert control(host, t, "end") == {"ok": True}
    assert phases(a1)[-1]["phase"] == "finished"
    assert control(host, t, "next")["reason"] == "wrong_phase"


def test_reconnect_with_token_resumes_with_own_answer(live_app, t, host, clock):
    a1, joined = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    clock.advance(3)
    answer(a1, 0, right(t, 0))
    a1.disconnect(namespace="/play")
    again = socketio.test_client(live_app, namespace="/play", auth={"token": joined["token"]})
    snap = [e["args"][0] for e in again.get_received("/play") if e["name"] == "snapshot"][0]
    assert (snap["phase"], snap["position"]) == ("question", 0)
    assert snap["me"]["answer"]["choice"] == right(t, 0) and "correct" not in snap["me"]["answer"]
    assert snap["me"]["seed"] == joined["snapshot"]["me"]["seed"]
    assert snap["question"]["closes_at"] - snap["server_now"] == 17_000
    assert answer(again, 0, right(t, 0))["ok"]  # the retry after reconnect is the same answer
    control(host, t, "next")
    snap = again.emit("sync", {}, namespace="/play", callback=True)["snapshot"]
    assert snap["me"]["answer"]["correct"] is True and snap["me"]["answer"]["points"] > 0


def test_unknown_token_ends_the_session(live_app):
    client = socketio.test_client(live_app, namespace="/play", auth={"token": "x" * 32})
    (event,) = client.get_received("/play")
    assert event["name"] == "session_ended" and event["args"][0]["reason"] == "unknown_token"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"pin": "000000", "name": "甲", "branch_id": 1}, "no_such_contest"),
        ({"pin": None, "name": "甲", "branch_id": 1}, "bad_request"),
        ({"name": "甲"}, "bad_request"),
        ("not a dict", "bad_request"),
        ({"pin": "PIN", "name": "   ", "branch_id": 1}, "name_required"),
        ({"pin": "PIN", "name": "长" * 21, "branch_id": 1}, "name_too_long"),
        ({"pin": "PIN", "name": "甲", "branch_id": 99999}, "no_such_branch"),
    ],
)
def test_bad_join_gets_an_error_ack(live_app, t, payload, reason):
    if isinstance(payload, dict) and payload.get("pin") == "PIN":
        payload = {**payload, "pin": t["pin"]}
    client = socketio.test_client(live_app, namespace="/play")
    ack = client.emit("join", payload, namespace="/play", callback=True)
    assert (ack["ok"], ack["reason"]) == (False, reason) and ack["message"]


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"position": "0", "choice": ["B"]},
        {"position": 0, "choice": 5},
        {"position": -1, "choice": ["B"]},
        {"position": 0, "choice": ["Z"]},
        {"position": 0, "choice": ["A", "B"] * 50},
        {"position": True, "choice": ["A"]},
    ],
)
def test_bad_answers_get_an_error_ack_never_a_crash(live_app, t, host, payload):
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    ack = a1.emit("answer", payload, namespace="/play", callback=True)
    assert ack["ok"] is False and ack["reason"] in {"bad_request", "no_such_option"}
    assert answer(a1, 0, right(t, 0))["ok"]  # the connection still works


def test_members_cannot_run_host_actions(live_app, t):
    a1, _ = phone(live_app, t, "张三", 0)
    refused = a1.emit(
        "control",
        {"contest_id": t["contest_id"], "action": "start"},
        namespace="/play",
        callback=True,
    )
    assert refused["reason"] == "bad_request"  # /play has no host events
    anonymous = socketio.test_client(live_app, namespace="/host")
    assert not anonymous.is_connected("/host")
    with live_app.app_context():
        assert db.session.get(Contest, t["contest_id"]).phase == "lobby"


def test_secretary_cannot_control(live_app, t):
    with live_app.app_context():
        secretary = make_user(db.session, "sec", "secretary")
        db.session.commit()
        sid = secretary.id
    http = live_app.test_client()
    login(http, sid)
    client = socketio.test_client(live_app, namespace="/host", flask_test_client=http)
    assert not client.is_connected("/host")


def test_host_counters_reach_the_host_room_only(live_app, t, host):
    a1, _ = phone(live_app, t, "张三", 0)
    host.get_received("/host")
    with live_app.app_context():
        live.flush_counters()
    joined = [e["args"][0] for e in host.get_received("/host") if e["name"] == "joined"]
    assert joined[-1]["total"] == 1 and joined[-1]["branches"][0]["count"] == 1
    assert not [e for e in a1.get_received("/play") if e["name"] in ("joined", "progress")]


def test_traditional_view_converts_questions_and_messages_but_not_ids(live_app, t, host):
    hant = socketio.test_client(live_app, namespace="/play", auth={"lang": "zh-Hant"})
    ack = hant.emit(
        "join",
        {"pin": t["pin"], "name": "陈国华", "branch_id": t["branches"][0]},
        namespace="/play",
        callback=True,
    )
    assert ack["ok"] and ack["snapshot"]["me"]["name"] == "陈国华"  # names are never converted
    hans, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    (traditional,), (simplified,) = phases(hant), phases(hans)
    assert traditional["question"]["type_label"] == "單選題" or traditional["question"][
        "type_label"
    ] in ("多選題", "判斷題")
    assert simplified["question"]["type_label"] in ("单选题", "多选题", "判断题")
    assert [o["id"] for o in traditional["question"]["options"]] == [
        o["id"] for o in simplified["question"]["options"]
    ]
    refused = hant.emit(
        "answer", {"position": 0, "choice": ["Z"]}, namespace="/play", callback=True
    )
    assert refused["reason"] == "no_such_option" and refused["message"] == "選項無效，請重新選擇"


def test_big_screen_in_traditional_gets_converted_phases(live_app, t):
    http = live_app.test_client()
    login(http, t["user_id"])
    http.set_cookie("quiz_lang", "zh-Hant")
    screen = socketio.test_client(live_app, namespace="/host", flask_test_client=http)
    assert screen.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)[
        "ok"
    ]
    control(screen, t, "start")
    (phase,) = [e["args"][0] for e in screen.get_received("/host") if e["name"] == "phase"]
    assert phase["question"]["type_label"] in ("單選題", "多選題", "判斷題")


# ---------------------------------------------------------------- roster-bound joining


@pytest.fixture
def roster_app(live_settings):
    from quiz_server.models import RosterEntry

    app = create_app(live_settings)
    with app.app_context():
        branches = make_branches(db.session)
        db.session.add_all([
            RosterEntry(unit_id=branches[0].id, name="张 三", member_no="0101"),
            RosterEntry(unit_id=branches[1].id, name="李四", member_no="0101"),
        ])  # fmt: skip
        contest = create_contest(
            db.session, title="名单竞赛", bank_version=make_bank(db.session), rule=3,
            branches=branches, roster_bound=True, seed=3,
        )  # fmt: skip
        db.session.commit()
        app.config["T"] = {"pin": contest.pin, "branches": [b.id for b in branches]}
    yield app
    with app.app_context():
        db.engine.dispose()


def roster_join(app, name, branch_index, member_no=None):
    t = app.config["T"]
    payload = {"pin": t["pin"], "name": name, "branch_id": t["branches"][branch_index]}
    if member_no is not None:
        payload["member_no"] = member_no
    client = socketio.test_client(app, namespace="/play")
    return client.emit("join", payload, namespace="/play", callback=True)


@pytest.mark.parametrize(
    ("name", "branch_index", "member_no"),
    [
        ("张三", 0, None),  # no member number
        ("张三", 0, "0999"),  # unknown number
        ("王五", 0, "0101"),  # number of someone else
        ("张三", 1, "0101"),  # right person, another branch's roster
        ("张三", 0, 101),  # not a string
    ],
)
def test_roster_bound_join_refuses_who_is_not_on_the_roster(
    roster_app, name, branch_index, member_no
):
    ack = roster_join(roster_app, name, branch_index, member_no)
    assert ack["ok"] is False and ack["reason"] == "not_on_roster"
    assert ack["message"] == "参赛名单中没有找到您，请核对姓名和党员编号"


def test_roster_bound_join_once_per_roster_entry(roster_app):
    first = roster_join(roster_app, "张三", 0, " 0101 ")  # spacing is forgiven
    assert first["ok"] and first["snapshot"]["me"]["name"] == "张 三"  # the roster's form
    again = roster_join(roster_app, "张 三", 0, "0101")
    assert again["ok"] is False and again["reason"] == "already_joined" and "token" not in again
    assert again["message"] == "该名单成员已在另一台设备参赛，如需更换设备请联系组织者"
    other = roster_join(roster_app, "李四", 1, "0101")  # same number, other branch: another person
    assert other["ok"]
    with roster_app.app_context():
        from quiz_server.models import Participant

        rows = db.session.scalars(select(Participant.roster_entry_id)).all()
    assert len(rows) == 2 and None not in rows


def test_open_contest_ignores_member_number(live_app, t):
    client = socketio.test_client(live_app, namespace="/play")
    payload = {"pin": t["pin"], "name": "任何人", "branch_id": t["branches"][0], "member_no": "x"}
    assert client.emit("join", payload, namespace="/play", callback=True)["ok"]


def test_live_roster_matches_are_rate_limited_per_address(roster_app):
    from quiz_server.contests import ROSTER_TRIES_PER_MINUTE

    for number in range(ROSTER_TRIES_PER_MINUTE):
        assert roster_join(roster_app, "张三", 0, f"9{number:02d}")["reason"] == "not_on_roster"
    refused = roster_join(roster_app, "张三", 0, "0101")  # the right number, too late
    assert refused["ok"] is False and refused["reason"] == "roster_rate_limited"
    assert "token" not in refused


def _figures(app, client, pin):
    """Everything a member can ask for about scores: own snapshot, own standing, public page."""
    me = client.emit("sync", {}, namespace="/play", callback=True)["snapshot"]["me"]
    me = {k: v for k, v in me.items() if k != "answer"}
    standing = client.emit("standing", {}, namespace="/play", callback=True)
    page = app.test_client().get(f"/standings/{pin}").get_data(as_text=True)
    page = re.sub(r"\d\d:\d\d:\d\d", "", page)  # the page's own "updated at" clock
    return me, standing, page


def test_four_phones_answering_a_b_c_d_learn_nothing_before_the_reveal(live_settings, clock):
    """The probe of the issue: spare seats answer every option; until the reveal no score,
    rank, correct count or branch figure may move, on sync, on reconnect or on any page."""
    app = create_app(live_settings)
    with app.app_context():
        branches = make_branches(db.session)
        contest = create_contest(
            db.session, title="探测", bank_version=make_bank(db.session),
            rule=DrawRule(count=2, type={"single": 2}), branches=branches,
            settings={"timing": {"auto_advance": False}}, seed=1,
        )  # fmt: skip
        user = make_user(db.session)
        db.session.commit()
        t = {"pin": contest.pin, "contest_id": contest.id, "branches": [b.id for b in branches]}
    http = app.test_client()
    login(http, user.id)
    host_client = socketio.test_client(app, namespace="/host", flask_test_client=http)
    host_client.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)
    phones = {letter: phone(app, t, f"探{letter}", i % 2) for i, letter in enumerate("ABCD")}
    control(host_client, t, "start")
    clock.advance(2)
    before = {letter: _figures(app, c, t["pin"]) for letter, (c, _) in phones.items()}
    for letter, (c, _) in phones.items():
        assert answer(c, 0, [letter])["ok"]
    clock.advance(1)
    for letter, (c, joined) in phones.items():
        assert _figures(app, c, t["pin"]) == before[letter]
        again = socketio.test_client(
            app, namespace="/play", auth={"token": joined["token"]}
        )  # a reconnect's snapshot
        snap = next(e["args"][0] for e in again.get_received("/play") if e["name"] == "snapshot")
        assert snap["me"]["score"] == 0 and "correct" not in snap["me"]["answer"]
    assert len({json.dumps(f[1], sort_keys=True) for f in before.values()}) == 2  # two branches
    control(host_client, t, "next")  # the reveal
    after = {letter: _figures(app, c, t["pin"]) for letter, (c, _) in phones.items()}
    assert [after[x][0]["score"] > 0 for x in "ABCD"] == [False, True, False, False]
    assert after["B"][1]["rank"] == 1 and after["B"][1]["correct"] == 1
    assert after["A"][1]["rank"] == 2 and after["A"][1]["correct"] == 0
    assert after["A"][2] != before["A"][2]  # the public page moves at the reveal, not before


def test_a_hall_behind_one_address_joins_a_roster_contest_at_once(roster_app):
    """Only failed matches count: thirty members on the hall's Wi-Fi all get in."""
    from quiz_server.contests import ROSTER_TRIES_PER_MINUTE
    from quiz_server.models import RosterEntry

    t = roster_app.config["T"]
    with roster_app.app_context():
        db.session.add_all(
            RosterEntry(unit_id=t["branches"][0], name=f"成员{n}", member_no=f"2{n:03d}")
            for n in range(3 * ROSTER_TRIES_PER_MINUTE)
        )
        db.session.commit()
    for n in range(3 * ROSTER_TRIES_PER_MINUTE):
        assert roster_join(roster_app, f"成员{n}", 0, f"2{n:03d}")["ok"]
