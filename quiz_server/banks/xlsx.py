"""Banks as xlsx workbooks, for organizers who keep questions in Excel or WPS: read and export.

Cells become the same located tree the YAML reader builds, so every rule is checked by `schema`
and an error names the row and column letter of the cell to fix.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from ..questions import LETTERS
from .parsed import BankError, Located, ParsedBank
from .schema import Report, build_bank
from .template import (
    CATEGORY_HEADERS,
    CATEGORY_SHEET,
    COLUMNS,
    INFO_KEYS,
    INFO_SHEET,
    OPTION_COLUMNS,
    QUESTION_SHEET,
    TYPE_NAMES,
    template_workbook,
    workbook_bytes,
)

if TYPE_CHECKING:
    from ..models import BankVersion

__all__ = ["export_xlsx", "parse_xlsx", "template_workbook"]

REQUIRED_COLUMNS = ("题型", "题干", "答案", "解析", "分类", "来源")
JUDGE_WORDS = {
    **dict.fromkeys(("对", "正确", "√", "✓", "true", "t", "是"), True),
    **dict.fromkeys(("错", "错误", "×", "✗", "false", "f", "否"), False),
}
SHEETS = (INFO_SHEET, CATEGORY_SHEET)
SEPARATORS = re.compile(r"[\s,，、;；/]+")


def parse_xlsx(data: bytes, filename: str) -> tuple[ParsedBank | None, list[BankError]]:
    """The bank, or None and every error, each naming a row and (when known) a column."""
    try:
        book = openpyxl.load_workbook(BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        return None, [
            BankError(filename, 1, "file", "不是有效的 xlsx 工作簿（请用 Excel/WPS 另存为 .xlsx）")
        ]
    report = Report(filename)
    categories, titles = _categories(report, _sheet(report, book, CATEGORY_SHEET))
    bank = _info(report, _sheet(report, book, INFO_SHEET))
    if isinstance(bank.value, dict):
        bank.value["categories"] = categories
    questions = _questions(report, _question_sheet(book), titles)
    root = Located({"bank": bank, "questions": questions}, 1)
    parsed, errors = build_bank(root, filename, Path(filename).name)
    found = sorted(report.errors + errors, key=_cell_order)
    return None if report.errors else parsed, found


def _cell_order(error: BankError) -> tuple[bool, int, int]:
    """Sheet by sheet (bank information first), then row by row, left to right."""
    questions = not error.field.startswith("bank") and error.field not in SHEETS
    return questions, error.line, column_index_from_string(error.column) if error.column else 0


def export_xlsx(version: BankVersion) -> bytes:
    """The stored version in the organizers' template; reading it back gives the same hash."""
    return workbook_bytes(template_workbook(ParsedBank.from_version(version)))


def _question_sheet(book: Any) -> Worksheet:
    """The sheet named 题目, else the first one: organizers rename and reorder sheets."""
    return book[QUESTION_SHEET] if QUESTION_SHEET in book.sheetnames else book.worksheets[0]


def _sheet(report: Report, book: Any, name: str) -> Worksheet | None:
    if name in book.sheetnames:
        return book[name]
    report.add(Located(None, 1), name, f"缺少工作表“{name}”（请从模板 TEMPLATE.xlsx 开始填写）")
    return None


def _text(value: Any) -> str | None:
    """A cell as the text the organizer sees: 1990 stays "1990", not 1990.0."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


def _cell(cell: Cell) -> Located:
    return Located(_text(cell.value), cell.row, get_column_letter(cell.column))


def _blank(cells: Any) -> bool:
    return all(_text(c.value) is None for c in cells)


def _info(report: Report, sheet: Worksheet | None) -> Located:
    if sheet is None:  # already reported: keep the schema quiet about the missing fields
        return Located({}, 1, rejected=True)
    fields: dict[str, Located] = {}
    for row in sheet.iter_rows(max_col=2):
        key = _text(row[0].value)
        if key is None:
            continue
        name = INFO_KEYS.get(key.lower(), key)
        value = _cell(row[1]) if len(row) > 1 else Located(None, row[0].row, "B")
        if name in fields:
            report.add(value, f"bank.{name}", f"{key} 重复（首次出现在第 {fields[name].line} 行）")
        fields[name] = value
    return Located(fields, 1)


def _headers(report: Report, sheet: Worksheet, known: Any, label: str) -> dict[str, int]:
    """Header name → column index; column order is free, unknown names are reported."""
    found: dict[str, int] = {}
    for cell in sheet[1]:
        raw = _text(cell.value)
        if raw is None or raw.startswith("备注"):
            continue
        name = re.sub(r"[(（].*$", "", re.sub(r"\s+", "", raw))
        where = _cell(cell)
        if name not in known:
            report.add(
                where,
                label,
                f"不认识的列名“{raw}”（可用：{'、'.join(known)}；备注列请以“备注”开头）",
            )
        elif name in found:
            report.add(where, label, f"列“{name}”重复")
        else:
            found[name] = cell.column
    return found


def _missing(
    report: Report, headers: dict[str, int], required: tuple[str, ...], label: str
) -> bool:
    absent = [name for name in required if name not in headers]
    if absent:
        report.add(Located(None, 1), label, f"缺少必需的列：{'、'.join(absent)}")
    return bool(absent)


def _categories(report: Report, sheet: Worksheet | None) -> tuple[Located, dict[str, str]]:
    """The declared categories, and 分类名称 → 分类编号 so rows may name either."""
    if sheet is None:
        return Located([], 1, rejected=True), {}
    headers = _headers(report, sheet, CATEGORY_HEADERS, "bank.categories")
    if _missing(report, headers, CATEGORY_HEADERS, "bank.categories"):
        return Located([], 1, rejected=True), {}
    items, titles = [], {}
    for row in sheet.iter_rows(min_row=2):
        cells = {
            key: row[headers[name] - 1]
            for key, name in zip(("id", "title"), CATEGORY_HEADERS, strict=True)
        }
        if _blank(cells.values()):
            continue
        fields = {key: _cell(cell) for key, cell in cells.items()}
        items.append(Located(fields, row[0].row))
        if fields["id"].value and fields["title"].value:
            titles[fields["title"].value] = fields["id"].value
    ids = {item.value["id"].value for item in items}
    return Located(items, 1), {title: cid for title, cid in titles.items() if title not in ids}


def _questions(report: Report, sheet: Worksheet, titles: dict[str, str]) -> Located:
    headers = _headers(report, sheet, (*COLUMNS, *OPTION_COLUMNS), "header")
    if _missing(report, headers, REQUIRED_COLUMNS, "header"):
        return Located([], 1, rejected=True)
    rows = []
    for row in sheet.iter_rows(min_row=2):
        cells = {name: row[col - 1] for name, col in headers.items() if col <= len(row)}
        if not _blank(cells.values()):
            rows.append(_question(cells, row[0].row, titles))
    return Located(rows, 1)


def _question(cells: dict[str, Cell], row: int, titles: dict[str, str]) -> Located:
    fields = {COLUMNS[name]: _cell(cell) for name, cell in cells.items() if name in COLUMNS}
    category = fields.get("category")
    if category is not None and category.value in titles:
        fields["category"] = Located(titles[category.value], category.line, category.column)
    if fields.get("id") is None or fields["id"].value is None:  # no 编号: derive one from the row
        column = fields["id"].column if "id" in fields else None
        fields["id"] = Located(f"{fields['category'].value or 'q'}-{row:03d}", row, column)
    kind = TYPE_NAMES.get(str(fields["type"].value or "").lower(), fields["type"].value)
    fields["type"] = Located(kind, row, fields["type"].column)
    options = [_cell(cells[name]) for name in OPTION_COLUMNS if name in cells]
    while options and options[-1].value is None:
        options.pop()
    if options:
        fields["options"] = Located(options, row, options[0].column)
    fields["answer"] = _answer(fields["answer"], kind)
    for key in ("difficulty", "time_limit"):
        if key in fields:
            fields[key] = Located(_number(fields[key].value), row, fields[key].column)
    for key in ("tags", "reviewed"):
        if key in fields and fields[key].value:
            fields[key] = _tags(fields[key])
    return Located(fields, row)


def _answer(loc: Located, kind: Any) -> Located:
    """对/错 and letters such as "ACD", "A,C,D" or "A、C" become the YAML answer shapes."""
    text = loc.value
    if text is None:
        return loc
    if kind == "judge":
        return Located(JUDGE_WORDS.get(text.lower(), text), loc.line, loc.column)
    letters = SEPARATORS.sub("", text).upper()
    if kind == "multiple" and letters and all(c in LETTERS for c in letters):
        items = [Located(c, loc.line, loc.column) for c in letters]
        return Located(items, loc.line, loc.column)
    return Located(letters if kind == "single" else text, loc.line, loc.column)


def _number(text: str | None) -> Any:
    return int(text) if text is not None and re.fullmatch(r"-?\d+", text) else text


def _tags(loc: Located) -> Located:
    items = [Located(t, loc.line, loc.column) for t in SEPARATORS.split(loc.value) if t]
    return Located(items, loc.line, loc.column)
