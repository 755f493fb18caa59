"""Faults the scale-out set must survive, with real processes: `quiz-server run --processes 2`
(two gunicorn processes, nginx in front, supervised), PostgreSQL, and a Redis of the test's own.

Each test states its bound: every phone has the current phase within RECOVER_SECONDS of the
fault ending, no ok ack without its stored row, and nobody loses a question to the outage.
The phones here behave as the page does: token resume on reconnect, retry of a retryable
refusal with backoff, a `sync` on a `seq` gap.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import sqlalchemy as sa
from conftest import fresh_postgres, make_branches, postgres_missing
from servers import ROOT, Cluster, free_port, free_ports, login_cookie

from quiz_server import create_app
from quiz_server.auth import create_user
from quiz_server.banks import latest_version, load_bundled_banks
from quiz_server.cluster import NGINX, port_free
from quiz_server.config import Settings
from quiz_server.contests import create_contest
from quiz_server.extensions import db
from quiz_server.models import Answer, Contest

pytestmark = pytest.mark.server

# From the fault's end until every phone holds the current phase. A restarted worker needs about
# 2 s of CPU to load; on the shared 2-core CI machine (load 6-8) that was up to 20 s of wall time.
RECOVER_SECONDS = 45
RETRYABLE = {"server_error", "busy"}
PHONES = 10  # per group; each test uses two or three groups


def _missing() -> str | None:
    if not Path(NGINX).is_file() and not shutil.which("nginx"):
        return "nginx is not installed (./dev test installs it as root: apt-get install nginx)"
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    return postgres_missing()


class Redis:
    """A redis-server of this test's own, to stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no"]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 10
        while port_free("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("faults")
    name = f"quiz_faults_{secrets.token_hex(4)}"
    url = f"{fresh_postgres()}&application_name={name}"
    redis = Redis()
    env = {
        "QUIZ_DATABASE_URL": url,
        "QUIZ_MESSAGE_QUEUE": f"redis://127.0.0.1:{redis.port}/0",
        "QUIZ_MESSAGE_CHANNEL": name,
        "QUIZ_SECRET_KEY": "fault-test-key-of-at-least-32-characters",
        "QUIZ_DATA_DIR": str(tmp),
    }
    app = create_app(Settings.from_env(database_url=url, data_dir=tmp, run_timers=False))
    with app.app_context():
        load_bundled_banks(db.session)
        branches = [b.id for b in make_branches(db.session)]
        create_user("host", "password123", "organizer")
        db.session.commit()
    cluster = Cluster(free_ports(3), 2, env, tmp / "cluster.log")
    try:
        yield {"app": app, "cluster": cluster, "redis": redis, "branches": branches,
               "app_name": name, "log": tmp / "cluster.log"}  # fmt: skip
    finally:
        cluster.stop()
        redis.stop()
        with app.app_context():
            db.engine.dispose()


def new_contest(faults: dict[str, Any], questions: int, **timing: Any) -> dict[str, Any]:
    app = faults["app"]
    with app.app_context():
        from quiz_server.models import Unit

        contest = create_contest(
            db.session, title="故障演练", bank_version=latest_version(db.session, "fujian-babu"),
            rule=questions, branches=[db.session.get(Unit, b) for b in faults["branches"]],
            # No early close and no reading time: the tests time the phases themselves.
            settings={"timing": {"reveal_seconds": 1, "reveal_seconds_per_char": 0,
                                 "leaderboard_seconds": 1, "close_early": False, **timing}},
            seed=5,
        )  # fmt: skip
        db.session.commit()
        return {"id": contest.id, "pin": contest.pin}


def stored(faults: dict[str, Any], contest_id: int) -> tuple[int, int]:
    """(answer rows, the contest's seq) as the database has them now."""
    with faults["app"].app_context():
        rows = db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer).where(Answer.contest_id == contest_id)
        )
        seq = db.session.scalar(sa.select(Contest.seq).where(Contest.id == contest_id))
        db.session.rollback()
        return int(rows or 0), int(seq or 0)


class Phone:
    """A member's phone as the page behaves (static/js/play.js)."""

    def __init__(self, base: str, transports: tuple[str, ...] = ("websocket",)) -> None:
        self.token: str | None = None
        self.seen: list[tuple[str, dict]] = []
        self.credits: list[dict] = []
        self.acks: list[dict] = []
        self.answered: set[int] = set()  # questions acked ok
        self.claimed: set[int] = set()  # questions an answer is on its way for
        self.auto: Callable[[Phone, dict], None] | None = None
        self.lock = threading.Lock()
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.3, reconnection_delay_max=1.5
        )
        for kind in ("phase", "resync", "snapshot"):
            self.client.on(kind, self._on(kind), namespace="/play")
        self.client.on("time_credit", self.credits.append, namespace="/play")
        self.client.connect(base, namespaces=["/play"], transports=list(transports),
                            auth=lambda: {"token": self.token} if self.token else {},
                            wait_timeout=10)  # fmt: skip

    def _on(self, kind: str) -> Callable[[dict], None]:
        def got(payload: dict) -> None:
            self._note(kind, payload)

        return got

    def _note(self, kind: str, payload: dict) -> None:
        with self.lock:
            gap = self.seen and payload["seq"] > self.seq() + 1
            self.seen.append((kind, payload))
        if gap and kind != "snapshot":
            threading.Thread(target=self.sync, daemon=True).start()
        if self.auto and payload["phase"] == "question":
            threading.Thread(target=self.auto, args=(self, payload), daemon=True).start()

    def seq(self) -> int:
        return max((p["seq"] for _, p in self.seen), default=-1)

    def latest(self) -> dict:
        return max((p for _, p in self.seen), key=lambda p: p["seq"])

    def positions(self, phase: str) -> set[int]:
        return {p["position"] for _, p in self.seen if p["phase"] == phase}

    def call(self, event: str, data: dict, timeout: float = 10) -> dict | None:
        try:
            return self.client.call(event, data, namespace="/play", timeout=timeout)
        except Exception:  # noqa: BLE001  # no ack: timed out or disconnected, as on a phone
            return None

    def join(self, pin: str, name: str, branch_id: int) -> None:
        ack = self.call("join", {"pin": pin, "name": name, "branch_id": branch_id})
        assert ack and ack["ok"], ack
        self.token = ack["token"]
        self._note("snapshot", ack["snapshot"])

    def sync(self) -> None:
        ack = self.call("sync", {})
        if ack and ack.get("ok"):
            self._note("snapshot", ack["snapshot"])

    def answer(self, position: int, choice: list[str], give_up: float = 30) -> dict:
        """Send until a final ack (ok or a refusal not to repeat), as the page does."""
        deadline, tries = time.monotonic() + give_up, 0
        while time.monotonic() < deadline:
            ack = self.call("answer", {"position": position, "choice": choice})
            if ack is not None:
                self.acks.append(ack)
            if ack is not None and (ack["ok"] or ack.get("reason") not in RETRYABLE):
                if ack["ok"]:
                    self.answered.add(position)
                return ack
            tries += 1
            time.sleep(min(0.2 * 2**tries, 2.0))
        raise AssertionError(f"no final ack for question {position} in {give_up} s")

    def close(self) -> None:
        self.client.disconnect()


def first_option(payload: dict) -> list[str]:
    return [payload["question"]["options"][0]["id"]]


def auto_answer(phone: Phone, payload: dict) -> None:
    position = payload["position"]
    with phone.lock:
        if position in phone.claimed:
            return
        phone.claimed.add(position)  # one sender per question, whatever the events
    phone.answer(position, first_option(payload))


def seat(faults: dict, contest: dict, bases: list[str], per_base: int = PHONES) -> list[Phone]:
    def make(i: int) -> Phone:
        phone = Phone(bases[i % len(bases)])
        branch = faults["branches"][i % len(faults["branches"])]
        phone.join(contest["pin"], f"党员{i:02d}", branch)
        return phone

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(make, range(per_base * len(bases))))


def host_for(base: str, contest: dict) -> socketio.Client:
    host = socketio.Client(reconnection=True, reconnection_delay=0.3)
    host.connect(base, namespaces=["/host"], wait_timeout=10,
                 headers={"Cookie": login_cookie(base, "host", "password123")})  # fmt: skip
    assert host.call("watch", {"contest_id": contest["id"]}, namespace="/host")["ok"]
    return host


def control(host: socketio.Client, contest: dict, action: str) -> dict:
    return host.call("control", {"contest_id": contest["id"], "action": action},
                     namespace="/host", timeout=15)  # fmt: skip


def finish(host: socketio.Client, contest: dict, phones: list[Phone]) -> None:
    """End the contest (its timers stop, nothing of it runs into the next test) and hang up.
    The host's socket may still be reconnecting after a kill (its backoff grows to seconds):
    after a short wait, a fresh host console logs in at the same address and ends it."""
    if not _end(host, contest, 3):
        fresh = host_for(host.connection_url, contest)
        assert _end(fresh, contest, 15), "the contest could not be ended"
        fresh.disconnect()
    for client in [host, *(p.client for p in phones)]:
        client.disconnect()


def _end(host: socketio.Client, contest: dict, patience: float) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            ack = control(host, contest, "end")
        except Exception:  # noqa: BLE001  # not connected yet
            ack = None
        if ack is not None:  # ended now, or refused as already finished
            assert ack["ok"] or ack["reason"] == "wrong_phase", ack
            return True
        time.sleep(0.3)
    return False


def wait_all(
    phones: list[Phone], test: Callable[[Phone], bool], timeout: float, what: str
) -> float:
    """Seconds until every phone passes `test`; fails naming how many did not."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if all(test(p) for p in phones):
            return time.monotonic() - start
        time.sleep(0.1)
    behind = sum(not test(p) for p in phones)
    raise AssertionError(f"{behind} of {len(phones)} phones: not {what} within {timeout} s")


# ---------------------------------------------------------------------------------- the tests


def test_nginx_in_front_of_two_processes_serves_one_contest(faults):
    cluster = faults["cluster"]
    contest = new_contest(faults, 1, question_seconds=30, auto_advance=False)
    page = requests.get(f"{cluster.base()}/static/js/play.js", timeout=10)
    assert page.status_code == 200
    assert page.content == (ROOT / "static" / "js" / "play.js").read_bytes()
    bases = [cluster.base(), *(cluster.base(p) for p in cluster.worker_ports)]
    phones = seat(faults, contest, bases, per_base=4)
    polling = Phone(cluster.base(), transports=("polling",))  # long-polling through nginx
    polling.join(contest["pin"], "轮询", faults["branches"][0])
    phones.append(polling)
    host = host_for(cluster.base(), contest)
    assert control(host, contest, "start") == {"ok": True}
    wait_all(phones, lambda p: 0 in p.positions("question"), 10, "shown question 0")
    with ThreadPoolExecutor(8) as pool:
        acks = list(pool.map(lambda p: p.answer(0, first_option(p.latest())), phones))
    assert all(a["ok"] for a in acks), acks
    assert stored(faults, contest["id"])[0] == len(phones)
    finish(host, contest, phones)


def test_answers_during_a_database_outage_get_refusals_never_a_false_ok(faults):
    cluster = faults["cluster"]
    contest = new_contest(faults, 1, question_seconds=60, auto_advance=False)
    bases = [cluster.base(p) for p in cluster.worker_ports]
    phones = seat(faults, contest, bases)
    host = host_for(bases[0], contest)
    assert control(host, contest, "start") == {"ok": True}
    wait_all(phones, lambda p: 0 in p.positions("question"), 10, "shown question 0")

    stop = threading.Event()
    kill = sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE application_name = :name AND pid <> pg_backend_pid()")  # fmt: skip
    engine = sa.create_engine(os.environ.get("QUIZ_TEST_POSTGRES_URL",
                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))  # fmt: skip

    def outage() -> None:  # every connection of the cluster cut, again and again, for 3 s
        with engine.connect() as conn:
            while not stop.is_set():
                conn.execute(kill, {"name": faults["app_name"]})
                conn.commit()
                time.sleep(0.05)

    cutter = threading.Thread(target=outage)
    cutter.start()
    try:
        with ThreadPoolExecutor(10) as pool:
            first = list(pool.map(lambda p: p.call("answer", {"position": 0,
                                                   "choice": first_option(p.latest())}),
                                  phones))  # fmt: skip
            time.sleep(3)
    finally:
        stop.set()
        cutter.join()
        engine.dispose()
    refused = [a for a in first if a is not None and not a["ok"]]
    assert all(a["reason"] in RETRYABLE for a in refused), refused
    # Every phone retries by itself until a final ack; all of them get in once the database is back.
    with ThreadPoolExecutor(10) as pool:
        final = list(pool.map(lambda p: p.answer(0, first_option(p.latest())), phones))
    assert all(a["ok"] for a in final), final
    rows, _ = stored(faults, contest["id"])
    assert rows == len(phones)  # one stored row per phone that was acked ok: none false
    assert sum(1 for a in first if a is not None and a["ok"]) <= rows
    for phone in phones:  # and each can ask for its snapshot again
        phone.sync()
        assert phone.latest()["phase"] == "question"
    finish(host, contest, phones)


def test_a_redis_outage_loses_nobody_a_question(faults):
    """Two questions; the queue is away from just after question 0 opens until after question 1
    has opened: phones of both processes still see both, answer both, and end in step."""
    cluster, redis = faults["cluster"], faults["redis"]
    contest = new_contest(faults, 2, question_seconds=5, auto_advance=True)
    bases = [cluster.base(p) for p in cluster.worker_ports]
    phones = seat(faults, contest, bases)
    for phone in phones:
        phone.auto = auto_answer
    host = host_for(bases[0], contest)
    assert control(host, contest, "start") == {"ok": True}
    wait_all(phones, lambda p: 0 in p.positions("question"), 10, "shown question 0")
    redis.stop()
    try:
        wait_all(phones, lambda p: 1 in p.positions("question"), 15, "shown question 1 (outage)")
    finally:
        redis.start()
    took = wait_all(phones, lambda p: p.latest()["phase"] == "finished", 30, "finished")
    _, seq = stored(faults, contest["id"])
    wait_all(phones, lambda p: p.seq() == seq, RECOVER_SECONDS, "at the stored seq")
    assert all(p.answered == {0, 1} for p in phones), [sorted(p.answered) for p in phones]
    rows, _ = stored(faults, contest["id"])
    assert rows == 2 * len(phones) == sum(len(p.answered) for p in phones)
    assert took < RECOVER_SECONDS
    finish(host, contest, phones)


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def _workers(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def test_kill_9_of_worker_and_master_phones_come_back_to_the_open_question(faults):
    cluster = faults["cluster"]
    contest = new_contest(faults, 1, question_seconds=90, auto_advance=False)
    phones = seat(faults, contest, [cluster.base()], per_base=2 * PHONES)  # through nginx
    host = host_for(cluster.base(cluster.worker_ports[1]), contest)
    assert control(host, contest, "start") == {"ok": True}
    wait_all(phones, lambda p: 0 in p.positions("question"), 10, "shown question 0")

    def resumed_since(mark: dict[int, int]) -> Callable[[Phone], bool]:
        def test(phone: Phone) -> bool:
            fresh = phone.seen[mark[id(phone)] :]
            return any(k == "snapshot" and p["phase"] == "question" for k, p in fresh)

        return test

    for what in ("worker", "master"):
        mark = {id(p): len(p.seen) for p in phones}
        lines = len(cluster.lines)
        masters = [cluster.pids[port] for port in cluster.worker_ports]
        for master in masters:
            for pid in _workers(master) if what == "worker" else [master]:
                _kill(pid)
        if what == "master":
            assert cluster.wait_line("(restarted)", 30, after=lines), cluster.lines[lines:]
        took = wait_all(
            phones, resumed_since(mark), RECOVER_SECONDS, f"resumed after kill -9 {what}"
        )
        print(f"kill -9 {what}: every phone back at the open question in {took:.1f} s")
    with ThreadPoolExecutor(10) as pool:
        acks = list(pool.map(lambda p: p.answer(0, first_option(p.latest())), phones))
    assert all(a["ok"] for a in acks), acks
    assert stored(faults, contest["id"])[0] == len(phones)
    finish(host, contest, phones)
