"""Real server processes for tests and benchmarks: gunicorn as the README deploys it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_ports(count: int) -> int:
    """A free loopback port followed by `count - 1` free ones (`quiz-server run --processes N
    --port P` takes P for nginx and P+1…P+N for the processes)."""
    from quiz_server.cluster import port_free

    for _ in range(50):
        port = free_port()
        if all(port_free("127.0.0.1", port + i) for i in range(count)):
            return port
    raise RuntimeError(f"no {count} free consecutive ports")


def start_gunicorn(
    port: int,
    env: dict[str, str],
    worker: str = "gevent",
    timeout: float = 60,
    log: Path | None = None,
    cwd: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """`gunicorn -k gevent -w 1 quiz_server.wsgi:app` on 127.0.0.1:port, returned once its worker
    answers HTTP (the master accepts connections before the worker has loaded the app). With
    `log`, the server's stderr (gunicorn's and the app's log lines) goes to that file. `cwd`:
    a checkout whose `quiz_server` to serve (benchmarks compare against an older commit)."""
    argv = [
        sys.executable, "-m", "gunicorn", "-k", worker, "-w", "1",
        "--worker-connections", "6000", "-b", f"127.0.0.1:{port}",
        "--log-level", "warning", "--graceful-timeout", "2", "quiz_server.wsgi:app",
    ]  # fmt: skip
    stderr = log.open("ab") if log else None
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stderr=stderr)
    if stderr:
        stderr.close()  # the child holds its own copy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn did not listen on {port} within {timeout} s")


def worker_pid(proc: subprocess.Popen[bytes]) -> int:
    """The gunicorn worker's pid (the master forks one worker, which serves every request)."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return int(children[0])


def peak_rss_mb(pid: int) -> float:
    """The most resident memory a process has held so far, in MB (a spike shows after it ends)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]  # Linux always reports VmHWM


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def login_cookie(base: str, username: str, password: str) -> str:
    """Log in through the real form (with its CSRF token); the session cookie as a header value."""
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    reply = http.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        timeout=10,
        allow_redirects=False,
    )
    assert reply.status_code == 302, f"login failed: {reply.status_code}"
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


class Cluster:
    """`quiz-server run --processes N --port P` as a child process, as a user starts it: the
    lines it prints are collected, and the pids it names are kept by port (the newest)."""

    LINE = re.compile(r"^quiz-server: (?:process \d+|nginx) port (\d+) pid (\d+)")

    def __init__(
        self,
        port: int,
        processes: int,
        env: dict[str, str],
        log: Path,
        timeout: float = 90,
        options: tuple[str, ...] = (),
    ) -> None:
        argv = [sys.executable, "-m", "quiz_server.cli", "run", "--host", "127.0.0.1",
                "--port", str(port), "--processes", str(processes), *options]  # fmt: skip
        self.port, self.lines, self.pids = port, [], {}  # type: ignore[var-annotated]
        self.worker_ports = [port + i for i in range(1, processes + 1)]
        with log.open("ab") as stderr:
            self.proc = subprocess.Popen(
                argv, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr
            )
        import threading

        threading.Thread(target=self._read, daemon=True).start()
        if not self.wait_line("ready", timeout):
            self.stop()
            raise RuntimeError(f"the cluster did not get ready in {timeout} s: {self.lines}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            match = self.LINE.match(line)
            if match:
                self.pids[int(match.group(1))] = int(match.group(2))
            self.lines.append(line)

    def wait_line(self, text: str, timeout: float, after: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines[after:]):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def base(self, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.port}"

    def stop(self) -> None:
        stop(self.proc)  # type: ignore[arg-type]  # a Popen, whatever its stdout
