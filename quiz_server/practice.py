"""Practice (练习): the questions a member may try with the answer shown, untimed and unscored.

A question is held back while any open contest could still ask it: a live round that has not
finished (its drawn questions not yet revealed), or a campaign whose window has not closed (any
question its draw rule can pick). Questions are matched by their id across the versions of a
bank, so a new version of the same bank does not give away the old one's answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .contests import Mode, in_mode, is_finished, settings_of
from .draw import DrawRule, can_draw
from .extensions import DbSession
from .live.engine import Phase
from .models import BankVersion, Contest, ContestQuestion, Question


def held_back(
    session: DbSession, bank_id: int, now: datetime, besides: int | None = None
) -> set[str]:
    """Question ids (`Question.qid`) of the bank that an open contest (other than `besides`)
    can still ask."""
    versions = select(BankVersion.id).where(BankVersion.bank_id == bank_id)
    held = set(
        session.scalars(
            select(Question.qid)
            .join(ContestQuestion, ContestQuestion.question_id == Question.id)
            .join(Contest, Contest.id == ContestQuestion.contest_id)
            .where(
                Contest.id != (besides or 0),
                in_mode(Mode.LIVE),
                Contest.phase != Phase.FINISHED.value,
                Contest.bank_version_id.in_(versions),
                ContestQuestion.revealed_at.is_(None),
            )
        )
    )
    campaigns = session.scalars(
        select(Contest).where(in_mode(Mode.CAMPAIGN), Contest.bank_version_id.in_(versions))
    )
    for contest in campaigns:
        if contest.id == besides or is_finished(contest, now):
            continue
        rule = settings_of(contest).draw or DrawRule(count=0)
        pool = session.execute(
            select(Question.qid, Question.category, Question.difficulty, Question.type).where(
                Question.bank_version_id == contest.bank_version_id
            )
        )
        held.update(q.qid for q in pool if can_draw(rule, q))
    return held


def questions(
    session: DbSession, contest: Contest, now: datetime, category: str = ""
) -> list[Question] | None:
    """The contest's bank version's questions open to practice (of `category` if given);
    None when every question of the version is held back."""
    held = held_back(session, contest.bank_version.bank_id, now)
    free = [q for q in contest.bank_version.questions if q.qid not in held]
    if not free:
        return None
    return [q for q in free if not category or q.category == category]


def may_practise(session: DbSession, question: Question, now: datetime) -> bool:
    return question.qid not in held_back(session, question.bank_version.bank_id, now)
