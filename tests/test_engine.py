"""The contest engine: phases, deadlines with grace, refusals, scoring, streaks, ties."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quiz_server.live import engine
from quiz_server.live.engine import Phase, Refusal, Round, Scoring, Streak, Timing, Window
from quiz_server.questions import QUESTION_TYPES

T = Timing(question_seconds=20, reveal_seconds=5, leaderboard_seconds=5, grace_seconds=1.5)
S = Scoring(base_points=1000, speed_share=0.5, streak_bonus=100, streak_cap=5)


def lobby(total: int = 3) -> Round:
    return Round(Phase.LOBBY, -1, total, 0)


def test_full_cycle_of_phases(clock):
    rnd = engine.advance(lobby(2), clock(), T, 20)
    assert (rnd.phase, rnd.position, rnd.seq) == (Phase.QUESTION, 0, 1)
    assert rnd.phase_ends_at == clock() + timedelta(seconds=20)
    phases = [rnd.phase]
    for _ in range(5):
        rnd = engine.advance(rnd, clock(), T, 20)
        phases.append(rnd.phase)
    assert phases == [
        Phase.QUESTION, Phase.REVEAL, Phase.LEADERBOARD,
        Phase.QUESTION, Phase.REVEAL, Phase.LEADERBOARD,
    ]  # fmt: skip
    assert engine.advance(rnd, clock(), T, 0).phase is Phase.FINISHED
    assert rnd.seq == 6


def test_finished_is_final(clock):
    done = engine.finish(lobby())
    assert engine.advance(done, clock(), T, 20) == done


def test_question_closes_itself_after_grace_even_without_auto_advance(clock):
    manual = Timing(auto_advance=False, grace_seconds=1.5)
    rnd = engine.open_question(lobby(), clock(), 20)
    assert engine.due_at(rnd, manual) == clock() + timedelta(seconds=21.5)
    reveal = engine.advance(rnd, clock(), T, 20)
    assert engine.due_at(reveal, manual) is None
    assert engine.due_at(reveal, T) == clock() + timedelta(seconds=5)


def test_extend_moves_the_deadline_and_bumps_seq(clock):
    rnd = engine.open_question(lobby(), clock(), 20)
    longer = engine.extend(rnd, 10)
    assert longer.phase_ends_at == rnd.phase_ends_at + timedelta(seconds=10)
    assert longer.seq == rnd.seq + 1
    assert engine.extend(engine.finish(rnd), 10).phase is Phase.FINISHED


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-0.001, Refusal.NOT_OPEN),  # before it opened
        (0.0, None),
        (20.0, None),  # exactly at the deadline
        (21.5, None),  # the last instant of the grace
        (21.501, Refusal.TOO_LATE),
    ],
)
def test_acceptance_window_boundaries(clock, offset, expected):
    window = Window(clock(), clock() + timedelta(seconds=20))
    moment = clock() + timedelta(seconds=offset)
    assert engine.check_open(window, moment, 1.5) is expected


def test_no_answer_once_revealed_even_within_grace(clock):
    opened = clock()
    window = Window(
        opened, opened + timedelta(seconds=20), revealed_at=opened + timedelta(seconds=5)
    )
    assert engine.check_open(window, opened + timedelta(seconds=4.9), 1.5) is None
    assert engine.check_open(window, opened + timedelta(seconds=5), 1.5) is Refusal.TOO_LATE


def test_unopened_question_is_not_open(clock):
    assert engine.check_open(Window(None, None), clock(), 1.5) is Refusal.NOT_OPEN


NO_STREAK = Streak()


def mark(clock, qtype, answer, choice, elapsed, streak=NO_STREAK, position=0):
    window = Window(clock(), clock() + timedelta(seconds=20))
    return engine.mark(
        QUESTION_TYPES[qtype], answer, choice,
        position=position, window=window, now=clock() + timedelta(seconds=elapsed),
        streak=streak, scoring=S,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("elapsed", "points"),
    [
        (0, 1000),
        (10, 750),
        (20, 500),
        (21, 500),
        (5, 875),
    ],  # grace answers score as at the deadline
)
def test_speed_scales_points(clock, elapsed, points):
    result = mark(clock, "single", "B", ["B"], elapsed)
    assert (result.correct, result.points) == (True, points)


def test_wrong_answer_scores_nothing_but_reports_potential(clock):
    result = mark(clock, "single", "B", ["A"], 10)
    assert (result.correct, result.points, result.potential_points) == (False, 0, 750)
    assert result.streak == Streak(0, 0)


@pytest.mark.parametrize(
    ("qtype", "answer", "choice", "correct"),
    [
        ("multiple", ["A", "C"], ["A", "C"], True),
        ("multiple", ["A", "C"], ["A"], False),  # a subset is not enough
        ("multiple", ["A", "C"], ["A", "B", "C"], False),
        ("judge", True, ["T"], True),
        ("judge", False, ["T"], False),
    ],
)
def test_exact_set_and_judge(clock, qtype, answer, choice, correct):
    assert mark(clock, qtype, answer, choice, 0).correct is correct


def test_streak_bonus_grows_and_is_capped(clock):
    streak, points = Streak(), []
    for position in range(8):
        result = mark(clock, "single", "A", ["A"], 0, streak, position)
        streak = result.streak
        points.append(result.points)
    assert points == [1000, 1100, 1200, 1300, 1400, 1500, 1500, 1500]


def test_streak_breaks_on_a_skipped_question(clock):
    after_two = Streak(2, 1)
    assert mark(clock, "single", "A", ["A"], 0, after_two, position=3).streak == Streak(1, 3)
    assert mark(clock, "single", "A", ["A"], 0, after_two, position=2).streak == Streak(3, 2)


def test_equal_answers_at_equal_times_tie(clock):
    a = mark(clock, "single", "A", ["A"], 7.25)
    b = mark(clock, "single", "A", ["A"], 7.25)
    assert (a.points, a.elapsed_ms) == (b.points, b.elapsed_ms) == (819, 7250)


def test_settings_override_constants_and_ignore_unknown_keys():
    scoring = Scoring.from_settings({"scoring": {"base_points": 500, "bogus": 1}})
    assert scoring.base_points == 500 and scoring.streak_bonus == 100
    assert Timing.from_settings({"timing": {"question_seconds": 30}}).question_seconds == 30


@pytest.mark.parametrize(
    ("qtype", "raw", "expected"),
    [
        ("single", ["B"], ["B"]),
        ("single", "B", ["B"]),
        ("single", ["E"], None),  # only four options
        ("single", ["A", "B"], None),
        ("multiple", ["C", "A", "A"], ["A", "C"]),
        ("multiple", [], None),
        ("judge", ["F"], ["F"]),
        ("judge", ["A"], None),
        ("single", [1], None),
    ],
)
def test_choices_are_parsed_at_the_door(qtype, raw, expected):
    assert QUESTION_TYPES[qtype].parse_choice(raw, ["甲", "乙", "丙", "丁"]) == expected


# ---------------------------------------------------------------- pause, resume, skip


def test_pause_freezes_the_clock_and_resume_gives_back_what_was_left(clock):
    rnd = engine.open_question(lobby(), clock(), 20)
    clock.advance(5)
    paused = engine.pause(rnd, clock())
    assert paused.paused and paused.paused_remaining == 15 and paused.seq == rnd.seq + 1
    assert paused.phase_ends_at == rnd.phase_ends_at  # the deadline as it stood, for display
    assert engine.due_at(paused, T) is None  # the timer waits while paused
    clock.advance(60)
    resumed = engine.resume(paused, clock())
    assert not resumed.paused and resumed.phase_ends_at == clock() + timedelta(seconds=15)
    assert engine.due_at(resumed, T) == clock() + timedelta(seconds=16.5)


@pytest.mark.parametrize(
    ("move", "start"),
    [
        (engine.pause, Phase.LOBBY),  # nothing runs yet
        (engine.resume, Phase.QUESTION),  # not paused
        (engine.skip, Phase.REVEAL),  # no open question
    ],
)
def test_pause_resume_skip_refuse_where_they_mean_nothing(clock, move, start):
    rnd = lobby() if start is Phase.LOBBY else engine.open_question(lobby(), clock(), 20)
    if start is Phase.REVEAL:
        rnd = engine.advance(rnd, clock(), T, 20)
    assert move(rnd, clock()) == rnd


def test_pause_works_on_reveal_and_leaderboard_too(clock):
    reveal = engine.advance(engine.open_question(lobby(), clock(), 20), clock(), T, 20)
    clock.advance(2)
    paused = engine.pause(reveal, clock())
    assert paused.paused_remaining == 3 and engine.due_at(paused, T) is None


def test_extend_waits_for_resume_and_pause_is_not_doubled(clock):
    paused = engine.pause(engine.open_question(lobby(), clock(), 20), clock())
    assert engine.extend(paused, 10) == paused
    assert engine.pause(paused, clock()) == paused


def test_skip_closes_the_question_now_and_reveals_after_grace(clock):
    rnd = engine.open_question(lobby(), clock(), 20)
    clock.advance(4)
    skipped = engine.skip(engine.pause(rnd, clock()), clock())
    assert skipped.phase is Phase.QUESTION and not skipped.paused
    assert skipped.phase_ends_at == clock()
    assert engine.due_at(skipped, T) == clock() + timedelta(seconds=1.5)


def test_advancing_a_paused_phase_clears_the_pause(clock):
    paused = engine.pause(engine.open_question(lobby(), clock(), 20), clock())
    assert not engine.advance(paused, clock(), T, 20).paused
    assert not engine.finish(paused).paused


def test_answers_are_refused_while_paused(clock):
    window = Window(clock(), clock() + timedelta(seconds=20), paused=True)
    assert engine.check_open(window, clock() + timedelta(seconds=3), 1.5) is Refusal.PAUSED
    opened = clock()
    revealed = Window(opened, opened + timedelta(seconds=20), opened + timedelta(seconds=2), True)
    assert engine.check_open(revealed, clock() + timedelta(seconds=3), 1.5) is Refusal.TOO_LATE
