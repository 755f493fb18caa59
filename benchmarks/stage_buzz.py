"""Buzz-order precision: how close the converted taps come to the true taps, and how often the
earlier tap wins, over simulated stage devices (the same model as tests/test_stage_clock.py).

    python benchmarks/stage_buzz.py --trials 20000

Each trial draws fresh clock offsets (±1 h) and drifts (±50 ppm) for a fast device (20 ms round
trip) and a slow one (300 ms), syncs them every 2 s for a minute, then the slow one taps --lead
seconds before the fast one. Prints the conversion error and the stated uncertainty (p50, p99,
max) for each link, and the share of trials won by the earlier tap, tied, or lost.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from stage_devices import Device  # noqa: E402

from quiz_server.stage.clock import order  # noqa: E402


def quantiles(values: list[float]) -> str:
    values = sorted(values)
    p = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return f"p50 {p(0.5) * 1000:6.2f} ms  p99 {p(0.99) * 1000:6.2f} ms  max {values[-1] * 1000:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20000)
    parser.add_argument("--lead", type=float, default=0.050)
    parser.add_argument("--asymmetry", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    errors: dict[str, list[float]] = {"20 ms": [], "300 ms": []}
    stated: dict[str, list[float]] = {"20 ms": [], "300 ms": []}
    outcomes = {"earlier tap wins": 0, "tie shown to referee": 0, "later tap wins": 0}
    outside = 0
    for _ in range(args.trials):
        drift = lambda: rng.uniform(-50e-6, 50e-6)  # noqa: E731
        fast = Device(1, 0.020, rng.uniform(-3600, 3600), drift(), rng)
        slow = Device(2, 0.300, rng.uniform(-3600, 3600), drift(), rng)
        tap = 100 + rng.uniform(0, 60)
        buzzes = []
        for device, at, name in ((fast, tap, "20 ms"), (slow, tap - args.lead, "300 ms")):
            clock = device.synced(tap - 64, tap - rng.uniform(0, 2))
            buzz = device.buzz(clock, at, asymmetry=args.asymmetry)
            errors[name].append(abs(buzz.at - at))
            stated[name].append(buzz.uncertainty)
            outside += abs(buzz.at - at) > buzz.uncertainty
            buzzes.append(buzz)
        result = order(buzzes)
        key = {2: "earlier tap wins", 1: "later tap wins"}.get(result.winner or 0)
        outcomes[key or "tie shown to referee"] += 1
    print(f"{args.trials} trials, slow device taps {args.lead * 1000:.0f} ms earlier")
    for name in errors:
        print(f"{name:>7} link  error  {quantiles(errors[name])}")
        print(f"{'':>7}       stated {quantiles(stated[name])}")
    print(f"converted taps outside their stated uncertainty: {outside}")
    for key, count in outcomes.items():
        print(f"{key:>22}: {count / args.trials:7.2%}")


if __name__ == "__main__":
    main()
