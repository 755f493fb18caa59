"""The organizer console: roles on every route, CSRF on every form, bank upload/diff/preview/
export, contest set-up through the form (quotas, reproducible seed, branches from the tree)."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import login, make_branches, make_user
from sqlalchemy import func, select
from test_pages import browser_page

from quiz_server.banks import parse_file, store_bank
from quiz_server.extensions import db
from quiz_server.models import Bank, BankVersion, Contest, Question, User

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "tests" / "data" / "banks" / "good.yaml"
CIVILITY = ROOT / "question_banks" / "civility-etiquette.yaml"

# Reachable without a role, each for a stated reason. A new route must join this list on purpose
# or carry `role_required`; the table test below fails otherwise.
PUBLIC = {
    "static",  # vendored JS/CSS
    "player.index",
    "player.play",
    "player.join",  # the member's pages
    "api.contest",  # what a PIN names, for the phone before it joins
    "auth.login",
    "auth.logout",  # logout needs a login, any role
    "host.qr",  # the QR only encodes the public join URL
    "boards.standings_page",  # /standings/<pin>: the public board, no member names
    "boards.rankings_page",  # /rankings/<pin>: the public unit rankings of a campaign
    "boards.rankings_json",
    "campaign.phone",  # the member's campaign page
    "campaign.info",  # what a campaign PIN names, before joining
    "campaign.join",
    # The member's own attempts: authenticated by the member's token header, not a login.
    "campaign.me",
    "campaign.start",
    "campaign.attempt",
    "campaign.answer",
    "campaign.hidden",
    "campaign.submit",
    "campaign.result",
    "campaign.practice",  # practice questions (never scored) and their check
    "campaign.practice_check",
    # The stage contest's desk device (joins with its team PIN or token) and its big screen:
    # the shell pages, whose boards come over the socket, never with an answer before the reveal.
    "stage.team",
    "stage.screen",
}


@pytest.fixture
def console(app):
    """An app with an organizer, a secretary, a two-branch agency and the civility bank."""
    with app.app_context():
        branches = make_branches(db.session)
        organizer = make_user(db.session, "org", "organizer")
        secretary = make_user(db.session, "sec", "secretary")
        bank, errors = parse_file(CIVILITY)
        assert bank is not None, errors
        version, _ = store_bank(db.session, bank)
        db.session.commit()
        ids = {
            "org": organizer.id,
            "sec": secretary.id,
            "version": version.id,
            "branches": [b.id for b in branches],
            "agency": branches[0].parent_id,
        }
    return ids


def as_user(client, user_id):
    login(client, user_id)
    return client


def token(client, path="/admin/"):
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, path
    return found.group(1)


def sample_url(rule) -> str:
    values = {
        arg: ("1" if arg.endswith("_id") or arg == "number" else "x") for arg in rule.arguments
    }
    return rule.build(values, append_unknown=False)[1]


# ---------------------------------------------------------------- roles and CSRF


def unguarded(app) -> list[str]:
    return sorted(
        f"{rule.endpoint} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC
        and not getattr(app.view_functions[rule.endpoint], "required_roles", None)
    )


def test_every_route_has_a_role_or_is_public_on_purpose(app):
    assert unguarded(app) == []


def test_a_route_without_a_role_is_caught(app):
    """The table test can fail: an unguarded view added to the map shows up in it."""
    app.add_url_rule("/admin/forgotten", "admin_forgotten", lambda: "oops")
    assert unguarded(app) == ["admin_forgotten /admin/forgotten"]


def admin_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]


def test_anonymous_users_are_sent_to_login_from_every_admin_route(app, client, console):
    for rule in admin_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(sample_url(rule), method=method)
            assert response.status_code in (302, 400), (rule.rule, method)
            if method == "GET":
                assert "/login" in response.headers["Location"], rule.rule


def test_a_secretary_gets_403_on_every_organizer_route(app, client, console):
    as_user(client, console["sec"])
    for rule in admin_rules(app):
        roles = app.view_functions[rule.endpoint].required_roles
        if "secretary" in roles:
            continue
        assert client.get(sample_url(rule)).status_code in (403, 405), rule.rule


def test_every_post_form_refuses_a_missing_csrf_token(app, client, console):
    as_user(client, console["org"])
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint != "static"]
    assert {"admin.users", "admin.user", "admin.upload", "admin.new_contest", "auth.logout"} <= {
        r.endpoint for r in posts
    }
    for rule in posts:
        response = client.post(sample_url(rule), data={"title": "x", "username": "x"})
        # The campaign API is exempt (token header, not a cookie) and refuses any non-JSON body,
        # which is what a cross-site form would send.
        expected = 415 if rule.endpoint.startswith("campaign.") else 400
        assert response.status_code == expected, rule.rule
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contest)) == 0


def test_session_cookie_is_httponly_and_samesite(app, client, console):
    response = client.post(
        "/login",
        data={"csrf_token": token(client, "/login"), "username": "org", "password": "password123"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---------------------------------------------------------------- accounts


def post_form(client, path, **data):
    """Post a console form the way a browser does: with the page's CSRF token."""
    return client.post(path, data={"csrf_token": token(client, path), **data})


def test_organizer_creates_a_secretary_and_assigns_an_agency(app, client, console):
    as_user(client, console["org"])
    response = post_form(
        client,
        "/admin/users",
        username="wang",
        display_name="王书记",
        password="secret-pass-1",
        role="secretary",
    )
    assert response.status_code == 302
    with app.app_context():
        wang = db.session.scalar(select(User).where(User.username == "wang"))
        assert wang.role == "secretary" and wang.password_hash.startswith("scrypt:")
        wang_id = wang.id
    page = f"/admin/users/{wang_id}"
    client.post(
        page,
        data={
            "csrf_token": token(client, page),
            "display_name": "王书记",
            "role": "secretary",
            "units": [str(console["agency"])],
        },
    )
    with app.app_context():
        assert [u.id for u in db.session.get(User, wang_id).units] == [console["agency"]]
    assert "王书记" in client.get("/admin/users").get_data(as_text=True)


def test_a_duplicate_username_is_refused_in_the_form(app, client, console):
    as_user(client, console["org"])
    page = post_form(
        client, "/admin/users", username="sec", password="secret-pass-1", role="organizer"
    ).get_data(as_text=True)
    assert "该用户名已被使用" in page


def test_the_last_organizer_cannot_be_demoted(app, client, console):
    as_user(client, console["org"])
    page = f"/admin/users/{console['org']}"
    client.post(page, data={"csrf_token": token(client, page), "role": "secretary"})
    with app.app_context():
        assert db.session.get(User, console["org"]).role == "organizer"


def test_a_secretary_sees_only_contests_of_their_branches(app, client, console):
    with app.app_context():
        from quiz_server.contests import create_contest
        from quiz_server.models import Unit

        version = db.session.get(BankVersion, console["version"])
        first, second = (db.session.get(Unit, i) for i in console["branches"])
        create_contest(
            db.session, title="一支部的竞赛", bank_version=version, rule=3, branches=[first]
        )
        create_contest(
            db.session, title="二支部的竞赛", bank_version=version, rule=3, branches=[second]
        )
        db.session.get(User, console["sec"]).units = [first]
        db.session.commit()
    page = as_user(client, console["sec"]).get("/admin/").get_data(as_text=True)
    assert "一支部的竞赛" in page and "二支部的竞赛" not in page
    assert "现场控制" not in page and "/results" in page


# ---------------------------------------------------------------- banks


def upload(client, name, data):
    return client.post(
        "/admin/banks/upload",
        data={"csrf_token": token(client, "/admin/banks"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def bank_counts(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(BankVersion)),
            db.session.scalar(select(func.count()).select_from(Question)),
        )


BROKEN = """bank:
  id: broken
  title: 有错的题库
  version: 1
  categories:
    - {id: traffic, title: 文明交通}
questions:
  - id: q1
    type: single
    stem: 第一题
    options: [甲, 乙]
    answer: C
    explanation: 解析
    category: traffic
    difficulty: 1
    source: 来源
  - id: q2
    type: judge
    stem: 第二题
    answer: 也许
    explanation: 解析
    category: nowhere
    difficulty: 9
    source: 来源
"""


def test_upload_with_errors_lists_every_error_and_stores_nothing(app, client, console):
    as_user(client, console["org"])
    before = bank_counts(app)
    response = upload(client, "broken.yaml", BROKEN.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未导入" in page and "没有保存任何内容" in page
    rows = re.findall(
        r"<td class=\"mono nowrap\">第 (\d+) 行</td>\s*<td class=\"mono\">([^<]+)</td>", page
    )
    assert rows == [
        ("12", "q1.answer"),
        ("20", "q2.answer"),
        ("22", "q2.category"),
        ("23", "q2.difficulty"),
    ]
    assert bank_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(Bank).where(Bank.slug == "broken")) is None


def test_xlsx_upload_with_errors_names_rows_and_stores_nothing(app, client, console):
    from quiz_server.banks import template_workbook
    from quiz_server.banks.template import workbook_bytes

    book = template_workbook()
    sheet = book.worksheets[0] if book.worksheets[0].max_row > 2 else book.worksheets[-1]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.value in ("单选", "单选题"):
                cell.value = "填空题"
    as_user(client, console["org"])
    before = bank_counts(app)
    response = upload(client, "模板.xlsx", workbook_bytes(book))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "第 " in page and " 列" in page
    assert bank_counts(app) == before


def test_a_clean_upload_is_stored_once_and_previewed_like_a_phone(app, client, console):
    as_user(client, console["org"])
    response = upload(client, "good.yaml", GOOD.read_bytes())
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/banks/civility-basics/v1"
    )
    again = upload(client, "good.yaml", GOOD.read_bytes())
    assert again.headers["Location"].endswith("/v1")  # same content: no new version
    page = client.get("/admin/banks/civility-basics/v1").get_data(as_text=True)
    assert page.count('class="phone"') == 4
    assert (
        "确认安全后通过" in page
        and "is-correct" in page
        and "《中华人民共和国道路交通安全法》第六十二条" in page
    )
    assert "civility-basics" in client.get("/admin/banks").get_data(as_text=True)


def test_the_bank_page_shows_the_quality_check_of_its_version(app, client, console):
    as_user(client, console["org"])
    text = GOOD.read_text(encoding="utf-8").replace("civility-basics", "checked-bank")
    first = text.index("explanation:")
    end = text.index("\n", first)
    text = text[:first] + "explanation: 选项B正确，其余错误。核对链接不显示。" + text[end:]
    text = text.replace(
        "    source: ", "    source_copy: http://mirror.example/read\n    source: ", 1
    )
    response = upload(client, "checked.yaml", text.encode())
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "质量检查" in page and "解析提到选项字母" in page and "“选项B”" in page
    assert "题目曝光" in page and "http://mirror.example/read" in page


def test_export_yaml_and_xlsx_round_trip_to_the_same_version(app, client, console):
    as_user(client, console["org"])
    for suffix in ("yaml", "xlsx"):
        exported = client.get(f"/admin/banks/civility-etiquette/v1.{suffix}")
        assert (
            exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
        )
        back = upload(client, f"back.{suffix}", exported.data)
        assert back.status_code == 302 and back.headers["Location"].endswith(
            "/civility-etiquette/v1"
        ), suffix
    assert client.get("/admin/banks/template.xlsx").data[:2] == b"PK"


def test_the_diff_page_shows_added_removed_and_changed_fields(app, client, console):
    as_user(client, console["org"])
    text = GOOD.read_text(encoding="utf-8")
    changed = text.replace("确认安全后通过", "确认安全后再通过").replace(
        "id: traffic-001", "id: traffic-009"
    )
    changed = changed.replace("difficulty: 3", "difficulty: 2", 1)
    upload(client, "good.yaml", GOOD.read_bytes())
    assert upload(client, "good.yaml", changed.encode()).headers["Location"].endswith("/v2")
    page = client.get("/admin/banks/civility-basics/diff?old=1&new=2").get_data(as_text=True)
    assert "+ traffic-009" in page and "− traffic-001" in page
    assert re.search(r"~ \S+</span> <span class=\"muted small\">改动：难度", page)
    assert '<th scope="row">难度</th>' in page and ">3</td>" in page and ">2</td>" in page
    same = client.get("/admin/banks/civility-basics/diff?old=1&new=1").get_data(as_text=True)
    assert "两个版本内容相同" in same
    assert client.get("/admin/banks/civility-basics/diff?old=1&new=7").status_code == 404


# ---------------------------------------------------------------- contests


def contest_form(console, **extra):
    form = {
        "title": "文明礼仪知识竞答",
        "bank_version": str(console["version"]),
        "count": "10",
        "question_seconds": "25",
        "reveal_seconds": "6",
        "leaderboard_seconds": "6",
        "base_points": "1000",
        "speed_share": "0.5",
        "streak_bonus": "100",
        "streak_cap": "5",
        "ranking_metric": "avg_participants",
        "auto_advance": "1",
        "units": [str(console["agency"])],
    }
    form.update(extra)
    return form


def create(client, console, **extra):
    data = {"csrf_token": token(client, "/admin/contests/new"), **contest_form(console, **extra)}
    return client.post("/admin/contests/new", data=data)


def drawn(app, contest_id):
    """The stored contest, read back as plain values, and its drawn questions in order."""
    with app.app_context():
        c = db.session.get(Contest, contest_id)
        info = SimpleNamespace(
            draw_seed=c.draw_seed,
            roster_bound=c.roster_bound,
            pin=c.pin,
            settings=c.settings,
            scheduled_at=c.scheduled_at,
            unit_ids=sorted(u.id for u in c.units),
        )
        questions = [
            SimpleNamespace(
                qid=cq.question.qid,
                category=cq.question.category,
                type=cq.question.type,
                difficulty=cq.question.difficulty,
                own_limit=cq.question.time_limit,
                time_limit=cq.time_limit,
            )
            for cq in c.questions
        ]
        return info, questions


def contest_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_the_form_draws_with_quotas_and_records_the_settings(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(
        create(
            client,
            console,
            **{
                "quota-category:traffic": "4",
                "quota-difficulty:3": "3",
                "quota-type:judge": "2",
                "seed": "424242",
                "scheduled_at": "2026-12-01T09:30",
                "roster_bound": "1",
            },
        )
    )
    contest, questions = drawn(app, cid)
    assert len(questions) == 10
    assert Counter(q.category for q in questions)["traffic"] == 4
    assert Counter(q.difficulty for q in questions)[3] == 3
    assert Counter(q.type for q in questions)["judge"] == 2
    assert contest.draw_seed == 424242 and contest.roster_bound
    assert contest.unit_ids == sorted(console["branches"])  # the agency's branches
    assert contest.settings["timing"]["question_seconds"] == 25
    assert contest.settings["scoring"]["speed_share"] == 0.5
    assert contest.settings["ranking_metric"] == "avg_participants"
    assert contest.scheduled_at.isoformat() == "2026-12-01T01:30:00+00:00"  # 09:30 Beijing time
    assert all(q.time_limit == (q.own_limit or 25) for q in questions)
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert '<dd class="mono" id="draw-seed">424242</dd>' in page
    assert "2026-12-01 09:30" in page
    for href in (
        f"/admin/contests/{cid}/results",
        f"/admin/contests/{cid}/report.xlsx",
        f"/standings/{contest.pin}",
    ):
        assert f'href="{href}"' in page


def test_the_same_seed_draws_the_same_questions_and_a_blank_seed_is_recorded(app, client, console):
    as_user(client, console["org"])
    quotas = {"quota-category:dining": "3", "seed": "7"}
    first = drawn(app, contest_id_of(create(client, console, **quotas)))[1]
    second = drawn(app, contest_id_of(create(client, console, **quotas)))[1]
    assert [q.qid for q in first] == [q.qid for q in second]
    other = drawn(app, contest_id_of(create(client, console, **{**quotas, "seed": "8"})))[1]
    assert [q.qid for q in other] != [q.qid for q in first]
    contest, questions = drawn(app, contest_id_of(create(client, console)))
    again = drawn(app, contest_id_of(create(client, console, seed=str(contest.draw_seed))))[1]
    assert [q.qid for q in again] == [q.qid for q in questions]  # the recorded seed reproduces it


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"title": " "}, "请填写竞赛名称"),
        ({"units": []}, "至少选择一个参赛党支部"),
        ({"count": "60", "quota-category:traffic": "59"}, "道题，不够配额 59 道"),
        (
            {"quota-type:judge": "6", "quota-type:single": "6"},
            "题型配额合计 12 道，超过抽题数量 10 道",
        ),
        ({"count": "0"}, "抽题数量须为 1–500 的整数"),
        ({"speed_share": "2"}, "速度占比（0–1，越大越看重速度）须在 0–1 之间"),
        ({"ranking_metric": "loudest"}, "请选择支部排名方式"),
        ({"seed": "-3"}, "随机种子须为"),
    ],
)
def test_a_bad_form_explains_itself_and_creates_nothing(app, client, console, extra, message):
    as_user(client, console["org"])
    response = create(client, console, **extra)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contest)) == 0


def test_the_form_lists_quotas_for_the_chosen_version(app, client, console):
    as_user(client, console["org"])
    page = client.get(f"/admin/contests/new?bank_version={console['version']}").get_data(
        as_text=True
    )
    assert 'name="quota-category:traffic"' in page and "（共 27 题）" in page
    assert 'name="quota-difficulty:3"' in page and 'name="quota-type:judge"' in page
    assert "机关党委" in page and "第1党支部" in page


def test_the_control_page_carries_its_strings_and_script(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console))
    page = client.get(f"/admin/contests/{cid}/control").get_data(as_text=True)
    assert 'id="strings"' in page and "admin-control.js" in page and "socket.io.min.js" in page
    assert f'data-contest-id="{cid}"' in page
    assert "host.js" not in page


# ---------------------------------------------------------------- pages in a browser


def console_pages(console) -> list[str]:
    return [
        "/admin/", "/admin/users", f"/admin/users/{console['sec']}", "/admin/banks",
        "/admin/banks/civility-etiquette/v1", "/admin/banks/civility-etiquette/diff?old=1&new=1",
        "/admin/contests/new",
    ]  # fmt: skip


def test_console_pages_have_no_inline_script_or_handler(client, console):
    as_user(client, console["org"])
    for path in console_pages(console):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
        assert not re.search(r"\son[a-z]+=", html), path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.fixture
def console_page(app, console):
    """Chromium at laptop size, logged in as the organizer."""
    with browser_page(as_user(app.test_client(), console["org"]), 1280, 900) as page:
        yield page


@pytest.mark.browser
def test_ticking_an_agency_ticks_its_branches_in_the_browser(console_page, console):
    console_page.goto("http://quiz.test/admin/contests/new")
    console_page.check(f"input[name=units][value='{console['agency']}']")
    for branch in console["branches"]:
        assert console_page.is_checked(f"input[name=units][value='{branch}']")
    console_page.uncheck(f"input[name=units][value='{console['agency']}']")
    assert not console_page.is_checked(f"input[name=units][value='{console['branches'][0]}']")


def test_the_form_creates_a_campaign_with_the_same_draw_rule(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(
        create(
            client,
            console,
            **{
                "mode": "campaign",
                "campaign_start": "2026-12-01",
                "campaign_days": "14",
                "per_day": "2",
                "attempt_minutes": "8",
                "counting": "average",
                "review": "after_close",
                "quota-type:judge": "2",
            },
        )
    )
    with app.app_context():
        contest = db.session.get(Contest, cid)
        rules = contest.settings["campaign"]
        assert contest.mode == "campaign"
        assert (rules["per_day"], rules["attempt_seconds"], rules["counting"], rules["review"]) == (
            2,
            480,
            "average",
            "after_close",
        )
        assert (
            rules["starts_at"].startswith("2026-12-01T00:00:00+08:00")
            or "2026-11-30T16:00" in rules["starts_at"]
        )
        assert contest.settings["draw"]["type"] == {"judge": 2}
    assert client.get(f"/c/{contest.pin}").status_code == 200


def test_a_campaign_without_a_start_date_is_refused(app, client, console):
    as_user(client, console["org"])
    response = create(client, console, mode="campaign", campaign_start="")
    assert response.status_code == 422 and "请填写活动开始日期" in response.get_data(as_text=True)


def test_every_download_names_its_file_in_a_latin1_header(app, client, console):
    """gunicorn refuses a header that is not latin-1 (a raw Chinese file name) with a 500."""
    from quiz_server.contests import create_contest
    from quiz_server.models import Unit

    with app.app_context():
        version = db.session.get(BankVersion, console["version"])
        branches = [db.session.get(Unit, i) for i in console["branches"]]
        contest = create_contest(
            db.session, title="下载", bank_version=version, rule=3, branches=branches
        )
        db.session.commit()
        values = {
            "slug": version.bank.slug,
            "number": version.number,
            "contest_id": contest.id,
            "sheet": "branches",
        }
    as_user(client, console["org"])
    downloads = [r for r in app.url_map.iter_rules() if r.rule.endswith((".xlsx", ".csv", ".yaml"))]
    assert len(downloads) >= 6
    for rule in downloads:
        url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        reply = client.get(url)
        header = reply.headers["Content-Disposition"]
        assert reply.status_code == 200, url
        header.encode("latin-1")  # raises on a raw non-ASCII name
        assert header.startswith("attachment;"), url
    template = client.get("/admin/banks/template.xlsx").headers["Content-Disposition"]
    assert "filename*=UTF-8''%E9%A2%98%E5%BA%93%E6%A8%A1%E6%9D%BF.xlsx" in template


# ---------------------------------------------------------------- navigation


def nav_of(page: str) -> str:
    found = re.search(r'<nav class="admin-nav".*?</nav>', page, re.S)
    assert found, "the console navigation is missing"
    return found.group(0)


def test_every_console_page_without_parameters_is_linked_from_the_navigation(app, client, console):
    """A page one has to know the address of is a page nobody finds (the organisation page
    was such a page): every parameterless GET page under /admin is in the nav."""
    as_user(client, console["org"])
    pages = []
    for rule in admin_rules(app):
        if rule.arguments or "GET" not in rule.methods:
            continue
        response = client.get(rule.rule)
        if response.mimetype == "text/html":  # downloads are linked from their pages
            pages.append(rule.rule)
    assert "/admin/orgs/" in pages and "/admin/banks" in pages
    for path in pages:
        nav = nav_of(client.get(path).get_data(as_text=True))
        for target in pages:
            assert f'href="{target}"' in nav, (path, target)


def test_the_navigation_marks_the_organisation_page_as_current(client, console):
    as_user(client, console["org"])
    nav = nav_of(client.get("/admin/orgs/").get_data(as_text=True))
    assert re.search(r'href="/admin/orgs/"\s+aria-current="page">组织架构</a>', nav)


def test_a_campaign_page_shows_its_own_settings_and_links_its_flags(app, client, console):
    as_user(client, console["org"])
    campaign = {
        "mode": "campaign",
        "campaign_start": "2026-12-01",
        "campaign_days": "14",
        "per_day": "2",
        "attempt_minutes": "8",
        "counting": "average",
        "review": "after_close",
    }
    cid = contest_id_of(create(client, console, **campaign))
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert "2026-12-01 00:00 至 2026-12-15 00:00" in page
    assert "每天 2 次" in page and "每次 8 分钟" in page and "各次平均" in page
    assert "活动结束后再公布（防止答案外传）" in page and "综合得分 =" in page
    for live_only in ("每题时间", "基础分", "速度占比", "揭晓", "加入链接", "抽出的题目"):
        assert live_only not in page, live_only
    flags = f"/admin/campaigns/{cid}/flags"
    assert f'href="{flags}"' in page
    review = client.get(flags).get_data(as_text=True)
    assert "作答提示" in review and 'class="admin-nav"' in review


def test_a_live_contest_page_shows_no_campaign_settings(app, client, console):
    as_user(client, console["org"])
    cid = contest_id_of(create(client, console))
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert "每题时间" in page and "加入链接" in page and "/flags" not in page
    for campaign_only in ("活动时间", "作答次数", "作答限时", "答案公布", "作答链接"):
        assert campaign_only not in page, campaign_only
    assert client.get(f"/admin/campaigns/{cid}/flags").status_code == 404
