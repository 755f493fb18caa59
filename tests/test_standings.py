"""Fair standings: member and branch ranks, roll-ups to agency and system, metric choice, ties.

The figures below are worked out by hand from `seed_results` (see its docstring)."""

from __future__ import annotations

import pytest
from conftest import make_bank
from pytest import approx

from quiz_server import standings
from quiz_server.contests import create_contest
from quiz_server.draw import DrawRule
from quiz_server.extensions import db
from quiz_server.models import Answer, Participant, Unit
from quiz_server.standings import BranchRow

# name, branch code, [(position, correct, points, elapsed_ms, choice)]
ANSWERS = [
    ("甲一", "B1", [(0, True, 100, 1000, "B"), (1, True, 100, 1000, "B")]),
    ("甲二", "B1", [(0, True, 100, 3000, "B"), (1, False, 0, 500, "C")]),
    ("乙一", "B2", [(0, True, 100, 2000, "B"), (1, True, 100, 2000, "B")]),
    ("丙一", "C", [(0, True, 150, 1000, "B"), (1, False, 0, 800, "A")]),
    ("丙二", "C", [(0, True, 150, 2000, "B")]),
]


def seed_results(session, metric: str = "avg_registered"):
    """System S ← agency A ← branches B1 (10 registered) and B2 (4); branch C (5) directly under S.

    B1: 2 of 10 joined, 300 points, 3 of 4 right, 5 s on right answers.
    B2: 1 of 4, 200 points, 2 of 2 right, 4 s.   C: 2 of 5, 300 points, 2 of 3 right, 3 s.
    """
    system = Unit(code="S", name="市直机关工委", kind="system", position=0)
    agency = Unit(code="A", name="教育局机关党委", kind="agency", parent=system, position=0)
    b1 = Unit(code="B1", name="第一支部", kind="branch", parent=agency, registered=10, position=0)
    b2 = Unit(code="B2", name="第二支部", kind="branch", parent=agency, registered=4, position=1)
    c = Unit(code="C", name="直属支部", kind="branch", parent=system, registered=5, position=1)
    session.add_all([system, agency, b1, b2, c])
    version = make_bank(session)
    contest = create_contest(
        session,
        title="测试竞赛",
        bank_version=version,
        rule=DrawRule(count=2, type={"single": 2}),
        branches=[b1, b2, c],
        settings={"ranking_metric": metric},
        seed=1,
    )
    units = {"B1": b1, "B2": b2, "C": c}
    for index, (name, code, answers) in enumerate(ANSWERS):
        p = Participant(
            contest_id=contest.id,
            unit_id=units[code].id,
            name=name,
            token=f"tok-{index:04d}",
            seed=index,
        )
        session.add(p)
        session.flush()
        for position, correct, points, elapsed, choice in answers:
            cq = contest.questions[position]
            session.add(
                Answer(
                    contest_id=contest.id,
                    participant_id=p.id,
                    contest_question_id=cq.id,
                    choice=choice,
                    correct=correct,
                    points=points,
                    potential_points=points or 100,
                    elapsed_ms=elapsed,
                )
            )
    session.commit()
    return contest


def test_members_rank_by_points_then_time_on_right_answers(app):
    with app.app_context():
        contest = seed_results(db.session)
        rows = standings.members(db.session, contest.id)
    assert [(m.rank, m.name, m.score, m.time_ms) for m in rows] == [
        (1, "甲一", 200, 2000),
        (2, "乙一", 200, 4000),
        (3, "丙一", 150, 1000),
        (4, "丙二", 150, 2000),
        (5, "甲二", 100, 3000),
    ]


def test_rollup_arithmetic_matches_hand_computed_values(app):
    with app.app_context():
        table = standings.rolled_up(db.session, seed_results(db.session))
    by_name = {r.name: r for r in (*table.branches, *table.agencies, *table.systems)}
    b1, agency, system = by_name["第一支部"], by_name["教育局机关党委"], by_name["市直机关工委"]
    assert (b1.participants, b1.registered, b1.score, b1.correct, b1.answered) == (2, 10, 300, 3, 4)
    assert (b1.avg_registered, b1.avg_participants, b1.participation_rate, b1.accuracy) == (
        30,
        150,
        0.2,
        0.75,
    )
    # Agency = B1 + B2: 3 of 14 joined, 500 points, 5 of 6 right; ratios from the sums.
    assert (
        agency.participants,
        agency.registered,
        agency.score,
        agency.correct,
        agency.answered,
    ) == (3, 14, 500, 5, 6)
    assert agency.avg_registered == approx(500 / 14)
    assert agency.avg_participants == approx(500 / 3)
    assert agency.participation_rate == approx(3 / 14)
    assert agency.accuracy == approx(5 / 6)
    assert agency.avg_time_ms == approx(9000 / 5)
    # System = every branch: 5 of 19, 800 points, 7 of 9 right.
    assert (
        system.participants,
        system.registered,
        system.score,
        system.correct,
        system.answered,
    ) == (5, 19, 800, 7, 9)
    assert system.avg_registered == approx(800 / 19)
    assert [r.name for r in table.agencies] == ["教育局机关党委"] and [
        r.name for r in table.systems
    ] == ["市直机关工委"]
    # The tree outline nests the direct branch under the system, after the agency's branches.
    assert [(d, r.name) for d, r in table.outline()] == [
        (0, "市直机关工委"),
        (1, "教育局机关党委"),
        (2, "第一支部"),
        (2, "第二支部"),
        (1, "直属支部"),
    ]


@pytest.mark.parametrize(
    ("metric", "order"),
    [
        ("avg_registered", ["直属支部", "第二支部", "第一支部"]),  # 60, 50, 30
        (
            "avg_participants",
            ["第二支部", "第一支部", "直属支部"],
        ),  # 200, 150 = 150: accuracy 75 % beats 67 %
        ("total", ["第一支部", "直属支部", "第二支部"]),  # 300 = 300: accuracy decides, then 200
        ("participation_rate", ["直属支部", "第二支部", "第一支部"]),  # 40 %, 25 %, 20 %
        ("accuracy", ["第二支部", "第一支部", "直属支部"]),
    ],
)
def test_each_contest_chooses_its_metric(app, metric, order):
    with app.app_context():
        contest = seed_results(db.session, metric)
        rows = standings.branches(db.session, contest)
    assert [r.name for r in rows] == order
    assert [r.rank for r in rows] == [1, 2, 3]


def row(unit_id, score, correct, answered, time_ms, participants=1, registered=1):
    return BranchRow(
        0, unit_id, f"支部{unit_id}", participants, registered, score, correct, answered, time_ms
    )


def test_ties_break_on_accuracy_then_time_and_full_ties_share_a_rank():
    rows = [
        row(1, 100, 1, 2, 1000),  # same points, lower accuracy
        row(2, 100, 2, 2, 6000),  # right both, slower
        row(3, 100, 2, 2, 3000),  # right both, faster
        row(4, 100, 2, 2, 3000),  # identical to 3: shares its rank
        row(5, 120, 0, 0, 0),
    ]
    ranked = standings._rank_branches(rows, "total")
    assert [(r.rank, r.unit_id) for r in ranked] == [(1, 5), (2, 3), (2, 4), (4, 2), (5, 1)]


def test_tie_break_rules_are_stated_on_the_standings_page(client, app):
    with app.app_context():
        pin = seed_results(db.session).pin
    page = client.get(f"/standings/{pin}").get_data(as_text=True)
    assert standings.TIE_BREAK_NOTE in page
    assert "人均得分（按注册人数）" in page


def test_participation_never_exceeds_full_and_is_flagged_on_the_results_page(app):
    from conftest import login, make_user

    with app.app_context():
        contest = seed_results(db.session)
        b2 = db.session.query(Unit).filter_by(code="B2").one()
        for n in range(6):  # 7 seats for a branch of 4
            db.session.add(
                Participant(
                    contest_id=contest.id, unit_id=b2.id, name=f"多{n}", token=f"x{n:06d}", seed=n
                )
            )
        user = make_user(db.session)
        db.session.commit()
        row = next(r for r in standings.branches(db.session, contest) if r.unit_id == b2.id)
        assert (row.participants, row.participation_rate, row.over_registered) == (7, 1.0, True)
        assert row.avg_registered == approx(200 / 7)  # never divided by fewer than took part
        agency = standings.rolled_up(db.session, contest).agencies[0]
        assert agency.participation_rate == approx(6 / 14)  # B1's 2 + B2's 4, not its 7
        contest_id, user_id = contest.id, user.id
    client = app.test_client()
    login(client, user_id)
    page = client.get(f"/admin/contests/{contest_id}/results").get_data(as_text=True)
    assert "参赛人数超过注册人数（参与率按 100% 计" in page and "第二支部" in page
