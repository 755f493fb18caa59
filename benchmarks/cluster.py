"""The server side of a benchmark run: N gunicorn processes (each pinned to one core), Redis as
their message queue when N > 1, nginx in front of them rendered from deploy/nginx.conf, and
what /proc says each worker spent (CPU, memory).

`start_processes` starts the processes itself, with quiz-server's own production argv
(`quiz_server.cli.gunicorn_argv`); a `quiz-server run --processes N` command can replace it
without the rest of the benchmark noticing.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers import free_port  # noqa: E402

from quiz_server.cli import gunicorn_argv  # noqa: E402

QUIZ_APP = "quiz_server.wsgi:app"
BARE_APP = "benchmarks.bare_server:app"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Cluster:
    """Running server processes and the URL phones use (nginx's when there is more than one)."""

    base: str
    masters: list[subprocess.Popen[bytes]]
    workers: list[int]
    cores: list[int]
    log: Path
    nginx: subprocess.Popen[bytes] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def cpu(self) -> list[float]:
        """CPU seconds (user + system) each worker has used so far."""
        return [cpu_seconds(pid) for pid in self.workers]

    def waited(self) -> list[float]:
        """Seconds each worker has spent runnable but waiting for a CPU (taken by others)."""
        return [run_delay(pid) for pid in self.workers]

    def memory_mb(self) -> list[tuple[float, float]]:
        """(resident now, peak resident) of each worker, in MB."""
        return [(status_mb(pid, "VmRSS"), status_mb(pid, "VmHWM")) for pid in self.workers]

    def nginx_cpu(self) -> float:
        if self.nginx is None:
            return 0.0
        return sum(cpu_seconds(pid) for pid in [self.nginx.pid, *children(self.nginx.pid)])

    def stop(self) -> None:
        for proc in [*self.masters, *([self.nginx] if self.nginx else [])]:
            stop(proc)


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_delay(pid: int | str) -> float:
    """/proc/<pid>/schedstat's time on a run queue: wanting a CPU another process had."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (FileNotFoundError, IndexError):
        return 0.0


def status_mb(pid: int, key: str) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    found = re.search(rf"{key}:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


PIN = True  # `live_load.py --no-pin` lets the kernel place every process


def server_cores(processes: int) -> list[int]:
    """One core per server process, from the highest-numbered down; the load generator gets
    the others (or shares them all when the servers take every core). Unpinned: -1 each."""
    if not PIN:
        return [-1] * processes
    cores = sorted(os.sched_getaffinity(0))
    return [cores[-1 - (i % len(cores))] for i in range(processes)]


def generator_cores(taken: list[int]) -> set[int]:
    cores = set(os.sched_getaffinity(0))
    return (cores - set(taken)) or cores


def argv(app: str, port: int, connections: int) -> list[str]:
    """quiz-server's production command, for `app`, with room for every benchmark phone."""
    args = gunicorn_argv("127.0.0.1", port)
    args[-1] = app
    index = args.index("--worker-connections")
    args[index + 1] = str(max(int(args[index + 1]), connections))
    return [*args[:-1], "--log-level", "warning", args[-1]]


def start_processes(
    app: str,
    processes: int,
    env: dict[str, str],
    log: Path,
    connections: int,
    ports: list[int] | None = None,
) -> tuple[list[subprocess.Popen[bytes]], list[int], list[int], list[int]]:
    """N single-worker gunicorn processes on free loopback ports, process i pinned to a core.
    Returns (masters, worker pids, ports, cores) once each worker answers HTTP."""
    cores = server_cores(processes)
    ports = ports or [free_port() for _ in range(processes)]
    masters = []
    with log.open("ab") as out:
        for port, core in zip(ports, cores, strict=True):
            masters.append(
                subprocess.Popen(
                    argv(app, port, connections),
                    env={**os.environ, **env},
                    cwd=ROOT,
                    stderr=out,
                    preexec_fn=None
                    if core < 0
                    else lambda core=core: os.sched_setaffinity(0, {core}),
                )
            )
    try:
        for port, master in zip(ports, masters, strict=True):
            wait_http(f"http://127.0.0.1:{port}/", master)
    except BaseException:
        for master in masters:
            stop(master)
        raise
    workers = [children(m.pid)[0] for m in masters]
    return masters, workers, ports, cores


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered {url} within {timeout} s")


def render_nginx(ports: list[int], listen: int, folder: Path, connections: int) -> str:
    """deploy/nginx.conf (the shipped, tested file) for loopback: our upstream ports, our listen
    port, the checkout's static folder; wrapped in the main context a full nginx.conf needs."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    first = re.search(r"(?m)^(\s*)server\s+[\d.]+:\d+([^;]*);\n", site)
    indent, options = (first.group(1), first.group(2)) if first else ("", "")
    upstreams = "".join(f"{indent}server 127.0.0.1:{p}{options};\n" for p in ports)
    site, found = re.subn(r"(?m)^(\s*server\s+[\d.]+:\d+[^;]*;\n)+", upstreams, site, count=1)
    site, listens = re.subn(r"(?m)^(\s*)listen\s+[^;]+;", rf"\1listen 127.0.0.1:{listen};", site)
    if not found or not listens:
        raise RuntimeError("deploy/nginx.conf: no upstream servers or listen line to render")
    site = re.sub(r"(?m)^(\s*)alias\s+[^;]+;", rf"\1alias {ROOT / 'static'}/;", site)
    temp = {k: folder / k for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
worker_rlimit_nofile {connections * 2 + 100};
events {{ worker_connections {connections * 2 + 100}; }}
http {{
    access_log off;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{site}
}}
"""


def start_nginx(
    ports: list[int], listen: int, folder: Path, connections: int
) -> subprocess.Popen[bytes]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = folder / "nginx.conf"
    conf.write_text(render_nginx(ports, listen, folder, connections))
    proc = subprocess.Popen(
        [binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf),
         "-g", "daemon off;"],
        stderr=(folder / "error.log").open("ab"),
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{listen}/", proc)
    return proc


def start(
    app: str, processes: int, env: dict[str, str], folder: Path, phones: int, redis_url: str
) -> Cluster:
    """The servers for one measurement: one process on its port, or N behind nginx with Redis."""
    env = dict(env)
    front = free_port()  # the port phones use: the only process's, or nginx's
    env.setdefault("QUIZ_PUBLIC_URL", f"http://127.0.0.1:{front}")  # the page's origin
    if processes > 1:
        env.setdefault("QUIZ_MESSAGE_QUEUE", redis_url)
        env.setdefault("QUIZ_MESSAGE_CHANNEL", f"bench-{secrets.token_hex(4)}")
    connections = phones + 500
    log = folder / ("bare-server.log" if app == BARE_APP else "quiz-server.log")
    if processes == 1:
        masters, workers, _, cores = start_processes(app, 1, env, log, connections, [front])
        return Cluster(f"http://127.0.0.1:{front}", masters, workers, cores, log, extra=env)
    masters, workers, ports, cores = start_processes(app, processes, env, log, connections)
    try:
        nginx = start_nginx(ports, front, folder, connections)
    except BaseException:
        for master in masters:
            stop(master)
        raise
    return Cluster(f"http://127.0.0.1:{front}", masters, workers, cores, log, nginx, env)
