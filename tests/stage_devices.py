"""Simulated team devices for the buzz-order tests and benchmark: a clock with its own offset
and drift, a network path with a nominal round trip, jitter and an uneven split."""

from __future__ import annotations

import random
from dataclasses import dataclass

from quiz_server.stage.clock import ASYMMETRY, Buzz, DeviceClock, Sample, convert


@dataclass
class Device:
    team: int
    rtt: float  # nominal round trip, seconds
    offset: float  # device clock minus server clock at server time 0
    drift: float  # the device clock's rate error (5e-5 = 50 ppm fast)
    rng: random.Random
    up_share: tuple[float, float] = (0.45, 0.55)  # the device→server share of each round trip
    jitter: float = 0.6  # each round trip is rtt × U(1, 1 + jitter)

    def local(self, server_time: float) -> float:
        """The device's clock reading at a server time, in whole milliseconds."""
        return round((server_time * (1 + self.drift) + self.offset) * 1000) / 1000

    def path(self) -> tuple[float, float]:
        rtt = self.rtt * self.rng.uniform(1.0, 1.0 + self.jitter)
        up = rtt * self.rng.uniform(*self.up_share)
        return up, rtt - up

    def exchange(self, server_send: float) -> Sample:
        """One exchange started at `server_send` (server time); the server answers in 0.5 ms."""
        up, down = self.path()
        t1 = server_send + up
        t2 = t1 + 0.0005
        return Sample(self.local(server_send), t1, t2, self.local(t2 + down))

    def synced(self, start: float, until: float, every: float = 2.0) -> DeviceClock:
        clock, t = DeviceClock(), start
        while t < until:
            clock = clock.add(self.exchange(t))
            t += every
        return clock

    def buzz(self, clock: DeviceClock, tap: float, asymmetry: float = ASYMMETRY) -> Buzz:
        """Tap at server time `tap`: the device stamps it, the message then takes its one way."""
        arrived = tap + self.path()[0]
        estimate = clock.estimate(arrived, asymmetry=asymmetry)
        return convert(self.team, self.local(tap), estimate, arrived)
