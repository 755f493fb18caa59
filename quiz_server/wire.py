"""How values travel to phones and screens, the same for both contest modes."""

from __future__ import annotations

from datetime import datetime


def ms(moment: datetime | None) -> int | None:
    """A server-clock moment as epoch milliseconds: what every payload's timestamps are."""
    return None if moment is None else int(moment.timestamp() * 1000)
