"""The stage engine: every round type as a table of events → scores and steps."""

from __future__ import annotations

import pytest

from quiz_server.stage.engine import (
    Board,
    Event,
    Kind,
    Programme,
    RoundSpec,
    RoundType,
    StageRefusal,
    Step,
    apply,
    can_undo,
    replay,
    standings,
    turn_member,
)

A, B, C, D = 1, 2, 3, 4


def prog(*rounds: RoundSpec) -> Programme:
    return Programme(rounds=rounds, teams=(A, B, C, D), members={A: 3, B: 3, C: 4, D: 3})


REQUIRED = RoundSpec(RoundType.REQUIRED, "必答题", slots=4, answer_seconds=30)
BUZZ = RoundSpec.from_settings({"type": "buzz", "title": "抢答题", "foul": -5}, slots=3)
RISK = RoundSpec(RoundType.RISK, "风险题", slots=4, answer_seconds=30)
SPEED = RoundSpec(RoundType.SPEED, "限时速答", slots=2, speed_seconds=40)


def run(programme: Programme, events: list[Event]) -> Board:
    board = replay(programme, [])
    for event in events:
        after = apply(programme, board, event)
        assert isinstance(after, Board), (event, after)
        board = after
    assert replay(programme, events) == board  # the log alone rebuilds the board
    return board


def E(kind: str, at: float = 0, **kw) -> Event:  # noqa: N802
    return Event(Kind(kind), at, **kw)


@pytest.mark.parametrize(
    ("events", "scores", "step"),
    [
        ([E("next"), E("answer", 5, team=A, correct=True)], {A: 10}, Step.RULED),
        ([E("next"), E("answer", 5, team=A, correct=False)], {A: 0}, Step.RULED),
        ([E("next"), E("rule", 5, correct=True)], {A: 10}, Step.RULED),
        ([E("next"), E("timeout", 30)], {A: 0}, Step.RULED),
        ([E("next"), E("rule", 5, correct=True), E("next", 6), E("answer", 7, team=B, correct=True)],
         {A: 10, B: 10}, Step.RULED),
    ],
)  # fmt: skip
def test_required_round(events, scores, step):
    board = run(prog(REQUIRED), events)
    assert {t: board.score(t) for t in scores} == scores
    assert board.step == step


@pytest.mark.parametrize(
    ("event", "refusal"),
    [
        (E("answer", 5, team=B, correct=True), StageRefusal.NOT_YOUR_TURN),
        (E("answer", 30.5, team=A, correct=True), StageRefusal.TOO_LATE),
        (E("timeout", 29), StageRefusal.WRONG_STEP),
        (E("open", 1), StageRefusal.WRONG_STEP),
        (E("answer", 1, team=99, correct=True), StageRefusal.NO_SUCH_TEAM),
    ],
)
def test_required_refusals(event, refusal):
    programme = prog(REQUIRED)
    board = run(programme, [E("next")])
    assert apply(programme, board, event) == refusal


@pytest.mark.parametrize(
    ("events", "scores", "locked", "step"),
    [
        # first valid buzz answers; right +10
        ([E("next"), E("open", 10), E("buzz", 11, team=B), E("award", 11.5, team=B),
          E("rule", 15, correct=True)], {B: 10}, set(), Step.RULED),
        # wrong −10 (the buzz round's default)
        ([E("next"), E("open", 10), E("buzz", 11, team=C), E("award", 11.5, team=C),
          E("rule", 15, correct=False)], {C: -10}, set(), Step.RULED),
        # timeout counts as wrong
        ([E("next"), E("open", 10), E("buzz", 11, team=C), E("award", 11.5, team=C),
          E("timeout", 41.5)], {C: -10}, set(), Step.RULED),
        # a buzz before open: foul, locked out, −5
        ([E("next"), E("buzz", 9, team=A)], {A: -5}, {A}, Step.SHOWN),
        # a tap converted to before the open arrives after it: still a foul
        ([E("next"), E("open", 10), E("buzz", 9.99, team=D)], {D: -5}, {D}, Step.OPEN),
        # nobody buzzes: closed, no points
        ([E("next"), E("open", 10), E("close", 40)], {A: 0, B: 0}, set(), Step.RULED),
    ],
)  # fmt: skip
def test_buzz_round(events, scores, locked, step):
    board = run(prog(BUZZ), events)
    assert {t: board.score(t) for t in scores} == scores
    assert set(board.locked) == locked
    assert board.step == step


def test_fouled_team_cannot_buzz_again_and_others_can():
    programme = prog(BUZZ)
    board = run(programme, [E("next"), E("buzz", 9, team=A), E("open", 10)])
    assert apply(programme, board, E("buzz", 11, team=A)) == StageRefusal.LOCKED_OUT
    after = apply(programme, board, E("buzz", 11, team=B))
    assert isinstance(after, Board) and after.buzzed == (B,)
    assert apply(programme, after, E("buzz", 12, team=B)) == StageRefusal.ALREADY_BUZZED
    assert apply(programme, after, E("award", 12, team=C)) == StageRefusal.NOT_YOUR_TURN


@pytest.mark.parametrize(
    ("value", "correct", "expected"),
    [(10, True, 10), (20, True, 20), (30, True, 30), (10, False, -10), (20, False, -20),
     (30, False, -30), (30, None, -30)],
)  # fmt: skip
def test_risk_values(value, correct, expected):
    events = [E("next"), E("pick", 1, team=A, value=value)]
    events.append(E("timeout", 31) if correct is None else E("answer", 5, team=A, correct=correct))
    board = run(prog(RISK), events)
    assert board.score(A) == expected


def test_risk_refuses_other_values_and_other_teams():
    programme = prog(RISK)
    board = run(programme, [E("next")])
    assert board.step == Step.PICKING
    assert apply(programme, board, E("pick", 1, team=A, value=25)) == StageRefusal.BAD_VALUE
    assert apply(programme, board, E("pick", 1, team=B, value=10)) == StageRefusal.NOT_YOUR_TURN
    assert apply(programme, board, E("answer", 1, team=A, correct=True)) == StageRefusal.WRONG_STEP


@pytest.mark.parametrize(
    ("answers", "right", "pool"),
    [
        ([], 0, 0),
        ([(5, True), (10, True), (15, False), (39.9, True)], 3, 4),
        ([(t, True) for t in range(1, 40)], 39, 39),
    ],
)
def test_speed_round_counts(answers, right, pool):
    events = [E("next"), E("start", 0)]
    events += [E("answer", t, team=A, correct=c) for t, c in answers]
    events.append(E("timeout", 40))
    board = run(prog(SPEED), events)
    assert (board.speed_right, board.pool, board.score(A), board.step) == (
        right,
        pool,
        10 * right,
        Step.RULED,
    )


SMALL_POOL = RoundSpec(RoundType.SPEED, "限时速答", slots=2, speed_seconds=40, pool_size=3)


@pytest.mark.parametrize(
    ("answers", "step", "deadline", "pool", "right"),
    [
        ([], Step.SPEED, 40, 0, 0),
        ([(5, True), (10, False)], Step.SPEED, 40, 2, 1),  # one question left: the clock runs
        ([(5, True), (10, False), (12, True)], Step.RULED, None, 3, 2),  # pool out at 12 s
        ([(1, True), (2, True), (3, True)], Step.RULED, None, 3, 3),
    ],
)
def test_speed_turn_ends_when_the_pool_runs_out(answers, step, deadline, pool, right):
    events = [E("next"), E("start", 0)] + [E("answer", t, team=A, correct=c) for t, c in answers]
    board = run(prog(SMALL_POOL), events)
    assert (board.step, board.deadline, board.pool, board.speed_right) == (
        step, deadline, pool, right,
    )  # fmt: skip
    if step == Step.RULED:  # no timeout is due, and the next team's turn has nothing left
        assert apply(prog(SMALL_POOL), board, E("timeout", 40)) == StageRefusal.WRONG_STEP
        after = run(prog(SMALL_POOL), [*events, E("next", 13), E("start", 14)])
        assert (after.team, after.step, after.deadline) == (B, Step.RULED, None)


def test_speed_refuses_after_time_and_next_team_continues_the_pool():
    programme = prog(SPEED)
    board = run(programme, [E("next"), E("start", 0), E("answer", 3, team=A, correct=True)])
    assert apply(programme, board, E("answer", 40.1, team=A, correct=True)) == StageRefusal.TOO_LATE
    board = run(programme, [E("next"), E("start", 0), E("answer", 3, team=A, correct=True),
                            E("timeout", 40), E("next", 41)])  # fmt: skip
    assert (board.team, board.step, board.pool) == (B, Step.READY, 1)


def test_undo_takes_back_the_last_ruling_and_adjustment():
    programme = prog(BUZZ)
    base = [E("next"), E("open", 10), E("buzz", 11, team=B), E("award", 11.5, team=B)]
    ruled = [*base, E("rule", 15, correct=False)]
    assert replay(programme, ruled).score(B) == -10
    undone = replay(programme, [*ruled, E("undo", 16)])
    assert (undone.score(B), undone.step, undone.team) == (0, Step.ANSWERING, B)
    redone = replay(programme, [*ruled, E("undo", 16), E("rule", 17, correct=True)])
    assert redone.score(B) == 10
    adjusted = [*ruled, E("adjust", 20, team=B, value=10, reason="评委复核：答案正确")]
    assert replay(programme, adjusted).score(B) == 0
    assert replay(programme, [*adjusted, E("undo", 21)]).score(B) == -10
    assert not can_undo([]) and can_undo(ruled)


def test_adjust_needs_a_reason():
    programme = prog(REQUIRED)
    board = run(programme, [E("next")])
    assert apply(programme, board, E("adjust", 1, team=A, value=5)) == StageRefusal.BAD_VALUE


def test_whole_programme_runs_to_the_end_with_per_round_scores():
    programme = prog(
        RoundSpec(RoundType.REQUIRED, "必答", slots=1),
        RoundSpec(RoundType.BUZZ, "抢答", slots=1, wrong=-10),
    )
    board = run(programme, [
        E("next"), E("answer", 1, team=A, correct=True),
        E("next", 2), E("open", 3), E("buzz", 4, team=A), E("award", 5, team=A), E("rule", 6, correct=True),
        E("next", 7),
    ])  # fmt: skip
    assert board.step == Step.FINISHED
    assert board.round_scores == {(0, A): 10, (1, A): 10}
    assert standings(programme, board)[:2] == [(1, A, 20), (2, B, 0)]
    assert [r.outcome for r in board.rulings] == ["right", "right"]


def test_member_in_turn_rotates_seats():
    programme = prog(REQUIRED)
    assert [turn_member(programme, s) for s in (0, 4, 8, 12)] == [1, 2, 3, 1]
    assert turn_member(programme, 2 + 12) == 4  # team C has four members
