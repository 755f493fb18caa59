"""Live-round load benchmark: N phones against a real gunicorn process, as the README deploys it.

    python benchmarks/live_load.py --phones 1000 --questions 5

Seeds a database (SQLite in a temp folder unless --database is given), starts
`gunicorn -k <worker> -w 1 quiz_server.wsgi:app` on loopback, connects N Socket.IO phones and
one logged-in big screen, and plays a host-led contest: every phone answers each question at a
human pace (a random 0.3–3 s after it arrives) and asks for its standing after each leaderboard.
Prints medians and tails of join, answer-ack and broadcast fan-out latency and the server's CPU.
All traffic stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import login_cookie, start_gunicorn, stop  # noqa: E402


def bench_branches(session, code: str, count: int, registered: int) -> list:
    """One agency with `count` load-test branches, added to the session."""
    from quiz_server.models import Unit

    agency = Unit(code=code, name="压测机关党委", kind="agency")
    branches = [
        Unit(
            code=f"{code}-{i}",
            name=f"压测第{i + 1}党支部",
            kind="branch",
            parent=agency,
            registered=registered,
        )
        for i in range(count)
    ]
    session.add_all([agency, *branches])
    return branches


def seed(database_url: str, data_dir: Path, questions: int) -> tuple[int, str]:
    from quiz_server import create_app
    from quiz_server.auth import create_user
    from quiz_server.banks import latest_version, load_bundled_banks
    from quiz_server.config import Settings
    from quiz_server.contests import create_contest
    from quiz_server.extensions import db

    app = create_app(
        Settings.from_env(database_url=database_url, data_dir=data_dir, run_timers=False)
    )
    with app.app_context():
        load_bundled_banks(db.session)
        branches = bench_branches(db.session, "BENCH", 10, 150)
        create_user("bench", "bench-password", "organizer")
        contest = create_contest(
            db.session,
            title="压测竞赛",
            bank_version=latest_version(db.session, "civility-etiquette"),
            rule=questions,
            branches=branches,
            settings={"timing": {"question_seconds": 20, "auto_advance": False}},
            seed=1,
        )
        db.session.commit()
        return contest.id, contest.pin


def worker_pid(master: int) -> int:
    """gunicorn's worker is the master's only child; its CPU is the server's CPU."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Phone:
    def __init__(
        self, base: str, pin: str, branch_id: int, index: int, stats: dict[str, list[float]]
    ):
        self.base, self.pin, self.branch_id, self.index = base, pin, branch_id, index
        self.stats = stats
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("phase", self.on_phase, namespace="/play")
        self.tasks: set[asyncio.Task[None]] = set()

    async def join(self) -> None:
        await self.sio.connect(
            self.base, namespaces=["/play"], transports=["websocket"], wait_timeout=20
        )
        started = time.perf_counter()
        ack = await self.sio.call(
            "join", {"pin": self.pin, "name": f"成员{self.index}", "branch_id": self.branch_id},
            namespace="/play", timeout=30,
        )  # fmt: skip
        assert ack["ok"], ack
        self.stats["join"].append(time.perf_counter() - started)

    async def on_phase(self, payload: dict) -> None:
        self.stats["fanout_" + payload["phase"]].append(time.time() - payload["server_now"] / 1000)
        if payload["phase"] == "question":
            self._spawn(self.answer(payload["question"]))
        elif payload["phase"] == "leaderboard":
            self._spawn(self.standing())

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def answer(self, question: dict) -> None:
        await asyncio.sleep(random.uniform(0.3, 3.0))
        option = random.choice(question["options"])["id"]
        started = time.perf_counter()
        try:
            ack = await self.sio.call(
                "answer",
                {"position": question["position"], "choice": [option]},
                namespace="/play",
                timeout=20,
            )
        except Exception:
            self.stats["errors"].append(1)
            return
        self.stats["ack"].append(time.perf_counter() - started)
        if not ack.get("ok"):
            self.stats["refused"].append(1)

    async def standing(self) -> None:
        await asyncio.sleep(random.uniform(0, 2.0))
        started = time.perf_counter()
        ack = await self.sio.call("standing", {}, namespace="/play", timeout=20)
        if ack.get("ok"):
            self.stats["standing"].append(time.perf_counter() - started)


async def play(
    base: str, contest_id: int, pin: str, args: argparse.Namespace, server_pid: int
) -> dict:
    stats: dict[str, list[float]] = {
        k: [] for k in ("join", "ack", "standing", "errors", "refused")
    }
    stats.update({f"fanout_{p}": [] for p in ("question", "reveal", "leaderboard", "finished")})
    branch_ids = await asyncio.to_thread(_branch_ids, base, pin)
    phones = [
        Phone(base, pin, branch_ids[i % len(branch_ids)], i, stats) for i in range(args.phones)
    ]
    t0 = time.perf_counter()
    for batch in range(0, len(phones), 50):
        await asyncio.gather(*(p.join() for p in phones[batch : batch + 50]))
    join_seconds = time.perf_counter() - t0

    host = socketio.AsyncClient(reconnection=False)
    await host.connect(
        base,
        namespaces=["/host"],
        headers={"Cookie": login_cookie(base, "bench", "bench-password")},
        wait_timeout=20,
    )
    assert (await host.call("watch", {"contest_id": contest_id}, namespace="/host"))["ok"]

    async def control(action: str) -> None:
        ack = await host.call(
            "control", {"contest_id": contest_id, "action": action}, namespace="/host", timeout=30
        )
        assert ack["ok"], ack

    cpu_before, wall_before, client_before = (
        cpu_seconds(server_pid),
        time.perf_counter(),
        time.process_time(),
    )
    await control("start")
    for position in range(args.questions):
        want = args.phones * (position + 1)
        await _wait(lambda want=want: len(stats["ack"]) + len(stats["errors"]) >= want, 30)
        await control("next")  # reveal
        await asyncio.sleep(1.0)
        await control("next")  # leaderboard
        await _wait(lambda want=want: len(stats["standing"]) >= want, 30)
        await control("next")  # next question, or finished
    await asyncio.sleep(1.0)
    cpu = cpu_seconds(server_pid) - cpu_before
    wall = time.perf_counter() - wall_before
    client_cpu = time.process_time() - client_before
    for phone in phones:
        await phone.sio.disconnect()
    await host.disconnect()
    return {
        "stats": stats,
        "join_seconds": join_seconds,
        "cpu": cpu,
        "wall": wall,
        "client_cpu": client_cpu,
    }


def _branch_ids(base: str, pin: str) -> list[int]:
    return [
        b["id"] for b in requests.get(f"{base}/api/contests/{pin}", timeout=10).json()["branches"]
    ]


async def _wait(condition, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


def report(result: dict, args: argparse.Namespace) -> None:
    s = result["stats"]
    print(
        f"\nphones {args.phones}, questions {args.questions}, worker {args.worker}, database {args.db_kind}"
    )
    print(
        f"joined in {result['join_seconds']:.1f} s ({args.phones / result['join_seconds']:.0f} joins/s)"
    )
    print(f"{'latency (ms)':<22}{'n':>7}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}")
    rows = [("join ack", s["join"]), ("answer ack", s["ack"]), ("standing ack", s["standing"])]
    rows += [(f"fan-out {p}", s[f"fanout_{p}"]) for p in ("question", "reveal", "leaderboard")]
    for label, values in rows:
        print(
            f"{label:<22}{len(values):>7}{ms(values, 0.5):>9}{ms(values, 0.9):>9}{ms(values, 0.99):>9}{ms(values, 1):>9}"
        )
    answers = len(s["ack"])
    print(f"answers acked {answers}, refused {len(s['refused'])}, errors {len(s['errors'])}")
    print(
        f"play took {result['wall']:.1f} s: server CPU {result['cpu']:.2f} s ({result['cpu'] / result['wall']:.0%} of a core), "
        f"load generator CPU {result['client_cpu']:.2f} s ({result['client_cpu'] / result['wall']:.0%})"
    )
    print(
        f"server CPU per answer {result['cpu'] / max(answers, 1) * 1e6:.0f} µs "
        f"(the answer plus its share of broadcasts, standing requests and pings)"
    )
    if s["ack"]:
        print(f"answer ack median {statistics.median(s['ack']) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument(
        "--worker",
        default="gevent",
        help="gevent | geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
    )
    parser.add_argument(
        "--database", default=None, help="SQLAlchemy URL (default: a fresh SQLite file)"
    )
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="quiz-bench-"))
    database = args.database or f"sqlite:///{data_dir / 'bench.sqlite3'}"
    args.db_kind = database.split(":", 1)[0]
    contest_id, pin = seed(database, data_dir, args.questions)
    env = {
        "QUIZ_DATABASE_URL": database,
        "QUIZ_DATA_DIR": str(data_dir),
        "QUIZ_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
    }
    server = start_gunicorn(args.port, env, args.worker)
    try:
        time.sleep(1.0)
        result = asyncio.run(
            play(f"http://127.0.0.1:{args.port}", contest_id, pin, args, worker_pid(server.pid))
        )
        report(result, args)
    finally:
        stop(server)


if __name__ == "__main__":
    main()
