"""Why an answer or a command was not taken: the reasons both contest modes share.

Refusals are values, never exceptions; the edge maps each to a Chinese message
(`messages.REFUSALS`). Mode-specific reasons extend these in their own package.
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    NOT_JOINED = "not_joined"
    KICKED = "kicked"
    NOT_OPEN = "not_open"
    TOO_LATE = "too_late"
    ALREADY_ANSWERED = "already_answered"
    NO_SUCH_OPTION = "no_such_option"
    BAD_REQUEST = "bad_request"
    WRONG_PHASE = "wrong_phase"
    PAUSED = "paused"
