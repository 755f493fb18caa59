"""Cells of every exported spreadsheet (report xlsx and CSV, bank xlsx): text a member or an
organizer typed never becomes a live formula, whatever it starts with.

xlsx cells carry a type, so such text is written as a string cell and keeps every character
(an exported bank reads back with the same content hash). CSV has no types: a field starting
with = + - @ (or a tab or CR) gets a leading apostrophe, as OWASP advises, which Excel and WPS
show as text and never evaluate.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(cell: Any) -> Any:
    """An openpyxl cell (normal or write-only) whose text openpyxl took for a formula: text."""
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def xlsx_text(ws: Any, value: str) -> WriteOnlyCell:
    """A write-only string cell; control characters xlsx cannot hold are dropped, not a 500."""
    return text_cell(WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value)))


def csv_field(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
