"""The stage contest's three screens in real Chromium against a real gunicorn server: the team
device at 360 px, the big screen at 1920×1080, the referee console at 1366×768 (behind the
organizer login). Screenshots land in test-artifacts/screenshots/stage-*.png for a person."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import free_port, start_gunicorn, stop
from sqlalchemy import select

from quiz_server import create_app
from quiz_server.auth import create_user
from quiz_server.config import Settings
from quiz_server.extensions import db
from quiz_server.models import Bank, BankVersion, Question, StageTeam, Unit
from quiz_server.stage.setup import create_stage

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
STEMS = [
    "乘坐公交车时遇到老人上车，应当怎样做？",
    "在图书馆阅览室接听电话，正确的做法是？",
    "参加会议时手机应当怎样处理？",
    "行人通过没有信号灯的人行横道时应当？",
    "<b>用餐</b>时吃剩的饭菜较多，文明的做法是？",
    "遛狗时犬只在人行道上排便，应当？",
    "向来访者递送文件时，正确的做法是？",
    "在景区看到“禁止攀爬”的标志，应当？",
]
OPTIONS = ["主动让座", "视而不见", "假装睡觉", "让老人站着"]
BRANCHES = ["办公室党支部", "教研室党支部", "机关第一党支部", "机关第二党支部"]


def _seed(url: str) -> dict:
    app = create_app(Settings.from_env(database_url=url, run_timers=False))
    with app.app_context():
        version = BankVersion(
            bank=Bank(slug="stage", title="现场赛题库"), number=1, content_hash="s", title="题库",
            categories=[],
        )  # fmt: skip
        for i, stem in enumerate(STEMS):
            version.questions.append(
                Question(qid=f"s{i}", position=i, type="single", stem=stem, options=OPTIONS,
                         answer="A", category="c", difficulty=1, explanation="尊老爱幼，文明出行。")
            )  # fmt: skip
        agency = Unit(code="AG", name="市直机关工委", kind="agency")
        db.session.add_all(
            [Unit(code=f"B{i}", name=n, kind="branch", parent=agency, registered=10, position=i)
             for i, n in enumerate(BRANCHES)]
        )  # fmt: skip
        db.session.add(version)
        create_user("referee", "password123", "organizer")
        db.session.flush()
        contest = create_stage(db.session, {
            "title": "文明礼仪知识竞赛决赛", "bank": "stage",
            "teams": [{"branch": f"B{i}", "desk": i + 1, "members": ["张明", "李华", "王芳"]}
                      for i in range(4)],
            "rounds": [
                {"type": "required", "title": "第一轮 必答题", "questions": 4},
                {"type": "buzz", "title": "第二轮 抢答题", "questions": 2, "foul": -10},
                {"type": "risk", "title": "第三轮 风险题", "questions": 1},
            ],
        }, seed=4)  # fmt: skip
        db.session.commit()
        pins = db.session.scalars(
            select(StageTeam.pin)
            .where(StageTeam.contest_id == contest.id)
            .order_by(StageTeam.position)
        ).all()
        info = {"id": contest.id, "pin": contest.pin, "team_pins": list(pins)}
        db.engine.dispose()
    return info


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    data = tmp_path_factory.mktemp("stage-browser")
    url = f"sqlite:///{data / 'quiz.sqlite3'}"
    info = _seed(url)
    port = free_port()
    env = {
        "QUIZ_DATABASE_URL": url,
        "QUIZ_SECRET_KEY": "browser-test-key-of-at-least-32-characters",
        "QUIZ_DATA_DIR": str(data),
    }
    proc = start_gunicorn(port, env)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {**info, "base": f"http://127.0.0.1:{port}"}
    stop(proc)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20000)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, width, height, errors):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def test_three_screens_through_a_contest(server, browser):
    from playwright.sync_api import expect

    base, errors = server["base"], []
    referee = _page(browser, 1366, 768, errors)
    referee.goto(f"{base}/stage/referee/{server['id']}")
    referee.fill("input[name=username]", "referee")
    referee.fill("input[name=password]", "password123")
    referee.click("button[type=submit]")
    referee.wait_for_url(f"**/stage/referee/{server['id']}")
    expect(referee.locator("#sr-step")).to_have_text("等待开始")

    screen = _page(browser, 1920, 1080, errors)
    screen.goto(f"{base}/stage/{server['pin']}/screen")
    devices = []
    for pin in server["team_pins"][:2]:
        device = _page(browser, 360, 740, errors)
        device.goto(f"{base}/stage/{server['pin']}/team")
        device.fill("#team-pin", pin)
        device.click("#join-form button[type=submit]")
        expect(device.locator("#desk")).to_be_visible()
        devices.append(device)
    a, b = devices
    a.wait_for_timeout(1800)  # the first clock exchanges

    # 必答题: team A's device shows its question and choices; the referee sees the answer
    referee.click("[data-act=next]")
    expect(a.locator("#st-status")).to_have_text("请本队作答")
    expect(referee.locator("#sr-answer")).to_contain_text("正确答案：A")
    expect(screen.locator("#ss-answer, .is-correct")).to_have_count(0)  # not before the ruling
    a.screenshot(path=str(SHOTS / "stage-team-required-360.png"))
    a.click(".st-option[data-id=A]")
    expect(screen.locator(".ss-option.is-correct")).to_have_count(1)
    screen.wait_for_timeout(300)
    screen.screenshot(path=str(SHOTS / "stage-screen-ruled-1920.png"))
    for _ in range(3):
        referee.click("[data-act=next]")
        expect(referee.locator("#sr-step")).to_have_text("作答中")
        referee.click("[data-act=rule][data-correct=true]")
        expect(referee.locator("#sr-step")).to_have_text("本题结束")

    # 抢答题: buzzers open, team B taps; the screen highlights the winner
    referee.click("[data-act=next]")
    expect(b.locator("#st-buzz")).to_be_visible()
    b.screenshot(path=str(SHOTS / "stage-team-buzz-wait-360.png"))
    referee.click("[data-act=open]")
    expect(b.locator("#st-buzz")).to_have_attribute("data-state", "open")
    b.screenshot(path=str(SHOTS / "stage-team-buzz-open-360.png"))
    b.locator("#st-buzz").dispatch_event("pointerdown")
    expect(screen.locator(".ss-team.is-winner")).to_have_count(1)
    expect(referee.locator("#sr-order li")).to_have_count(1)
    screen.wait_for_timeout(300)
    screen.screenshot(path=str(SHOTS / "stage-screen-buzz-1920.png"))
    referee.screenshot(path=str(SHOTS / "stage-referee-buzz-1366.png"))
    referee.click("[data-act=rule][data-correct=false]")
    referee.fill("#adj-value", "5")
    referee.fill("#adj-reason", "评委复核：答案部分正确")
    referee.click("#sr-adjust button[type=submit]")
    expect(referee.locator("#sr-rulings li").first).to_contain_text("评委复核")
    referee.click("[data-act=next]")
    referee.click("[data-act=open]")
    referee.click("[data-act=close]")

    # 风险题 for team A, then the podium
    referee.click("[data-act=next]")
    expect(a.locator(".st-value")).to_have_count(3)
    a.screenshot(path=str(SHOTS / "stage-team-risk-360.png"))
    a.click(".st-value >> text=30 分")
    expect(a.locator(".st-option")).to_have_count(4)
    a.click(".st-option[data-id=A]")
    referee.click("[data-act=next]")
    expect(screen.locator(".ss-place")).to_have_count(4)
    screen.wait_for_timeout(1000)
    screen.screenshot(path=str(SHOTS / "stage-screen-podium-1920.png"))
    referee.screenshot(path=str(SHOTS / "stage-referee-final-1366.png"))
    a.screenshot(path=str(SHOTS / "stage-team-final-360.png"))
    assert errors == []
    assert "<b>" not in screen.content() or "&lt;b&gt;" in screen.content()


def test_referee_console_needs_the_organizer_login(server):
    import requests

    reply = requests.get(
        f"{server['base']}/stage/referee/{server['id']}", allow_redirects=False, timeout=10
    )
    assert reply.status_code in (302, 401)
