"""The member's phone and the big screen in real Chromium against a real gunicorn server.

A host logged in through the login page and four phones in two branches play a whole contest:
one phone's clock is wrong, one goes offline mid-question (twice), one uses long-polling only,
one reads Traditional Chinese. Screenshots land in test-artifacts/screenshots/ for a person.
"""

from __future__ import annotations

import json
import math
import re
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import socketio
from conftest import make_branches
from servers import free_port, login_cookie, start_gunicorn, stop

from quiz_server import create_app
from quiz_server.auth import create_user
from quiz_server.config import Settings
from quiz_server.contests import create_contest
from quiz_server.extensions import db
from quiz_server.i18n import to_traditional
from quiz_server.messages import strings_for
from quiz_server.models import Bank, BankVersion, Question

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PLAY = strings_for("play")
PHONE_WIDTHS = (320, 360, 414)
MIN_TAP = 44
# A phone whose clock runs 97 s slow: the countdown must still follow the server's deadline.
SLOW_CLOCK = "(() => { const real = Date.now.bind(Date); Date.now = () => real() - 97000; })();"
XSS_STEM = '礼让<img src=x onerror="window.__xss=1">斑马线<script>window.__xss=2</script>'
XSS_OPTION = "<img src=x onerror=window.__xss=3>"
XSS_NAME = "<svg/onload=__xss=4>"

# Every visible tap target and its size; a radio's target is its label.
TAP_TARGETS_JS = """() => {
  const hidden = (e) => e.closest('[hidden]') || getComputedStyle(e).visibility === 'hidden';
  const out = [];
  const all = document.querySelectorAll('a[href], button, input:not([type=hidden]), select');
  for (const e of all) {
    const target = (e.type === 'radio' || e.type === 'checkbox') && e.closest('label') || e;
    const r = target.getBoundingClientRect();
    if (hidden(e) || r.width === 0 || e.classList.contains('skip-link')) continue;
    const label = (target.textContent || '').trim().slice(0, 12);
    out.push({what: (e.id || e.className || e.tagName) + ' ' + label,
              w: Math.round(r.width), h: Math.round(r.height)});
  }
  return out;
}"""


def _bank(session, slug: str, rows: list[tuple[str, str, list[str], object]]) -> BankVersion:
    version = BankVersion(
        bank=Bank(slug=slug, title="浏览器测试"),
        number=1,
        content_hash=slug,
        title="题库",
        categories=[],
    )
    for position, (qtype, stem, options, answer) in enumerate(rows):
        version.questions.append(
            Question(
                qid=f"{slug}{position}", position=position, type=qtype, stem=stem,
                options=options, answer=answer, category="c", difficulty=1,
                explanation="遵守规则、礼让他人是文明行为的基本要求。",
                source="《文明行为促进条例》",
            )
        )  # fmt: skip
    session.add(version)
    session.flush()
    return version


MAIN_ROWS = [
    (
        "single",
        "机动车行经人行横道时，遇行人正在通过应当怎样做？",
        ["加速通过", "停车让行", "鸣笛催促", "绕行通过"],
        "B",
    ),
    (
        "multiple",
        "下列哪些属于文明观影的行为？",
        ["关闭手机铃声", "大声交谈", "不踢前排座椅", "随手丢弃垃圾"],
        ["A", "C"],
    ),
    ("judge", "聚餐时使用公筷公勺是文明用餐的体现。", [], True),
]
XSS_ROWS = [("single", XSS_STEM, [XSS_OPTION, "停车让行", "<b>粗体</b>"], "B")]
ANSWERS = {stem: key for _, stem, _, key in MAIN_ROWS + XSS_ROWS}


def _pick_port() -> int:
    """A free port in 5500-5599 (kept clear for test servers), else any free port."""
    for port in range(5500, 5600):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (./dev test does it as root)"
        )
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    data = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{data / 'quiz.sqlite3'}"
    app = create_app(Settings.from_env(database_url=url, data_dir=data, run_timers=False))
    # Host-led: a question closes by itself, the host moves on from reveal and leaderboard; it
    # stays open after everyone answered, so a phone can be reloaded mid-question.
    timing = {"question_seconds": 8, "auto_advance": False, "close_early": False}
    with app.app_context():
        branches = make_branches(db.session)
        create_user("host", "password123", "organizer")
        main = create_contest(
            db.session, title="文明交通知识竞答", bank_version=_bank(db.session, "main", MAIN_ROWS),
            rule=3, branches=branches, settings={"timing": timing}, seed=5,
        )  # fmt: skip
        xss = create_contest(
            db.session, title="<script>window.__xss=5</script>竞答",
            bank_version=_bank(db.session, "xss", XSS_ROWS), rule=1, branches=branches,
            settings={"timing": {**timing, "question_seconds": 5}}, seed=1,
        )  # fmt: skip
        layout = create_contest(
            db.session, title="版式检查", bank_version=_bank(db.session, "layout", MAIN_ROWS),
            rule=1, branches=branches, seed=1,
        )  # fmt: skip
        retry = create_contest(
            db.session, title="繁忙重试", bank_version=_bank(db.session, "retry", MAIN_ROWS),
            rule=1, branches=branches, settings={"timing": {**timing, "question_seconds": 30}},
            seed=2,
        )  # fmt: skip
        db.session.commit()
        info = {
            "retry": (retry.id, retry.pin),
            "main": (main.id, main.pin),
            "xss": (xss.id, xss.pin),
            "layout": (layout.id, layout.pin),
            "branches": [b.name for b in branches],
        }
        db.engine.dispose()
    port = _pick_port()
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

    expect.set_options(timeout=30000)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Observer:
    """The server's own view of the contest (a /host socket): deadlines to check phones against."""

    def __init__(self, base: str, contest_id: int) -> None:
        self.phases: list[dict] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("phase", self.phases.append, namespace="/host")
        cookie = login_cookie(base, "host", "password123")
        self.client.connect(base, namespaces=["/host"], headers={"Cookie": cookie}, wait_timeout=10)
        assert self.client.call("watch", {"contest_id": contest_id}, namespace="/host", timeout=10)[
            "ok"
        ]

    def latest(self, phase: str, position: int, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for payload in reversed(self.phases):
                if payload["phase"] == phase and payload["position"] == position:
                    return payload
            time.sleep(0.05)
        raise AssertionError(f"the server never reached {phase} {position}")


@contextmanager
def phone(browser, width: int, errors: list[str], init_script: str | None = None):
    context = browser.new_context(
        viewport={"width": width, "height": 760},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{width}px: {error}"))
    page.websockets = []
    page.on("websocket", lambda ws: page.websockets.append(ws.url))
    page.set_default_timeout(30000)
    try:
        yield context, page
    finally:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def join(page, base: str, pin: str, name: str, branch: str, query: str = "") -> None:
    page.goto(f"{base}/j/{pin}{query}")
    page.fill("#name", name)
    page.locator(".branch-choice", has_text=branch).click()
    page.click("#join-btn")
    page.wait_for_selector("#screen-lobby:not([hidden])")


def host_login(browser, base: str, contest_id: int, errors: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"host: {error}"))
    page.goto(f"{base}/login")
    page.fill("#username", "host")
    page.fill("#password", "password123")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{base}/host/{contest_id}")
    page.wait_for_selector("#scene-lobby:not([hidden])")
    return context, page


def answer(page, question: dict, right: bool = True) -> None:
    """Tap the right options (or a wrong one) by their text, and 提交 for a multiple choice."""
    key = ANSWERS[question["stem"]]
    correct = {"T" if key else "F"} if question["type"] == "judge" else set(key)
    ids = (
        correct if right else {next(o["id"] for o in question["options"] if o["id"] not in correct)}
    )
    traditional = page.evaluate("document.documentElement.dataset.locale") == "zh-Hant"
    for option in question["options"]:
        if option["id"] in ids:
            text = to_traditional(option["text"]) if traditional else option["text"]
            page.locator("#q-options button.option", has_text=text).click()
    if question["type"] == "multiple":
        page.click("#q-submit")


def host_next(host, scene: str) -> None:
    """The host presses 下一步 on the big screen and it shows `scene`."""
    host.click("button[data-action=next]")
    host.wait_for_selector(f"#scene-{scene}:not([hidden])")


def wait_screen(page, name: str, timeout: float = 30000) -> None:
    page.wait_for_selector(f"#screen-{name}:not([hidden])", timeout=timeout)


def assert_tap_targets(page, where: str) -> None:
    small = [t for t in page.evaluate(TAP_TARGETS_JS) if t["w"] < MIN_TAP or t["h"] < MIN_TAP]
    assert not small, f"{where}: tap targets under {MIN_TAP} px: {small}"
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (
        f"{where}: scrolls sideways"
    )


def shown_seconds(page) -> int:
    return int(re.search(r"\d+", page.inner_text("#q-sec")).group())


def earned(page) -> int:
    found = re.search(r"\+(\d+)", page.inner_text("#r-points"))
    return int(found.group(1)) if found else 0


def test_a_full_contest_on_four_phones_and_the_big_screen(server, browser):
    from playwright.sync_api import expect

    base, (contest_id, pin) = server["base"], server["main"]
    first, second = server["branches"]
    errors: list[str] = []
    observer = Observer(base, contest_id)
    host_ctx, host = host_login(browser, base, contest_id, errors)
    with (
        phone(browser, 360, errors, SLOW_CLOCK) as (_, slow),
        phone(browser, 320, errors) as (_, polling),
        phone(browser, 414, errors) as (_, hant),
        phone(browser, 360, errors) as (flaky_ctx, flaky),
    ):
        join(slow, base, pin, "张三", first)
        join(polling, base, pin, "李四", second, "?transport=polling")
        join(hant, base, pin, "王五", second, "?lang=zh-Hant")  # unit names are never converted
        join(flaky, base, pin, "赵六", first)
        expect(host.locator("#lobby-total")).to_contain_text("4")
        shot(host, "host-lobby-1280")
        host.click("button[data-action=start]")
        phones = {"slow": slow, "polling": polling, "hant": hant, "flaky": flaky}
        seen_points = []

        # Question 1: the flaky phone answers offline and comes back before the deadline.
        for page in phones.values():
            wait_screen(page, "question")
        opened = observer.latest("question", 0)
        flaky_ctx.set_offline(True)
        flaky.wait_for_selector("#conn[data-state=disconnected]")
        answer(flaky, opened["question"])
        assert flaky.inner_text("#q-answered-text") == PLAY["offline_pending"]
        shot(flaky, "phone-offline-answer-saved-360")
        remaining = (opened["question"]["closes_at"] - time.time() * 1000) / 1000
        assert abs(shown_seconds(slow) - math.ceil(remaining)) <= 1, (
            "the countdown follows the phone's clock"
        )
        for name, width, label in (
            ("slow", 360, "simplified"),
            ("polling", 320, "polling"),
            ("hant", 414, "traditional"),
        ):
            assert_tap_targets(phones[name], f"question at {width}px")
            shot(phones[name], f"phone-question-{width}-{label}")
        assert "題" in hant.inner_text("#q-type") and hant.inner_text("#q-stem") == to_traditional(
            opened["question"]["stem"]
        )
        for name in ("slow", "polling", "hant"):
            answer(phones[name], opened["question"], right=name != "polling")
        flaky_ctx.set_offline(False)
        expect(flaky.locator("#q-answered-text")).to_have_text(PLAY["submitted"])
        for page in phones.values():
            wait_screen(page, "reveal")
        seen_points.append(earned(flaky))
        shot(slow, "phone-reveal-360-simplified")
        shot(hant, "phone-reveal-414-traditional")
        shot(polling, "phone-reveal-320-polling")
        host_next(host, "leaderboard")
        for page in phones.values():
            wait_screen(page, "leaderboard")
            expect(page.locator("#lb-rank")).to_have_text(re.compile(r"\d"))
        time.sleep(1)  # the bar race settles
        shot(host, "host-leaderboard-1280")
        shot(slow, "phone-rank-360-simplified")
        shot(hant, "phone-rank-414-traditional")
        assert_tap_targets(hant, "rank at 414px")
        host_next(host, "question")

        # Question 2: the flaky phone answers offline and stays away past the deadline.
        for page in phones.values():
            wait_screen(page, "question")
        flaky_ctx.set_offline(True)
        flaky.wait_for_selector("#conn[data-state=disconnected]")
        second_question = observer.latest("question", 1)["question"]
        answer(flaky, second_question)
        for name in ("slow", "polling", "hant"):
            answer(phones[name], second_question, right=name != "slow")
        wait_screen(slow, "reveal")
        flaky_ctx.set_offline(False)
        expect(flaky.locator("#r-result")).to_have_text(PLAY["answer_lost"])
        shot(flaky, "phone-answer-lost-360")
        seen_points.append(0)
        host_next(host, "leaderboard")
        host_next(host, "question")

        # Question 3 and the end.
        for page in phones.values():
            wait_screen(page, "question")
        third_question = observer.latest("question", 2)["question"]
        for page in phones.values():
            answer(page, third_question)
        hant.reload()  # a reopened page resumes from its stored token: same question, own answer
        wait_screen(hant, "question")
        expect(hant.locator("#q-answered-text")).to_have_text(to_traditional(PLAY["submitted"]))
        assert hant.locator("#screen-join").is_hidden()
        wait_screen(flaky, "reveal")
        seen_points.append(earned(flaky))
        host_next(host, "leaderboard")
        host_next(host, "finished")
        for page in phones.values():
            wait_screen(page, "finished")
            expect(page.locator("#fin-rank")).to_have_text(re.compile(r"\d"))
        host.wait_for_selector("#scene-finished:not([hidden])")
        shot(host, "host-finished-1280")
        shot(slow, "phone-finished-360-simplified")
        shot(hant, "phone-finished-414-traditional")
        shot(polling, "phone-finished-320-polling")

        assert polling.websockets == [] and slow.websockets, (
            "?transport=polling never opens a WebSocket"
        )
        final = observer.latest("finished", len(MAIN_ROWS) - 1)
        members = {m["name"]: m for m in final["leaderboard"]["members"]}
        assert sorted(members) == ["张三", "李四", "王五", "赵六"], "each phone joined exactly once"
        assert members["赵六"]["score"] == sum(seen_points), (
            "the offline answer counted once, the lost one not at all"
        )
        assert flaky.inner_text("#fin-score") == PLAY["points"].format(points=sum(seen_points))
    observer.client.disconnect()
    host_ctx.close()
    assert not errors, errors


def test_script_in_a_question_an_option_and_a_name_is_shown_as_text(server, browser):
    from playwright.sync_api import expect

    base, (contest_id, pin) = server["base"], server["xss"]
    errors: list[str] = []
    host_ctx, host = host_login(browser, base, contest_id, errors)
    with phone(browser, 360, errors) as (_, page):
        join(page, base, pin, XSS_NAME, server["branches"][0])
        assert page.inner_text("[data-fill=me-name]") == XSS_NAME
        host.click("button[data-action=start]")
        wait_screen(page, "question")
        assert page.inner_text("#q-stem") == XSS_STEM
        assert XSS_OPTION in page.locator("#q-options").inner_text()
        shot(page, "xss-phone-question-360")
        host.wait_for_selector("#scene-question:not([hidden])")
        assert XSS_STEM in host.inner_text("#sq-stem")
        answer(
            page, {"stem": XSS_STEM, "type": "single", "options": [{"id": "B", "text": "停车让行"}]}
        )
        host.wait_for_selector("#scene-reveal:not([hidden])", timeout=20000)
        host_next(host, "leaderboard")
        expect(host.locator("#top-members")).to_contain_text(XSS_NAME)
        shot(host, "xss-host-leaderboard-1280")
        for where in (page, host):
            assert where.evaluate("typeof window.__xss") == "undefined"
            assert where.locator("img[src=x], svg[onload]").count() == 0
    host_ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_every_page_fits_a_phone_with_large_tap_targets(server, browser, lang):
    base, (_, pin) = server["base"], server["layout"]
    errors: list[str] = []
    label = "simplified" if lang == "zh-Hans" else "traditional"
    pages = {"landing": "/", "join": f"/j/{pin}", "login": "/login", "not-found": "/no-such-page"}
    for width in PHONE_WIDTHS:
        with phone(browser, width, errors) as (_, page):
            for name, path in pages.items():
                page.goto(f"{base}{path}?lang={lang}")
                if name == "join":
                    page.wait_for_selector("#branch-field:not([hidden])")
                    page.fill("#name", "张三")
                text = page.inner_text("body")
                if lang == "zh-Hant":
                    # 党 is left out: branch names (第1党支部) are never converted.
                    assert not re.search("[竞赛码题组织请]", text), f"{name}: simplified text left"
                    assert "黨支部" in text or name != "join"  # the label 所在黨支部 is
                assert_tap_targets(page, f"{name} at {width}px ({lang})")
                shot(page, f"page-{name}-{width}-{label}")
                if name == "join":
                    page.click("#large-toggle")
                    assert_tap_targets(page, f"join with 大字 at {width}px ({lang})")
                    page.click("#large-toggle")
    assert not errors, errors


def test_the_language_choice_is_remembered_on_the_phone(server, browser):
    """A member who chose 繁體 keeps it when the cookie is gone (WeChat clears them)."""
    base, (_, pin) = server["base"], server["layout"]
    errors: list[str] = []
    with phone(browser, 360, errors) as (context, page):
        page.goto(f"{base}/j/{pin}")
        page.click(".lang-option[data-lang=zh-Hant]")
        page.wait_for_selector("html[data-locale=zh-Hant]")
        assert "加入競答" in page.inner_text("#join-btn")
        context.clear_cookies()
        page.goto(f"{base}/j/{pin}")
        page.wait_for_selector("html[data-locale=zh-Hant]")
        assert "加入競答" in page.inner_text("#join-btn")
        assert page.get_attribute(".lang-option[data-lang=zh-Hant]", "aria-current") == "true"
    assert not errors, errors


def test_a_busy_refusal_is_retried_by_the_phone_by_itself(server, browser):
    """The server refuses the first two answers as busy (`retry: true`; injected into the
    phone's WebSocket, so the server never saw them): the phone keeps the answer, says it is
    retrying, and gets it in without a tap."""
    from playwright.sync_api import expect

    base, (contest_id, pin) = server["base"], server["retry"]
    errors: list[str] = []
    refused: list[str] = []
    busy = [{"ok": False, "reason": "busy", "retry": True, "message": "服务器繁忙，请稍后重试"}]

    def route(ws) -> None:
        to_server = ws.connect_to_server()

        def from_page(message) -> None:
            sent = (
                re.match(r'^42/play,(\d+)\["answer"', message) if isinstance(message, str) else None
            )
            if sent and len(refused) < 2:
                refused.append(message)
                ws.send(f"43/play,{sent.group(1)}{json.dumps(busy, ensure_ascii=False)}")
                return
            to_server.send(message)

        ws.on_message(from_page)
        to_server.on_message(ws.send)

    observer = Observer(base, contest_id)
    with phone(browser, 360, errors) as (_, page):
        page.route_web_socket(re.compile(r"/socket\.io/"), route)
        join(page, base, pin, "赵六", server["branches"][0])
        assert observer.client.call("control", {"contest_id": contest_id, "action": "start"},
                                    namespace="/host", timeout=10) == {"ok": True}  # fmt: skip
        question = observer.latest("question", 0)["question"]
        wait_screen(page, "question")
        answer(page, question)
        expect(page.locator("#q-answered")).to_have_attribute("data-state", "ok", timeout=20000)
        assert len(refused) == 2, refused
        expect(page.locator("#q-answered-text")).to_have_text(PLAY["submitted"])
        shot(page, "phone-busy-then-retried-360")
    observer.client.disconnect()
    assert errors == []
