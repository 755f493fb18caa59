"""Contests: the two modes, the one typed reader of `contest.settings`, creating a contest (PIN,
question draw, participating branches), live round state, and joining (both modes)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select

from . import campaign, i18n
from .draw import DrawError, DrawRule, draw
from .extensions import DbSession
from .live import engine
from .models import (
    BankVersion,
    Contest,
    ContestQuestion,
    JoinAttempt,
    Participant,
    RosterEntry,
    Unit,
)

if TYPE_CHECKING:
    from .campaign import Rules as CampaignRules

DEFAULT_SETTINGS: dict[str, Any] = {
    "timing": {},
    "scoring": {},
    "ranking_metric": "avg_registered",
}
# A campaign's unit ranking (settings["rankings"]): the metric, a composite's weights, and the
# metrics compared, in order, when two units tie on it.
DEFAULT_RANKING: dict[str, Any] = {
    "metric": "composite",
    "weights": {"participation_rate": 0.7, "attempts_per_member": 0.3},
    "tie_break": ["participation_rate", "full_marks", "attempts_per_member"],
}


class Mode(StrEnum):
    """How a contest runs: a live round the organizer steps through, a campaign of
    self-paced timed attempts over days, or a stage contest of branch teams at desks with a
    referee (`stage/`). Stored as the string in `Contest.mode`."""

    LIVE = "live"
    CAMPAIGN = "campaign"
    STAGE = "stage"


def mode_of(contest: Contest) -> Mode:
    return Mode(contest.mode)


def is_campaign(contest: Contest) -> bool:
    return contest.mode == Mode.CAMPAIGN


def is_live(contest: Contest) -> bool:
    return contest.mode == Mode.LIVE


def is_stage(contest: Contest) -> bool:
    return contest.mode == Mode.STAGE


def in_mode(mode: Mode) -> ColumnElement[bool]:
    """The SQL condition for contests of one mode, for queries over many contests."""
    return Contest.mode == mode.value


@dataclass(frozen=True)
class ContestSettings:
    """Everything `contest.settings` holds, typed; the one place that reads the stored JSON.

    `campaign` is the campaign's rules (None for a live round); `ranking` the campaign's unit
    ranking config (metric, weights, tie_break) with the defaults filled in."""

    timing: engine.Timing = field(default_factory=engine.Timing)
    scoring: engine.Scoring = field(default_factory=engine.Scoring)
    draw: DrawRule | None = None
    ranking_metric: str = "avg_registered"
    campaign: CampaignRules | None = None
    ranking: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_RANKING))
    # Each phone orders a live round's options by its own seed and shows no letters: for rounds
    # without a shared screen. Off, phones show the big screen's order and letters.
    shuffle_options: bool = False

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> ContestSettings:
        return cls(
            timing=engine.Timing.from_settings(dict(values)),
            scoring=engine.Scoring.from_settings(dict(values)),
            draw=DrawRule.from_settings(values["draw"]) if "draw" in values else None,
            ranking_metric=str(values.get("ranking_metric") or "avg_registered"),
            campaign=campaign.Rules.from_settings(values["campaign"])
            if "campaign" in values
            else None,
            ranking={**DEFAULT_RANKING, **values.get("rankings", {})},
            shuffle_options=bool(values.get("shuffle_options", False)),
        )

    @property
    def rules(self) -> CampaignRules:
        """The campaign's rules; a live round has none, and asking for them is a bug."""
        if self.campaign is None:
            raise ValueError("a live round has no campaign rules")
        return self.campaign


def settings_of(contest: Contest) -> ContestSettings:
    return ContestSettings.read(contest.settings or {})


def rules_of(contest: Contest) -> campaign.Rules:
    """A campaign's rules (window, limits, counting, review)."""
    return settings_of(contest).rules


class ContestError(ValueError):
    """A contest that cannot be created as asked (the message says why, in plain words)."""


def new_pin(session: DbSession) -> str:
    taken = set(session.scalars(select(Contest.pin)))
    while (pin := f"{secrets.randbelow(900000) + 100000}") in taken:
        pass
    return pin


def create_contest(
    session: DbSession,
    *,
    title: str,
    bank_version: BankVersion,
    rule: DrawRule | int,
    branches: Sequence[Unit],
    settings: dict[str, Any] | None = None,
    seed: int | None = None,
    mode: Mode = Mode.LIVE,
    roster_bound: bool = False,
) -> Contest:
    """Add a contest to the session (the caller commits); a live round with its drawn questions.

    `rule` is a draw rule or just a count; the rule and the seed are stored with the contest,
    so the draw can be reproduced. A campaign draws per attempt, so it stores no question rows,
    but its rule is still checked against the bank here."""
    if not branches:
        raise ContestError("至少选择一个参赛党支部")
    rule = DrawRule(count=rule) if isinstance(rule, int) else rule
    merged = {**DEFAULT_SETTINGS, **(settings or {}), "draw": rule.to_settings()}
    seed = secrets.randbelow(2**31) if seed is None else seed
    timing = ContestSettings.read(merged).timing
    contest = Contest(
        pin=new_pin(session),
        title=title,
        mode=Mode(mode).value,
        bank_version=bank_version,
        settings=merged,
        draw_seed=seed,
        roster_bound=roster_bound,
        units=list(branches),
    )
    draw_questions(contest, rule, seed, timing.question_seconds)
    session.add(contest)
    session.flush()
    return contest


def draw_questions(contest: Contest, rule: DrawRule, seed: int, default_seconds: int) -> None:
    """Draw the contest's questions from its pinned version by the rule and seed (replacing any
    drawn before, for an edit before the start). A campaign draws per attempt: the rule is only
    checked against the bank here."""
    try:
        drawn = draw(contest.bank_version.questions, rule, seed)
    except DrawError as err:
        raise ContestError(str(err)) from err
    contest.questions.clear()
    for position, question in enumerate(drawn if contest.mode == Mode.LIVE else ()):
        contest.questions.append(
            ContestQuestion(
                position=position,
                question=question,
                time_limit=question.time_limit or default_seconds,
            )
        )


def is_finished(contest: Contest, now: datetime) -> bool:
    """Over for good: a live round that has ended, a campaign whose window has closed. Until
    then its questions can still be asked, so nothing but the organizer's console shows answers."""
    if is_campaign(contest):
        return now >= rules_of(contest).ends_at
    return contest.phase == engine.Phase.FINISHED


def round_of(contest: Contest) -> engine.Round:
    return engine.Round(
        phase=engine.Phase(contest.phase),
        position=contest.position,
        total=len(contest.questions),
        seq=contest.seq,
        phase_ends_at=contest.phase_ends_at,
        paused_remaining=contest.paused_remaining,
    )


def window_of(cq: ContestQuestion) -> engine.Window:
    return engine.Window(cq.opens_at, cq.closes_at, cq.revealed_at)


# ---------------------------------------------------------------- joining (live and campaign)

NAME_MAX = 20


def joiner_name(raw: str) -> tuple[str, str | None]:
    """The display name with runs of spaces folded, and a refusal reason if it can't be used."""
    name = " ".join(raw.split())
    if not name:
        return name, "name_required"
    return name, "name_too_long" if len(name) > NAME_MAX else None


def roster_entry(
    session: DbSession, branch_id: int, name: str, member_no: Any
) -> RosterEntry | None:
    """The branch's roster line with this number, if the name matches too: spaces ignored, and
    a name typed in Traditional form (於麗) matches its Simplified roster line (于丽)."""
    if not isinstance(member_no, str) or not 0 < len(member_no.strip()) <= 32:
        return None
    entry = session.scalar(
        select(RosterEntry).where(
            RosterEntry.unit_id == branch_id, RosterEntry.member_no == member_no.strip()
        )
    )
    same_name = entry is not None and _name_key(entry.name) == _name_key(name)
    return entry if same_name else None


def _name_key(name: str) -> str:
    return i18n.to_simplified("".join(name.split()))


# Failed roster matches (wrong number or name, or a seated line) allowed per contest and client
# address in a minute; successful joins are not counted, so a hall of phones behind one NAT
# address can all join at once.
ROSTER_TRIES_PER_MINUTE = 10


def roster_seat(
    session: DbSession,
    contest: Contest,
    branch_id: int,
    name: str,
    member_no: Any,
    address: str,
    now: datetime,
) -> RosterEntry | Participant | str:
    """The roster line a joiner matches, or the refusal: `roster_rate_limited` after too many
    failed tries from one address, `not_on_roster`, or `already_joined` when the line already
    has a seat. A seat the organizer released (`release_seat`) is handed back instead: the same
    participant row, answers and score, with a fresh token.
    A second device never receives the first one's token; the refusal is recorded, so the
    organizer sees the seat on the fair-play page. The caller commits, refusals included."""
    address = address[:64]
    tries = session.scalar(
        select(func.count()).where(
            JoinAttempt.contest_id == contest.id,
            JoinAttempt.address == address,
            JoinAttempt.outcome.not_in(("matched", "reclaimed")),
            JoinAttempt.at > now - timedelta(minutes=1),
        )
    )
    if (tries or 0) >= ROSTER_TRIES_PER_MINUTE:
        return "roster_rate_limited"
    entry = roster_entry(session, branch_id, name, member_no)
    seat = (
        session.scalar(
            select(Participant).where(
                Participant.contest_id == contest.id, Participant.roster_entry_id == entry.id
            )
        )
        if entry is not None
        else None
    )
    outcome = _outcome(entry, seat)
    session.add(
        JoinAttempt(
            contest_id=contest.id,
            address=address,
            outcome=outcome,
            roster_entry_id=entry.id if entry else None,
            at=now,
        )
    )
    if seat is not None and outcome == "reclaimed":
        return _reclaim(seat, address)
    return entry if outcome == "matched" and entry is not None else outcome


def _outcome(entry: RosterEntry | None, seat: Participant | None) -> str:
    if entry is None:
        return "not_on_roster"
    if seat is None:
        return "matched"
    return "reclaimed" if seat.released and not seat.kicked else "already_joined"


def release_seat(participant: Participant) -> bool:
    """Free a roster seat whose member lost their device or token (the caller commits): the
    old token stops working at once, and the member's next join with their roster name and
    number takes the same row back (answers and score kept, counted once). False if the seat
    is not one to release: no roster line, or kicked."""
    if participant.roster_entry_id is None or participant.kicked:
        return False
    participant.token = secrets.token_urlsafe(24)  # known to nobody until it is re-claimed
    participant.released = True
    return True


def _reclaim(seat: Participant, address: str) -> Participant:
    seat.token = secrets.token_urlsafe(24)
    seat.released = False
    seat.join_address = address
    return seat


def new_participant(
    session: DbSession,
    contest: Contest,
    branch_id: int,
    name: str,
    entry: RosterEntry | None,
    address: str = "",
    device: str = "",
) -> Participant:
    """A member's seat: a secret resume token and a per-member option-shuffle seed. A roster
    member's name is the roster's form, however it was typed (spacing, Traditional script)."""
    participant = Participant(
        contest_id=contest.id,
        unit_id=branch_id,
        name=entry.name if entry else name,
        token=secrets.token_urlsafe(24),
        seed=secrets.randbelow(2**31),
        roster_entry_id=entry.id if entry else None,
        join_address=address[:64],
        join_device=device[:64],
    )
    session.add(participant)
    return participant
