"""Alembic environment: the app's metadata, on the connection `schema.upgrade` hands over."""

from alembic import context

from quiz_server import models  # noqa: F401  (registers every table on the metadata)
from quiz_server.extensions import db

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=db.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
