"""Every public URL a member, a big screen or a printout carries, built in one place.

Each page has a function giving its path on this site (what a link on our own pages uses);
`absolute()` turns a path into the URL to print or encode in a QR code. Absolute URLs start
from `QUIZ_PUBLIC_URL` when it is set (behind a proxy, or the demo's LAN address), else from
the host the request reached us on; on the command line without it they stay paths.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import current_app, has_request_context, request, url_for


def join(pin: str) -> str:
    """A live contest's join page, the target of the big screen's QR code."""
    return _path("player.join", pin=pin)


def play(pin: str = "") -> str:
    """The live phone page, the PIN filled in when given (the landing page's form)."""
    return _path("player.play", pin=pin or None)


def campaign(pin: str) -> str:
    """A campaign's phone page: join, attempts, results, practice."""
    return _path("campaign.phone", pin=pin)


def rankings(pin: str) -> str:
    """A campaign's public unit rankings board."""
    return _path("boards.rankings_page", pin=pin)


def standings(pin: str) -> str:
    """A live contest's public standings board (a campaign's PIN is redirected to rankings)."""
    return _path("boards.standings_page", pin=pin)


def qr(pin: str) -> str:
    """The SVG QR code of `join_url(pin)`: by PIN, never by contest id."""
    return _path("host.qr", pin=pin)


def join_url(pin: str) -> str:
    """The absolute join URL: what the QR code encodes and the big screen prints."""
    return absolute(join(pin))


def absolute(path: str) -> str:
    """`path` on the public base URL (no base on the command line without QUIZ_PUBLIC_URL)."""
    configured = current_app.config["QUIZ"].public_url
    if configured:
        base = str(configured)
    else:
        base = request.host_url if has_request_context() else ""
    return base.rstrip("/") + path


def _path(endpoint: str, **values: Any) -> str:
    # A request context of its own on the command line, so url_for needs no SERVER_NAME.
    context = nullcontext() if has_request_context() else current_app.test_request_context()
    with context:
        return url_for(endpoint, **values)
