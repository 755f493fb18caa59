"""Fair-play flags about seats, for the organizer's review page: never automatic bans.

Client addresses are shared (an office behind one NAT, a mobile carrier's gateway) and device ids
are whatever the phone sends, so each flag is a hint to look at, not proof: the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .extensions import DbSession
from .models import Contest, JoinAttempt, Participant, RosterEntry, Unit

BURST_SEATS = 5  # this many new seats from one address ...
BURST_WINDOW = timedelta(minutes=10)  # ... within this long is flagged


@dataclass(frozen=True)
class SecondDevice:
    """A roster line a second device asked for after it had a seat (refused, no token given)."""

    name: str
    member_no: str
    branch: str
    tries: int
    addresses: int
    last: datetime


@dataclass(frozen=True)
class Burst:
    address: str
    seats: int  # the most seats created within BURST_WINDOW
    first: datetime
    names: list[str]


@dataclass(frozen=True)
class RepeatedDevice:
    device: str
    seats: int
    names: list[str]


def second_devices(session: DbSession, contest: Contest) -> list[SecondDevice]:
    rows = session.execute(
        select(
            RosterEntry.name,
            RosterEntry.member_no,
            Unit.name,
            func.count(),
            func.count(func.distinct(JoinAttempt.address)),
            func.max(JoinAttempt.at),
        )
        .join(RosterEntry, RosterEntry.id == JoinAttempt.roster_entry_id)
        .join(Unit, Unit.id == RosterEntry.unit_id)
        .where(JoinAttempt.contest_id == contest.id, JoinAttempt.outcome == "already_joined")
        .group_by(RosterEntry.id, RosterEntry.name, RosterEntry.member_no, Unit.name)
        .order_by(func.count().desc())
    )
    return [SecondDevice(*row) for row in rows]


def bursts(session: DbSession, contest: Contest) -> list[Burst]:
    """Addresses that created BURST_SEATS or more seats within BURST_WINDOW."""
    busy = (
        select(Participant.join_address)
        .where(Participant.contest_id == contest.id, Participant.join_address != "")
        .group_by(Participant.join_address)
        .having(func.count() >= BURST_SEATS)
    )
    seats: dict[str, list[tuple[datetime, str]]] = {}
    for address, joined_at, name in session.execute(
        select(Participant.join_address, Participant.joined_at, Participant.name)
        .where(Participant.contest_id == contest.id, Participant.join_address.in_(busy))
        .order_by(Participant.join_address, Participant.joined_at)
    ):
        seats.setdefault(address, []).append((joined_at, name))
    found = [_densest(address, rows) for address, rows in seats.items()]
    return sorted((b for b in found if b.seats >= BURST_SEATS), key=lambda b: -b.seats)


def _densest(address: str, rows: list[tuple[datetime, str]]) -> Burst:
    best, best_start, start = 0, 0, 0
    for end in range(len(rows)):
        while rows[end][0] - rows[start][0] > BURST_WINDOW:
            start += 1
        if end - start + 1 > best:
            best, best_start = end - start + 1, start
    window = rows[best_start : best_start + best]
    return Burst(address, best, window[0][0], [name for _, name in window][:10])


def repeated_devices(session: DbSession, contest: Contest) -> list[RepeatedDevice]:
    """Device ids the phone sent at joining that more than one seat carries."""
    rows = session.execute(
        select(Participant.join_device, Participant.name)
        .where(
            Participant.contest_id == contest.id,
            Participant.join_device.in_(
                select(Participant.join_device)
                .where(Participant.contest_id == contest.id, Participant.join_device != "")
                .group_by(Participant.join_device)
                .having(func.count() > 1)
            ),
        )
        .order_by(Participant.join_device, Participant.joined_at)
    )
    names: dict[str, list[str]] = {}
    for device, name in rows:
        names.setdefault(device, []).append(name)
    return sorted(
        (RepeatedDevice(d, len(n), n[:10]) for d, n in names.items()), key=lambda r: -r.seats
    )
