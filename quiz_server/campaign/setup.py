"""Creating campaign contests: the window, limits and counting rule on top of `create_contest`,
which validates the draw rule against the pinned bank version and stores rule and seed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..contests import DEFAULT_RANKING, ContestError, Mode, create_contest
from ..draw import DrawRule
from ..extensions import DbSession
from ..models import BankVersion, Contest, Unit
from . import rankings
from .rules import COUNTING, REVIEW, TIME_MODES, Rules, Stage


def create_campaign(
    session: DbSession,
    *,
    title: str,
    bank_version: BankVersion,
    rule: DrawRule | int,
    branches: Sequence[Unit],
    rules: Rules,
    ranking: dict[str, Any] | None = None,
    roster_bound: bool = False,
    seed: int | None = None,
) -> Contest:
    """Add a campaign contest to the session (the caller commits); refuse contradictory rules."""
    settings = campaign_settings(rules, ranking)
    return create_contest(
        session,
        title=title,
        bank_version=bank_version,
        rule=rule,
        branches=branches,
        settings=settings,
        seed=seed,
        mode=Mode.CAMPAIGN,
        roster_bound=roster_bound,
    )


def campaign_settings(rules: Rules, ranking: dict[str, Any] | None) -> dict[str, Any]:
    """What a campaign stores in `contest.settings` besides the draw, checked first."""
    _check(rules, ranking or {})
    return {"campaign": rules.to_settings(), "rankings": {**DEFAULT_RANKING, **(ranking or {})}}


def _check(rules: Rules, ranking: dict[str, Any]) -> None:
    if rules.ends_at <= rules.starts_at:
        raise ContestError("活动结束时间必须晚于开始时间")
    if rules.counting not in COUNTING:
        raise ContestError(f"计分方式应为 {'、'.join(COUNTING)} 之一")
    if rules.review not in REVIEW or rules.time_mode not in TIME_MODES:
        raise ContestError("答案公布方式或计时方式无效")
    for limit in (rules.per_day, rules.per_stage, rules.total):
        if limit is not None and limit < 1:
            raise ContestError("作答次数限制至少为 1")
    names = [
        ranking.get("metric", "composite"),
        *ranking.get("weights", {}),
        *ranking.get("tie_break", []),
    ]
    unknown = [n for n in names if n not in rankings.METRICS]
    if unknown:
        raise ContestError(f"未知的排名指标：{'、'.join(unknown)}")


def window(start: str, days: int, tz: str) -> tuple[datetime, datetime]:
    """A window of whole days from `start` (YYYY-MM-DD, midnight in the contest's zone)."""
    begin = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(tz))
    return begin, begin + timedelta(days=days)


def weekly_stages(
    starts_at: datetime, ends_at: datetime, total: int | None = None
) -> tuple[Stage, ...]:
    """One stage per week of the window (第1周, 第2周 …), each with the same limit."""
    stages, begin, n = [], starts_at, 1
    while begin < ends_at:
        end = min(begin + timedelta(days=7), ends_at)
        stages.append(Stage(f"第{n}周", begin, end, total=total))
        begin, n = end, n + 1
    return tuple(stages)


def branches_by_code(session: DbSession, codes_text: str) -> list[Unit]:
    """The branches a command's `--branches a,b` names (every branch when empty)."""
    from sqlalchemy import select

    codes = [c.strip() for c in codes_text.split(",") if c.strip()]
    query = select(Unit).where(Unit.kind == "branch")
    branches = list(session.scalars(query.where(Unit.code.in_(codes)) if codes else query))
    if codes and len(branches) != len(set(codes)):
        missing = set(codes) - {b.code for b in branches}
        raise ContestError(f"没有找到党支部：{'、'.join(sorted(missing))}")
    return branches


def campaign_from_options(session: DbSession, opts: dict[str, Any]) -> Contest:
    """The `contests create-campaign` command's options, checked and turned into a campaign."""

    from ..banks import latest_version

    version = latest_version(session, str(opts["bank_slug"]))
    if version is None:
        raise ContestError(f"没有找到题库 {opts['bank_slug']}")
    branches = branches_by_code(session, str(opts["branch_codes"] or ""))
    starts_at, ends_at = window(str(opts["start"]), int(opts["days"]), str(opts["tz"]))
    seconds = int(opts["seconds"])
    rules = Rules(
        starts_at=starts_at,
        ends_at=ends_at,
        tz=str(opts["tz"]),
        per_day=opts["per_day"],
        total=opts["total"],
        time_mode=str(opts["time_mode"]),
        attempt_seconds=seconds,
        question_seconds=seconds,
        counting=str(opts["counting"]),
        review=str(opts["review"]),
        fast_answer_ms=int(opts["fast_ms"]),
        hidden_limit=opts["hidden_limit"],
        stages=weekly_stages(starts_at, ends_at, opts["per_stage"])
        if opts["weekly_stages"]
        else (),
    )
    ranking = {
        "metric": str(opts["metric"]),
        "weights": {
            k: float(v) for k, v in (p.split("=") for p in str(opts["weights"]).split(",") if p)
        },
        "tie_break": [t for t in str(opts["tie_break"]).split(",") if t],
    }
    return create_campaign(
        session,
        title=str(opts["title"]),
        bank_version=version,
        rule=int(opts["count"]),
        branches=branches,
        rules=rules,
        ranking=ranking,
        roster_bound=bool(opts["roster_bound"]),
    )
