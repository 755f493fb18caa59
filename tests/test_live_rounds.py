"""The live round's rules at the socket edge: one answer grace for taking answers and for the
reveal, and no live step on a campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import make_bank
from test_live import answer, control, host, live_app, phone, right, t  # noqa: F401  (fixtures)

from quiz_server import live
from quiz_server.campaign import Rules
from quiz_server.campaign.setup import create_campaign
from quiz_server.extensions import db
from quiz_server.models import Contest, Unit

GRACE = 5.0


@pytest.fixture
def live_settings(live_settings):
    live_settings.answer_grace_seconds = GRACE  # QUIZ_ANSWER_GRACE=5
    return live_settings


def test_a_larger_grace_takes_a_later_answer_and_holds_the_reveal(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    b1, _ = phone(live_app, t, "王五", 1)
    assert control(host, t, "start") == {"ok": True}
    clock.advance(20 + 4)  # 4 s past the 20 s deadline, within the 5 s grace
    with live_app.app_context():
        assert live.tick(t["contest_id"]) == 1.0  # the reveal waits for the grace
        assert db.session.get(Contest, t["contest_id"]).phase == "question"
    assert answer(a1, 0, right(t, 0))["ok"]
    clock.advance(1.5)  # now past deadline + grace
    assert answer(b1, 0, right(t, 0))["reason"] == "too_late"
    with live_app.app_context():
        assert live.tick(t["contest_id"]) == 0.0  # due: the question closes by itself
        assert db.session.get(Contest, t["contest_id"]).phase == "reveal"


def test_a_campaign_is_never_stepped_as_a_live_round(live_app, t, host, clock):  # noqa: F811
    with live_app.app_context():
        campaign = create_campaign(
            db.session, title="网络竞答", bank_version=make_bank(db.session, "c-bank"), rule=3,
            branches=[db.session.get(Unit, b) for b in t["branches"]],
            rules=Rules(starts_at=clock(), ends_at=clock() + timedelta(days=5)),
        )  # fmt: skip
        db.session.commit()
        campaign_id = campaign.id
    ack = host.emit(
        "control", {"contest_id": campaign_id, "action": "start"}, namespace="/host", callback=True
    )
    assert (ack["ok"], ack["reason"]) == (False, "campaign_mode")
    with live_app.app_context():
        assert live.step(campaign_id, "next") == "campaign_mode"
        assert db.session.get(Contest, campaign_id).phase == "lobby"
