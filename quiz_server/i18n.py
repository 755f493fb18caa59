"""The Traditional Chinese view: pages and live payloads converted with OpenCC, per member.

The product is written in Simplified Chinese once; a member who chooses 繁體 gets every page and
every question converted on the way out (OpenCC `s2tw`), never a second hand-kept catalogue.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import opencc
from flask import Flask, Response, request

COOKIE = "quiz_lang"
HANS, HANT = "zh-Hans", "zh-Hant"
LOCALES = (HANS, HANT)
# Identifiers the pages match on; converting them would break the protocol.
# Personal and unit names are never converted; the stage payloads carry theirs under these keys.
NAME_KEYS = frozenset({"team_name", "member_names", "member_name"})
UNTOUCHED_KEYS = frozenset(
    {"id", "phase", "type", "reason", "token", "pin", "choice", "correct", *NAME_KEYS}
)


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    # Taiwan standard character forms (行為, 核對): what readers of Traditional script expect;
    # OpenCC's plain `s2t` gives etymological forms (行爲, 覈對). Characters only, no vocabulary.
    return opencc.OpenCC("s2tw")


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    return _converter().convert(text)


def convert(value: Any, locale: str) -> Any:
    """A payload with every human-readable string in `locale`; ids and codes stay as they are."""
    if locale != HANT:
        return value
    return _convert(value)


def _convert(value: Any) -> Any:
    if isinstance(value, str):
        return to_traditional(value) if not value.isascii() else value
    if isinstance(value, dict):
        return {k: v if k in UNTOUCHED_KEYS else _convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value


def normalise(locale: Any) -> str:
    return HANT if locale in (HANT, "hant", "zh-TW", "zh-HK") else HANS


def request_locale() -> str:
    """`?lang=` wins (and is remembered in a cookie by `remember`), then the cookie."""
    return normalise(request.args.get("lang") or request.cookies.get(COOKIE))


def init_app(app: Flask) -> None:
    app.after_request(_localise_response)
    app.context_processor(_template_globals)


def _template_globals() -> dict[str, Any]:
    return {"locale": request_locale(), "LOCALES": LOCALES, "lang_url": lang_url}


def lang_url(locale: str) -> str:
    """This page in `locale`: the same path and query, so switching never loses a PIN."""
    args = {k: v for k, v in request.args.lists() if k != "lang"}
    return f"{request.path}?{urlencode({**args, 'lang': locale}, doseq=True)}"


def _localise_response(response: Response) -> Response:
    locale = request_locale()
    if "lang" in request.args:
        response.set_cookie(COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=False)
    textual = response.mimetype in ("text/html", "application/json")
    if locale == HANT and textual and not response.direct_passthrough:
        response.set_data(to_traditional(response.get_data(as_text=True)))
    return response
