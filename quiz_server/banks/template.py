"""The xlsx template organizers fill in: its sheets and columns, and a workbook written in it.

The column names here are the format; `xlsx` reads them back, so both sides share one list.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..questions import LETTERS, QUESTION_TYPES
from ..reports.sheets import text_cell
from .parsed import ParsedBank, ParsedQuestion

QUESTION_SHEET = "题目"
INFO_SHEET = "题库信息"
CATEGORY_SHEET = "分类"
HELP_SHEET = "填写说明"
CATEGORY_HEADERS = ("分类编号", "分类名称")
OPTION_COLUMNS = tuple(f"选项{letter}" for letter in LETTERS[:6])
COLUMNS = {  # header (without a parenthesised note such as “(秒)”) → bank field
    "编号": "id",
    "题型": "type",
    "题干": "stem",
    "答案": "answer",
    "解析": "explanation",
    "分类": "category",
    "难度": "difficulty",
    "来源": "source",
    "来源链接": "source_url",
    "核对链接": "source_copy",
    "限时": "time_limit",
    "标签": "tags",
    "已复核": "reviewed",
}
TEMPLATE_HEADERS = (
    "编号", "题型", "题干", *OPTION_COLUMNS, "答案", "解析", "分类", "难度(1-3)", "来源",
    "来源链接", "核对链接", "限时(秒)", "标签", "已复核",
)  # fmt: skip
TYPE_LABELS = {"single": "单选", "multiple": "多选", "judge": "判断"}
TYPE_NAMES = {
    **{label: name for name, label in TYPE_LABELS.items()},
    **{t.label: name for name, t in QUESTION_TYPES.items()},
    **{name: name for name in QUESTION_TYPES},
}
INFO_ROWS = (
    ("id", "题库编号：小写字母、数字、- 和 _，如 civility-basics"),
    ("title", "题库名称"),
    ("version", "版本说明（可选，如 2026-1）"),
    ("locale", "语言，默认 zh-CN"),
    ("description", "题库简介（可选）"),
)
INFO_KEYS = {key: key for key, _ in INFO_ROWS} | {
    "题库编号": "id",
    "题库名称": "title",
    "版本": "version",
    "语言": "locale",
    "简介": "description",
}
HELP_LINES = (
    "每行一道题。题型：单选、多选、判断。",
    "单选、多选题在 选项A–选项F 中依次填写选项，中间不要留空；判断题不填选项。",
    "答案：单选填一个字母（如 B），多选填几个字母（如 ACD 或 A、C、D），判断填 正确 或 错误。",
    "解析、来源必填：解析在公布答案时显示，来源写明出处（公开文件或报道）。",
    "分类填“分类”工作表中的分类编号或分类名称。难度 1–3，不填为 1。限时 5–600 秒，可不填。",
    "编号可不填（自动生成 分类-行号）；题库修订时请保留编号，以便对比版本。",
    "来源链接填官方网站上的出处；核对链接填编写时实际查阅的网页（仅供审核，不向参赛者显示）。",
    "已复核：质量检查的提醒经人工复核无误时，填提醒代码（如 near_duplicate），可不填。",
    "校验：quiz-server banks validate 文件.xlsx；导入：quiz-server banks load 文件.xlsx",
)
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="FFF2CC")


def template_workbook(bank: ParsedBank | None = None) -> Workbook:
    """A workbook in the template; with no bank, a three-question sample to copy from."""
    bank = bank or sample_bank()
    book = Workbook()
    sheet = book.active
    sheet.title = QUESTION_SHEET
    _write(sheet, [TEMPLATE_HEADERS, *(_row(q) for q in bank.questions)])
    _question_sheet_aids(sheet)
    info = [(key, getattr(bank, "slug" if key == "id" else key), note) for key, note in INFO_ROWS]
    _write(book.create_sheet(INFO_SHEET), info, header=False)
    categories = [(c["id"], c["title"]) for c in bank.categories]
    _write(book.create_sheet(CATEGORY_SHEET), [CATEGORY_HEADERS, *categories])
    _write(book.create_sheet(HELP_SHEET), [(line,) for line in HELP_LINES], header=False)
    return book


def workbook_bytes(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _row(q: ParsedQuestion) -> tuple[Any, ...]:
    options = [*q.options, *[None] * (len(OPTION_COLUMNS) - len(q.options))]
    return (
        q.qid, TYPE_LABELS.get(q.type, q.type), q.stem, *options, _answer_text(q),
        q.explanation, q.category, q.difficulty, q.source, q.source_url or None,
        q.source_copy or None, q.time_limit, "、".join(q.tags) or None,
        "、".join(q.reviewed) or None,
    )  # fmt: skip


def _answer_text(q: ParsedQuestion) -> str:
    if isinstance(q.answer, bool):
        return "正确" if q.answer else "错误"
    return "".join(q.answer) if isinstance(q.answer, list) else q.answer


def _write(sheet: Worksheet, rows: Any, header: bool = True) -> None:
    for row in rows:
        sheet.append(list(row))
    for row in sheet.iter_rows():
        for cell in row:
            text_cell(cell)  # a stem that starts with "=" is text, not a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if header:
        for cell in sheet[1]:
            cell.font, cell.fill = _BOLD, _HEADER_FILL
        sheet.freeze_panes = "A2"
    for column in sheet.iter_cols(max_row=1):
        width = 40 if column[0].value in ("题干", "解析", "来源") else 14
        sheet.column_dimensions[column[0].column_letter].width = width


def _question_sheet_aids(sheet: Worksheet) -> None:
    """Drop-down lists for 题型 and 难度, so the common typos cannot happen."""
    kinds = DataValidation(type="list", formula1='"单选,多选,判断"', allow_blank=True)
    levels = DataValidation(type="list", formula1='"1,2,3"', allow_blank=True)
    for validation, header in ((kinds, "题型"), (levels, "难度(1-3)")):
        letter = sheet.cell(1, TEMPLATE_HEADERS.index(header) + 1).column_letter
        validation.add(f"{letter}2:{letter}1000")
        sheet.add_data_validation(validation)


def sample_bank() -> ParsedBank:
    """Three questions on facts from public law texts, one of each type."""
    law = "《中华人民共和国道路交通安全法》"
    waste = "《中华人民共和国反食品浪费法》（2021年4月29日通过）"
    questions = [
        ParsedQuestion(
            "traffic-001", "single", "行人横过没有交通信号灯、人行横道的路口时，应当怎样做？",
            ["快速奔跑通过", "确认安全后通过", "边走边看手机", "结伴并排慢行"], "B",
            "道路交通安全法第六十二条：通过没有交通信号灯、人行横道的路口，应当在确认安全后通过。",
            "traffic", 1, f"{law}第六十二条",
        ),
        ParsedQuestion(
            "dining-001", "multiple", "根据反食品浪费法，下列说法正确的有哪些？",
            ["餐饮服务经营者可以对参与“光盘”行动的消费者给予奖励",
             "餐饮服务经营者诱导、误导消费者超量点餐的，可被处以罚款",
             "禁止制作、发布暴饮暴食等浪费食品的音视频信息",
             "该法自2023年1月1日起施行"], ["A", "B", "C"],
            "A、B、C 均为该法规定；该法2021年4月29日通过，自公布之日起施行。", "dining", 2, waste,
        ),
        ParsedQuestion(
            "traffic-002", "judge", "电动自行车在非机动车道内行驶时，最高时速不得超过15公里。",
            [], True, "道路交通安全法第五十八条规定，最高时速不得超过十五公里。",
            "traffic", 1, f"{law}第五十八条", time_limit=20,
        ),
    ]  # fmt: skip
    return ParsedBank(
        slug="sample-bank",
        title="题库模板示例",
        version="1",
        locale="zh-CN",
        description="按此格式填写题目，删除示例行后保存。",
        categories=[{"id": "traffic", "title": "文明交通"}, {"id": "dining", "title": "文明用餐"}],
        questions=questions,
        source_name="TEMPLATE.xlsx",
    )
