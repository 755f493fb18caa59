"""The stage contest as a pure fold over its event log: rounds, turns, buzzers, rulings, scores.

No Flask, sockets or database. Every event carries its own time (`at`, seconds on the server
clock), so tests drive the contest with an injected clock. The stored log *is* the contest:
`replay(programme, events)` rebuilds the board after a restart, and undo is a log entry that
takes back the last action, so nothing is ever deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class RoundType(StrEnum):
    REQUIRED = "required"  # 必答题: each team (or member) in turn, on its device or orally
    BUZZ = "buzz"  # 抢答题: the first valid buzz answers
    RISK = "risk"  # 风险题: the team picks a value before it sees the question
    SPEED = "speed"  # 限时速答: one team, as many questions as it can in the time


class Answerer(StrEnum):
    TEAM_TURN = "team_turn"
    MEMBER_TURN = "member_turn"
    ANY = "any"  # whoever buzzes first: the answerer of every buzz round


class Step(StrEnum):
    LOBBY = "lobby"
    PICKING = "picking"  # risk: the team chooses 10/20/30, question still hidden
    READY = "ready"  # speed: the team's turn is announced, clock not started
    SHOWN = "shown"  # buzz: question shown, host reading, buzzers closed
    OPEN = "open"  # buzz: buzzers open
    ANSWERING = "answering"  # a team answers (device or orally), against its deadline
    SPEED = "speed"  # speed: the team's clock runs
    RULED = "ruled"  # the slot is decided; the referee moves on
    FINISHED = "finished"


class Kind(StrEnum):
    NEXT = "next"
    PICK = "pick"
    OPEN = "open"
    BUZZ = "buzz"
    AWARD = "award"
    CLOSE = "close"
    START = "start"
    ANSWER = "answer"
    RULE = "rule"
    TIMEOUT = "timeout"
    ADJUST = "adjust"
    UNDO = "undo"


# What undo can take back: the referee's actions and the answers that scored.
UNDOABLE = frozenset(Kind) - {Kind.BUZZ, Kind.UNDO}


class StageRefusal(StrEnum):
    WRONG_STEP = "stage_wrong_step"
    NOT_YOUR_TURN = "stage_not_your_turn"
    LOCKED_OUT = "stage_locked_out"
    ALREADY_BUZZED = "stage_already_buzzed"
    NO_SUCH_TEAM = "stage_no_such_team"
    BAD_VALUE = "stage_bad_value"
    TOO_LATE = "too_late"
    NOTHING_TO_UNDO = "stage_nothing_to_undo"
    FINISHED = "contest_over"


DEFAULT_WRONG = {RoundType.BUZZ: -10}


@dataclass(frozen=True)
class RoundSpec:
    """One round of the programme. `slots` is the number of questions (required, buzz, risk)
    or of team turns (speed, whose questions are a shared pool). `timeout` points default to
    `wrong`; a risk round scores ± the picked value instead of `right`/`wrong`."""

    kind: RoundType
    title: str
    slots: int
    answer_seconds: float = 30
    right: int = 10
    wrong: int = 0
    foul: int = 0
    timeout: int | None = None
    answerer: Answerer = Answerer.TEAM_TURN
    risk_values: tuple[int, ...] = (10, 20, 30)
    speed_seconds: float = 40
    pool_size: int | None = None  # speed: the questions of the shared pool (None: unbounded)

    @classmethod
    def from_settings(
        cls, values: Mapping[str, Any], slots: int, pool_size: int | None = None
    ) -> RoundSpec:
        kind = RoundType(values["type"])
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        for fixed in ("kind", "title", "slots", "pool_size"):
            known.pop(fixed, None)
        known.setdefault("wrong", DEFAULT_WRONG.get(kind, 0))
        if "risk_values" in known:
            known["risk_values"] = tuple(int(v) for v in known["risk_values"])
        if "answerer" in known:
            known["answerer"] = Answerer(known["answerer"])
        if kind == RoundType.BUZZ:
            known["answerer"] = Answerer.ANY
        title = str(values.get("title") or kind.value)
        return cls(kind=kind, title=title, slots=slots, pool_size=pool_size, **known)

    def pool_left(self, pool: int) -> bool:
        """Whether a speed turn at pool position `pool` still has a question to answer."""
        return self.pool_size is None or pool < self.pool_size

    @property
    def timeout_points(self) -> int:
        return self.wrong if self.timeout is None else self.timeout


@dataclass(frozen=True)
class Programme:
    rounds: tuple[RoundSpec, ...]
    teams: tuple[int, ...]  # team ids in turn order
    members: Mapping[int, int] = field(default_factory=dict)  # team id → member count


@dataclass(frozen=True)
class Event:
    kind: Kind
    at: float
    team: int | None = None
    value: int | None = None  # risk pick, score adjustment
    correct: bool | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> Event:
        return cls(**{**values, "kind": Kind(values["kind"])})


@dataclass(frozen=True)
class Ruling:
    """How one slot (or one speed answer) was decided, for the rulings log."""

    round: int
    slot: int
    team: int | None
    outcome: str  # right | wrong | timeout | foul | adjust | none
    points: int
    reason: str = ""


@dataclass(frozen=True)
class Board:
    """The contest as the fold left it."""

    step: Step = Step.LOBBY
    round: int = -1
    slot: int = -1
    team: int | None = None  # the team whose turn it is, or who won the buzz
    value: int | None = None  # risk: the picked value
    opened_at: float | None = None
    deadline: float | None = None
    locked: frozenset[int] = frozenset()
    buzzed: tuple[int, ...] = ()  # teams that buzzed this question, in arrival order
    pool: int = 0  # speed: the next question of the round's pool
    speed_right: int = 0
    scores: Mapping[int, int] = field(default_factory=dict)
    round_scores: Mapping[tuple[int, int], int] = field(default_factory=dict)
    rulings: tuple[Ruling, ...] = ()

    def score(self, team: int) -> int:
        return self.scores.get(team, 0)


def start(programme: Programme) -> Board:
    return Board(scores=dict.fromkeys(programme.teams, 0))


def spec_of(programme: Programme, board: Board) -> RoundSpec | None:
    return programme.rounds[board.round] if 0 <= board.round < len(programme.rounds) else None


def turn_team(programme: Programme, slot: int) -> int:
    return programme.teams[slot % len(programme.teams)]


def turn_member(programme: Programme, slot: int) -> int:
    """The seat (1-based) answering a member-in-turn slot: members rotate once per team cycle."""
    team = turn_team(programme, slot)
    return (slot // len(programme.teams)) % max(1, programme.members.get(team, 1)) + 1


# ---------------------------------------------------------------- the fold


def apply(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """The board after `event`, or why the event cannot happen now."""
    if board.step == Step.FINISHED and event.kind != Kind.ADJUST:
        return StageRefusal.FINISHED
    if event.team is not None and event.team not in programme.teams:
        return StageRefusal.NO_SUCH_TEAM
    return _HANDLERS[event.kind](programme, board, event)


def replay(programme: Programme, events: Iterable[Event]) -> Board:
    """The board from the stored log: undo takes back the last action still in effect, and an
    event the fold refuses (the undone question's later buzz, say) is skipped."""
    kept: list[Event] = []
    for event in events:
        if event.kind == Kind.UNDO:
            _pop_undoable(kept)
        else:
            kept.append(event)
    board = start(programme)
    for event in kept:
        after = apply(programme, board, event)
        board = after if isinstance(after, Board) else board
    return board


def can_undo(events: Iterable[Event]) -> bool:
    kept: list[Event] = []
    for event in events:
        if event.kind == Kind.UNDO:
            _pop_undoable(kept)
        else:
            kept.append(event)
    return any(e.kind in UNDOABLE for e in kept)


def _pop_undoable(kept: list[Event]) -> None:
    for i in range(len(kept) - 1, -1, -1):
        if kept[i].kind in UNDOABLE:
            del kept[i:]  # buzzes that came after the undone action go with it
            return


def _next(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    if board.step not in (Step.LOBBY, Step.RULED):
        return StageRefusal.WRONG_STEP
    round_, slot = board.round, board.slot + 1
    if round_ < 0 or slot >= programme.rounds[round_].slots:
        round_, slot = round_ + 1, 0
    if round_ >= len(programme.rounds):
        return replace(board, step=Step.FINISHED, team=None, deadline=None)
    spec = programme.rounds[round_]
    fresh = replace(
        board, round=round_, slot=slot, value=None, opened_at=None, locked=frozenset(),
        buzzed=(), speed_right=0, pool=board.pool if round_ == board.round else 0,
    )  # fmt: skip
    team = turn_team(programme, slot)
    if spec.kind == RoundType.BUZZ:
        return replace(fresh, step=Step.SHOWN, team=None, deadline=None)
    if spec.kind == RoundType.RISK:
        return replace(fresh, step=Step.PICKING, team=team, deadline=None)
    if spec.kind == RoundType.SPEED:
        return replace(fresh, step=Step.READY, team=team, deadline=None)
    return replace(fresh, step=Step.ANSWERING, team=team, deadline=event.at + spec.answer_seconds)


def _pick(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    spec = spec_of(programme, board)
    if board.step != Step.PICKING or spec is None:
        return StageRefusal.WRONG_STEP
    if event.team != board.team:
        return StageRefusal.NOT_YOUR_TURN
    if event.value not in spec.risk_values:
        return StageRefusal.BAD_VALUE
    deadline = event.at + spec.answer_seconds
    return replace(board, step=Step.ANSWERING, value=event.value, deadline=deadline)


def _open(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    if board.step != Step.SHOWN:
        return StageRefusal.WRONG_STEP
    return replace(board, step=Step.OPEN, opened_at=event.at)


def _buzz(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """A buzz at `at`, the tap on the server clock. Before the buzzers open it is a foul: the
    team is locked out of this question and loses the round's foul points."""
    spec = spec_of(programme, board)
    team = event.team
    if team is None or spec is None or spec.kind != RoundType.BUZZ:
        return StageRefusal.WRONG_STEP
    if team in board.locked:
        return StageRefusal.LOCKED_OUT
    if team in board.buzzed:
        return StageRefusal.ALREADY_BUZZED
    early = board.step == Step.SHOWN or (board.opened_at is not None and event.at < board.opened_at)
    if early and board.step in (Step.SHOWN, Step.OPEN, Step.ANSWERING):
        fouled = _score(
            board, team, spec.foul, Ruling(board.round, board.slot, team, "foul", spec.foul)
        )
        return replace(fouled, locked=board.locked | {team})
    if board.step != Step.OPEN:
        return StageRefusal.WRONG_STEP
    return replace(board, buzzed=(*board.buzzed, team))


def _award(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """The buzz winner answers: chosen by the buzz order, or by the referee on a tie."""
    spec = spec_of(programme, board)
    if board.step != Step.OPEN or spec is None:
        return StageRefusal.WRONG_STEP
    if event.team not in board.buzzed:
        return StageRefusal.NOT_YOUR_TURN
    return replace(
        board, step=Step.ANSWERING, team=event.team, deadline=event.at + spec.answer_seconds
    )


def _close(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """Buzzers closed with nobody answering: the question is over, no points."""
    if board.step not in (Step.SHOWN, Step.OPEN):
        return StageRefusal.WRONG_STEP
    ruling = Ruling(board.round, board.slot, None, "none", 0)
    return replace(board, step=Step.RULED, team=None, rulings=(*board.rulings, ruling))


def _start(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    spec = spec_of(programme, board)
    if board.step != Step.READY or spec is None:
        return StageRefusal.WRONG_STEP
    if not spec.pool_left(board.pool):  # an earlier turn used the whole pool: nothing to answer
        return replace(board, step=Step.RULED, deadline=None)
    return replace(board, step=Step.SPEED, deadline=event.at + spec.speed_seconds)


def _answer(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """An answer from the team's device (or its oral answer ruled by the referee: `rule`)."""
    if board.step == Step.SPEED:
        return _speed_answer(programme, board, event)
    if board.step != Step.ANSWERING:
        return StageRefusal.WRONG_STEP
    if event.team is not None and event.team != board.team:
        return StageRefusal.NOT_YOUR_TURN
    if board.deadline is not None and event.at > board.deadline:
        return StageRefusal.TOO_LATE
    return _decide(programme, board, "right" if event.correct else "wrong", event.reason)


def _speed_answer(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    spec = spec_of(programme, board)
    assert spec is not None and board.team is not None
    if event.team is not None and event.team != board.team:
        return StageRefusal.NOT_YOUR_TURN
    if board.deadline is not None and event.at > board.deadline:
        return StageRefusal.TOO_LATE
    outcome = "right" if event.correct else "wrong"
    points = spec.right if event.correct else spec.wrong
    ruling = Ruling(board.round, board.slot, board.team, outcome, points, event.reason)
    scored = _score(board, board.team, points, ruling)
    pool, speed_right = board.pool + 1, board.speed_right + bool(event.correct)
    if not spec.pool_left(pool):  # the pool ran out: the turn ends before its clock
        return replace(scored, pool=pool, speed_right=speed_right, step=Step.RULED, deadline=None)
    return replace(scored, pool=pool, speed_right=speed_right)


def _rule(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """The referee's ruling on an oral answer (or a device answer the team could not give)."""
    if event.correct is None:
        return StageRefusal.BAD_VALUE
    if board.step == Step.SPEED:
        return _speed_answer(programme, board, replace(event, team=None))
    if board.step != Step.ANSWERING:
        return StageRefusal.WRONG_STEP
    return _decide(programme, board, "right" if event.correct else "wrong", event.reason)


def _timeout(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    if board.step == Step.SPEED:
        if board.deadline is not None and event.at < board.deadline:
            return StageRefusal.WRONG_STEP
        return replace(board, step=Step.RULED, deadline=None)
    if board.step == Step.OPEN:
        return _close(programme, board, event)
    if board.step != Step.ANSWERING:
        return StageRefusal.WRONG_STEP
    if board.deadline is not None and event.at < board.deadline:
        return StageRefusal.WRONG_STEP
    return _decide(programme, board, "timeout", event.reason)


def _decide(programme: Programme, board: Board, outcome: str, reason: str) -> Board:
    spec = spec_of(programme, board)
    assert spec is not None and board.team is not None
    if spec.kind == RoundType.RISK:
        value = board.value or 0
        points = value if outcome == "right" else -value
    else:
        points = {"right": spec.right, "wrong": spec.wrong}.get(outcome, spec.timeout_points)
    ruling = Ruling(board.round, board.slot, board.team, outcome, points, reason)
    return replace(_score(board, board.team, points, ruling), step=Step.RULED, deadline=None)


def _adjust(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    """A judges' ruling: points to one team, with the written reason (required)."""
    if event.team is None or event.value is None or not event.reason.strip():
        return StageRefusal.BAD_VALUE
    ruling = Ruling(board.round, board.slot, event.team, "adjust", event.value, event.reason)
    return _score(board, event.team, event.value, ruling)


def _score(board: Board, team: int, points: int, ruling: Ruling) -> Board:
    scores = {**board.scores, team: board.score(team) + points}
    key = (max(board.round, 0), team)
    per_round = {**board.round_scores, key: board.round_scores.get(key, 0) + points}
    return replace(board, scores=scores, round_scores=per_round, rulings=(*board.rulings, ruling))


def _undo(programme: Programme, board: Board, event: Event) -> Board | StageRefusal:
    return StageRefusal.WRONG_STEP  # undo is resolved by `replay`, never folded


_HANDLERS = {
    Kind.NEXT: _next,
    Kind.PICK: _pick,
    Kind.OPEN: _open,
    Kind.BUZZ: _buzz,
    Kind.AWARD: _award,
    Kind.CLOSE: _close,
    Kind.START: _start,
    Kind.ANSWER: _answer,
    Kind.RULE: _rule,
    Kind.TIMEOUT: _timeout,
    Kind.ADJUST: _adjust,
    Kind.UNDO: _undo,
}


def standings(programme: Programme, board: Board) -> list[tuple[int, int, int]]:
    """(rank, team, score), best first; equal scores share a rank (the programme order breaks
    nothing: a tie on stage is settled by the judges, with an adjustment)."""
    ordered = sorted(programme.teams, key=lambda t: -board.score(t))
    ranked: list[tuple[int, int, int]] = []
    for i, team in enumerate(ordered):
        same = ranked and ranked[-1][2] == board.score(team)
        ranked.append((ranked[-1][0] if same else i + 1, team, board.score(team)))
    return ranked
