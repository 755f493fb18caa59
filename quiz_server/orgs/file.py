"""The organisation file: units (system → agency → branch) and optional branch rosters, from CSV
or xlsx, checked completely before anything is stored.

Every error names the sheet (or file), the row and the column. Re-importing updates units by
their code and never deletes one, so contests that name a unit keep their results.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..extensions import DbSession
from ..models import RosterEntry, Unit

UNIT_SHEET = "组织架构"
ROSTER_SHEET = "党员名单"
UNIT_HEADERS = {
    "code": "单位编码",
    "name": "单位名称",
    "kind": "层级",
    "parent": "上级编码",
    "registered": "注册党员数",
}
ROSTER_HEADERS = {"branch": "支部编码", "name": "姓名", "member_no": "党员编号"}
KIND_WORDS = {
    **dict.fromkeys(("系统党委", "系统", "system"), "system"),
    **dict.fromkeys(("机关党委", "党总支", "党委", "机关", "agency"), "agency"),
    **dict.fromkeys(("党支部", "支部", "branch"), "branch"),
}


@dataclass(frozen=True)
class OrgError:
    """One problem in the file, placed so the organizer can find the cell."""

    source: str
    row: int
    column: str  # "C 列（层级）", or "" when the whole row or file is at fault
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" + (f"，{self.column}" if self.column else "")
        return f"{self.source} {where}：{self.message}"


@dataclass
class Table:
    """One sheet (or a CSV file): its header cells and its data rows with their row numbers."""

    source: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]

    def column(self, header: str) -> int | None:
        return self.headers.index(header) if header in self.headers else None

    def place(self, index: int) -> str:
        return f"{get_column_letter(index + 1)} 列（{self.headers[index]}）"


@dataclass(frozen=True)
class UnitLine:
    row: int
    code: str
    name: str
    kind: str
    parent: str
    registered: int


@dataclass(frozen=True)
class RosterLine:
    row: int
    branch: str
    name: str
    member_no: str


@dataclass
class OrgFile:
    units: list[UnitLine] = field(default_factory=list)
    roster: list[RosterLine] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    roster_added: int
    roster_updated: int

    def __str__(self) -> str:
        return (
            f"新增单位 {self.created} 个，更新 {self.updated} 个；"
            f"名单新增 {self.roster_added} 人，更新 {self.roster_updated} 人"
        )


# ---------------------------------------------------------------- reading cells


def read_tables(filename: str, data: bytes) -> tuple[list[Table], list[OrgError]]:
    """The file's tables, by extension: .csv is one table, .xlsx one per sheet."""
    if filename.lower().endswith(".csv"):
        return _csv_tables(filename, data)
    if filename.lower().endswith(".xlsx"):
        return _xlsx_tables(filename, data)
    return [], [OrgError(filename, 1, "", "只支持 .csv 和 .xlsx 文件")]


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); UTF-16 with its BOM (Excel's “Unicode text”); else GB18030,
    which Chinese Excel and WPS use for CSV."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _csv_tables(filename: str, data: bytes) -> tuple[list[Table], list[OrgError]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","  # tab-separated “Unicode text”
    # newline="": the csv module splits lines itself, so bare CR (old Mac Excel) ends a row too.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as err:
        limit = csv.field_size_limit()
        message = (
            f"单元格内容过长（超过 {limit} 个字符），请检查是否缺少引号或粘贴了整段内容"
            if "field limit" in str(err)
            else f"无法按 CSV 读取：{err}"
        )
        return [], [OrgError(filename, reader.line_num, "", message)]
    return [_table(filename, [(n, row) for n, row in enumerate(lines, start=1)])], []


def _xlsx_tables(filename: str, data: bytes) -> tuple[list[Table], list[OrgError]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        return [], [
            OrgError(filename, 1, "", "不是有效的 xlsx 工作簿（请用 Excel/WPS 另存为 .xlsx）")
        ]
    tables = []
    for sheet in book.worksheets:
        rows = [
            (n, [_cell_text(v) for v in row])
            for n, row in enumerate(sheet.iter_rows(values_only=True), 1)
        ]
        tables.append(_table(f"{filename}「{sheet.title}」", rows))
    book.close()
    return tables, []


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or head-count typed as a number
    return str(value).strip()


def _table(source: str, rows: list[tuple[int, list[str]]]) -> Table:
    """The first non-empty row is the header; fully empty rows are skipped."""
    rows = [
        (n, [c.strip() for c in cells]) for n, cells in rows if any(str(c).strip() for c in cells)
    ]
    if not rows:
        return Table(source, [], [])
    return Table(source, rows[0][1], rows[1:])


# ---------------------------------------------------------------- checking rows


def parse(
    tables: Iterable[Table], known: Mapping[str, tuple[str, str]]
) -> tuple[OrgFile | None, list[OrgError]]:
    """Every unit and roster line, or None and every error. `known` maps codes already stored
    to (kind, parent code), so a file may add branches under units imported earlier."""
    found, errors = OrgFile(), list[OrgError]()
    tables = list(tables)
    for table in tables:
        if _has_headers(table, UNIT_HEADERS):
            found.units += _unit_lines(table, errors)
    kinds = {**{c: k for c, (k, _) in known.items()}, **{u.code: u.kind for u in found.units}}
    for table in tables:
        if _has_headers(table, ROSTER_HEADERS):
            found.roster += _roster_lines(table, kinds, errors)
    if not any(_has_headers(t, UNIT_HEADERS) or _has_headers(t, ROSTER_HEADERS) for t in tables):
        source = tables[0].source if tables else "文件"
        wanted = "、".join(UNIT_HEADERS.values())
        errors.append(OrgError(source, 1, "", f"没有找到表头；组织架构表的第一行应为：{wanted}"))
    errors += _tree_errors(tables, found.units, known)
    errors.sort(key=lambda e: (e.source, e.row))
    return (None, errors) if errors else (found, [])


def _has_headers(table: Table, headers: Mapping[str, str]) -> bool:
    """A sheet is recognised by its key columns; a missing optional one is reported later."""
    first_two = list(headers.values())[:2]
    return all(h in table.headers for h in first_two)


def _missing(table: Table, headers: Mapping[str, str], errors: list[OrgError]) -> bool:
    missing = [h for h in headers.values() if h not in table.headers]
    for header in missing:
        errors.append(OrgError(table.source, 1, "", f"缺少“{header}”列"))
    return bool(missing)


def _cells(
    table: Table, cells: list[str], headers: Mapping[str, str]
) -> dict[str, tuple[str, str]]:
    """Each named value with its place ("C 列（层级）") for error messages."""
    out = {}
    for key, header in headers.items():
        index = table.column(header)
        assert index is not None
        out[key] = (cells[index].strip() if index < len(cells) else "", table.place(index))
    return out


def _unit_lines(table: Table, errors: list[OrgError]) -> list[UnitLine]:
    if _missing(table, UNIT_HEADERS, errors):
        return []
    lines: list[UnitLine] = []
    seen: dict[str, int] = {}
    for row, cells in table.rows:
        c = _cells(table, cells, UNIT_HEADERS)

        def fail(key: str, message: str, row: int = row, c: dict[str, tuple[str, str]] = c) -> None:
            errors.append(OrgError(table.source, row, c[key][1], message))

        code, name, kind_word, parent, registered = (c[k][0] for k in UNIT_HEADERS)
        if not code:
            fail("code", "单位编码不能为空")
        elif len(code) > 64:
            fail("code", "单位编码不能超过 64 个字符")
        elif code in seen:
            fail("code", f"单位编码“{code}”与第 {seen[code]} 行重复")
        if not name:
            fail("name", "单位名称不能为空")
        elif len(name) > 128:
            fail("name", "单位名称不能超过 128 个字")
        kind = KIND_WORDS.get(kind_word.lower() if kind_word.isascii() else kind_word)
        if kind is None:
            fail("kind", f"层级“{kind_word}”无效，应为 系统党委、机关党委、党总支 或 党支部")
        count, problem = _head_count(registered, kind)
        if problem:
            fail("registered", problem)
        if parent and parent == code:
            fail("parent", "上级编码不能是单位自己")
        seen.setdefault(code, row)
        if code:  # kept even when faulty, so its parent is checked too (nothing is stored then)
            lines.append(UnitLine(row, code, name, kind or "", parent, count))
    return lines


def _head_count(text: str, kind: str | None) -> tuple[int, str | None]:
    """The registered head-count, required for branches (it is the fair-average divisor)."""
    if not text:
        return 0, "党支部必须填写注册党员数" if kind == "branch" else None
    if not text.isdigit() or int(text) > 1_000_000:
        return 0, f"注册党员数“{text}”应为不小于 0 的整数"
    return int(text), None


def _roster_lines(
    table: Table, kinds: Mapping[str, str], errors: list[OrgError]
) -> list[RosterLine]:
    if _missing(table, ROSTER_HEADERS, errors):
        return []
    lines: list[RosterLine] = []
    seen: dict[tuple[str, str], int] = {}
    for row, cells in table.rows:
        c = _cells(table, cells, ROSTER_HEADERS)
        branch, name, member_no = (c[k][0] for k in ROSTER_HEADERS)
        problems = []
        if kinds.get(branch) != "branch":
            problems.append(
                ("branch", f"支部编码“{branch}”不是已知的党支部" if branch else "支部编码不能为空")
            )
        if not name or len(name) > 64:
            problems.append(("name", "姓名不能为空" if not name else "姓名不能超过 64 个字"))
        if not member_no or len(member_no) > 32:
            problems.append(
                ("member_no", "党员编号不能为空" if not member_no else "党员编号不能超过 32 个字符")
            )
        elif (branch, member_no) in seen:
            problems.append(
                ("member_no", f"党员编号“{member_no}”在本支部与第 {seen[branch, member_no]} 行重复")
            )
        errors += [OrgError(table.source, row, c[key][1], message) for key, message in problems]
        seen.setdefault((branch, member_no), row)
        if not problems:
            lines.append(RosterLine(row, branch, name, member_no))
    return lines


def _tree_errors(
    tables: list[Table], units: list[UnitLine], known: Mapping[str, tuple[str, str]]
) -> list[OrgError]:
    """Parents must exist and must not be branches, and the tree (stored units included) must
    have no cycle: a loop would hang every roll-up."""
    table = next((t for t in tables if t.column(UNIT_HEADERS["parent"]) is not None), None)
    if table is None or not units:
        return []
    place = table.place(table.column(UNIT_HEADERS["parent"]))  # type: ignore[arg-type]  # the table was picked for having this column
    kinds = {**{c: k for c, (k, _) in known.items()}, **{u.code: u.kind for u in units}}
    parents = {**{c: p for c, (_, p) in known.items()}, **{u.code: u.parent for u in units}}
    in_file = {u.code for u in units}
    with_children = {p for c, (_, p) in known.items() if c not in in_file}  # stored children
    kind_place = table.place(table.column(UNIT_HEADERS["kind"]))  # type: ignore[arg-type]  # the table was picked for having this column
    errors = []
    for unit in units:
        message = _parent_problem(unit, kinds, parents)
        if message:
            errors.append(OrgError(table.source, unit.row, place, message))
        if unit.kind == "branch" and unit.code in with_children:
            message = "该单位下还有下级单位，不能设为党支部"
            errors.append(OrgError(table.source, unit.row, kind_place, message))
    return errors


def _parent_problem(unit: UnitLine, kinds: Mapping[str, str], parents: Mapping[str, str]) -> str:
    if not unit.parent:
        return ""
    if unit.parent not in kinds:
        return f"上级编码“{unit.parent}”不存在"
    if kinds[unit.parent] == "branch":
        return f"上级“{unit.parent}”是党支部，党支部下不能再有单位"
    return "上级关系形成了循环" if _cycles(unit.code, parents) else ""


def _cycles(code: str, parents: Mapping[str, str]) -> bool:
    seen, current = {code}, parents.get(code, "")
    while current in parents:
        if current in seen:
            return True
        seen.add(current)
        current = parents[current]
    return False


# ---------------------------------------------------------------- storing


def known_units(session: DbSession) -> dict[str, tuple[str, str]]:
    """Stored units as code → (kind, parent code): what a file may build on."""
    parent = aliased(Unit)
    rows = session.execute(
        select(Unit.code, Unit.kind, parent.code).outerjoin(parent, Unit.parent_id == parent.id)
    )
    return {code: (kind, up or "") for code, kind, up in rows}


def check_bytes(
    filename: str, data: bytes, known: Mapping[str, tuple[str, str]]
) -> tuple[OrgFile | None, list[OrgError]]:
    """Read and check a file without the database (the upload worker runs this)."""
    tables, errors = read_tables(filename, data)
    if errors:
        return None, errors
    return parse(tables, known)


def check_file(
    session: DbSession, filename: str, data: bytes
) -> tuple[OrgFile | None, list[OrgError]]:
    return check_bytes(filename, data, known_units(session))


def store(session: DbSession, found: OrgFile) -> ImportSummary:
    """Upsert units by code and roster entries by (branch, member number); the caller commits.
    Nothing is deleted: units and entries that past contests name stay."""
    by_code = {u.code: u for u in session.scalars(select(Unit))}
    created = sum(line.code not in by_code for line in found.units)
    positions: dict[str, int] = {}
    for line in found.units:
        unit = by_code.get(line.code) or Unit(code=line.code)
        unit.name, unit.kind, unit.registered = line.name, line.kind, line.registered
        unit.position = positions[line.parent] = positions.get(line.parent, -1) + 1
        by_code[line.code] = unit
        session.add(unit)
    session.flush()
    for line in found.units:
        by_code[line.code].parent_id = by_code[line.parent].id if line.parent else None
    added, updated = _store_roster(session, found.roster, by_code)
    session.flush()
    return ImportSummary(created, len(found.units) - created, added, updated)


def _store_roster(
    session: DbSession, lines: list[RosterLine], by_code: Mapping[str, Unit]
) -> tuple[int, int]:
    existing = {(e.unit_id, e.member_no): e for e in session.scalars(select(RosterEntry))}
    added = updated = 0
    for line in lines:
        unit_id = by_code[line.branch].id
        entry = existing.get((unit_id, line.member_no))
        if entry is None:
            entry = RosterEntry(unit_id=unit_id, member_no=line.member_no, name=line.name)
            existing[unit_id, line.member_no] = entry
            session.add(entry)
            added += 1
        elif entry.name != line.name:
            entry.name = line.name
            updated += 1
    return added, updated


def import_file(
    session: DbSession, filename: str, data: bytes
) -> tuple[ImportSummary | None, list[OrgError]]:
    """Check everything, then store everything, or store nothing and return every error."""
    found, errors = check_file(session, filename, data)
    if found is None:
        return None, errors
    return store(session, found), []
