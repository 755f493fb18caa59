"""Migrations: from nothing they build exactly the models' schema, and upgrades keep data."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from quiz_server import (
    models,  # noqa: F401
    schema,
)
from quiz_server.extensions import db


def test_migrations_from_scratch_match_the_models(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), "head")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: run quiz_server.schema.revision(...)"


def test_upgrade_creates_then_keeps_data(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO unit (code, name, kind, registered, position) VALUES ('X', '甲', 'branch', 3, 0)"
            )
        )
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    schema.upgrade(engine)  # a restart: nothing to do, nothing lost
    with engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT name FROM unit WHERE code = 'X'")).scalar() == "甲"
        )
        assert (
            connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            == version
        )
    engine.dispose()
