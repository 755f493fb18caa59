"""Creating campaign contests: the window, limits and counting rule on top of `create_contest`,
which validates the draw rule against the pinned bank version and stores rule and seed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from . import rankings
from .campaign import COUNTING, REVIEW, TIME_MODES, Rules, Stage
from .contests import ContestError, create_contest
from .draw import DrawRule
from .models import BankVersion, Contest, Unit


def create_campaign(
    session: Session,
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
    _check(rules, ranking or {})
    settings = {
        "campaign": rules.to_settings(),
        "rankings": {**rankings.DEFAULT_RANKING, **(ranking or {})},
    }
    return create_contest(
        session, title=title, bank_version=bank_version, rule=rule, branches=branches,
        settings=settings, seed=seed, mode="campaign", roster_bound=roster_bound,
    )  # fmt: skip


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
