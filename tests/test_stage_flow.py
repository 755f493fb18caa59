"""A stage contest end to end through Flask-SocketIO's test client: four team devices, a
referee, ten audience phones; fair buzz order over the socket; restart from the database."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from conftest import login, make_bank, make_branches, make_user
from sqlalchemy import select

from quiz_server import create_app
from quiz_server.extensions import db, socketio
from quiz_server.models import Contest, StageEvent, StageTeam
from quiz_server.stage import broadcast
from quiz_server.stage.setup import create_stage
from quiz_server.stage.store import load

PROGRAMME = {
    "title": "文明礼仪知识竞赛决赛",
    "bank": "t-bank",
    "audience": True,
    "teams": [
        {"branch": f"B{i}", "desk": i + 1, "members": ["甲", "乙", "丙"]} for i in range(4)
    ],
    "rounds": [
        {"type": "required", "title": "必答题", "questions": 4, "answer_seconds": 30},
        {"type": "buzz", "title": "抢答题", "questions": {"count": 2, "type": {"single": 2}}, "foul": -5},
        {"type": "risk", "title": "风险题", "questions": {"count": 1, "type": {"single": 1}}},
        {"type": "speed", "title": "限时速答", "questions": 6, "turns": 1, "speed_seconds": 40},
    ],
}  # fmt: skip


@pytest.fixture
def stage_app(live_settings):
    app = create_app(live_settings)
    with app.app_context():
        make_bank(db.session, n_single=14)
        make_branches(db.session, sizes=(5, 5, 5, 5))
        user = make_user(db.session)
        contest = create_stage(db.session, PROGRAMME, seed=3)
        db.session.commit()
        teams = db.session.scalars(
            select(StageTeam).where(StageTeam.contest_id == contest.id).order_by(StageTeam.position)
        ).all()
        app.config["T"] = {
            "contest_id": contest.id, "pin": contest.pin, "user_id": user.id,
            "team_pins": [t.pin for t in teams], "team_ids": [t.id for t in teams],
            "audience_pin": db.session.get(Contest, contest.settings["stage"]["audience"]).pin,
        }  # fmt: skip
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def t(stage_app):
    return stage_app.config["T"]


def referee_client(app, t):
    http = app.test_client()
    login(http, t["user_id"])
    client = socketio.test_client(app, namespace="/referee", flask_test_client=http)
    assert client.is_connected("/referee")
    ack = client.emit("watch", {"contest_id": t["contest_id"]}, namespace="/referee", callback=True)
    assert ack["ok"], ack
    return client


def act(referee, t, action, **extra):
    ack = referee.emit(
        "act", {"contest_id": t["contest_id"], "action": action, **extra},
        namespace="/referee", callback=True,
    )  # fmt: skip
    return ack


class TeamDevice:
    """A team's tablet: its own clock (offset from the server's) and a link with one-way delays."""

    def __init__(self, app, t, index, offset, up, down):
        self.client = socketio.test_client(app, namespace="/stage")
        self.offset, self.up, self.down = offset, up, down
        ack = self.emit("join", {"pin": t["pin"], "team_pin": t["team_pins"][index]})
        assert ack["ok"], ack
        self.team, self.token = ack["team"]["id"], ack["token"]

    def emit(self, event, data):
        return self.client.emit(event, data, namespace="/stage", callback=True)

    def sync(self, clock, exchanges=4):
        """Clock exchanges: sent `up` before the server stamps, received `down` after."""
        last = None
        for _ in range(exchanges):
            server = clock().timestamp()
            t0 = server - self.up + self.offset
            ack = self.emit("clock", {"t0": t0, **({"last": last} if last else {})})
            assert ack["ok"] and ack["t0"] == t0
            last = {"t0": t0, "t3": ack["t2"] + self.down + self.offset}
            clock.advance(2)
        self.emit("clock", {"t0": clock().timestamp() + self.offset, "last": last})

    def buzz(self, tapped_at):
        """A tap at server time `tapped_at`, stamped by the device's own clock."""
        return self.emit("buzz", {"tap": tapped_at + self.offset})

    def boards(self):
        return [e["args"][0] for e in self.client.get_received("/stage") if e["name"] == "board"]


def audience_phone(app, t, i):
    phone = socketio.test_client(app, namespace="/play")
    branch = db.session.scalars(select(StageTeam.unit_id)).all()[i % 4]
    ack = phone.emit("join", {"pin": t["audience_pin"], "name": f"观众{i}", "branch_id": branch},
                     namespace="/play", callback=True)  # fmt: skip
    assert ack["ok"], ack
    return phone


def board_of(app, t):
    with app.app_context():
        loaded = load(db.session, t["contest_id"])
        return loaded.board


def test_a_whole_stage_contest(stage_app, t, clock):
    referee = referee_client(stage_app, t)
    # four desks: offsets of minutes; desk 2 (index 1) on a bad link, 300 ms round trip
    links = [(0.010, 0.010), (0.150, 0.150), (0.012, 0.008), (0.020, 0.020)]
    devices = [TeamDevice(stage_app, t, i, 37.0 * (i - 1.5), *links[i]) for i in range(4)]
    a, b, c, d = devices
    for device in devices:
        device.sync(clock)
    with stage_app.app_context():
        phones = [audience_phone(stage_app, t, i) for i in range(10)]

    # 必答题: team A answers on its device, right; team B wrong; C times out
    assert act(referee, t, "next")["ok"]
    board = a.boards()[-1]
    assert board["round"]["kind"] == "required" and board["turn"]["team"] == a.team
    assert "correct" not in json.dumps(board["question"])
    assert b.emit("answer", {"choice": ["B"]})["reason"] == "stage_not_your_turn"
    question = board["question"]
    right = {"single": ["B"], "multiple": ["A", "C"], "judge": ["T"]}[question["type"]]
    assert a.emit("answer", {"choice": right}) == {"ok": True, "correct": True}
    assert a.boards()[-1]["reveal"]["correct"] == right  # revealed once ruled
    assert act(referee, t, "next")["ok"]
    wrong = {"single": ["C"], "multiple": ["A"], "judge": ["F"]}[b.boards()[-1]["question"]["type"]]
    assert b.emit("answer", {"choice": wrong}) == {"ok": True, "correct": False}
    assert act(referee, t, "next")["ok"]
    clock.advance(31)
    with stage_app.app_context():
        broadcast.tick(t["contest_id"])
    assert board_of(stage_app, t).step == "ruled"
    act(referee, t, "next")
    assert act(referee, t, "rule", correct=True)["ok"]  # D answers orally
    scores = {x["id"]: x["score"] for x in a.boards()[-1]["teams"]}
    assert scores == {a.team: 10, b.team: 0, c.team: 0, d.team: 10}

    # 抢答题: C buzzes before open (foul, −5); B taps 50 ms before A but arrives later
    assert act(referee, t, "next")["ok"]
    shown = a.boards()[-1]
    assert shown["step"] == "shown" and shown["question"] and shown["reveal"] is None
    assert "answer" not in shown and '"correct"' not in json.dumps(shown)
    for i, phone in enumerate(phones):
        ack = phone.emit("answer", {"position": 4, "choice": ["B"] if i < 7 else ["C"]},
                         namespace="/play", callback=True)  # fmt: skip
        assert ack["ok"], ack
    assert c.buzz(clock().timestamp() - 0.2)["foul"] is True
    assert act(referee, t, "open")["ok"]
    opened = clock().timestamp()
    clock.advance(0.300)
    tap_b, tap_a = opened + 0.250, opened + 0.300
    clock.advance(0.010)  # A's buzz arrives 10 ms after its tap
    assert a.buzz(tap_a)["foul"] is False
    clock.advance(0.100)  # B's arrives 150 ms after its tap, 100 ms after A's
    assert b.buzz(tap_b)["foul"] is False
    assert c.buzz(clock().timestamp())["reason"] == "stage_locked_out"
    seen = referee.get_received("/referee")[-1]["args"][0]
    assert [x["team"] for x in seen["buzz_order"]] == [b.team, a.team]
    assert seen["tie"] is None and 40 <= seen["gap_ms"] <= 60
    assert seen["answer"]["correct"]  # only the referee has the answer before the ruling
    clock.advance(0.5)
    with stage_app.app_context():
        broadcast.tick(t["contest_id"])
    board = d.boards()[-1]
    assert board["step"] == "answering" and board["buzz"]["winner"] == b.team
    assert board["buzz"]["fouls"] == [c.team]
    assert board["audience"]["answered"] == 10 and board["audience"]["rate"] == 70
    assert act(referee, t, "rule", correct=True)["ok"]
    reveals = [e["args"][0] for e in phones[0].get_received("/play") if e["name"] == "phase"]
    assert reveals[-1]["phase"] == "reveal" and reveals[-1]["position"] == 4

    # undo the ruling, rule it wrong instead, then a judges' adjustment with a reason
    assert act(referee, t, "undo")["ok"]
    assert board_of(stage_app, t).score(b.team) == 0
    assert act(referee, t, "rule", correct=False)["ok"]
    assert board_of(stage_app, t).score(b.team) == -10
    assert act(referee, t, "adjust", team=b.team, value=10)["reason"] == "stage_bad_value"
    assert act(referee, t, "adjust", team=b.team, value=10, reason="评委复核：答案可接受")["ok"]
    assert act(referee, t, "next")["ok"]
    assert act(referee, t, "open")["ok"]
    clock.advance(1)
    assert act(referee, t, "close")["ok"]

    # 风险题: team A picks 30 and answers wrong
    assert act(referee, t, "next")["ok"]
    assert a.boards()[-1]["question"] is None  # not before the pick
    assert a.emit("pick", {"value": 25})["reason"] == "stage_bad_value"
    assert a.emit("pick", {"value": 30})["ok"]
    q = a.boards()[-1]["question"]
    assert (
        a.emit("answer", {"choice": ["C"] if q["type"] == "single" else ["F"]})["correct"] is False
    )

    # 限时速答: team A answers as many as it can in 40 s
    assert act(referee, t, "next")["ok"]
    assert act(referee, t, "start")["ok"]
    for _ in range(3):
        q = a.boards()[-1]["question"]
        answer = {"single": ["B"], "multiple": ["A", "C"], "judge": ["T"]}[q["type"]]
        assert a.emit("answer", {"choice": answer})["correct"] is True
        clock.advance(5)
    clock.advance(30)
    with stage_app.app_context():
        broadcast.tick(t["contest_id"])
    board = board_of(stage_app, t)
    assert (board.step, board.speed_right) == ("ruled", 3)
    assert act(referee, t, "next")["ok"]
    final = a.boards()[-1]
    assert final["step"] == "finished"
    phases = [e["args"][0] for e in phones[0].get_received("/play") if e["name"] == "phase"]
    assert phases[-1]["phase"] == "finished"  # the hall finishes with the stage: final standings
    with stage_app.app_context():
        hall = db.session.scalar(select(Contest).where(Contest.pin == t["audience_pin"]))
        assert hall.phase == "finished"
    expected = {a.team: 10 - 30 + 30, b.team: 0, c.team: -5, d.team: 10}
    assert {x["team"]: x["score"] for x in final["podium"]} == expected

    # every action is in the log with who took it; a restart replays to the same board
    with stage_app.app_context():
        actors = set(db.session.scalars(select(StageEvent.actor)))
    assert {"referee:org", "timer", f"team:{a.team}"} <= actors
    again = create_app(stage_app.config["QUIZ"])
    assert board_of(again, t) == board_of(stage_app, t)
    with again.app_context():
        db.engine.dispose()
    check_report(stage_app, t, expected, {"a": a.team, "b": b.team, "c": c.team})


def test_timers_resume_at_process_start_without_the_referee(stage_app, t, clock, monkeypatch):
    """A deadline that passed while the server was down is acted on by the restarted process's
    watch, with no console connected; a pending one gets a timer; a second process racing the
    same look writes nothing twice."""
    referee = referee_client(stage_app, t)
    assert act(referee, t, "next")["ok"]  # team A's 必答题, 30 s
    referee.disconnect(namespace="/referee")
    clock.advance(31)  # down past the deadline
    armed = []
    monkeypatch.setattr(broadcast, "arm", lambda cid, what, seconds: armed.append((cid, what)))
    again, other = create_app(stage_app.config["QUIZ"]), create_app(stage_app.config["QUIZ"])
    with again.app_context():
        assert t["contest_id"] in broadcast.resume_all()
    board = board_of(again, t)
    assert board.step == "ruled" and board.rulings[-1].outcome == "timeout"
    with stage_app.app_context():
        logged = db.session.scalar(select(db.func.count(StageEvent.id)))
    with other.app_context():
        broadcast.resume_all()  # nothing is due any more: no second timeout
        assert db.session.scalar(select(db.func.count(StageEvent.id))) == logged

    referee = referee_client(stage_app, t)
    assert act(referee, t, "next")["ok"]  # team B's question: its deadline is 30 s away
    armed.clear()
    with other.app_context():
        broadcast.resume_all()
    assert (t["contest_id"], "deadline") in armed
    assert board_of(other, t).step == "answering"
    for app in (again, other):
        with app.app_context():
            db.engine.dispose()


def test_a_secretary_gets_the_scores_and_only_own_branch_logs(stage_app, t):
    """The same access rule as other modes' reports (a secretary of none of the contest's
    branches is refused); scores stay whole (public on the big screen), the rulings and buzz
    logs keep the secretary's teams, the organizers' action log is left out."""
    referee = referee_client(stage_app, t)
    for correct in (True, False):  # team A right, team B wrong
        assert act(referee, t, "next")["ok"] and act(referee, t, "rule", correct=correct)["ok"]
    with stage_app.app_context():
        own = db.session.get(StageTeam, t["team_ids"][0]).unit
        mine = make_user(db.session, "sec", "secretary")
        mine.units = [own]
        stranger = make_user(db.session, "sec2", "secretary")
        db.session.commit()
        ids = (mine.id, stranger.id)
    url = f"/admin/contests/{t['contest_id']}"
    http = stage_app.test_client()
    login(http, ids[1])
    assert http.get(f"{url}/results").status_code == 403
    assert http.get(f"{url}/report.xlsx").status_code == 403
    login(http, ids[0])
    page = http.get(f"{url}/results").text
    assert "操作记录" not in page and "referee:org" not in page and "裁判台</a>" not in page
    book = openpyxl.load_workbook(io.BytesIO(http.get(f"{url}/report.xlsx").data))
    assert "操作记录" not in book.sheetnames
    assert book["比分"].max_row == 5  # every team
    rulings = list(book["裁定记录"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3]) for r in rulings] == [(own.name, "答对")]
    assert http.get(f"{url}/report/stage_actions.csv").status_code == 404
    login(http, t["user_id"])
    book = openpyxl.load_workbook(io.BytesIO(http.get(f"{url}/report.xlsx").data))
    assert "操作记录" in book.sheetnames and book["裁定记录"].max_row == 3


def check_report(app, t, expected, teams):
    """The workbook: totals per round, the buzz log with each buzz's ruling, rulings, actions."""
    http = app.test_client()
    login(http, t["user_id"])
    page = http.get(f"/admin/contests/{t['contest_id']}/results")
    assert page.status_code == 200 and "抢答记录" in page.text and "最先按键" in page.text
    qr = http.get(f"/stage/referee/{t['contest_id']}/qr/{teams['a']}.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert (
        app.test_client().get(f"/stage/referee/{t['contest_id']}/qr/{teams['a']}.svg").status_code
        != 200
    )
    contest_page = http.get(f"/admin/contests/{t['contest_id']}")
    assert f"/stage/referee/{t['contest_id']}" in contest_page.text
    reply = http.get(f"/admin/contests/{t['contest_id']}/report.xlsx")
    assert reply.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(reply.data))
    assert book.sheetnames == ["比分", "抢答记录", "裁定记录", "操作记录", "说明"]
    scores = list(book["比分"].iter_rows(values_only=True))
    assert scores[0][4:] == ("必答题", "抢答题", "风险题", "限时速答", "总分")
    with app.app_context():
        names = {tid: db.session.get(StageTeam, tid).name for tid in teams.values()}
    totals = {row[2]: row[-1] for row in scores[1:]}
    assert totals[names[teams["a"]]] == expected[teams["a"]] == 10
    row_a = next(r for r in scores[1:] if r[2] == names[teams["a"]])
    assert row_a[4:8] == (10, 0, -30, 30)
    buzzes = list(book["抢答记录"].iter_rows(values_only=True))[1:]
    rulings = [(r[2], r[10]) for r in buzzes]
    assert rulings == [
        (names[teams["c"]], "提前抢答犯规"),
        (names[teams["a"]], "有效，晚于获胜队"),
        (names[teams["b"]], "最先按键，获得答题权"),
        (names[teams["c"]], "已犯规，不计"),
    ]
    after_open = {r[2]: r[5] for r in buzzes[1:3]}
    assert after_open[names[teams["b"]]] == pytest.approx(250, abs=20)
    assert all(isinstance(r[7], float) and r[7] > 0 for r in buzzes[1:3])  # the uncertainty
    reasons = [r[5] for r in book["裁定记录"].iter_rows(values_only=True)]
    assert "评委复核：答案可接受" in reasons
    actions = list(book["操作记录"].iter_rows(values_only=True))[1:]
    undone = [r for r in actions if r[2] == "裁判裁定" and r[8] == "已撤销"]
    assert len(undone) == 1 and undone[0][7] == "referee:org"


def test_team_rejoins_with_its_token_and_strangers_are_refused(stage_app, t):
    device = TeamDevice(stage_app, t, 0, 0, 0.01, 0.01)
    again = socketio.test_client(stage_app, namespace="/stage", auth={"token": device.token})
    joined = [e for e in again.get_received("/stage") if e["name"] == "joined"]
    assert joined and joined[0]["args"][0]["team"]["id"] == device.team
    stranger = socketio.test_client(stage_app, namespace="/stage")
    bad = stranger.emit(
        "join", {"pin": t["pin"], "team_pin": "000000"}, namespace="/stage", callback=True
    )
    assert bad["reason"] == "stage_no_such_team"
    assert (
        stranger.emit("buzz", {"tap": 1.0}, namespace="/stage", callback=True)["reason"]
        == "not_joined"
    )
    anonymous = socketio.test_client(stage_app, namespace="/referee")
    assert not anonymous.is_connected("/referee")


def test_ties_within_the_uncertainty_go_to_the_referee(stage_app, t, clock):
    referee = referee_client(stage_app, t)
    devices = [TeamDevice(stage_app, t, i, 0.0, 0.15, 0.15) for i in range(2)]
    for device in devices:
        device.sync(clock)
    for _ in range(4):  # the four 必答题, answered orally
        assert act(referee, t, "next")["ok"] and act(referee, t, "rule", correct=True)["ok"]
    assert act(referee, t, "next")["ok"] and act(referee, t, "open")["ok"]
    tap = clock().timestamp() + 0.1
    clock.advance(0.3)
    devices[0].buzz(tap)
    devices[1].buzz(tap + 0.004)
    clock.advance(1)
    with stage_app.app_context():
        broadcast.tick(t["contest_id"])
    seen = referee.get_received("/referee")[-1]["args"][0]
    assert set(seen["tie"]) == {devices[0].team, devices[1].team} and seen["gap_ms"] <= 5
    assert board_of(stage_app, t).step == "open"  # waits for the referee's ruling
    assert act(referee, t, "award", team=devices[1].team)["ok"]
    assert board_of(stage_app, t).team == devices[1].team


def test_two_writers_of_the_same_seq_never_fork_the_log(stage_app, t, clock, monkeypatch):
    """Another process appends between our replay and our commit: the unique seq refuses our
    row, we replay and append after theirs; both events are in the log, in order."""
    from quiz_server.stage import store
    from quiz_server.stage.engine import Event, Kind

    with stage_app.app_context():
        stale = store.load(db.session, t["contest_id"])
        db.session.rollback()
        other = store.record(db.session, t["contest_id"], Event(Kind.NEXT, 1.0), "process-2")
        assert not isinstance(other, str)
        calls = {"n": 0}
        real_load = store.load

        def first_stale(session, contest_id):
            calls["n"] += 1
            return stale if calls["n"] == 1 else real_load(session, contest_id)

        monkeypatch.setattr(store, "load", first_stale)
        team = t["team_ids"][1]
        adjust = Event(Kind.ADJUST, 2.0, team=team, value=5, reason="评委加分")
        done = store.record(db.session, t["contest_id"], adjust, "process-1")
        assert not isinstance(done, str) and calls["n"] == 2
        rows = db.session.scalars(
            select(StageEvent)
            .where(StageEvent.contest_id == t["contest_id"])
            .order_by(StageEvent.seq)
        ).all()
        assert [(r.seq, r.kind, r.actor) for r in rows] == [
            (0, "next", "process-2"),
            (1, "adjust", "process-1"),
        ]
        assert done[1].score(team) == 5 and done[1].step == "answering"  # built on theirs


def test_traditional_devices_get_converted_text_but_names_as_written(stage_app, t):
    hant = socketio.test_client(stage_app, namespace="/stage", auth={"lang": "zh-Hant"})
    ack = hant.emit("watch", {"pin": t["pin"]}, namespace="/stage", callback=True)
    assert ack["ok"]
    with stage_app.app_context():
        db.session.get(StageTeam, t["team_ids"][0]).name = "机关党支部"
        db.session.commit()
    ack = hant.emit("join", {"pin": t["pin"], "team_pin": t["team_pins"][0]}, namespace="/stage",
                    callback=True)  # fmt: skip
    assert ack["team"]["team_name"] == "机关党支部"  # a unit's name: never converted
    assert ack["board"]["teams"][0]["team_name"] == "机关党支部"
    refused = hant.emit("answer", {"choice": ["A"]}, namespace="/stage", callback=True)
    assert refused["message"] == "現在不是本隊作答"  # UI text: converted
