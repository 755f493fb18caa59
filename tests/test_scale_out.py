"""Two gunicorn processes serve one contest over PostgreSQL and a Redis message queue, and the
contest outlives one of them. Real servers, real Socket.IO clients over WebSocket."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
import redis
import socketio
from conftest import REDIS_URL, fresh_postgres, make_branches
from servers import free_port, login_cookie, start_gunicorn, stop

from quiz_server import create_app
from quiz_server.auth import create_user
from quiz_server.banks import latest_version, load_bundled_banks
from quiz_server.config import Settings
from quiz_server.contests import create_contest
from quiz_server.extensions import db

pytestmark = pytest.mark.server


def redis_missing() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as err:
        return f"Redis not reachable at {REDIS_URL}: {err.__class__.__name__}"
    return None


class Phone:
    """A phone as the page behaves: token in auth, phases collected, calls with acks."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.client = socketio.Client(reconnection=False)
        self.phases: list[dict] = []
        self.snapshots: list[dict] = []
        self.seen = threading.Event()
        self.client.on("phase", self._phase, namespace="/play")
        self.client.on("snapshot", self.snapshots.append, namespace="/play")
        auth = {"token": token} if token else {}
        self.client.connect(
            base, namespaces=["/play"], transports=["websocket"], auth=auth, wait_timeout=10
        )

    def _phase(self, payload: dict) -> None:
        self.phases.append(payload)
        self.seen.set()

    def call(self, event: str, data: dict) -> dict:
        return self.client.call(event, data, namespace="/play", timeout=10)

    def wait_for(self, phase: str, position: int | None = None, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for payload in reversed(self.phases):
                if payload["phase"] == phase and (
                    position is None or payload["position"] == position
                ):
                    return payload
            self.seen.wait(0.1)
            self.seen.clear()
        raise AssertionError(
            f"no {phase} {position} within {timeout}s; saw {[p['phase'] for p in self.phases]}"
        )


@pytest.fixture
def cluster(tmp_path):
    reason = redis_missing()
    if reason:
        pytest.skip(reason)
    url = fresh_postgres()
    env = {
        "QUIZ_DATABASE_URL": url,
        "QUIZ_MESSAGE_QUEUE": REDIS_URL,
        "QUIZ_MESSAGE_CHANNEL": f"quiz-test-{secrets.token_hex(4)}",
        "QUIZ_SECRET_KEY": "scale-out-test-key-of-at-least-32-characters",
        "QUIZ_DATA_DIR": str(tmp_path),
    }
    app = create_app(Settings.from_env(database_url=url, data_dir=tmp_path, run_timers=False))
    with app.app_context():
        load_bundled_banks(db.session)
        branches = make_branches(db.session)
        create_user("host", "password123", "organizer")
        timing = {
            "question_seconds": 4,
            "reveal_seconds": 1,
            "leaderboard_seconds": 1,
            "auto_advance": True,
        }
        contest = create_contest(
            db.session, title="双进程", bank_version=latest_version(db.session, "fujian-babu"),
            rule=2, branches=branches, settings={"timing": timing}, seed=3,
        )  # fmt: skip
        db.session.commit()
        info = {"contest_id": contest.id, "pin": contest.pin, "branches": [b.id for b in branches]}
        types = [cq.question.type for cq in contest.questions]
        db.engine.dispose()
    ports = [free_port(), free_port()]
    procs = [start_gunicorn(port, env) for port in ports]
    yield {**info, "types": types, "bases": [f"http://127.0.0.1:{p}" for p in ports], "ports": ports,
           "procs": procs, "env": env}  # fmt: skip
    for proc in procs:
        stop(proc)


def test_two_processes_serve_one_contest_and_survive_losing_one(cluster):
    a, b = cluster["bases"]
    host = socketio.Client(reconnection=False)
    host.connect(
        a,
        namespaces=["/host"],
        headers={"Cookie": login_cookie(a, "host", "password123")},
        wait_timeout=10,
    )
    assert host.call("watch", {"contest_id": cluster["contest_id"]}, namespace="/host")["ok"]

    on_a, on_b = Phone(a), Phone(b)
    joined_a = on_a.call(
        "join", {"pin": cluster["pin"], "name": "甲", "branch_id": cluster["branches"][0]}
    )
    joined_b = on_b.call(
        "join", {"pin": cluster["pin"], "name": "乙", "branch_id": cluster["branches"][1]}
    )
    assert joined_a["ok"] and joined_b["ok"]

    assert host.call(
        "control", {"contest_id": cluster["contest_id"], "action": "start"}, namespace="/host"
    ) == {"ok": True}
    question = on_b.wait_for("question", 0)  # the host acted on A; B's phone hears it through Redis
    assert "answer" not in str(question["question"])
    answered = on_b.call(
        "answer", {"position": 0, "choice": [question["question"]["options"][0]["id"]]}
    )
    assert answered["ok"], answered

    stop(cluster["procs"][0])  # A dies mid-question; B's timer must carry the contest on
    on_b.wait_for("reveal", 0, timeout=20)
    on_b.wait_for("question", 1, timeout=20)

    cluster["procs"][0] = start_gunicorn(cluster["ports"][0], cluster["env"])  # A comes back
    back = Phone(a, token=joined_a["token"])
    deadline = time.monotonic() + 10
    while not back.snapshots and time.monotonic() < deadline:
        time.sleep(0.05)
    assert back.snapshots and back.snapshots[0]["me"]["name"] == "甲"
    assert back.snapshots[0]["position"] >= 1  # resumed where the contest is now, from the database

    final = on_b.wait_for("finished", timeout=30)
    scores = {m["name"]: m for m in final["leaderboard"]["members"]}
    assert set(scores) == {"甲", "乙"}
    for client in (host, on_b.client, back.client):
        client.disconnect()
