"""Login and logout for organizers and branch secretaries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..auth import authenticate, begin_session, end_sessions
from ..extensions import db
from ..throttle import REFUSED, login_throttle

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=128)])
    remember = BooleanField("记住我")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form can't bounce a user to another host."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data or "", request.remote_addr or ""
        throttle = login_throttle()
        if not throttle.allowed(username, address):
            flash(REFUSED, "error")
            return render_template("login.html", form=form), 429
        user = authenticate(username, form.password.data or "")
        if user is not None:
            throttle.succeeded(username)
            begin_session(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        throttle.failed(username, address)
        flash("用户名或密码不正确。", "error")
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Ends every session of this account, on every device, and its remember-me cookies."""
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))
