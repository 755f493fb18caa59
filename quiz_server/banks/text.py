"""Cleaning question text copied from the web: pinyin artifacts such as 區(qū) and 機(jī)關(guān).

Mirror sites of mainland news carry Traditional text with tone-marked pinyin in parentheses
after some characters (flattened ruby markup or content-farm spinning; see FACTS.md §4).
"""

from __future__ import annotations

import re
from functools import cache

import opencc

from .parsed import ParsedBank

TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_COMBINING = "\u0300-\u036f"
_ARTIFACT = re.compile(
    rf"([\u3400-\u9fff])[(（]([a-zA-Z{TONED}{_COMBINING}]{{1,8}})[)）]",
)
_TONE_MARK = re.compile(rf"[{TONED}{_COMBINING}]")
_MOJIBAKE = re.compile(r"\?{2,}")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _is_artifact(match: re.Match[str]) -> bool:
    """A tone mark or ü is required, so a genuine abbreviation such as 文明风(wmf) survives."""
    return bool(_TONE_MARK.search(match.group(2)))


def artifacts(text: str) -> list[str]:
    """Each artifact in `text` with its replacement, as shown to the organizer: "區(qū) → 区"."""
    return [
        f"{m.group(0)} → {_t2s().convert(m.group(1))}"
        for m in _ARTIFACT.finditer(text)
        if _is_artifact(m)
    ]


def clean_text(text: str) -> tuple[str, int]:
    """Strip pinyin artifacts, then convert that text to Simplified; returns (text, removed).

    Conversion with OpenCC t2s runs only when the text had an artifact: artifacts come with
    Traditional copies, while a zh-CN bank may quote a Traditional character on purpose.
    The pinyin must go first: t2s alone leaves "区(qū)".
    """
    count = 0

    def drop(match: re.Match[str]) -> str:
        nonlocal count
        if not _is_artifact(match):
            return match.group(0)
        count += 1
        return match.group(1)

    stripped = _ARTIFACT.sub(drop, text)
    if not count:
        return text, 0
    return _t2s().convert(stripped), count


def looks_garbled(text: str) -> bool:
    """Runs of "??" are characters lost to a wrong encoding; only a human can restore them."""
    return bool(_MOJIBAKE.search(text))


def clean_bank(bank: ParsedBank) -> list[str]:
    """Cleans every human-written field in place; one note per field cleaned or in doubt, as
    "field: what" with the field named as in error messages (`q1.stem`, `bank.title`)."""
    notes: list[str] = []
    bank.title = _clean(bank.title, "bank.title", notes)
    bank.description = _clean(bank.description, "bank.description", notes)
    for category in bank.categories:
        category["title"] = _clean(category["title"], f"categories.{category['id']}.title", notes)
    for q in bank.questions:
        q.stem = _clean(q.stem, f"{q.qid}.stem", notes)
        q.options = [_clean(o, f"{q.qid}.options[{i}]", notes) for i, o in enumerate(q.options)]
        q.explanation = _clean(q.explanation, f"{q.qid}.explanation", notes)
        q.source = _clean(q.source, f"{q.qid}.source", notes)
    return notes


def split_note(note: str) -> tuple[str, str]:
    """A note's (field, what was done): the console shows the field's Chinese label beside it."""
    key, _, what = note.partition(": ")
    return key, what


def _clean(text: str, label: str, notes: list[str]) -> str:
    found = artifacts(text)
    if found:
        notes.append(f"{label}: {', '.join(found)}")
    if looks_garbled(text):
        notes.append(f"{label}: 含有“??”，可能是乱码，请人工核对")
    return clean_text(text)[0]
