"""The hall as it is seen, in real Chromium against a real gunicorn server: the big screen and
a phone name the same option the same way; the join page with 8 and with 60 branches at
360×740; the public standings at 360 px; the campaign rankings' projector mode at 1920×1080.
Screenshots land in test-artifacts/screenshots/hall-*.png for a person to look at."""

from __future__ import annotations

import pytest
from servers import start_gunicorn, stop
from sqlalchemy import select
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    _bank,
    _pick_port,
    host_login,
    host_next,
    wait_screen,
)

from quiz_server import create_app
from quiz_server.config import Settings
from quiz_server.contests import create_contest, new_participant
from quiz_server.demo import seed_demo
from quiz_server.extensions import db
from quiz_server.models import Answer, Unit, User

pytestmark = [pytest.mark.browser, pytest.mark.server]

LETTER_ROWS = [
    ("single", "乘坐公共交通工具时，下列做法正确的是？", ["大声接打电话", "主动给老人让座", "抢占座位", "车厢内进食"], "B"),
    ("judge", "在图书馆内应保持安静。", [], True),
]  # fmt: skip
AGENCIES = ["市教育局", "市卫生健康委", "市交通运输局", "市财政局", "市民政局", "市文化和旅游局"]


def _many_branches(session) -> list[Unit]:
    """Sixty branches with long, real-looking names under six agencies."""
    out = []
    for a, agency_name in enumerate(AGENCIES):
        agency = Unit(code=f"H{a}", name=f"{agency_name}机关党委", kind="agency", position=a)
        session.add(agency)
        for b in range(10):
            out.append(
                Unit(
                    code=f"H{a}-{b}", name=f"{agency_name}第{b + 1}党支部（综合业务与后勤保障）",
                    kind="branch", parent=agency, registered=10 + b, position=b,
                )
            )  # fmt: skip
    session.add_all(out)
    session.flush()
    return out


def _play_some(session, contest, branches) -> None:
    """Members in three branches, one answer each to the first question: scores and ties."""
    cq = contest.questions[0]
    for i, branch in enumerate(branches[:3]):
        member = new_participant(session, contest, branch.id, f"成员{i}", None)
        session.flush()
        session.add(
            Answer(
                contest_id=contest.id, participant_id=member.id, contest_question_id=cq.id,
                choice="B", correct=i == 0, points=900 if i == 0 else 0, potential_points=900,
                elapsed_ms=3000,
            )
        )  # fmt: skip
    cq.revealed_at = cq.closes_at = cq.opens_at = contest.created_at


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    data = tmp_path_factory.mktemp("hall")
    url = f"sqlite:///{data / 'quiz.sqlite3'}"
    app = create_app(Settings.from_env(database_url=url, data_dir=data, run_timers=False))
    with app.app_context():
        demo = seed_demo(db.session)
        demo_branches = list(demo.contest.units)
        host = db.session.scalar(select(User).where(User.username == "admin"))
        from quiz_server.auth import set_password

        set_password(host, "password123")
        host.username = "host"
        many = create_contest(
            db.session, title="六十个党支部的竞答", bank_version=_bank(db.session, "many", LETTER_ROWS),
            rule=1, branches=_many_branches(db.session), seed=1,
        )  # fmt: skip
        letters = create_contest(
            db.session, title="字母与形状", bank_version=_bank(db.session, "letters", LETTER_ROWS),
            rule=2, branches=demo_branches[:4], seed=3,
            settings={"timing": {"question_seconds": 60, "auto_advance": False}},
        )  # fmt: skip
        shuffled = create_contest(
            db.session, title="无大屏的轮次", bank_version=_bank(db.session, "shuffled", LETTER_ROWS),
            rule=2, branches=demo_branches[:1], seed=3,
            settings={"timing": {"question_seconds": 60}, "shuffle_options": True},
        )  # fmt: skip
        _play_some(db.session, demo.contest, demo_branches)
        db.session.commit()
        info = {
            "demo": demo.contest.pin,
            "campaign": demo.campaign.pin if demo.campaign else None,
            "many": many.pin,
            "letters": (letters.id, letters.pin),
            "letters_branch": demo_branches[0].name,
            "shuffled": (shuffled.id, shuffled.pin),
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
def chromium(hall):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _phone(chromium, width=360, height=740):
    context = chromium.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=2, is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 MicroMessenger/8.0.40",
    )  # fmt: skip
    return context, context.new_page()


def _shot(page, name: str, full: bool = False) -> None:
    page.screenshot(path=str(SHOTS / f"hall-{name}.png"), full_page=full)


def _in_view(page, selector: str) -> bool:
    """Entirely inside the viewport without scrolling."""
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight && r.height > 0; }""",
        selector,
    )


def test_join_with_eight_branches_keeps_the_button_on_the_first_screen(hall, chromium):
    context, page = _phone(chromium)
    try:
        page.goto(f"{hall['base']}/j/{hall['demo']}")
        page.wait_for_selector("#branch-field:not([hidden])")
        assert page.locator("#branch-select optgroup").count() == 3  # grouped by agency
        assert _in_view(page, "#join-btn")
        page.fill("#name", "王芳")
        page.click("#join-btn")  # no branch chosen
        error = page.locator("#join-error")
        assert error.is_visible() and error.get_attribute("role") == "alert"
        assert "党支部" in error.inner_text()
        assert _in_view(page, "#join-error") and _in_view(page, "#join-btn")
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#join-error')).fontSize)"
        )
        assert size >= 18
        _shot(page, "join-8-error")
    finally:
        context.close()


def test_join_with_sixty_branches_is_searchable_and_grouped(hall, chromium):
    context, page = _phone(chromium)
    try:
        page.goto(f"{hall['base']}/j/{hall['many']}")
        page.wait_for_selector("#branch-field:not([hidden])")
        assert page.locator("#branch-search").is_visible()
        assert page.locator("#branch-select optgroup").count() == len(AGENCIES)
        assert page.locator("#branch-select optgroup option").count() == 60
        assert _in_view(page, "#join-btn")
        _shot(page, "join-60")
        page.fill("#branch-search", "交通运输局")  # an agency's name: its ten branches
        assert page.locator("#branch-select optgroup option").count() == 10
        assert page.locator("#branch-select optgroup").count() == 1
        page.fill("#branch-search", "交通运输局第7")  # one match is chosen at once
        assert page.locator("#branch-select optgroup option").count() == 1
        assert page.eval_on_selector(
            "#branch-select", "s => s.selectedOptions[0].textContent"
        ).startswith("市交通运输局第7党支部")
        assert "1" in page.inner_text("#branch-count")
        page.fill("#name", "李强")
        assert _in_view(page, "#join-btn")
        _shot(page, "join-60-search")
        page.click("#join-btn")
        wait_screen(page, "lobby")
    finally:
        context.close()


def test_screen_and_phone_name_each_option_alike(hall, chromium):
    contest_id, pin = hall["letters"]
    errors: list[str] = []
    screen_context, screen = host_login(chromium, hall["base"], contest_id, errors)
    context, page = _phone(chromium)
    try:
        screen.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{hall['base']}/j/{pin}")
        page.fill("#name", "张三")
        page.locator(".branch-choice", has_text=hall["letters_branch"]).click()
        page.click("#join-btn")
        wait_screen(page, "lobby")
        screen.click("button[data-action=start]")
        screen.wait_for_selector("#scene-question:not([hidden])")
        wait_screen(page, "question")
        seen = []
        for position in range(2):
            on_screen = _marks(screen, "#sq-options")
            on_phone = _marks(page, "#q-options")
            name = "judge" if len(on_phone) == 2 else "single"
            seen.append(name)
            assert on_screen == on_phone, name
            if name == "single":
                assert [m[0] for m in on_phone] == ["A", "B", "C", "D"]
                assert [m[2] for m in on_phone] == ["▲", "◆", "●", "■"]
                assert len({m[3] for m in on_phone}) == 4  # four colours
            else:
                assert [(m[0], m[1]) for m in on_phone] == [("A", "正确"), ("B", "错误")]
            _shot(screen, f"screen-{name}")
            _shot(page, f"phone-{name}")
            page.locator("#q-options button.option").nth(
                0 if name == "judge" else 1
            ).click()  # right
            page.wait_for_selector("#q-answered:not([hidden])")
            # One member, all answered: the question closes by itself, before its 60 s.
            screen.wait_for_selector("#scene-reveal:not([hidden])", timeout=15000)
            wait_screen(page, "reveal")
            percent = screen.locator("#sr-dist .dist-percent").first
            assert percent.is_visible()
            big = screen.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('#sr-dist .dist-percent')).fontSize)"
            )
            assert big >= 48
            screen.wait_for_timeout(1200)  # the bars grow
            _shot(screen, f"screen-{name}-reveal")
            _shot(page, f"phone-{name}-reveal", full=True)
            host_next(screen, "leaderboard")
            screen.wait_for_timeout(1500)  # the bar race settles
            ranks = screen.eval_on_selector_all(
                "#race .race-rank", "cells => cells.map((c) => c.textContent)"
            )
            # One member scored; three branches tied at nothing: rank 2 shown once, marked.
            assert ranks == ["1", "2并列", "", ""], ranks
            _shot(screen, f"screen-{name}-leaderboard")
            if position == 0:
                host_next(screen, "question")
                wait_screen(page, "question")
        assert sorted(seen) == ["judge", "single"]
        host_next(screen, "finished")
        screen.wait_for_timeout(3000)  # the podium rises
        _shot(screen, "screen-podium")
        assert not errors, errors
    finally:
        context.close()
        screen_context.close()


def _marks(page, box: str) -> list[tuple[str, str, str, str]]:
    """(letter, option text, shape, colour) of each option, in the order shown."""
    return [
        tuple(row)
        for row in page.evaluate(
            """(box) => [...document.querySelectorAll(box + ' > *')].map((o) => {
              const mark = o.querySelector('.mark');
              const shape = getComputedStyle(mark.querySelector('.mark-shape'), '::before').content;
              return [mark.querySelector('.mark-letter').textContent,
                      o.querySelector('.option-text, .sq-text').textContent,
                      shape.replace(/"/g, ''), getComputedStyle(mark).backgroundColor];
            })""",
            box,
        )
    ]


@pytest.mark.parametrize("which", ["demo", "many"])
def test_the_standings_read_on_a_phone(hall, chromium, which):
    context, page = _phone(chromium)
    try:
        page.goto(f"{hall['base']}/standings/{hall[which]}")
        page.wait_for_selector(".tree-table")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        heights = page.evaluate(
            """() => [...document.querySelectorAll('.tree-table .unit-name')].map((n) => {
              const lines = n.getBoundingClientRect().height / parseFloat(getComputedStyle(n).lineHeight);
              return Math.round(lines); })"""
        )
        assert heights and max(heights) <= 2, heights
        ties = page.locator(".tree-table .tie-tag")
        assert ties.count() >= 2  # the branches tied at nothing are marked 并列
        _shot(page, f"standings-360-{which}", full=True)
        _shot(page, f"standings-360-{which}-top")
    finally:
        context.close()


def test_the_rankings_projector_mode_reads_across_a_room(hall, chromium):
    if not hall["campaign"]:
        pytest.skip("the demo has no campaign")
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{hall['base']}/rankings/{hall['campaign']}")
        page.click("text=投影模式")
        page.wait_for_selector("body.rk-projector")
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('#rankings *')]
              .filter((e) => e.offsetParent !== null && e.closest('svg') === null
                && [...e.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim()))
              .map((e) => parseFloat(getComputedStyle(e).fontSize))"""
        )
        assert sizes and min(sizes) >= 32, sorted(sizes)[:5]
        labels = page.evaluate(
            """() => [...document.querySelectorAll('.rk-chart svg text')]
              .map((t) => t.getBoundingClientRect().height)"""
        )
        assert labels and min(labels) >= 24, sorted(labels)[:5]  # rendered label height, px
        assert page.evaluate("document.documentElement.scrollWidth") <= 1920
        _shot(page, "rankings-projector")
        _shot(page, "rankings-projector-full", full=True)
    finally:
        context.close()


def test_the_campaign_join_uses_the_same_branch_picker(hall, chromium):
    if not hall["campaign"]:
        pytest.skip("the demo has no campaign")
    context, page = _phone(chromium)
    try:
        page.goto(f"{hall['base']}/c/{hall['campaign']}")
        page.wait_for_selector("#screen-join:not([hidden])")
        assert page.locator("#branch-select optgroup").count() >= 3  # grouped by agency
        assert _in_view(page, "#join-btn")
        page.fill("#name", "王芳")
        page.click("#join-btn")  # no branch chosen: a prominent error beside the button
        assert page.locator("#join-error").is_visible() and _in_view(page, "#join-error")
        _shot(page, "campaign-join-error")
        page.select_option("#branch-select", label="办公室党支部")
        page.click("#join-btn")
        page.wait_for_selector("#screen-home:not([hidden])")
    finally:
        context.close()


def test_a_shuffling_round_shows_phones_no_letters(hall, chromium):
    contest_id, pin = hall["shuffled"]
    errors: list[str] = []
    screen_context, screen = host_login(chromium, hall["base"], contest_id, errors)
    context, page = _phone(chromium)
    try:
        page.goto(f"{hall['base']}/j/{pin}")
        page.fill("#name", "赵六")
        page.click("#join-btn")  # the only branch is chosen already
        wait_screen(page, "lobby")
        screen.click("button[data-action=start]")
        wait_screen(page, "question")
        assert page.locator("#q-options button.option").count() >= 2
        assert page.locator("#q-options .mark").count() == 0
        assert screen.locator("#sq-options .mark").count() >= 2  # the screen keeps its letters
        _shot(page, "phone-shuffled")
        assert not errors, errors
    finally:
        context.close()
        screen_context.close()
