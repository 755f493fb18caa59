"""Unit rankings against hand-computed values on a small tree: the composite, the tie-break
chain, roll-ups to agencies and systems, counting rules, and daily participation rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import make_bank

from quiz_server.campaign import Rules, rankings
from quiz_server.campaign.setup import create_campaign
from quiz_server.charts import participation_chart
from quiz_server.extensions import db
from quiz_server.models import Attempt, Participant, Unit

START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 2026-11-23 00:00 in Shanghai
# branch code → registered, and per member the (score, seconds, day) of each finished attempt
TREE = {
    "B1": (4, [[(100, 50, 0), (80, 40, 1)], [(60, 30, 1)]]),
    "B2": (2, [[(100, 70, 0)]]),
    "B3": (5, [[(40, 10, 0), (50, 10, 0), (70, 10, 1), (20, 10, 2)]]),
}


def build(session, counting="best", ranking=None):
    system = Unit(code="S", name="系统党委", kind="system")
    a1 = Unit(code="A1", name="甲机关党委", kind="agency", parent=system, position=0)
    a2 = Unit(code="A2", name="乙机关党委", kind="agency", parent=system, position=1)
    parents = {"B1": a1, "B2": a1, "B3": a2}
    branches = {
        code: Unit(
            code=code,
            name=f"{code}党支部",
            kind="branch",
            parent=parents[code],
            registered=reg,
            position=i,
        )
        for i, (code, (reg, _)) in enumerate(TREE.items())
    }
    session.add_all([system, a1, a2, *branches.values()])
    rules = Rules(starts_at=START, ends_at=START + timedelta(days=7), counting=counting)
    contest = create_campaign(
        session,
        title="排行",
        bank_version=make_bank(session),
        rule=2,
        branches=list(branches.values()),
        rules=rules,
        ranking=ranking,
        seed=1,
    )
    for code, (_, members) in TREE.items():
        for m, results in enumerate(members):
            p = Participant(
                contest_id=contest.id,
                unit_id=branches[code].id,
                name=f"{code}-{m}",
                token=f"t{code}{m}",
                seed=1,
            )
            session.add(p)
            session.flush()
            for n, (score, seconds, day) in enumerate(results):
                began = START + timedelta(days=day, hours=2 + n)
                session.add(
                    Attempt(
                        contest_id=contest.id,
                        participant_id=p.id,
                        number=n + 1,
                        local_day=(began + timedelta(hours=8)).date().isoformat(),
                        draw_seed=1,
                        shuffle_seed=1,
                        started_at=began,
                        deadline=began + timedelta(minutes=10),
                        finished_at=began + timedelta(seconds=seconds),
                        score=score,
                        full_mark=100,
                        time_ms=seconds * 1000,
                    )
                )
    session.flush()
    rankings.rebuild_scores(session, contest)
    return contest


def by_unit(rows):
    return {r.name: r for r in rows}


def test_branch_metrics_and_the_default_composite(app):
    with app.app_context():
        contest = build(db.session)
        rows = rankings.unit_rows(db.session, contest, "branch")
        assert [(r.name, r.rank) for r in rows] == [
            ("B1党支部", 1),
            ("B3党支部", 2),
            ("B2党支部", 3),
        ]
        b = by_unit(rows)
        # B1: 2 of 4 took part; best results 100 and 60; 3 attempts; one full mark.
        assert b["B1党支部"].value("participation_rate") == 0.5
        assert b["B1党支部"].value("avg_registered") == 40
        assert b["B1党支部"].value("avg_participants") == 80
        assert b["B1党支部"].value("full_mark_rate") == 0.5
        assert b["B1党支部"].value("attempts_per_member") == 1.5
        # 0.7 × rate + 0.3 × attempts per member ÷ the level's top (B3: 4.0)
        assert b["B1党支部"].metric == pytest.approx(0.7 * 0.5 + 0.3 * 1.5 / 4)
        assert b["B3党支部"].metric == pytest.approx(0.7 * 0.2 + 0.3 * 1.0)
        assert b["B2党支部"].metric == pytest.approx(0.7 * 0.5 + 0.3 * 1.0 / 4)


def test_agencies_and_the_system_roll_up_sums_not_averages(app):
    with app.app_context():
        contest = build(db.session)
        agencies = rankings.unit_rows(db.session, contest, "agency")
        assert [
            (r.name, r.participants, r.registered, r.attempts, r.full_marks) for r in agencies
        ] == [
            ("甲机关党委", 3, 6, 4, 2),
            ("乙机关党委", 1, 5, 4, 0),
        ]
        assert agencies[0].metric == pytest.approx(0.7 * 0.5 + 0.3 * (4 / 3) / 4)
        (system,) = rankings.unit_rows(db.session, contest, "system")
        assert (system.participants, system.registered, system.score) == (4, 11, 330)
        assert system.value("participation_rate") == pytest.approx(4 / 11)


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (
            ["full_marks", "attempts_per_member"],
            [("B1党支部", 1), ("B2党支部", 2), ("B3党支部", 3)],
        ),
        (["full_mark_rate"], [("B2党支部", 1), ("B1党支部", 2), ("B3党支部", 3)]),
        ([], [("B1党支部", 1), ("B2党支部", 1), ("B3党支部", 3)]),  # a true tie shares the place
    ],
)
def test_the_tie_break_chain_decides_equal_participation(app, chain, expected):
    with app.app_context():
        contest = build(db.session, ranking={"metric": "participation_rate", "tie_break": chain})
        rows = rankings.unit_rows(db.session, contest, "branch")
        assert [(r.name, r.rank) for r in rows] == expected


def test_counting_rule_sum_adds_every_attempt(app):
    with app.app_context():
        contest = build(db.session, counting="sum")
        b = by_unit(rankings.unit_rows(db.session, contest, "branch"))
        assert b["B1党支部"].score == 240
        assert b["B3党支部"].value("avg_participants") == 180


def test_member_ranks_count_the_best_attempt_and_break_ties_by_time(app):
    with app.app_context():
        contest = build(db.session)
        results = rankings.member_results(db.session, contest)
        assert [(r.name, r.score, r.time_ms) for r in results[:2]] == [
            ("B1-0", 100, 50_000),
            ("B2-0", 100, 70_000),
        ]
        assert rankings.member_rank(db.session, contest, results[1].participant_id) == (2, 4)


def test_notes_print_the_formula_and_the_chain(app):
    with app.app_context():
        contest = build(db.session)
        config = rankings.ranking_config(contest)
        assert (
            rankings.metric_note(config) == "综合得分 = 0.7 × 参与率 + 0.3 × 人均作答次数（归一化）"
        )
        assert (
            rankings.tie_break_note(config)
            == "并列时依次比较：参与率 → 满分人数 → 人均作答次数（均为高者在前）"
        )


def test_report_rows_for_the_workbook(app):
    with app.app_context():
        contest = build(db.session)
        rows = rankings.campaign_unit_rows(db.session, contest, "branch")
        assert rows[0] | {} == rows[0] and rows[0]["unit"] == "B1党支部"
        assert (
            rows[0]["participation_rate"],
            rows[0]["avg_registered"],
            rows[0]["full_mark_rate"],
            rows[0]["attempts"],
        ) == (
            0.5,
            40.0,
            0.5,
            3,
        )
        daily = rankings.daily_participation_rows(
            db.session, contest, START + timedelta(days=2, hours=5)
        )
        b1 = [
            (r["day"], r["participants"], r["cumulative"], r["cumulative_rate"])
            for r in daily
            if r["unit"] == "B1党支部"
        ]
        assert b1 == [
            ("2026-11-23", 1, 1, 0.25),
            ("2026-11-24", 2, 2, 0.5),
            ("2026-11-25", 0, 2, 0.5),
        ]
        system = [r for r in daily if r["kind"] == "system"]
        assert [(r["participants"], r["cumulative"]) for r in system] == [(3, 3), (3, 4), (1, 4)]


def test_chart_escapes_unit_names():
    svg = participation_chart('<b>"支部"</b>', ["2026-11-23"], [3], [0.5])
    assert "<b>" not in svg and "&lt;b&gt;" in svg and svg.startswith("<svg")
