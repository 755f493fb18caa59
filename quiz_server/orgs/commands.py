"""The `quiz-server orgs` commands: import the organisation file."""

from __future__ import annotations

from pathlib import Path

import click

from .. import with_app_context
from ..extensions import db
from .file import import_file


@click.group()
def orgs() -> None:
    """Organisation tree (组织架构): units, registered head-counts and optional rosters."""


@orgs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@with_app_context
def orgs_import(ctx: click.Context, file: Path) -> None:
    """Check a CSV or xlsx org file and store it (updates by unit code); nothing if any error."""
    summary, errors = import_file(db.session, file.name, file.read_bytes())
    for error in errors:
        click.echo(str(error), err=True)
    if summary is None:
        db.session.rollback()
        click.echo(f"failed: {file} ({len(errors)} errors, nothing stored)", err=True)
        ctx.exit(1)
    db.session.commit()
    click.echo(f"ok: {file}: {summary}")
