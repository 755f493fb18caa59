"""Campaign attempts against the database: joining, starting or continuing, answering, closing.

The rules are `campaign`'s; this module stores what they decide. Functions take a session and
never commit: the HTTP edge commits before it answers, so an ack means the answer is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import campaign
from ..contests import joiner_name, new_participant, roster_seat, settings_of
from ..draw import DrawError, draw
from ..extensions import DbSession
from ..models import (
    Attempt,
    AttemptItem,
    CampaignScore,
    Contest,
    Participant,
    Question,
)
from ..questions import question_type
from ..refusals import Refusal
from .rules import CampaignRefusal, Rules


def rules_of(contest: Contest) -> Rules:
    return settings_of(contest).rules


def join(
    session: DbSession,
    contest: Contest,
    name: str,
    branch_id: int,
    member_no: str = "",
    *,
    address: str = "",
    device: str = "",
    now: datetime | None = None,
) -> Participant | str:
    """A new seat, or why not. A roster line that already has a seat is refused: its token
    stays with the first device (contests.roster_seat)."""
    name, bad_name = joiner_name(name)
    if bad_name:
        return bad_name
    if branch_id not in {u.id for u in contest.units}:
        return "no_such_branch"
    entry = None
    if contest.roster_bound:
        seat = roster_seat(
            session, contest, branch_id, name, member_no, address, now or datetime.now(UTC)
        )
        if isinstance(seat, str | Participant):  # a refusal, or a released seat re-claimed
            return seat
        entry = seat
        session.flush()  # the recorded try stays, whatever happens to the seat
    try:
        with session.begin_nested():
            participant = new_participant(session, contest, branch_id, name, entry, address, device)
    except IntegrityError:  # another device took the line a moment ago
        return "already_joined"
    return participant


def member(session: DbSession, contest: Contest, token: str | None) -> Participant | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(
        select(Participant).where(Participant.contest_id == contest.id, Participant.token == token)
    )


def history(session: DbSession, participant: Participant) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt).where(Attempt.participant_id == participant.id).order_by(Attempt.number)
        )
    )


def open_attempt(session: DbSession, participant: Participant) -> Attempt | None:
    return session.scalar(select(Attempt).where(Attempt.open_for == participant.id))


@dataclass(frozen=True)
class Started:
    attempt: Attempt
    continued: bool  # True: the attempt already in progress (perhaps begun on another phone)


@dataclass(frozen=True)
class PoolEntry:
    """What the draw needs of a question; a bank version's pool never changes, so callers
    may keep it between requests."""

    id: int
    category: str
    difficulty: int
    type: str


def pool_of(session: DbSession, bank_version_id: int) -> list[PoolEntry]:
    rows = session.execute(
        select(Question.id, Question.category, Question.difficulty, Question.type)
        .where(Question.bank_version_id == bank_version_id)
        .order_by(Question.position)
    )
    return [PoolEntry(*row) for row in rows]


def start(
    session: DbSession,
    contest: Contest,
    participant: Participant,
    now: datetime,
    device: str = "",
    pool: list[PoolEntry] | None = None,
) -> Started | CampaignRefusal | str:
    """Continue the attempt in progress, or start a new one if the rules allow it."""
    rules = rules_of(contest)
    current = open_attempt(session, participant)
    if current is not None and not close_if_due(session, rules, current, now):
        return Started(current, True)
    past = history(session, participant)
    refusal = campaign.can_start(rules, now, [campaign.Past(a.started_at) for a in past])
    if refusal is not None:
        return refusal
    seed = secrets.randbelow(2**31)
    rule = settings_of(contest).draw
    try:
        if rule is None:
            raise DrawError("no draw rule")
        picked = draw(pool or pool_of(session, contest.bank_version_id), rule, seed)
    except DrawError:
        return "draw_failed"
    loaded = {
        q.id: q
        for q in session.scalars(select(Question).where(Question.id.in_([p.id for p in picked])))
    }
    drawn = [loaded[p.id] for p in picked]
    stage = campaign.stage_at(rules, now)
    attempt = Attempt(
        contest_id=contest.id,
        participant_id=participant.id,
        number=len(past) + 1,
        open_for=participant.id,
        local_day=campaign.local_day(rules, now).isoformat(),
        stage=stage.name if stage else "",
        draw_seed=seed,
        shuffle_seed=secrets.randbelow(2**31),
        started_at=now,
        deadline=campaign.attempt_deadline(rules, now, len(drawn)),
        full_mark=campaign.full_mark(rules, len(drawn)),
        device=device[:64],
    )
    attempt.items = [AttemptItem(position=i, question=q) for i, q in enumerate(drawn)]
    _open_item(rules, attempt, attempt.items[0], now)
    if not rules.per_question:
        for item in attempt.items[1:]:
            _open_item(rules, attempt, item, now)
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:  # another phone started one a moment ago: continue that one
        session.expire_all()
        return Started(open_attempt(session, participant), True)  # type: ignore[arg-type]  # found: the other phone's attempt
    return Started(attempt, False)


def _open_item(rules: Rules, attempt: Attempt, item: AttemptItem, now: datetime) -> None:
    item.opened_at = now
    item.deadline = campaign.item_deadline(rules, now, attempt.deadline)


def close_if_due(session: DbSession, rules: Rules, attempt: Attempt, now: datetime) -> bool:
    """Close an abandoned attempt at its deadline; per-question timing moves past lapsed items."""
    if attempt.finished_at is not None:
        return True
    if campaign.is_overdue(rules, attempt.deadline, now):
        finish(session, attempt, attempt.deadline, "deadline")
        return True
    if rules.per_question:
        _skip_lapsed(session, rules, attempt, now)
    return attempt.finished_at is not None


def _skip_lapsed(session: DbSession, rules: Rules, attempt: Attempt, now: datetime) -> None:
    for index, item in enumerate(attempt.items):
        if item.choice is not None or item.opened_at is None:
            continue
        if item.deadline is not None and campaign.is_overdue(rules, item.deadline, now):
            if index + 1 < len(attempt.items):
                nxt = attempt.items[index + 1]
                if nxt.opened_at is None:
                    _open_item(rules, attempt, nxt, now)
                continue
            finish(session, attempt, now, "deadline")
        return


def finish(session: DbSession, attempt: Attempt, now: datetime, closed_by: str) -> None:
    """Score what was answered; time counts up to the submission, never past the deadline."""
    attempt.finished_at = min(now, attempt.deadline)
    attempt.closed_by = closed_by
    attempt.open_for = None
    attempt.score = sum(i.points for i in attempt.items)
    attempt.correct = sum(1 for i in attempt.items if i.correct)
    attempt.time_ms = campaign.elapsed_ms(attempt.started_at, now, attempt.deadline)
    if session is not None:
        record(session, attempt)


def record(session: DbSession, attempt: Attempt) -> None:
    """Fold a finished attempt into the member's totals, in the same transaction."""
    row = session.get(CampaignScore, attempt.participant_id)
    if row is None:
        unit_id = attempt.participant.unit_id
        row = CampaignScore(
            participant_id=attempt.participant_id, contest_id=attempt.contest_id, unit_id=unit_id
        )
        session.add(row)
    totals = campaign.add_result(
        totals_of(row),
        campaign.Result(attempt.score, attempt.time_ms, attempt.finished_at or attempt.deadline),
        attempt.full_mark > 0 and attempt.score >= attempt.full_mark,
    )
    row.attempts, row.full = totals.attempts, int(totals.full)
    row.best_score, row.best_time_ms = totals.best
    row.latest_score, row.latest_time_ms = totals.latest
    row.sum_score, row.sum_time_ms = totals.sum


def totals_of(row: CampaignScore) -> campaign.Totals:
    return campaign.Totals(
        attempts=row.attempts or 0,
        full=bool(row.full),
        best=(row.best_score or 0, row.best_time_ms or 0),
        latest=(row.latest_score or 0, row.latest_time_ms or 0),
        sum=(row.sum_score or 0, row.sum_time_ms or 0),
    )


@dataclass(frozen=True)
class Ack:
    item: AttemptItem | None
    refusal: Refusal | None = None


def answer(
    session: DbSession,
    contest: Contest,
    attempt: Attempt,
    position: int,
    raw: object,
    now: datetime,
) -> Ack:
    """Store one answer. A retry of a stored answer gets the stored answer back, not an error."""
    rules = rules_of(contest)
    if not 0 <= position < len(attempt.items):
        return Ack(None, Refusal.BAD_REQUEST)
    item = attempt.items[position]
    if item.choice is not None:
        return Ack(item, None if _same(item, raw) else Refusal.ALREADY_ANSWERED)
    closed = close_if_due(session, rules, attempt, now)
    state = campaign.ItemState(item.opened_at, item.deadline, answered=False)
    refusal = campaign.check_answer(rules, state, closed, now)
    if refusal is not None:
        return Ack(item, refusal)
    qtype = question_type(item.question.type)
    choice = qtype.parse_choice(raw, item.question.options)
    if choice is None:
        return Ack(item, Refusal.NO_SUCH_OPTION)
    correct = qtype.is_correct(item.question.answer, choice)
    since = _answer_clock(attempt, item)
    values = {
        "choice": ",".join(choice),
        "correct": correct,
        "points": campaign.points(rules, correct),
        "elapsed_ms": campaign.elapsed_ms(since, now, item.deadline or attempt.deadline),
        "answered_at": now,
    }
    stored = session.execute(
        update(AttemptItem)
        .where(AttemptItem.id == item.id, AttemptItem.choice.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if stored.rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        session.refresh(item)  # another request stored it first
        return Ack(item, None if _same(item, raw) else Refusal.ALREADY_ANSWERED)
    for key, value in values.items():  # what was just written, without reading it back
        set_committed_value(item, key, value)
    if campaign.is_fast(rules, item.elapsed_ms):
        attempt.fast_count += 1
    _after_answer(session, rules, attempt, position, now)
    return Ack(item)


def _same(item: AttemptItem, raw: object) -> bool:
    qtype = question_type(item.question.type)
    choice = qtype.parse_choice(raw, item.question.options)
    return choice is not None and ",".join(choice) == item.choice


def _answer_clock(attempt: Attempt, item: AttemptItem) -> datetime:
    """Time taken on this answer: since the question opened, or since the previous answer."""
    stamps = [i.answered_at for i in attempt.items if i.answered_at is not None]
    return max([item.opened_at or attempt.started_at, *stamps])


def _after_answer(
    session: DbSession, rules: Rules, attempt: Attempt, position: int, now: datetime
) -> None:
    if all(i.choice is not None for i in attempt.items):
        finish(session, attempt, now, "submit")
        return
    nxt = position + 1
    if rules.per_question and nxt < len(attempt.items) and attempt.items[nxt].opened_at is None:
        _open_item(rules, attempt, attempt.items[nxt], now)


def submit(session: DbSession, contest: Contest, attempt: Attempt, now: datetime) -> None:
    """Hand in now, with what was answered (a repeated submit changes nothing)."""
    if not close_if_due(session, rules_of(contest), attempt, now):
        finish(session, attempt, now, "submit")


def report_hidden(
    session: DbSession, contest: Contest, attempt: Attempt, count: int, now: datetime
) -> None:
    """The phone's count of times the page was hidden; over the limit the attempt is handed in."""
    rules = rules_of(contest)
    attempt.hidden_count = max(attempt.hidden_count, count)
    if not close_if_due(session, rules, attempt, now) and campaign.hidden_limit_reached(
        rules, attempt.hidden_count
    ):
        finish(session, attempt, now, "hidden")


def close_overdue(session: DbSession, contest: Contest, now: datetime) -> int:
    """Close every abandoned attempt of a contest (rankings call this before they count)."""
    rules = rules_of(contest)
    cutoff = now - timedelta(seconds=rules.grace_seconds)
    overdue = session.scalars(
        select(Attempt).where(
            Attempt.contest_id == contest.id,
            Attempt.open_for.is_not(None),
            Attempt.deadline < cutoff,
        )
    ).all()
    for attempt in overdue:
        finish(session, attempt, attempt.deadline, "deadline")
    return len(overdue)


def attempts_by_device(session: DbSession, contest: Contest) -> list[tuple[str, int, int]]:
    """(device, distinct names, attempts) for devices used under more than one name."""
    rows = session.execute(
        select(Attempt.device, func.count(func.distinct(Participant.name)), func.count(Attempt.id))
        .join(Participant, Participant.id == Attempt.participant_id)
        .where(Attempt.contest_id == contest.id, Attempt.device != "")
        .group_by(Attempt.device)
        .having(func.count(func.distinct(Participant.name)) > 1)
        .order_by(func.count(func.distinct(Participant.name)).desc())
    )
    return [(d, n, a) for d, n, a in rows]
