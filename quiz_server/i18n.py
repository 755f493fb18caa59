"""The Traditional Chinese view: pages and live payloads converted with OpenCC, per member.

The product is written in Simplified Chinese once; a member who chooses 繁體 gets every page and
every question converted on the way out (OpenCC `s2tw`), never a second hand-kept catalogue.

Personal and unit names are never converted (于丽 is not 於麗, 范伟 is not 範偉): in payloads
(socket events and JSON responses) the values under `NAME_KEYS` stay as they are; in HTML a
template marks a name with the `name` filter (`{{ row.name|name }}`), and the page is converted
around it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import opencc
from flask import Flask, Response, json, request
from markupsafe import Markup

COOKIE = "quiz_lang"
HANS, HANT = "zh-Hans", "zh-Hant"
LOCALES = (HANS, HANT)
# Identifiers the pages match on; converting them would break the protocol.
UNTOUCHED_KEYS = frozenset({"id", "phase", "type", "reason", "token", "pin", "choice", "correct"})
# Keys whose text is a person's or a unit's name, in every payload builder (live, campaign,
# stage, boards, the branch lists): a name keeps the characters it was registered with.
NAME_KEYS = frozenset({
    "name", "names", "branch", "unit", "parent", "path", "agency", "system",
    "team_name", "member_names", "member_name",
})  # fmt: skip
# Around a name in rendered HTML (private-use characters, never in real text): the page is
# converted outside them, and they are removed from every page before it is sent.
NAME_OPEN, NAME_CLOSE = "\ue000", "\ue001"


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    # Taiwan standard character forms (行為, 核對): what readers of Traditional script expect;
    # OpenCC's plain `s2t` gives etymological forms (行爲, 覈對). Characters only, no vocabulary.
    return opencc.OpenCC("s2tw")


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    return _converter().convert(text)


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Simplified forms, for matching what a member typed in Traditional script (於麗 → 于丽)."""
    return _to_simplified().convert(text)


def warm() -> None:
    """Load both converters now (about 0.1 s of CPU each, once per process): a server does it
    at start, not inside the first 繁體 broadcast or the first join, where phones wait on it."""
    _converter()
    _to_simplified()


def convert(value: Any, locale: str) -> Any:
    """A payload with every human-readable string in `locale`; ids and codes stay as they are."""
    if locale != HANT:
        return value
    return _convert(value)


def _convert(value: Any) -> Any:
    if isinstance(value, str):
        if NAME_OPEN in value:
            return convert_text(value, HANT)
        return to_traditional(value) if not value.isascii() else value
    if isinstance(value, dict):
        return {k: v if _kept(k, v) else _convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value


def _kept(key: str, value: Any) -> bool:
    """An identifier, or a name (text or a list of texts; a dict under "branch" is walked)."""
    if key in UNTOUCHED_KEYS:
        return True
    names = isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )
    return key in NAME_KEYS and names


def mark_name(text: str) -> str:
    """A name inside a longer text built for a JSON response (a chart's title): marked so the
    conversion skips it; the marks are removed from every JSON response, in either script."""
    return f"{NAME_OPEN}{text}{NAME_CLOSE}"


def keep_name(text: Any) -> Markup:
    """The `name` template filter: `text` escaped and marked so the page's conversion skips it."""
    return Markup("\ue000{}\ue001").format(text)  # NAME_OPEN, NAME_CLOSE; format escapes


def convert_text(text: str, locale: str) -> str:
    """A rendered page in `locale`, names marked by `keep_name` left as they are; the marks go."""
    turn = to_traditional if locale == HANT else str
    out: list[str] = []
    rest = text
    while (start := rest.find(NAME_OPEN)) >= 0 and (end := rest.find(NAME_CLOSE, start)) >= 0:
        out += [turn(rest[:start]), rest[start + 1 : end]]
        rest = rest[end + 1 :]
    out.append(turn(rest.replace(NAME_OPEN, "").replace(NAME_CLOSE, "")))
    return "".join(out)


def normalise(locale: Any) -> str:
    return HANT if locale in (HANT, "hant", "zh-TW", "zh-HK") else HANS


def request_locale() -> str:
    """`?lang=` wins (and is remembered in a cookie by `remember`), then the cookie."""
    return normalise(request.args.get("lang") or request.cookies.get(COOKIE))


def init_app(app: Flask) -> None:
    app.after_request(_localise_response)
    app.context_processor(_template_globals)
    app.add_template_filter(keep_name, "name")


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
    if response.direct_passthrough or response.is_streamed:
        return response
    if response.mimetype == "text/html":
        text = response.get_data(as_text=True)
        if locale == HANT or NAME_OPEN in text:
            response.set_data(convert_text(text, locale))
    elif response.mimetype == "application/json":
        data = response.get_data()
        if locale == HANT:  # structurally, so the names under NAME_KEYS stay as they are
            response.set_data(json.dumps(convert(json.loads(data), locale)))
        elif NAME_OPEN.encode() in data:
            marks = (NAME_OPEN.encode(), NAME_CLOSE.encode())
            response.set_data(data.replace(marks[0], b"").replace(marks[1], b""))
    return response
