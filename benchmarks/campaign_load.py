"""Campaign load benchmark: members taking timed attempts over plain HTTP against a real
gunicorn process started as the README deploys it, then the unit-ranking computation at scale.

    python benchmarks/campaign_load.py --members 1000
    python benchmarks/campaign_load.py --skip-load --rank-members 20000 --rank-attempts 10

Part 1 seeds a campaign (SQLite in a temp folder unless --database is given), starts
`python -m gunicorn -k gevent -w 1 --worker-connections 4000 quiz_server.wsgi:app` on loopback,
and lets N members (joined beforehand) each start an attempt within a ramp of --ramp seconds and
answer its questions at a human pace (a random 10–30 s per question: a 10-question attempt
in about 3.5 minutes; --pace-min/--pace-max to press harder), over the same JSON API the
phone page uses. Prints attempt-start and answer-ack latency p50/p99 and the server's CPU.

Part 2 bulk-loads M members × K finished attempts across a system → agency → branch tree and
times the rankings (members' counted results, then branches, agencies and systems), as medians.
All traffic stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from live_load import bench_branches, cpu_seconds, ms, worker_pid  # noqa: E402

from tests.servers import start_gunicorn  # noqa: E402


def app_for(database_url: str, data_dir: Path):
    from quiz_server import create_app
    from quiz_server.config import Settings

    return create_app(
        Settings.from_env(database_url=database_url, data_dir=data_dir, run_timers=False)
    )


def seed_campaign(app, members: int, questions: int, branches: int = 10):
    """A campaign open now, members already joined (their tokens are returned)."""
    from quiz_server.banks import latest_version, load_bundled_banks
    from quiz_server.campaign import Rules, attempts
    from quiz_server.campaign.setup import create_campaign
    from quiz_server.extensions import db

    with app.app_context():
        load_bundled_banks(db.session)
        units = bench_branches(db.session, "CB", branches, members // branches + 5)
        now = datetime.now(UTC)
        contest = create_campaign(
            db.session,
            title="压测网络竞答",
            bank_version=latest_version(db.session, "civility-etiquette"),
            rule=questions,
            branches=units,
            seed=1,
            rules=Rules(
                starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1), per_day=50
            ),
        )
        tokens = [
            attempts.join(db.session, contest, f"成员{i}", units[i % branches].id).token
            for i in range(members)
        ]
        db.session.commit()
        return contest.pin, tokens


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The README's production command (`quiz-server run`), on loopback."""
    return start_gunicorn(port, env)


async def post(http: aiohttp.ClientSession, url: str, body: dict, headers: dict[str, str]) -> dict:
    """POST as the phone does: a dropped keep-alive connection is retried (answers are
    idempotent), and the latency counted includes the retry."""
    for attempt in range(3):
        try:
            async with http.post(url, json=body, headers=headers) as res:
                return await res.json()
        except aiohttp.ServerDisconnectedError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def member(
    http: aiohttp.ClientSession,
    base: str,
    token: str,
    args: argparse.Namespace,
    stats: dict[str, list[float]],
) -> None:
    headers = {"X-Member-Token": token}
    await asyncio.sleep(random.uniform(0, args.ramp))
    started = time.perf_counter()
    try:
        body = await post(http, f"{base}/attempts", {"device": token[:12]}, headers)
    except (TimeoutError, aiohttp.ClientError):
        stats["errors"].append(1)
        return
    stats["start"].append(time.perf_counter() - started)
    if not body.get("ok"):
        stats["refused"].append(1)
        return
    attempt = body["attempt"]
    for item in attempt["items"]:
        await asyncio.sleep(random.uniform(args.pace_min, args.pace_max))
        choice = [random.choice(item["options"])["id"]]
        t0 = time.perf_counter()
        try:
            url = f"{base}/attempts/{attempt['id']}/answers"
            ack = await post(http, url, {"position": item["position"], "choice": choice}, headers)
        except (TimeoutError, aiohttp.ClientError):
            stats["errors"].append(1)
            continue
        stats["ack"].append(time.perf_counter() - t0)
        if not ack.get("ok"):
            stats["refused"].append(1)


async def load(base: str, tokens: list[str], args: argparse.Namespace) -> dict[str, list[float]]:
    stats: dict[str, list] = {"start": [], "ack": [], "errors": [], "refused": []}
    connector = aiohttp.TCPConnector(limit=len(tokens) + 10)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(member(http, base, t, args, stats) for t in tokens))
    return stats


def run_load(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="quiz-campaign-bench-"))
    database = args.database or f"sqlite:///{data_dir / 'bench.sqlite3'}"
    pin, tokens = seed_campaign(app_for(database, data_dir), args.members, args.questions)
    env = {"QUIZ_DATABASE_URL": database, "QUIZ_DATA_DIR": str(data_dir)}
    server = start_server(args.port, env)
    try:
        time.sleep(1.0)
        pid = worker_pid(server.pid)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        stats = asyncio.run(load(f"http://127.0.0.1:{args.port}/api/campaign/{pin}", tokens, args))
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    finally:
        server.terminate()
        server.wait(timeout=15)
    kind = database.split(":", 1)[0]
    print(
        f"\nmembers {args.members}, {args.questions} questions each "
        f"at {args.pace_min:g}-{args.pace_max:g} s, starts over {args.ramp:g} s, "
        f"gunicorn -k gevent -w 1, database {kind}"
    )
    print(f"{'latency (ms)':<20}{'n':>7}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}")
    for label, values in (("attempt start", stats["start"]), ("answer ack", stats["ack"])):
        cells = "".join(f"{ms(values, q):>9}" for q in (0.5, 0.9, 0.99, 1))
        print(f"{label:<20}{len(values):>7}{cells}")
    if stats["errors"]:
        print("errors by kind:", dict(Counter(stats["errors"])))
    requests = len(stats["start"]) + len(stats["ack"])
    print(
        f"refused {len(stats['refused'])}, errors {len(stats['errors'])}, wall {wall:.1f} s, "
        f"{requests / wall:.0f} requests/s, server CPU {cpu:.1f} s "
        f"= {cpu / max(requests, 1) * 1e6:.0f} µs per request"
    )


# ------------------------------------------------------------------ part 2: ranking at scale


def seed_rankings(app, members: int, per_member: int) -> int:
    """5 systems × 8 agencies × 10 branches; members × attempts inserted in bulk (no items:
    rankings read attempts only)."""
    from sqlalchemy import insert

    from quiz_server import campaign
    from quiz_server.banks import latest_version, load_bundled_banks
    from quiz_server.campaign import Rules
    from quiz_server.campaign.setup import create_campaign
    from quiz_server.extensions import db
    from quiz_server.models import Attempt, CampaignScore, Participant, Unit

    rng = random.Random(1)
    with app.app_context():
        load_bundled_banks(db.session)
        branches = []
        for s in range(5):
            system = Unit(code=f"RS{s}", name=f"系统{s}", kind="system", position=s)
            for a in range(8):
                agency = Unit(
                    code=f"RS{s}A{a}", name=f"机关{s}-{a}", kind="agency", parent=system, position=a
                )
                branches += [
                    Unit(
                        code=f"RS{s}A{a}B{b}",
                        name=f"支部{s}-{a}-{b}",
                        kind="branch",
                        parent=agency,
                        registered=rng.randint(members // 400 + 5, members // 400 + 40),
                        position=b,
                    )
                    for b in range(10)
                ]
        db.session.add_all(branches)
        start = datetime.now(UTC) - timedelta(days=5)
        contest = create_campaign(
            db.session,
            title="排行压测",
            bank_version=latest_version(db.session, "civility-etiquette"),
            rule=10,
            branches=branches,
            rules=Rules(starts_at=start, ends_at=start + timedelta(days=10), per_day=None),
        )
        db.session.flush()
        people = [
            {
                "contest_id": contest.id,
                "unit_id": branches[i % len(branches)].id,
                "name": f"m{i}",
                "token": f"rank-{i}",
                "seed": i,
            }
            for i in range(members)
        ]
        db.session.execute(insert(Participant), people)
        people = db.session.execute(
            db.select(Participant.id, Participant.unit_id).where(
                Participant.contest_id == contest.id
            )
        ).all()
        rows, scores = [], []
        for pid, unit_id in people:
            totals = campaign.Totals()
            for n in range(per_member):
                began = start + timedelta(days=rng.randint(0, 4), minutes=rng.randint(0, 1000))
                rows.append(
                    {
                        "contest_id": contest.id,
                        "participant_id": pid,
                        "number": n + 1,
                        "local_day": began.date().isoformat(),
                        "draw_seed": 1,
                        "shuffle_seed": 1,
                        "started_at": began,
                        "deadline": began + timedelta(minutes=10),
                        "finished_at": began + timedelta(seconds=rng.randint(60, 600)),
                        "score": 10 * rng.randint(3, 10),
                        "full_mark": 100,
                        "time_ms": rng.randint(60_000, 600_000),
                        "closed_by": "submit",
                    }
                )
                done = rows[-1]
                result = campaign.Result(done["score"], done["time_ms"], done["finished_at"])
                totals = campaign.add_result(totals, result, done["score"] == 100)
            scores.append(
                {
                    "participant_id": pid,
                    "contest_id": contest.id,
                    "unit_id": unit_id,
                    "attempts": totals.attempts,
                    "full": int(totals.full),
                    "best_score": totals.best[0],
                    "best_time_ms": totals.best[1],
                    "latest_score": totals.latest[0],
                    "latest_time_ms": totals.latest[1],
                    "sum_score": totals.sum[0],
                    "sum_time_ms": totals.sum[1],
                }
            )
            if len(rows) >= 50_000:
                db.session.execute(insert(Attempt), rows)
                rows = []
        if rows:
            db.session.execute(insert(Attempt), rows)
        db.session.execute(insert(CampaignScore), scores)
        db.session.commit()
        return contest.id


def run_rankings(args: argparse.Namespace) -> None:
    from quiz_server.campaign import rankings
    from quiz_server.extensions import db
    from quiz_server.models import Contest

    data_dir = Path(tempfile.mkdtemp(prefix="quiz-rank-bench-"))
    database = args.database or f"sqlite:///{data_dir / 'rank.sqlite3'}"
    app = app_for(database, data_dir)
    t0 = time.perf_counter()
    contest_id = seed_rankings(app, args.rank_members, args.rank_attempts)
    print(
        f"\nranking: {args.rank_members} members × {args.rank_attempts} attempts, "
        f"400 branches / 40 agencies / 5 systems, database {database.split(':', 1)[0]} "
        f"(seeded in {time.perf_counter() - t0:.1f} s)"
    )
    with app.app_context():
        contest = db.session.get(Contest, contest_id)
        for counting in ("best", "average"):
            contest.settings = {
                **contest.settings,
                "campaign": {**contest.settings["campaign"], "counting": counting},
            }
            timings: dict[str, list[float]] = {level: [] for level in rankings.LEVELS}
            timings["member rank"] = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                rankings.member_rank(db.session, contest, 12345)
                timings["member rank"].append(time.perf_counter() - t)
                for level in rankings.LEVELS:
                    t = time.perf_counter()
                    rows = rankings.unit_rows(db.session, contest, level)
                    timings[level].append(time.perf_counter() - t)
                    assert rows
            summary = ", ".join(
                f"{level} {statistics.median(v) * 1000:.0f} ms" for level, v in timings.items()
            )
            print(f"  counting {counting:<5} median of {args.repeat}: {summary}")
        db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which members start")
    parser.add_argument(
        "--pace-min", type=float, default=10.0, help="seconds a member takes per question, at least"
    )
    parser.add_argument("--pace-max", type=float, default=30.0, help="… and at most")
    parser.add_argument("--port", type=int, default=5711)
    parser.add_argument(
        "--database", default=None, help="SQLAlchemy URL (default: a fresh SQLite file)"
    )
    parser.add_argument("--rank-members", type=int, default=20_000)
    parser.add_argument("--rank-attempts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-rankings", action="store_true")
    args = parser.parse_args()
    if not args.skip_load:
        run_load(args)
    if not args.skip_rankings:
        run_rankings(args)


if __name__ == "__main__":
    main()
