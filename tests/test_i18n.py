"""The Traditional Chinese view of pages, chosen per member and remembered."""

from __future__ import annotations

from conftest import ROOT

from quiz_server.i18n import convert, to_traditional


def test_a_page_in_traditional_is_remembered_in_a_cookie(client):
    page = client.get("/play?lang=zh-Hant")
    assert page.status_code == 200
    assert "quiz_lang=zh-Hant" in page.headers["Set-Cookie"]
    text = page.get_data(as_text=True)
    assert "競" in text and "竞" not in text
    again = client.get("/play").get_data(as_text=True)  # the cookie keeps the choice
    assert "競" in again
    back = client.get("/play?lang=zh-Hans").get_data(as_text=True)
    assert "竞" in back


def test_conversion_leaves_ids_and_codes_alone():
    payload = {
        "phase": "question",
        "stem": "文明养犬",
        "options": [{"id": "A", "text": "牵绳遛狗"}],
        "reason": "too_late",
    }
    assert convert(payload, "zh-Hant") == {
        "phase": "question", "stem": "文明養犬", "options": [{"id": "A", "text": "牽繩遛狗"}], "reason": "too_late",
    }  # fmt: skip
    assert convert(payload, "zh-Hans") is payload
    assert to_traditional("机关党委") == "機關黨委"


def test_every_bundled_question_converts_to_traditional_without_loss():
    """OpenCC s2tw on every stem, option and explanation of the bundled banks maps back exactly."""
    import opencc

    from quiz_server.banks import parse_file

    back = opencc.OpenCC("tw2s")
    texts = []
    for path in sorted((ROOT / "question_banks").glob("*.yaml")):
        bank, errors = parse_file(str(path))
        assert not errors, path
        for q in bank.questions:
            texts += [q.stem, *(q.options or []), q.explanation or ""]
    assert len(texts) > 500
    assert [t for t in texts if back.convert(to_traditional(t)) != t] == []


# ---------------------------------------------------------------- names are never converted


def test_names_in_payloads_keep_their_characters():
    from quiz_server.i18n import NAME_KEYS

    payload = {
        "name": "于丽",
        "branch": {"id": 1, "name": "范伟党支部", "rank": 1},
        "unit": "范伟党支部",
        "names": ["于丽", "范伟"],
        "path": ["机关党委"],
        "members": [{"name": "于丽", "score": 3, "note": "于是"}],
        "stem": "于是范围",
    }
    assert NAME_KEYS >= {"name", "branch", "unit", "names"}
    assert convert(payload, "zh-Hant") == {
        **payload,
        "members": [{"name": "于丽", "score": 3, "note": "於是"}],
        "stem": "於是範圍",
    }


def test_a_page_converts_around_marked_names():
    from quiz_server.i18n import convert_text, keep_name

    page = f"<p>于是 {keep_name('于丽<b>')} 范围</p>"
    assert convert_text(page, "zh-Hant") == "<p>於是 于丽&lt;b&gt; 範圍</p>"
    assert convert_text(page, "zh-Hans") == "<p>于是 于丽&lt;b&gt; 范围</p>"  # marks gone


def _name_app(live_settings, clock):
    from datetime import timedelta

    from conftest import make_bank, make_branches

    from quiz_server import create_app
    from quiz_server.campaign import Rules
    from quiz_server.campaign.setup import create_campaign
    from quiz_server.contests import create_contest
    from quiz_server.extensions import db

    live_settings.rankings_ttl_seconds = 0
    app = create_app(live_settings)
    with app.app_context():
        branches = make_branches(db.session)
        branches[0].name, branches[0].parent.name = "范伟党支部", "于丽机关党委"
        version = make_bank(db.session, n_single=8)
        starts = clock.now - timedelta(hours=1)
        campaign = create_campaign(
            db.session, title="网络竞答", bank_version=version, rule=4, branches=branches,
            rules=Rules(starts_at=starts, ends_at=starts + timedelta(days=5)),
        )  # fmt: skip
        live = create_contest(
            db.session, title="现场竞答", bank_version=version, rule=3, branches=branches
        )
        db.session.commit()
        app.config["T"] = {"campaign": campaign.pin, "live": live.pin, "branch": branches[0].id}
    return app


def test_campaign_and_board_payloads_in_traditional_keep_names(live_settings, clock):
    import json

    app = _name_app(live_settings, clock)
    t, http = app.config["T"], app.test_client()
    info = http.get(f"/api/campaign/{t['campaign']}?lang=zh-Hant").get_json()
    branch = next(b for b in info["branches"] if b["id"] == t["branch"])
    assert branch["name"] == "范伟党支部" and branch["path"] == ["于丽机关党委", "范伟党支部"][:1]
    body = json.dumps({"name": "于丽", "branch_id": t["branch"]})
    joined = http.post(
        f"/api/campaign/{t['campaign']}/join", data=body, content_type="application/json"
    ).get_json()
    assert joined["ok"] and joined["name"] == "于丽"
    me = http.get(
        f"/api/campaign/{t['campaign']}/me", headers={"X-Member-Token": joined["token"]}
    ).get_json()
    assert (me["name"], me["branch"]) == ("于丽", "范伟党支部")
    for lang in ("zh-Hant", "zh-Hans"):
        text = http.get(f"/api/campaign/{t['campaign']}/rankings?lang={lang}").get_data(True)
        assert "范伟党支部" in text and "範偉" not in text and "\ue000" not in text
        assert ("每日參與" if lang == "zh-Hant" else "每日参与") in text
    page = http.get(f"/standings/{t['live']}?lang=zh-Hant").get_data(as_text=True)
    assert "范伟党支部" in page and "範偉" not in page and "\ue000" not in page
    assert "競" in page  # the page itself is in Traditional script


def test_console_pages_in_traditional_keep_names_and_convert_labels(live_settings, clock):
    """Names of people, teams and units stay as written on the console's 繁體 view (results,
    accounts, the contest form's unit tree, the stage form's programme); the labels convert."""
    import json

    from conftest import login
    from sqlalchemy import select

    from quiz_server.auth import create_user
    from quiz_server.extensions import db
    from quiz_server.models import Contest, Unit

    app = _name_app(live_settings, clock)
    t, http = app.config["T"], app.test_client()
    body = json.dumps({"name": "于丽", "branch_id": t["branch"]})
    assert http.post(
        f"/api/campaign/{t['campaign']}/join", data=body, content_type="application/json"
    ).get_json()["ok"]
    with app.app_context():
        organizer = create_user("org", "password123", "organizer", display_name="于丽")
        secretary = create_user("sec", "password123", "secretary", display_name="范伟")
        secretary.units = [db.session.get(Unit, t["branch"])]
        db.session.commit()
        ids = (organizer.id, secretary.id)
        campaign = db.session.scalar(select(Contest.id).where(Contest.pin == t["campaign"]))
    login(http, ids[0])
    pages = {
        f"/admin/contests/{campaign}/results": ("成績", "于丽", "范伟党支部"),
        "/admin/users": ("賬號", "于丽", "范伟", "范伟党支部"),
        f"/admin/users/{ids[1]}": ("負責單位", 'value="范伟"', "范伟党支部", "于丽机关党委"),
        "/admin/contests/new": ("參賽", "范伟党支部", "于丽机关党委"),
        "/stage/new": ("節目單", "张明", "李华"),  # the sample programme, as the organizer wrote it
    }
    for url, expected in pages.items():
        page = http.get(f"{url}?lang=zh-Hant")
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        for part in expected:
            assert part in text, (url, part)
        for converted in ("範偉", "於麗", "張明", "李華"):
            assert converted not in text, (url, converted)
        assert "\ue000" not in text and "\ue001" not in text
