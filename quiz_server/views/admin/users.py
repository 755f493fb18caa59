"""Console accounts: organizers create users, set roles, and assign a secretary's units."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ... import audit
from ...auth import ROLES, begin_session, create_user, role_required, set_password
from ...extensions import db
from ...models import User
from ...orgs import Tree
from .console import bp

ROLE_NAMES = {"organizer": "组织者（全部权限）", "secretary": "党支部书记（只看本支部成绩）"}
ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_NAMES.items()]
USERNAME = Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能包含字母、数字和 _ . -")


class UserForm(FlaskForm):
    username = StringField(
        "用户名", validators=[DataRequired("请填写用户名"), Length(max=64), USERNAME]
    )
    display_name = StringField("姓名", validators=[Optional(), Length(max=64)])
    password = PasswordField(
        "初始密码",
        validators=[DataRequired("请设置密码"), Length(min=8, max=128, message="密码至少 8 位")],
    )
    role = SelectField("角色", choices=ROLE_CHOICES, default="secretary")  # least privilege first


class EditUserForm(FlaskForm):
    display_name = StringField("姓名", validators=[Optional(), Length(max=64)])
    password = PasswordField(
        "新密码（不改请留空）",
        validators=[Optional(), Length(min=8, max=128, message="密码至少 8 位")],
    )
    role = SelectField("角色", choices=ROLE_CHOICES)


@bp.route("/users", methods=["GET", "POST"])
@role_required("organizer")
def users() -> str | Response:
    form = UserForm()
    if form.validate_on_submit():
        name = (form.username.data or "").strip()
        if db.session.scalar(select(User.id).where(User.username == name)) is not None:
            form.username.errors.append("该用户名已被使用")
        else:
            user = create_user(
                name,
                form.password.data or "",
                form.role.data or "secretary",
                (form.display_name.data or "").strip(),
            )
            audit.record(
                "user.create", detail=f"{user.username}（{ROLE_NAMES.get(user.role, user.role)}）"
            )
            db.session.commit()
            flash(f"已创建账号 {user.username}。", "ok")
            return redirect(url_for("admin.user", user_id=user.id))
    listed = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=listed, form=form, role_names=ROLE_NAMES)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("organizer")
def user(user_id: int) -> str | Response:
    account = db.session.get(User, user_id) or abort(404)
    form = EditUserForm(obj=account)
    tree = Tree.load(db.session)
    if form.validate_on_submit():
        problem = _apply_edit(account, form, tree)
        if problem is None:
            audit.record("user.change", detail=_change_note(account, form))
            db.session.commit()
            if account.id == current_user.id and form.password.data:
                begin_session(account, remember=False)  # the others end; this one goes on
            flash("已保存。", "ok")
            return redirect(url_for("admin.user", user_id=account.id))
        db.session.rollback()
        flash(problem, "error")
    chosen = {u.id for u in account.units}
    return render_template(
        "admin/user.html",
        account=account,
        form=form,
        tree=tree.depth_first(),
        chosen=chosen,
        role_names=ROLE_NAMES,
    )


def _apply_edit(account: User, form: EditUserForm, tree: Tree) -> str | None:
    """Apply the form; a reason in Chinese when it would leave the console without an organizer."""
    role = form.role.data if form.role.data in ROLES else account.role
    if account.role == "organizer" and role != "organizer" and _organizers() == 1:
        return "至少要保留一个组织者账号"
    if account.id == current_user.id and role != "organizer":
        return "不能取消自己的组织者角色"
    account.role = role
    account.display_name = (form.display_name.data or "").strip() or account.username
    if form.password.data:
        set_password(account, form.password.data)
    ids = {int(v) for v in request.form.getlist("units") if v.isdigit() and int(v) in tree.units}
    account.units = [tree.units[i] for i in sorted(ids)] if role == "secretary" else []
    return None


def _change_note(account: User, form: EditUserForm) -> str:
    """What the audit log says of an account edit (never the password itself)."""
    role = ROLE_NAMES.get(account.role, account.role)
    units = "、".join(u.name for u in account.units) or "无"
    password = "，已重设密码" if form.password.data else ""
    return f"{account.username}：角色 {role}，负责单位 {units}{password}"


def _organizers() -> int:
    return db.session.scalar(select(func.count()).where(User.role == "organizer")) or 0
