"""The live round's rules at the socket edge: one answer grace for taking answers and for the
reveal, and no live step on a campaign."""

from __future__ import annotations

import pytest
from test_live import answer, control, host, live_app, phone, right, t  # noqa: F401  (fixtures)

from quiz_server import live
from quiz_server.extensions import db
from quiz_server.models import Contest

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
