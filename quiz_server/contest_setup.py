"""A contest as the organizer asked for it (from the console form or the command line): created,
edited before it starts, archived or deleted. Both edges build a `ContestSpec` and call the same
functions here; the caller commits (and records the action in the audit log).

Editing and deleting are for contests that have not started: a live round still in the lobby,
a campaign before its window opens with no attempt taken. Once started a contest is only
archived (hidden from the console's default list, every result kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from .campaign import Rules
from .campaign.setup import campaign_settings, create_campaign
from .contests import (
    DEFAULT_SETTINGS,
    ContestError,
    create_contest,
    draw_questions,
    is_campaign,
    is_stage,
    settings_of,
)
from .draw import DrawRule
from .extensions import DbSession
from .live.engine import Phase
from .models import (
    Answer,
    Attempt,
    AttemptItem,
    BankVersion,
    CampaignScore,
    Contest,
    ContestQuestion,
    ContestUnit,
    JoinAttempt,
    Participant,
    Unit,
)


@dataclass
class ContestSpec:
    """What the organizer asked for, checked; `errors` holds every problem in plain Chinese."""

    title: str = ""
    version_id: int | None = None
    rule: DrawRule | None = None
    seed: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # a live round's timing, scoring…
    unit_ids: list[int] = field(default_factory=list)
    roster_bound: bool = False
    scheduled_at: datetime | None = None
    campaign: Rules | None = None  # set for a campaign (网络竞答)
    ranking: dict[str, Any] | None = None  # a campaign's unit ranking: metric, weights, tie_break
    errors: list[str] = field(default_factory=list)


def create_from_spec(session: DbSession, spec: ContestSpec) -> Contest:
    """A new contest of the spec's mode (ContestError when the bank cannot supply the draw)."""
    version, rule, branches = _parts(session, spec)
    common: dict[str, Any] = {
        "title": spec.title, "bank_version": version, "rule": rule, "branches": branches,
        "roster_bound": spec.roster_bound, "seed": spec.seed,
    }  # fmt: skip
    if spec.campaign is not None:
        contest = create_campaign(session, **common, rules=spec.campaign, ranking=spec.ranking)
    else:
        contest = create_contest(session, **common, settings=spec.settings)
    contest.scheduled_at = None if spec.campaign is not None else spec.scheduled_at
    return contest


def not_started(session: DbSession, contest: Contest, now: datetime) -> bool:
    """Nothing has been asked yet: a live round in the lobby, a campaign before its window
    with no attempt. Only then may a contest be edited or deleted. A stage contest is set up
    from its programme (`contests create-stage`), not this form: it is archived, never edited."""
    if is_stage(contest):
        return False
    if not is_campaign(contest):
        return contest.phase == Phase.LOBBY
    taken = session.scalar(select(Attempt.id).where(Attempt.contest_id == contest.id).limit(1))
    return now < settings_of(contest).rules.starts_at and taken is None


def edit_from_spec(session: DbSession, contest: Contest, spec: ContestSpec) -> list[str]:
    """Apply the spec to a contest that has not started (the caller checks `not_started`);
    the PIN and the mode stay. Returns the Chinese names of what changed, for the audit log.
    A changed draw (version, rule or seed) draws the questions again."""
    version, rule, branches = _parts(session, spec)
    before = _summary(contest)
    if is_campaign(contest):
        if spec.campaign is None:
            raise ContestError("竞赛方式创建后不能更改")
        settings = campaign_settings(spec.campaign, spec.ranking)
    else:
        settings = {**DEFAULT_SETTINGS, **spec.settings}
    seed = contest.draw_seed if spec.seed is None else spec.seed
    contest.title, contest.bank_version, contest.roster_bound = (
        spec.title,
        version,
        spec.roster_bound,
    )
    contest.settings = {**settings, "draw": rule.to_settings()}
    contest.draw_seed, contest.units = seed, list(branches)
    contest.scheduled_at = None if is_campaign(contest) else spec.scheduled_at
    if before["抽题"] != _summary(contest)["抽题"] or not contest.questions:
        contest.questions.clear()
        session.flush()  # the old rows go before the new ones take their positions
        draw_questions(contest, rule, seed, settings_of(contest).timing.question_seconds)
    session.flush()
    after = _summary(contest)
    return [name for name in after if after[name] != before[name]]


def _summary(contest: Contest) -> dict[str, Any]:
    settings = {k: v for k, v in (contest.settings or {}).items() if k != "draw"}
    return {
        "名称": contest.title,
        "抽题": (contest.bank_version.id, (contest.settings or {}).get("draw"), contest.draw_seed),
        "设置": settings,
        "参赛单位": sorted(u.id for u in contest.units),
        "名册限制": contest.roster_bound,
        "计划开始时间": contest.scheduled_at,
    }


def _parts(session: DbSession, spec: ContestSpec) -> tuple[BankVersion, DrawRule, list[Unit]]:
    version = session.get(BankVersion, spec.version_id) if spec.version_id else None
    if version is None or spec.rule is None:
        raise ContestError("请选择题库版本")
    branches = list(session.scalars(select(Unit).where(Unit.id.in_(spec.unit_ids))))
    if not branches:
        raise ContestError("至少选择一个参赛党支部")
    return version, spec.rule, branches


def archive(contest: Contest, now: datetime | None) -> None:
    """Hide the contest from the default list (`now`), or bring it back (None)."""
    contest.archived_at = now


def delete_contest(session: DbSession, contest: Contest) -> None:
    """Remove a contest that has not started, with the seats taken in its lobby; the audit log
    keeps its entries (they name the contest by id and title, without a foreign key)."""
    cid = contest.id
    attempts = select(Attempt.id).where(Attempt.contest_id == cid)
    session.execute(delete(AttemptItem).where(AttemptItem.attempt_id.in_(attempts)))
    for table in (CampaignScore, Attempt, Answer, JoinAttempt, Participant):
        session.execute(delete(table).where(table.contest_id == cid))
    session.execute(delete(ContestQuestion).where(ContestQuestion.contest_id == cid))
    session.execute(delete(ContestUnit).where(ContestUnit.contest_id == cid))
    session.expunge(contest)
    session.execute(delete(Contest).where(Contest.id == cid))
