"""SQLAlchemy 2.x models: the organisation tree, banks, contests and the answers that score them.

No game logic here: rules live in `engine`, aggregates in `standings`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

if TYPE_CHECKING:  # `db.Model` is made at run time; type checkers see the declarative base under it
    from .extensions import Base as Model
else:
    Model = db.Model


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (SQLite has no zones), hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # organizer | secretary
    display_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every session and remember-me cookie names the version it began under; logout and a
    # password change bump it, which ends all of them (auth.py checks it on every request).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    units: Mapped[list[Unit]] = relationship(secondary="user_unit")

    def get_id(self) -> str:
        """What Flask-Login stores in the session and the remember-me cookie: id, session
        version, and a nonce so that each login's cookies differ."""
        return f"{self.id}:{self.session_version}:{secrets.token_urlsafe(8)}"


class Unit(Model):
    """A node of the organisation tree: system → agency → branch (depth may vary)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # system | agency | branch
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.position")


class UserUnit(Model):
    """Which units a branch secretary may see."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class RosterEntry(Model):
    """A pre-registered member of a branch, for roster-bound contests."""

    __table_args__ = (UniqueConstraint("unit_id", "member_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    member_no: Mapped[str] = mapped_column(String(32))


class Bank(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    versions: Mapped[list[BankVersion]] = relationship(
        back_populates="bank", order_by="BankVersion.number"
    )


class BankVersion(Model):
    """One immutable content version of a bank; contests pin one."""

    __table_args__ = (
        UniqueConstraint("bank_id", "number"),
        UniqueConstraint("bank_id", "content_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    declared_version: Mapped[str] = mapped_column(String(32), default="")
    categories: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    source_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bank: Mapped[Bank] = relationship(back_populates="versions")
    questions: Mapped[list[Question]] = relationship(
        back_populates="bank_version", order_by="Question.position"
    )

    def category_title(self, category_id: str) -> str:
        """The title a category is declared with (文明交通), the id when it is not declared."""
        titles = {c["id"]: c["title"] for c in self.categories or []}
        return titles.get(category_id, category_id)


class Question(Model):
    __table_args__ = (UniqueConstraint("bank_version_id", "qid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_version_id: Mapped[int] = mapped_column(ForeignKey("bank_version.id"), index=True)
    qid: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[Any] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(Text, default="")
    source_copy: Mapped[str] = mapped_column(Text, default="")
    time_limit: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewed: Mapped[list[str]] = mapped_column(JSON, default=list)
    bank_version: Mapped[BankVersion] = relationship(back_populates="questions")


class Contest(Model):
    """A configured competition and, for live rounds, its stored phase and deadlines."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pin: Mapped[str] = mapped_column(String(12), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16), default="live")  # live | campaign
    bank_version_id: Mapped[int] = mapped_column(ForeignKey("bank_version.id"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    roster_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    draw_seed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the organizer archives it: hidden from the console's default list, results kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Live state. `seq` grows with every phase change; transitions are compare-and-set on it,
    # so when several processes run a contest's timer only one of them applies each step.
    phase: Mapped[str] = mapped_column(String(16), default="lobby")
    position: Mapped[int] = mapped_column(Integer, default=-1)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    phase_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_remaining: Mapped[float | None] = mapped_column()
    # The timer's sign of life while the contest runs (live/credit.py): a stale one on
    # recovery means nobody could take answers, and the open question gets that time back.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bank_version: Mapped[BankVersion] = relationship()
    units: Mapped[list[Unit]] = relationship(
        secondary="contest_unit", order_by="[Unit.parent_id, Unit.position]"
    )
    questions: Mapped[list[ContestQuestion]] = relationship(
        back_populates="contest", order_by="ContestQuestion.position", cascade="all, delete-orphan"
    )


class ContestUnit(Model):
    """A branch taking part in a contest."""

    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class ContestQuestion(Model):
    """The drawn question at one position of a live contest, with its stored deadline."""

    __table_args__ = (UniqueConstraint("contest_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    time_limit: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contest: Mapped[Contest] = relationship(back_populates="questions")
    question: Mapped[Question] = relationship()


class Participant(Model):
    """A member in one contest. `token` is the member's secret for resuming on reconnect."""

    __table_args__ = (
        UniqueConstraint("contest_id", "roster_entry_id"),
        Index("ix_participant_contest_join_key", "contest_id", "join_key", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    seed: Mapped[int] = mapped_column(Integer)
    roster_entry_id: Mapped[int | None] = mapped_column(ForeignKey("roster_entry.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kicked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Freed by the organizer for its roster member to re-claim from another device
    # (contests.release_seat): the token has been replaced and nobody holds it yet.
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the seat was created from, for the organizer's fair-play review: the client address
    # and the device id the phone sent (client-supplied, so a hint, never proof on its own).
    join_address: Mapped[str] = mapped_column(String(64), default="")
    join_device: Mapped[str] = mapped_column(String(64), default="")
    # The phone's id for one join (sent again with each retry of it): a retry whose ack was
    # lost takes this seat back instead of making a second one. As secret as the token.
    join_key: Mapped[str | None] = mapped_column(String(64))
    # The running streak, kept beside the answers so scoring an answer needs no history query.
    streak: Mapped[int] = mapped_column(Integer, default=0)
    streak_position: Mapped[int] = mapped_column(Integer, default=-1)
    unit: Mapped[Unit] = relationship()


class Answer(Model):
    """One accepted answer. The unique constraint makes client retries idempotent."""

    __table_args__ = (
        UniqueConstraint("participant_id", "contest_question_id"),
        Index("ix_answer_contest_question", "contest_id", "contest_question_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    contest_question_id: Mapped[int] = mapped_column(ForeignKey("contest_question.id"))
    choice: Mapped[str] = mapped_column(String(32))  # sorted option ids joined by "," ("A,C")
    correct: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer)
    # What the answer earns if right: acked before the reveal without saying whether it is.
    potential_points: Mapped[int] = mapped_column(Integer)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JoinAttempt(Model):
    """One try at matching a roster line: rate-limits guessing per contest and client address,
    and records a second device refused a seated line, for the organizer's review."""

    __table_args__ = (Index("ix_join_attempt_contest_address", "contest_id", "address", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    address: Mapped[str] = mapped_column(String(64))
    # matched | not_on_roster | already_joined | reclaimed (a released seat taken back)
    outcome: Mapped[str] = mapped_column(String(16))
    roster_entry_id: Mapped[int | None] = mapped_column(ForeignKey("roster_entry.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- campaign contests (attempts)


class Attempt(Model):
    """One member's timed pass through a drawn set of questions in a campaign.

    `open_for` holds the participant id while the attempt is in progress and NULL once closed:
    its unique constraint lets the database, not a race between two phones, keep one attempt
    in progress per member."""

    __table_args__ = (
        UniqueConstraint("open_for"),
        Index("ix_attempt_contest_participant", "contest_id", "participant_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per member
    open_for: Mapped[int | None] = mapped_column(Integer)
    local_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in the contest's zone
    stage: Mapped[str] = mapped_column(String(64), default="")
    draw_seed: Mapped[int] = mapped_column(Integer)
    shuffle_seed: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str] = mapped_column(String(16), default="")  # submit | deadline | hidden
    score: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    full_mark: Mapped[int] = mapped_column(Integer, default=0)
    time_ms: Mapped[int] = mapped_column(Integer, default=0)
    device: Mapped[str] = mapped_column(String(64), default="")
    # Fair-play counters (flags for an organizer to review, never automatic bans).
    hidden_count: Mapped[int] = mapped_column(Integer, default=0)
    fast_count: Mapped[int] = mapped_column(Integer, default=0)
    participant: Mapped[Participant] = relationship()
    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position"
    )


class AttemptItem(Model):
    """One drawn question of an attempt, in the attempt's order, with the member's answer.
    Answering is a compare-and-set on `choice IS NULL`, so a retried submission is idempotent."""

    __table_args__ = (UniqueConstraint("attempt_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    choice: Mapped[str | None] = mapped_column(String(32))
    correct: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt: Mapped[Attempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()


class CampaignScore(Model):
    """A member's running totals in a campaign, updated in the transaction that closes each
    attempt, so unit rankings aggregate one row per member instead of every attempt.
    Each counting rule reads its own columns (best, latest, sum, average = sum / attempts)."""

    __table_args__ = (Index("ix_campaign_score_contest_unit", "contest_id", "unit_id"),)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    full: Mapped[int] = mapped_column(Integer, default=0)  # 1 once any attempt had full marks
    best_score: Mapped[int] = mapped_column(Integer, default=0)
    best_time_ms: Mapped[int] = mapped_column(Integer, default=0)
    latest_score: Mapped[int] = mapped_column(Integer, default=0)
    latest_time_ms: Mapped[int] = mapped_column(Integer, default=0)
    sum_score: Mapped[int] = mapped_column(Integer, default=0)
    sum_time_ms: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------- the stage contest (现场竞赛)


class StageRound(Model):
    """One round of a stage contest's programme: its type, its settings (time limits, points,
    who answers) and its questions, in order (a speed round's are one pool for every turn)."""

    __table_args__ = (UniqueConstraint("contest_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # required | buzz | risk | speed
    title: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    slots: Mapped[int] = mapped_column(Integer)
    question_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class StageTeam(Model):
    """A team on stage: a branch at a desk, its members and seats, and its device's PIN and
    token (the PIN joins, the token re-joins; both secret to the team)."""

    __table_args__ = (UniqueConstraint("contest_id", "pin"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    position: Mapped[int] = mapped_column(Integer)  # the turn order
    name: Mapped[str] = mapped_column(String(128))
    desk: Mapped[int] = mapped_column(Integer)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{name, seat}]
    pin: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    unit: Mapped[Unit] = relationship()


class StageEvent(Model):
    """The stage contest's log, one row per event, numbered: the board is the replay of these
    rows, so a restart resumes from them and two processes cannot both write the same `seq`.
    `t` is the event's time on the server clock (a buzz: the converted tap); `data` keeps what
    the logs need (a buzz's device tap, offset, uncertainty; a ruling's reason)."""

    __table_args__ = (UniqueConstraint("contest_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("stage_team.id"))
    t: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- the organizers' audit log


class AuditEntry(Model):
    """One organizer action (or the scheduler's): who, what, when, on which contest.
    No foreign keys: an entry outlives the contest or account it names (a deleted contest's
    deletion stays on record), so the names are copied in as they were."""

    __table_args__ = (Index("ix_audit_entry_contest", "contest_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    contest_id: Mapped[int | None] = mapped_column(Integer)
    contest_title: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")
