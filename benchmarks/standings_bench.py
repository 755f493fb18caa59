"""Standings benchmark: rank 5,000 members × 20 questions (members, branches, roll-up).

    python benchmarks/standings_bench.py [--members 5000] [--questions 20] [--runs 7]

Seeds one contest straight into the database (SQLite in a temp folder, and PostgreSQL if
QUIZ_BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test, answers;
there it uses a schema of its own and drops it afterwards), then times the standings the live
leaderboard and the public page compute, and the full report build. Prints the median and the
range of several runs for each. Nothing is timed in the test suite; this is the figure to quote.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_URL = os.environ.get(
    "QUIZ_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = f"quiz_bench_{os.getpid()}"


def seed(members: int, questions: int, branches: int) -> int:
    """One system, 10 agencies, `branches` branches, `members` members who answer every question."""
    from quiz_server.contests import create_contest
    from quiz_server.extensions import db
    from quiz_server.models import Answer, Participant, Unit
    from tests.conftest import make_bank

    rng = random.Random(5)
    system = Unit(code="S", name="系统", kind="system")
    agencies = [
        Unit(code=f"A{i}", name=f"机关{i}", kind="agency", parent=system) for i in range(10)
    ]
    units = [
        Unit(code=f"B{i}", name=f"支部{i}", kind="branch", parent=agencies[i % 10],
             registered=rng.randint(members // branches, 2 * members // branches), position=i)
        for i in range(branches)
    ]  # fmt: skip
    db.session.add_all([system, *agencies, *units])
    version = make_bank(db.session, n_single=questions)
    contest = create_contest(
        db.session, title="基准", bank_version=version, rule=questions, branches=units, seed=1
    )
    db.session.flush()
    db.session.execute(sa.insert(Participant), [
        {"contest_id": contest.id, "unit_id": units[i % branches].id, "name": f"党员{i}",
         "token": f"bench-token-{i:06d}", "seed": i}
        for i in range(members)
    ])  # fmt: skip
    pids = db.session.scalars(
        sa.select(Participant.id).where(Participant.contest_id == contest.id)
    ).all()
    rows = []
    for pid in pids:
        for cq in contest.questions:
            right = rng.random() < 0.7
            rows.append({
                "contest_id": contest.id, "participant_id": pid, "contest_question_id": cq.id,
                "choice": "B" if right else "C", "correct": right, "potential_points": 1000,
                "points": rng.randint(500, 1000) if right else 0,
                "elapsed_ms": rng.randint(800, 15000),
            })  # fmt: skip
    db.session.execute(sa.insert(Answer), rows)
    db.session.commit()
    return contest.id


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench(label: str, database_url: str, args: argparse.Namespace) -> None:
    from quiz_server import create_app, reports, standings
    from quiz_server.config import Settings
    from quiz_server.extensions import db
    from quiz_server.models import Contest

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(
            database_url=database_url, data_dir=Path(folder), secret_key="bench-key-of-at-least-32-characters",
            async_mode="threading", run_timers=False,
        )  # fmt: skip
        app = create_app(settings)
        with app.app_context():
            start = time.perf_counter()
            contest_id = seed(args.members, args.questions, args.branches)
            print(f"\n{label}: seeded {args.members} members × {args.questions} questions "
                  f"in {time.perf_counter() - start:.1f} s")  # fmt: skip

            def fresh() -> Contest:
                db.session.expire_all()  # every run reads the database, as a new request does
                contest = db.session.get(Contest, contest_id)
                assert contest is not None
                return contest

            cases: dict[str, Callable[[], object]] = {
                "members (rank all)": lambda: standings.members(db.session, contest_id),
                "branches": lambda: standings.branches(db.session, fresh()),
                "roll-up (branches + agencies + system)": lambda: standings.rolled_up(
                    db.session, fresh()
                ),
                "members + roll-up (a leaderboard phase)": lambda: (
                    standings.members(db.session, contest_id),
                    standings.rolled_up(db.session, fresh()),
                ),
                "full report workbook": lambda: reports.workbook_bytes(
                    reports.build(db.session, fresh())
                ),
            }
            for name, fn in cases.items():
                times = timed(fn, args.runs)
                median = statistics.median(times)
                spread = f"(min {min(times):.1f}, max {max(times):.1f}, {args.runs} runs)"
                print(f"  {name:42s} median {median:7.1f} ms   {spread}")
            db.session.remove()
            db.engine.dispose()


def postgres_url() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        engine.dispose()
    except Exception as err:  # driver missing or server down: SQLite only
        print(f"\nPostgreSQL not reachable ({err.__class__.__name__}); skipped")
        return None
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{SCHEMA}"


def drop_schema() -> None:
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--branches", type=int, default=250)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("SQLite", f"sqlite:///{folder}/bench.sqlite3", args)
    url = postgres_url()
    if url:
        try:
            bench("PostgreSQL", url, args)
        finally:
            drop_schema()


if __name__ == "__main__":
    main()
