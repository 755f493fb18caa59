"""The bank quality check: what makes a valid bank a poor one, for editors and organizers.

Validation (schema.py) refuses files a contest cannot run; this check reads banks that already
parse and reports what weakens a contest: explanations naming option letters that shuffled phones
never show, multiple-choice questions a member can solve by striking out one absurd option,
near-duplicate stems, questions whose wording gives away another's answer, lopsided answer letters
and type or difficulty spreads, sources without an official link, and how fast a member sees the
whole pool. Errors make `quiz-server banks check` exit 1; warnings a bank's editor has reviewed
are listed under the question's `reviewed` codes and no longer count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, cast
from urllib.parse import urlsplit

from ..config import DEFAULT_SOURCE_HOSTS
from ..questions import LETTERS, question_type
from .parsed import ParsedBank, ParsedQuestion

SIMILAR = (
    0.6  # Jaccard similarity of stems' character bigrams from which two stems are near-duplicates
)
RELATED = 0.2  # …and from which a stem that states another's answer is taken to give it away
SHORTEST_GIVEAWAY = 4  # answer texts shorter than this (是, 右侧) occur everywhere by chance
TYPE_TARGET = {"single": 40, "multiple": 30, "judge": 30}  # % of a bank, as real campaigns draw
DIFFICULTY_TARGET = {1: 35, 2: 45, 3: 20}
SPREAD_TOLERANCE = 15  # percentage points a bank's spread may stray from the target
COVERAGE_ATTEMPTS = (1, 3, 7, 21)  # one attempt, a day at 3 a day, a week at 1 or 3 a day

# "A、B 正确", "选项C", "答案为 D", "B项", "AB两项": an explanation that points at letters.
LETTER_REFERENCE = re.compile(
    r"选项\s*[A-F](?![A-Za-z0-9])"
    r"|答案(?:为|是|选)?\s*[:：]?\s*[A-F](?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])[A-F](?:\s*[、,，和与及/]?\s*[A-F])*\s*(?:项|选项|两项|三项|均|都|正确|错误|说法|符合|不符合)"
)
STEM_NOISE = re.compile(r"[\s\W_（）()“”‘’《》、，。？！：；…—-]+")

CODES = {
    "letter_reference": "解析提到选项字母（参赛者手机上的选项顺序是打乱的，看不到字母）",
    "few_wrong_options": "多选题的错误选项少于两个，排除一个就能答对",
    "near_duplicate": "题干与另一题近似重复",
    "giveaway": "题干或选项可能泄露另一题的答案（需人工复核）",
    "answer_balance": "单选题正确答案的字母分布不均",
    "type_spread": "题型比例偏离常见竞答（单选约 40%，多选约 30%，判断约 30%）",
    "difficulty_spread": "难度比例偏离建议（容易约 35%，中等约 45%，较难约 20%）",
    "no_source_link": "来源没有链接",
    "unofficial_source": "来源链接不在官方网站名单内",
    "second_hand": "来源标注为二手来源",
}
ERRORS = frozenset({"letter_reference", "few_wrong_options"})


@dataclass(frozen=True)
class Finding:
    """One problem: an error blocks `banks check`; a warning asks an editor to look."""

    code: str
    bank: str
    qid: str | None
    message: str
    line: int = 0
    reviewed: bool = False

    @property
    def error(self) -> bool:
        return self.code in ERRORS

    @property
    def level(self) -> str:
        return "error" if self.error else "warning"

    def __str__(self) -> str:
        where = f"{self.bank}:{self.line}" if self.line else self.bank
        subject = f"{self.qid}: " if self.qid else ""
        note = "（已复核）" if self.reviewed else ""
        return f"{where}: {self.level}: {self.code}: {subject}{self.message}{note}"


@dataclass
class BankSummary:
    """Counts an organizer reads before drawing a paper from the bank."""

    slug: str
    title: str
    questions: int
    categories: dict[str, int]
    types: dict[str, int]
    difficulties: dict[int, int]
    answer_letters: dict[str, int]


@dataclass
class CheckReport:
    summaries: list[BankSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.error and not f.reviewed]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.error and not f.reviewed]

    @property
    def reviewed(self) -> list[Finding]:
        return [f for f in self.findings if f.reviewed]


def check_banks(
    banks: Sequence[ParsedBank], hosts: Iterable[str] = DEFAULT_SOURCE_HOSTS
) -> CheckReport:
    """Every check over every bank, and near-duplicates and giveaways across the banks too."""
    hosts = tuple(hosts)
    report = CheckReport(summaries=[summarize(bank) for bank in banks])
    for bank in banks:
        report.findings += question_findings(bank, hosts)
        report.findings += spread_findings(bank, report.summaries[banks.index(bank)])
    report.findings += pair_findings(banks)
    return report


def summarize(bank: ParsedBank) -> BankSummary:
    titles = {c["id"]: c["title"] for c in bank.categories}
    singles = [q.answer for q in bank.questions if q.type == "single"]
    return BankSummary(
        slug=bank.slug,
        title=bank.title,
        questions=len(bank.questions),
        categories={
            titles.get(k, k): v for k, v in Counter(q.category for q in bank.questions).items()
        },
        types=dict(Counter(q.type for q in bank.questions)),
        difficulties=dict(sorted(Counter(q.difficulty for q in bank.questions).items())),
        answer_letters={letter: singles.count(letter) for letter in LETTERS[:4]},
    )


def _finding(code: str, bank: ParsedBank, q: ParsedQuestion | None, detail: str = "") -> Finding:
    message = CODES[code] + (f"：{detail}" if detail else "")
    reviewed = q is not None and code in q.reviewed
    return Finding(code, bank.slug, q.qid if q else None, message, q.line if q else 0, reviewed)


def question_findings(bank: ParsedBank, hosts: tuple[str, ...]) -> list[Finding]:
    found = []
    for q in bank.questions:
        if match := LETTER_REFERENCE.search(q.explanation):
            found.append(_finding("letter_reference", bank, q, f"“{match.group(0)}”"))
        if q.type == "multiple":
            wrong = len(q.options) - len(cast(list[str], q.answer))
            if wrong < 2:
                found.append(_finding("few_wrong_options", bank, q, f"只有 {wrong} 个错误选项"))
        found += _source_findings(bank, q, hosts)
    return found


def _source_findings(bank: ParsedBank, q: ParsedQuestion, hosts: tuple[str, ...]) -> list[Finding]:
    found = []
    if "二手来源" in q.source:
        found.append(_finding("second_hand", bank, q))
    if not q.source_url:
        found.append(_finding("no_source_link", bank, q))
    elif not is_official(q.source_url, hosts):
        found.append(_finding("unofficial_source", bank, q, urlsplit(q.source_url).hostname or ""))
    return found


def is_official(url: str, hosts: Iterable[str] = DEFAULT_SOURCE_HOSTS) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith(f".{h}") for h in hosts)


def spread_findings(bank: ParsedBank, summary: BankSummary) -> list[Finding]:
    found = []
    total = summary.questions
    singles = sum(summary.answer_letters.values())
    if singles >= 20:
        shares = {k: round(100 * v / singles) for k, v in summary.answer_letters.items()}
        if max(shares.values()) > 40 or min(shares.values()) < 10:
            found.append(_finding("answer_balance", bank, None, _shares(shares)))
    spreads: tuple[tuple[str, Mapping[Any, int], Mapping[Any, int]], ...] = (
        ("type_spread", summary.types, TYPE_TARGET),
        ("difficulty_spread", summary.difficulties, DIFFICULTY_TARGET),
    )
    for code, counts, target in spreads:
        spread = {k: round(100 * counts.get(k, 0) / total) for k in target} if total else {}
        if total >= 20 and any(
            abs(spread[k] - share) > SPREAD_TOLERANCE for k, share in target.items()
        ):
            found.append(_finding(code, bank, None, _shares(spread)))
    return found


def _shares(shares: Mapping[Any, int]) -> str:
    return "，".join(f"{key} {value}%" for key, value in shares.items())


def stem_grams(text: str) -> frozenset[str]:
    """Character bigrams of a stem without punctuation: Chinese has no spaces to split words on."""
    plain = STEM_NOISE.sub("", text)
    return frozenset(plain[i : i + 2] for i in range(len(plain) - 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pair_findings(banks: Sequence[ParsedBank]) -> list[Finding]:
    """Near-duplicates and giveaways between any two questions of the banks checked together."""
    items = [(bank, q, stem_grams(q.stem)) for bank in banks for q in bank.questions]
    found = []
    for (bank_a, a, grams_a), (bank_b, b, grams_b) in combinations(items, 2):
        score = similarity(grams_a, grams_b)
        if score >= SIMILAR:
            other = f"{bank_b.slug}/{b.qid}（相似度 {score:.2f}）"
            found.append(_finding("near_duplicate", bank_a, a, other))
        elif score >= RELATED:
            found += _giveaways(bank_a, a, bank_b, b) + _giveaways(bank_b, b, bank_a, a)
    return found


def _giveaways(
    bank: ParsedBank, asked: ParsedQuestion, other_bank: ParsedBank, other: ParsedQuestion
) -> list[Finding]:
    """`asked`'s answer stated outright in `other`'s stem (unless it is a false statement to
    judge) or among `other`'s right options."""
    if asked.type != "single":
        return []
    answer = question_type("single").option_labels(asked.options)[
        LETTERS.index(cast(str, asked.answer))
    ]
    if len(STEM_NOISE.sub("", answer)) < SHORTEST_GIVEAWAY:
        return []
    false_statement = other.type == "judge" and other.answer is False
    stated = ([] if false_statement else [other.stem]) + [
        text for letter, text in zip(LETTERS, other.options, strict=False) if _right(other, letter)
    ]
    if any(answer in text for text in stated):
        where = f"{other_bank.slug}/{other.qid} 写出了本题答案“{answer}”"
        return [_finding("giveaway", bank, asked, where)]
    return []


def _right(q: ParsedQuestion, letter: str) -> bool:
    return q.type == "multiple" and isinstance(q.answer, list) and letter in q.answer


def coverage(pool: int, drawn: int, attempts: int) -> float:
    """Expected share of a pool a member has seen after `attempts` independent draws of `drawn`."""
    if pool <= 0:
        return 0.0
    return 1 - (1 - min(drawn, pool) / pool) ** attempts


def coverage_rows(
    summary: BankSummary, drawn: int, attempts: Sequence[int] = COVERAGE_ATTEMPTS
) -> list[tuple[int, int]]:
    """(attempts, % of the pool seen) for a contest drawing `drawn` questions per attempt."""
    return [(k, round(100 * coverage(summary.questions, drawn, k))) for k in attempts]
