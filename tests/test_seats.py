"""Roster seats in a live round: the organizer releases a seat whose member lost their phone or
token, and the member re-claims the same seat (answers and score kept, counted once); a roster
name typed in Traditional script matches its Simplified roster line."""

from __future__ import annotations

import re

import pytest
from conftest import login, make_bank, make_branches, make_user
from sqlalchemy import func, select

from quiz_server import create_app
from quiz_server.contests import create_contest
from quiz_server.extensions import db, socketio
from quiz_server.models import Answer, JoinAttempt, Participant, RosterEntry


@pytest.fixture
def seat_app(live_settings):
    app = create_app(live_settings)
    with app.app_context():
        branches = make_branches(db.session)
        db.session.add_all([
            RosterEntry(unit_id=branches[0].id, name="于丽", member_no="0101"),
            RosterEntry(unit_id=branches[0].id, name="范伟", member_no="0102"),
        ])  # fmt: skip
        contest = create_contest(
            db.session, title="名单竞赛", bank_version=make_bank(db.session), rule=3,
            branches=branches, roster_bound=True, seed=3,
            settings={"timing": {"question_seconds": 20, "auto_advance": False}},
        )  # fmt: skip
        user = make_user(db.session)
        db.session.commit()
        app.config["T"] = {
            "pin": contest.pin, "contest_id": contest.id, "user_id": user.id,
            "branches": [b.id for b in branches],
            "types": [cq.question.type for cq in contest.questions],
        }  # fmt: skip
    yield app
    with app.app_context():
        db.engine.dispose()


def join(app, name, member_no, lang=None):
    t = app.config["T"]
    auth = {"lang": lang} if lang else None
    client = socketio.test_client(app, namespace="/play", auth=auth)
    payload = {"pin": t["pin"], "name": name, "branch_id": t["branches"][0], "member_no": member_no}
    return client, client.emit("join", payload, namespace="/play", callback=True)


def organizer(app):
    http = app.test_client()
    login(http, app.config["T"]["user_id"])
    page = http.get(f"/admin/contests/{app.config['T']['contest_id']}/control").get_data(True)
    token = re.search(r'data-csrf="([^"]+)"', page)
    assert token and "释放席位" in page
    return http, token.group(1)


def release_url(app, pid):
    return f"/admin/contests/{app.config['T']['contest_id']}/seats/{pid}/release"


def seat_of(app, name="于丽"):
    with app.app_context():
        return db.session.scalar(select(Participant).where(Participant.name == name))


def test_a_released_seat_is_reclaimed_by_its_member_with_answers_and_score(seat_app, clock):
    t = seat_app.config["T"]
    old, first = join(seat_app, "于丽", "0101")
    assert first["ok"]
    http, csrf = organizer(seat_app)
    host = socketio.test_client(seat_app, namespace="/host", flask_test_client=http)
    host.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)
    host.emit("control", {"contest_id": t["contest_id"], "action": "start"}, namespace="/host")
    clock.advance(2)
    choice = {"single": ["A"], "multiple": ["A", "B"], "judge": ["T"]}[t["types"][0]]
    assert old.emit("answer", {"position": 0, "choice": choice}, namespace="/play", callback=True)[
        "ok"
    ]
    _, second = join(seat_app, "于丽", "0101")  # the lost phone still holds the seat
    assert second["reason"] == "already_joined"

    pid = seat_of(seat_app).id
    assert http.post(release_url(seat_app, pid)).status_code == 400  # no CSRF token
    ack = http.post(release_url(seat_app, pid), headers={"X-CSRFToken": csrf}).get_json()
    assert ack["ok"]
    (member,) = [m for b in ack["roster"]["branches"] for m in b["members"]]
    assert member["released"] and not member["releasable"] and not member["kicked"]
    ended = [e["args"][0] for e in old.get_received("/play") if e["name"] == "session_ended"]
    assert [e["reason"] for e in ended] == ["seat_released"]
    # The old phone's socket is still open; a tampered client answering on it is refused.
    late = old.emit("answer", {"position": 0, "choice": choice}, namespace="/play", callback=True)
    assert late["reason"] == "seat_released"
    stale = socketio.test_client(seat_app, namespace="/play", auth={"token": first["token"]})
    assert [e["args"][0]["reason"] for e in stale.get_received("/play")] == ["unknown_token"]

    new, back = join(seat_app, "於麗", "0101", lang="zh-Hant")  # typed in Traditional script
    assert back["ok"] and back["token"] != first["token"]
    assert back["snapshot"]["me"]["name"] == "于丽"  # the roster's form, never converted
    with seat_app.app_context():
        rows = db.session.scalars(select(Participant)).all()
        outcomes = db.session.scalars(select(JoinAttempt.outcome).order_by(JoinAttempt.id)).all()
    assert len(rows) == 1 and rows[0].id == pid and not rows[0].released  # counted once
    assert outcomes == ["matched", "already_joined", "reclaimed"]
    again = new.emit("answer", {"position": 0, "choice": choice}, namespace="/play", callback=True)
    assert again["ok"]  # the stored answer, handed back: it came along with the seat
    with seat_app.app_context():
        answers = db.session.scalars(select(Answer.participant_id)).all()
    assert answers == [pid]
    _, third = join(seat_app, "于丽", "0101")  # and the seat is held again
    assert third["reason"] == "already_joined"


def test_release_is_for_organizers_and_roster_seats_only(seat_app):
    join(seat_app, "范伟", "0102")
    pid = seat_of(seat_app, "范伟").id
    anonymous = seat_app.test_client()
    assert anonymous.post(release_url(seat_app, pid)).status_code in (302, 400, 401, 403)
    with seat_app.app_context():
        member = make_user(db.session, "member1", role="secretary")
        db.session.commit()
        member_id = member.id
    other = seat_app.test_client()
    login(other, member_id)
    assert other.post(release_url(seat_app, pid)).status_code in (400, 403)
    assert not seat_of(seat_app, "范伟").released
    http, csrf = organizer(seat_app)
    missing = http.post(release_url(seat_app, pid + 99), headers={"X-CSRFToken": csrf})
    assert missing.status_code == 404 and missing.get_json()["reason"] == "no_such_participant"
    with seat_app.app_context():
        db.session.get(Participant, pid).kicked = True
        db.session.commit()
    kicked = http.post(release_url(seat_app, pid), headers={"X-CSRFToken": csrf})
    assert kicked.status_code == 400 and kicked.get_json()["reason"] == "not_releasable"


def test_a_traditional_roster_name_matches_and_the_roster_form_is_stored(seat_app):
    _, ack = join(seat_app, "範 偉", "0102")
    assert ack["ok"] and ack["snapshot"]["me"]["name"] == "范伟"
    with seat_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
    assert seat_of(seat_app, "范伟") is not None


def test_a_live_rounds_fair_play_page_lists_second_devices(seat_app):
    t = seat_app.config["T"]
    join(seat_app, "于丽", "0101")
    join(seat_app, "于丽", "0101")  # a second device: refused and recorded
    assert (
        seat_app.test_client().get(f"/admin/contests/{t['contest_id']}/fairplay").status_code == 302
    )
    http, _ = organizer(seat_app)
    contest_page = http.get(f"/admin/contests/{t['contest_id']}").get_data(as_text=True)
    assert f'href="/admin/contests/{t["contest_id"]}/fairplay"' in contest_page
    page = http.get(f"/admin/contests/{t['contest_id']}/fairplay?lang=zh-Hant").get_data(True)
    assert "同一名單成員多臺設備" in page  # the page is converted, the name is not
    row = re.search(r"<tr><td>于丽</td><td class=\"mono\">0101</td><td>第1党支部</td>"
                    r"<td class=\"num\">1</td>", page)  # fmt: skip
    assert row, page
    assert f"/admin/contests/{t['contest_id']}/control" in page  # where to release the seat
