"""The hall's pace and option language at the socket edge: a question closes early once every
member has answered, the reveal lasts long enough to read its explanation, ties are shown
once, and phones get the big screen's letters unless the contest shuffles."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import make_bank, make_branches
from test_live import answer, control, host, live_app, phases, phone, right, t  # noqa: F401

from quiz_server import create_app, live
from quiz_server.contests import create_contest
from quiz_server.extensions import db
from quiz_server.live import engine
from quiz_server.models import Contest, Participant
from quiz_server.ranking import tied

T0 = datetime(2026, 5, 1, 9, 0, 0)


def contest_row(app, info) -> Contest:
    return db.session.get(Contest, info["contest_id"])


# ---------------------------------------------------------------- close early


def test_the_question_closes_once_everyone_has_answered(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    b1, _ = phone(live_app, t, "王五", 1)
    assert control(host, t, "start") == {"ok": True}
    clock.advance(2)
    assert answer(a1, 0, right(t, 0))["ok"]
    with live_app.app_context():
        live.flush_counters()  # one of two answered: stays open
        assert contest_row(live_app, t).phase_ends_at == clock() + timedelta(seconds=18)
    clock.advance(1)
    assert answer(b1, 0, right(t, 0))["ok"]
    with live_app.app_context():
        seq = contest_row(live_app, t).seq
        live.flush_counters()  # everyone: the deadline comes forward to now
        contest = contest_row(live_app, t)
        assert (contest.phase, contest.phase_ends_at, contest.seq) == ("question", clock(), seq + 1)
        live.flush_counters()  # nothing new: no second step, no second broadcast
        assert contest_row(live_app, t).seq == seq + 1
    assert phases(b1)[-1]["phase_ends_at"] is not None
    clock.advance(1.6)  # past the grace: the timer reveals
    with live_app.app_context():
        live.tick(t["contest_id"])
        assert contest_row(live_app, t).phase == "reveal"


def test_a_kicked_member_is_not_waited_for(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    phone(live_app, t, "王五", 1)
    with live_app.app_context():
        gone = db.session.query(Participant).filter_by(name="王五").one()
        gone.kicked = True
        db.session.commit()
    control(host, t, "start")
    assert answer(a1, 0, right(t, 0))["ok"]
    with live_app.app_context():
        live.flush_counters()
        assert contest_row(live_app, t).phase_ends_at == clock()


@pytest.fixture
def slow_app(live_settings):
    """A host-led round that turned close-early off and asked for per-member shuffling."""
    app = create_app(live_settings)
    with app.app_context():
        branches = make_branches(db.session)
        contest = create_contest(
            db.session, title="无大屏", bank_version=make_bank(db.session), rule=5,
            branches=branches, seed=7, settings={
                "timing": {"close_early": False, "auto_advance": False}, "shuffle_options": True,
            },
        )  # fmt: skip
        from conftest import make_user

        user = make_user(db.session)
        db.session.commit()
        app.config["T"] = {
            "contest_id": contest.id, "pin": contest.pin, "user_id": user.id,
            "branches": [b.id for b in branches],
            "types": [cq.question.type for cq in contest.questions],
        }  # fmt: skip
    yield app
    with app.app_context():
        db.engine.dispose()


def test_close_early_is_a_setting_and_shuffle_tells_phones(slow_app, clock):
    t = slow_app.config["T"]  # noqa: F811
    from conftest import login

    from quiz_server.extensions import socketio

    http = slow_app.test_client()
    login(http, t["user_id"])
    screen = socketio.test_client(slow_app, namespace="/host", flask_test_client=http)
    screen.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)
    a1, joined = phone(slow_app, t, "张三", 0)
    assert joined["snapshot"]["contest"]["shuffle"] is True
    control(screen, t, "start")
    assert answer(a1, 0, right(t, 0))["ok"]
    with slow_app.app_context():
        live.flush_counters()
        assert contest_row(slow_app, t).phase_ends_at == clock() + timedelta(seconds=20)


# ---------------------------------------------------------------- option letters


def test_phones_get_the_screens_letters_for_every_type(live_app, t, host, clock):  # noqa: F811
    a1, joined = phone(live_app, t, "张三", 0)
    assert joined["snapshot"]["contest"]["shuffle"] is False  # host-led default: one order
    control(host, t, "start")
    seen = {}
    for qtype in t["types"]:
        question = phases(a1)[-1]["question"]
        seen[qtype] = [(o["letter"], o["id"]) for o in question["options"]]
        for _ in range(3):
            control(host, t, "next")
    assert seen["single"] == [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
    assert seen["judge"] == [("A", "T"), ("B", "F")]  # 正确 is A, 错误 is B


# ---------------------------------------------------------------- reveal length


@pytest.mark.parametrize(
    ("explanation", "base", "per_char", "cap", "seconds"),
    [
        (None, 8, 0.25, 45, 8.0),
        ("", 8, 0.25, 45, 8.0),
        ("礼" * 40, 8, 0.25, 45, 18.0),  # 40 characters: 10 s of reading
        ("礼 让\n" * 20, 8, 0.25, 45, 18.0),  # spaces and line breaks are not read
        ("礼" * 400, 8, 0.25, 45, 45.0),  # capped
        ("礼" * 40, 8, 0.0, 45, 8.0),  # reading time turned off
        ("礼" * 40, 20, 0.25, 10, 20.0),  # a cap below the base never shortens the base
    ],
)
def test_the_reveal_lasts_long_enough_to_read_the_explanation(
    explanation, base, per_char, cap, seconds
):
    timing = engine.Timing(
        reveal_seconds=base, reveal_seconds_per_char=per_char, reveal_seconds_max=cap
    )
    assert engine.reveal_length(timing, explanation) == seconds
    question = engine.Round(engine.Phase.QUESTION, 0, 3, 1, T0)
    reveal = engine.advance(question, T0, timing, 20, explanation)
    assert reveal.phase_ends_at == T0 + timedelta(seconds=seconds)


def test_the_live_reveal_is_timed_by_its_questions_explanation(live_app, t, host, clock):  # noqa: F811
    with live_app.app_context():
        contest = contest_row(live_app, t)
        contest.settings = {**contest.settings, "timing": {"auto_advance": True}}
        contest.questions[0].question.explanation = "遵" * 60
        db.session.commit()
    control(host, t, "start")
    control(host, t, "next")
    with live_app.app_context():
        assert contest_row(live_app, t).phase_ends_at == clock() + timedelta(seconds=8 + 15)


# ---------------------------------------------------------------- ties


@pytest.mark.parametrize(
    ("ranks", "marks"),
    [
        ([], []),
        ([1, 2, 3], [False, False, False]),
        ([1, 2, 2, 2], [False, True, True, True]),
        ([1, 1, 3, 4, 4], [True, True, False, True, True]),
    ],
)
def test_tied_ranks_are_marked(ranks, marks):
    assert tied(ranks) == marks


def test_the_leaderboard_marks_branches_tied_at_nothing(live_app, t, host, clock):  # noqa: F811
    with live_app.app_context():
        contest = contest_row(live_app, t)
        from quiz_server.models import Unit

        extra = [
            Unit(code=f"X{i}", name=f"第{i + 3}党支部", kind="branch", registered=5, position=i + 2)
            for i in range(2)
        ]
        contest.units.extend(extra)
        db.session.commit()
    a1, _ = phone(live_app, t, "张三", 0)
    others = [phone(live_app, t, f"李{i}", 1)[0] for i in range(2)]
    control(host, t, "start")
    assert answer(a1, 0, right(t, 0))["ok"]
    control(host, t, "next")
    control(host, t, "next")
    board = phases(a1)[-1]["leaderboard"]
    ranked = [(b["rank"], b["tied"]) for b in board["branches"]]
    assert ranked[0] == (1, False)
    assert all(rank == 2 and is_tied for rank, is_tied in ranked[1:])
    members = [(m["rank"], m["tied"]) for m in board["members"]]
    assert members == [(1, False), (2, True), (2, True)]
    own = others[0].emit("standing", {}, namespace="/play", callback=True)
    assert (own["rank"], own["tied"], own["branch"]["rank"], own["branch"]["tied"]) == (
        2,
        True,
        2,
        True,
    )
    leader = a1.emit("standing", {}, namespace="/play", callback=True)
    assert (leader["rank"], leader["tied"], leader["branch"]["tied"]) == (1, False, False)
