"""Campaign contests as pure rules: the window, stages, attempt limits, deadlines, counting and
review. No Flask or database here; `now` is always passed in, so tests drive it with a fake clock.

A campaign runs for days: members take short timed attempts whenever they can. Days are days in
the contest's time zone (Asia/Shanghai by default), never UTC days.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from ..refusals import Refusal

DEFAULT_TZ = "Asia/Shanghai"
COUNTING = {"best": "取最高一次", "latest": "取最近一次", "sum": "累计各次", "average": "各次平均"}
REVIEW = {
    "immediate": "交卷后立即公布答案与解析",
    "after_close": "活动结束后再公布（防止答案外传）",
}
TIME_MODES = {"attempt": "整次限时", "question": "每题限时"}


class TimeMode(StrEnum):
    """What the clock bounds: the whole attempt, or each question on its own."""

    ATTEMPT = "attempt"
    QUESTION = "question"


class CampaignRefusal(StrEnum):
    """Why an attempt cannot start; answer refusals reuse `refusals.Refusal`."""

    NOT_STARTED = "campaign_not_started"
    ENDED = "campaign_ended"
    DAY_LIMIT = "day_limit"
    STAGE_LIMIT = "stage_limit"
    TOTAL_LIMIT = "total_limit"
    BETWEEN_STAGES = "between_stages"


@dataclass(frozen=True)
class Stage:
    """A part of the window (e.g. a week) with its own limits; None means the campaign's."""

    name: str
    starts_at: datetime
    ends_at: datetime
    per_day: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class Rules:
    """One campaign's rules, read from `contest.settings["campaign"]`."""

    starts_at: datetime
    ends_at: datetime
    tz: str = DEFAULT_TZ
    stages: tuple[Stage, ...] = ()
    per_day: int | None = 3
    per_stage: int | None = None
    total: int | None = None
    time_mode: str = "attempt"  # attempt | question
    attempt_seconds: int = 600
    question_seconds: int = 30
    grace_seconds: float = 2.0
    points_per_question: int = 10
    counting: str = "best"  # best | latest | sum | average
    review: str = "immediate"  # immediate | after_close
    fast_answer_ms: int = 1500  # answers faster than this are flagged
    hidden_limit: int | None = None  # page hidden this many times submits the attempt

    @property
    def per_question(self) -> bool:
        """Each question has its own clock (and opens when the one before is answered)."""
        return TimeMode(self.time_mode) is TimeMode.QUESTION

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> Rules:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        for key in ("starts_at", "ends_at"):
            known[key] = _moment(known[key])
        known["stages"] = tuple(
            Stage(
                name=str(s["name"]),
                starts_at=_moment(s["starts_at"]),
                ends_at=_moment(s["ends_at"]),
                per_day=s.get("per_day"),
                total=s.get("total"),
            )
            for s in values.get("stages", [])
        )
        return cls(**known)

    def to_settings(self) -> dict[str, Any]:
        values = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "stages"}
        values["starts_at"], values["ends_at"] = (
            self.starts_at.isoformat(),
            self.ends_at.isoformat(),
        )
        values["stages"] = [
            {**s.__dict__, "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat()}
            for s in self.stages
        ]
        return values


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def local_day(rules: Rules, moment: datetime) -> date:
    """The calendar day in the contest's zone: 00:30 in Shanghai is still 'today' there."""
    return moment.astimezone(rules.zone).date()


def stage_at(rules: Rules, now: datetime) -> Stage | None:
    return next((s for s in rules.stages if s.starts_at <= now < s.ends_at), None)


@dataclass(frozen=True)
class Past:
    """What the limits need to know of one earlier attempt."""

    started_at: datetime


@dataclass(frozen=True)
class Left:
    """Attempts left now; None means unlimited on that count."""

    today: int | None
    stage: int | None
    total: int | None

    @property
    def any(self) -> int | None:
        counts = [n for n in (self.today, self.stage, self.total) if n is not None]
        return min(counts) if counts else None


def attempts_left(rules: Rules, now: datetime, past: Sequence[Past]) -> Left:
    stage = stage_at(rules, now)
    today = local_day(rules, now)
    per_day = stage.per_day if stage and stage.per_day is not None else rules.per_day
    per_stage = stage.total if stage and stage.total is not None else rules.per_stage
    used_today = sum(1 for p in past if local_day(rules, p.started_at) == today)
    used_stage = sum(1 for p in past if stage and stage.starts_at <= p.started_at < stage.ends_at)
    return Left(
        today=None if per_day is None else max(per_day - used_today, 0),
        stage=None if per_stage is None or stage is None else max(per_stage - used_stage, 0),
        total=None if rules.total is None else max(rules.total - len(past), 0),
    )


def can_start(rules: Rules, now: datetime, past: Sequence[Past]) -> CampaignRefusal | None:
    """Open window, inside a stage if stages are set, and every limit with one left."""
    if now < rules.starts_at:
        return CampaignRefusal.NOT_STARTED
    if now >= rules.ends_at:
        return CampaignRefusal.ENDED
    if rules.stages and stage_at(rules, now) is None:
        return CampaignRefusal.BETWEEN_STAGES
    left = attempts_left(rules, now, past)
    if left.total == 0:
        return CampaignRefusal.TOTAL_LIMIT
    if left.stage == 0:
        return CampaignRefusal.STAGE_LIMIT
    if left.today == 0:
        return CampaignRefusal.DAY_LIMIT
    return None


def attempt_deadline(rules: Rules, started_at: datetime, count: int) -> datetime:
    """The stored deadline; per-question timing bounds it by every question's full time."""
    seconds = rules.question_seconds * count if rules.per_question else rules.attempt_seconds
    return min(started_at + timedelta(seconds=seconds), max(rules.ends_at, started_at))


def item_deadline(rules: Rules, opened_at: datetime, attempt_deadline: datetime) -> datetime:
    """Per-question timing: each question's own clock, never past the attempt's deadline."""
    if not rules.per_question:
        return attempt_deadline
    return min(opened_at + timedelta(seconds=rules.question_seconds), attempt_deadline)


@dataclass(frozen=True)
class ItemState:
    opened_at: datetime | None
    deadline: datetime | None
    answered: bool


def check_answer(rules: Rules, item: ItemState, closed: bool, now: datetime) -> Refusal | None:
    """Refuse after the stored deadline (plus a stated grace for the network) or once closed."""
    if item.answered:
        return Refusal.ALREADY_ANSWERED
    if closed:
        return Refusal.TOO_LATE
    if item.opened_at is None or item.deadline is None:
        return Refusal.NOT_OPEN
    if now > item.deadline + timedelta(seconds=rules.grace_seconds):
        return Refusal.TOO_LATE
    return None


def is_overdue(rules: Rules, deadline: datetime, now: datetime) -> bool:
    """An abandoned attempt closes at its deadline (after the grace) with what was answered."""
    return now > deadline + timedelta(seconds=rules.grace_seconds)


def points(rules: Rules, correct: bool) -> int:
    return rules.points_per_question if correct else 0


def full_mark(rules: Rules, count: int) -> int:
    return rules.points_per_question * count


def elapsed_ms(started: datetime, now: datetime, deadline: datetime) -> int:
    return round(max(min(now, deadline) - started, timedelta(0)).total_seconds() * 1000)


@dataclass(frozen=True, order=True)
class Result:
    """A finished attempt as counting sees it."""

    score: int
    time_ms: int
    finished_at: datetime = field(compare=False)


@dataclass(frozen=True)
class Counted:
    score: float
    time_ms: float


def counted(results: Sequence[Result], rule: str) -> Counted | None:
    """The member's counted result; ties are broken later by the shorter time."""
    if not results:
        return None
    if rule == "best":
        best = min(results, key=lambda r: (-r.score, r.time_ms))
        return Counted(best.score, best.time_ms)
    if rule == "latest":
        last = max(results, key=lambda r: r.finished_at)
        return Counted(last.score, last.time_ms)
    total = Counted(sum(r.score for r in results), sum(r.time_ms for r in results))
    if rule == "sum":
        return total
    if rule == "average":
        return Counted(total.score / len(results), total.time_ms / len(results))
    raise ValueError(f"unknown counting rule {rule!r}; expected one of {', '.join(COUNTING)}")


@dataclass(frozen=True)
class Totals:
    """A member's running totals: enough to give every counting rule without the history."""

    attempts: int = 0
    full: bool = False
    best: tuple[int, int] = (0, 0)  # (score, time_ms)
    latest: tuple[int, int] = (0, 0)
    sum: tuple[int, int] = (0, 0)


def add_result(totals: Totals, result: Result, full: bool) -> Totals:
    """Fold one finished attempt in (attempts finish one at a time: one in progress per member)."""
    mine = (result.score, result.time_ms)
    better = totals.attempts == 0 or (-mine[0], mine[1]) < (-totals.best[0], totals.best[1])
    return Totals(
        attempts=totals.attempts + 1,
        full=totals.full or full,
        best=mine if better else totals.best,
        latest=mine,
        sum=(totals.sum[0] + mine[0], totals.sum[1] + mine[1]),
    )


def counted_from(totals: Totals, rule: str) -> Counted | None:
    """The same answer as `counted` over the history the totals were folded from."""
    if totals.attempts == 0:
        return None
    if rule in ("best", "latest"):
        return Counted(*getattr(totals, rule))
    if rule == "sum":
        return Counted(*totals.sum)
    if rule == "average":
        return Counted(totals.sum[0] / totals.attempts, totals.sum[1] / totals.attempts)
    raise ValueError(f"unknown counting rule {rule!r}; expected one of {', '.join(COUNTING)}")


def rank_key(result: Counted) -> tuple[float, float]:
    return (-result.score, result.time_ms)


def review_visible(rules: Rules, now: datetime) -> bool:
    """Answers and explanations: right after the attempt, or only once the window has closed."""
    return rules.review == "immediate" or now >= rules.ends_at


def hidden_limit_reached(rules: Rules, hidden_count: int) -> bool:
    return rules.hidden_limit is not None and hidden_count >= rules.hidden_limit


def is_fast(rules: Rules, answer_ms: int) -> bool:
    return answer_ms < rules.fast_answer_ms


def option_order(option_ids: Sequence[str], seed: int, position: int, qtype: str) -> list[str]:
    """The per-attempt shuffle of one question's options; judge questions keep 正确/错误 order."""
    order = list(option_ids)
    if qtype != "judge":
        random.Random(f"{seed}:{position}").shuffle(order)
    return order
