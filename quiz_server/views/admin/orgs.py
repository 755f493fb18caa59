"""The organizer's organisation page: upload the org file (CSV or xlsx), see every error with
its row and column, and the tree with its head-counts. Nothing is stored unless it is clean."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ... import audit, uploads
from ...auth import role_required
from ...extensions import db
from ...models import RosterEntry
from ...orgs import KINDS, Tree
from ...orgs import file as orgfile
from ...orgs import template as orgtemplate
from .console import XLSX, download

bp = Blueprint("orgs", __name__, url_prefix="/admin/orgs")


class UploadForm(FlaskForm):
    file = FileField(
        "组织架构文件",
        validators=[
            FileRequired("请选择要导入的文件"),
            FileAllowed(["csv", "xlsx"], "只支持 .csv 和 .xlsx 文件"),
        ],
    )


@bp.route("/", methods=["GET", "POST"])
@role_required("organizer")
def index() -> str | Response:
    form = UploadForm()
    errors: list[orgfile.OrgError] = []
    if form.validate_on_submit():
        upload = form.file.data
        name = upload.filename or "upload"
        found, errors = uploads.parse_org(name, upload.read(), orgfile.known_units(db.session))
        if found is not None:
            summary = orgfile.store(db.session, found)
            audit.record("orgs.import", detail=f"{name}：{summary}")
            db.session.commit()
            flash(f"导入成功：{summary}。", "success")
            return redirect(url_for("orgs.index"))
        db.session.rollback()
    return render_template("orgs/index.html", form=form, errors=errors, **_tree_view())


def _tree_view() -> dict[str, object]:
    tree = Tree.load(db.session)
    counts = select(RosterEntry.unit_id, func.count()).group_by(RosterEntry.unit_id)
    roster: dict[int, int] = dict(db.session.execute(counts).all())
    registered = tree.rollup({u.id: {"registered": u.registered} for u in tree.units.values()
                              if u.kind == "branch"})  # fmt: skip
    branches = {uid: len(tree.branches_under(uid)) for uid in tree.units}
    return {
        "outline": tree.depth_first(),
        "registered": {uid: c["registered"] for uid, c in registered.items()},
        "branch_counts": branches,
        "roster": roster,
        "kinds": KINDS,
        "unit_count": len(tree.units),
    }


@bp.route("/template.xlsx")
@role_required("organizer")
def template() -> Response:
    return download(orgtemplate.template_workbook(), "orgs-template.xlsx", XLSX)
