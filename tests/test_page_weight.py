"""What a member's phone downloads on a weak network, in real Chromium against real gunicorn.

Chromium is throttled through the DevTools protocol to the 3G profile members meet in a hall
(400 ms latency, 400 kbps each way) at 360×740 with WeChat's user agent. For the live phone page
and the campaign phone page: the bytes on the wire (every response's encoded length, headers
included) and the time until the join form can be used, on a first visit and on a return visit
in the same browser. Bytes are deterministic and asserted; times are only printed (a shared
machine is noisy; the target is ≤ 2.5 s on a first visit). The figures are printed at the end
of the pytest run (`-v` adds each response).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_bank, make_branches, report_figure
from servers import free_port, start_gunicorn, stop

from quiz_server import create_app
from quiz_server.campaign import Rules
from quiz_server.campaign.setup import create_campaign
from quiz_server.config import Settings
from quiz_server.contests import create_contest
from quiz_server.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 12; V2141A Build/SP1A.210812.003; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
    "MMWEBSDK/20230405 MMWEBID/1234 MicroMessenger/8.0.35.2360(0x28002339) WeChat/arm64 "
    "Weixin NetType/4G Language/zh_CN ABI/arm64"
)
THREE_G = {  # bytes per second: 400 kbit/s
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
}
FIRST_VISIT_MAX = 50_000
RETURN_VISIT_MAX = 15_000

# The join form is usable: its screen shows, the contest (and so its branches) has been looked
# up, and the button can be pressed. Returns ms since navigation start.
LIVE_USABLE = """() => {
  const screen = document.getElementById('screen-join');
  const button = document.getElementById('join-btn');
  const branches = document.querySelectorAll('#branch-list input, #branch-select option');
  return screen && !screen.hidden && button && !button.disabled && branches.length > 0
    && performance.now();
}"""
CAMPAIGN_USABLE = """() => {
  const screen = document.getElementById('screen-join');
  const button = document.getElementById('join-btn');
  return screen && !screen.hidden && button && !button.disabled
    && document.querySelectorAll('#screen-join input[name=branch], #branch-select option').length > 0
    && performance.now();
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    data = tmp_path_factory.mktemp("weight")
    url = f"sqlite:///{data / 'quiz.sqlite3'}"
    app = create_app(Settings.from_env(database_url=url, data_dir=data, run_timers=False))
    with app.app_context():
        branches = make_branches(db.session, sizes=(10, 20, 15, 8, 12, 9, 11, 7))
        live = create_contest(
            db.session, title="文明交通知识竞答", bank_version=make_bank(db.session, "live"),
            rule=3, branches=branches, seed=5,
        )  # fmt: skip
        starts = datetime.now(UTC) - timedelta(hours=1)
        campaign = create_campaign(
            db.session, title="文明礼仪网络竞答活动", bank_version=make_bank(db.session, "c", 8),
            rule=4, branches=branches,
            rules=Rules(starts_at=starts, ends_at=starts + timedelta(days=5)),
        )  # fmt: skip
        db.session.commit()
        pins = {"live": live.pin, "campaign": campaign.pin}
        db.engine.dispose()
    port = free_port()
    env = {
        "QUIZ_DATABASE_URL": url,
        "QUIZ_SECRET_KEY": "page-weight-test-key-of-at-least-32-characters",
        "QUIZ_DATA_DIR": str(data),
    }
    proc = start_gunicorn(port, env)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"base": f"http://127.0.0.1:{port}", **pins}
    stop(proc)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Wire:
    """Every response a page's network finished, with its bytes on the wire (CDP's count)."""

    def __init__(self, page, encodings: list[str]) -> None:
        self.urls: dict[str, str] = {}
        self.encodings: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", THREE_G)
        accept = {"Accept-Encoding": ", ".join(encodings)}
        cdp.send("Network.setExtraHTTPHeaders", {"headers": accept})

    def _response(self, event: dict) -> None:
        response = event["response"]
        self.urls[event["requestId"]] = response["url"]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        self.encodings[event["requestId"]] = headers.get("content-encoding", "-")

    def _finished(self, event: dict) -> None:
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])

    def reset(self) -> None:
        self.urls.clear()
        self.encodings.clear()
        self.sizes.clear()

    def total(self) -> int:
        return sum(self.sizes.values())

    def lines(self) -> list[str]:
        rows = sorted(self.sizes.items(), key=lambda item: -item[1])
        return [
            f"    {size:>7,} B  {self.encodings.get(rid, '-'):<7} {_short(self.urls.get(rid, '?'))}"
            for rid, size in rows
        ]


def _short(url: str) -> str:
    path = url.split("//", 1)[-1].split("/", 1)[-1]
    return "/" + path.split("?")[0][:60]


def visit(page, wire: Wire, url: str, usable: str) -> tuple[int, float]:
    """Load `url` throttled; the bytes once the network is quiet, and seconds until usable."""
    wire.reset()
    page.goto(url, wait_until="commit")
    at_ms = page.wait_for_function(usable, polling=50, timeout=60_000).json_value()
    page.wait_for_load_state("networkidle")
    return wire.total(), at_ms / 1000


# What Chromium accepts from an https:// site (brotli first), and from a plain http:// address
# such as a hall's LAN server (no brotli).
ENCODINGS = {"https": ["br", "gzip", "deflate"], "http": ["gzip", "deflate"]}


@pytest.mark.parametrize("scheme", ENCODINGS)
@pytest.mark.parametrize("kind", ["live", "campaign"])
def test_a_phone_page_is_light_on_a_weak_network(server, browser, request, kind, scheme):
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    wire = Wire(page, ENCODINGS[scheme])
    path = f"/j/{server['live']}" if kind == "live" else f"/c/{server['campaign']}"
    usable = LIVE_USABLE if kind == "live" else CAMPAIGN_USABLE
    try:
        first_bytes, first_s = visit(page, wire, server["base"] + path, usable)
        first_lines = wire.lines()
        page.screenshot(path=str(SHOTS / f"weight-{kind}-{scheme}-join-360.png"), full_page=True)
        page.goto("about:blank")
        again_bytes, again_s = visit(page, wire, server["base"] + path, usable)
        again_lines = wire.lines()
    finally:
        context.close()

    report_figure(
        request.config,
        f"page weight, {kind} phone page /{path.split('/')[1]}/<pin>, {'+'.join(ENCODINGS[scheme])}, "
        f"3G (400 ms, 400 kbps), 360x740 WeChat: first visit {first_bytes:,} B, join form usable after {first_s:.2f} s; "
        f"return visit {again_bytes:,} B, usable after {again_s:.2f} s",
        [*first_lines, "    return visit:", *again_lines],
    )
    assert not errors
    assert first_bytes <= FIRST_VISIT_MAX, "\n".join(first_lines)
    assert again_bytes <= RETURN_VISIT_MAX, "\n".join(again_lines)
