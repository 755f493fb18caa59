"""A stage contest across two gunicorn processes (PostgreSQL, Redis message queue): team devices
on either process, the referee on one, the board the same everywhere, and the contest resumes
from the database when the referee's process is gone. Real servers, real Socket.IO clients."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
import socketio
from conftest import REDIS_URL, fresh_postgres, make_bank, make_branches
from servers import free_port, login_cookie, start_gunicorn, stop
from sqlalchemy import select
from test_scale_out import redis_missing

from quiz_server import create_app
from quiz_server.auth import create_user
from quiz_server.config import Settings
from quiz_server.extensions import db
from quiz_server.models import StageTeam
from quiz_server.stage.setup import create_stage

pytestmark = pytest.mark.server


class Client:
    """A Socket.IO client on one namespace that keeps every `board` it receives."""

    def __init__(self, base: str, namespace: str, cookie: str | None = None) -> None:
        self.namespace, self.boards, self.seen = namespace, [], threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("board", self._board, namespace=namespace)
        headers = {"Cookie": cookie} if cookie else {}
        self.client.connect(base, namespaces=[namespace], transports=["websocket"],
                            headers=headers, wait_timeout=10)  # fmt: skip

    def _board(self, board: dict) -> None:
        self.boards.append(board)
        self.seen.set()

    def call(self, event: str, data: dict) -> dict:
        return self.client.call(event, data, namespace=self.namespace, timeout=10)

    def wait(self, test, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for board in reversed(self.boards):
                if test(board):
                    return board
            self.seen.wait(0.1)
            self.seen.clear()
        raise AssertionError(f"no such board; last: {self.boards[-1:] or None}")

    def sync(self, exchanges: int = 6) -> None:
        last = None
        for _ in range(exchanges):
            t0 = time.time()
            ack = self.call("clock", {"t0": t0, **({"last": last} if last else {})})
            last = {"t0": t0, "t3": time.time()}
            assert ack["ok"]
        self.call("clock", {"t0": time.time(), "last": last})


@pytest.fixture
def cluster(tmp_path):
    reason = redis_missing()
    if reason:
        pytest.skip(reason)
    url = fresh_postgres()
    env = {
        "QUIZ_DATABASE_URL": url, "QUIZ_MESSAGE_QUEUE": REDIS_URL,
        "QUIZ_MESSAGE_CHANNEL": f"quiz-test-{secrets.token_hex(4)}",
        "QUIZ_SECRET_KEY": "scale-out-test-key-of-at-least-32-characters",
        "QUIZ_DATA_DIR": str(tmp_path),
    }  # fmt: skip
    app = create_app(Settings.from_env(database_url=url, data_dir=tmp_path, run_timers=False))
    with app.app_context():
        make_bank(db.session, n_single=4)
        make_branches(db.session, sizes=(5, 5))
        create_user("referee", "password123", "organizer")
        contest = create_stage(db.session, {
            "title": "双进程现场赛", "bank": "t-bank",
            "teams": [{"branch": "B0"}, {"branch": "B1"}],
            "rounds": [{"type": "required", "questions": {"count": 1, "type": {"single": 1}}},
                       {"type": "buzz", "questions": 1}],
        }, seed=5)  # fmt: skip
        db.session.commit()
        pins = db.session.scalars(
            select(StageTeam.pin)
            .where(StageTeam.contest_id == contest.id)
            .order_by(StageTeam.position)
        ).all()
        info = {"id": contest.id, "pin": contest.pin, "team_pins": list(pins)}
        db.engine.dispose()
    ports = [free_port(), free_port()]
    procs = [start_gunicorn(port, env) for port in ports]
    yield {**info, "bases": [f"http://127.0.0.1:{p}" for p in ports], "procs": procs}
    for proc in procs:
        if proc.poll() is None:
            stop(proc)


def test_two_processes_one_stage_and_a_restart(cluster):
    a, b = cluster["bases"]
    cookie = login_cookie(a, "referee", "password123")
    referee = Client(a, "/referee", cookie)
    assert referee.call("watch", {"contest_id": cluster["id"]})["ok"]
    first = Client(b, "/stage")  # team 1's desk on process B
    second = Client(a, "/stage")  # team 2's desk on process A
    me1 = first.call("join", {"pin": cluster["pin"], "team_pin": cluster["team_pins"][0]})
    me2 = second.call("join", {"pin": cluster["pin"], "team_pin": cluster["team_pins"][1]})
    assert me1["ok"] and me2["ok"]
    first.sync()
    second.sync()

    def act(action, **extra):
        ack = referee.call("act", {"contest_id": cluster["id"], "action": action, **extra})
        assert ack["ok"], (action, ack)

    act("next")  # on A; team 1's device on B gets its question through the queue
    first.wait(lambda x: x["step"] == "answering" and x["question"])
    assert first.call("answer", {"choice": ["B"]}) == {"ok": True, "correct": True}
    referee.wait(lambda x: x["teams"][0]["score"] == 10)

    act("next")
    act("open")
    second.wait(lambda x: x["step"] == "open")
    time.sleep(0.3)  # both taps well after the opening (an earlier one would be a foul)
    tap = time.time()
    assert second.call("buzz", {"tap": tap})["ok"]  # arrives first, on A
    assert first.call("buzz", {"tap": tap - 0.080})["ok"]  # tapped 80 ms earlier, on B
    seen = referee.wait(lambda x: x["step"] == "answering" and x["round"]["kind"] == "buzz")
    assert seen["buzz"]["winner"] == me1["team"]["id"], seen["buzz_order"]
    assert [x["team"] for x in seen["buzz_order"]] == [me1["team"]["id"], me2["team"]["id"]]

    # the referee's process goes; the contest resumes from the database on the other one
    stop(cluster["procs"][0])
    cookie_b = login_cookie(b, "referee", "password123")
    again = Client(b, "/referee", cookie_b)
    resumed = again.call("watch", {"contest_id": cluster["id"]})["board"]
    assert resumed["step"] == "answering" and resumed["buzz"]["winner"] == me1["team"]["id"]
    assert [t["score"] for t in resumed["teams"]] == [10, 0]
    assert again.call("act", {"contest_id": cluster["id"], "action": "rule", "correct": True})["ok"]
    final = first.wait(lambda x: x["step"] == "ruled")
    assert [t["score"] for t in final["teams"]] == [20, 0]
