from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from quiz_server import create_app, models, schema  # noqa: F401  (models: the tables)
from quiz_server.config import Settings
from quiz_server.extensions import db

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    """An injected clock: time moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


POSTGRES_URL = os.environ.get(
    "QUIZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("QUIZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def postgres_missing() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when the server answers."""
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as err:  # driver missing, server down, auth refused
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {err.__class__.__name__}"
    return None


def _postgres_url(schema_name: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema_name}"


def _new_postgres_schema(schema_name: str) -> str:
    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"DROP SCHEMA IF EXISTS {schema_name} CASCADE; CREATE SCHEMA {schema_name}")
        )
    engine.dispose()
    return _postgres_url(schema_name)


_migrated_postgres: str | None = None  # this process's schema, once built


def fresh_postgres() -> str:
    """A schema of this test process's own (test runs side by side don't collide), made the
    connection's search path. It is built at the newest revision once per process; each later
    call empties its tables, so each test starts clean without migrating again."""
    global _migrated_postgres
    if _migrated_postgres is None:
        url = _new_postgres_schema(f"quiz_test_{os.getpid()}")
        engine = sa.create_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        _migrated_postgres = url
        return url
    engine = sa.create_engine(_migrated_postgres)
    with engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote  # "user" is a reserved word
        tables = ", ".join(quote(t.name) for t in db.metadata.sorted_tables)
        conn.execute(
            sa.text("SET LOCAL lock_timeout = '20s'")
        )  # a leaked transaction: fail, not hang
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _migrated_postgres


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file at the newest revision, built once per test session; tests copy it."""
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path, sqlite_template: Path) -> str:
    """A database already at the newest revision, empty of rows."""
    if request.param == "postgresql":
        return fresh_postgres()
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path: Path) -> str:
    """A database with no tables at all, for the tests of the migrations themselves."""
    if request.param == "postgresql":
        return _new_postgres_schema(f"quiz_test_{os.getpid()}_empty")
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env(
        database_url=database_url,
        secret_key="test-secret-" + "x" * 32,
        data_dir=tmp_path,
        async_mode="threading",
        message_queue=None,
        public_url="http://quiz.test",
        testing=True,
    )


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_settings(settings: Settings, clock: FakeClock) -> Settings:
    """Fake clock, no background timers: tests move time and call `live.tick` themselves."""
    settings.clock = clock
    settings.run_timers = False
    return settings


def make_bank(session, slug: str = "t-bank", n_single: int = 3):
    """A small bank straight into the database: single, multiple and judge questions."""
    from quiz_server.models import Bank, BankVersion, Question

    bank = Bank(slug=slug, title="测试题库")
    version = BankVersion(bank=bank, number=1, content_hash=slug, title="测试题库", categories=[])
    rows = [
        ("single", f"单选题{i}<script>x</script>", ["甲", "乙", "丙", "丁"], "B")
        for i in range(n_single)
    ] + [
        ("multiple", "多选题", ["甲", "乙", "丙", "丁"], ["A", "C"]),
        ("judge", "判断题", [], True),
    ]
    for position, (qtype, stem, options, answer) in enumerate(rows):
        version.questions.append(
            Question(
                qid=f"q{position}", position=position, type=qtype, stem=stem, options=options,
                answer=answer, explanation=f"解析{position}", category="c", difficulty=1, source="来源",
            )
        )  # fmt: skip
    session.add(version)
    session.flush()
    return version


def make_branches(session, sizes=(10, 20)):
    from quiz_server.models import Unit

    agency = Unit(code="AG", name="机关党委", kind="agency")
    units = [
        Unit(
            code=f"B{i}",
            name=f"第{i + 1}党支部",
            kind="branch",
            parent=agency,
            registered=n,
            position=i,
        )
        for i, n in enumerate(sizes)
    ]
    session.add_all([agency, *units])
    session.flush()
    return units


def make_user(session, username="org", role="organizer"):
    from quiz_server.auth import create_user

    user = create_user(username, "password123", role)
    session.flush()
    return user


def login(client, user_id: int) -> None:
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user_id}:0:test"  # a new account: session version 0
        sess["_fresh"] = True


FIGURES = pytest.StashKey[list[tuple[str, list[str]]]]()


def report_figure(config: pytest.Config, headline: str, details: list[str] = ()) -> None:
    """A measured figure the run prints in its summary (page weights, timings): one headline,
    and detail lines shown with `-v`."""
    config.stash.setdefault(FIGURES, []).append((headline, list(details)))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("measured figures")
    for headline, details in figures:
        terminalreporter.write_line(headline)
        if config.option.verbose > 0:
            for line in details:
                terminalreporter.write_line(line)
