"""A question with six options on the campaign phone: option F is an ordinary option (no judge
question's red ✗), while a judge question's 错误 keeps its mark. In Chromium, with a screenshot
in test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import make_branches, make_user
from test_campaign_views import browser_page, capp  # noqa: F401  (fixtures)

from quiz_server.campaign import Rules
from quiz_server.campaign.setup import create_campaign
from quiz_server.extensions import db
from quiz_server.models import Bank, BankVersion, Question

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def six_option_campaign(app, clock):
    with app.app_context():
        bank = Bank(slug="six", title="六选项题库")
        version = BankVersion(
            bank=bank, number=1, content_hash="six", title="六选项", categories=[]
        )
        rows = [
            ("single", "下列哪一项是文明出行的做法？", ["甲", "乙", "丙", "丁", "戊", "己"], "A"),
            ("judge", "乘坐电梯时应先出后进。", [], True),
        ]
        for position, (qtype, stem, options, answer) in enumerate(rows):
            version.questions.append(
                Question(
                    qid=f"s{position}", position=position, type=qtype, stem=stem, options=options,
                    answer=answer, explanation="解析", category="c", difficulty=1, source="",
                )
            )  # fmt: skip
        db.session.add(version)
        starts = clock.now - timedelta(hours=1)
        contest = create_campaign(
            db.session, title="六选项竞答", bank_version=version, rule=2,
            branches=make_branches(db.session),
            rules=Rules(starts_at=starts, ends_at=starts + timedelta(days=5)),
        )  # fmt: skip
        make_user(db.session)
        db.session.commit()
        return contest.pin


def marker(page, option_id: str) -> str:
    """The `::before` content of the shown question's option `option_id`."""
    return page.eval_on_selector(
        f"#q-options .option[data-id='{option_id}']",
        "b => getComputedStyle(b, '::before').content",
    )


@pytest.mark.browser
def test_option_f_of_a_six_option_question_has_no_judge_mark(browser_page, capp, clock):  # noqa: F811
    page = browser_page
    pin = six_option_campaign(capp, clock)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"http://quiz.test/c/{pin}")
    page.fill("#name", "手机用户")
    page.locator(".branch-choice").first.click()
    page.click("#join-btn")
    page.click("#start-btn")
    page.wait_for_selector("#screen-attempt:not([hidden])")
    SHOTS.mkdir(parents=True, exist_ok=True)
    seen = set()
    for _ in range(2):
        count = page.locator("#q-options .option").count()
        if count == 6:
            assert marker(page, "F") in ("none", "normal")  # no ✗ before anyone answers
            assert marker(page, "A") in ("none", "normal")
            page.screenshot(path=str(SHOTS / "campaign-six-options-360.png"), full_page=True)
        else:
            assert count == 2
            assert marker(page, "F") == '"✗"' and marker(page, "T") == '"✓"'  # judge keeps them
            page.screenshot(path=str(SHOTS / "campaign-judge-360.png"), full_page=True)
        seen.add(count)
        if not page.locator("#next-btn").is_disabled():
            page.click("#next-btn")
            page.wait_for_timeout(100)
    assert seen == {6, 2}
