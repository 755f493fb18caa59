"""Settings, read from the environment in one place, with defaults that make the demo work."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Hosts whose pages count as a question's official source (each matches its subdomains too);
# the bank quality check warns about any other. QUIZ_SOURCE_HOSTS replaces the list.
DEFAULT_SOURCE_HOSTS = (
    "gov.cn",
    "wenming.cn",
    "12371.cn",
    "people.com.cn",
    "xinhuanet.com",
    "news.cn",
    "qstheory.cn",
    "cctv.com",
    "gmw.cn",
    "chinacourt.org",
    "chinanews.com.cn",
)

MIN_SECRET_LENGTH = 32
MB = 1024 * 1024
# A request may carry one upload of `max_upload_mb` plus the form around it (CSRF token, name).
FORM_OVERHEAD_BYTES = 64 * 1024
# Keys published in examples and docs: anyone could forge a session signed with them.
PLACEHOLDER_SECRETS = frozenset({"change-me-to-a-long-random-string", "change-me", "secret"})


class ConfigError(ValueError):
    """A setting the server must not start with; the message says what to change."""


def resource_dir(name: str) -> Path:
    """`templates`, `static`, `question_banks`, `deploy` or `samples`: top of a checkout, or
    inside an installed wheel."""
    checkout = PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    return PACKAGE_DIR / "share" / name


def default_data_dir() -> Path:
    return Path(os.environ.get("QUIZ_DATA_DIR", Path.cwd() / "quiz-data")).resolve()


def system_clock() -> datetime:
    return datetime.now(UTC)


def source_hosts(value: str | None) -> tuple[str, ...]:
    if not value or not value.strip():
        return DEFAULT_SOURCE_HOSTS
    return tuple(h.strip().lower() for h in value.split(",") if h.strip())


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """Everything configurable. `from_env()` reads QUIZ_* variables; tests pass overrides."""

    database_url: str = ""
    message_queue: str | None = None
    message_channel: str = "quiz-server"
    secret_key: str = ""
    public_url: str | None = None
    async_mode: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    answer_grace_seconds: float = 1.5
    # Engine.IO heartbeat: a socket that misses a ping for ping_timeout seconds is dropped.
    # 25 s is the library's default: pings cost a process about a third of its transport CPU
    # at 10 s with thousands of phones.
    ping_interval: float = 25
    ping_timeout: float = 20
    # Database connections all server processes together may hold (PostgreSQL's
    # max_connections must exceed it), shared evenly by the `processes` of one deployment.
    db_connections: int = 20
    processes: int = 1
    # How long an event waits for a free connection before the phone is told to retry (busy).
    db_pool_timeout: float = 1.5
    # Group commit: answers arriving within this window share one transaction.
    commit_window_ms: float = 10
    cookie_secure: bool = False
    # The largest bank or organisation file (xlsx, YAML, CSV) an organizer may upload; a
    # 2,000-question bank in the template is about 0.2 MB, a 50,000-member roster about 0.9 MB.
    max_upload_mb: int = 5
    # Proxies in front (nginx: 1) whose X-Forwarded-For names the client: login throttling,
    # roster rate limits and fair-play flags go by the client address, and behind a proxy
    # every request would otherwise come from the proxy.
    trusted_proxies: int = 0
    testing: bool = False
    # Tests inject a fake clock and drive timers by hand (`live.tick`) instead of background tasks.
    clock: Callable[[], datetime] = system_clock
    run_timers: bool = True
    # Campaign unit rankings are recomputed at most this often while attempts pour in.
    rankings_ttl_seconds: float = 3.0
    source_hosts: tuple[str, ...] = DEFAULT_SOURCE_HOSTS

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get("QUIZ_DATABASE_URL", ""),
            "message_queue": env.get("QUIZ_MESSAGE_QUEUE") or None,
            "message_channel": env.get("QUIZ_MESSAGE_CHANNEL", "quiz-server"),
            "secret_key": env.get("QUIZ_SECRET_KEY", ""),
            "public_url": env.get("QUIZ_PUBLIC_URL") or None,
            "async_mode": env.get("QUIZ_ASYNC_MODE") or None,
            "data_dir": default_data_dir(),
            "answer_grace_seconds": float(env.get("QUIZ_ANSWER_GRACE", "1.5")),
            "ping_interval": float(env.get("QUIZ_PING_INTERVAL", "25")),
            "ping_timeout": float(env.get("QUIZ_PING_TIMEOUT", "20")),
            "cookie_secure": _bool(env.get("QUIZ_COOKIE_SECURE"), False),
            "source_hosts": source_hosts(env.get("QUIZ_SOURCE_HOSTS")),
            "max_upload_mb": int(env.get("QUIZ_MAX_UPLOAD_MB", "5")),
            "trusted_proxies": int(env.get("QUIZ_TRUSTED_PROXIES", "0")),
            "db_connections": int(env.get("QUIZ_DB_CONNECTIONS", "20")),
            "processes": int(env.get("QUIZ_PROCESSES", "1")),
            "db_pool_timeout": float(env.get("QUIZ_DB_POOL_TIMEOUT", "1.5")),
            "commit_window_ms": float(env.get("QUIZ_COMMIT_WINDOW_MS", "10")),
        }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]  # values come from the environment, checked in __post_init__
        settings.fill_defaults()
        return settings

    def fill_defaults(self) -> None:
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite:///{self.data_dir / 'quiz.sqlite3'}"
        if not self.secret_key:
            self.secret_key = self._persistent_secret()
        check_secret_key(self.secret_key)

    def _persistent_secret(self) -> str:
        """A random key kept in the data folder, so sessions survive a restart of the demo."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def pool_size(self) -> int:
        """This process's share of `db_connections` (at least 2: one for a batch of answers,
        one for everything else)."""
        return max(2, self.db_connections // max(1, self.processes))

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MB

    def flask_config(self) -> dict[str, object]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(
                self.database_url, self.pool_size, self.db_pool_timeout
            ),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.cookie_secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": None,
            # Werkzeug refuses a larger body with 413 before reading it (views/site.py).
            "MAX_CONTENT_LENGTH": self.max_upload_bytes + FORM_OVERHEAD_BYTES,
            "TESTING": self.testing,
            "JSON_AS_ASCII": False,
            "QUIZ": self,
        }


def check_secret_key(key: str) -> None:
    """Refuse a known placeholder or a short key: it signs sessions, so it must be unguessable."""
    if key.strip().lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(
            "QUIZ_SECRET_KEY is the placeholder from the example configuration; set a random key "
            "of at least 32 characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"QUIZ_SECRET_KEY has {len(key)} characters; it needs at least {MIN_SECRET_LENGTH} "
            "(leave it unset to have one generated into the data folder)"
        )


def engine_options(url: str, pool_size: int = 20, pool_timeout: float = 1.5) -> dict[str, object]:
    """A fixed pool of `pool_size` connections (no overflow, so the processes together never
    exceed their budget) and a short wait for one: when all are busy the phone is told to
    retry in a second or two, instead of waiting half a minute for a `server_error`."""
    pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
    if url.startswith("sqlite") and (url in ("sqlite://", "sqlite:///") or ":memory:" in url):
        return {"connect_args": {"check_same_thread": False}}  # one connection, no queue pool
    if url.startswith("sqlite"):
        # WAL lets readers run beside the one writer; the timeout covers a second process.
        return {**pool, "connect_args": {"timeout": 15, "check_same_thread": False}}
    # PostgreSQL through psycopg 3: one gevent process holds many phones but only needs
    # a few connections, because each socket event holds one only for its own commit.
    return {**pool, "pool_pre_ping": True}
