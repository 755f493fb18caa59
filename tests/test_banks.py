from __future__ import annotations

import os
import textwrap
import time
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from quiz_server.banks import (
    InvalidBundledBank,
    ParsedBank,
    QuestionChange,
    banks,
    clean_text,
    content_hash,
    diff_versions,
    export_xlsx,
    export_yaml,
    find_version,
    latest_version,
    load_bundled_banks,
    parse_file,
    parse_xlsx,
    parse_yaml,
    store_bank,
    template_workbook,
)
from quiz_server.extensions import db
from quiz_server.models import Bank, BankVersion

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "banks"
GOOD = DATA / "good.yaml"
BUNDLED = ROOT / "question_banks"
TYPES = "（可用：single 单选题、multiple 多选题、judge 判断题）"
UNSAFE = "unsafe or unknown YAML tag（不安全或未知的标签）："

HEAD = """\
bank:
  id: b
  title: 题库
  categories:
    - {id: traffic, title: 文明交通}
questions:
"""
# Lines 7–14 of every case below, unless the case changes them.
QUESTION = """\
  - id: q1
    type: single
    stem: 题干
    options: [甲, 乙, 丙]
    answer: A
    explanation: 解析
    category: traffic
    source: 来源
"""


def good() -> ParsedBank:
    bank, errors = parse_file(GOOD)
    assert errors == [] and bank is not None
    return bank


def errors_of(text: str, name: str = "bad.yaml") -> list[str]:
    bank, errors = parse_yaml(text, name)
    assert bank is None, "a bank with errors must not parse"
    return [str(e) for e in errors]


def with_question(old: str = "", new: str = "") -> str:
    assert old in QUESTION
    return HEAD + QUESTION.replace(old, new, 1)


# ---- parsing a good bank ---------------------------------------------------------------


def test_good_bank_parses_with_every_field():
    bank = good()
    assert (bank.slug, bank.title, bank.version, bank.locale) == (
        "civility-basics",
        "文明礼仪常识",
        "1",
        "zh-CN",
    )
    assert bank.categories == [
        {"id": "traffic", "title": "文明交通"},
        {"id": "dining", "title": "文明用餐"},
    ]
    assert [q.qid for q in bank.questions] == [
        "traffic-001",
        "dining-001",
        "traffic-002",
        "traffic-003",
    ]
    single, multiple, judge, quoted = bank.questions
    assert single.answer == "B" and single.line == 12
    assert multiple.stem == "根据反食品浪费法，下列说法正确的有哪些？"  # block scalar stripped
    assert multiple.answer == ["A", "B"]  # normalised order
    assert (multiple.time_limit, multiple.tags) == (30, ["法律", "用餐"])
    assert multiple.source_url == "https://example.org/fanshipinlangfeifa"
    assert (judge.options, judge.answer, judge.difficulty) == ([], True, 1)
    assert quoted.options == ["1990", "2003", "yes", "是"]  # options stay as written
    assert bank.source_name == "good.yaml" and bank.cleaned == []


# ---- one error class at a time, with its exact line ------------------------------------

ERROR_CASES = [
    (
        "answer beyond options",
        "answer: A",
        "answer: D",
        "bad.yaml:11: q1.answer: 答案 D 不在选项中",
    ),
    ("unknown type", "type: single", "type: essay", "bad.yaml:8: q1.type: 题型 essay 不支持"),
    ("blank stem", "stem: 题干", 'stem: "   "', "bad.yaml:9: q1.stem: 不能为空"),
    ("number stem", "stem: 题干", "stem: 123", "bad.yaml:9: q1.stem: 应为文字，实际是数字"),
    ("list stem", "stem: 题干", "stem: [a, b]", "bad.yaml:9: q1.stem: 应为文字，实际是列表"),
    (
        "options mapping",
        "options: [甲, 乙, 丙]",
        "options: {a: 1}",
        "bad.yaml:10: q1.options: 选项必须是非空列表",
    ),
    (
        "empty option on its own line",
        "options: [甲, 乙, 丙]",
        'options:\n      - 甲\n      - ""\n      - 丙',
        "bad.yaml:12: q1.options[1]: 选项必须是非空文字",
    ),
    (
        "too few options",
        "options: [甲, 乙, 丙]",
        "options: [甲]",
        "bad.yaml:10: q1.options: 选项数量应为 2–6 个",
    ),
    (
        "undeclared category",
        "category: traffic",
        "category: food",
        "bad.yaml:13: q1.category: 分类 food 未在",
    ),
    (
        "bool difficulty",
        "source: 来源",
        "source: 来源\n    difficulty: true",
        "bad.yaml:15: q1.difficulty: 应为 1–3",
    ),
    (
        "difficulty too high",
        "source: 来源",
        "source: 来源\n    difficulty: 4",
        "bad.yaml:15: q1.difficulty: 应为 1–3",
    ),
    (
        "time limit too short",
        "source: 来源",
        "source: 来源\n    time_limit: 3",
        "bad.yaml:15: q1.time_limit: 应为 5–600",
    ),
    (
        "unknown question key",
        "source: 来源",
        "source: 来源\n    image: a.png",
        "bad.yaml:15: q1.image: 未知字段 image",
    ),
    (
        "bad source_url",
        "source: 来源",
        "source: 来源\n    source_url: www.x.cn",
        "bad.yaml:15: q1.source_url: 应以 http://",
    ),
    (
        "tags not a list",
        "source: 来源",
        "source: 来源\n    tags: 交通",
        "bad.yaml:15: q1.tags: 应为文字列表",
    ),
    (
        "missing explanation",
        "    explanation: 解析\n",
        "",
        "bad.yaml:7: q1.explanation: 缺少必填字段",
    ),
    ("missing source", "    source: 来源\n", "", "bad.yaml:7: q1.source: 缺少必填字段"),
    ("missing answer", "    answer: A\n", "", "bad.yaml:7: q1.answer: 缺少必填字段"),
    ("id with a space", "id: q1", "id: q 1", "bad.yaml:7: questions[0].id: 不能含空白"),
    (
        "duplicate key",
        "source: 来源",
        "source: 来源\n    stem: 又一个",
        "bad.yaml:15: q1.stem: 字段 stem 重复（首次出现在第 9 行）",
    ),
    (
        "judge with options",
        "type: single",
        "type: judge",
        "bad.yaml:10: q1.options: 判断题不写选项",
    ),
    (
        "multiple answer not a list",
        "type: single",
        "type: multiple",
        "bad.yaml:11: q1.answer: 多选题的答案必须是字母列表",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [case[1:] for case in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_each_question_error_names_file_line_and_field(old, new, expected):
    errors = errors_of(with_question(old, new))
    assert any(e.startswith(expected) for e in errors), errors


BANK_CASES = [
    ("bad slug", HEAD.replace("id: b", "id: Bad Slug"), "bad.yaml:2: bank.id: 只能用小写字母"),
    ("missing title", HEAD.replace("  title: 题库\n", ""), "bad.yaml:1: bank.title: 缺少必填字段"),
    (
        "unknown bank key",
        HEAD.replace("bank:\n", "bank:\n  owner: me\n"),
        "bad.yaml:2: bank.owner: 未知字段",
    ),
    (
        "duplicate category",
        HEAD.replace("categories:\n", "categories:\n    - {id: traffic, title: 交通}\n"),
        "bad.yaml:6: bank.categories[1].id: 分类 traffic 重复（首次出现在第 5 行）",
    ),
    (
        "missing categories",
        HEAD.replace("  categories:\n    - {id: traffic, title: 文明交通}\n", ""),
        "bad.yaml:1: bank.categories: 缺少分类声明",
    ),
    ("unknown top key", "extra: 1\n" + HEAD, "bad.yaml:1: extra: 未知字段"),
]


@pytest.mark.parametrize(
    ("head", "expected"), [case[1:] for case in BANK_CASES], ids=[c[0] for c in BANK_CASES]
)
def test_each_bank_error_names_file_line_and_field(head, expected):
    errors = errors_of(head + QUESTION)
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "bad.yaml:1: file: 文件是空的"),
        ("# only a comment\n", "bad.yaml:1: file: 文件是空的"),
        ("- a\n- b\n", "bad.yaml:1: file: 应为映射（键: 值），实际是列表"),
        ("hello\n", "bad.yaml:1: file: 应为映射（键: 值），实际是文字"),
        (
            "bank: {id: b, title: t, categories: [{id: a, title: A}]}\n",
            "bad.yaml:1: questions: 缺少",
        ),
        (HEAD + "  5\n", "bad.yaml:6: questions: 应为非空的题目列表，实际是数字"),
        (HEAD + "  - 5\n", "bad.yaml:7: questions[0]: 每道题应为映射"),
        (
            "bank:\n  id: b\n  title: a: b\n",
            "bad.yaml:3: syntax: YAML 语法错误：mapping values are not allowed",
        ),
        ("bank:\n  id: [b\nquestions: []\n", "bad.yaml:3: syntax: YAML 语法错误"),
    ],
)
def test_malformed_files_give_one_clear_error(text, expected):
    errors = errors_of(text)
    assert errors[0].startswith(expected), errors


def test_duplicate_question_id_is_reported_on_the_duplicate_naming_the_first():
    second = QUESTION.replace("stem: 题干", "stem: 另一题")
    errors = errors_of(HEAD + QUESTION + second)
    assert errors == ["bad.yaml:15: q1.id: 编号 q1 重复（首次出现在第 7 行）"]


def test_all_errors_of_a_file_are_reported_at_once():
    text = textwrap.dedent(
        """\
        bank:
          id: Civility
          title: 题库
          categories:
            - {id: traffic, title: 文明交通}
        questions:
          - id: q1
            type: essay
            stem: ""
            answer: A
            explanation: 解析
            category: traffic
            source: 来源
          - id: q2
            type: single
            stem: 题干
            options: [甲, 乙]
            answer: C
            explanation: 解析
            category: food
            source: 来源
            difficulty: 5
          - id: q1
            type: judge
            stem: 题干
            answer: maybe
            category: traffic
            source: 来源
        """
    )
    assert errors_of(text) == [
        "bad.yaml:2: bank.id: 只能用小写字母、数字、- 和 _，以字母或数字开头，最长 64 个字符",
        f"bad.yaml:8: q1.type: 题型 essay 不支持{TYPES}",
        "bad.yaml:9: q1.stem: 不能为空",
        "bad.yaml:18: q2.answer: 答案 C 不在选项中（共 2 个选项）",
        "bad.yaml:20: q2.category: 分类 food 未在 bank.categories 中声明（已声明：traffic）",
        "bad.yaml:22: q2.difficulty: 应为 1–3 之间的整数，实际是 '5'",
        "bad.yaml:23: q1.id: 编号 q1 重复（首次出现在第 7 行）",
        "bad.yaml:23: q1.explanation: 缺少必填字段",
        "bad.yaml:26: q1.answer: 判断题的答案必须是 true 或 false",
    ]


@pytest.mark.parametrize(
    "tagged",
    [
        'stem: !!python/object/apply:os.system ["touch {marker}"]',
        'stem: !!python/object/new:os.system ["touch {marker}"]',
        "stem: !include {marker}",
        "stem: !!binary aGVsbG8=",
    ],
)
def test_unsafe_tags_are_refused_without_running(tagged, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    text = with_question("stem: 题干", tagged.format(marker=marker))
    errors = errors_of(text)
    assert errors == [f"bad.yaml:9: q1.stem: {UNSAFE}{tagged.split()[1]}"]
    assert calls == [] and not marker.exists()


def test_unsafe_tag_on_the_whole_document_is_refused():
    assert errors_of("!!python/object/apply:os.system [echo]\n") == [
        f"bad.yaml:1: file: {UNSAFE}!!python/object/apply:os.system",
    ]


def test_an_alias_bomb_is_not_expanded():
    layers = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    layers += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    errors = errors_of("\n".join(layers) + "\n")
    assert errors[0] == "bad.yaml:1: a0: 未知字段 a0（可用字段：bank, questions）"


# ---- cleaning pinyin artifacts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cleaned", "count"),
    [
        ("薌城區(qū)各機(jī)關(guān)黨支部", "芗城区各机关党支部", 3),
        ("泉港區（qū）東張", "泉港区东张", 1),  # full-width parentheses; t2s for the whole field
        ("文明风(wmf)", "文明风(wmf)", 0),
        ("第(1)条", "第(1)条", 0),
        ("引用《臺灣通史》", "引用《臺灣通史》", 0),  # no artifact: traditional text is left alone
        ("綠(lǜ)色出行", "绿色出行", 1),
    ],
)
def test_clean_text(text, cleaned, count):
    assert clean_text(text) == (cleaned, count)


def test_parsing_cleans_artifacts_and_says_what_it_did():
    text = with_question("stem: 题干", "stem: 薌城區(qū)的機(jī)關(guān)")
    text = text.replace("options: [甲, 乙, 丙]", "options: [甲, '乙??', 丙]")
    bank, errors = parse_yaml(text, "bank.yaml")
    assert errors == []
    assert bank.questions[0].stem == "芗城区的机关"
    assert bank.cleaned == [
        "q1.stem: 區(qū) → 区, 機(jī) → 机, 關(guān) → 关",
        "q1.options[1]: 含有“??”，可能是乱码，请人工核对",
    ]


# ---- the validate and load commands ----------------------------------------------------


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def no_app(monkeypatch):
    """validate must work without a database: building the app fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("validate touched the app")

    monkeypatch.setattr("quiz_server.create_app", refuse)


@pytest.fixture
def cli_app(app, monkeypatch):
    monkeypatch.setattr("quiz_server.create_app", lambda **settings: app)
    return app


def test_validate_clean_file_exits_0(runner, no_app):
    result = runner.invoke(banks, ["validate", str(GOOD)])
    assert result.exit_code == 0
    assert result.output == f"ok: {GOOD} (4 questions)\n"


def test_validate_reports_errors_and_exits_1(runner, no_app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(with_question("answer: A", "answer: D"), encoding="utf-8")
    result = runner.invoke(banks, ["validate", str(GOOD), str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"ok: {GOOD} (4 questions)",
        f"{bad}:11: q1.answer: 答案 D 不在选项中（共 3 个选项）",
        f"failed: {bad} (1 error)",
    ]


def test_load_stores_once_then_reports_unchanged(runner, cli_app):
    first = runner.invoke(banks, ["load", str(GOOD)])
    again = runner.invoke(banks, ["load", str(DATA / "good-reformatted.yaml")])
    assert first.output == "loaded bank civility-basics version 1 (4 questions)\n"
    assert again.output == "unchanged: bank civility-basics version 1\n"
    assert first.exit_code == again.exit_code == 0


def test_validate_and_load_report_what_the_cleanup_changed(runner, cli_app, tmp_path):
    messy = tmp_path / "messy.yaml"
    messy.write_text(with_question("stem: 题干", "stem: 机(jī)关(guān)礼仪"), encoding="utf-8")
    validated = runner.invoke(banks, ["validate", str(messy)])
    loaded = runner.invoke(banks, ["load", str(messy)])
    note = f"cleaned: {messy}: q1.stem: 机(jī) → 机, 关(guān) → 关"
    assert validated.exit_code == loaded.exit_code == 0
    assert note in validated.output.splitlines() and note in loaded.output.splitlines()


def test_load_stores_nothing_from_a_file_with_errors(runner, cli_app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(with_question("type: single", "type: essay"), encoding="utf-8")
    result = runner.invoke(banks, ["load", str(bad)])
    assert result.exit_code == 1
    with cli_app.app_context():
        assert db.session.scalars(select(Bank)).all() == []


def test_export_and_diff_commands(runner, cli_app, tmp_path):
    changed = tmp_path / "v2.yaml"
    changed.write_text(
        GOOD.read_text(encoding="utf-8").replace("version: 1", "version: 2"), "utf-8"
    )
    runner.invoke(banks, ["load", str(GOOD), str(changed)])
    out = tmp_path / "export.xlsx"
    exported = runner.invoke(banks, ["export", "civility-basics", "--version", "1", "-o", str(out)])
    assert exported.output == f"exported bank civility-basics version 1 to {out}\n"
    assert runner.invoke(banks, ["validate", str(out)]).exit_code == 0
    diff = runner.invoke(banks, ["diff", "civility-basics", "1", "2"])
    assert diff.output == "bank: version changed\n"
    yaml_out = runner.invoke(banks, ["export", "civility-basics"])
    assert yaml_out.output.startswith("# civility-basics 第 2 版（quiz-server 导出）\nbank:\n")
    missing = runner.invoke(banks, ["export", "nope"])
    assert missing.exit_code == 1 and "no bank nope" in missing.output


# ---- versions in the database ----------------------------------------------------------


def store(app, bank: ParsedBank) -> tuple[int, bool]:
    with app.app_context():
        version, created = store_bank(db.session, bank)
        db.session.commit()
        return version.number, created


def changed_stem() -> ParsedBank:
    bank = good()
    bank.questions[0].stem = "行人应当怎样横过没有信号灯的路口？"
    bank.title = "文明礼仪常识（修订）"
    return bank


def test_same_content_is_not_a_new_version(app):
    reformatted, errors = parse_file(DATA / "good-reformatted.yaml")
    assert errors == []
    assert store(app, good()) == (1, True)
    assert store(app, good()) == (1, False)
    assert store(app, reformatted) == (1, False)


def test_content_of_an_earlier_version_returns_that_version(app):
    store(app, good())
    store(app, changed_stem())
    assert store(app, good()) == (1, False)
    with app.app_context():
        assert latest_version(db.session, "civility-basics").number == 2


def test_changed_content_is_a_new_version_and_the_old_one_is_untouched(app):
    store(app, good())
    assert store(app, changed_stem()) == (2, True)
    with app.app_context():
        old = find_version(db.session, "civility-basics", 1)
        new = latest_version(db.session, "civility-basics")
        assert old.questions[0].stem == "行人横过没有交通信号灯、人行横道的路口时，应当怎样做？"
        assert new.number == 2 and new.questions[0].stem == "行人应当怎样横过没有信号灯的路口？"
        assert new.bank.title == "文明礼仪常识（修订）"
        assert [q.position for q in new.questions] == [0, 1, 2, 3]
        assert new.questions[1].answer == ["A", "B"] and new.questions[2].answer is True


@pytest.mark.parametrize("fmt", ["yaml", "xlsx"])
def test_export_round_trips_to_the_same_content_hash(app, fmt):
    store(app, good())
    with app.app_context():
        version = latest_version(db.session, "civility-basics")
        if fmt == "yaml":
            again, errors = parse_yaml(export_yaml(version), "export.yaml")
        else:
            again, errors = parse_xlsx(export_xlsx(version), "export.xlsx")
        assert errors == []
        assert content_hash(again) == version.content_hash == content_hash(good())


def test_diff_lists_added_removed_and_changed_fields(app):
    new = good()
    first, _, judge, removed = new.questions
    new.questions.remove(removed)
    first.stem, first.answer = "新的题干？", "C"
    judge.qid = "traffic-004"
    store(app, good())
    store(app, new)
    with app.app_context():
        old_v, new_v = db.session.scalars(select(BankVersion).order_by(BankVersion.number)).all()
        result = diff_versions(old_v, new_v)
    assert result.added == ["traffic-004"]
    assert result.removed == ["traffic-002", "traffic-003"]
    assert result.changed == [
        QuestionChange(
            "traffic-001",
            ["stem", "answer"],
            {"stem": "行人横过没有交通信号灯、人行横道的路口时，应当怎样做？", "answer": "B"},
            {"stem": "新的题干？", "answer": "C"},
        )
    ]


# ---- xlsx ------------------------------------------------------------------------------


def workbook(header: list[str], rows: list[list[object]], categories=(("traffic", "文明交通"),)):
    book = template_workbook()
    sheet = book.worksheets[0]
    sheet.delete_rows(1, sheet.max_row)
    for row in [header, *rows]:
        sheet.append(row)
    cats = book["分类"]
    cats.delete_rows(2, cats.max_row)
    for row in categories:
        cats.append(list(row))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "解析",
    "分类",
    "难度",
    "来源",
]


def test_xlsx_reads_columns_in_any_order_with_friendly_answers():
    header = ["来源", "解析", "答案", "分类", "题干", "题型", "选项B", "选项A", "选项C", "备注"]
    rows = [
        ["法", "解", "A、C", "文明交通", "多选题？", "多选", "乙", "甲", "丙", "内部备注"],
        ["法", "解", "对", "traffic", "判断题。", "判断", None, None, None, None],
        ["法", "解", "b", "traffic", "单选题？", "single", 1990, "是", None, None],
    ]
    bank, errors = parse_xlsx(workbook(header, rows), "bank.xlsx")
    assert errors == []
    multiple, judge, single = bank.questions
    assert (multiple.qid, multiple.category, multiple.options, multiple.answer) == (
        "traffic-002",
        "traffic",
        ["甲", "乙", "丙"],
        ["A", "C"],
    )
    assert (judge.type, judge.answer, judge.options) == ("judge", True, [])
    assert (single.options, single.answer, single.line) == (["是", "1990"], "B", 4)


def test_xlsx_bad_rows_name_row_and_column():
    rows = [
        ["问答", "题干？", "甲", "乙", None, None, "A", "解", "traffic", 1, "法"],
        ["单选", "题干？", "甲", "乙", "丙", "丁", "E", "解", "traffic", 1, "法"],
        ["单选", "题干？", "甲", None, "丙", None, "A", "解", "traffic", "难", "法"],
    ]
    bank, errors = parse_xlsx(workbook(HEADER, rows), "bad.xlsx")
    assert bank is None
    assert [str(e) for e in errors] == [
        f"bad.xlsx:row 2, column A: traffic-002.type: 题型 问答 不支持{TYPES}",
        "bad.xlsx:row 3, column G: traffic-003.answer: 答案 E 不在选项中（共 4 个选项）",
        "bad.xlsx:row 4, column D: traffic-004.options[1]: 选项必须是非空文字",
        "bad.xlsx:row 4, column J: traffic-004.difficulty: 应为 1–3 之间的整数，实际是 '难'",
    ]


def test_xlsx_missing_column_is_one_clear_error():
    header = [h for h in HEADER if h not in ("答案", "来源")]
    bank, errors = parse_xlsx(workbook(header, [["单选", "题干？"]]), "bad.xlsx")
    assert [str(e) for e in errors] == ["bad.xlsx:row 1: header: 缺少必需的列：答案、来源"]


def test_xlsx_unknown_category_and_not_a_workbook():
    rows = [["判断", "题干。", None, None, None, None, "错", "解", "food", 1, "法"]]
    _, errors = parse_xlsx(workbook(HEADER, rows), "bad.xlsx")
    assert [str(e) for e in errors] == [
        "bad.xlsx:row 2, column I: food-002.category: "
        "分类 food 未在 bank.categories 中声明（已声明：traffic）"
    ]
    _, errors = parse_xlsx(b"not a zip", "bad.xlsx")
    assert [str(e) for e in errors] == [
        "bad.xlsx:row 1: file: 不是有效的 xlsx 工作簿（请用 Excel/WPS 另存为 .xlsx）"
    ]


def test_xlsx_sheet_problems_are_reported_once():
    book = template_workbook()
    del book["题库信息"]
    book.move_sheet("题目", offset=3)  # questions found by sheet name, not position
    book["题目"]["P1"] = "难道"  # a typo in a header
    book["题目"]["Q1"] = "备注（内部）"  # notes columns are the organizer's own
    buffer = BytesIO()
    book.save(buffer)
    bank, errors = parse_xlsx(buffer.getvalue(), "bad.xlsx")
    assert bank is None
    assert [str(e) for e in errors] == [
        "bad.xlsx:row 1: 题库信息: 缺少工作表“题库信息”（请从模板 TEMPLATE.xlsx 开始填写）",
        "bad.xlsx:row 1, column P: header: 不认识的列名“难道”（可用：编号、题型、题干、答案、解析、"
        "分类、难度、来源、来源链接、核对链接、限时、标签、已复核、选项A、选项B、选项C、选项D、选项E、选项F；"
        "备注列请以“备注”开头）",
    ]


def test_template_file_is_the_template_and_parses_clean():
    bank, errors = parse_file(BUNDLED / "TEMPLATE.xlsx")
    assert errors == []
    assert [q.type for q in bank.questions] == ["single", "multiple", "judge"]
    fresh = BytesIO()
    template_workbook().save(fresh)
    assert content_hash(parse_xlsx(fresh.getvalue(), "t.xlsx")[0]) == content_hash(bank)
    headers = [c.value for c in openpyxl.load_workbook(BUNDLED / "TEMPLATE.xlsx").worksheets[0][1]]
    assert headers[:3] == ["编号", "题型", "题干"]


# ---- bundled banks ---------------------------------------------------------------------

BUNDLED_FILES = sorted(p for p in BUNDLED.glob("*") if p.suffix in (".yaml", ".yml"))


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=[p.name for p in BUNDLED_FILES])
def test_bundled_bank_validates_clean(path):
    bank, errors = parse_file(path)
    assert [str(e) for e in errors] == []
    assert bank.questions


def test_load_bundled_banks_stores_each_and_refuses_an_invalid_one(app, tmp_path, monkeypatch):
    monkeypatch.setattr("quiz_server.banks.store.resource_dir", lambda name: tmp_path)
    (tmp_path / "a.yaml").write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    with app.app_context():
        assert [(v.number, created) for v, created in load_bundled_banks(db.session)] == [(1, True)]
        (tmp_path / "b.yaml").write_text(with_question("answer: A", "answer: D"), encoding="utf-8")
        with pytest.raises(InvalidBundledBank, match=r"b.yaml:11: q1.answer"):
            load_bundled_banks(db.session)


def test_an_alias_bomb_in_a_question_is_refused_without_expanding_it():
    # Each layer lists the one before nine times: 9**9 strings if anything expanded it.
    layers = ["      - &a0 [x, x, x, x, x, x, x, x, x]"]
    layers += [f"      - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = "    tags:\n" + "\n".join(layers) + "\n    options: *a8\n    answer: *a8\n"
    text = with_question("type: single", "type: multiple")
    text = text.replace("    options: [甲, 乙, 丙]\n    answer: A\n", bomb)
    started = time.perf_counter()
    errors = errors_of(text)
    assert time.perf_counter() - started < 2
    refused = "列表或映射不能用别名（*名称）重复引用，请直接写出内容"
    assert f"bad.yaml:20: q1.options: {refused}" in errors
    assert f"bad.yaml:21: q1.answer: {refused}" in errors
    assert sum(len(e) for e in errors) < 20_000  # no message spells the bomb out


def test_an_alias_to_a_text_is_still_allowed():
    text = with_question("explanation: 解析", "explanation: &law 来源").replace(
        "source: 来源", "source: *law"
    )
    bank, errors = parse_yaml(text, "bank.yaml")
    assert errors == [] and bank.questions[0].source == "来源"


def test_a_multiple_answer_of_nested_lists_is_a_located_error():
    text = with_question("type: single", "type: multiple").replace("answer: A", "answer: [[A]]")
    assert errors_of(text) == ["bad.yaml:11: q1.answer: 答案 ['A'] 不是选项字母"]


def test_a_bank_xlsx_export_keeps_formula_looking_text_as_text(app):
    bank = good()
    bank.questions[0].stem = "=1+2 是否正确？"
    bank.questions[0].options[0] = "@SUM(A1)"
    with app.app_context():
        version, _ = store_bank(db.session, bank)
        data = export_xlsx(version)
        db.session.rollback()
    book = openpyxl.load_workbook(BytesIO(data))
    assert [
        c.coordinate for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"
    ] == []
    again, errors = parse_xlsx(data, "export.xlsx")
    assert errors == [] and content_hash(again) == content_hash(bank)
    assert again.questions[0].stem == "=1+2 是否正确？"
