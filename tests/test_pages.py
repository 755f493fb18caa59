"""The server-rendered pages, the contest lookup API and the join QR code."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import login, make_bank, make_branches, make_user

from quiz_server.contests import create_contest
from quiz_server.extensions import db
from quiz_server.links import join_url
from quiz_server.messages import REFUSALS, strings_for
from quiz_server.models import Unit

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_REASONS = (
    "not_joined kicked not_open too_late already_answered no_such_option bad_request wrong_phase "
    "no_such_contest no_such_branch name_required not_on_roster already_joined contest_over"
).split()


@pytest.fixture
def t(app):
    with app.app_context():
        version = make_bank(db.session)
        branches = make_branches(db.session)
        loose = Unit(
            code="LOOSE", name="直属<b>党支部</b>", kind="branch", registered=5, position=9
        )
        db.session.add(loose)
        contest = create_contest(
            db.session, title="礼仪<script>竞答</script>", bank_version=version, rule=3,
            branches=[*branches, loose], seed=1,
        )  # fmt: skip
        organizer = make_user(db.session)
        secretary = make_user(db.session, "sec", "secretary")
        db.session.commit()
        return {
            "contest_id": contest.id,
            "pin": contest.pin,
            "organizer": organizer.id,
            "secretary": secretary.id,
        }


def page_strings(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="strings">(.*?)</script>', html, re.S)
    assert found, "the page carries its strings as JSON"
    return json.loads(found.group(1))


def test_landing_links_to_play_and_organizer_login(client):
    html = client.get("/").get_data(as_text=True)
    assert 'action="/play"' in html and 'name="pin"' in html
    assert 'href="/login"' in html


def test_play_page_prefills_the_pin_from_the_qr_link(client, t):
    response = client.get(f"/j/{t['pin']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-pin="{t["pin"]}"' in html
    assert f'value="{t["pin"]}"' in html
    assert "/static/vendor/socket.io.min.js" in html and "/static/js/play.js" in html
    assert page_strings(html)["refusals"]["too_late"] == "已超过作答时间，本题不计分"


def test_play_page_keeps_only_digits_of_a_typed_pin(client):
    html = client.get("/play?pin=12 34<x>56").get_data(as_text=True)
    assert 'data-pin="123456"' in html


def test_pages_have_no_inline_script_or_handler_and_send_a_csp(client):
    response = client.get("/play")
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
    assert not re.search(r"\son[a-z]+=", html)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")


def lang_links(html: str) -> dict[str, tuple[str, bool]]:
    """The 简/繁 switch of a page: language -> (link, is the current one)."""
    links = {}
    for tag in re.findall(r'<a class="lang-option"[^>]*>', html):
        href = re.search(r'href="([^"]+)"', tag).group(1).replace("&amp;", "&")
        links[re.search(r'data-lang="([^"]+)"', tag).group(1)] = (href, "aria-current" in tag)
    return links


def test_every_page_offers_simplified_and_traditional_and_keeps_its_query(client, t):
    login(client, t["organizer"])
    pages = ("/", f"/j/{t['pin']}", "/play?pin=12", "/login", f"/host/{t['contest_id']}", "/no")
    for path in pages:
        links = lang_links(client.get(path).get_data(as_text=True))
        base, query = (path.split("?") + [""])[:2]
        joined = f"{query}&" if query else ""
        assert links == {
            "zh-Hans": (f"{base}?{joined}lang=zh-Hans", True),
            "zh-Hant": (f"{base}?{joined}lang=zh-Hant", False),
        }, path


def test_a_traditional_page_marks_its_language_for_the_phone_script(client, t):
    html = client.get(f"/j/{t['pin']}?lang=zh-Hant").get_data(as_text=True)
    assert '<html lang="zh-Hant" data-locale="zh-Hant">' in html
    assert lang_links(html)["zh-Hant"][1] and not lang_links(html)["zh-Hans"][1]
    assert page_strings(html)["submitted"] == "已提交，等待揭曉"


def test_api_describes_the_contest_and_its_branches_grouped_by_agency(client, t):
    response = client.get(f"/api/contests/{t['pin']}")
    data = response.get_json()
    assert response.status_code == 200
    assert data["pin"] == t["pin"] and data["title"] == "礼仪<script>竞答</script>"
    assert data["phase"] == "lobby" and data["mode"] == "live" and data["roster_bound"] is False
    assert sorted((b["name"], b["parent"] or "") for b in data["branches"]) == [
        ("直属<b>党支部</b>", ""),
        ("第1党支部", "机关党委"),
        ("第2党支部", "机关党委"),
    ]


def test_api_answers_404_with_a_chinese_error_for_an_unknown_pin(client, t):
    unknown = "000000" if t["pin"] != "000000" else "999999"
    response = client.get(f"/api/contests/{unknown}")
    assert response.status_code == 404
    assert response.get_json() == {"error": REFUSALS["no_such_contest"]}
    assert client.get("/api/contests/abc").status_code == 404


def test_host_page_requires_an_organizer(client, t):
    url = f"/host/{t['contest_id']}"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, t["secretary"])
    forbidden = client.get(url)
    assert forbidden.status_code == 403
    assert "无权访问" in forbidden.get_data(as_text=True)


def test_host_page_shows_pin_qr_and_the_public_join_url(client, t):
    login(client, t["organizer"])
    response = client.get(f"/host/{t['contest_id']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"http://quiz.test/j/{t['pin']}" in html
    assert f'src="/host/qr/{t["pin"]}.svg"' in html
    assert f'data-contest-id="{t["contest_id"]}"' in html
    assert "礼仪&lt;script&gt;竞答&lt;/script&gt;" in html and "<script>竞答" not in html
    assert page_strings(html)["extend"] == "延长 10 秒"
    assert client.get("/host/99999").status_code == 404


def test_join_url_falls_back_to_the_host_the_organizer_used(app, t):
    app.config["QUIZ"].public_url = None
    with app.test_request_context(base_url="http://10.0.0.5:5000"):
        assert join_url(t["pin"]) == f"http://10.0.0.5:5000/j/{t['pin']}"
    app.config["QUIZ"].public_url = "https://quiz.example.cn/"
    with app.test_request_context(base_url="http://10.0.0.5:5000"):
        assert join_url(t["pin"]) == f"https://quiz.example.cn/j/{t['pin']}"


def test_public_links_are_built_in_one_place_for_pages_and_the_command_line(app, t):
    from quiz_server import links

    pin = t["pin"]
    expected = {
        links.join: f"/j/{pin}",
        links.campaign: f"/c/{pin}",
        links.rankings: f"/rankings/{pin}",
        links.standings: f"/standings/{pin}",
        links.qr: f"/host/qr/{pin}.svg",
    }
    app.config["QUIZ"].public_url = None
    with app.app_context():  # the command line: no request, no public URL → paths
        assert {f: f(pin) for f in expected} == expected
        assert links.absolute(links.rankings(pin)) == f"/rankings/{pin}"
        assert links.play(pin) == f"/play?pin={pin}" and links.play() == "/play"
    app.config["QUIZ"].public_url = "https://quiz.example.cn"
    with app.app_context():
        assert links.absolute(links.standings(pin)) == f"https://quiz.example.cn/standings/{pin}"


def test_every_page_script_uses_the_shared_page_helpers(client, t):
    """One `fmt` for every page: scripts take it from page.js, which base.html loads first."""
    scripts = sorted((ROOT / "static" / "js").glob("*.js"))
    assert len(scripts) == 13  # branches.js: the join forms; stage-*.js: the stage contest
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        if script.name == "page.js":
            assert text.count("function fmt(") == 1
            continue
        if script.name == "stage-clock.js":  # the buzz clock: no text of its own to show
            assert "function fmt(" not in text and "S." not in text
            continue
        assert "window.QuizPage" in text, script.name
        assert "function fmt(" not in text and "JSON.parse(document" not in text, script.name
    html = client.get(f"/j/{t['pin']}").get_data(as_text=True)
    assert html.index("js/page.js") < html.index("js/play.js")
    assert html.count("js/page.js") == 1


def test_qr_code_is_a_public_svg_of_the_join_url(client, t):
    response = client.get(f"/host/qr/{t['pin']}.svg")
    svg = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<path" in svg
    assert f"<title>http://quiz.test/j/{t['pin']}</title>" in svg
    assert client.get("/host/qr/000000.svg").status_code == 404


def test_counting_contest_ids_gives_no_qr_and_no_pin(client, t):
    """Contest ids count up from 1: the old id route handed out every contest's PIN."""
    for contest_id in range(1, 11):
        response = client.get(f"/host/{contest_id}/qr.svg")
        assert response.status_code == 404 and t["pin"] not in response.get_data(as_text=True)


def test_login_page_renders_the_form_and_flashes_a_bad_password(app, client, t):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'name="username"' in html and 'name="remember"' in html
    app.config["WTF_CSRF_ENABLED"] = False
    bad = client.post("/login", data={"username": "org", "password": "wrong-password"})
    assert "用户名或密码不正确" in bad.get_data(as_text=True)


def test_admin_lists_contests_with_a_link_to_the_big_screen(client, t):
    login(client, t["organizer"])
    html = client.get("/admin/").get_data(as_text=True)
    assert f'href="/host/{t["contest_id"]}"' in html
    assert t["pin"] in html


def test_unknown_page_gets_the_chinese_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_every_protocol_refusal_has_a_chinese_message():
    for reason in PROTOCOL_REASONS:
        assert re.search(r"[\u4e00-\u9fff]", REFUSALS[reason]), reason
    assert set(PROTOCOL_REASONS) <= set(strings_for("play")["refusals"])
    with pytest.raises(KeyError):
        strings_for("nowhere")


# ---------------------------------------------------------------- the phone page in Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def browser_page(http, width: int, height: int):
    """Chromium whose every request to http://quiz.test is answered by a Flask test client
    (no server); page errors fail the test."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed")

    def serve(route):
        url = urlsplit(route.request.url)
        response = http.get(url.path + ("?" + url.query if url.query else ""))
        headers = {"content-type": response.headers.get("Content-Type", "text/plain")}
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("http://quiz.test/**", serve)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert not errors, errors


@pytest.fixture
def phone_page(app):
    """Chromium at phone size."""
    with browser_page(app.test_client(), 320, 640) as page:
        yield page


@pytest.mark.browser
def test_phone_join_form_lists_branches_by_agency_as_text(phone_page, t):
    page = phone_page
    page.goto(f"http://quiz.test/j/{t['pin']}")
    page.wait_for_selector("#branch-field:not([hidden])")
    assert page.inner_text("#join-contest-title") == "礼仪<script>竞答</script>"
    groups = page.locator(".branch-group-title").all_inner_texts()
    assert groups == ["机关党委", "其他"]
    assert "直属<b>党支部</b>" in page.locator(".branch-choice").all_inner_texts()
    page.click("#join-btn")
    assert page.inner_text("#join-error") == REFUSALS["name_required"]
    page.fill("#name", "张三")
    page.click("#join-btn")
    assert page.inner_text("#join-error") == strings_for("play")["branch_required"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.browser
def test_phone_unknown_pin_and_large_text_toggle(phone_page):
    page = phone_page
    page.goto("http://quiz.test/play?pin=000001")
    page.wait_for_function("document.getElementById('pin-msg').textContent.length > 0")
    assert page.inner_text("#pin-msg") == strings_for("play")["contest_not_found"]
    base = page.evaluate("parseFloat(getComputedStyle(document.getElementById('name')).fontSize)")
    page.click("#large-toggle")
    large = page.evaluate("parseFloat(getComputedStyle(document.getElementById('name')).fontSize)")
    assert large == pytest.approx(base * 1.25)
    page.reload()
    assert page.get_attribute("#large-toggle", "aria-pressed") == "true"


@pytest.mark.browser
def test_option_shuffle_is_a_stable_per_question_permutation(phone_page):
    page = phone_page
    page.goto("http://quiz.test/play")
    orders = page.evaluate(
        """() => {
        const opts = ["A", "B", "C", "D", "E", "F"].map(id => ({id, text: id}));
        const ids = (seed, pos) => QuizPlay.shuffle(opts, seed, pos).map(o => o.id).join("");
        return {first: ids(12345, 0), again: ids(12345, 0), next: ids(12345, 1),
                other: ids(777, 0), canonical: opts.map(o => o.id).join("")};
    }"""
    )
    assert orders["first"] == orders["again"]
    assert sorted(orders["first"]) == list("ABCDEF")
    assert len({orders["first"], orders["next"], orders["other"]}) > 1
    assert orders["canonical"] == "ABCDEF"
