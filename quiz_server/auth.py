"""Organizer accounts: hashed passwords, roles, and the checks every admin route and host event uses."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, session
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, login_manager
from .models import User

ROLES = ("organizer", "secretary")
HASH_THREADS = 1  # one hash at a time leaves the other core to the event loop; logins are rare
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录组织者账号。"


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """Runs on every request (and socket event) that looks at the user: a session or
    remember-me cookie from before the user's last logout or password change names an old
    session version and is refused."""
    user_id, version, _nonce = ([*session_id.split(":", 2), "", ""])[:3]
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.session_version == int(version) else None


def begin_session(user: User, remember: bool) -> None:
    """Log in with a fresh CSRF secret: one planted before the login is worth nothing after."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)
    login_user(user, remember=remember)


def end_sessions(user: User) -> None:
    """Every session and remember-me cookie of `user` stops working (the caller commits)."""
    user.session_version = (user.session_version or 0) + 1


def create_user(username: str, password: str, role: str, display_name: str = "") -> User:
    """Add a user to the session (the caller commits). scrypt via Werkzeug."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    user = User(username=username, role=role, display_name=display_name or username)
    user.session_version = 0
    set_password(user, password)
    db.session.add(user)
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    if user.password_hash:
        end_sessions(user)  # a new password ends every session the old one opened
    user.password_hash = off_loop(generate_password_hash, password, "scrypt")


def authenticate(username: str, password: str) -> User | None:
    """An unknown name costs the same hash as a wrong password, so timing tells no names."""
    user = db.session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None else dummy_hash()
    if not off_loop(check_password_hash, stored, password) or user is None:
        return None
    return user


@functools.cache
def dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def off_loop(function: Callable[..., T], *args: Any) -> T:
    """scrypt takes ~0.2 s of CPU (and releases the GIL): under gevent it runs in a real thread,
    HASH_THREADS at a time, so the event loop keeps serving phones meanwhile."""
    if not _under_gevent():
        return function(*args)
    pool = current_app.extensions.get("quiz_hash_pool")
    if pool is None:
        from gevent.threadpool import ThreadPool

        pool = current_app.extensions["quiz_hash_pool"] = ThreadPool(HASH_THREADS)
    return pool.apply(function, args)


def _under_gevent() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def has_role(*roles: str) -> bool:
    return bool(current_user.is_authenticated and current_user.role in roles)


def role_required(*roles: str) -> Callable[[F], F]:
    """Login required; then 403 unless the user has one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]  # a mark read by the console's navigation
        return wrapped  # type: ignore[return-value]  # wraps keeps the signature

    return decorator
