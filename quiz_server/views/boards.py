"""The public boards for a big screen, no login, never a member's name: a live contest's
standings (`/standings/<pin>`) and a campaign's unit rankings (`/rankings/<pin>` and its JSON).

The rankings are recomputed from stored attempts at most every `rankings_ttl_seconds` per app,
so a big screen polling every few seconds costs one computation however many screens watch.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import charts, i18n, links, standings
from ..campaign import attempts, rankings
from ..campaign import payloads as cp
from ..extensions import db
from ..messages import strings_for
from ..models import Contest
from ..ranking import metric_table, tied
from .lookup import campaign_by_pin_or_404, contest_by_pin_or_404, is_campaign
from .site import BEIJING

bp = Blueprint("boards", __name__)

REFRESH_SECONDS = 10


@bp.route("/standings/<pin>")
def standings_page(pin: str) -> str | Response:
    """A live contest's branch and unit figures; a campaign's PIN goes to its rankings."""
    contest = contest_by_pin_or_404(pin)
    if is_campaign(contest):
        return redirect(links.rankings(contest.pin))
    table = standings.rolled_up(db.session, contest)
    best = max((r.metric(table.metric) for r in table.branches), default=0.0)
    return render_template(
        "results/standings.html",
        contest=contest,
        table=table,
        outline=table.outline(),
        tied=_tied(table),
        metric=table.metric,
        metric_label=standings.METRICS[table.metric],
        best=best or 1.0,
        tie_break=standings.TIE_BREAK_NOTE,
        refresh=REFRESH_SECONDS,
        updated_text=datetime.now(BEIJING).strftime("%H:%M:%S"),
    )


def _tied(table: standings.Standings) -> set[tuple[str, int]]:
    """(kind, rank) pairs two or more units of one kind share: shown with 并列."""
    rows = [*table.branches, *table.agencies, *table.systems]
    return {
        (r.kind, r.rank)
        for r, is_tied in zip(rows, tied([(r.kind, r.rank) for r in rows]), strict=True)
        if is_tied
    }


@bp.route("/rankings/<pin>")
def rankings_page(pin: str) -> str:
    """The unit rankings; `?projector=1` sets them for a projector across a room (1920×1080,
    large type and charts, fewer columns)."""
    contest = campaign_by_pin_or_404(pin)
    level = _level()
    projector = _projector()
    data = cached_rankings(contest, level, projector)
    return render_template(
        "rankings.html",
        contest=contest,
        level=level,
        projector=projector,
        levels=rankings.LEVELS,
        data=data,
        metrics=metric_table(),
        charts=[Markup(c["svg"]) for c in data["charts"]],  # noqa: S704  # SVG we draw, labels escaped
        strings=strings_for("rankings"),
    )


@bp.route("/api/campaign/<pin>/rankings")
def rankings_json(pin: str) -> Response:
    contest = campaign_by_pin_or_404(pin)
    response = jsonify(cached_rankings(contest, _level(), _projector()))
    response.cache_control.no_store = True
    return response


def _level() -> str:
    level = request.args.get("level", "branch")
    return level if level in rankings.LEVELS else "branch"


def _projector() -> bool:
    return request.args.get("projector") == "1"


def cached_rankings(contest: Contest, level: str, projector: bool = False) -> dict[str, Any]:
    """The rankings of one level, from this app's cache while younger than the TTL."""
    cache = current_app.extensions.setdefault("campaign_rankings", {})
    key = (contest.id, level, projector)
    hit = cache.get(key)
    if hit and time.monotonic() - hit[0] < current_app.config["QUIZ"].rankings_ttl_seconds:
        return hit[1]
    data = compute_rankings(contest, level, projector)
    cache[key] = (time.monotonic(), data)
    return data


def compute_rankings(contest: Contest, level: str, projector: bool = False) -> dict[str, Any]:
    moment = current_app.config["QUIZ"].clock()
    attempts.close_overdue(db.session, contest, moment)
    db.session.commit()
    config = rankings.ranking_config(contest)
    rows = rankings.campaign_unit_rows(db.session, contest, level)
    return {
        "level": level,
        "metric": config["metric"],
        "metric_label": rankings.METRICS[config["metric"]],
        "metric_note": rankings.metric_note(config),
        "tie_break_note": rankings.tie_break_note(config),
        "rows": rows,
        "charts": _charts(contest, level, moment, charts.LARGE if projector else charts.SMALL),
        "updated_at": cp.ms(moment),
        "server_now": cp.ms(moment),
    }


def _charts(contest: Contest, level: str, moment: Any, frame: charts.Frame) -> list[dict[str, Any]]:
    daily = [
        r
        for r in rankings.daily_participation_rows(db.session, contest, moment)
        if r["kind"] == level
    ]
    units: dict[int, list[dict[str, Any]]] = {}
    for row in daily:
        units.setdefault(row["unit_id"], []).append(row)
    out = []
    for unit_id, series in units.items():
        title = f"{i18n.mark_name(series[0]['unit'])} 每日参与"
        svg = charts.participation_chart(
            title,
            [r["day"] for r in series],
            [r["participants"] for r in series],
            [r["cumulative_rate"] for r in series],
            frame,
        )
        out.append({"unit_id": unit_id, "unit": series[0]["unit"], "svg": svg})
    return out
