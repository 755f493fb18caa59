"""The bank quality check (`quiz-server banks check`): each finding from a small bank made for it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from quiz_server.banks import banks, content_hash, parse_yaml
from quiz_server.banks.check import check_banks, coverage, is_official, similarity, stem_grams

HEAD = """\
bank:
  id: {slug}
  title: 题库
  categories:
    - {{id: c, title: 分类}}
questions:
"""
GOOD = """\
  - id: {qid}
    type: single
    stem: {stem}
    options: [走人行横道, 翻越护栏, 随意横穿, 边走边看手机]
    answer: A
    explanation: 应当走人行横道。
    category: c
    source: 《中华人民共和国道路交通安全法》
    source_url: https://flk.npc.gov.cn/
"""


def bank_text(*questions: str, slug: str = "b") -> str:
    return HEAD.format(slug=slug) + "".join(questions)


def good(qid: str = "q1", stem: str = "行人横过道路时应当怎样做？") -> str:
    return GOOD.format(qid=qid, stem=stem)


def parsed(text: str, name: str = "b.yaml"):
    bank, errors = parse_yaml(text, name)
    assert bank is not None, errors
    return bank


def codes(text: str, *others: str) -> list[tuple[str, str | None, bool]]:
    report = check_banks([parsed(text), *(parsed(o, f"o{i}.yaml") for i, o in enumerate(others))])
    return [(f.code, f.qid, f.reviewed) for f in report.findings]


def with_fields(question: str, **fields: str) -> str:
    lines = [line for line in question.splitlines() if line.split(":")[0].strip() not in fields]
    return "\n".join(lines + [f"    {k}: {v}" for k, v in fields.items()]) + "\n"


@pytest.mark.parametrize(
    "explanation",
    ["A、C两项正确。", "选项C是对的。", "答案为D。", "B项错误，其余正确。", "AB均符合要求。"],
)
def test_an_explanation_naming_option_letters_is_an_error(explanation):
    question = with_fields(good(), explanation=explanation)
    assert codes(bank_text(question)) == [("letter_reference", "q1", False)]


@pytest.mark.parametrize(
    "explanation", ["说法正确。A级景区也要文明游览。", "PM2.5 超标时减少出行。", "应当走人行横道。"]
)
def test_letters_that_are_not_option_references_pass(explanation):
    assert codes(bank_text(with_fields(good(), explanation=explanation))) == []


def test_a_multiple_choice_question_needs_two_wrong_options():
    question = """\
  - id: m1
    type: multiple
    stem: 下列做法文明的有哪些？
    options: [排队候车, 礼让行人, 随地吐痰]
    answer: [A, B]
    explanation: 排队候车、礼让行人是文明做法。
    category: c
    source: 《中华人民共和国道路交通安全法》
    source_url: https://flk.npc.gov.cn/
"""
    assert codes(bank_text(question)) == [("few_wrong_options", "m1", False)]
    fixed = question.replace("随地吐痰]", "随地吐痰, 乱扔垃圾]")
    assert codes(bank_text(fixed)) == []


def test_near_duplicate_stems_within_and_across_banks_are_warned_unless_reviewed():
    twin = "行人横过道路时，应当怎样做？"
    within = bank_text(good("q1"), good("q2", twin))
    assert codes(within) == [("near_duplicate", "q1", False)]
    across = codes(bank_text(good("q1")), bank_text(good("x1", twin), slug="other"))
    assert across == [("near_duplicate", "q1", False)]
    accepted = bank_text(with_fields(good("q1"), reviewed="[near_duplicate]"), good("q2", twin))
    assert codes(accepted) == [("near_duplicate", "q1", True)]


def test_a_stem_stating_another_questions_answer_is_flagged_for_review():
    stem = "过马路时“走人行横道”体现了文明出行，下列说法对吗？"
    judge = f"""\
  - id: j1
    type: judge
    stem: {stem}
    answer: true
    explanation: 说法正确。
    category: c
    source: 《中华人民共和国道路交通安全法》
    source_url: https://flk.npc.gov.cn/
"""
    found = codes(bank_text(good("q1", "过马路时怎样做体现了文明出行？"), judge))
    assert ("giveaway", "q1", False) in found


def test_sources_without_link_off_the_official_hosts_or_second_hand_are_warned():
    no_link = "\n".join(line for line in good("q1").splitlines() if "source_url" not in line)
    farm = with_fields(
        good("q2", "骑车遇到红灯应当怎样做？"), source_url="https://zhidao.example.com/1"
    )
    second = with_fields(good("q3", "乘坐公交车应当怎样做？"), source="某网站（二手来源）")
    found = codes(bank_text(no_link + "\n", farm, second))
    assert found == [
        ("no_source_link", "q1", False),
        ("unofficial_source", "q2", False),
        ("second_hand", "q3", False),
    ]
    assert is_official("http://www.wenming.cn/a.html") and is_official("https://flk.npc.gov.cn/")
    assert not is_official("https://gov.cn.example.com/") and not is_official("https://xgov.cn/")


def test_lopsided_answer_letters_and_type_spread_are_warned():
    questions = [
        good(f"q{i}", f"第{i}题：行人{'横过道路' * (i % 3 + 1)}{i}应当怎样做") for i in range(24)
    ]
    found = {code for code, _, _ in codes(bank_text(*questions))}
    assert {"answer_balance", "type_spread"} <= found


def test_coverage_is_the_expected_share_of_the_pool_seen():
    assert coverage(100, 10, 1) == pytest.approx(0.10)
    assert coverage(100, 10, 7) == pytest.approx(1 - 0.9**7)
    assert coverage(5, 10, 1) == 1.0 and coverage(0, 10, 3) == 0.0


def test_stem_similarity_ignores_punctuation():
    assert similarity(stem_grams("行人，应当？"), stem_grams("行人应当")) == 1.0


def run_check(tmp_path: Path, *texts: str, args: tuple[str, ...] = ()):
    files = []
    for i, text in enumerate(texts):
        path = tmp_path / f"bank{i}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    return CliRunner().invoke(banks, ["check", *args, *files])


def test_the_command_prints_counts_and_coverage_and_exits_1_only_on_errors(tmp_path):
    clean = run_check(tmp_path, bank_text(good()))
    assert clean.exit_code == 0, clean.output
    assert "bank b 题库: 1 questions" in clean.output and "0 errors, 0 warnings" in clean.output
    assert "pool seen after k attempts of 10: 1 → 100%" in clean.output
    warned = run_check(tmp_path, bank_text(with_fields(good(), source_url="https://a.example/")))
    assert warned.exit_code == 0 and "warning: unofficial_source: q1" in warned.output
    broken = run_check(tmp_path, bank_text(with_fields(good(), explanation="选项A正确。")))
    assert broken.exit_code == 1 and "error: letter_reference: q1" in broken.output
    unparsable = run_check(tmp_path, "bank: [")
    assert unparsable.exit_code == 1


def test_the_allowlist_of_official_hosts_is_configurable(tmp_path, monkeypatch):
    text = bank_text(with_fields(good(), source_url="https://www.fjwm.org/"))
    assert "unofficial_source" in run_check(tmp_path, text).output
    assert "unofficial_source" not in run_check(tmp_path, text, args=("--hosts", "fjwm.org")).output
    monkeypatch.setenv("QUIZ_SOURCE_HOSTS", "fjwm.org, gov.cn")
    assert "unofficial_source" not in run_check(tmp_path, text).output


def test_source_copy_and_reviewed_are_kept_but_absent_ones_leave_the_hash_alone():
    plain = parsed(bank_text(good()))
    assert "source_copy" not in plain.questions[0].content()
    annotated = parsed(
        bank_text(with_fields(good(), source_copy="http://mirror.example/1", reviewed="[giveaway]"))
    )
    q = annotated.questions[0]
    assert q.source_copy == "http://mirror.example/1" and q.reviewed == ["giveaway"]
    assert content_hash(annotated) != content_hash(plain)
    bad = bank_text(with_fields(good(), source_copy="mirror.example"))
    assert parse_yaml(bad, "b.yaml")[0] is None


def test_a_bank_from_before_the_new_fields_keeps_its_content_hash():
    """The hash of the test bank as stored before source_copy/reviewed existed."""
    bank = parsed(textwrap.dedent(bank_text(good())))
    assert content_hash(bank) == "0235316ae8276a70df9d60a687ae9b4514f01a4059b3d7dd08ecb270f6e4a9dc"
