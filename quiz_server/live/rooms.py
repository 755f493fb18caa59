"""The live layer's audiences: namespaces, the rooms inside them, one emit per language room."""

from __future__ import annotations

from typing import Any

from .. import i18n
from ..extensions import socketio

PLAY = "/play"
HOST = "/host"


def room(contest_id: int, locale: str = i18n.HANS) -> str:
    """The phones' room of a contest; members reading 繁體 share a second room per contest."""
    return f"c{contest_id}" if locale == i18n.HANS else f"c{contest_id}:hant"


def member_room(participant_id: int) -> str:
    """One member's own room: reaches their phone from any process (kick), without a sid."""
    return f"p{participant_id}"


def host_room(contest_id: int, locale: str = i18n.HANS) -> str:
    return f"h{contest_id}" if locale == i18n.HANS else f"h{contest_id}:hant"


def emit_localised(event: str, payload: dict[str, Any], contest_id: int, namespace: str) -> None:
    """One emit per language room of an audience; OpenCC converts the payload once, not per socket."""
    to = room if namespace == PLAY else host_room
    for locale in i18n.LOCALES:
        socketio.emit(
            event, i18n.convert(payload, locale), to=to(contest_id, locale), namespace=namespace
        )
