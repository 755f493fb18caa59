"""The standings core both contest modes share: the metric table, participation, the rank
function with its tie-break chain, and the roll-up from branches up the organisation tree.

Live standings (`standings`) and campaign rankings (`rankings`) aggregate their own rows in SQL
and hand them here; pages, workbooks and page scripts read labels and formats from `METRICS`.

Who is a participant (参与人数) differs by mode and is stated on the pages (`PARTICIPANT`):
- live round: a member who joined the round and was not removed by the organizer;
- campaign: a member with at least one finished attempt (joining alone does not count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .contests import Mode
from .orgs import Tree

T = TypeVar("T")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    percentage: bool = False  # a share 0–1, shown as a percentage (and used as is in a composite)
    decimals: int = 2  # places a ranking value is shown to: shares (rates, composites) get three

    def __post_init__(self) -> None:
        if self.percentage:
            object.__setattr__(self, "decimals", 3)


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("avg_registered", "人均得分（按注册人数）"),
        Metric("avg_participants", "人均得分（按参与人数）"),
        Metric("total", "总得分"),
        Metric("participation_rate", "参与率", percentage=True),
        Metric("accuracy", "正确率", percentage=True),
        Metric("full_mark_rate", "满分率", percentage=True),
        Metric("full_marks", "满分人数"),
        Metric("attempts_per_member", "人均作答次数"),
        Metric("participants", "参与人数"),
        Metric("composite", "综合得分", decimals=3),
    )
}
LIVE_METRICS = ("avg_registered", "avg_participants", "total", "participation_rate", "accuracy")
CAMPAIGN_METRICS = (
    "participation_rate",
    "avg_registered",
    "avg_participants",
    "full_mark_rate",
    "full_marks",
    "attempts_per_member",
    "participants",
    "composite",
)
PARTICIPANT = {
    Mode.LIVE: "参与人数：加入本轮竞赛（未被移出）的党员人数。",
    Mode.CAMPAIGN: "参与人数：至少完成一次作答的党员人数。",
}


def labels(keys: Iterable[str]) -> dict[str, str]:
    """{key: Chinese label} for a mode's choice list, in the given order."""
    return {k: METRICS[k].label for k in keys}


def is_percentage(key: str) -> bool:
    return key in METRICS and METRICS[key].percentage


def metric_table() -> dict[str, dict[str, Any]]:
    """The metric table as JSON for page scripts:
    {key: {"label": …, "percentage": bool, "decimals": int}}."""
    return {
        k: {"label": m.label, "percentage": m.percentage, "decimals": m.decimals}
        for k, m in METRICS.items()
    }


# ------------------------------------------------------------------------------ participation


def participation_rate(participants: int, registered: int) -> float:
    """Participants ÷ registered members, 0.0 without a head-count, never above 1: seats beyond
    the head-count (a wrong head-count, or farmed seats) are flagged for the organizer
    (`over_registered`), not counted as more turnout. Rolled up the tree, `participants` is the
    sum of `turnout` of the branches below."""
    return min(participants / registered, 1.0) if registered else 0.0


def turnout(participants: int, registered: int) -> int:
    """A branch's participants as far as they count towards participation above it: extra
    seats in one branch must not lift its agency either."""
    return min(participants, registered) if registered else participants


def over_registered(participants: int, registered: int) -> bool:
    return bool(registered) and participants > registered


def per_registered(score: float, participants: int, registered: int) -> float:
    """Score averaged over registered members (non-participants count 0), and never over
    fewer people than took part; an unknown head-count falls back to the participants."""
    base = max(registered, participants)
    return score / base if base else 0.0


def per_participant(amount: float, participants: int) -> float:
    return amount / participants if participants else 0.0


# ------------------------------------------------------------------------------ ranking


def rank(
    rows: Iterable[T], chain: Sequence[Callable[[T], float]], name: Callable[[T], str]
) -> list[tuple[int, T]]:
    """(rank, row), best first, in competition ranking (1, 2, 2, 4).

    The tie-break chain: the first key of `chain` (the metric), then each further key in order
    (the mode's tie-breaks), every key higher-is-better (pass a negated time for "shorter
    first"); rows equal on the whole chain share a rank and are listed by name. Values are
    compared to 9 decimal places, so ratios computed two ways still tie."""

    def key(row: T) -> tuple[float, ...]:
        return tuple(-round(float(k(row)), 9) for k in chain)

    ordered = sorted(rows, key=lambda r: (key(r), name(r)))
    out: list[tuple[int, T]] = []
    for index, row in enumerate(ordered):
        same = bool(out) and key(out[-1][1]) == key(row)
        out.append((out[-1][0] if same else index + 1, row))
    return out


def tied(ranks: Sequence[Hashable]) -> list[bool]:
    """For each rank of a ranked list, whether another row shares it (shown once, as 并列)."""
    counts = Counter(ranks)
    return [counts[r] > 1 for r in ranks]


# ------------------------------------------------------------------------------ roll-up


def roll_up(tree: Tree, per_branch: Mapping[int, Mapping[str, float]]) -> dict[int, Counter[str]]:
    """Branch totals summed up every ancestor, with `capped` (the turnout that counts towards
    participation) added per branch; ratios are then computed from the sums at each level,
    so an agency's rate weighs its branches by size. Each row needs participants and
    registered."""
    with_turnout = {
        uid: {**v, "capped": turnout(int(v.get("participants", 0)), int(v.get("registered", 0)))}
        for uid, v in per_branch.items()
    }
    return tree.rollup(with_turnout)
