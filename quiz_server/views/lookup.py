"""How a view finds what its URL names: a PIN cleaned the way members type it, and a contest by
id (the console) or by PIN (public pages), answering 404 when there is none."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..contests import is_campaign
from ..extensions import db
from ..messages import REFUSALS
from ..models import Contest

PIN_MAX = 12


def clean_pin(raw: str | None) -> str:
    """Digits only, at most PIN_MAX of them: members type PINs with stray spaces."""
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    return digits[:PIN_MAX]


def contest_or_404(contest_id: int) -> Contest:
    """The contest with this id, its branches and bank version loaded for the console's pages."""
    contest = db.session.scalar(
        select(Contest)
        .where(Contest.id == contest_id)
        .options(selectinload(Contest.units), selectinload(Contest.bank_version))
    )
    if contest is None:
        abort(404)
    return contest


def contest_by_pin(pin: str) -> Contest | None:
    """The contest a member's PIN names, whichever its mode; None for no such PIN."""
    found = clean_pin(pin)
    if not found:
        return None
    return db.session.scalar(select(Contest).where(Contest.pin == found))


def contest_by_pin_or_404(pin: str) -> Contest:
    contest = contest_by_pin(pin)
    if contest is None:
        abort(404, description=REFUSALS["no_such_contest"])
    return contest


def campaign_by_pin_or_404(pin: str) -> Contest:
    """A campaign by its PIN; a live contest's PIN is no campaign and answers 404 here."""
    contest = contest_by_pin(pin)
    if contest is None or not is_campaign(contest):
        abort(404, description=REFUSALS["no_such_contest"])
    return contest
