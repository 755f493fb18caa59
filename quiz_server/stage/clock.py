"""Fair buzz order: each device's clock is estimated NTP-style, and buzzes are ordered by the
moment of the tap on the server's clock, not by when they arrive.

An exchange: the device sends its time t0, the server stamps t1 on receipt and t2 on reply,
the device notes t3 on receipt and reports it with its next exchange. Then

    offset = ((t1 - t0) + (t2 - t3)) / 2        (server clock minus device clock)
    rtt    = (t3 - t0) - (t2 - t1)

The error of that offset is half the difference between the two one-way delays, so it is
smallest for the sample with the smallest round trip: we keep a sliding window and use the
sample whose stated uncertainty is least. The uncertainty stated for a converted tap is

    asymmetry * rtt_best + resolution + drift * (age of the best sample)

where `asymmetry` bounds how unequal the two directions may be (0.5 is the strict worst case:
one direction taking the whole round trip; the default 0.05 allows a 45/55 split, which holds
for small packets on one LAN or Wi-Fi cell). Pure: no sockets, time passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

WINDOW = 32  # samples kept per device (about a minute at one exchange every two seconds)
RESOLUTION = 0.001  # a device stamps whole milliseconds
DRIFT = 100e-6  # phone oscillators stay well within 100 ppm
ASYMMETRY = 0.05
MAX_LEAD = 1.0  # a tap claimed more than this before its arrival (plus rtt) is not believed


@dataclass(frozen=True)
class Sample:
    t0: float  # device send
    t1: float  # server receive
    t2: float  # server reply
    t3: float  # device receive

    @property
    def rtt(self) -> float:
        return max(0.0, (self.t3 - self.t0) - (self.t2 - self.t1))

    @property
    def offset(self) -> float:
        return ((self.t1 - self.t0) + (self.t2 - self.t3)) / 2

    @property
    def plausible(self) -> bool:
        return self.t0 <= self.t3 and self.t1 <= self.t2 and self.rtt < 10


@dataclass(frozen=True)
class Estimate:
    offset: float  # add to a device time to get server time
    uncertainty: float  # seconds either side
    rtt: float  # of the sample used
    samples: int


@dataclass(frozen=True)
class DeviceClock:
    """A device's recent exchanges, newest last (at most WINDOW)."""

    samples: tuple[Sample, ...] = ()

    def add(self, sample: Sample) -> DeviceClock:
        if not sample.plausible:
            return self
        return replace(self, samples=(*self.samples, sample)[-WINDOW:])

    def estimate(
        self, now: float, asymmetry: float = ASYMMETRY, drift: float = DRIFT
    ) -> Estimate | None:
        """The offset from the sample that promises the least error (a low delay, and not too
        old for the drift since), or None before any exchange."""
        if not self.samples:
            return None

        def spread(s: Sample) -> float:
            return asymmetry * s.rtt + RESOLUTION + drift * max(0.0, now - s.t2)

        best = min(self.samples, key=spread)
        return Estimate(best.offset, spread(best), best.rtt, len(self.samples))


@dataclass(frozen=True)
class Buzz:
    team: int
    at: float  # the tap on the server clock
    uncertainty: float
    arrived: float  # when the server received it
    offset: float = 0.0
    clamped: bool = False  # the claimed tap was implausibly early and was moved to the bound


def convert(
    team: int, tap: float, estimate: Estimate | None, arrived: float, max_lead: float = MAX_LEAD
) -> Buzz:
    """A device's tap time on the server clock. A device with no exchange yet is ordered by
    arrival, with the uncertainty of a whole second: it can win only clearly."""
    if estimate is None:
        return Buzz(team, arrived, max_lead, arrived)
    at = tap + estimate.offset
    earliest = arrived - estimate.rtt - max_lead
    clamped = at < earliest or at > arrived + estimate.uncertainty
    at = min(max(at, earliest), arrived)
    return Buzz(team, at, estimate.uncertainty, arrived, estimate.offset, clamped)


@dataclass(frozen=True)
class Order:
    """Buzzes by tap time. `tied` are the teams whose taps cannot be told apart from the first
    (within their combined uncertainty): the referee rules between them. `gap` is the measured
    time from the first tap to the second."""

    ranked: tuple[Buzz, ...]
    tied: tuple[int, ...]
    gap: float | None

    @property
    def winner(self) -> int | None:
        return self.ranked[0].team if self.ranked and len(self.tied) == 1 else None


def order(buzzes: Iterable[Buzz]) -> Order:
    ranked = tuple(sorted(buzzes, key=lambda b: (b.at, b.arrived)))
    if not ranked:
        return Order((), (), None)
    first = ranked[0]
    tied = tuple(b.team for b in ranked if b.at - first.at <= first.uncertainty + b.uncertainty)
    gap = ranked[1].at - first.at if len(ranked) > 1 else None
    return Order(ranked, tied, gap)


def valid(buzzes: Sequence[Buzz], opened_at: float) -> tuple[list[Buzz], list[Buzz]]:
    """(valid, fouls): a tap before the buzzers opened is a foul."""
    return [b for b in buzzes if b.at >= opened_at], [b for b in buzzes if b.at < opened_at]
