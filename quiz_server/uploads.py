"""Organizer uploads (banks in YAML or xlsx, the organisation file in CSV or xlsx) are parsed in
a child process with a time and memory budget.

The worker that parses would otherwise be the one serving every phone: a 254 KB workbook held
it for 21 s, and a parse in a thread would still hold the GIL. The child reads the file, checks
it and sends back plain JSON (never a pickle); it is killed at the budget, and the organizer
gets a clear message instead. `python -m quiz_server.uploads` is the child's entry point.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import resource
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from flask import current_app

from .banks.parsed import BankError, ParsedBank, ParsedQuestion
from .orgs.file import OrgError, OrgFile, RosterLine, UnitLine

PARSE_SECONDS = 20  # wall clock for the child, its ~1–2 s start-up included
PARSE_MEMORY_MB = 1024  # the child's address space; about 100 MB of it is the interpreter
BUDGET_EXCEEDED = "文件太大或太复杂：解析超出了 {seconds} 秒 / {memory} MB 的限制，请拆分后分别上传"
TOO_BIG = "文件超过 {limit} MB，请拆分后分别上传"
OUT_OF_MEMORY = 3  # the child's exit status when it hit its memory limit
log = logging.getLogger(__name__)


def parse_bank(name: str, data: bytes) -> tuple[ParsedBank | None, list[BankError]]:
    """The bank, or None and every error, as `quiz-server banks validate` would report them."""
    refused = _refusal(data)
    if refused:
        return None, [BankError(name, 1, "file", refused)]
    answer = _run({"kind": "bank", "name": name}, data)
    if answer is None:
        return None, [BankError(name, 1, "file", _budget_message())]
    bank = answer["bank"]
    if bank is not None:
        questions = [ParsedQuestion(**q) for q in bank.pop("questions")]
        bank = ParsedBank(**bank, questions=questions)
    return bank, [BankError(**e) for e in answer["errors"]]


def parse_org(
    name: str, data: bytes, known: Mapping[str, tuple[str, str]]
) -> tuple[OrgFile | None, list[OrgError]]:
    """Every unit and roster line, or None and every error; `known`: orgfile.known_units."""
    refused = _refusal(data)
    if refused:
        return None, [OrgError(name, 1, "", refused)]
    answer = _run({"kind": "org", "name": name, "known": dict(known)}, data)
    if answer is None:
        return None, [OrgError(name, 1, "", _budget_message())]
    found = answer["found"]
    if found is not None:
        units = [UnitLine(**u) for u in found["units"]]
        found = OrgFile(units, [RosterLine(**r) for r in found["roster"]])
    return found, [OrgError(**e) for e in answer["errors"]]


def _refusal(data: bytes) -> str | None:
    limit = current_app.config["QUIZ"].max_upload_mb
    return TOO_BIG.format(limit=limit) if len(data) > limit * 1024 * 1024 else None


def _budget_message() -> str:
    return BUDGET_EXCEEDED.format(seconds=PARSE_SECONDS, memory=PARSE_MEMORY_MB)


def _run(job: dict[str, Any], data: bytes) -> dict[str, Any] | None:
    """The child's answer, or None when it ran out of time or memory. Under gevent the wait is
    cooperative (subprocess is patched), so the phones are served meanwhile."""
    job = {**job, "seconds": PARSE_SECONDS, "memory_mb": PARSE_MEMORY_MB}
    header = json.dumps(job, ensure_ascii=False).encode() + b"\n"
    argv = [sys.executable, "-m", "quiz_server.uploads"]
    try:
        done = subprocess.run(argv, input=header + data, capture_output=True, timeout=PARSE_SECONDS)  # noqa: S603  # our own module; the upload goes to stdin
    except subprocess.TimeoutExpired:  # run() has killed the child
        log.warning("upload %r: parse over %s s, refused", job["name"], PARSE_SECONDS)
        return None
    if done.returncode == OUT_OF_MEMORY or done.returncode < 0:  # < 0: killed (CPU limit)
        log.warning("upload %r: parse over its budget (status %s)", job["name"], done.returncode)
        return None
    if done.returncode != 0:
        raise RuntimeError(f"upload parser failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(done.stdout)


# ---------------------------------------------------------------- the child


def main() -> None:
    job = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    memory = job["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (job["seconds"], job["seconds"]))
    try:
        answer = _answer(job, data)
    except MemoryError:
        sys.exit(OUT_OF_MEMORY)
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


def _answer(job: dict[str, Any], data: bytes) -> dict[str, Any]:
    if job["kind"] == "bank":
        from .banks.store import parse_bytes

        bank, errors = parse_bytes(job["name"], data)
        return {"bank": _plain(bank), "errors": [_plain(e) for e in errors]}
    from .orgs.file import check_bytes

    known = {code: (kind, parent) for code, (kind, parent) in job["known"].items()}
    found, problems = check_bytes(job["name"], data, known)
    return {"found": _plain(found), "errors": [_plain(e) for e in problems]}


def _plain(value: Any) -> Any:
    return dataclasses.asdict(value) if value is not None else None


if __name__ == "__main__":
    main()
