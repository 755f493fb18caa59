"""Live-round load benchmark: phones joining at a stated rate and answering host-led questions,
against quiz-server and, in the same run, a bare Flask-SocketIO server on the same worker.

    python benchmarks/live_load.py --phones 1000 --join-rate 300 --questions 3
    python benchmarks/live_load.py --phones 5000 --processes 2 \\
        --database postgresql://127.0.0.1/test        # two processes behind nginx, Redis queue

For each target (the bare server of benchmarks/bare_server.py, then quiz-server) it starts the
servers (quiz-server through `quiz-server run [--processes N]`, the command users run; the bare
server on the same gunicorn argv and nginx configuration; one core per process), joins the
phones at `--join-rate`, and lets a logged-in big screen start and advance `--questions`
questions. Each phone answers once, uniformly over `--answer-window` seconds after the question
reaches it (`--burst`: over 2 s), and asks for its standing after each leaderboard. The phones
are Python asyncio WebSockets speaking Socket.IO directly (benchmarks/wsclient.py), cheap enough
that the server is what is measured; the output shows their CPU beside the server's.

Prints, per target and as quiz-server / bare ratios: phones seated of offered, join rate, server
CPU per join, answer-ack p50/p99/max per question, lost acks, refusals by reason, fan-out
(question emit → phone), server CPU per acked answer, memory, and for quiz-server the answer rows
in the database against the ok acks. All traffic stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cluster  # noqa: E402
from live_phones import Host, Load, Phone, Question  # noqa: E402
from live_report import report  # noqa: E402
from servers import login_cookie  # noqa: E402  (tests/, put on the path by cluster)

HOST_USER, HOST_PASSWORD = "bench", "bench-password"


# ---------------------------------------------------------------- the database (quiz-server)


def database_url(arg: str, folder: Path) -> tuple[str, str | None]:
    """The URL quiz-server uses, and the PostgreSQL schema made for this run (dropped after)."""
    if arg == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}", None
    import sqlalchemy as sa

    schema = f"bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(arg)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{arg}{'&' if '?' in arg else '?'}options=-csearch_path%3D{schema}", schema


def drop_schema(arg: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(arg)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def seed(url: str, folder: Path, args: argparse.Namespace) -> tuple[int, str]:
    """An organizer and a host-led contest of `--questions` questions for ten branches."""
    from quiz_server import create_app
    from quiz_server.auth import create_user
    from quiz_server.banks import latest_version, load_bundled_banks
    from quiz_server.config import Settings
    from quiz_server.contests import create_contest
    from quiz_server.extensions import db
    from quiz_server.models import Unit

    app = create_app(Settings.from_env(database_url=url, data_dir=folder, run_timers=False))
    with app.app_context():
        load_bundled_banks(db.session)
        agency = Unit(code="BENCH", name="压测机关党委", kind="agency")
        branches = [
            Unit(code=f"BENCH-{i}", name=f"压测第{i + 1}党支部", kind="branch", parent=agency,
                 registered=max(1, args.phones // 10))
            for i in range(10)
        ]  # fmt: skip
        db.session.add_all([agency, *branches])
        create_user(HOST_USER, HOST_PASSWORD, "organizer")
        timing = {"question_seconds": args.question_seconds, "auto_advance": False}
        contest = create_contest(
            db.session, title="压测竞赛", rule=args.questions, branches=branches,
            bank_version=latest_version(db.session, "civility-etiquette"),
            settings={"timing": timing}, seed=1,
        )  # fmt: skip
        for cq in contest.questions:  # a bank's own time limit could end a window early
            cq.time_limit = args.question_seconds
        db.session.commit()
        found = contest.id, contest.pin
        db.engine.dispose()
    return found


def stored(url: str, contest_id: int) -> dict[str, int]:
    """What the database holds after the run: answer rows and seats of the contest."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    counts = {}
    with engine.connect() as conn:
        for table in ("answer", "participant"):
            counts[table] = conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE contest_id = :c"), {"c": contest_id}
            ).scalar_one()
    engine.dispose()
    return counts


# ---------------------------------------------------------------- one run


async def _until(condition: Any, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _sessions(count: int) -> list[aiohttp.ClientSession]:
    """HTTP sessions bound to `count` loopback source addresses (127.0.1.x), so nginx's
    `hash $remote_addr` spreads the phones over the processes as it spreads real clients."""
    if count <= 1:
        return [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))]
    return [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, local_addr=(f"127.0.1.{i + 1}", 0))
        )
        for i in range(count)
    ]


class Meter:
    """Server and load-generator CPU between two moments."""

    def __init__(self, servers: cluster.Cluster) -> None:
        self.servers = servers
        self.server, self.generator = sum(servers.cpu()), time.process_time()
        self.waits = self._waits()

    def _waits(self) -> tuple[float, float]:
        return sum(self.servers.waited()), cluster.run_delay("self")

    def read(self) -> tuple[float, float]:
        return sum(self.servers.cpu()) - self.server, time.process_time() - self.generator

    def waited(self) -> tuple[float, float]:
        """(server, load generator) seconds spent waiting for a CPU the machine gave others."""
        now = self._waits()
        return now[0] - self.waits[0], now[1] - self.waits[1]


async def drive(load: Load, servers: cluster.Cluster, contest_id: int, cookie: str) -> dict:
    """Join the phones, play the questions, and collect what the servers spent."""
    args = load.args
    sessions = _sessions(64 if args.processes > 1 else 1)
    host = Host(contest_id)
    await host.connect(sessions[0], load.base, cookie)
    phones = [Phone(load, i) for i in range(args.phones)]
    lag = asyncio.ensure_future(_loop_lag(load))
    result = await _joins(load, phones, sessions, servers)
    result["ping_interval"] = host.ping_interval
    await asyncio.sleep(1.0)
    whole, per_process = Meter(servers), servers.cpu()
    try:
        await _questions(load, host, phones, servers)
    except (RuntimeError, TimeoutError) as err:  # the contest stopped moving: report what we saw
        result["aborted"] = f"{err.__class__.__name__}: {err}"
    result["run_cpu"], result["run_generator_cpu"] = whole.read()
    result["run_waited"] = whole.waited()
    result["cpu_by_process"] = [b - a for a, b in zip(per_process, servers.cpu(), strict=True)]
    load.closed_by_server = sum(p.seated and not p.sock.open for p in phones)  # type: ignore[union-attr]
    result["memory"] = servers.memory_mb()
    result["nginx_cpu"] = servers.nginx_cpu()
    lag.cancel()
    for phone in phones:
        if phone.sock is not None:
            await phone.sock.close()
    if host.sock is not None:
        await host.sock.close()
    for http in sessions:
        await http.close()
    return result


async def _loop_lag(load: Load, period: float = 0.05) -> None:
    """How late the load generator's own event loop runs a timer: when this grows, the
    latencies measured include the generator's delay, not only the server's."""
    while True:
        due = time.monotonic() + period
        await asyncio.sleep(period)
        load.loop_lag.append((time.monotonic() - due) * 1000)


async def _joins(
    load: Load, phones: list[Phone], sessions: list[aiohttp.ClientSession], servers: cluster.Cluster
) -> dict[str, Any]:
    """Offer the joins at `--join-rate` and wait for each to be seated, refused or timed out."""
    rate = load.args.join_rate
    meter, t0 = Meter(servers), time.time()
    tasks = []
    for i, phone in enumerate(phones):
        await asyncio.sleep(max(0.0, t0 + i / rate - time.time()))
        tasks.append(asyncio.ensure_future(phone.join(sessions[i % len(sessions)])))
    await asyncio.gather(*tasks)
    join_cpu, join_generator = meter.read()
    return {
        "join_waited": meter.waited(),
        "join_wall": max(load.last_seat - t0, 1e-9),
        "join_cpu": join_cpu,
        "join_generator_cpu": join_generator,
        "offered_for": len(phones) / rate,
    }


async def _questions(load: Load, host: Host, phones: list[Phone], servers: cluster.Cluster) -> None:
    """The host opens each question, waits for the answers, reveals, shows the board."""
    args = load.args
    for position in range(args.questions):
        q = load.question(position)
        q.expected = sum(p.seated and p.sock is not None and p.sock.open for p in phones)
        meter, q.started = Meter(servers), time.time()
        await host.reach("start" if position == 0 else "next", "question", position)
        await _wait_answers(q, args)
        q.closed = True
        q.lost = q.sent - q.resolved()
        q.cpu, q.generator_cpu = meter.read()
        q.wall = time.time() - q.started
        await host.reach("next", "reveal", position)
        await host.reach("next", "leaderboard", position)
        if args.standing:

            def answered() -> int:
                return len(load.standing) + sum(load.standing_refused.values())

            want = answered() + sum(p.seated and p.sock.open for p in phones)  # type: ignore[union-attr]
            await _until(lambda want=want: answered() >= want, 15)
    await host.reach("next", "finished", args.questions - 1)


async def _wait_answers(q: Question, args: argparse.Namespace) -> None:
    """Until every phone's answer is acked or refused, or no ack came within `--ack-timeout`."""
    fanout_allowance = 10.0
    hard = q.started + fanout_allowance + args.answer_window + args.ack_timeout + 30
    while q.resolved() < q.expected and time.time() < hard:
        quiet = time.time() - max(q.last_sent, q.started)
        if (
            time.time() > q.started + args.answer_window + fanout_allowance
            and quiet > args.ack_timeout
        ):
            break
        await asyncio.sleep(0.05)


def measure(target: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Start `target`'s servers, play the contest against them, stop them; the figures."""
    env: dict[str, str] = {"QUIZ_DATA_DIR": str(folder)}
    contest_id, pin, url, schema = 0, "000000", "", None
    if target == "quiz-server":
        url, schema = database_url(args.database, folder)
        contest_id, pin = seed(url, folder, args)
        env.update(QUIZ_DATABASE_URL=url, QUIZ_SECRET_KEY=secrets.token_hex(32))
        app = cluster.QUIZ_APP
    else:
        env["BARE_QUESTIONS"] = str(args.questions)
        app = cluster.BARE_APP
    servers = cluster.start(app, args.processes, env, folder, args.phones, args.redis)
    profiler = None
    try:
        if args.pin:
            os.sched_setaffinity(0, cluster.generator_cores(servers.cores))
        cookie = login_cookie(servers.base, HOST_USER, HOST_PASSWORD) if target != "bare" else ""
        import requests

        listing = requests.get(f"{servers.base}/api/contests/{pin}", timeout=10).json()
        load = Load(args, servers.base, pin, [b["id"] for b in listing["branches"]])
        profiler = _profile(args.profile, servers) if target == "quiz-server" else None
        result = asyncio.run(drive(load, servers, contest_id, cookie))
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        servers.stop()
    result.update(target=target, load=load, cores=servers.cores, log=servers.log)
    result["log_errors"] = _log_errors(servers.log)
    if target == "quiz-server":
        result["stored"] = stored(url, contest_id)
        if schema:
            drop_schema(args.database, schema)
    return result


def _profile(path: str | None, servers: cluster.Cluster) -> subprocess.Popen[bytes] | None:
    """py-spy sampling quiz-server's (first) worker for the whole run, as collapsed stacks."""
    if not path:
        return None
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    argv = [binary, "record", "--pid", str(servers.workers[0]), "--rate", "100",
            "--nonblocking", "--format", "raw", "--output", path]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL)


LOG_MARKS = (
    "Traceback", "ERROR", "CRITICAL", "QueuePool limit", "too many clients",
    "exited (",  # the supervisor of `quiz-server run --processes N` restarting a process
    "[error]", "[alert]", "[crit]",  # nginx (e.g. "worker_connections are not enough")
)  # fmt: skip


def _log_errors(log: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        for mark in LOG_MARKS:
            if mark in line:
                found[mark] += 1
    return found


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--phones", type=int, default=500)
    add("--join-rate", type=float, default=300, help="joins offered per second")
    add("--questions", type=int, default=3)
    add("--answer-window", type=float, default=8.0, help="answers uniform over this many seconds")
    add("--burst", action="store_true", help="answers within 2 s of the question (the window: 2)")
    add("--question-seconds", type=int, default=0, help="question time limit (default window + 20)")
    add("--ack-timeout", type=float, default=20.0, help="an ack later than this counts as lost")
    add("--join-timeout", type=float, default=30.0)
    add("--no-standing", dest="standing", action="store_false", help="no standing after boards")
    add("--database", default="sqlite", help="sqlite (a temp file) or a PostgreSQL URL")
    add("--processes", type=int, default=1, help=">1: that many behind nginx, Redis queue")
    add("--redis", default="redis://127.0.0.1:6379/0", help="message queue for --processes > 1")
    add("--no-pin", dest="pin", action="store_false", help="no core pinning (a busy shared box)")
    add("--profile", metavar="FILE", help="py-spy quiz-server's worker into FILE (raw stacks)")
    add("--only", choices=("both", "bare", "quiz-server"), default="both")
    add("--keep", metavar="DIR", help="run in DIR (a new folder) and keep the logs there")
    args = parser.parse_args(argv)
    if args.processes > 1 and args.database == "sqlite":
        parser.error("--processes > 1 needs a PostgreSQL URL: a SQLite file serves one process")
    if args.burst:
        args.answer_window = 2.0
    args.question_seconds = args.question_seconds or int(args.answer_window + 20)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    cluster.PIN = args.pin
    targets = ["bare", "quiz-server"] if args.only == "both" else [args.only]
    with tempfile.TemporaryDirectory(prefix="quiz-bench-") as tmp:
        tmp = args.keep or tmp
        results = []
        for target in targets:
            folder = Path(tmp) / target
            folder.mkdir(parents=True)
            print(f"measuring {target} …", flush=True)
            results.append(measure(target, args, folder))
        report(results, args)


if __name__ == "__main__":
    main()
