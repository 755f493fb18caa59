"""Sheets and how they are written: a report is a list of `Sheet`s (Chinese headers, every number
a number), written to one xlsx workbook or one CSV per sheet.

Cells of every exported spreadsheet (report xlsx and CSV, bank xlsx): text a member or an
organizer typed never becomes a live formula, whatever it starts with.

xlsx cells carry a type, so such text is written as a string cell and keeps every character
(an exported bank reads back with the same content hash). CSV has no types: a field starting
with = + - @ (or a tab or CR) gets a leading apostrophe, as OWASP advises, which Excel and WPS
show as text and never evaluate.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..models import Contest

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PERCENT, TWO, ONE, WHOLE = "0.0%", "0.00", "0.0", "0"


# The headers of columns holding names, whichever report they are in (a team is a name too).
NAME_HEADERS = frozenset({"姓名", "党支部", "队伍", "单位", "单位名称", "上级单位", "操作人"})


@dataclass(frozen=True)
class Column:
    header: str
    number_format: str | None = None
    width: int = 12

    @property
    def holds_names(self) -> bool:
        """A column of people's, teams' or units' names: never converted on the 繁體 view."""
        return self.header in NAME_HEADERS


@dataclass(frozen=True)
class Sheet:
    key: str  # the CSV name: /report/<key>.csv
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    answers: bool = False  # lists correct answers: only after the contest, or for organizers


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


# ---------------------------------------------------------------- writing files


def workbook_bytes(sheets: list[Sheet]) -> bytes:
    """Written in openpyxl's streaming mode: a 5,000-member report stays a quick download."""
    book = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(book.create_sheet(sheet.title), sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F3E3E5")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.append([_header_cell(ws, c.header) for c in sheet.columns])
    formats = [c.number_format for c in sheet.columns]
    for row in sheet.rows:
        ws.append([_value(ws, v, f) for v, f in zip(row, formats, strict=True)])


def _value(ws: Any, value: Any, number_format: str | None) -> Any:
    if isinstance(value, str):
        return xlsx_text(ws, value)  # a name such as "=1+2" stays text
    return _cell(ws, value, number_format) if number_format and value is not None else value


def _header_cell(ws: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
    return cell


def _cell(ws: Any, value: Any, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def csv_bytes(sheet: Sheet) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese headers correctly on a double click."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in sheet.columns])
    writer.writerows([["" if v is None else csv_field(v) for v in row] for row in sheet.rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def filename(contest: Contest, suffix: str, when: datetime) -> str:
    return f"竞赛{contest.pin}-{suffix}-{when:%Y%m%d-%H%M}"
