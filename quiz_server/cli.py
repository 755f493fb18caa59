"""The `quiz-server` command: the groups of each package (`banks`, `orgs`, `contests`) wired
in, plus the set-up and serving commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import click
import segno

from . import links, with_app_context
from .config import ConfigError, Settings

SERVE_DEFAULT_PORT = 5000


@click.group()
def main() -> None:
    """文明礼仪网络竞答 — civility-etiquette quiz contests."""


def _attach_groups() -> None:
    from .banks.commands import banks
    from .campaign.commands import contests
    from .orgs.commands import orgs
    from .stage import commands as _stage  # noqa: F401  (adds contests create-stage)

    for group in (banks, orgs, contests):
        main.add_command(group)


_attach_groups()


@main.command("init-db")
@with_app_context
def init_db() -> None:
    """Create or upgrade the database schema (the app also does this when it starts)."""
    click.echo("database ready")


@main.command("make-migration")
@click.argument("message")
@with_app_context
def make_migration(message: str) -> None:
    """For developers: write a migration for model changes (run against an up-to-date database)."""
    from . import schema
    from .extensions import db

    schema.revision(db.engine, message)


@main.group()
def users() -> None:
    """Organizer and branch-secretary accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["organizer", "secretary"]), default="organizer")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_app_context
def users_create(username: str, role: str, password: str) -> None:
    from .auth import create_user
    from .extensions import db

    try:
        create_user(username, password, role)
        db.session.commit()
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    except Exception as err:  # IntegrityError: the name is taken
        raise click.ClickException(
            f"could not create {username!r}: {err.__class__.__name__}"
        ) from err
    click.echo(f"created {role} {username}")


# ------------------------------------------------------------------ serving


WORKER_CONNECTIONS = 4000  # phones (sockets) one process holds at once


def gunicorn_argv(
    host: str, port: int, worker_class: str = "gevent", connections: int = WORKER_CONNECTIONS
) -> list[str]:
    """The production command, as the README gives it: one process, gevent, many connections."""
    return [
        sys.executable, "-m", "gunicorn",
        "-k", worker_class, "-w", "1",
        "--worker-connections", str(connections),
        "-b", f"{host}:{port}",
        "--graceful-timeout", "5",
        "quiz_server.wsgi:app",
    ]  # fmt: skip


def _check_port(host: str, port: int) -> None:
    from .cluster import port_free

    try:
        free = port_free(host, port)
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}") from err
    if not free:
        raise click.ClickException(
            f"port {port} is already in use on {host}; choose another with --port"
        )


ALL_INTERFACES = "0.0.0.0"  # noqa: S104  # by default phones on the LAN must reach the server


def lan_address() -> str | None:
    """The machine's LAN IPv4 address, found from its own interfaces (no packet is sent)."""
    try:
        # A fixed argv; `ip` is looked up on PATH as a shell would.
        out = subprocess.run(  # noqa: S603
            ["ip", "-4", "-o", "addr", "show", "scope", "global"],  # noqa: S607
            capture_output=True, text=True, timeout=3, check=False,
        ).stdout  # fmt: skip
    except OSError:
        out = ""
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            return parts[parts.index("inet") + 1].split("/")[0]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if not address.startswith("127."):
                return address
    except OSError:
        pass
    return None


def _serve(
    host: str, port: int, env: dict[str, str], connections: int = WORKER_CONNECTIONS
) -> None:
    _check_port(host, port)
    sys.stdout.flush()
    argv = gunicorn_argv(host, port, connections=connections)
    os.execve(sys.executable, argv, {**os.environ, **env})  # noqa: S606


@main.command()
@click.option("--host", default=ALL_INTERFACES, show_default=True)
@click.option("--port", default=SERVE_DEFAULT_PORT, show_default=True)
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="N gunicorn processes on the ports after --port, nginx in front on --port, "
                   "all supervised (restarted when they die)")  # fmt: skip
@click.option("--worker-connections", "connections", type=click.IntRange(100), show_default=True,
              default=WORKER_CONNECTIONS, help="sockets (phones) each process holds at once")  # fmt: skip
def run(host: str, port: int, processes: int | None, connections: int) -> None:
    """Serve with gunicorn (gevent) using the QUIZ_* environment."""
    settings = _settings()  # a refused setting is reported here, not in the worker's traceback
    if processes is None:
        _serve(host, port, {}, connections)
        return
    from . import cluster

    queue = _message_queue(settings, processes)
    try:
        code = cluster.serve_cluster(
            host, port, processes, cluster.worker_env(processes, queue),
            lambda p: cluster.without_control_socket(
                gunicorn_argv("127.0.0.1", p, connections=connections)
            ),
        )  # fmt: skip
    except RuntimeError as err:
        raise click.ClickException(str(err)) from err
    sys.exit(code)


DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _message_queue(settings: Settings, processes: int) -> str | None:
    """Several processes share one contest through PostgreSQL and a Redis message queue."""
    if processes == 1:
        return settings.message_queue
    if settings.database_url.startswith("sqlite"):
        raise click.ClickException(
            f"--processes {processes} needs a database every process shares: SQLite serves one "
            "process only. Set QUIZ_DATABASE_URL=postgresql+psycopg://… (see the README)."
        )
    url = settings.message_queue or DEFAULT_REDIS
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=3).ping()
    except ImportError as err:
        raise click.ClickException("pip install 'quiz-server[scale]' for Redis") from err
    except Exception as err:
        raise click.ClickException(
            f"--processes {processes} needs Redis as the message queue; {url} does not answer "
            f"({err.__class__.__name__}). Set QUIZ_MESSAGE_QUEUE."
        ) from err
    return url


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ConfigError as err:
        raise click.ClickException(str(err)) from err


@main.command()
@click.option("--host", default=ALL_INTERFACES, show_default=True, help="address to listen on")
@click.option("--port", default=SERVE_DEFAULT_PORT, show_default=True)
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="data folder (default: ./quiz-data)")  # fmt: skip
def demo(host: str, port: int, data_dir: Path | None) -> None:
    """Set up a demo organisation and contest on SQLite, print the URLs and the join QR, serve."""
    from . import create_app
    from .demo import seed_demo
    from .extensions import db

    _check_port(host, port)
    if data_dir is not None:
        os.environ["QUIZ_DATA_DIR"] = str(data_dir.resolve())
    settings = _settings(run_timers=False)
    shown_host = lan_address() if host in (ALL_INTERFACES, "") else host
    base = f"http://{shown_host or '127.0.0.1'}:{port}"
    public = settings.public_url or base
    app = create_app(settings)
    with app.app_context(), app.test_request_context(base_url=public):
        info = seed_demo(db.session)
        contest_id, pin = info.contest.id, info.contest.pin
        join, standings = links.join_url(pin), links.absolute(links.standings(pin))
        campaign = info.campaign and (
            links.absolute(links.campaign(info.campaign.pin)),
            links.absolute(links.rankings(info.campaign.pin)),
        )
    _print_demo(settings, port, contest_id, (pin, join, standings), info.username, info.password)
    if campaign:
        _print_campaign(*campaign)
    _serve(host, port, {"QUIZ_DATA_DIR": str(settings.data_dir), "QUIZ_PUBLIC_URL": public})


def _print_demo(
    settings: Settings,
    port: int,
    contest_id: int,
    live: tuple[str, str, str],
    user: str,
    password: str,
) -> None:
    pin, join, standings = live
    click.echo(f"\n  文明礼仪网络竞答 — demo   (data: {settings.data_dir})\n")
    click.echo(f"  Big screen : http://127.0.0.1:{port}/host/{contest_id}")
    click.echo(f"  Organizer  : http://127.0.0.1:{port}/admin/   user {user}  password {password}")
    click.echo(f"  Phones join: {join}   PIN {pin}")
    click.echo(f"  Standings  : {standings}\n")
    segno.make(join, error="m").terminal(compact=True)
    click.echo("\n  Scan the code with a phone on the same network.  Ctrl+C stops the server.\n")


def _print_campaign(phones: str, rankings: str) -> None:
    click.echo("  Campaign (网络竞答, self-paced attempts over days):")
    click.echo(f"    Phones    : {phones}")
    click.echo(f"    Rankings  : {rankings}\n")


if __name__ == "__main__":
    main()
