"""The draw rule: quotas honoured, reproducible from the seed, clear refusals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from quiz_server.draw import DrawError, DrawRule, can_draw, draw


@dataclass(frozen=True)
class Q:
    qid: str
    category: str
    difficulty: int
    type: str


POOL = [
    Q(f"{c}-{i}", c, 1 + i % 3, ("single", "multiple", "judge")[i % 3 if c != "waste" else 0])
    for c, n in (("traffic", 12), ("dining", 8), ("online", 6), ("waste", 4))
    for i in range(n)
]


def test_quotas_per_category_difficulty_and_type_are_honoured():
    rule = DrawRule(
        count=12, category={"traffic": 5, "waste": 2}, difficulty={3: 3}, type={"judge": 2}
    )
    for seed in range(30):
        picked = draw(POOL, rule, seed)
        assert len(picked) == len(set(picked)) == 12
        categories = Counter(q.category for q in picked)
        assert (categories["traffic"], categories["waste"]) == (5, 2)
        assert Counter(q.difficulty for q in picked)[3] == 3
        assert Counter(q.type for q in picked)["judge"] == 2


def test_same_seed_same_draw_other_seed_other_draw():
    rule = DrawRule(count=10, category={"dining": 3})
    assert draw(POOL, rule, 42) == draw(POOL, rule, 42)
    assert draw(POOL, rule, 42) != draw(POOL, rule, 43)


def test_rule_round_trips_through_contest_settings():
    rule = DrawRule(count=10, category={"dining": 3}, difficulty={2: 4})
    assert DrawRule.from_settings(rule.to_settings()) == rule


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (DrawRule(count=31), "题库只有 30 道题，不够抽取 31 道"),
        (DrawRule(count=5, category={"waste": 5}), "分类 waste 只有 4 道题，不够配额 5 道"),
        (
            DrawRule(count=5, category={"traffic": 4, "dining": 3}),
            "分类配额合计 7 道，超过抽题数量 5 道",
        ),
        (DrawRule(count=0), "抽题数量至少为 1"),
        (
            DrawRule(count=20, category={"waste": 4}, type={"multiple": 10}),
            "题型 multiple 只有 9 道题，不够配额 10 道",
        ),
        # Each quota alone is possible; together they are not: waste has no difficulty-3 judge.
        (
            DrawRule(count=4, category={"waste": 4}, type={"judge": 1}),
            "题库无法同时满足各项抽题配额",
        ),
    ],
)
def test_unsatisfiable_rules_are_refused_clearly(rule, message):
    with pytest.raises(DrawError, match=message):
        draw(POOL, rule, 1)


@pytest.mark.parametrize(
    ("rule", "drawable"),
    [
        (DrawRule(count=5), {"traffic", "dining", "online", "waste"}),
        (DrawRule(count=5, category={"traffic": 5}), {"traffic"}),
        (DrawRule(count=5, category={"traffic": 3, "waste": 2}), {"traffic", "waste"}),
        (DrawRule(count=5, category={"traffic": 3}), {"traffic", "dining", "online", "waste"}),
        (DrawRule(count=4, type={"single": 4}, category={"waste": 4}), {"waste"}),
    ],
)
def test_can_draw_names_every_question_a_rule_may_pick(rule, drawable):
    """Practice holds back what a rule may pick: never less than any real draw picks."""
    may = {q.category for q in POOL if can_draw(rule, q)}
    assert may == drawable
    for seed in range(20):
        assert all(can_draw(rule, q) for q in draw(POOL, rule, seed))
