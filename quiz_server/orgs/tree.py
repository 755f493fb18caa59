"""The organisation tree (system → agency → branch, depth may vary) and roll-ups over it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import DbSession
from ..models import Unit

KINDS = {"system": "系统党委", "agency": "机关党委/党总支", "branch": "党支部"}


@dataclass
class Tree:
    """An in-memory view of the units, loaded once per request with one query."""

    units: dict[int, Unit]
    children: dict[int | None, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: DbSession) -> Tree:
        units = session.scalars(select(Unit).order_by(Unit.parent_id, Unit.position, Unit.id)).all()
        return cls.of(units)

    @classmethod
    def of(cls, units: Iterable[Unit]) -> Tree:
        tree = cls({u.id: u for u in units})
        for unit in tree.units.values():
            parent = unit.parent_id if unit.parent_id in tree.units else None
            tree.children.setdefault(parent, []).append(unit.id)
        return tree

    def roots(self) -> list[Unit]:
        return [self.units[i] for i in self.children.get(None, [])]

    def ancestors(self, unit_id: int) -> list[Unit]:
        """From the unit's parent up to its root."""
        chain, parent = [], self.units[unit_id].parent_id
        while parent is not None and parent in self.units:
            chain.append(self.units[parent])
            parent = self.units[parent].parent_id
        return chain

    def branches_under(self, unit_id: int) -> list[Unit]:
        """The leaves (branches) in the unit's subtree, the unit itself if it is one."""
        kids = self.children.get(unit_id, [])
        if not kids:
            return [self.units[unit_id]]
        return [b for kid in kids for b in self.branches_under(kid)]

    def depth_first(self) -> list[tuple[int, Unit]]:
        """(depth, unit) in display order."""
        out: list[tuple[int, Unit]] = []

        def visit(parent: int | None, depth: int) -> None:
            for uid in self.children.get(parent, []):
                out.append((depth, self.units[uid]))
                visit(uid, depth + 1)

        visit(None, 0)
        return out

    def rollup(self, per_branch: Mapping[int, Mapping[str, float]]) -> dict[int, Counter[str]]:
        """Additive totals (participants, registered, points …) summed from branches up every
        ancestor. Ratios are computed from the sums afterwards, never averaged, so an agency's
        rate weighs its branches by size."""
        totals: dict[int, Counter[str]] = {uid: Counter() for uid in self.units}
        for branch_id, values in per_branch.items():
            if branch_id not in self.units:
                continue
            for unit in (self.units[branch_id], *self.ancestors(branch_id)):
                totals[unit.id].update(values)
        return totals
