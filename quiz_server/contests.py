"""Creating contests: PINs, the question draw, participating branches, live round state."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import engine
from .draw import DrawError, DrawRule, draw
from .models import BankVersion, Contest, ContestQuestion, Participant, RosterEntry, Unit

DEFAULT_SETTINGS: dict[str, Any] = {
    "timing": {},
    "scoring": {},
    "ranking_metric": "avg_registered",
}


class ContestError(ValueError):
    """A contest that cannot be created as asked (the message says why, in plain words)."""


def new_pin(session: Session) -> str:
    taken = set(session.scalars(select(Contest.pin)))
    while (pin := f"{secrets.randbelow(900000) + 100000}") in taken:
        pass
    return pin


def create_contest(
    session: Session,
    *,
    title: str,
    bank_version: BankVersion,
    rule: DrawRule | int,
    branches: Sequence[Unit],
    settings: dict[str, Any] | None = None,
    seed: int | None = None,
    mode: str = "live",
    roster_bound: bool = False,
) -> Contest:
    """Add a contest with its drawn questions to the session (the caller commits).

    `rule` is a draw rule or just a count; the rule and the seed are stored with the contest,
    so the draw can be reproduced."""
    if not branches:
        raise ContestError("至少选择一个参赛党支部")
    rule = DrawRule(count=rule) if isinstance(rule, int) else rule
    merged = {**DEFAULT_SETTINGS, **(settings or {}), "draw": rule.to_settings()}
    seed = secrets.randbelow(2**31) if seed is None else seed
    timing = engine.Timing.from_settings(merged)
    contest = Contest(
        pin=new_pin(session),
        title=title,
        mode=mode,
        bank_version=bank_version,
        settings=merged,
        draw_seed=seed,
        roster_bound=roster_bound,
        units=list(branches),
    )
    try:
        drawn = draw(bank_version.questions, rule, seed)
    except DrawError as err:
        raise ContestError(str(err)) from err
    for position, question in enumerate(drawn):
        contest.questions.append(
            ContestQuestion(
                position=position,
                question=question,
                time_limit=question.time_limit or timing.question_seconds,
            )
        )
    session.add(contest)
    session.flush()
    return contest


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


def roster_entry(session: Session, branch_id: int, name: str, member_no: Any) -> RosterEntry | None:
    """The branch's roster line with this number, if the name matches too (spaces ignored)."""
    if not isinstance(member_no, str) or not 0 < len(member_no.strip()) <= 32:
        return None
    entry = session.scalar(
        select(RosterEntry).where(
            RosterEntry.unit_id == branch_id, RosterEntry.member_no == member_no.strip()
        )
    )
    same_name = entry is not None and "".join(entry.name.split()) == "".join(name.split())
    return entry if same_name else None


def new_participant(
    session: Session, contest: Contest, branch_id: int, name: str, entry: RosterEntry | None
) -> Participant:
    """A member's seat: a secret resume token and a per-member option-shuffle seed."""
    participant = Participant(
        contest_id=contest.id,
        unit_id=branch_id,
        name=name,
        token=secrets.token_urlsafe(24),
        seed=secrets.randbelow(2**31),
        roster_entry_id=entry.id if entry else None,
    )
    session.add(participant)
    return participant
