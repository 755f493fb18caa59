"""Campaign rules with an injected clock: window, stages, limits by Shanghai day, deadlines,
counting rules, review policy, and the per-attempt option shuffle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quiz_server import campaign
from quiz_server.campaign import CampaignRefusal, Counted, ItemState, Past, Result, Rules, Stage
from quiz_server.refusals import Refusal

START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 2026-11-23 00:00 in Shanghai
END = START + timedelta(days=7)


def rules(**kw) -> Rules:
    return Rules(starts_at=START, ends_at=END, **kw)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("moment", "refusal"),
    [
        (START - timedelta(seconds=1), CampaignRefusal.NOT_STARTED),
        (START, None),
        (END - timedelta(seconds=1), None),
        (END, CampaignRefusal.ENDED),
    ],
)
def test_attempts_start_only_inside_the_window(moment, refusal):
    assert campaign.can_start(rules(), moment, []) is refusal


def test_days_are_shanghai_days_not_utc_days():
    r = rules(per_day=2)
    # 15:30 UTC and 16:30 UTC are 23:30 on the 23rd and 00:30 on the 24th in Shanghai.
    late, after_midnight = START + timedelta(hours=23.5), START + timedelta(hours=24.5)
    past = [Past(START + timedelta(hours=1)), Past(late)]
    assert campaign.local_day(r, late).isoformat() == "2026-11-23"
    assert campaign.local_day(r, after_midnight).isoformat() == "2026-11-24"
    assert campaign.can_start(r, late + timedelta(minutes=10), past) is CampaignRefusal.DAY_LIMIT
    assert campaign.can_start(r, after_midnight, past) is None
    assert campaign.attempts_left(r, after_midnight, past).today == 2


def test_total_limit_beats_the_day_limit():
    r = rules(per_day=3, total=4)
    past = [Past(at(1)), Past(at(2)), Past(at(25)), Past(at(26))]
    assert campaign.can_start(r, at(27), past) is CampaignRefusal.TOTAL_LIMIT
    assert campaign.attempts_left(r, at(27), past).total == 0


def test_each_stage_has_its_own_limits_and_gaps_between_stages_refuse():
    week1 = Stage("第1周", START, START + timedelta(days=2), per_day=1, total=2)
    week2 = Stage("第2周", START + timedelta(days=3), END, per_day=5)
    r = rules(per_day=3, stages=(week1, week2))
    assert campaign.can_start(r, at(1), [Past(at(0.5))]) is CampaignRefusal.DAY_LIMIT
    assert (
        campaign.can_start(r, at(25), [Past(at(0.5)), Past(at(24.5))])
        is CampaignRefusal.STAGE_LIMIT
    )
    assert campaign.can_start(r, at(60), []) is CampaignRefusal.BETWEEN_STAGES
    stage2_past = [Past(at(73))] * 3
    assert campaign.can_start(r, at(74), stage2_past) is None  # week 2 allows 5 a day
    assert campaign.stage_at(r, at(74)).name == "第2周"


def test_attempt_deadline_is_stored_by_mode_and_never_past_the_window():
    assert campaign.attempt_deadline(rules(attempt_seconds=600), at(1), 10) == at(1) + timedelta(
        minutes=10
    )
    per_q = rules(time_mode="question", question_seconds=30)
    assert campaign.attempt_deadline(per_q, at(1), 10) == at(1) + timedelta(seconds=300)
    assert campaign.attempt_deadline(rules(), END - timedelta(minutes=1), 10) == END
    attempt_end = at(1) + timedelta(seconds=300)
    assert campaign.item_deadline(per_q, at(1), attempt_end) == at(1) + timedelta(seconds=30)
    assert campaign.item_deadline(rules(), at(1), attempt_end) == attempt_end


@pytest.mark.parametrize(
    ("after", "answered", "closed", "refusal"),
    [
        (10, False, False, None),
        (600 + 2, False, False, None),  # inside the stated grace
        (600 + 2.5, False, False, Refusal.TOO_LATE),
        (10, True, False, Refusal.ALREADY_ANSWERED),
        (10, False, True, Refusal.TOO_LATE),
    ],
)
def test_answers_after_the_deadline_are_refused_with_a_reason(after, answered, closed, refusal):
    r = rules(grace_seconds=2)
    item = ItemState(at(0), at(0) + timedelta(seconds=600), answered)
    assert campaign.check_answer(r, item, closed, at(0) + timedelta(seconds=after)) is refusal


def test_an_unopened_question_refuses_answers():
    assert (
        campaign.check_answer(rules(), ItemState(None, None, False), False, at(1))
        is Refusal.NOT_OPEN
    )


def test_abandoned_attempt_is_overdue_only_after_deadline_and_grace():
    r = rules(grace_seconds=2)
    assert not campaign.is_overdue(r, at(1), at(1) + timedelta(seconds=2))
    assert campaign.is_overdue(r, at(1), at(1) + timedelta(seconds=2.1))


RESULTS = [
    Result(70, 90_000, at(1)),
    Result(90, 200_000, at(2)),
    Result(90, 150_000, at(3)),
    Result(50, 60_000, at(4)),
]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("best", Counted(90, 150_000)),  # equal best score: the shorter time counts
        ("latest", Counted(50, 60_000)),
        ("sum", Counted(300, 500_000)),
        ("average", Counted(75, 125_000)),
    ],
)
def test_each_counting_rule(rule, expected):
    assert campaign.counted(RESULTS, rule) == expected


def test_ties_go_to_the_shorter_time_and_no_attempts_count_nothing():
    ranked = sorted([Counted(80, 100), Counted(80, 90), Counted(90, 500)], key=campaign.rank_key)
    assert ranked == [Counted(90, 500), Counted(80, 90), Counted(80, 100)]
    assert campaign.counted([], "best") is None
    with pytest.raises(ValueError, match="unknown counting rule"):
        campaign.counted(RESULTS, "median")


def test_review_right_away_or_only_after_the_window_closes():
    assert campaign.review_visible(rules(review="immediate"), at(1))
    assert not campaign.review_visible(rules(review="after_close"), at(1))
    assert campaign.review_visible(rules(review="after_close"), END)


def test_fair_play_floors_and_limits():
    r = rules(fast_answer_ms=1500, hidden_limit=3)
    assert campaign.is_fast(r, 1499) and not campaign.is_fast(r, 1500)
    assert not campaign.hidden_limit_reached(r, 2) and campaign.hidden_limit_reached(r, 3)
    assert not campaign.hidden_limit_reached(rules(), 99)


def test_option_shuffle_is_per_attempt_reproducible_and_keeps_judge_order():
    ids = ["A", "B", "C", "D"]
    first = campaign.option_order(ids, 42, 3, "single")
    assert first == campaign.option_order(ids, 42, 3, "single")
    assert sorted(first) == ids
    assert any(campaign.option_order(ids, s, 3, "single") != ids for s in range(5))
    assert campaign.option_order(["T", "F"], 42, 3, "judge") == ["T", "F"]


def test_rules_survive_a_round_trip_through_the_stored_settings():
    r = rules(stages=(Stage("第1周", START, END, per_day=2),), counting="sum", tz="Asia/Shanghai")
    assert Rules.from_settings(r.to_settings()) == r


@pytest.mark.parametrize("rule", ["best", "latest", "sum", "average"])
def test_running_totals_give_the_same_result_as_the_whole_history(rule):
    totals = campaign.Totals()
    for result in RESULTS:
        totals = campaign.add_result(totals, result, full=result.score == 100)
    assert campaign.counted_from(totals, rule) == campaign.counted(RESULTS, rule)
    assert totals.attempts == 4 and not totals.full
    assert campaign.counted_from(campaign.Totals(), rule) is None
