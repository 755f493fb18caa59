"""The bank schema: every rule a bank must meet, checked once on a located tree from any format.

YAML and xlsx readers both build a `Located` tree, so a rule (and its message) lives here only;
per-type option and answer rules stay in `quiz_server.questions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..questions import QUESTION_TYPES
from .parsed import QUESTION_FIELDS, BankError, Located, ParsedBank, ParsedQuestion
from .text import clean_bank

TOP_KEYS = ("bank", "questions")
BANK_KEYS = ("id", "title", "version", "locale", "description", "categories")
QUESTION_KEYS = ("id", *QUESTION_FIELDS)
CATEGORY_KEYS = ("id", "title")
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
NAME = re.compile(r"\S{1,64}")
TYPE_NAMES = "、".join(f"{name} {t.label}" for name, t in QUESTION_TYPES.items())


class Report:
    """The errors of one file, gathered so that all of them are shown at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[BankError] = []

    def add(self, loc: Located, name: str, message: str) -> None:
        if not loc.rejected:
            self.errors.append(BankError(self.file, loc.line, name, message, loc.column))


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    names = {int: "数字", float: "数字", list: "列表", dict: "映射", str: "文字"}
    return names.get(type(value), "空值")


class _Fields:
    """One mapping being read: its fields, where it is, and the name its errors carry."""

    def __init__(self, report: Report, loc: Located, path: str) -> None:
        self.report, self.loc, self.path = report, loc, path
        self.fields: dict[str, Located] = loc.value

    def get(self, key: str) -> Located | None:
        return self.fields.get(key)

    def add(self, key: str, message: str, node: Located | None = None) -> None:
        name = f"{self.path}.{key}" if self.path else key
        self.report.add(node or self.fields.get(key) or self.loc, name, message)

    def refuse_unknown(self, allowed: tuple[str, ...]) -> None:
        for key in self.fields:
            if key not in allowed:
                self.add(key, f"未知字段 {key}（可用字段：{', '.join(allowed)}）")

    def text(
        self, key: str, *, required: bool = True, max_len: int = 0, as_written: bool = False
    ) -> str | None:
        """A stripped string; `as_written` also takes a number as typed (ids, versions)."""
        loc = self.fields.get(key)
        if loc is None or loc.value is None or loc.value == "" or str(loc.value).isspace():
            if required:
                self.add(key, "缺少必填字段" if loc is None else "不能为空")
            return None
        value = loc.as_written() if as_written else loc.value
        if isinstance(loc.value, bool | list | dict) or not isinstance(value, str):
            hint = "（纯数字请加引号）" if kind_of(loc.value) == "数字" else ""
            self.add(key, f"应为文字，实际是{kind_of(loc.value)}{hint}")
            return None
        if max_len and len(value.strip()) > max_len:
            self.add(key, f"不能超过 {max_len} 个字符")
            return None
        return value.strip()

    def integer(self, key: str, low: int, high: int) -> int | None:
        loc = self.fields.get(key)
        if loc is None or loc.value is None:
            return None
        value = loc.value
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(key, f"应为 {low}–{high} 之间的整数，实际是 {loc.as_written()!r}")
            return None
        return value


def _open(report: Report, loc: Located, path: str, what: str = "") -> _Fields | None:
    if not isinstance(loc.value, dict):
        report.add(loc, path or "file", f"{what}应为映射（键: 值），实际是{kind_of(loc.value)}")
        return None
    return _Fields(report, loc, path)


@dataclass
class _Context:
    category_ids: set[str] | None
    seen: dict[str, int] = field(default_factory=dict)


def build_bank(
    root: Located, filename: str, source_name: str
) -> tuple[ParsedBank | None, list[BankError]]:
    """The bank, or None and every error found; never raises on bad content."""
    report = Report(filename)
    top = _open(report, root, "")
    if top is None:
        return None, report.errors
    top.refuse_unknown(TOP_KEYS)
    bank = _bank_meta(top, source_name)
    # A missing or broken declaration is reported once, not again on every question.
    ids = {c["id"] for c in bank.categories} if bank and bank.categories else None
    questions = _questions(top, _Context(ids))
    if report.errors or bank is None:
        return None, report.errors
    bank.questions = questions
    bank.cleaned = clean_bank(bank)
    return bank, []


def _bank_meta(top: _Fields, source_name: str) -> ParsedBank | None:
    loc = top.get("bank")
    if loc is None:
        top.add("bank", "缺少必填字段 bank（题库信息）")
        return None
    meta = _open(top.report, loc, "bank")
    if meta is None:
        return None
    meta.refuse_unknown(BANK_KEYS)
    slug = meta.text("id", as_written=True)
    if slug is not None and not SLUG.fullmatch(slug):
        meta.add("id", "只能用小写字母、数字、- 和 _，以字母或数字开头，最长 64 个字符")
    return ParsedBank(
        slug=slug or "",
        title=meta.text("title", max_len=200) or "",
        version=meta.text("version", required=False, max_len=32, as_written=True) or "",
        locale=meta.text("locale", required=False, max_len=16) or "zh-CN",
        description=meta.text("description", required=False) or "",
        categories=_categories(meta),
        questions=[],
        source_name=source_name[:255],
    )


def _categories(meta: _Fields) -> list[dict[str, str]]:
    loc = meta.get("categories")
    if loc is None:
        meta.add("categories", "缺少分类声明：每道题的 category 都要先在这里声明")
        return []
    if not isinstance(loc.value, list) or not loc.value:
        meta.add("categories", "应为非空列表，每项形如 {id: traffic, title: 文明交通}")
        return []
    found: list[dict[str, str]] = []
    first_line: dict[str, int] = {}
    for index, item in enumerate(loc.value):
        category = _open(meta.report, item, f"bank.categories[{index}]")
        if category is None:
            continue
        category.refuse_unknown(CATEGORY_KEYS)
        cid, title = category.text("id", as_written=True), category.text("title", max_len=200)
        if cid is not None and not NAME.fullmatch(cid):
            category.add("id", "不能含空白，最长 64 个字符")
        elif cid is not None and cid in first_line:
            category.add("id", f"分类 {cid} 重复（首次出现在第 {first_line[cid]} 行）")
        elif cid is not None and title is not None:
            first_line[cid] = category.fields["id"].line
            found.append({"id": cid, "title": title})
    return found


def _questions(top: _Fields, context: _Context) -> list[ParsedQuestion]:
    loc = top.get("questions")
    if loc is None:
        top.add("questions", "缺少必填字段 questions（题目列表）")
        return []
    if not isinstance(loc.value, list) or not loc.value:
        found = kind_of(loc.value) if loc.value else "空的"
        top.add("questions", f"应为非空的题目列表，实际是{found}")
        return []
    parsed = [_question(top.report, item, i, context) for i, item in enumerate(loc.value)]
    return [q for q in parsed if q is not None]


def _question(report: Report, loc: Located, index: int, context: _Context) -> ParsedQuestion | None:
    before = len(report.errors)
    q = _open(report, loc, f"questions[{index}]", "每道题")
    if q is None:
        return None
    qid = _qid(q, context)
    q.path = qid or q.path  # once the id is known, errors name the question by it
    q.refuse_unknown(QUESTION_KEYS)
    kind = _type(q)
    texts = {key: q.text(key) for key in ("stem", "explanation", "source")}
    category = _category(q, context)
    difficulty = q.integer("difficulty", 1, 3)
    time_limit = q.integer("time_limit", 5, 600)
    source_url = _url(q, "source_url")
    source_copy = _url(q, "source_copy")
    tags = _tags(q, "tags")
    reviewed = _tags(q, "reviewed")
    options, answer = _options_and_answer(q, kind)
    if len(report.errors) > before or qid is None or kind is None or category is None:
        return None
    return ParsedQuestion(
        qid=qid,
        type=kind,
        stem=texts["stem"] or "",
        options=options,
        answer=answer,
        explanation=texts["explanation"] or "",
        category=category,
        difficulty=1 if difficulty is None else difficulty,
        source=texts["source"] or "",
        source_url=source_url,
        source_copy=source_copy,
        time_limit=time_limit,
        tags=tags,
        reviewed=reviewed,
        line=loc.line,
    )


def _qid(q: _Fields, context: _Context) -> str | None:
    qid = q.text("id", as_written=True)
    if qid is None:
        return None
    if not NAME.fullmatch(qid):
        q.add("id", "不能含空白，最长 64 个字符")
        return None
    line = q.fields["id"].line
    if qid in context.seen:
        q.report.add(
            q.fields["id"], f"{qid}.id", f"编号 {qid} 重复（首次出现在第 {context.seen[qid]} 行）"
        )
    else:
        context.seen[qid] = line
    return qid


def _type(q: _Fields) -> str | None:
    kind = q.text("type")
    if kind is not None and kind not in QUESTION_TYPES:
        q.add("type", f"题型 {kind} 不支持（可用：{TYPE_NAMES}）")
        return None
    return kind


def _category(q: _Fields, context: _Context) -> str | None:
    category = q.text("category", as_written=True)
    known = context.category_ids
    if category is not None and known is not None and category not in known:
        declared = "、".join(sorted(known))
        q.add("category", f"分类 {category} 未在 bank.categories 中声明（已声明：{declared}）")
        return None
    return category


def _url(q: _Fields, key: str) -> str:
    url = q.text(key, required=False)
    if url is not None and not url.startswith(("http://", "https://")):
        q.add(key, "应以 http:// 或 https:// 开头")
        return ""
    return url or ""


def _tags(q: _Fields, key: str) -> list[str]:
    loc = q.get(key)
    if loc is None or loc.value is None:
        return []
    tags = [item.as_written() for item in loc.value] if isinstance(loc.value, list) else None
    if tags is None or not all(isinstance(t, str) and t.strip() for t in tags):
        q.add(key, "应为文字列表，如 [交通, 行人]")
        return []
    return [t.strip() for t in tags]


def _options_and_answer(q: _Fields, kind: str | None) -> tuple[list[str], Any]:
    """Per-type rules come from the registry; each problem is placed on the line of its node."""
    answer_loc = q.get("answer")
    if answer_loc is None or answer_loc.value is None:
        q.add("answer", "缺少必填字段" if answer_loc is None else "不能为空")
    if kind is None:
        return [], None
    options, answer = _plain_options(q.get("options")), _plain(answer_loc)
    problems = QUESTION_TYPES[kind].validate(options, answer)
    for problem in problems:
        if problem.field != "answer" or answer is not None:
            q.add(problem.field, problem.message, _node_of(problem.field, q))
    if problems or answer is None:
        return [], None
    text_options = [str(o).strip() for o in options or []]
    return text_options, sorted(answer) if isinstance(answer, list) else answer


def _plain_options(loc: Located | None) -> Any:
    if loc is None or not isinstance(loc.value, list):
        return None if loc is None else loc.value
    return [item.as_written() for item in loc.value]


def _plain(loc: Located | None) -> Any:
    if loc is None:
        return None
    if isinstance(loc.value, list):
        return [_plain(item) for item in loc.value]
    return loc.value.strip() if isinstance(loc.value, str) else loc.value


def _node_of(problem_field: str, q: _Fields) -> Located:
    """`options[2]` → the node of that list item; an absent field → the question itself."""
    match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", problem_field)
    node = q.get(match.group(1)) if match else None
    if match is None or node is None:
        return q.loc
    items = node.value
    if match.group(2) and isinstance(items, list) and int(match.group(2)) < len(items):
        return items[int(match.group(2))]
    return node
