"""Campaign unit rankings (单位排行): branches, agencies and systems by participation, results
and activity, aggregated in SQL from stored attempts so every process and restart agrees.

Per member the counting rule picks one result (best, latest, sum or average of finished
attempts); per branch SQL sums them; `ranking.roll_up` carries the sums up the tree, and the
ratios are computed from the sums at each level. A participant is a member with at least one
finished attempt. Metric labels, participation and the rank function come from `ranking`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, delete, func, select

from .. import campaign, ranking
from ..contests import rules_of, settings_of
from ..extensions import DbSession
from ..models import Attempt, CampaignScore, Contest, Participant
from ..orgs import Tree
from ..ranking import over_registered, participation_rate, per_participant, per_registered

LEVELS = {"branch": "党支部", "agency": "机关党委", "system": "系统党委"}
METRICS = ranking.labels(ranking.CAMPAIGN_METRICS)
# Already 0–1: used as they are in a composite, where other metrics are normalised.
RATES = tuple(k for k in ranking.CAMPAIGN_METRICS if ranking.is_percentage(k))


@dataclass(frozen=True)
class MemberResult:
    participant_id: int
    unit_id: int
    name: str
    score: float
    time_ms: float
    attempts: int
    full: bool


def _rule_columns(rule: str) -> tuple[Any, Any]:
    """The SQL (score, time) of each member's counted result under `rule`."""
    t = CampaignScore
    if rule == "best":
        return t.best_score, t.best_time_ms
    if rule == "latest":
        return t.latest_score, t.latest_time_ms
    if rule == "sum":
        return t.sum_score, t.sum_time_ms
    if rule == "average":
        return t.sum_score * 1.0 / t.attempts, t.sum_time_ms * 1.0 / t.attempts
    raise ValueError(f"unknown counting rule {rule!r}")


def _rule(contest: Contest) -> str:
    return rules_of(contest).counting


def member_results(session: DbSession, contest: Contest) -> list[MemberResult]:
    """Each member's counted result, best first (ties: the shorter time)."""
    score, time_ms = _rule_columns(_rule(contest))
    rows = session.execute(
        select(
            CampaignScore.participant_id,
            CampaignScore.unit_id,
            Participant.name,
            score,
            time_ms,
            CampaignScore.attempts,
            CampaignScore.full,
        )
        .join(Participant, Participant.id == CampaignScore.participant_id)
        .where(CampaignScore.contest_id == contest.id, CampaignScore.attempts > 0)
        .order_by(score.desc(), time_ms, CampaignScore.participant_id)
    )
    return [MemberResult(p, u, n, float(s), float(t), a, bool(f)) for p, u, n, s, t, a, f in rows]


def member_rank(
    session: DbSession, contest: Contest, participant_id: int
) -> tuple[int | None, int]:
    """(place, members ranked): competition ranking, so equal score and time share a place."""
    score, time_ms = _rule_columns(_rule(contest))
    ranked = (CampaignScore.contest_id == contest.id) & (CampaignScore.attempts > 0)
    total = session.scalar(select(func.count()).where(ranked)) or 0
    mine = session.execute(
        select(score, time_ms).where(ranked, CampaignScore.participant_id == participant_id)
    ).first()
    if mine is None:
        return None, total
    ahead = session.scalar(
        select(func.count()).where(
            ranked, (score > mine[0]) | ((score == mine[0]) & (time_ms < mine[1]))
        )
    )
    return (ahead or 0) + 1, total


def rebuild_scores(session: DbSession, contest: Contest) -> None:
    """Recompute every member's totals from the stored attempts (repairs, bulk imports)."""
    from .attempts import record

    session.execute(delete(CampaignScore).where(CampaignScore.contest_id == contest.id))
    session.flush()
    finished = session.scalars(
        select(Attempt)
        .where(Attempt.contest_id == contest.id, Attempt.finished_at.is_not(None))
        .order_by(Attempt.finished_at, Attempt.id)
    )
    for attempt in finished:
        record(session, attempt)
        session.flush()


@dataclass
class UnitRow:
    unit_id: int
    name: str
    kind: str
    parent: str
    participants: int
    registered: int
    score: float
    full_marks: int
    attempts: int
    capped: int = 0  # participants counted towards participation (ranking.turnout)
    rank: int = 0
    metric: float = 0.0
    values: dict[str, float] | None = None

    def value(self, name: str) -> float:
        if name == "participation_rate":
            return participation_rate(self.capped, self.registered)
        if name == "avg_registered":
            return per_registered(self.score, self.participants, self.registered)
        if name == "avg_participants":
            return per_participant(self.score, self.participants)
        if name == "full_mark_rate":
            return per_participant(self.full_marks, self.participants)
        if name == "attempts_per_member":
            return per_participant(self.attempts, self.participants)
        if name in ("full_marks", "participants", "attempts", "registered"):
            return float(getattr(self, name))
        if name == "composite" and self.values is not None:
            return self.values["composite"]
        raise ValueError(f"unknown ranking metric {name!r}")


def ranking_config(contest: Contest) -> dict[str, Any]:
    return settings_of(contest).ranking


def unit_rows(session: DbSession, contest: Contest, level: str) -> list[UnitRow]:
    """Units of one level, ranked by the contest's metric and then its tie-break chain."""
    tree = Tree.load(session)
    sums = ranking.roll_up(tree, _branch_totals(session, contest))
    wanted = {a.id for b in contest.units for a in (b, *tree.ancestors(b.id))}
    rows = [
        UnitRow(
            unit_id=u.id,
            name=u.name,
            kind=u.kind,
            parent=tree.units[u.parent_id].name if u.parent_id in tree.units else "",
            participants=int(sums[u.id]["participants"]),
            registered=int(sums[u.id]["registered"]),
            score=sums[u.id]["score"],
            full_marks=int(sums[u.id]["full"]),
            attempts=int(sums[u.id]["attempts"]),
            capped=int(sums[u.id]["capped"]),
        )
        for _depth, u in tree.depth_first()
        if u.kind == level and u.id in wanted
    ]
    return rank_units(rows, ranking_config(contest))


def _branch_totals(session: DbSession, contest: Contest) -> dict[int, Counter[str]]:
    """Per branch in one GROUP BY over the members' totals: the hot path of the live page."""
    totals = {u.id: Counter(registered=u.registered) for u in contest.units}
    score, _time = _rule_columns(_rule(contest))
    t = CampaignScore
    rows = session.execute(
        select(t.unit_id, func.count(), func.sum(score), func.sum(t.attempts), func.sum(t.full))
        .where(t.contest_id == contest.id, t.attempts > 0)
        .group_by(t.unit_id)
    )
    for unit_id, participants, points, attempts, full in rows:
        if unit_id in totals:
            totals[unit_id].update(  # type: ignore[call-overload]  # typeshed: Counter values int; the score is a float
                participants=participants,
                score=float(points or 0),
                attempts=int(attempts),
                full=int(full),
            )
    return totals


def rank_units(rows: list[UnitRow], config: dict[str, Any]) -> list[UnitRow]:
    """Score each row by the metric (a weighted composite normalises non-rates by the level's
    maximum) and rank by `ranking.rank`: the metric, then the config's tie-break chain (each
    higher first), then the name."""
    weights: dict[str, float] = config.get("weights", {})
    tops = {name: max((r.value(name) for r in rows), default=0.0) for name in weights}
    for row in rows:
        row.values = {
            "composite": sum(w * _normalised(row, n, tops[n]) for n, w in weights.items())
        }
        row.metric = row.value(config["metric"])
    names = [config["metric"], *config.get("tie_break", [])]
    chain = [lambda r, n=n: r.value(n) for n in names]
    ranked = ranking.rank(rows, chain, lambda r: r.name)
    for place, row in ranked:
        row.rank = place
    return [row for _place, row in ranked]


def _normalised(row: UnitRow, name: str, top: float) -> float:
    if name in RATES:
        return row.value(name)
    return row.value(name) / top if top else 0.0


def tie_break_note(config: dict[str, Any]) -> str:
    names = [METRICS.get(n, n) for n in config.get("tie_break", [])]
    return (
        "并列时依次比较：" + " → ".join(names) + "（均为高者在前）" if names else "并列时名次相同"
    )


def metric_note(config: dict[str, Any]) -> str:
    if config["metric"] != "composite":
        return f"排名指标：{METRICS[config['metric']]}"
    parts = [
        f"{w:g} × {METRICS.get(n, n)}{'' if n in RATES else '（归一化）'}"
        for n, w in config["weights"].items()
    ]
    return "综合得分 = " + " + ".join(parts)


# ------------------------------------------------------------------ rows for the workbook


def campaign_unit_rows(session: DbSession, contest: Contest, level: str) -> list[dict[str, Any]]:
    """One row per unit of `level` for the campaign sheet of the results workbook."""
    return [
        {
            "rank": r.rank,
            "unit_id": r.unit_id,
            "unit": r.name,
            "parent": r.parent,
            "registered": r.registered,
            "participants": r.participants,
            "participation_rate": round(r.value("participation_rate"), 4),
            "over_registered": over_registered(r.participants, r.registered),
            "avg_registered": round(r.value("avg_registered"), 2),
            "avg_participants": round(r.value("avg_participants"), 2),
            "full_marks": r.full_marks,
            "full_mark_rate": round(r.value("full_mark_rate"), 4),
            "attempts": r.attempts,
            "attempts_per_member": round(r.value("attempts_per_member"), 2),
            "metric": round(r.metric, 4),
        }
        for r in unit_rows(session, contest, level)
    ]


def campaign_days(contest: Contest, today: datetime) -> list[date]:
    rules = rules_of(contest)
    first = campaign.local_day(rules, rules.starts_at)
    last = campaign.local_day(rules, min(today, rules.ends_at - timedelta(seconds=1)))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def daily_participation_rows(
    session: DbSession, contest: Contest, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per unit and day: members who took an attempt that day, and the cumulative rate."""
    rules = rules_of(contest)
    days = campaign_days(contest, now or rules.ends_at)
    tree = Tree.load(session)
    daily, first = _daily_per_branch(session, contest)
    registered = tree.rollup({u.id: {"registered": u.registered} for u in contest.units})
    day_sums = {d: tree.rollup(daily.get(d, {})) for d in map(date.isoformat, days)}
    first_sums = {d: tree.rollup(first.get(d, {})) for d in map(date.isoformat, days)}
    wanted = {a.id for b in contest.units for a in (b, *tree.ancestors(b.id))}
    rows: list[dict[str, Any]] = []
    for _depth, unit in tree.depth_first():
        if unit.id not in wanted:
            continue
        cumulative = 0
        reg = int(registered[unit.id]["registered"])
        for day in map(date.isoformat, days):
            cumulative += int(first_sums[day][unit.id]["n"])
            rows.append(
                {
                    "unit_id": unit.id,
                    "unit": unit.name,
                    "kind": unit.kind,
                    "day": day,
                    "participants": int(day_sums[day][unit.id]["n"]),
                    "cumulative": cumulative,
                    "registered": reg,
                    "cumulative_rate": round(participation_rate(cumulative, reg), 4),
                }
            )
    return rows


def _daily_per_branch(
    session: DbSession, contest: Contest
) -> tuple[dict[str, dict[int, dict[str, int]]], ...]:
    """{day: {branch: {"n": members that day}}} and the same for members' first day."""
    base = (
        select(Participant.unit_id, Attempt.local_day, Attempt.participant_id)
        .join(Participant, Participant.id == Attempt.participant_id)
        .where(Attempt.contest_id == contest.id)
    )
    daily: dict[str, dict[int, dict[str, int]]] = {}
    sub = base.distinct().subquery()
    for unit_id, day, n in session.execute(
        select(sub.c.unit_id, sub.c.local_day, func.count()).group_by(
            sub.c.unit_id, sub.c.local_day
        )
    ):
        daily.setdefault(day, {})[unit_id] = {"n": n}
    firsts = (
        select(Participant.unit_id, func.min(Attempt.local_day).label("day"))
        .join(Participant, Participant.id == Attempt.participant_id)
        .where(Attempt.contest_id == contest.id)
        .group_by(Attempt.participant_id, Participant.unit_id)
        .subquery()
    )
    first: dict[str, dict[int, dict[str, int]]] = {}
    for unit_id, day, n in session.execute(
        select(firsts.c.unit_id, firsts.c.day, func.count().cast(Integer)).group_by(
            firsts.c.unit_id, firsts.c.day
        )
    ):
        first.setdefault(day, {})[unit_id] = {"n": n}
    return daily, first
