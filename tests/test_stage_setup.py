"""Creating stage contests: programmes from a file, the draw, and clear errors for bad input."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, make_bank, make_branches
from sqlalchemy import func, select

from quiz_server import create_app
from quiz_server.cli import main
from quiz_server.contests import ContestError
from quiz_server.extensions import db
from quiz_server.models import Contest, StageRound, StageTeam
from quiz_server.stage.setup import create_stage


@pytest.fixture
def setup_app(live_settings):
    app = create_app(live_settings)
    with app.app_context():
        make_bank(db.session, n_single=12)
        make_branches(db.session, sizes=(5, 5, 5, 5))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def programme(**changes):
    base = {
        "title": "决赛", "bank": "t-bank",
        "teams": [{"branch": f"B{i}", "members": ["甲", {"name": "乙", "seat": 3}]} for i in range(4)],
        "rounds": [{"type": "required", "questions": 4}, {"type": "buzz", "questions": ["q0", "q1"]},
                   {"type": "speed", "questions": 5}],
    }  # fmt: skip
    return {**base, **changes}


def test_rounds_draw_distinct_questions_and_teams_get_pins(setup_app):
    with setup_app.app_context():
        contest = create_stage(db.session, programme(), seed=1)
        db.session.commit()
        rounds = db.session.scalars(select(StageRound).order_by(StageRound.position)).all()
        teams = db.session.scalars(select(StageTeam).order_by(StageTeam.position)).all()
        ids = [q for r in rounds for q in r.question_ids]
        assert len(ids) == len(set(ids)) == 11
        assert [r.slots for r in rounds] == [4, 2, 4]  # a speed round: one turn per team
        assert rounds[1].settings.get("wrong") is None  # stored as given; −10 is the default
        assert len({t.pin for t in teams}) == 4 and all(len(t.token) > 20 for t in teams)
        assert teams[0].members == [{"name": "甲", "seat": 1}, {"name": "乙", "seat": 3}]
        assert contest.mode == "stage"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bank": "nope"}, "没有找到题库"),
        ({"teams": [{"branch": "B0"}]}, "2 至 12 支队伍"),
        ({"teams": [{"branch": "B0"}, {"branch": "B0"}]}, "同一个党支部"),
        ({"teams": [{"branch": "AG"}, {"branch": "B0"}]}, "没有找到党支部"),
        ({"rounds": [{"type": "quiz", "questions": 2}]}, "type 必须是"),
        ({"rounds": [{"type": "buzz", "questions": 2, "points": 5}]}, "不认识的设置"),
        ({"rounds": [{"type": "buzz", "questions": ["q0", "zz"]}]}, "zz"),
        ({"rounds": [{"type": "buzz", "questions": 99}]}, None),
        ({"title": ""}, "title"),
    ],
)
def test_bad_programmes_are_refused_with_a_reason(setup_app, changes, message):
    with setup_app.app_context():
        with pytest.raises(ContestError, match=message):
            create_stage(db.session, programme(**changes))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Contest)) == 0


def test_cli_creates_from_the_sample_programme_shape(setup_app, tmp_path):
    sample = yaml.safe_load((ROOT / "samples" / "stage-programme.yaml").read_text("utf-8"))
    assert {r["type"] for r in sample["rounds"]} == {"required", "buzz", "risk", "speed"}
    path = tmp_path / "programme.yaml"
    path.write_text(yaml.safe_dump({**programme(), "audience": True}, allow_unicode=True), "utf-8")
    with setup_app.app_context():
        result = CliRunner().invoke(main, ["contests", "create-stage", str(path), "--seed", "2"])
        assert result.exit_code == 0, result.output
        assert "team PIN" in result.output and "audience" in result.output
        bad = tmp_path / "bad.yaml"
        bad.write_text("title: x\nbank: nope\nteams: []\nrounds: []\n", "utf-8")
        result = CliRunner().invoke(main, ["contests", "create-stage", str(bad)])
        assert result.exit_code != 0 and "没有找到题库" in result.output


def test_console_form_creates_or_explains(setup_app):
    from conftest import login, make_user

    with setup_app.app_context():
        user = make_user(db.session)
        db.session.commit()
        user_id = user.id
    http = setup_app.test_client()
    assert http.get("/stage/new").status_code in (302, 401)
    login(http, user_id)
    page = http.get("/stage/new")
    assert page.status_code == 200 and "civility-etiquette" in page.text  # the sample, to edit
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    assert http.post("/stage/new", data={"programme": "x"}).status_code == 400  # no CSRF token
    bad = http.post(
        "/stage/new",
        data={"csrf_token": token, "programme": "title: x\nbank: nope\nteams: []\nrounds: []"},
    )
    assert bad.status_code == 200 and "没有找到题库" in bad.text
    text = yaml.safe_dump(programme(), allow_unicode=True)
    made = http.post("/stage/new", data={"csrf_token": token, "programme": text})
    assert made.status_code == 302 and "/stage/referee/" in made.headers["Location"]
    assert http.get(made.headers["Location"]).status_code == 200
