"""Banks in the database: each distinct content is one immutable, numbered version."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ..config import resource_dir
from ..extensions import DbSession
from ..models import Bank, BankVersion, Question
from .parsed import QUESTION_FIELDS, BankError, ParsedBank, content_hash, question_fields
from .xlsx import parse_xlsx
from .yamlfile import parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")


class InvalidBundledBank(Exception):
    """A bank shipped with the app does not validate: a packaging mistake, not a user's."""

    def __init__(self, errors: list[BankError]) -> None:
        super().__init__("bundled question bank is invalid:\n" + "\n".join(map(str, errors)))
        self.errors = errors


def parse_file(path: str | Path) -> tuple[ParsedBank | None, list[BankError]]:
    """Reads a .yaml/.yml or .xlsx bank; errors name the path as given."""
    if Path(path).suffix.lower() not in (".xlsx", *YAML_SUFFIXES):
        return parse_bytes(str(path), b"")
    return parse_bytes(str(path), Path(path).read_bytes())


def parse_bytes(name: str, data: bytes) -> tuple[ParsedBank | None, list[BankError]]:
    """A bank file's content (from disk or an upload), read by the suffix of `name`."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return parse_xlsx(data, name)
    if suffix not in YAML_SUFFIXES:
        return None, [BankError(name, 1, "file", "只支持 .yaml、.yml 或 .xlsx 题库文件")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [
            BankError(name, 1, "file", f"文件不是 UTF-8 编码（{exc.reason}），请另存为 UTF-8")
        ]
    return parse_yaml(text, name)


def store_bank(session: DbSession, bank: ParsedBank) -> tuple[BankVersion, bool]:
    """(version, created): unchanged content returns the version that already holds it."""
    digest = content_hash(bank)
    record = session.scalar(select(Bank).where(Bank.slug == bank.slug))
    if record is None:
        record = Bank(slug=bank.slug, title=bank.title)
        session.add(record)
        session.flush()
    existing = session.scalar(
        select(BankVersion).where(
            BankVersion.bank_id == record.id, BankVersion.content_hash == digest
        )
    )
    if existing is not None:
        return existing, False
    record.title = bank.title
    version = _new_version(session, record, bank, digest)
    session.add(version)
    session.flush()
    return version, True


def _new_version(session: DbSession, record: Bank, bank: ParsedBank, digest: str) -> BankVersion:
    last = session.scalar(
        select(func.max(BankVersion.number)).where(BankVersion.bank_id == record.id)
    )
    return BankVersion(
        bank=record,
        number=(last or 0) + 1,
        content_hash=digest,
        title=bank.title,
        description=bank.description,
        locale=bank.locale,
        declared_version=bank.version,
        categories=[dict(c) for c in bank.categories],
        source_name=bank.source_name,
        questions=[
            Question(qid=q.qid, position=position, **question_fields(q))
            for position, q in enumerate(bank.questions)
        ],
    )


def latest_version(session: DbSession, slug: str) -> BankVersion | None:
    return find_version(session, slug)


def find_version(session: DbSession, slug: str, number: int | None = None) -> BankVersion | None:
    """Version `number` of a bank, or its latest when number is None."""
    query = select(BankVersion).join(Bank).where(Bank.slug == slug)
    if number is not None:
        query = query.where(BankVersion.number == number)
    return session.scalar(query.order_by(BankVersion.number.desc()).limit(1))


def bundled_bank_files() -> list[Path]:
    folder = resource_dir("question_banks")
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in YAML_SUFFIXES)


def load_bundled_banks(session: DbSession) -> list[tuple[BankVersion, bool]]:
    """Stores every bundled bank; all are checked before any is stored."""
    parsed = []
    for path in bundled_bank_files():
        bank, errors = parse_file(path)
        if bank is None:
            raise InvalidBundledBank(errors)
        parsed.append(bank)
    return [store_bank(session, bank) for bank in parsed]


@dataclass(frozen=True)
class QuestionChange:
    """One question kept under the same id whose content changed; before/after hold those fields."""

    qid: str
    fields: list[str]
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class BankDiff:
    added: list[str]
    removed: list[str]
    changed: list[QuestionChange]
    bank_fields: list[str] = field(default_factory=list)  # title, description, categories …

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.bank_fields)


def diff_versions(old: BankVersion, new: BankVersion) -> BankDiff:
    """What an organizer reviews before pinning a contest to a new version, by question id."""
    before, after = ParsedBank.from_version(old).content(), ParsedBank.from_version(new).content()
    old_qs = {q["id"]: q for q in before["questions"]}
    new_qs = {q["id"]: q for q in after["questions"]}
    changes = (_change(qid, old_qs[qid], q) for qid, q in new_qs.items() if qid in old_qs)
    return BankDiff(
        added=[qid for qid in new_qs if qid not in old_qs],
        removed=[qid for qid in old_qs if qid not in new_qs],
        changed=[change for change in changes if change is not None],
        bank_fields=[k for k, v in after["bank"].items() if before["bank"][k] != v],
    )


def _change(qid: str, old: dict[str, Any], new: dict[str, Any]) -> QuestionChange | None:
    fields = [name for name in QUESTION_FIELDS if old.get(name) != new.get(name)]
    if not fields:
        return None
    return QuestionChange(
        qid, fields, {f: old.get(f) for f in fields}, {f: new.get(f) for f in fields}
    )
