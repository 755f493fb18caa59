"""The `quiz-server contests create-stage` command: a stage contest from a programme file."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from .. import links, with_app_context
from ..campaign.commands import contests
from ..contests import ContestError
from ..extensions import db
from ..models import Contest, StageTeam
from .setup import create_stage


@contests.command("create-stage")
@click.argument("programme", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=None, help="draw seed (default: random)")
@with_app_context
def contests_create_stage(programme: Path, seed: int | None) -> None:
    """Create a stage contest (现场竞赛) from a YAML or JSON programme; print its team PINs."""
    text = programme.read_text(encoding="utf-8")
    try:
        values = json.loads(text) if programme.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise click.ClickException(f"节目单无法解析：{err}") from err
    if not isinstance(values, dict):
        raise click.ClickException("节目单必须是一个对象（title、bank、teams、rounds）")
    try:
        contest = create_stage(db.session, values, seed=seed)
        db.session.commit()
    except ContestError as err:
        raise click.ClickException(str(err)) from err
    _print(contest)


def _print(contest: Contest) -> None:
    click.echo(f"created stage contest {contest.id}  PIN {contest.pin}")
    click.echo(f"  team devices: {links.absolute(f'/stage/{contest.pin}/team')}")
    click.echo(f"  big screen  : {links.absolute(f'/stage/{contest.pin}/screen')}")
    click.echo(f"  referee     : {links.absolute(f'/stage/referee/{contest.id}')}")
    for team in (
        db.session.query(StageTeam).filter_by(contest_id=contest.id).order_by(StageTeam.position)
    ):
        click.echo(f"  desk {team.desk}  {team.name}  team PIN {team.pin}")
    audience = (contest.settings.get("stage") or {}).get("audience")
    if audience:
        hall = db.session.get(Contest, audience)
        assert hall is not None
        click.echo(
            f"  audience    : live contest {hall.id}  PIN {hall.pin}  {links.join_url(hall.pin)}"
        )
