"""`quiz-server run --processes N`: the nginx configuration rendered from the deployed file,
the supervisor's backoff, and the settings it refuses. The processes themselves run in
tests/test_faults.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from quiz_server import cli, cluster
from quiz_server.config import resource_dir

ROOT = Path(__file__).resolve().parent.parent


def render(tmp_path: Path) -> str:
    template = (ROOT / "deploy" / "nginx.conf").read_text()
    return cluster.render_nginx(template, "127.0.0.1:9000", [9001, 9002, 9003],
                                resource_dir("static"), tmp_path, 4096)  # fmt: skip


def test_the_rendered_config_is_the_deployed_one_pointed_at_our_ports(tmp_path):
    conf = render(tmp_path)
    assert cluster.nginx_template() == ROOT / "deploy" / "nginx.conf"
    for port in (9001, 9002, 9003):
        assert f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" in conf
    assert "8001" not in conf and "8002" not in conf
    assert "listen 127.0.0.1:9000;" in conf and "listen 80;" not in conf
    assert f"alias {resource_dir('static')}/;" in conf
    assert "hash $remote_addr consistent;" in conf  # everything else is the tested file's
    assert 'proxy_set_header Connection "upgrade";' in conf
    assert "daemon off;" in conf and f"proxy_temp_path {tmp_path / 'proxy'};" in conf


@pytest.mark.skipif(not Path(cluster.NGINX).is_file(), reason="nginx is not installed")
def test_nginx_accepts_the_rendered_config(tmp_path):
    (tmp_path / "nginx.conf").write_text(render(tmp_path))
    checked = subprocess.run(  # noqa: S603
        [cluster.NGINX, "-t", "-q", "-p", str(tmp_path), "-e", "stderr",
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_backoff_doubles_and_is_bounded():
    assert [cluster.backoff(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]


def test_several_processes_refuse_sqlite_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZ_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUIZ_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli.main, ["run", "--processes", "2", "--port", "18999"])
    assert result.exit_code != 0
    assert "SQLite serves one process only" in result.output
    assert "QUIZ_DATABASE_URL" in result.output


def test_the_worker_environment_names_the_queue_and_the_proxy(monkeypatch):
    monkeypatch.delenv("QUIZ_TRUSTED_PROXIES", raising=False)
    env = cluster.worker_env(3, "redis://127.0.0.1:6379/0")
    assert env["QUIZ_MESSAGE_QUEUE"] == "redis://127.0.0.1:6379/0"
    assert env["QUIZ_PROCESSES"] == "3" and env["QUIZ_TRUSTED_PROXIES"] == "1"
    argv = cluster.without_control_socket(["gunicorn", "-b", "x", "quiz_server.wsgi:app"])
    assert argv[-1] == "quiz_server.wsgi:app"


def test_the_supervisor_restarts_a_child_that_dies_and_waits_for_its_port(capsys, monkeypatch):
    monkeypatch.setattr(cluster, "POLL_SECONDS", 0.02)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = cluster.Child("process 1", port, [sys.executable, "-c", "pass"], {})
    supervisor = cluster.Supervisor([child])
    runner = threading.Thread(target=supervisor.run, args=(lambda: None,))
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while child.restarts < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.restarts >= 2  # it died at once, twice: restarted each time
        with socket.socket() as orphan:  # an orphaned worker holds the port: no start meanwhile
            orphan.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            orphan.bind(("127.0.0.1", port))
            orphan.listen()
            time.sleep(0.3)  # let a pending start reach the port check
            held = child.restarts
            time.sleep(1.5)
            assert child.restarts <= held + 1
            assert child.proc is None or child.proc.poll() is not None
    finally:
        supervisor.stopping = True
        runner.join(timeout=20)
    out = capsys.readouterr().out
    assert f"quiz-server: process 1 port {port} exited (0); restarting in 0.5 s" in out
    assert "(restarted)" in out
