"""Campaign flows over the HTTP JSON API with the Flask test client and a fake clock: joining,
attempts, idempotent answers, deadlines, limits, second devices, review policy, fair-play flags,
the rankings page, the draw through the campaign path, and the live socket refusing campaigns."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import login, make_bank, make_branches, make_user
from sqlalchemy import func, select
from test_pages import CHROMIUM, CHROMIUM_ARGS

from quiz_server import cli, contests, create_app
from quiz_server.campaign import Rules, Stage
from quiz_server.campaign.setup import create_campaign
from quiz_server.contests import ROSTER_TRIES_PER_MINUTE, ContestError, create_contest
from quiz_server.draw import DrawRule
from quiz_server.extensions import db, socketio
from quiz_server.messages import REFUSALS
from quiz_server.models import Attempt, Contest, ContestQuestion, Question, RosterEntry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def capp(live_settings):
    live_settings.rankings_ttl_seconds = 0
    return create_app(live_settings)


def make_campaign(app, clock, roster=False, **rules):
    with app.app_context():
        version = make_bank(db.session, n_single=8)
        branches = make_branches(db.session)
        starts = clock.now - timedelta(hours=1)
        contest = create_campaign(
            db.session,
            title="网络竞答",
            bank_version=version,
            rule=4,
            branches=branches,
            rules=Rules(starts_at=starts, ends_at=starts + timedelta(days=5), **rules),
            roster_bound=roster,
        )
        if roster:
            db.session.add(RosterEntry(unit_id=branches[0].id, name="张三", member_no="007"))
        user = make_user(db.session)
        db.session.commit()
        return {
            "pin": contest.pin,
            "id": contest.id,
            "branches": [b.id for b in branches],
            "user": user.id,
        }


class Phone:
    """A member's phone: the token it keeps, and the JSON calls campaign.js makes."""

    def __init__(self, client, pin, token=None):
        self.client, self.pin, self.token = client, pin, token

    def call(self, method, path="", body=None):
        response = self.client.open(  # as campaign.js sends it: JSON type even without a body
            f"/api/campaign/{self.pin}{path}",
            method=method,
            data=None if body is None else json.dumps(body),
            headers={"X-Member-Token": self.token or "", "Content-Type": "application/json"},
        )
        return response.status_code, response.get_json()

    def join(self, name, branch_id, **extra):
        status, data = self.call("POST", "/join", {"name": name, "branch_id": branch_id, **extra})
        self.token = data.get("token")
        return data

    def start(self, device="dev-1"):
        return self.call("POST", "/attempts", {"device": device})[1]

    def answer(self, attempt, position, choice):
        return self.call(
            "POST", f"/attempts/{attempt}/answers", {"position": position, "choice": choice}
        )[1]


@pytest.fixture
def c(capp, clock):
    return make_campaign(capp, clock)


@pytest.fixture
def phone(capp, c):
    p = Phone(capp.test_client(), c["pin"])
    assert p.join("李四", c["branches"][0])["ok"]
    return p


def answers_of(app, attempt_id):
    """The correct option ids per position, read from the bank (what a cheater cannot see)."""
    from quiz_server.questions import question_type

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        return [
            question_type(i.question.type).correct_ids(i.question.answer) for i in attempt.items
        ]


def test_full_attempt_then_result_with_review_and_ranks(capp, c, phone, clock):
    started = phone.start()
    assert started["ok"] and not started["continued"]
    attempt = started["attempt"]
    assert attempt["total"] == 4 and len(attempt["items"]) == 4
    assert attempt["deadline"] - attempt["started_at"] == 600_000
    right = answers_of(capp, attempt["id"])
    for item in attempt["items"]:
        clock.advance(5)
        ack = phone.answer(attempt["id"], item["position"], right[item["position"]])
        assert ack["ok"] and ack["choice"] == right[item["position"]]
    assert ack["finished"]
    status, data = phone.call("GET", f"/attempts/{attempt['id']}/result")
    result = data["result"]
    assert (result["score"], result["full_mark"], result["correct"], result["time_ms"]) == (
        40,
        40,
        4,
        20_000,
    )
    assert result["rank"] == 1 and result["of"] == 1
    assert result["branch"] == {"name": "第1党支部", "rank": 1, "of": 2}
    assert [r["correct_ids"] for r in result["review"]] == right
    assert all(r["explanation"].startswith("解析") for r in result["review"])


def test_no_question_payload_carries_the_answer(capp, c, phone):
    attempt = phone.start()["attempt"]
    with capp.app_context():
        answers = {json.dumps(q.answer) for q in db.session.query(Question)}
    text = json.dumps(attempt)
    for key in ("answer", "correct", "correct_ids", "explanation"):
        assert f'"{key}"' not in text
    assert answers  # the bank has answers; none of the keys that would carry them went out
    ids = [o["id"] for o in attempt["items"][0]["options"]]
    assert sorted(ids) == sorted(set(ids))


def test_a_retried_answer_gets_the_same_ack_and_a_change_is_refused(capp, c, phone, clock):
    attempt = phone.start()["attempt"]
    first = attempt["items"][0]
    option = first["options"][0]["id"]
    ack = phone.answer(attempt["id"], first["position"], [option])
    assert phone.answer(attempt["id"], first["position"], [option]) == ack
    other = first["options"][1]["id"]
    refused = phone.answer(attempt["id"], first["position"], [other])
    assert (
        refused["reason"] == "already_answered"
        and refused["message"] == REFUSALS["already_answered"]
        and refused["choice"] == [option]  # the stored choice, as the live refusal carries
    )
    assert phone.answer(attempt["id"], first["position"], ["Z"])["reason"] == "already_answered"
    assert phone.answer(attempt["id"], 1, ["Z"])["reason"] == "no_such_option"


def test_answers_after_the_deadline_are_refused_and_the_abandoned_attempt_closes(
    capp, c, phone, clock
):
    attempt = phone.start()["attempt"]
    first = attempt["items"][0]
    phone.answer(attempt["id"], 0, [first["options"][0]["id"]])
    clock.advance(600 + 2.5)  # past the deadline and its grace
    refused = phone.answer(attempt["id"], 1, [attempt["items"][1]["options"][0]["id"]])
    assert refused["reason"] == "too_late" and refused["finished"]
    result = phone.call("GET", f"/attempts/{attempt['id']}/result")[1]["result"]
    assert result["closed_by"] == "deadline" and result["time_ms"] == 600_000
    assert [r["choice"] is not None for r in result["review"]] == [True, False, False, False]


def test_rankings_close_abandoned_attempts_without_the_member(capp, c, phone, clock):
    phone.start()
    clock.advance(3600)
    rows = capp.test_client().get(f"/api/campaign/{c['pin']}/rankings").get_json()["rows"]
    assert rows[0]["attempts"] == 1 and rows[0]["participants"] == 1
    with capp.app_context():
        assert db.session.query(Attempt).one().closed_by == "deadline"


def test_second_device_continues_the_attempt_in_progress(capp, c, phone):
    first = phone.start("phone-a")["attempt"]
    phone.answer(first["id"], 0, [first["items"][0]["options"][0]["id"]])
    other_device = Phone(capp.test_client(), c["pin"], phone.token)
    again = other_device.start("phone-b")
    assert again["continued"] and again["attempt"]["id"] == first["id"]
    assert again["attempt"]["answered"] == 1
    with capp.app_context():
        assert db.session.query(Attempt).count() == 1


def test_limits_per_shanghai_day_and_attempts_left(capp, c, phone, clock):
    for _ in range(3):
        attempt = phone.start()["attempt"]
        phone.call("POST", f"/attempts/{attempt['id']}/submit")
    me = phone.call("GET", "/me")[1]
    assert me["left"]["today"] == 0 and not me["can_start"]
    assert me["blocked"]["message"] == REFUSALS["day_limit"]
    status, refused = phone.call("POST", "/attempts", {})
    assert status == 409 and refused["reason"] == "day_limit"
    clock.now = clock.now.replace(hour=16, minute=0, second=1)  # 00:00:01 next day in Shanghai
    assert phone.call("GET", "/me")[1]["left"]["today"] == 3
    assert phone.start()["ok"]


def test_stage_and_total_limits_bite(capp, clock):
    starts = clock.now - timedelta(hours=1)
    stage = Stage("第1周", starts, starts + timedelta(days=2), total=1)
    c = make_campaign(capp, clock, stages=(stage,), total=5)
    p = Phone(capp.test_client(), c["pin"])
    p.join("王五", c["branches"][1])
    p.call("POST", f"/attempts/{p.start()['attempt']['id']}/submit")
    assert p.call("POST", "/attempts", {})[1]["reason"] == "stage_limit"


def test_review_only_after_the_window_closes(capp, clock):
    c = make_campaign(capp, clock, review="after_close")
    p = Phone(capp.test_client(), c["pin"])
    p.join("赵六", c["branches"][0])
    attempt = p.start()["attempt"]
    p.call("POST", f"/attempts/{attempt['id']}/submit")
    result = p.call("GET", f"/attempts/{attempt['id']}/result")[1]["result"]
    assert not result["review_visible"] and result["review"] == [] and result["review_at"]
    clock.advance(6 * 86400)
    later = p.call("GET", f"/attempts/{attempt['id']}/result")[1]["result"]
    assert later["review_visible"] and len(later["review"]) == 4


def test_per_question_timing_shows_one_question_at_a_time(capp, clock):
    c = make_campaign(capp, clock, time_mode="question", question_seconds=20)
    p = Phone(capp.test_client(), c["pin"])
    p.join("钱七", c["branches"][0])
    attempt = p.start()["attempt"]
    assert len(attempt["items"]) == 1 and attempt["deadline"] - attempt["started_at"] == 80_000
    clock.advance(25)  # the first question lapsed unanswered: the next opens now
    state = p.call("GET", f"/attempts/{attempt['id']}")[1]["attempt"]
    assert len(state["items"]) == 2
    assert (
        p.answer(attempt["id"], 0, [attempt["items"][0]["options"][0]["id"]])["reason"]
        == "too_late"
    )
    ack = p.answer(attempt["id"], 1, [state["items"][1]["options"][0]["id"]])
    assert ack["ok"] and len(ack["attempt"]["items"]) == 3


def test_hidden_page_limit_submits_the_attempt_as_it_stands(capp, clock):
    c = make_campaign(capp, clock, hidden_limit=2)
    p = Phone(capp.test_client(), c["pin"])
    p.join("孙八", c["branches"][0])
    attempt = p.start()["attempt"]
    assert not p.call("POST", f"/attempts/{attempt['id']}/hidden", {"count": 1})[1]["finished"]
    done = p.call("POST", f"/attempts/{attempt['id']}/hidden", {"count": 2})[1]
    assert done["finished"] and done["closed_by"] == "hidden"


def test_roster_bound_campaign_admits_only_registered_members(capp, clock):
    c = make_campaign(capp, clock, roster=True)
    p = Phone(capp.test_client(), c["pin"])
    assert p.join("张三", c["branches"][0], member_no="999")["reason"] == "not_on_roster"
    assert p.join("张三", c["branches"][0], member_no="007")["token"]


def test_a_second_device_on_a_seated_roster_line_gets_no_token_and_is_flagged(capp, clock):
    c = make_campaign(capp, clock, roster=True)
    owner = Phone(capp.test_client(), c["pin"])
    owner.join("张三", c["branches"][0], member_no="007")
    attempt = owner.start()["attempt"]
    thief = Phone(capp.test_client(), c["pin"])
    status, refused = thief.call(
        "POST", "/join", {"name": "张 三", "branch_id": c["branches"][0], "member_no": "007"}
    )
    assert status == 400 and "token" not in refused
    assert refused["reason"] == "already_joined"
    assert refused["message"] == "该名单成员已在另一台设备参赛，如需更换设备请联系组织者"
    assert thief.call("GET", f"/attempts/{attempt['id']}")[0] == 401  # no way into the attempt
    http = capp.test_client()
    login(http, c["user"])
    page = http.get(f"/admin/campaigns/{c['id']}/flags").get_data(as_text=True)
    assert "同一名单成员多台设备" in page and "张三" in page and "007" in page


def test_roster_matches_are_rate_limited_per_address(capp, clock):
    c = make_campaign(capp, clock, roster=True)
    guesser = Phone(capp.test_client(), c["pin"])
    for number in range(ROSTER_TRIES_PER_MINUTE):
        body = {"name": "张三", "branch_id": c["branches"][0], "member_no": f"9{number:02d}"}
        assert guesser.call("POST", "/join", body)[1]["reason"] == "not_on_roster"
    status, refused = guesser.call(
        "POST", "/join", {"name": "张三", "branch_id": c["branches"][0], "member_no": "007"}
    )
    assert status == 429 and refused["reason"] == "roster_rate_limited" and "token" not in refused
    assert refused["message"] == "核对名单的次数过多，请 1 分钟后再试"
    elsewhere = Phone(capp.test_client(), c["pin"])  # another address is not held up
    other = elsewhere.client.post(
        f"/api/campaign/{c['pin']}/join",
        json={"name": "张三", "branch_id": c["branches"][0], "member_no": "007"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.get_json()["token"]
    clock.advance(61)
    assert (
        guesser.call(
            "POST", "/join", {"name": "王五", "branch_id": c["branches"][0], "member_no": "1"}
        )[1]["reason"]
        == "not_on_roster"
    )


def test_unknown_token_and_foreign_attempt(capp, c, phone):
    stranger = Phone(capp.test_client(), c["pin"], "x" * 20)
    assert stranger.call("GET", "/me") == (
        401,
        {"ok": False, "reason": "unknown_token", "message": REFUSALS["unknown_token"]},
    )
    attempt = phone.start()["attempt"]
    other = Phone(capp.test_client(), c["pin"])
    other.join("周九", c["branches"][1])
    assert other.call("GET", f"/attempts/{attempt['id']}")[0] == 404


def test_fair_play_flags_page_for_organizers(capp, c, phone, clock):
    attempt = phone.start("shared-device")["attempt"]
    clock.advance(0.5)
    phone.answer(attempt["id"], 0, [attempt["items"][0]["options"][0]["id"]])  # faster than 1.5 s
    phone.call("POST", f"/attempts/{attempt['id']}/hidden", {"count": 3})
    twin = Phone(capp.test_client(), c["pin"])
    twin.join("另一个名字", c["branches"][0])
    twin.start("shared-device")
    http = capp.test_client()
    assert http.get(f"/admin/campaigns/{c['id']}/flags").status_code == 302
    login(http, c["user"])
    page = http.get(f"/admin/campaigns/{c['id']}/flags").get_data(as_text=True)
    assert "李四" in page and "shared-device" in page and "2 个姓名" in page


def test_practice_opens_when_the_window_closes_and_checks_an_answer(capp, c, phone, clock):
    clock.advance(6 * 86400)  # the campaign is over: nothing it can ask is secret any more
    _, practice = phone.call("GET", "/practice?category=c")
    questions = practice["questions"]
    assert len(questions) == 10
    assert "answer" not in json.dumps(practice) and "explanation" not in json.dumps(practice)
    judge = next(q for q in questions if q["type"] == "judge")
    checked = phone.call("POST", f"/practice/{judge['id']}", {"choice": ["T"]})[1]
    assert checked["correct"] and checked["correct_ids"] == ["T"] and checked["explanation"]


def test_the_scripted_practice_attack_gets_no_answer_an_open_contest_can_ask(capp, c, phone):
    """The attack of the issue: list practice, ask it for every answer, then take an attempt.
    While the campaign runs, every question it can draw is held back."""
    assert Phone(capp.test_client(), c["pin"]).call("GET", "/practice")[0] == 401  # no token
    status, listed = phone.call("GET", "/practice")
    assert status == 409 and listed["reason"] == "practice_closed" and "questions" not in listed
    assert listed["message"] == "题目可能出现在进行中的竞赛里，竞赛结束后开放练习"
    with capp.app_context():
        ids = [q.id for q in db.session.query(Question)]
    for question_id in ids:
        status, body = phone.call("POST", f"/practice/{question_id}", {"choice": ["B"]})
        assert status == 403 and body["reason"] == "practice_held" and "correct_ids" not in body
    attempt = phone.start()["attempt"]
    assert all("correct" not in json.dumps(item) for item in attempt["items"])


def test_practice_holds_back_a_live_final_drawn_from_the_same_bank(capp, c, phone, clock):
    clock.advance(6 * 86400)  # the campaign has closed; a live final is being prepared
    with capp.app_context():
        contest = db.session.get(Contest, c["id"])
        final = create_contest(
            db.session, title="决赛", bank_version=contest.bank_version,
            rule=DrawRule(count=2, type={"single": 2}), branches=contest.units, seed=5,
        )  # fmt: skip
        drawn = {cq.question_id for cq in final.questions}
        db.session.commit()
    listed = {q["id"] for q in phone.call("GET", "/practice")[1]["questions"]}
    assert len(listed) == 8 and not listed & drawn
    for question_id in drawn:
        assert phone.call("POST", f"/practice/{question_id}", {"choice": ["B"]})[0] == 403
    with capp.app_context():
        db.session.get(Contest, final.id).phase = "finished"
        db.session.commit()
    assert len(phone.call("GET", "/practice")[1]["questions"]) == 10


def test_rankings_page_and_json_show_the_rule_and_the_chart(capp, c, phone):
    phone.start()
    http = capp.test_client()
    page = http.get(f"/rankings/{c['pin']}?level=agency").get_data(as_text=True)
    assert "并列时依次比较：参与率 → 满分人数 → 人均作答次数" in page and "<svg" in page
    data = http.get(f"/api/campaign/{c['pin']}/rankings?level=branch").get_json()
    assert [r["unit"] for r in data["rows"]][:1] and data["charts"][0]["svg"].startswith("<svg")


def test_phone_page_renders_with_its_own_assets(capp, c):
    html = capp.test_client().get(f"/c/{c['pin']}").get_data(as_text=True)
    assert "js/campaign.js" in html and "css/campaign.css" in html and 'id="strings"' in html


def test_the_draw_through_the_campaign_path(capp, c, phone):
    with capp.app_context():
        contest = db.session.get(Contest, c["id"])
        attempt = db.session.query(Attempt).first() or None
        assert attempt is None
    attempt = phone.start()["attempt"]
    with capp.app_context():
        from quiz_server.draw import draw

        stored = db.session.get(Attempt, attempt["id"])
        contest = db.session.get(Contest, c["id"])
        redrawn = draw(
            contest.bank_version.questions,
            DrawRule.from_settings(contest.settings["draw"]),
            stored.draw_seed,
        )
        assert [q.id for q in redrawn] == [i.question_id for i in stored.items]


def test_campaign_quotas_are_honoured_and_impossible_ones_refused(capp, clock):
    with capp.app_context():
        version = make_bank(db.session, n_single=8)
        branches = make_branches(db.session)
        rules = Rules(starts_at=clock.now, ends_at=clock.now + timedelta(days=1))
        rule = DrawRule(count=3, type={"judge": 1, "multiple": 1})
        contest = create_campaign(
            db.session,
            title="配额",
            bank_version=version,
            rule=rule,
            branches=branches,
            rules=rules,
        )
        db.session.commit()
        pin = contest.pin
        with pytest.raises(ContestError, match="判断题|题型 judge 只有 1 道题"):
            create_campaign(
                db.session,
                title="不可能",
                bank_version=version,
                rule=DrawRule(count=3, type={"judge": 2}),
                branches=branches,
                rules=rules,
            )
    p = Phone(capp.test_client(), pin)
    p.join("配额", 0 + p.client.get(f"/api/campaign/{pin}").get_json()["branches"][0]["id"])
    types = sorted(i["type"] for i in p.start()["attempt"]["items"])
    assert types == ["judge", "multiple", "single"]


def test_a_campaign_stores_no_live_question_rows_and_its_mode_is_typed(capp, c):
    with capp.app_context():
        contest = db.session.get(Contest, c["id"])
        stored = db.session.scalar(
            select(func.count()).where(ContestQuestion.contest_id == c["id"])
        )
        assert stored == 0
        assert contests.mode_of(contest) is contests.Mode.CAMPAIGN
        assert contests.settings_of(contest).draw == DrawRule(count=4)
        assert contests.rules_of(contest).ends_at > contests.rules_of(contest).starts_at


def test_live_join_refuses_a_campaign_with_a_clear_message(capp, c):
    client = socketio.test_client(capp, namespace="/play")
    ack = client.emit(
        "join",
        {"pin": c["pin"], "name": "甲", "branch_id": c["branches"][0]},
        namespace="/play",
        callback=True,
    )
    assert (
        ack["reason"] == "campaign_mode"
        and "网络竞答" in ack["message"]
        and ack["url"] == f"/c/{c['pin']}"
    )


def test_cli_creates_a_campaign(capp, c):
    with capp.app_context():
        from quiz_server.models import BankVersion

        slug = db.session.get(
            BankVersion, db.session.get(Contest, c["id"]).bank_version_id
        ).bank.slug
    runner = CliRunner()
    with capp.app_context():
        result = runner.invoke(
            cli.main,
            [
                "contests",
                "create-campaign",
                "--title",
                "命令行活动",
                "--bank",
                slug,
                "--count",
                "3",
                "--start",
                "2026-12-01",
                "--days",
                "14",
                "--weekly-stages",
                "--per-stage",
                "5",
                "--counting",
                "average",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "/c/" in result.output and "/rankings/" in result.output
        contest = db.session.query(Contest).filter_by(title="命令行活动").one()
        rules = Rules.from_settings(contest.settings["campaign"])
        assert [s.name for s in rules.stages] == ["第1周", "第2周"] and rules.counting == "average"
        assert rules.starts_at.isoformat() == "2026-12-01T00:00:00+08:00"
        bad = runner.invoke(
            cli.main,
            [
                "contests",
                "create-campaign",
                "--title",
                "x",
                "--bank",
                "nope",
                "--start",
                "2026-12-01",
            ],
        )
        assert bad.exit_code != 0 and "没有找到题库" in bad.output


# ---------------------------------------------------------------- the pages in Chromium


@pytest.fixture
def browser_page(capp):
    """Chromium at phone size; every request, with its method, headers and body, answered by
    the Flask test client (no server)."""
    playwright = pytest.importorskip("playwright.sync_api")
    from pathlib import Path
    from urllib.parse import urlsplit

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed")
    http = capp.test_client()

    def serve(route):
        request = route.request
        url = urlsplit(request.url)
        response = http.open(
            url.path + ("?" + url.query if url.query else ""),
            method=request.method,
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower().startswith(("x-", "content-type"))
            },
            data=request.post_data_buffer,
        )
        headers = {"content-type": response.headers.get("Content-Type", "text/plain")}
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 320, "height": 640})
        page.route("http://quiz.test/**", serve)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert not errors, errors


@pytest.mark.browser
def test_a_member_takes_attempts_on_a_phone_until_the_day_limit_bites(browser_page, capp, c):
    page = browser_page
    page.goto(f"http://quiz.test/c/{c['pin']}")
    page.fill("#name", "手机用户")
    page.locator(".branch-choice").first.click()
    page.click("#join-btn")
    page.wait_for_selector("#left-today:has-text('今日还可作答 3 次')")
    for left in (2, 1, 0):
        page.click("#start-btn")
        page.wait_for_selector("#screen-attempt:not([hidden])")
        assert "answer" not in page.locator("#q-options").inner_html()
        page.locator("#q-options .option").first.click()
        page.click("#submit-btn")
        page.click("#submit-btn")  # confirm: some questions are still open
        page.wait_for_selector("#screen-result:not([hidden])")
        assert "/ 40 分" in page.inner_text("#r-score")
        page.click("#home-btn")
        page.wait_for_selector(f"#left-today:has-text('今日还可作答 {left} 次')")
    assert page.inner_text("#blocked") == REFUSALS["day_limit"]
    assert page.locator("#start-btn").is_disabled()
    assert page.locator("#history li").count() == 3


@pytest.mark.browser
def test_the_rankings_page_updates_while_attempts_come_in(browser_page, capp, c, phone):
    page = browser_page
    page.clock.install()
    page.goto(f"http://quiz.test/rankings/{c['pin']}")
    first_row = page.locator("#rk-body tr").first
    assert "0 / 10" in first_row.inner_text()
    attempt = phone.start()["attempt"]
    phone.call("POST", f"/attempts/{attempt['id']}/submit")
    page.clock.fast_forward(6000)
    page.wait_for_function("document.querySelector('#rk-body tr').textContent.includes('1 / 10')")
    assert page.locator(".rk-chart svg").count() == 2


def test_the_token_api_refuses_non_json_bodies(capp, c):
    """What a cross-site form would send: refused, so the CSRF exemption opens no forgery path."""
    response = capp.test_client().post(
        f"/api/campaign/{c['pin']}/join", data={"name": "x", "branch_id": "1"}
    )
    assert response.status_code == 415 and response.get_json()["reason"] == "bad_request"


def test_the_report_workbook_has_campaign_sheets(capp, c, phone):
    import io

    import openpyxl
    from conftest import login

    attempt = phone.start()["attempt"]
    first = attempt["items"][0]
    answered = phone.answer(attempt["id"], first["position"], [first["options"][0]["id"]])
    assert answered["ok"], answered
    phone.call("POST", f"/attempts/{attempt['id']}/submit")
    http = capp.test_client()
    login(http, c["user"])
    response = http.get(f"/admin/contests/{c['id']}/report.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert [
        "党支部参与",
        "机关党委参与",
        "系统党委参与",
        "每日参与",
        "成员成绩",
        "题目统计",
    ] == book.sheetnames[:6]
    branches = book["党支部参与"]
    header = [cell.value for cell in branches[1]]
    rows = {
        r[1]: dict(zip(header, r, strict=True))
        for r in branches.iter_rows(min_row=2, values_only=True)
    }
    assert rows["第1党支部"]["参与人数"] == 1 and rows["第1党支部"]["注册党员数"] == 10
    assert rows["第1党支部"]["参与率"] == pytest.approx(0.1)
    assert rows["第2党支部"]["参与人数"] == 0
    daily = list(book["每日参与"].iter_rows(min_row=2, values_only=True))
    assert any(r[0] == "第1党支部" and r[2] == 1 for r in daily)
    questions = list(book["题目统计"].iter_rows(min_row=2, values_only=True))
    assert questions and questions[0][5] == 1  # one answered item
    page = http.get(f"/admin/contests/{c['id']}/results")
    assert page.status_code == 200 and "每日参与" in page.get_data(as_text=True)


def test_twenty_scripted_joins_cannot_lift_a_branch_above_full_participation(capp, c, clock):
    """The farming attack: 20 seats for a 10-member branch from one script, each taking an
    attempt. Participation stays at 100 %, and the fair-play page flags the branch, the burst
    from one address and the repeated device id."""
    for n in range(20):
        farmed = Phone(capp.test_client(), c["pin"])
        assert farmed.join(f"假{n}", c["branches"][0], device="script-1")["ok"]
        attempt = farmed.start()["attempt"]
        farmed.call("POST", f"/attempts/{attempt['id']}/submit", {})
        clock.advance(1)
    rows = Phone(capp.test_client(), c["pin"]).call("GET", "/rankings?level=branch")[1]["rows"]
    farmed_branch = next(r for r in rows if r["unit_id"] == c["branches"][0])
    assert farmed_branch["participants"] == 20 and farmed_branch["registered"] == 10
    assert farmed_branch["participation_rate"] == 1.0 and farmed_branch["over_registered"]
    agency = Phone(capp.test_client(), c["pin"]).call("GET", "/rankings?level=agency")[1]["rows"]
    assert agency[0]["participation_rate"] == round(10 / 30, 4)  # the extra 10 lift nothing
    http = capp.test_client()
    login(http, c["user"])
    page = http.get(f"/admin/campaigns/{c['id']}/flags").get_data(as_text=True)
    assert "参与人数超过注册人数的党支部" in page and "第1党支部" in page
    assert "127.0.0.1" in page and ">20<" in page  # 20 seats from one address within minutes
    assert "script-1" in page and "设备标识由手机自行上报" in page


def test_a_secretarys_question_statistics_cover_only_their_branches_members(capp, c, clock):
    """docs/orgs.md: a secretary's statistics describe their own members only."""
    import csv
    import io

    from conftest import login

    from quiz_server.models import Unit

    for branch, good in ((c["branches"][0], True), (c["branches"][1], False)):
        member = Phone(capp.test_client(), c["pin"])
        member.join("成员", branch)
        attempt = member.start()["attempt"]
        right = answers_of(capp, attempt["id"])
        for item in attempt["items"]:
            ids = [o["id"] for o in item["options"]]
            wrong_ids = [next(i for i in ids if i not in right[item["position"]])]
            member.answer(
                attempt["id"], item["position"], right[item["position"]] if good else wrong_ids
            )
        clock.advance(5)
    clock.advance(6 * 86400)  # the window has closed: question sheets are open to secretaries
    with capp.app_context():
        secretary = make_user(db.session, username="sec", role="secretary")
        secretary.units = [db.session.get(Unit, c["branches"][0])]
        db.session.commit()
        secretary_id = secretary.id

    def pass_rates(user_id):
        http = capp.test_client()
        login(http, user_id)
        response = http.get(f"/admin/contests/{c['id']}/report/campaign_questions.csv")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        return {float(r[6]) for r in rows[1:]}, sum(int(r[5]) for r in rows[1:])

    assert pass_rates(secretary_id) == ({1.0}, 4)  # own member: every answer right
    rates, answered = pass_rates(c["user"])
    assert answered == 8 and rates <= {0.0, 0.5, 1.0} and rates != {1.0}


def test_the_campaign_question_sheet_has_discrimination_like_the_live_one(capp, c, clock):
    """A member who got everything right and one who got everything wrong: every question the
    first answered separates the two groups fully (区分度 1)."""
    import csv
    import io

    from conftest import login

    for branch, good in ((c["branches"][0], True), (c["branches"][1], False)):
        member = Phone(capp.test_client(), c["pin"])
        member.join("成员", branch)
        attempt = member.start()["attempt"]
        right = answers_of(capp, attempt["id"])
        for item in attempt["items"]:
            ids = [o["id"] for o in item["options"]]
            wrong_ids = [next(i for i in ids if i not in right[item["position"]])]
            member.answer(
                attempt["id"], item["position"], right[item["position"]] if good else wrong_ids
            )
        clock.advance(5)
    http = capp.test_client()
    login(http, c["user"])
    response = http.get(f"/admin/contests/{c['id']}/report/campaign_questions.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    column = rows[0].index("区分度")
    by_pass_rate = {float(r[column]) for r in rows[1:] if float(r[6]) == 1.0}
    assert by_pass_rate == {1.0}
    assert {float(r[column]) for r in rows[1:] if float(r[6]) == 0.0} <= {0.0}


def test_an_immediate_review_keeps_back_what_a_live_final_can_still_ask(capp, c, phone):
    """Review right after the attempt is the campaign's own choice; it never gives away a live
    final drawn from the same bank while the final can still ask those questions."""
    with capp.app_context():
        contest = db.session.get(Contest, c["id"])
        final = create_contest(
            db.session, title="决赛", bank_version=contest.bank_version,
            rule=DrawRule(count=10), branches=contest.units, seed=5,
        )  # fmt: skip
        db.session.commit()
        final_id = final.id
    attempt = phone.start()["attempt"]
    phone.call("POST", f"/attempts/{attempt['id']}/submit")
    result = phone.call("GET", f"/attempts/{attempt['id']}/result")[1]["result"]
    assert result["review_visible"] and result["review"] == [] and result["review_held"] == 4
    with capp.app_context():
        db.session.get(Contest, final_id).phase = "finished"
        db.session.commit()
    result = phone.call("GET", f"/attempts/{attempt['id']}/result")[1]["result"]
    assert len(result["review"]) == 4 and result["review_held"] == 0


def test_the_standings_url_of_a_campaign_leads_to_its_rankings(capp, c, phone):
    """/standings/<pin> used to draw a campaign as a live round: every member at 0 points."""
    http = capp.test_client()
    response = http.get(f"/standings/{c['pin']}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/rankings/{c['pin']}"
    assert "单位排行" in http.get(f"/standings/{c['pin']}", follow_redirects=True).text


def test_the_rankings_page_carries_the_metric_table_for_its_script(capp, c):
    page = capp.test_client().get(f"/rankings/{c['pin']}").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="metrics">(.*?)</script>', page)
    assert found, "the page carries no metric table"
    table = json.loads(found.group(1))
    assert table["participation_rate"] == {"label": "参与率", "percentage": True, "decimals": 3}
    assert table["composite"]["decimals"] == 3 and table["avg_registered"]["decimals"] == 2
    script = (ROOT / "static" / "js" / "rankings.js").read_text(encoding="utf-8")
    assert "composite" not in script and 'full_mark_rate"' not in script  # no copy of the list
