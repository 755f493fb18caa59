"""A member's own standing on request: ranks of every member and branch, computed once per
phase per process and kept for the requests that arrive spread over the leaderboard phase."""

from __future__ import annotations

from typing import Any

from .. import standings
from ..extensions import db
from ..models import Contest
from ..ranking import tied
from .phase import building, current_seq, known_seq, wait_for_builder
from .state import state


def ranks_of(contest_id: int) -> dict[str, Any]:
    """`{members: {pid: {score, rank, tied, correct}}, branches: {unit_id: {name, rank, tied}},
    of, branch_of}`; `tied` where another member (branch) shares the rank. Kept per phase: the
    phase this process knows (`known_seq`, no query), the stored one only before it knows any."""
    cache = state().ranks
    seq = known_seq(contest_id)
    if seq is None:
        seq = current_seq(contest_id)
    cached = cache.get(contest_id)
    if cached is not None and cached[0] == seq:
        return cached[1]
    if wait_for_builder(("standings", contest_id, seq)):
        cached = cache.get(contest_id)
        if cached is not None and cached[0] == seq:
            return cached[1]
    with building(("standings", contest_id, seq)):
        table = _build(contest_id)
        cache[contest_id] = (seq, table)
        return table


def _build(contest_id: int) -> dict[str, Any]:
    contest = db.session.get(Contest, contest_id)
    assert contest is not None
    members = standings.members(db.session, contest_id)
    branches = standings.branches(db.session, contest)
    member_ties = tied([m.rank for m in members])
    branch_ties = tied([b.rank for b in branches])
    return {
        "members": {
            m.participant_id: {"score": m.score, "rank": m.rank, "tied": t, "correct": m.correct}
            for m, t in zip(members, member_ties, strict=True)
        },
        "branches": {
            b.unit_id: {"name": b.name, "rank": b.rank, "tied": t}
            for b, t in zip(branches, branch_ties, strict=True)
        },
        "of": len(members),
        "branch_of": len(branches),
    }
