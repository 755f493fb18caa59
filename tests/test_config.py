"""Settings the server refuses to start with, and the defaults the demo relies on."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import ROOT

from quiz_server.cli import main
from quiz_server.config import ConfigError, Settings

EXAMPLE = ROOT / "deploy" / "quiz-server.env.example"


def example_secret() -> str:
    match = re.search(r"^QUIZ_SECRET_KEY=(.*)$", EXAMPLE.read_text(), re.MULTILINE)
    assert match, "the deploy example sets QUIZ_SECRET_KEY"
    return match.group(1).strip()


def test_the_deploy_examples_placeholder_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="placeholder"):
        Settings.from_env(secret_key=example_secret(), data_dir=tmp_path)


def test_a_short_key_is_refused_with_its_length(tmp_path):
    with pytest.raises(ConfigError, match="has 31 characters; it needs at least 32"):
        Settings.from_env(secret_key="k" * 31, data_dir=tmp_path)
    assert Settings.from_env(secret_key="k" * 32, data_dir=tmp_path).secret_key == "k" * 32


def test_the_generated_demo_key_is_accepted_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("QUIZ_SECRET_KEY", raising=False)
    first = Settings.from_env(data_dir=tmp_path).secret_key
    assert len(first) >= 32 and (tmp_path / "secret_key").read_text().strip() == first
    assert Settings.from_env(data_dir=tmp_path).secret_key == first


def test_run_reports_the_refused_key_without_starting(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZ_SECRET_KEY", example_secret())
    monkeypatch.setenv("QUIZ_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["run", "--port", "1"])
    assert result.exit_code == 1
    assert "QUIZ_SECRET_KEY is the placeholder" in result.output


def test_each_process_opens_its_share_of_the_connection_budget():
    from quiz_server.config import engine_options

    given = {"secret_key": "k" * 40, "database_url": "sqlite:///unused.sqlite3"}
    two = Settings.from_env(**given, db_connections=40, processes=2)
    assert two.pool_size == 20
    assert Settings.from_env(**given, db_connections=3, processes=4).pool_size == 2
    options = engine_options("postgresql+psycopg://x/y", two.pool_size, two.db_pool_timeout)
    assert (options["pool_size"], options["max_overflow"], options["pool_timeout"]) == (20, 0, 1.5)
