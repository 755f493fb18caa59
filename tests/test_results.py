"""Result pages and downloads: organizers see everything, secretaries their own branches only,
and the public standings page shows the tree without a member's name."""

from __future__ import annotations

import io

import openpyxl
from conftest import login, make_user
from flask import url_for
from test_standings import seed_results

from quiz_server.extensions import db
from quiz_server.models import Contest, Unit


def setup(app, role="organizer", unit_codes=()):
    with app.app_context():
        contest = seed_results(db.session)
        user = make_user(db.session, username=role, role=role)
        user.units = list(db.session.query(Unit).filter(Unit.code.in_(unit_codes)))
        db.session.commit()
        return contest.id, contest.pin, user.id


def test_endpoints_have_the_agreed_names_and_urls(app):
    with app.test_request_context():
        assert url_for("results.contest_results", contest_id=3) == "/admin/contests/3/results"
        assert url_for("results.report_xlsx", contest_id=3) == "/admin/contests/3/report.xlsx"
        assert (
            url_for("results.report_csv", contest_id=3, sheet="members")
            == "/admin/contests/3/report/members.csv"
        )
        assert url_for("boards.standings_page", pin="123456") == "/standings/123456"
    views = app.view_functions
    assert views["results.contest_results"].required_roles == ("organizer", "secretary")
    assert views["orgs.index"].required_roles == ("organizer",)


def test_organizer_sees_every_branch_and_downloads_the_workbook(app, client):
    contest_id, _, user_id = setup(app)
    login(client, user_id)
    page = client.get(f"/admin/contests/{contest_id}/results").get_data(as_text=True)
    for name in ("第一支部", "第二支部", "直属支部", "教育局机关党委", "甲二", "薄弱环节"):
        assert name in page
    assert f"/admin/contests/{contest_id}/report.xlsx" in page
    response = client.get(f"/admin/contests/{contest_id}/report.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book["支部排名"].max_row == 4


def test_secretary_sees_and_downloads_only_own_branch(app, client):
    contest_id, _, user_id = setup(app, "secretary", ["B1"])
    login(client, user_id)
    page = client.get(f"/admin/contests/{contest_id}/results").get_data(as_text=True)
    assert "第一支部" in page and "甲一" in page
    assert "直属支部" not in page and "丙一" not in page and "乙一" not in page
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/contests/{contest_id}/report.xlsx").data)
    )
    assert [r[2] for r in book["支部排名"].iter_rows(min_row=2, values_only=True)] == ["第一支部"]
    members = client.get(f"/admin/contests/{contest_id}/report/members.csv").get_data(as_text=True)
    assert "甲一" in members and "丙一" not in members


def test_secretary_of_an_agency_sees_its_branches(app, client):
    contest_id, _, user_id = setup(app, "secretary", ["A"])
    login(client, user_id)
    page = client.get(f"/admin/contests/{contest_id}/results").get_data(as_text=True)
    assert "第一支部" in page and "第二支部" in page and "直属支部" not in page


def test_secretary_without_a_branch_in_the_contest_is_refused(app, client):
    contest_id, _, user_id = setup(app, "secretary", [])
    login(client, user_id)
    assert client.get(f"/admin/contests/{contest_id}/results").status_code == 403
    assert client.get(f"/admin/contests/{contest_id}/report.xlsx").status_code == 403


def test_results_need_a_login(app, client):
    contest_id, _, _ = setup(app)
    response = client.get(f"/admin/contests/{contest_id}/results")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_public_standings_render_the_tree_without_member_names(app, client):
    _, pin, _ = setup(app)
    response = client.get(f"/standings/{pin}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    order = [
        page.index(n)
        for n in ("市直机关工委", "教育局机关党委", "第一支部", "第二支部", "直属支部")
    ]
    assert order == sorted(order)
    assert (
        "人均得分（按注册人数）" in page and "60.00" in page
    )  # 直属支部: 300 points / 5 registered
    assert "甲一" not in page and "丙二" not in page
    assert "standings.js" in page and 'data-refresh="10"' in page
    assert client.get("/standings/999999").status_code == 404


def test_a_secretary_gets_no_answer_key_of_a_contest_still_in_the_lobby(app, client):
    """The question sheet lists every drawn question with its answer in draw order: before
    the contest is over only organizers get it, and they see it labelled 含答案."""
    contest_id, _, user_id = setup(app, "secretary", ["B1"])
    login(client, user_id)
    sheet = client.get(f"/admin/contests/{contest_id}/report/questions.csv")
    assert sheet.status_code == 403
    assert "竞赛结束后才向组织者以外的账号开放" in sheet.get_data(as_text=True)
    assert "B. 乙" not in sheet.get_data(as_text=True)
    page = client.get(f"/admin/contests/{contest_id}/results").get_data(as_text=True)
    assert "薄弱环节" not in page and "B. 乙" not in page and "questions.csv" not in page
    assert "竞赛结束后才向组织者以外的账号开放" in page
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/contests/{contest_id}/report.xlsx").data)
    )
    assert "题目统计" not in book.sheetnames and "支部排名" in book.sheetnames
    with app.app_context():
        db.session.get(Contest, contest_id).phase = "finished"
        db.session.commit()
    after = client.get(f"/admin/contests/{contest_id}/report/questions.csv")
    assert after.status_code == 200 and "B. 乙" in after.get_data(as_text=True)


def test_an_organizer_sees_the_answer_key_labelled_before_the_contest(app, client):
    contest_id, _, user_id = setup(app)
    login(client, user_id)
    page = client.get(f"/admin/contests/{contest_id}/results").get_data(as_text=True)
    assert '薄弱环节：题目统计 <span class="scope-badge">含答案</span>' in page
    assert '题目统计.csv</a> <span class="scope-badge">含答案</span>' in page
    sheet = client.get(f"/admin/contests/{contest_id}/report/questions.csv")
    assert sheet.status_code == 200 and "B. 乙" in sheet.get_data(as_text=True)
