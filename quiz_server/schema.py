"""The database schema, kept at the newest Alembic revision when the app starts.

An empty database is created from the models and stamped; an existing one is upgraded, so a
deployment keeps its past contests across releases.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from .extensions import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 7_240_311  # any constant: serialises concurrent upgrades on PostgreSQL


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str | None:
    """The newest revision shipped with this release (read from the scripts once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema. Several processes starting at once take turns."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        if MigrationContext.configure(connection).get_current_revision() == head():
            return  # already current: a restart, or every app a test builds on one database
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if not tables - {"alembic_version"}:
            db.metadata.create_all(connection)
            command.stamp(config, "head")
        else:
            command.upgrade(config, "head")


def revision(engine: Engine, message: str) -> None:
    """For developers: write a migration from the difference between the models and the schema."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
