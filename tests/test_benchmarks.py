"""The shipped live benchmark runs end to end at a tiny size and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POSTGRES_URL, postgres_missing
from test_scale_out import redis_missing

from quiz_server.cluster import NGINX

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.server


def test_live_load_prints_its_figures_and_rows_match_ok_acks():
    argv = [sys.executable, "benchmarks/live_load.py", "--phones", "20", "--questions", "2",
            "--answer-window", "1", "--join-rate", "100", "--no-standing"]  # fmt: skip
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=90)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "±30 %" in out and "ratio" in out
    for figure in ("server CPU per join ms", "server CPU per acked answer ms", "fan-out p99 ms",
                   "lost acks", "server RSS peak MB", "generator CPU per acked answer ms"):  # fmt: skip
        assert figure in out
    assert out.count("phones seated 20 / offered 20") == 2  # bare, then quiz-server
    stored = re.search(r"database: (\d+) answer rows, (\d+) ok acks: equal", out)
    assert stored and stored.group(1) == stored.group(2) == "40", out
    assert "20 participant rows for 20 seated phones" in out
    assert "answer refusals by reason: none" in out


def test_two_processes_run_through_quiz_server_run_behind_nginx():
    reason = postgres_missing() or redis_missing()
    if not Path(NGINX).is_file():
        reason = "nginx is not installed"
    if reason:
        pytest.skip(reason)
    argv = [sys.executable, "benchmarks/live_load.py", "--only", "quiz-server", "--processes", "2",
            "--database", POSTGRES_URL, "--phones", "20", "--questions", "1",
            "--answer-window", "1", "--join-rate", "100", "--no-standing"]  # fmt: skip
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=90)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "phones seated 20 / offered 20" in out
    assert "database: 20 answer rows, 20 ok acks: equal" in out
    assert "20 participant rows for 20 seated phones" in out
    assert "server log quiz-server.log: no errors" in out
