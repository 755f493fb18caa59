"""The `quiz-server contests create-campaign` command."""

from __future__ import annotations

import click

from .. import links, with_app_context
from ..contests import ContestError
from ..extensions import db
from .setup import campaign_from_options


@click.group()
def contests() -> None:
    """Contests: create campaigns (网络竞答) from the command line."""


@contests.command("create-campaign")
@click.option("--title", required=True)
@click.option("--bank", "bank_slug", required=True, help="bank id (its latest version is pinned)")
@click.option("--count", default=10, show_default=True, help="questions per attempt")
@click.option("--start", required=True, help="first day, YYYY-MM-DD (midnight in --tz)")
@click.option("--days", default=7, show_default=True, help="length of the window in days")
@click.option("--tz", default="Asia/Shanghai", show_default=True)
@click.option(
    "--branches",
    "branch_codes",
    default="",
    help="unit codes, comma-separated (default: every branch)",
)
@click.option("--per-day", type=int, default=3, show_default=True)
@click.option("--total", type=int, default=None)
@click.option("--weekly-stages", is_flag=True, help="one stage per week, each with its own limit")
@click.option(
    "--per-stage", type=int, default=None, help="attempts per stage (with --weekly-stages)"
)
@click.option(
    "--time-mode", type=click.Choice(["attempt", "question"]), default="attempt", show_default=True
)
@click.option(
    "--seconds", type=int, default=600, show_default=True, help="per attempt, or per question"
)
@click.option(
    "--counting",
    type=click.Choice(["best", "latest", "sum", "average"]),
    default="best",
    show_default=True,
)
@click.option(
    "--review",
    type=click.Choice(["immediate", "after_close"]),
    default="immediate",
    show_default=True,
)
@click.option("--metric", default="composite", show_default=True)
@click.option(
    "--weights", default="participation_rate=0.7,attempts_per_member=0.3", show_default=True
)
@click.option(
    "--tie-break", default="participation_rate,full_marks,attempts_per_member", show_default=True
)
@click.option(
    "--fast-ms", type=int, default=1500, show_default=True, help="flag answers faster than this"
)
@click.option(
    "--hidden-limit", type=int, default=None, help="hand in after the page was hidden this often"
)
@click.option("--roster-bound", is_flag=True)
@with_app_context
def contests_create_campaign(**opts: object) -> None:
    """Create a campaign contest and print its phone and rankings URLs."""
    try:
        contest = campaign_from_options(db.session, opts)
        db.session.commit()
    except (ContestError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"created campaign {contest.id}  PIN {contest.pin}")
    click.echo(f"  phones  : {links.absolute(links.campaign(contest.pin))}")
    click.echo(f"  rankings: {links.absolute(links.rankings(contest.pin))}")
