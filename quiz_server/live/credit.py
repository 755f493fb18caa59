"""Time credit: an outage must not eat the open question's answering time.

Every contest timer (`rounds.tick`) leaves a heartbeat on the contest row at most every
`HEARTBEAT_SECONDS`. When no process could run the contest (all restarting, the database
away), the heartbeat goes stale; the first tick after recovery finds it so, and the open
question is extended by the time lost (`engine.outage_credit`, a contest setting on by default),
with a `time_credit` notice to phones and the big screen. Several processes recover at once:
the heartbeat write is compare-and-set on its old value, so exactly one of them claims the credit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import Contest, ContestQuestion
from . import engine
from .engine import Phase
from .rooms import HOST, PLAY, emit_localised

HEARTBEAT_SECONDS = 2.0


def beat(contest: Contest, rnd: engine.Round, moment: datetime) -> int:
    """Write the heartbeat when due; return the seconds of credit this process claimed (0: none).
    Commits: the beat is visible to the other processes at once."""
    last = contest.heartbeat_at
    if last is not None and moment - last < timedelta(seconds=HEARTBEAT_SECONDS):
        return 0
    seconds = _owed(contest, rnd, last, moment)
    same = Contest.heartbeat_at.is_(None) if last is None else Contest.heartbeat_at == last
    claim = db.session.execute(
        update(Contest).where(Contest.id == contest.id, same).values(heartbeat_at=moment)
    )
    db.session.commit()
    return seconds if claim.rowcount == 1 else 0  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


def _owed(contest: Contest, rnd: engine.Round, last: datetime | None, moment: datetime) -> int:
    if last is None or rnd.phase is not Phase.QUESTION:
        return 0
    if moment - last < timedelta(seconds=engine.OUTAGE_SECONDS):
        return 0
    if not engine.Timing.from_settings(contest.settings or {}).outage_credit:
        return 0
    opens_at = db.session.scalar(
        select(ContestQuestion.opens_at).where(
            ContestQuestion.contest_id == contest.id, ContestQuestion.position == rnd.position
        )
    )
    return engine.outage_credit(rnd, opens_at, last, moment)


def announce(contest_id: int, position: int, seconds: int) -> None:
    """Tell phones and the big screen why the deadline moved (the new one comes with `phase`)."""
    payload = {"position": position, "seconds": seconds}
    emit_localised("time_credit", payload, contest_id, PLAY)
    emit_localised("time_credit", payload, contest_id, HOST)
