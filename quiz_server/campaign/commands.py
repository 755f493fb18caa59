"""The `quiz-server contests` commands: `create` (a live round) and `create-campaign`."""

from __future__ import annotations

import click
from werkzeug.datastructures import MultiDict

from .. import audit, links, with_app_context
from ..banks import latest_version
from ..contest_setup import ContestSpec, create_from_spec
from ..contests import ContestError
from ..extensions import db
from ..orgs import Tree
from ..standings import METRICS
from .setup import branches_by_code, campaign_from_options


@click.group()
def contests() -> None:
    """Contests: create live rounds (现场赛) and campaigns (网络竞答) from the command line."""


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
        audit.record("contest.create", contest=contest, detail="命令行创建", username="命令行")
        db.session.commit()
    except (ContestError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"created campaign {contest.id}  PIN {contest.pin}")
    click.echo(f"  phones  : {links.absolute(links.campaign(contest.pin))}")
    click.echo(f"  rankings: {links.absolute(links.rankings(contest.pin))}")


@contests.command("create")
@click.option("--title", required=True)
@click.option("--bank", "bank_slug", required=True, help="bank id (its latest version is pinned)")
@click.option("--count", default=10, show_default=True, help="questions drawn")
@click.option("--seed", type=int, default=None, help="draw seed (default: random, recorded)")
@click.option(
    "--branches", "branch_codes", default="", help="unit codes, comma-separated (default: all)"
)
@click.option("--question-seconds", default=20, show_default=True)
@click.option("--reveal-seconds", default=8, show_default=True)
@click.option("--leaderboard-seconds", default=8, show_default=True)
@click.option("--base-points", default=1000, show_default=True)
@click.option("--speed-share", default=0.5, show_default=True)
@click.option("--streak-bonus", default=100, show_default=True)
@click.option("--streak-cap", default=5, show_default=True)
@click.option("--manual", is_flag=True, help="the host moves on after each reveal and board")
@click.option(
    "--metric", "ranking_metric", default="avg_registered", show_default=True,
    type=click.Choice(list(METRICS)), help="branch ranking",
)  # fmt: skip
@click.option("--scheduled", default="", help="start by itself at YYYY-MM-DDTHH:MM, Beijing time")
@click.option("--roster-bound", is_flag=True)
@with_app_context
def contests_create(**opts: object) -> None:
    """Create a live round (the console's form rules and creation) and print its join URL."""
    try:
        spec = live_spec(opts)
        if spec.errors:
            raise ContestError("；".join(spec.errors))
        contest = create_from_spec(db.session, spec)
        audit.record("contest.create", contest=contest, detail="命令行创建", username="命令行")
        db.session.commit()
    except (ContestError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"created live contest {contest.id}  PIN {contest.pin}")
    click.echo(f"  join     : {links.join_url(contest.pin)}")
    click.echo(f"  standings: {links.absolute(links.standings(contest.pin))}")


def live_spec(opts: dict[str, object]) -> ContestSpec:
    """The options as the console's form would post them, checked by the same parser."""
    from ..views.admin.contest_form import parse_contest_form

    version = latest_version(db.session, str(opts["bank_slug"]))
    if version is None:
        raise ContestError(f"没有找到题库 {opts['bank_slug']}")
    branches = branches_by_code(db.session, str(opts["branch_codes"] or ""))
    form = MultiDict({k: "" if v is None else str(v) for k, v in opts.items()})
    form["mode"], form["bank_version"] = "live", str(version.id)
    form["scheduled_at"] = str(opts["scheduled"])
    form["auto_advance"] = "" if opts["manual"] else "1"
    form["roster_bound"] = "1" if opts["roster_bound"] else ""
    form.setlist("units", [str(b.id) for b in branches])
    return parse_contest_form(form, Tree.load(db.session))
