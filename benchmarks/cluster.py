"""The server side of a benchmark run, and what /proc says each worker spent (CPU, memory).

quiz-server is started as a user starts it: `quiz-server run` for one process, `quiz-server run
--processes N` for N gunicorn processes behind nginx with Redis as their message queue (the
command prints each process's pid and a `ready` line; the workers are those processes'
children). The bare server is no quiz-server, so it is started here: the same gunicorn argv
(`quiz_server.cli.gunicorn_argv`) and, for N > 1, nginx with the configuration quiz-server
renders from deploy/nginx.conf (`quiz_server.cluster.render_nginx`). With pinning, server
process i runs on one core and the load generator on the others.
"""

from __future__ import annotations

import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers import Cluster as QuizServerRun  # noqa: E402
from servers import free_port, free_ports  # noqa: E402

from quiz_server import cluster as quiz_cluster  # noqa: E402
from quiz_server.cli import WORKER_CONNECTIONS, gunicorn_argv  # noqa: E402
from quiz_server.config import resource_dir  # noqa: E402

QUIZ_APP = "quiz_server.wsgi:app"
BARE_APP = "benchmarks.bare_server:app"
CLK_TCK = os.sysconf("SC_CLK_TCK")
OPEN_FILES = 65536  # what deploy/quiz-server@.service gives the server (LimitNOFILE)


@dataclass
class Cluster:
    """Running server processes and the URL phones use (nginx's when there is more than one)."""

    base: str
    workers: list[int]
    cores: list[int]
    log: Path
    stoppers: list[Callable[[], None]]
    nginx: int | None = None  # nginx's master pid
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
        return sum(cpu_seconds(pid) for pid in [self.nginx, *children(self.nginx)])

    def stop(self) -> None:
        for stopper in self.stoppers:
            stopper()


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


def pin(pids: list[int], core: int) -> None:
    """Every thread of `pids` onto `core` (threads started later inherit it)."""
    if core < 0:
        return
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), {core})
            except OSError:
                pass  # a thread that has just ended


def open_files() -> None:
    """Phones are open files, twice over through nginx: give the servers (our children) the
    limit the shipped systemd unit gives them, where we may; else the soft limit up to the hard."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    except (ValueError, OSError):
        pass
    quiz_cluster.raise_file_limit()


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


def popen(
    argv: list[str], env: dict[str, str], log: Path, core: int = -1
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=out,
            preexec_fn=None if core < 0 else lambda: os.sched_setaffinity(0, {core}),
        )  # fmt: skip


def quiz_server_run(processes: int, env: dict[str, str], log: Path, connections: int) -> Cluster:
    """`quiz-server run` (one process) or `quiz-server run --processes N` (N behind nginx),
    the commands of the README; returned once it serves, its workers pinned."""
    options = ("--worker-connections", str(connections))
    cores = server_cores(processes)
    if processes == 1:
        port = free_port()
        env = {**env, "QUIZ_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        argv = [sys.executable, "-m", "quiz_server.cli", "run", "--host", "127.0.0.1",
                "--port", str(port), *options]  # fmt: skip
        proc = popen(argv, env, log, cores[0])  # `run` execs gunicorn: proc is its master
        try:
            wait_http(f"http://127.0.0.1:{port}/", proc)
        except BaseException:
            stop(proc)
            raise
        workers = children(proc.pid)[:1]
        return Cluster(f"http://127.0.0.1:{port}", workers, cores, log, [lambda: stop(proc)],
                       extra=env)  # fmt: skip
    port = free_ports(processes + 1)
    env = {**env, "QUIZ_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    run = QuizServerRun(port, processes, env, log, options=options)
    masters = [run.pids[p] for p in run.worker_ports]
    workers = [children(m)[0] for m in masters]
    for master, worker, core in zip(masters, workers, cores, strict=True):
        pin([master, worker], core)

    def finish() -> None:
        run.stop()
        with log.open("a") as out:  # what the supervisor said (a restart would show here)
            out.writelines(f"{line}\n" for line in run.lines)

    return Cluster(run.base(), workers, cores, log, [finish], run.pids.get(port), env)


def bare_processes(processes: int, env: dict[str, str], log: Path, connections: int) -> Cluster:
    """The bare server on quiz-server's gunicorn argv: one process, or N behind the same nginx
    configuration `quiz-server run --processes N` renders."""
    cores = server_cores(processes)
    front = free_port()
    ports = [front] if processes == 1 else [free_port() for _ in range(processes)]
    masters = []
    for port, core in zip(ports, cores, strict=True):
        argv = gunicorn_argv("127.0.0.1", port, connections=connections)
        masters.append(popen([*argv[:-1], "--log-level", "warning", BARE_APP], env, log, core))
    stoppers = [lambda m=m: stop(m) for m in masters]
    try:
        for port, master in zip(ports, masters, strict=True):
            wait_http(f"http://127.0.0.1:{port}/", master)
        nginx = None if processes == 1 else start_nginx(ports, front, log.parent)
    except BaseException:
        for stopper in stoppers:
            stopper()
        raise
    workers = [children(m.pid)[0] for m in masters]
    if nginx is not None:
        stoppers.append(lambda: stop(nginx))
    return Cluster(f"http://127.0.0.1:{front}", workers, cores, log, stoppers,
                   nginx.pid if nginx else None, env)  # fmt: skip


def start_nginx(ports: list[int], listen: int, folder: Path) -> subprocess.Popen[bytes]:
    prefix = folder / "nginx"
    prefix.mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    template = quiz_cluster.nginx_template().read_text()
    conf.write_text(quiz_cluster.render_nginx(
        template, f"127.0.0.1:{listen}", ports, resource_dir("static"), prefix,
        quiz_cluster.raise_file_limit(),
    ))  # fmt: skip
    binary = quiz_cluster.NGINX if Path(quiz_cluster.NGINX).is_file() else shutil.which("nginx")
    argv = [str(binary), "-p", str(prefix), "-e", "stderr", "-c", str(conf)]
    proc = popen(argv, {}, folder / "nginx.log")
    wait_http(f"http://127.0.0.1:{listen}/", proc)
    return proc


def start(
    app: str, processes: int, env: dict[str, str], folder: Path, phones: int, redis_url: str
) -> Cluster:
    """The servers for one measurement: one process on its port, or N behind nginx with Redis."""
    open_files()
    env = dict(env)
    if processes > 1:
        env.setdefault("QUIZ_MESSAGE_QUEUE", redis_url)
        env.setdefault("QUIZ_MESSAGE_CHANNEL", f"bench-{secrets.token_hex(4)}")
    connections = max(WORKER_CONNECTIONS, phones + 500)
    if app == QUIZ_APP:
        return quiz_server_run(processes, env, folder / "quiz-server.log", connections)
    return bare_processes(processes, env, folder / "bare-server.log", connections)
