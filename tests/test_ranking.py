"""The standings core both modes share: one label per metric, one participation rule, one rank
function with its tie-break chain."""

from __future__ import annotations

import json

import pytest

from quiz_server import ranking, standings
from quiz_server.campaign import rankings


def test_a_metric_key_has_one_label_in_both_modes():
    shared = set(standings.METRICS) & set(rankings.METRICS)
    assert {"avg_registered", "avg_participants", "participation_rate"} <= shared
    for key in shared:
        assert standings.METRICS[key] == rankings.METRICS[key] == ranking.METRICS[key].label
    assert standings.METRICS["avg_participants"] == "人均得分（按参与人数）"


def test_the_metric_table_is_json_for_page_scripts():
    table = json.loads(json.dumps(ranking.metric_table()))
    percentages = {k for k, m in table.items() if m["percentage"]}
    assert percentages == {"participation_rate", "accuracy", "full_mark_rate"}
    assert table["composite"] == {"label": "综合得分", "percentage": False, "decimals": 3}


def test_both_modes_give_zero_participation_without_registered_members():
    live = standings.BranchRow(0, 1, "无名册支部", 3, 0, 30, 3, 3, 900)
    campaign = rankings.UnitRow(1, "无名册支部", "branch", "", 3, 0, 30.0, 1, 4, capped=3)
    assert live.participation_rate == 0.0
    assert campaign.value("participation_rate") == 0.0
    assert ranking.participation_rate(0, 0) == 0.0


@pytest.mark.parametrize(
    ("participants", "registered", "rate", "flagged"),
    [(5, 10, 0.5, False), (12, 10, 1.0, True), (0, 10, 0.0, False), (4, 0, 0.0, False)],
)
def test_participation_is_capped_at_one_and_extra_seats_are_flagged(
    participants, registered, rate, flagged
):
    assert ranking.participation_rate(participants, registered) == rate
    assert ranking.over_registered(participants, registered) is flagged


def test_rank_follows_the_chain_then_the_name_and_ties_share_a_place():
    rows = [("丙", 10, 0.5), ("乙", 10, 0.9), ("甲", 10, 0.5), ("丁", 20, 0.1)]
    ranked = ranking.rank(rows, [lambda r: r[1], lambda r: r[2]], lambda r: r[0])
    assert [(place, r[0]) for place, r in ranked] == [(1, "丁"), (2, "乙"), (3, "丙"), (3, "甲")]


def test_the_participant_of_each_mode_is_written_down():
    assert "加入" in ranking.PARTICIPANT[ranking.Mode.LIVE]
    assert "完成一次作答" in ranking.PARTICIPANT[ranking.Mode.CAMPAIGN]
