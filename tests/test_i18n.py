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
