"""Question types as a registry of small pure classes keyed by the bank's `type`.

Options travel under stable ids (A, B, C … or T/F for judge questions); a member's choice is a
sorted list of ids whatever the type, so the answer path treats every type alike.
Adding a type is one class here and one row in the tests' tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

LETTERS = "ABCDEFGH"
JUDGE_OPTIONS = ("正确", "错误")


@dataclass(frozen=True)
class Problem:
    """A bank validation problem: which field, and what is wrong, in plain Chinese."""

    field: str
    message: str


class QuestionType:
    name: ClassVar[str]
    label: ClassVar[str]
    min_options: ClassVar[int] = 2
    max_options: ClassVar[int] = 6

    def option_labels(self, options: list[str]) -> list[str]:
        return list(options)

    def option_ids(self, options: list[str]) -> list[str]:
        return list(LETTERS[: len(self.option_labels(options))])

    def validate(self, options: Any, answer: Any) -> list[Problem]:
        problems = self._validate_options(options)
        if not problems:
            problems += self._validate_answer(options, answer)
        return problems

    def _validate_options(self, options: Any) -> list[Problem]:
        if not isinstance(options, list) or not options:
            return [Problem("options", "选项必须是非空列表")]
        problems = [
            Problem(f"options[{i}]", "选项必须是非空文字")
            for i, text in enumerate(options)
            if not isinstance(text, str | int | float) or not str(text).strip()
        ]
        if not self.min_options <= len(options) <= self.max_options:
            problems.append(
                Problem("options", f"选项数量应为 {self.min_options}–{self.max_options} 个")
            )
        if len({str(o).strip() for o in options}) != len(options):
            problems.append(Problem("options", "选项有重复"))
        return problems

    def _validate_answer(self, options: list[str], answer: Any) -> list[Problem]:
        raise NotImplementedError

    def correct_ids(self, answer: Any) -> list[str]:
        raise NotImplementedError

    def parse_choice(self, raw: Any, options: list[str]) -> list[str] | None:
        """The member's choice as sorted option ids, or None when it names no valid option."""
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or len(raw) > len(LETTERS):
            return None
        ids = set(self.option_ids(options))
        if not all(isinstance(x, str) and x in ids for x in raw):
            return None
        choice = sorted(set(raw))
        return choice if self._choice_size_ok(len(choice)) else None

    def _choice_size_ok(self, size: int) -> bool:
        return size == 1

    def is_correct(self, answer: Any, choice: list[str]) -> bool:
        return choice == self.correct_ids(answer)


def _letter_problem(options: list[str], letter: Any) -> str | None:
    if not isinstance(letter, str) or len(letter) != 1 or letter not in LETTERS:
        shown = repr(letter)
        return f"答案 {shown if len(shown) <= 40 else shown[:37] + '…'} 不是选项字母"
    if LETTERS.index(letter) >= len(options):
        return f"答案 {letter} 不在选项中（共 {len(options)} 个选项）"
    return None


class Single(QuestionType):
    name = "single"
    label = "单选题"

    def _validate_answer(self, options: list[str], answer: Any) -> list[Problem]:
        problem = _letter_problem(options, answer)
        return [Problem("answer", problem)] if problem else []

    def correct_ids(self, answer: Any) -> list[str]:
        return [answer]


class Multiple(QuestionType):
    name = "multiple"
    label = "多选题"
    min_options = 3

    def _validate_answer(self, options: list[str], answer: Any) -> list[Problem]:
        if not isinstance(answer, list) or not answer:
            return [Problem("answer", "多选题的答案必须是字母列表，如 [A, C]")]
        problems = [Problem("answer", p) for a in answer if (p := _letter_problem(options, a))]
        if not problems and len(set(answer)) != len(answer):  # letters only: hashable
            problems.append(Problem("answer", "答案字母有重复"))
        return problems

    def correct_ids(self, answer: Any) -> list[str]:
        return sorted(answer)

    def _choice_size_ok(self, size: int) -> bool:
        return size >= 1


class Judge(QuestionType):
    name = "judge"
    label = "判断题"

    def option_labels(self, options: list[str]) -> list[str]:
        return list(JUDGE_OPTIONS)

    def option_ids(self, options: list[str]) -> list[str]:
        return ["T", "F"]

    def validate(self, options: Any, answer: Any) -> list[Problem]:
        problems = []
        if options not in (None, []):
            problems.append(Problem("options", "判断题不写选项（固定为 正确/错误）"))
        if not isinstance(answer, bool):
            problems.append(Problem("answer", "判断题的答案必须是 true 或 false"))
        return problems

    def correct_ids(self, answer: Any) -> list[str]:
        return ["T" if answer else "F"]


QUESTION_TYPES: dict[str, QuestionType] = {t.name: t for t in (Single(), Multiple(), Judge())}


def question_type(name: str) -> QuestionType:
    return QUESTION_TYPES[name]
