"""文明礼仪网络竞答 — live and campaign quiz contests for party branches."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import assets, i18n, schema, transport
from .config import Settings, resource_dir
from .extensions import csrf, db, login_manager, socketio


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app. Importing this package opens nothing; this function binds everything."""
    settings = settings or Settings.from_env(**overrides)
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.from_mapping(settings.flask_config())
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # the default JSON provider has this switch

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    assets.init_app(app)
    _register_blueprints(app)
    from . import live, models, stage  # noqa: F401

    live.init_app(app)  # before socketio.init_app: its namespaces then reach every app
    stage.init_app(app)

    # With Redis as the queue, a manager that resyncs this process's sockets after an outage.
    queue = live.queue_manager(app, settings.message_queue, settings.message_channel)
    socketio.init_app(
        app,
        async_mode=settings.async_mode,
        message_queue=settings.message_queue,
        **({"client_manager": queue} if queue is not None else {}),
        channel=settings.message_channel,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        **transport.server_options(settings.public_url),
    )
    transport.init_app(app, socketio)
    if settings.trusted_proxies:  # outermost, so pages and sockets both see the client address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]  # the documented way to add WSGI middleware
    with app.app_context():
        schema.upgrade(db.engine)
    return app


F = TypeVar("F", bound=Callable[..., Any])


def with_app_context(command: F) -> F:
    """Run a command in an app context, building the app (without timers) only if needed."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return command(*args, **kwargs)
        with create_app(run_timers=False).app_context():
            return command(*args, **kwargs)

    return run  # type: ignore[return-value]  # wraps keeps the signature


def _register_blueprints(app: Flask) -> None:
    from .views import admin, api, auth, boards, campaign, host, player, site

    for module in (site, auth, player, host, api, boards, campaign):
        app.register_blueprint(module.bp)
    for blueprint in admin.blueprints:
        app.register_blueprint(blueprint)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL and a busy timeout, so a second process and readers never see 'database is locked'."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
