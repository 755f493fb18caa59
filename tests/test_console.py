# ruff: noqa: F811  # `console` is the fixture imported from test_admin
"""The console does what it shows: scheduled starts, the campaign form's own fields, the QR code
and A4 poster, Chinese labels, editing/archiving/deleting contests with an audit log, the
`contests create` command, and the notes of a cleaned bank upload."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_bank
from sqlalchemy import select
from test_admin import as_user, console, contest_id_of, create, token, upload  # noqa: F401
from test_live import live_app, t  # noqa: F401  (fixtures)
from test_live_control import host  # noqa: F401  (fixture)
from test_pages import browser_page

from quiz_server import cli, reports
from quiz_server.extensions import db
from quiz_server.live.rounds import start_due_contests
from quiz_server.models import AuditEntry, Contest, Participant

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def post(client, path, referer, **data):
    return client.post(path, data={"csrf_token": token(client, referer), **data})


def audit_actions(app, contest_id=None):
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if contest_id is not None:
            query = query.where(AuditEntry.contest_id == contest_id)
        return [(e.action, e.username) for e in db.session.scalars(query)]


# ---------------------------------------------------------------- 6. scheduled start


@pytest.fixture
def timed(live_settings, app, clock, console):
    """The console on a fake clock (tests call the watcher's step themselves)."""
    return console


def test_a_scheduled_contest_starts_at_its_time_once_and_says_when(app, client, timed, clock):
    as_user(client, timed["org"])
    cid = contest_id_of(create(client, timed))
    with app.app_context():
        db.session.get(Contest, cid).scheduled_at = clock.now + timedelta(minutes=2)
        db.session.commit()
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert "将于 2026-11-23 16:02（北京时间）自动开始" in page
    with app.app_context():
        assert start_due_contests() == []
    clock.advance(121)
    with app.app_context():
        assert start_due_contests() == [cid]
        assert start_due_contests() == []  # a second watcher finds it started: no double start
        contest = db.session.get(Contest, cid)
        assert (contest.phase, contest.position) == ("question", 0)
    assert ("contest.start", "系统") in audit_actions(app, cid)


def test_a_schedule_missed_by_more_than_an_hour_waits_for_the_host(app, client, timed, clock):
    as_user(client, timed["org"])
    cid = contest_id_of(create(client, timed))
    with app.app_context():
        db.session.get(Contest, cid).scheduled_at = clock.now - timedelta(hours=2)
        db.session.commit()
        assert start_due_contests() == []
        assert db.session.get(Contest, cid).phase == "lobby"
    assert "已过时未自动开始" in client.get(f"/admin/contests/{cid}").get_data(as_text=True)


# ---------------------------------------------------------------- 7. the campaign form


CAMPAIGN = {
    "mode": "campaign", "campaign_start": "2026-12-01", "campaign_days": "14", "per_day": "2",
    "attempt_minutes": "8", "counting": "best", "review": "immediate",
}  # fmt: skip


def test_the_campaign_form_stores_ranking_time_mode_and_fair_play_limits(app, client, console):
    as_user(client, console["org"])
    fields = {
        **CAMPAIGN, "campaign_metric": "participation_rate", "weight-participation_rate": "",
        "tie_break_1": "full_marks", "tie_break_2": "attempts_per_member", "tie_break_3": "",
        "time_mode": "question", "campaign_question_seconds": "40", "fast_ms": "900",
        "hidden_limit": "3", "total": "20",
    }  # fmt: skip
    cid = contest_id_of(create(client, console, **fields))
    with app.app_context():
        settings = db.session.get(Contest, cid).settings
    rules, ranking = settings["campaign"], settings["rankings"]
    assert ranking["metric"] == "participation_rate"
    assert ranking["tie_break"] == ["full_marks", "attempts_per_member"]
    assert (rules["time_mode"], rules["question_seconds"], rules["fast_answer_ms"]) == (
        "question", 40, 900,
    )  # fmt: skip
    assert (rules["hidden_limit"], rules["total"], rules["per_day"]) == (3, 20, 2)
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert "排名指标：参与率" in page and "每题 40 秒" in page


def test_composite_weights_are_read_and_checked(app, client, console):
    as_user(client, console["org"])
    fields = {**CAMPAIGN, "campaign_metric": "composite", "weight-participation_rate": "0.5",
              "weight-full_mark_rate": "0.5", "weight-attempts_per_member": ""}  # fmt: skip
    cid = contest_id_of(create(client, console, **fields))
    with app.app_context():
        weights = db.session.get(Contest, cid).settings["rankings"]["weights"]
    assert weights == {"participation_rate": 0.5, "full_mark_rate": 0.5}
    bad = create(client, console, **{**fields, "weight-full_mark_rate": "x"})
    assert bad.status_code == 422 and "“满分率”的权重须在 0–10 之间" in bad.get_data(as_text=True)


def test_each_mode_has_its_own_labelled_section_and_reloads_keep_the_timing(client, console):
    as_user(client, console["org"])
    page = client.get(
        f"/admin/contests/new?bank_version={console['version']}&question_seconds=30"
        "&reloaded=1&mode=live&ranking_metric=total"
    ).get_data(as_text=True)
    assert 'data-mode-section="live"' in page and "现场赛设置" in page and "仅现场赛使用" in page
    assert 'data-mode-section="campaign"' in page and "仅网络竞答使用" in page
    assert re.search(r'name="question_seconds"[^>]*value="30"', page)
    assert not re.search(r'name="auto_advance" value="1" checked', page)  # left unticked stays so


# ---------------------------------------------------------------- 8. QR code and poster


def test_the_contest_page_has_a_qr_code_a_png_and_an_a4_poster(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console, title="文明礼仪<b>知识</b>竞答"))
    with app.app_context():
        pin = db.session.get(Contest, cid).pin
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and f"/j/{pin}" in page
    title = page[page.index("<title>") : page.index("</title>")]
    assert "<section" not in title and "&lt;b&gt;" in title  # plain, escaped text
    png = client.get(f"/admin/contests/{cid}/qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    poster = client.get(f"/admin/contests/{cid}/poster").get_data(as_text=True)
    assert pin in poster and "&lt;b&gt;知识&lt;/b&gt;" in poster and "<svg" in poster
    assert "扫一扫" in poster and "poster.css" in poster
    css = client.get("/static/css/poster.css").get_data(as_text=True)
    assert "@page { size: A4" in css


@pytest.mark.browser
def test_contest_page_and_poster_print_preview_in_the_browser(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console, scheduled_at="2030-05-04T09:30"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page(client, 1366, 768) as page:
        page.goto(f"http://quiz.test/admin/contests/{cid}")
        assert page.locator(".qr-box svg").is_visible()
        page.screenshot(path=str(SHOTS / "console-contest-1366.png"), full_page=True)
        page.goto("http://quiz.test/admin/audit")
        assert page.locator("#audit td", has_text="创建竞赛").count() == 1
        page.screenshot(path=str(SHOTS / "console-audit-1366.png"))
        page.goto(f"http://quiz.test/admin/contests/{cid}/poster")
        page.emulate_media(media="print")
        assert not page.locator(".poster-tools").is_visible()
        page.screenshot(path=str(SHOTS / "console-poster-print-1366.png"), full_page=True)
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        page.screenshot(path=str(SHOTS / "console-poster-a4.png"))
        pdf = page.pdf(prefer_css_page_size=True)
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(pages) == 1  # one A4 sheet
    (SHOTS / "console-poster.pdf").write_bytes(pdf)


@pytest.mark.browser
def test_the_form_shows_one_mode_and_a_version_change_keeps_the_fields(app, client, console):
    with app.app_context():
        make_bank(db.session, slug="another")
        db.session.commit()
    as_user(client, console["org"])
    with browser_page(client, 1366, 768) as page:
        page.goto("http://quiz.test/admin/contests/new")
        assert page.locator("#h-live").is_visible() and not page.locator("#h-campaign").is_visible()
        page.check("input[name=mode][value=campaign]")
        assert page.locator("#h-campaign").is_visible() and not page.locator("#h-live").is_visible()
        page.check("input[name=mode][value=live]")
        page.fill("#question_seconds", "30")
        page.fill("#title", "保留的名称")
        with page.expect_navigation():
            page.select_option("#bank_version", index=1)
        assert page.input_value("#question_seconds") == "30"
        assert page.input_value("#title") == "保留的名称"
        page.screenshot(path=str(SHOTS / "console-form-1366.png"))


# ---------------------------------------------------------------- 9. Chinese labels


def test_results_name_categories_by_their_titles(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console))
    with app.app_context():
        contest = db.session.get(Contest, cid)
        sheet = next(s for s in reports.build(db.session, contest) if s.key == "questions")
        column = [c.header for c in sheet.columns].index("分类")
        shown = {row[column] for row in sheet.rows}
        titles = {c["title"] for c in contest.bank_version.categories}
    assert shown and shown <= titles


def test_bank_errors_name_fields_in_chinese_beside_the_key(app, client, console):
    from test_admin import BROKEN

    as_user(client, console["org"])
    page = upload(client, "broken.yaml", BROKEN.encode()).get_data(as_text=True)
    assert "<td>题目 q1 · 答案</td>" in page and "<td>题目 q2 · 难度</td>" in page
    assert '<td class="mono">q2.category</td>' in page  # the key the file carries stays


# ---------------------------------------------------------------- 10. edit, archive, delete, audit


def test_a_contest_is_edited_before_it_starts_and_not_after(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console, question_seconds="30"))
    form = client.get(f"/admin/contests/{cid}/edit").get_data(as_text=True)
    assert re.search(r'name="question_seconds"[^>]*value="30"', form)
    assert re.search(r'name="title"[^>]*value="文明礼仪知识竞答"', form)
    fields = dict(re.findall(r'name="((?:quota-)?[a-z_:-]+)"[^>]*value="([^"]*)"', form))
    fields.update(title="改过的名称", reveal_seconds="12", count="5", auto_advance="1",
                  ranking_metric="total", units=[str(console["agency"])],
                  bank_version=str(console["version"]))  # fmt: skip
    for unticked in ("csrf_token", "roster_bound"):  # the regex also reads unticked boxes
        fields.pop(unticked)
    response = post(client, f"/admin/contests/{cid}/edit", f"/admin/contests/{cid}/edit", **fields)
    assert response.status_code == 302
    with app.app_context():
        contest = db.session.get(Contest, cid)
        assert contest.title == "改过的名称" and len(contest.questions) == 5
        assert contest.settings["timing"]["reveal_seconds"] == 12
        assert contest.settings["timing"]["question_seconds"] == 30
        contest.phase = "question"
        db.session.commit()
    assert ("contest.edit", "org") in audit_actions(app, cid)
    refused = post(client, f"/admin/contests/{cid}/edit", f"/admin/contests/{cid}", **fields)
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/{cid}")
    assert f"/admin/contests/{cid}/edit" not in client.get(f"/admin/contests/{cid}").get_data(
        as_text=True
    )


def test_archive_hides_a_contest_and_keeps_it(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console, title="旧竞赛甲"))
    post(client, f"/admin/contests/{cid}/archive", f"/admin/contests/{cid}")
    assert "旧竞赛甲" not in client.get("/admin/").get_data(as_text=True)
    assert "旧竞赛甲" in client.get("/admin/?archived=1").get_data(as_text=True)
    assert client.get(f"/admin/contests/{cid}/results").status_code == 200
    post(client, f"/admin/contests/{cid}/archive", f"/admin/contests/{cid}", restore="1")
    assert "旧竞赛甲" in client.get("/admin/").get_data(as_text=True)
    assert [a for a, _ in audit_actions(app, cid)][-2:] == ["contest.archive", "contest.unarchive"]


def test_delete_needs_a_confirmation_and_a_contest_not_started(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console))
    post(client, f"/admin/contests/{cid}/delete", f"/admin/contests/{cid}")
    with app.app_context():
        assert db.session.get(Contest, cid) is not None  # no confirmation: kept
        db.session.add(Participant(contest_id=cid, unit_id=console["branches"][0], name="甲",
                                   token="t-lobby", seed=1))  # fmt: skip
        db.session.commit()
    post(client, f"/admin/contests/{cid}/delete", f"/admin/contests/{cid}", confirm="1")
    with app.app_context():
        assert db.session.get(Contest, cid) is None
    assert audit_actions(app, cid)[-1] == ("contest.delete", "org")  # the record outlives it
    started = contest_id_of(create(client, console))
    with app.app_context():
        db.session.get(Contest, started).phase = "finished"
        db.session.commit()
    post(client, f"/admin/contests/{started}/delete", f"/admin/contests/{started}", confirm="1")
    with app.app_context():
        assert db.session.get(Contest, started) is not None


def test_the_audit_page_filters_pages_escapes_and_exports_safely(app, client, console):
    as_user(client, console["org"])
    first = contest_id_of(create(client, console, title="<script>x</script>"))
    second = contest_id_of(create(client, console, title="=1+2"))
    client.get(f"/admin/contests/{second}/report.xlsx")
    page = client.get(f"/admin/audit?contest={first}").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "创建竞赛" in page and "导出报表" not in page.split('id="audit"')[1]
    assert "导出报表" in client.get(f"/admin/audit?contest={second}").get_data(as_text=True)
    user_page = client.get(f"/admin/audit?user={console['org']}").get_data(as_text=True)
    assert "共 3 条" in user_page
    exported = client.get(f"/admin/audit.csv?contest={second}")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间（北京时间）", "账号", "操作"]
    assert "'=1+2" in [r[4] for r in rows[1:]]
    with app.app_context():
        for n in range(60):
            db.session.add(AuditEntry(action="contest.host", username="x", detail=f"第{n}条"))
        db.session.commit()
    paged = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in paged and "上一页" in paged


# ---------------------------------------------------------------- 11. the command line


def test_contests_create_makes_a_live_round_like_the_form(app, console):
    with app.app_context():
        result = CliRunner().invoke(
            cli.main,
            ["contests", "create", "--title", "命令行现场赛", "--bank", "civility-etiquette",
             "--count", "6", "--question-seconds", "30", "--branches", "B0",
             "--scheduled", "2030-05-04T09:30", "--manual"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "/j/" in result.output
        contest = db.session.scalars(select(Contest).where(Contest.title == "命令行现场赛")).one()
        assert len(contest.questions) == 6 and [u.code for u in contest.units] == ["B0"]
        assert contest.settings["timing"]["question_seconds"] == 30
        assert contest.settings["timing"]["auto_advance"] is False
        assert contest.scheduled_at == datetime(2030, 5, 4, 1, 30, tzinfo=UTC)
        bad = CliRunner().invoke(
            cli.main, ["contests", "create", "--title", "x", "--bank", "civility-etiquette",
                       "--question-seconds", "1"],
        )  # fmt: skip
        assert bad.exit_code != 0 and "每题作答时间（秒）须在 5–300 之间" in bad.output
    assert ("contest.create", "命令行") in audit_actions(app, contest.id)


# ---------------------------------------------------------------- 15. notes of a cleaned upload


PINYIN = """bank:
  id: pinyin
  title: 带拼音的题库
  version: 1
  categories:
    - {id: conduct, title: 文明行为}
questions:
  - id: q1
    type: single
    stem: 薌城區(qū)的機(jī)關(guān)
    options: [甲, 乙]
    answer: A
    explanation: 解析
    category: conduct
    difficulty: 1
    source: 来源
"""


def test_a_cleaned_upload_shows_what_the_import_changed(app, client, console):
    as_user(client, console["org"])
    response = upload(client, "pinyin.yaml", PINYIN.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="bank-notes"' in page
    assert "<td>题目 q1 · 题干</td>" in page and "區(qū) → 区" in page
    assert ("bank.upload", "org") in audit_actions(app)


def test_host_actions_and_kicks_are_on_record(live_app, t, host, clock):
    from test_live import control, phone

    phone(live_app, t, "张三", 0)
    control(host, t, "start")
    control(host, t, "extend")
    with live_app.app_context():
        pid = db.session.scalar(select(Participant.id).where(Participant.name == "张三"))
    assert host.emit("kick", {"contest_id": t["contest_id"], "participant_id": pid},
                     namespace="/host", callback=True)["ok"]  # fmt: skip
    with live_app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        record = [(e.action, e.detail, e.contest_id) for e in entries]
    cid = t["contest_id"]
    assert record[0] == ("contest.start", "开始", cid)
    assert record[1][:2] == ("contest.host", "延长作答 10 秒")
    assert record[2] == ("member.kick", f"张三（{pid}）", cid)
