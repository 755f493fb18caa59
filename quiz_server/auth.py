"""Organizer accounts: hashed passwords, roles, and the checks every admin route and host event uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, login_manager
from .models import User

ROLES = ("organizer", "secretary")
F = TypeVar("F", bound=Callable[..., Any])

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录组织者账号。"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def create_user(username: str, password: str, role: str, display_name: str = "") -> User:
    """Add a user to the session (the caller commits). scrypt via Werkzeug."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    user = User(username=username, role=role, display_name=display_name or username)
    set_password(user, password)
    db.session.add(user)
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    user.password_hash = generate_password_hash(password, method="scrypt")


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


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

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
