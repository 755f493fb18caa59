"""Fair buzz order: clocks estimated over the socket, taps ordered on the server's clock."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stage_devices import Device

from quiz_server.stage.clock import Buzz, DeviceClock, Estimate, Sample, convert, order, valid

offsets = st.floats(min_value=-3600, max_value=3600, allow_nan=False)
drifts = st.floats(min_value=-50e-6, max_value=50e-6, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**32)


def test_sample_arithmetic():
    # device 5 s behind the server, 40 ms each way, 2 ms at the server
    sample = Sample(t0=95.0, t1=100.040, t2=100.042, t3=95.082)
    assert round(sample.offset, 6) == 5.0
    assert round(sample.rtt, 6) == 0.080


def test_the_lowest_delay_sample_is_used_and_the_window_slides():
    clock = DeviceClock()
    for i, rtt in enumerate([0.3, 0.05, 0.2] + [0.4] * 40):
        clock = clock.add(Sample(i, i + 10 + rtt / 2, i + 10 + rtt / 2, i + rtt))
    estimate = clock.estimate(now=50)
    assert estimate is not None and round(estimate.rtt, 6) == 0.4  # the 50 ms one slid out
    short = (
        DeviceClock(clock.samples[:0])
        .add(Sample(0, 10.1, 10.1, 0.2))
        .add(Sample(1, 11.025, 11.025, 1.05))
    )
    best = short.estimate(now=2)
    assert best is not None and round(best.rtt, 6) == 0.05 and round(best.offset, 6) == 10.0
    assert len(clock.samples) == 32


def test_implausible_samples_are_dropped():
    assert DeviceClock().add(Sample(10, 5, 4, 11)).samples == ()


@settings(max_examples=400, deadline=None)
@given(offsets, offsets, drifts, drifts, seeds)
def test_slow_link_tapping_50ms_earlier_wins(off_fast, off_slow, drift_fast, drift_slow, seed):
    """One device at 20 ms round trip, one at 300 ms; the slow one taps 50 ms earlier and its
    buzz arrives well after the fast one's. The earlier tap wins outright (no tie), and every
    converted tap lies within its stated uncertainty of the true tap."""
    rng = random.Random(seed)
    fast = Device(1, 0.020, off_fast, drift_fast, rng)
    slow = Device(2, 0.300, off_slow, drift_slow, rng)
    tap = 100.0 + rng.uniform(0, 60)
    clocks = {d.team: d.synced(tap - 64, tap - rng.uniform(0, 2)) for d in (fast, slow)}
    b_fast = fast.buzz(clocks[1], tap)
    b_slow = slow.buzz(clocks[2], tap - 0.050)
    assert b_slow.arrived > b_fast.arrived  # arrival order would have been unfair
    for buzz, true in ((b_fast, tap), (b_slow, tap - 0.050)):
        assert abs(buzz.at - true) <= buzz.uncertainty
    result = order([b_fast, b_slow])
    assert result.winner == 2 and result.tied == (2,)
    assert result.gap is not None and abs(result.gap - 0.050) <= 0.020


@pytest.mark.parametrize(
    ("asymmetry", "up_share"),
    [(0.05, (0.45, 0.55)), (0.5, (0.0, 1.0))],  # the default assumption; the strict bound
)
@settings(max_examples=150, deadline=None)
@given(offset=offsets, drift=drifts, seed=seeds, rtt=st.floats(min_value=0.005, max_value=0.8))
def test_stated_tolerance_holds_for_any_link(asymmetry, up_share, offset, drift, seed, rtt):
    rng = random.Random(seed)
    device = Device(1, rtt, offset, drift, rng, up_share=up_share)
    clock = device.synced(0, 60)
    tap = 60 + rng.uniform(0, 5)
    buzz = device.buzz(clock, tap, asymmetry=asymmetry)
    assert abs(buzz.at - tap) <= buzz.uncertainty


@settings(max_examples=200, deadline=None)
@given(offsets, offsets, seeds, st.floats(min_value=0, max_value=0.004))
def test_taps_closer_than_the_uncertainty_are_a_tie_with_the_gap(off_a, off_b, seed, gap):
    rng = random.Random(seed)
    a, b = Device(1, 0.3, off_a, 0, rng), Device(2, 0.3, off_b, 0, rng)
    tap = 70.0
    buzzes = [a.buzz(a.synced(0, 64), tap), b.buzz(b.synced(0, 64), tap + gap)]
    result = order(buzzes)
    assert set(result.tied) == {1, 2} and result.winner is None
    assert result.gap is not None and result.gap <= buzzes[0].uncertainty + buzzes[1].uncertainty


def test_strict_bound_turns_the_50ms_case_into_a_tie():
    """With asymmetry 0.5 (no assumption on the path) 300 ms of round trip is ±150 ms: the
    referee is shown a tie instead of a guess."""
    estimate_slow = Estimate(offset=0, uncertainty=0.5 * 0.3 + 0.001, rtt=0.3, samples=8)
    estimate_fast = Estimate(offset=0, uncertainty=0.5 * 0.02 + 0.001, rtt=0.02, samples=8)
    result = order([convert(1, 10.0, estimate_fast, 10.01), convert(2, 9.95, estimate_slow, 10.1)])
    assert result.tied == (2, 1) and result.winner is None


def test_taps_before_open_are_fouls_and_no_sync_orders_by_arrival():
    early, on_time = Buzz(1, 9.99, 0.01, 10.1), Buzz(2, 10.2, 0.01, 10.3)
    assert valid([early, on_time], opened_at=10.0) == ([on_time], [early])
    unsynced = convert(3, tap=12345.0, estimate=None, arrived=11.0)
    assert (unsynced.at, unsynced.uncertainty) == (11.0, 1.0)


def test_a_claimed_tap_long_before_arrival_is_clamped():
    estimate = Estimate(offset=0, uncertainty=0.002, rtt=0.02, samples=4)
    buzz = convert(1, tap=5.0, estimate=estimate, arrived=10.0)
    assert buzz.clamped and buzz.at == 10.0 - 0.02 - 1.0
