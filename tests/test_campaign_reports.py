"""A campaign's report workbook about people and days: the members' sheet, the roster's
已参与 / 待参与 list per branch, and the daily sheet ending today; cell by cell."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from conftest import login, make_user
from test_campaign_views import Phone, answers_of, capp, make_campaign  # noqa: F401  (fixture)

from quiz_server.extensions import db
from quiz_server.models import RosterEntry, Unit


def finish(app, member, right=True):
    attempt = member.start()["attempt"]
    correct = answers_of(app, attempt["id"])
    for item in attempt["items"]:
        ids = [o["id"] for o in item["options"]]
        wrong = [next(i for i in ids if i not in correct[item["position"]])]
        member.answer(
            attempt["id"], item["position"], correct[item["position"]] if right else wrong
        )
    member.call("POST", f"/attempts/{attempt['id']}/submit")


def workbook(app, user_id, contest_id):
    http = app.test_client()
    login(http, user_id)
    response = http.get(f"/admin/contests/{contest_id}/report.xlsx")
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data)), http


def rows_of(sheet):
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_the_members_sheet_lists_counted_results_and_keeps_formulas_as_text(capp, clock):  # noqa: F811
    c = make_campaign(capp, clock)
    good, poor = Phone(capp.test_client(), c["pin"]), Phone(capp.test_client(), c["pin"])
    assert good.join("李四", c["branches"][0])["ok"]
    assert poor.join('=HYPERLINK("x")', c["branches"][1])["ok"]
    finish(capp, good)
    clock.advance(60)
    finish(capp, poor, right=False)
    Phone(capp.test_client(), c["pin"]).join("只加入", c["branches"][0])  # no attempt: not listed
    book, http = workbook(capp, c["user"], c["id"])
    sheet = book["成员成绩"]
    header, *rows = rows_of(sheet)
    assert header == [
        "名次", "姓名", "党员编号", "党支部", "计入成绩（取最高一次）", "计入用时（秒）",
        "完成作答次数", "有满分", "首次参与日期", "最近参与日期",
    ]  # fmt: skip
    today = rows[0][8]
    assert rows == [
        [1, "李四", None, "第1党支部", 40, 0, 1, "是", today, today],
        [2, '=HYPERLINK("x")', None, "第2党支部", 0, 0, 1, "否", today, today],
    ]
    assert sheet["B3"].data_type == "s"  # text, never a live formula
    csv_rows = list(csv.reader(io.StringIO(
        http.get(f"/admin/contests/{c['id']}/report/campaign_members.csv").text.lstrip("\ufeff")
    )))  # fmt: skip
    assert csv_rows[2][1] == '\'=HYPERLINK("x")'
    assert "已参与与待参与名单" not in book.sheetnames  # an open campaign has no roster


@pytest.fixture
def roster_campaign(capp, clock):  # noqa: F811
    c = make_campaign(capp, clock, roster=True)  # 张三 / 007 in the first branch
    with capp.app_context():
        db.session.add_all([
            RosterEntry(unit_id=c["branches"][0], name="赵六", member_no="008"),
            RosterEntry(unit_id=c["branches"][0], name="孙八", member_no="010"),
            RosterEntry(unit_id=c["branches"][1], name="钱七", member_no="009"),
        ])  # fmt: skip
        db.session.commit()
    return c


def test_the_roster_sheet_lists_who_has_and_has_not_taken_part_per_branch(capp, roster_campaign):  # noqa: F811
    c = roster_campaign
    done = Phone(capp.test_client(), c["pin"])
    assert done.join("张三", c["branches"][0], member_no="007")["ok"]
    finish(capp, done)
    joined_only = Phone(capp.test_client(), c["pin"])
    assert joined_only.join("孫八", c["branches"][0], member_no="010")["ok"]  # Traditional form
    book, _ = workbook(capp, c["user"], c["id"])
    header, *rows = rows_of(book["已参与与待参与名单"])
    assert header == ["党支部", "姓名", "党员编号", "已参与/待参与", "完成作答次数", "最近参与日期"]
    day = rows[2][5]
    assert day and rows == [
        ["第1党支部", "赵六", "008", "待参与", 0, None],
        ["第1党支部", "孙八", "010", "待参与", 0, None],  # joined, never finished: still to chase
        ["第1党支部", "张三", "007", "已参与", 1, day],
        ["第2党支部", "钱七", "009", "待参与", 0, None],
    ]
    member_rows = rows_of(book["成员成绩"])[1:]
    assert [r[1:4] for r in member_rows] == [["张三", "007", "第1党支部"]]
    with capp.app_context():
        secretary = make_user(db.session, username="sec", role="secretary")
        secretary.units = [db.session.get(Unit, c["branches"][1])]
        db.session.commit()
        secretary_id = secretary.id
    own, _ = workbook(capp, secretary_id, c["id"])
    assert rows_of(own["已参与与待参与名单"])[1:] == [
        ["第2党支部", "钱七", "009", "待参与", 0, None]
    ]
    assert rows_of(own["成员成绩"])[1:] == []


def test_the_daily_sheet_stops_at_today(capp, clock):  # noqa: F811
    from quiz_server import campaign
    from quiz_server.campaign.attempts import rules_of
    from quiz_server.models import Contest

    c = make_campaign(capp, clock)  # a five-day window that opened an hour ago
    with capp.app_context():
        rules = rules_of(db.session.get(Contest, c["id"]))
    clock.advance(86400)  # the second day
    book, _ = workbook(capp, c["user"], c["id"])
    days = {r[1] for r in rows_of(book["每日参与"])[1:]}
    today = campaign.local_day(rules, clock.now).isoformat()
    assert (
        max(days) == today
        and len(days)
        == (campaign.local_day(rules, clock.now) - campaign.local_day(rules, rules.starts_at)).days
        + 1
    )
    clock.advance(30 * 86400)  # long after the window: every day of it, and no more
    book, _ = workbook(capp, c["user"], c["id"])
    days = {r[1] for r in rows_of(book["每日参与"])[1:]}
    last = campaign.local_day(rules, rules.ends_at - timedelta(seconds=1)).isoformat()
    assert max(days) == last
