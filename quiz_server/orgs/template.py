"""The organisation file template organizers download and fill in (also shipped in samples/)."""

from __future__ import annotations

import csv
import io

import openpyxl
from openpyxl.utils import get_column_letter

from .file import ROSTER_HEADERS, ROSTER_SHEET, UNIT_HEADERS, UNIT_SHEET

SAMPLE_UNITS: list[tuple[str, str, str, str, int | None]] = [
    ("S01", "市直机关工委", "系统党委", "", None),
    ("A01", "市教育局机关党委", "机关党委", "S01", None),
    ("A01-B01", "办公室党支部", "党支部", "A01", 12),
    ("A01-B02", "教研室党支部", "党支部", "A01", 18),
    ("A02", "市卫生健康委机关党总支", "党总支", "S01", None),
    ("A02-B01", "机关第一党支部", "党支部", "A02", 15),
    ("A02-B02", "机关第二党支部", "党支部", "A02", 11),
    ("S01-B01", "工委直属党支部", "党支部", "S01", 8),
]
SAMPLE_ROSTER = [
    ("A01-B01", "张伟", "0101"),
    ("A01-B01", "李娜", "0102"),
    ("A02-B01", "王芳", "3821"),
]
GUIDE = [
    "每行一个单位。层级：系统党委、机关党委、党总支 或 党支部；"
    "层级可多可少，支部可直接挂在系统党委下。",
    "上级编码填上级单位的单位编码；最上层单位留空。"
    "党支部必须填写注册党员数（未参赛的党员按 0 分计入人均）。",
    "再次导入时按单位编码更新名称、上级和人数；不会删除已有单位，历史成绩不受影响。",
    "「党员名单」工作表可选：仅“按名单参赛”的竞赛需要；党员编号可填党员编号或手机尾号。",
]


def sample_csv() -> str:
    rows = [list(UNIT_HEADERS.values())]
    rows += [[c, n, k, p, "" if r is None else str(r)] for c, n, k, p, r in SAMPLE_UNITS]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def template_workbook() -> bytes:
    """The sample organisation workbook organizers download and fill in."""
    book = openpyxl.Workbook()
    units = book.active
    assert units is not None
    units.title = UNIT_SHEET
    units.append(list(UNIT_HEADERS.values()))
    for row in SAMPLE_UNITS:
        units.append(list(row))
    roster = book.create_sheet(ROSTER_SHEET)
    roster.append(list(ROSTER_HEADERS.values()))
    for entry in SAMPLE_ROSTER:
        roster.append(list(entry))
    guide = book.create_sheet("说明")
    for line in GUIDE:
        guide.append([line])
    for sheet, widths in ((units, (14, 28, 12, 14, 12)), (roster, (14, 12, 14)), (guide, (110,))):
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2" if sheet is not guide else None
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
