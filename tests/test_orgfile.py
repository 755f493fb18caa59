"""Importing the org file: the shipped samples, bad rows, re-import, CLI and upload page."""

from __future__ import annotations

import io

import openpyxl
from click.testing import CliRunner
from conftest import ROOT, login, make_user
from sqlalchemy import select
from test_standings import seed_results

from quiz_server import standings
from quiz_server.cli import main
from quiz_server.extensions import db
from quiz_server.models import RosterEntry
from quiz_server.orgs import Tree
from quiz_server.orgs import file as orgfile

HEAD = "单位编码,单位名称,层级,上级编码,注册党员数\n"
SAMPLE_XLSX = ROOT / "samples" / "orgs-template.xlsx"
SAMPLE_CSV = ROOT / "samples" / "orgs-template.csv"


def run_import(app, name, data):
    with app.app_context():
        summary, errors = orgfile.import_file(db.session, name, data)
        db.session.commit()
        return summary, [str(e) for e in errors]


def units(app):
    with app.app_context():
        tree = Tree.load(db.session)
        return [(d, u.code, u.kind, u.registered) for d, u in tree.depth_first()]


def test_shipped_xlsx_sample_imports_tree_and_roster(app):
    summary, errors = run_import(app, "orgs-template.xlsx", SAMPLE_XLSX.read_bytes())
    assert errors == [] and (summary.created, summary.roster_added) == (8, 3)
    assert units(app) == [
        (0, "S01", "system", 0),
        (1, "A01", "agency", 0),
        (2, "A01-B01", "branch", 12),
        (2, "A01-B02", "branch", 18),
        (1, "A02", "agency", 0),
        (2, "A02-B01", "branch", 15),
        (2, "A02-B02", "branch", 11),
        (1, "S01-B01", "branch", 8),
    ]
    with app.app_context():
        names = db.session.scalars(select(RosterEntry.name).order_by(RosterEntry.member_no)).all()
    assert names == ["张伟", "李娜", "王芳"]


def test_shipped_csv_sample_and_a_gb18030_csv_import(app):
    _, errors = run_import(app, "orgs-template.csv", SAMPLE_CSV.read_bytes())
    assert errors == [] and len(units(app)) == 8
    roster = (ROOT / "samples" / "roster-template.csv").read_bytes()
    summary, errors = run_import(app, "roster-template.csv", roster)
    assert errors == [] and (summary.created, summary.roster_added) == (0, 3)
    text = HEAD + "S01-B02,新建党支部,党支部,S01,7\n"
    summary, errors = run_import(app, "wps.csv", text.encode("gb18030"))
    assert errors == [] and summary.created == 1
    assert (1, "S01-B02", "branch", 7) in units(app)


def test_bad_rows_are_all_reported_with_row_and_column_and_nothing_is_stored(app):
    text = HEAD + (
        "S,系统,系统党委,,\n"
        "B1,,党支部,S,abc\n"  # row 3: no name, bad head-count
        "B1,支部,小组,X,3\n"  # row 4: duplicate code, unknown kind, missing parent
        "B2,支部二,党支部,B3,\n"  # row 5: no head-count; parent is a branch
        "B3,支部三,党支部,S,4\n"
    )
    summary, errors = run_import(app, "bad.csv", text.encode())
    assert summary is None
    assert errors == [
        "bad.csv 第 3 行，B 列（单位名称）：单位名称不能为空",
        "bad.csv 第 3 行，E 列（注册党员数）：注册党员数“abc”应为不小于 0 的整数",
        "bad.csv 第 4 行，A 列（单位编码）：单位编码“B1”与第 3 行重复",
        "bad.csv 第 4 行，C 列（层级）：层级“小组”无效，应为 系统党委、机关党委、党总支 或 党支部",
        "bad.csv 第 4 行，D 列（上级编码）：上级编码“X”不存在",
        "bad.csv 第 5 行，E 列（注册党员数）：党支部必须填写注册党员数",
        "bad.csv 第 5 行，D 列（上级编码）：上级“B3”是党支部，党支部下不能再有单位",
    ]
    assert units(app) == []


def test_xlsx_errors_name_the_sheet_and_missing_columns(app):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "组织架构"
    ws.append(["单位编码", "单位名称", "层级"])  # no parent or head-count column
    ws.append(["S", "系统", "系统党委"])
    roster = book.create_sheet("党员名单")
    roster.append(["支部编码", "姓名", "党员编号"])
    roster.append(["NOPE", "张三", "01"])
    buffer = io.BytesIO()
    book.save(buffer)
    _, errors = run_import(app, "org.xlsx", buffer.getvalue())
    assert "org.xlsx「组织架构」 第 1 行：缺少“上级编码”列" in errors
    assert (
        "org.xlsx「党员名单」 第 2 行，A 列（支部编码）：支部编码“NOPE”不是已知的党支部" in errors
    )
    assert run_import(app, "org.xlsx", b"not a zip")[1] == [
        "org.xlsx 第 1 行：不是有效的 xlsx 工作簿（请用 Excel/WPS 另存为 .xlsx）"
    ]


def test_reimport_updates_by_code_and_keeps_results(app):
    with app.app_context():
        contest = seed_results(db.session)
        contest_id, before = contest.id, standings.branches(db.session, contest)
    rows = [
        "S,市直机关工委,系统党委,,",
        "A,教育局机关党委,机关党委,S,",
        "B1,第一支部（更名）,党支部,A,20",
    ]
    text = HEAD + "\n".join(rows) + "\n"
    summary, errors = run_import(app, "again.csv", text.encode())
    assert errors == [] and (summary.created, summary.updated) == (0, 3)
    with app.app_context():
        from quiz_server.models import Contest

        after = {
            r.name: r for r in standings.branches(db.session, db.session.get(Contest, contest_id))
        }
    renamed = after["第一支部（更名）"]
    old = next(r for r in before if r.name == "第一支部")
    assert (renamed.unit_id, renamed.score, renamed.participants) == (old.unit_id, 300, 2)
    assert renamed.registered == 20 and renamed.avg_registered == 15  # the new head-count counts


def test_cli_imports_and_fails_with_status_1(app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEAD + "X,,党支部,,\n", encoding="utf-8")
    with app.app_context():
        runner = CliRunner()
        good = runner.invoke(main, ["orgs", "import", str(SAMPLE_XLSX)])
        failed = runner.invoke(main, ["orgs", "import", str(bad)])
    assert good.exit_code == 0 and "新增单位 8 个" in good.output
    assert failed.exit_code == 1 and "第 2 行，B 列（单位名称）" in failed.output


def test_upload_page_shows_errors_stores_nothing_then_imports(app, client):
    with app.app_context():
        user_id = make_user(db.session).id
        db.session.commit()
    login(client, user_id)
    page = client.get("/admin/orgs/")
    assert page.status_code == 200 and "还没有组织架构" in page.get_data(as_text=True)
    token = (
        page.get_data(as_text=True)
        .split('name="csrf_token" type="hidden" value="')[1]
        .split('"')[0]
    )
    bad = client.post(
        "/admin/orgs/",
        data={
            "csrf_token": token,
            "file": (io.BytesIO((HEAD + "X,,党支部,,\n").encode()), "bad.csv"),
        },
    )
    text = bad.get_data(as_text=True)
    assert "未导入任何内容" in text and "单位名称不能为空" in text and "B 列（单位名称）" in text
    assert units(app) == []
    good = client.post(
        "/admin/orgs/",
        data={"csrf_token": token, "file": (io.BytesIO(SAMPLE_XLSX.read_bytes()), "org.xlsx")},
        follow_redirects=True,
    )
    text = good.get_data(as_text=True)
    assert "导入成功" in text and "工委直属党支部" in text
    assert ">64<" in text  # the system's head-count: 12 + 18 + 15 + 11 + 8
    assert client.get("/admin/orgs/template.xlsx").status_code == 200


def test_upload_page_is_for_organizers_only(app, client):
    with app.app_context():
        user_id = make_user(db.session, "sec", role="secretary").id
        db.session.commit()
    login(client, user_id)
    assert client.get("/admin/orgs/").status_code == 403


def test_reimport_cannot_loop_the_tree_or_turn_a_parent_into_a_branch(app):
    run_import(app, "orgs.csv", SAMPLE_CSV.read_bytes())
    # S01 under one of its own agencies (stored, not in this file): a loop would hang roll-ups.
    _, errors = run_import(app, "loop.csv", (HEAD + "S01,市直机关工委,系统党委,A01,\n").encode())
    assert errors == ["loop.csv 第 2 行，D 列（上级编码）：上级关系形成了循环"]
    _, errors = run_import(app, "kind.csv", (HEAD + "A01,市教育局机关党委,党支部,S01,5\n").encode())
    assert errors == ["kind.csv 第 2 行，C 列（层级）：该单位下还有下级单位，不能设为党支部"]
    assert (1, "A01", "agency", 0) in units(app)


def test_a_utf16_csv_imports_comma_or_tab_separated(app):
    text = SAMPLE_CSV.read_text(encoding="utf-8-sig")
    _, errors = run_import(app, "utf16.csv", text.encode("utf-16"))
    assert errors == [] and len(units(app)) == 8
    # Excel's "Unicode text" is UTF-16 with tabs between the cells.
    summary, errors = run_import(app, "unicode.csv", text.replace(",", "\t").encode("utf-16"))
    assert errors == [] and summary.updated == 8


def test_a_csv_with_bare_cr_line_ends_imports(app):
    text = SAMPLE_CSV.read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\n", "\r")
    summary, errors = run_import(app, "mac.csv", text.encode())
    assert errors == [] and summary.created == 8


def test_a_field_over_the_csv_limit_is_a_located_error(app):
    data = (HEAD + "A,机关,机关党委,,\nB," + "长" * 140_000 + ",党支部,A,3\n").encode()
    summary, errors = run_import(app, "long.csv", data)
    assert summary is None and units(app) == []
    assert errors == [
        "long.csv 第 3 行：单元格内容过长（超过 131072 个字符），请检查是否缺少引号或粘贴了整段内容"
    ]
