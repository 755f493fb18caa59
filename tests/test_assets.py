"""Static files and pages on the wire: content-versioned URLs, compression, cache headers.

(What a throttled phone downloads as a whole is measured in test_page_weight.py.)
"""

from __future__ import annotations

import gzip
import re
import time
from pathlib import Path

import brotli
import pytest
from conftest import login, make_bank, make_branches, make_user

from quiz_server import assets
from quiz_server.contests import create_contest
from quiz_server.extensions import db

GZIP = {"Accept-Encoding": "gzip, deflate"}
BROTLI = {"Accept-Encoding": "gzip, deflate, br"}


def static_url(client, path: str, name: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(rf'"(/static/{re.escape(name)}\?v=[0-9a-f]+)"', html)
    assert found, f"{path} does not link {name}"
    return found.group(1)


@pytest.fixture
def pin(app):
    with app.app_context():
        contest = create_contest(
            db.session, title="礼仪竞答", bank_version=make_bank(db.session),
            rule=1, branches=make_branches(db.session, sizes=(10,) * 12), seed=1,
        )  # fmt: skip
        db.session.commit()
        return contest.pin


def test_a_versioned_static_file_is_sent_compressed_and_kept_for_a_year(client, app):
    url = static_url(client, "/play", "vendor/socket.io.min.js")
    plain = (app.static_folder + "/vendor/socket.io.min.js").encode()
    original = open(plain, "rb").read()

    reply = client.get(url, headers=GZIP)
    assert reply.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(reply.data) == original
    assert len(reply.data) < len(original) / 2
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in reply.headers["Vary"]
    assert reply.mimetype in ("text/javascript", "application/javascript")

    smaller = client.get(url, headers=BROTLI)
    assert smaller.headers["Content-Encoding"] == "br"
    assert brotli.decompress(smaller.data) == original
    assert len(smaller.data) < len(reply.data)

    bare = client.get(url)
    assert "Content-Encoding" not in bare.headers and bare.data == original


def test_an_unversioned_or_stale_url_is_revalidated_and_answered_304(client):
    url = static_url(client, "/play", "css/app.css")
    path = url.split("?")[0]
    for other in (path, f"{path}?v=0123456789ab"):
        assert client.get(other, headers=GZIP).headers["Cache-Control"] == "no-cache"
    etag = client.get(url, headers=GZIP).headers["ETag"]
    again = client.get(path, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # A browser that asks for another encoding gets its own body, not a 304 for the gzip one.
    assert client.get(path, headers={**BROTLI, "If-None-Match": etag}).status_code == 200


def test_missing_and_escaping_static_paths_are_404(client):
    assert client.get("/static/css/nope.css").status_code == 404
    assert client.get("/static/../quiz_server/config.py").status_code == 404
    assert client.get("/static/css").status_code == 404


def test_the_version_follows_the_content(tmp_path):
    store = assets.AssetStore(str(tmp_path))
    file = tmp_path / "a.css"
    file.write_text("body { color: red; }\n" * 100)
    first = store.get("a.css")
    assert first is not None and first.body("br") and first.body("gzip")
    assert store.get("a.css") is first  # read once
    time.sleep(0.01)
    file.write_text("body { color: blue; }\n" * 100)
    second = store.get("a.css")
    assert second is not None and second.version != first.version
    (tmp_path / "tiny.js").write_text("x()")
    assert store.get("tiny.js").body("gzip") is None  # too small to gain


def test_pages_and_json_are_compressed_when_the_browser_accepts_it(client, pin):
    page = client.get(f"/j/{pin}", headers=BROTLI)
    assert page.headers["Content-Encoding"] == "br"
    assert "加入竞答" in brotli.decompress(page.data).decode()
    api = client.get(f"/api/contests/{pin}", headers=GZIP)
    assert api.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(api.data).decode().startswith("{")
    assert "Content-Encoding" not in client.get(f"/j/{pin}").headers
    # Compression comes after every other hook: the Traditional page is converted, then packed.
    hant = client.get(f"/j/{pin}?lang=zh-Hant", headers=GZIP)
    assert "加入競答" in gzip.decompress(hant.data).decode()


def test_socketio_polling_is_left_to_socketio(client):
    """Flask-Compress sits in Flask; Engine.IO answers before Flask and stays readable."""
    reply = client.get("/socket.io/?EIO=4&transport=polling", headers=GZIP)
    assert reply.status_code == 200
    assert "Content-Encoding" not in reply.headers
    assert reply.data.startswith(b"0{") and b'"sid"' in reply.data


def test_the_phone_page_loads_no_big_screen_styles_and_the_big_screen_does(client, app, pin):
    html = client.get(f"/j/{pin}").get_data(as_text=True)
    assert "css/app.css" in html and "css/screen.css" not in html
    assert f'rel="preload" as="fetch" crossorigin href="/api/contests/{pin}"' in html
    with app.app_context():
        user = make_user(db.session)
        db.session.commit()
        login(client, user.id)
        contest_id = db.session.execute(db.text("select id from contest")).scalar_one()
    screen = client.get(f"/host/{contest_id}").get_data(as_text=True)
    assert "css/app.css" in screen and "css/screen.css" in screen


def test_every_big_screen_template_links_the_big_screen_styles():
    """The big-screen styles live in screen.css: a page drawn as a big screen must link it."""
    templates = Path(__file__).resolve().parent.parent / "templates"
    for page in templates.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "screen-page" in text and "block body_class" in text:
            assert "css/screen.css" in text, page.name
