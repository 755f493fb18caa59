"""The question draw: how many, with quotas per category, per difficulty and per type, in a random
order reproducible from a recorded seed. Live contests and campaign attempts share it."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

ATTEMPTS = 200  # greedy passes with derived seeds before a rule is declared unsatisfiable
DIMENSIONS = {"category": "分类", "difficulty": "难度", "type": "题型"}


class Drawable(Protocol):
    @property
    def category(self) -> str: ...
    @property
    def difficulty(self) -> int: ...
    @property
    def type(self) -> str: ...


class DrawError(ValueError):
    """The bank cannot satisfy the rule; the message says which quota, in plain Chinese."""


@dataclass(frozen=True)
class DrawRule:
    """`count` questions; each quota map fixes how many come from a key of that dimension.
    Keys a map does not name share whatever the named ones leave of `count`."""

    count: int
    category: dict[str, int] = field(default_factory=dict)
    difficulty: dict[int, int] = field(default_factory=dict)
    type: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> DrawRule:
        return cls(
            count=int(values["count"]),
            category={str(k): int(v) for k, v in values.get("category", {}).items() if int(v)},
            difficulty={int(k): int(v) for k, v in values.get("difficulty", {}).items() if int(v)},
            type={str(k): int(v) for k, v in values.get("type", {}).items() if int(v)},
        )

    def to_settings(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "category": self.category,
            "difficulty": self.difficulty,
            "type": self.type,
        }

    def quotas(self) -> dict[str, dict[Any, int]]:
        return {name: getattr(self, name) for name in DIMENSIONS if getattr(self, name)}


def can_draw(rule: DrawRule, question: Drawable) -> bool:
    """Whether some draw under `rule` may pick this question: every quota either names its key
    or leaves places for keys it does not name. (Joint quotas may rule out a few more; this
    errs towards "may", which is the safe side for keeping answers secret.)"""
    for name, quota in rule.quotas().items():
        key = getattr(question, name)
        if not quota.get(key) and sum(quota.values()) >= rule.count:
            return False
    return True


def draw(pool: Sequence[Drawable], rule: DrawRule, seed: int) -> list[Any]:
    """Questions satisfying `rule`, in random order; the same pool, rule and seed give the same draw."""
    _check(pool, rule)
    for attempt in range(ATTEMPTS):
        picked = _greedy(pool, rule, random.Random(f"{seed}:{attempt}"))
        if picked is not None:
            return picked
    raise DrawError("题库无法同时满足各项抽题配额，请减少配额或抽题数量")


def _check(pool: Sequence[Drawable], rule: DrawRule) -> None:
    if rule.count < 1:
        raise DrawError("抽题数量至少为 1")
    if rule.count > len(pool):
        raise DrawError(f"题库只有 {len(pool)} 道题，不够抽取 {rule.count} 道")
    for name, quota in rule.quotas().items():
        label = DIMENSIONS[name]
        if sum(quota.values()) > rule.count:
            raise DrawError(
                f"{label}配额合计 {sum(quota.values())} 道，超过抽题数量 {rule.count} 道"
            )
        have = Counter(getattr(q, name) for q in pool)
        for key, wanted in quota.items():
            if have[key] < wanted:
                raise DrawError(f"{label} {key} 只有 {have[key]} 道题，不够配额 {wanted} 道")
        if sum(quota.values()) < rule.count and sum(
            n for k, n in have.items() if k not in quota
        ) < rule.count - sum(quota.values()):
            raise DrawError(f"{label}配额之外的题目不够补足 {rule.count} 道")


def _greedy(pool: Sequence[Drawable], rule: DrawRule, rng: random.Random) -> list[Any] | None:
    order = list(pool)
    rng.shuffle(order)
    left = {name: dict(quota) for name, quota in rule.quotas().items()}
    free = {name: rule.count - sum(quota.values()) for name, quota in left.items()}
    picked: list[Any] = []
    for question in order:
        if len(picked) == rule.count:
            break
        keys = {name: getattr(question, name) for name in left}
        if all(left[n][k] > 0 if k in left[n] else free[n] > 0 for n, k in keys.items()):
            for n, k in keys.items():
                if k in left[n]:
                    left[n][k] -= 1
                else:
                    free[n] -= 1
            picked.append(question)
    return picked if len(picked) == rule.count else None
