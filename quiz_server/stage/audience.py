"""The hall (百人团): a linked live round with the stage's questions, stepped in line with the
stage by the referee's actions, so the audience answers on phones exactly as in a live round
(same scoring, same branch standings) while the big screen shows 现场观众正确率."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..live import step
from ..models import Answer, Contest, ContestQuestion
from .engine import Board, Step
from .setup import audience_questions
from .store import Loaded

MAX_STEPS = 4  # lobby/leaderboard → question takes at most reveal → leaderboard → question


def audience_of(loaded: Loaded) -> Contest | None:
    contest_id = (loaded.contest.settings or {}).get("stage", {}).get("audience")
    return db.session.get(Contest, contest_id) if contest_id else None


def position_of(loaded: Loaded, board: Board) -> int | None:
    """The audience round's question for the board's slot, or None (a speed round)."""
    asked = [(r, s) for r, s, _ in audience_questions(loaded.rounds)]
    key = (board.round, board.slot)
    return asked.index(key) if key in asked else None


def follow(loaded: Loaded, board: Board) -> None:
    """Step the audience round to where the stage is: the slot's question opens when the stage
    shows it, is revealed when the stage rules it, and the round finishes with the stage.

    Between questions the hall stays on the reveal (each phone's own result and the
    explanation) while the stage scoreboard holds the big screen; the hall's leaderboard phase is
    passed through when the next question opens, and its standings come at the finish."""
    audience = audience_of(loaded)
    if audience is None:
        return
    if board.step == Step.FINISHED:  # phones show their final standing, the round's reports close
        db.session.refresh(audience)
        if audience.phase != "finished":
            step(audience.id, "end")
        return
    position = position_of(loaded, board)
    if position is None:
        return
    showing = board.step in (Step.SHOWN, Step.OPEN, Step.ANSWERING)
    if showing:
        _open(audience.id, position)
    elif board.step == Step.RULED:
        db.session.refresh(audience)
        if audience.phase == "question" and audience.position == position:
            step(audience.id, "next")


def _open(contest_id: int, position: int) -> None:
    for _ in range(MAX_STEPS):
        contest = db.session.get(Contest, contest_id)
        assert contest is not None
        db.session.refresh(contest)
        if contest.position >= position and contest.phase != "lobby":
            return
        if step(contest_id, "start" if contest.phase == "lobby" else "next"):
            return


def accuracy(loaded: Loaded, board: Board) -> dict[str, Any] | None:
    """现场观众正确率 of the board's question: answered and correct so far."""
    audience = audience_of(loaded)
    position = position_of(loaded, board)
    if audience is None or position is None:
        return None
    answered, correct = db.session.execute(
        select(
            func.count(Answer.id), func.coalesce(func.sum(func.cast(Answer.correct, db.Integer)), 0)
        )
        .join(ContestQuestion, ContestQuestion.id == Answer.contest_question_id)
        .where(ContestQuestion.contest_id == audience.id, ContestQuestion.position == position)
    ).one()
    rate = round(100 * correct / answered) if answered else None
    return {"pin": audience.pin, "answered": int(answered), "right": int(correct), "rate": rate}
