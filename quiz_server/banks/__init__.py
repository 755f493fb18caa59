"""Question banks (题库): read YAML or xlsx files, validate them line by line, store versions.

Other modules import from here only; the submodules are the format readers and the store.
"""

from .commands import banks
from .parsed import BankError, ParsedBank, ParsedQuestion, content_hash
from .store import (
    BankDiff,
    InvalidBundledBank,
    QuestionChange,
    diff_versions,
    find_version,
    latest_version,
    load_bundled_banks,
    parse_file,
    store_bank,
)
from .text import clean_text
from .xlsx import export_xlsx, parse_xlsx, template_workbook
from .yamlfile import export_yaml, parse_yaml

__all__ = [
    "BankDiff",
    "BankError",
    "InvalidBundledBank",
    "ParsedBank",
    "ParsedQuestion",
    "QuestionChange",
    "banks",
    "clean_text",
    "content_hash",
    "diff_versions",
    "export_xlsx",
    "export_yaml",
    "find_version",
    "latest_version",
    "load_bundled_banks",
    "parse_file",
    "parse_xlsx",
    "parse_yaml",
    "store_bank",
    "template_workbook",
]
