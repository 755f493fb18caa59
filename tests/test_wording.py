"""Wording members read: practice feedback in plain words (a judge question's answer says what
it means), and 您, never 你, in every page, script and message catalogue."""

from __future__ import annotations

import pytest
from conftest import ROOT
from test_campaign_views import Phone, c, capp, phone  # noqa: F401  (fixtures)

from quiz_server.campaign.payloads import practice_check
from quiz_server.messages import _PAGES, REFUSALS, strings_for
from quiz_server.models import Question


def question(qtype, answer, options=()):
    return Question(type=qtype, answer=answer, options=list(options), stem="题", explanation="")


@pytest.mark.parametrize(
    ("q", "choice", "verdict", "answer"),
    [
        (question("judge", False), ["T"], "回答错误", "错误（该说法不正确）"),
        (question("judge", False), ["F"], "回答正确", "错误（该说法不正确）"),
        (question("judge", True), ["F"], "回答错误", "正确（该说法正确）"),
        (question("multiple", ["A", "C"], ["甲", "乙", "丙"]), ["A"], "回答错误", "甲、丙"),
        (question("single", "B", ["甲", "乙", "丙"]), ["B"], "回答正确", "乙"),
    ],
)
def test_practice_feedback_says_the_answer_in_words(q, choice, verdict, answer):
    checked = practice_check(q, choice)
    assert (checked["verdict"], checked["answer_text"]) == (verdict, answer)


def test_the_practice_api_and_the_phone_script_use_the_plain_words(capp, c, phone, clock):  # noqa: F811
    clock.advance(6 * 86400)  # the window has closed: practice is open
    questions = phone.call("GET", "/practice?category=c")[1]["questions"]
    judge = next(q for q in questions if q["type"] == "judge")  # the answer is 正确 (True)
    checked = phone.call("POST", f"/practice/{judge['id']}", {"choice": ["F"]})[1]
    assert (checked["verdict"], checked["answer_text"]) == ("回答错误", "正确（该说法正确）")
    strings = strings_for("campaign")
    line = strings["answer_line"].format(answer=checked["answer_text"])
    assert f"{checked['verdict']}。{line}" == "回答错误。正确答案：正确（该说法正确）"
    assert (strings["right"], strings["wrong"]) == ("回答正确", "回答错误")
    script = (ROOT / "static" / "js" / "campaign.js").read_text(encoding="utf-8")
    assert 'fmt("answer_line", { answer: res.answer_text })' in script


def _texts() -> dict[str, str]:
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static" / "js").glob("*.js")]
    out = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}
    for page in _PAGES:
        out[f"messages:{page}"] = "\n".join(str(v) for v in strings_for(page).values())
    out["messages:refusals"] = "\n".join(REFUSALS.values())
    return out


def test_members_are_addressed_as_nin_everywhere():
    texts = _texts()
    assert len(texts) > 20
    assert {name for name, text in texts.items() if "你" in text} == set()
    assert "您的选择" in texts["messages:campaign"]
