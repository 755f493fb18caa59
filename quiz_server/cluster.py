"""`quiz-server run --processes N`: the local scale-out set under one supervisor.

N single-worker gunicorn (gevent) processes on consecutive loopback ports after `--port`, and
Debian's nginx in front on `--port`, its configuration rendered from `deploy/nginx.conf` (the
tested file; no second copy). The supervisor restarts a child that dies, with a bounded backoff,
and waits while an orphaned gunicorn worker still holds the port (a `kill -9` of the master
leaves one behind for seconds); SIGTERM or Ctrl-C stops them all.

What it prints on stdout, one line each, for people and for scripts (the benchmark):

    quiz-server: process 1 port 8001 pid 1234
    quiz-server: nginx port 8000 pid 1240
    quiz-server: ready http://127.0.0.1:8000 (2 processes)
    quiz-server: process 1 port 8001 exited (-9); restarting in 0.5 s
    quiz-server: process 1 port 8001 pid 1300 (restarted)
"""

from __future__ import annotations

import errno
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import PACKAGE_DIR, resource_dir

NGINX = "/usr/sbin/nginx"
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 10.0
STABLE_SECONDS = 30.0  # a child up this long has its backoff reset
POLL_SECONDS = 0.2
READY_TIMEOUT = 60.0


def nginx_template() -> Path:
    """`deploy/nginx.conf` of the checkout, or the copy an installed wheel carries."""
    checkout = PACKAGE_DIR.parent / "deploy" / "nginx.conf"
    return checkout if checkout.is_file() else PACKAGE_DIR / "share" / "deploy" / "nginx.conf"


def render_nginx(
    template: str, listen: str, ports: list[int], static_dir: Path, prefix: Path, max_files: int
) -> str:
    """A complete nginx.conf from the deployed server block: its upstream pointed at `ports` on
    loopback, listening on `listen`, static files from this installation, every path nginx
    writes under `prefix`. Everything else (headers, timeouts, hashing) is the tested file's."""
    upstream = re.search(r"(upstream quiz \{\n(?:\s*#.*\n|\s*hash .*\n)*)((?:\s*server .*\n)+)",
                         template)  # fmt: skip
    if upstream is None:
        raise ValueError("deploy/nginx.conf has no `upstream quiz` with servers to render")
    params = re.match(r"\s*server \S+?( [^;]*)?;", upstream.group(2))
    extra = (params.group(1) or "") if params else ""
    servers = "".join(f"    server 127.0.0.1:{port}{extra};\n" for port in ports)
    body = template[: upstream.start(2)] + servers + template[upstream.end(2) :]
    body = re.sub(r"listen \S+;", f"listen {listen};", body)
    body = re.sub(r"alias \S+;", f"alias {static_dir}/;", body)
    if f"listen {listen};" not in body:
        raise ValueError("deploy/nginx.conf has no `listen` to render")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                            "uwsgi", "scgi")
    )  # fmt: skip
    mime = "    include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").is_file() else ""
    # A proxied phone is two connections (its own and the upstream one), each one open file:
    # the worker may use every file it has, less a few for logs and listening sockets.
    return (
        "daemon off;\nworker_processes 1;\n"
        f"pid {prefix / 'nginx.pid'};\nerror_log stderr warn;\n"
        f"worker_rlimit_nofile {max_files};\n"
        f"events {{ worker_connections {max(1024, max_files - 100)}; }}\n"
        "http {\n"
        f"{mime}    default_type application/octet-stream;\n    access_log off;\n{temp}\n"
        f"{body}}}\n"
    )


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def backoff(recent_restarts: int) -> float:
    """Seconds before the next start: doubling from 0.5 s, never more than 10 s."""
    return float(min(BACKOFF_FIRST * 2 ** max(recent_restarts, 0), BACKOFF_MAX))


def say(line: str) -> None:
    print(f"quiz-server: {line}", flush=True)


@dataclass
class Child:
    """One supervised process: how to start it and what became of it."""

    name: str
    port: int
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restarts: int = 0  # since it was last stable
    due: float = 0.0  # when to (re)start it
    workers: set[int] = field(default_factory=set)  # the gunicorn master's forks, last seen

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env)  # noqa: S603  # our own argv
        self.started = time.monotonic()
        self.workers = set()

    def note_workers(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.workers = set(_children(self.proc.pid)) or self.workers


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _end_orphans(child: Child) -> None:
    """The dead master's worker keeps the port (and its phones) until it notices: end it now,
    so the restart binds at once. Only pids still running gunicorn are touched."""
    for pid in child.workers:
        try:
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)
        except (OSError, ProcessLookupError):
            pass
    child.workers = set()


@dataclass
class Supervisor:
    children: list[Child]
    host: str = "127.0.0.1"
    stopping: bool = False
    clock: Callable[[], float] = time.monotonic

    def run(self, ready: Callable[[], None]) -> int:
        for child in self.children:
            self._launch(child, restarted=False)
        ready()
        while not self.stopping:
            for child in self.children:
                self._watch(child)
            time.sleep(POLL_SECONDS)
        return self.stop_all()

    def _watch(self, child: Child) -> None:
        if self.stopping:  # Ctrl+C reaches the children too: their exit is no cause to restart
            return
        proc = child.proc
        if proc is not None and proc.poll() is None:
            child.note_workers()
            if child.restarts and self.clock() - child.started > STABLE_SECONDS:
                child.restarts = 0
            return
        if proc is not None:  # it just died
            delay = backoff(child.restarts)
            say(f"{child.name} port {child.port} exited ({proc.returncode}); "
                f"restarting in {delay:g} s")  # fmt: skip
            _end_orphans(child)
            child.proc, child.due = None, self.clock() + delay
            child.restarts += 1
            return
        if self.clock() < child.due:
            return
        if not port_free(self.host, child.port):
            child.due = self.clock() + 0.5  # an orphan still holds it; look again shortly
            return
        self._launch(child, restarted=True)

    def _launch(self, child: Child, restarted: bool) -> None:
        child.start()
        assert child.proc is not None
        say(f"{child.name} port {child.port} pid {child.proc.pid}"
            + (" (restarted)" if restarted else ""))  # fmt: skip

    def stop_all(self) -> int:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + 10
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
        for child in self.children:
            _end_orphans(child)
        return 0


def raise_file_limit() -> int:
    """Phones are open files: lift the soft limit to the hard one for every child."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return int(min(soft, 65536) if soft != resource.RLIM_INFINITY else 65536)


def answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()  # noqa: S310  # our loopback
    except OSError:
        return False
    return True


def wait_until_serving(ports: list[int], supervisor: Supervisor) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    for port in ports:
        while not answers(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing answers on port {port} after {READY_TIMEOUT:g} s")
            for child in supervisor.children:
                if child.proc is not None and child.proc.poll() is not None:
                    raise RuntimeError(f"{child.name} exited with {child.proc.returncode}")
            time.sleep(POLL_SECONDS)


def serve_cluster(
    host: str, port: int, processes: int, env: dict[str, str], gunicorn: Callable[[int], list[str]]
) -> int:
    """Run the set until SIGTERM or Ctrl-C; the caller has checked the settings."""
    if not Path(NGINX).is_file() and not shutil.which("nginx"):
        raise RuntimeError("nginx is needed in front of several processes: apt-get install nginx")
    ports = [port + i for i in range(1, processes + 1)]
    for p in [port, *ports]:
        if not port_free(host if p == port else "127.0.0.1", p):
            raise RuntimeError(f"port {p} is already in use; choose another --port")
    max_files = raise_file_limit()
    prefix = Path(tempfile.mkdtemp(prefix="quiz-nginx-"))
    try:
        conf = prefix / "nginx.conf"
        listen = f"{host}:{port}" if host not in ("", "0.0.0.0") else str(port)  # noqa: S104  # the CLI's default
        conf.write_text(render_nginx(nginx_template().read_text(), listen, ports,
                                     resource_dir("static"), prefix, max_files))  # fmt: skip
        nginx = Path(NGINX) if Path(NGINX).is_file() else Path(shutil.which("nginx") or NGINX)
        children = [
            Child(f"process {i}", p, gunicorn(p), env) for i, p in enumerate(ports, start=1)
        ]
        children.append(
            Child(
                "nginx",
                port,
                [str(nginx), "-p", str(prefix), "-e", "stderr", "-c", str(conf)],
                dict(os.environ),
            )  # fmt: skip
        )
        supervisor = Supervisor(children, host="127.0.0.1")

        def stop(_signum: int, _frame: object) -> None:
            supervisor.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def ready() -> None:
            wait_until_serving([*ports, port], supervisor)
            shown = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104
            say(f"ready http://{shown}:{port} ({processes} processes)")

        try:
            return supervisor.run(ready)
        except BaseException:
            supervisor.stop_all()
            raise
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def without_control_socket(argv: list[str]) -> list[str]:
    """gunicorn 23+ opens one control socket at a fixed path per user: several processes on one
    machine would share it, so the set runs without (it is not used)."""
    from gunicorn import config

    if "control_socket_disable" not in config.Config().settings:
        return argv
    return [*argv[:-1], "--no-control-socket", argv[-1]]


def worker_env(processes: int, message_queue: str | None) -> dict[str, str]:
    """The environment of each gunicorn: the caller's, plus the queue and what nginx implies."""
    env = dict(os.environ)
    if message_queue:
        env["QUIZ_MESSAGE_QUEUE"] = message_queue
    env["QUIZ_PROCESSES"] = str(processes)
    env.setdefault("QUIZ_TRUSTED_PROXIES", "1")  # nginx sets X-Forwarded-For
    return env
