"""The banks the project ships can run a city-wide campaign: size, shape and sources."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from quiz_server.banks import parse_file
from quiz_server.banks.check import LETTER_REFERENCE, check_banks, is_official

BUNDLED = sorted((Path(__file__).resolve().parent.parent / "question_banks").glob("*.yaml"))
MIN_TOTAL, MIN_BANK, MIN_CATEGORY = 500, 120, 25


@pytest.fixture(scope="module")
def banks():
    parsed = [parse_file(path) for path in BUNDLED]
    assert all(bank is not None for bank, _ in parsed), [e for _, errors in parsed for e in errors]
    return [bank for bank, _ in parsed]


def test_the_bundled_banks_are_large_enough_for_repeated_attempts(banks):
    assert sum(len(bank.questions) for bank in banks) >= MIN_TOTAL
    for bank in banks:
        assert len(bank.questions) >= MIN_BANK, bank.slug
        small = {
            k: n for k, n in Counter(q.category for q in bank.questions).items() if n < MIN_CATEGORY
        }
        assert not small, (bank.slug, small)


def test_every_bundled_question_has_an_official_link_and_no_letter_reference(banks):
    for bank in banks:
        for q in bank.questions:
            assert is_official(q.source_url), (bank.slug, q.qid, q.source_url)
            assert q.source and "二手来源" not in q.source, (bank.slug, q.qid)
            assert not LETTER_REFERENCE.search(q.explanation), (bank.slug, q.qid)


def test_the_bundled_banks_pass_the_quality_check_with_every_warning_reviewed(banks):
    report = check_banks(banks)
    assert [str(f) for f in report.errors + report.warnings] == []


def test_a_thirty_ten_ten_paper_can_be_drawn_from_every_bank(banks):
    for bank in banks:
        types = Counter(q.type for q in bank.questions)
        assert types["single"] >= 30 and types["multiple"] >= 10 and types["judge"] >= 10, bank.slug
