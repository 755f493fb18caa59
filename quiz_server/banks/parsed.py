"""A bank as read from a file (format-free), and how its content is identified across formats."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import BankVersion

QUESTION_FIELDS = (
    "type",
    "stem",
    "options",
    "answer",
    "explanation",
    "category",
    "difficulty",
    "source",
    "source_url",
    "source_copy",
    "time_limit",
    "tags",
    "reviewed",
)
# Fields added after banks were first stored: they count in a bank's content (and its hash)
# only when set, so an unchanged file loaded again is still the same version.
LATER_FIELDS = ("source_copy", "reviewed")
# What each field key of a bank file is called in Chinese, for the console's error and note
# tables (the key itself stays beside it: it is what the organizer finds in the file).
FIELD_LABELS = {
    "file": "文件", "bank": "题库信息", "questions": "题目列表", "id": "编号", "title": "名称",
    "version": "版本", "description": "说明", "locale": "语言", "categories": "分类",
    "type": "题型", "stem": "题干", "options": "选项", "answer": "答案", "explanation": "解析",
    "category": "分类", "difficulty": "难度", "source": "来源", "source_url": "来源链接",
    "source_copy": "核对链接", "time_limit": "限时", "tags": "标签", "reviewed": "已复核",
}  # fmt: skip


def field_label(key: str) -> str:
    """A field key as an organizer reads it: "q2.answer" → "题目 q2 · 答案",
    "questions[3].stem" → "第 4 题 · 题干", "q1.options[1]" → "题目 q1 · 选项 2"."""
    parts = []
    for n, part in enumerate(key.split(".")):
        name, _, index = part.partition("[")
        number = index.rstrip("]")
        if name == "questions" and number.isdigit():
            parts.append(f"第 {int(number) + 1} 题")
        elif name in FIELD_LABELS:
            label = FIELD_LABELS[name]
            parts.append(f"{label} {int(number) + 1}" if number.isdigit() else label)
        else:
            parts.append(f"题目 {part}" if n == 0 else part)
    return " · ".join(parts)


@dataclass(frozen=True)
class BankError:
    """One problem, located, so an organizer can jump straight to it in the editor."""

    file: str
    line: int
    field: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.where}: {self.field}: {self.message}"

    @property
    def label(self) -> str:
        return field_label(self.field)

    @property
    def where(self) -> str:
        if self.column:
            return f"row {self.line}, column {self.column}"
        if self.file.lower().endswith(".xlsx"):
            return f"row {self.line}"
        return str(self.line)


@dataclass(frozen=True)
class Located:
    """A value read from a file with where it was found; lists and dicts hold Located items."""

    value: Any
    line: int
    column: str | None = None
    text: str | None = None  # a scalar as written, so an option "1990" or "是" stays as typed
    rejected: bool = False  # already reported (an unsafe tag); suppresses follow-on errors

    def as_written(self) -> Any:
        return self.text if self.text is not None and self.value is not None else self.value


@dataclass
class ParsedQuestion:
    qid: str
    type: str
    stem: str
    options: list[str]
    answer: str | list[str] | bool
    explanation: str
    category: str
    difficulty: int
    source: str
    source_url: str = ""
    source_copy: str = ""  # the copy a reviewer checked the fact against; never shown to members
    time_limit: int | None = None
    tags: list[str] = field(default_factory=list)
    reviewed: list[str] = field(
        default_factory=list
    )  # quality-check warnings accepted by an editor
    line: int = 0

    def content(self) -> dict[str, Any]:
        return {"id": self.qid} | {
            name: value
            for name in QUESTION_FIELDS
            if (value := getattr(self, name)) or name not in LATER_FIELDS
        }


@dataclass
class ParsedBank:
    slug: str
    title: str
    version: str
    locale: str
    description: str
    categories: list[dict[str, str]]
    questions: list[ParsedQuestion]
    source_name: str
    cleaned: list[str] = field(default_factory=list)

    def content(self) -> dict[str, Any]:
        """The bank as plain data: what the hash covers and what the exports write."""
        return {
            "bank": {
                "id": self.slug,
                "title": self.title,
                "version": self.version,
                "locale": self.locale,
                "description": self.description,
                "categories": [dict(c) for c in self.categories],
            },
            "questions": [q.content() for q in self.questions],
        }

    @classmethod
    def from_version(cls, version: BankVersion) -> ParsedBank:
        return cls(
            slug=version.bank.slug,
            title=version.title,
            version=version.declared_version,
            locale=version.locale,
            description=version.description,
            categories=[dict(c) for c in version.categories],
            questions=[_question_from_row(row) for row in version.questions],
            source_name=version.source_name,
        )


def _question_from_row(row: Any) -> ParsedQuestion:
    return ParsedQuestion(qid=row.qid, **question_fields(row))


def question_fields(question: Any) -> dict[str, Any]:
    """The content fields of a parsed or stored question, lists copied so neither side shares
    them: the one mapping between the two shapes."""
    return {
        name: list(value) if isinstance(value := getattr(question, name), list) else value
        for name in QUESTION_FIELDS
    }


def content_hash(bank: ParsedBank) -> str:
    """sha256 of canonical JSON: reformatting a file or switching YAML↔xlsx is not a new version."""
    canonical = json.dumps(
        bank.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
