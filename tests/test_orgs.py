"""Roll-ups over the organisation tree."""

from __future__ import annotations

from quiz_server.models import Unit
from quiz_server.orgs import Tree


def tree() -> Tree:
    units = [
        Unit(id=1, code="S", name="系统", kind="system", parent_id=None),
        Unit(id=2, code="A", name="机关甲", kind="agency", parent_id=1),
        Unit(id=3, code="A1", name="支部一", kind="branch", parent_id=2, registered=10),
        Unit(id=4, code="A2", name="支部二", kind="branch", parent_id=2, registered=30),
        Unit(
            id=5, code="B1", name="直属支部", kind="branch", parent_id=1, registered=5
        ),  # no agency
    ]
    return Tree.of(units)


def test_rollup_sums_additive_totals_up_every_ancestor():
    totals = tree().rollup(
        {3: {"participants": 8, "registered": 10}, 4: {"participants": 6, "registered": 30},
         5: {"participants": 5, "registered": 5}}
    )  # fmt: skip
    assert totals[2] == {"participants": 14, "registered": 40}
    assert totals[1] == {"participants": 19, "registered": 45}
    # The agency's rate weighs branches by size: 14/40, not the mean of 0.8 and 0.2.
    assert totals[2]["participants"] / totals[2]["registered"] == 0.35


def test_branches_under_and_display_order():
    t = tree()
    assert [u.code for u in t.branches_under(1)] == ["A1", "A2", "B1"]
    assert [(d, u.code) for d, u in t.depth_first()] == [
        (0, "S"),
        (1, "A"),
        (2, "A1"),
        (2, "A2"),
        (1, "B1"),
    ]
    assert [u.code for u in t.ancestors(4)] == ["A", "S"]
