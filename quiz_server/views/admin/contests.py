"""Contests in the console: the set-up form (new, and edit before the start), archive and
delete, and the contest page with its join QR code and printable A4 poster."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import segno
from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from ... import audit, contest_setup, links
from ...auth import role_required
from ...campaign import rankings
from ...campaign.rules import COUNTING, REVIEW, TIME_MODES
from ...contest_setup import ContestSpec
from ...contests import ContestError, settings_of
from ...draw import DIMENSIONS, DrawRule
from ...extensions import db
from ...live.rounds import SCHEDULE_GRACE
from ...live.state import now
from ...models import Bank, BankVersion, Contest
from ...orgs import Tree
from ...questions import QUESTION_TYPES
from ...standings import METRICS
from ..lookup import contest_or_404, is_campaign
from ..site import BEIJING as BEIJING_TZ
from .console import bp, download
from .contest_form import NUMBERS, TIE_BREAKS, campaign_defaults, form_of, parse_contest_form


@bp.route("/contests/new", methods=["GET", "POST"])
@role_required("organizer")
def new_contest() -> str | Response | tuple[str, int]:
    form: Mapping[str, Any] = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        spec = parse_contest_form(request.form, Tree.load(db.session))
        contest = _create(spec) if not spec.errors else None
        if contest is not None:
            flash(f"已创建竞赛“{contest.title}”，竞赛码 {contest.pin}。", "ok")
            return redirect(url_for("admin.contest", contest_id=contest.id))
        return _form_page(form, spec.errors, None), 422
    return _form_page(form, [], None)


@bp.route("/contests/<int:contest_id>/edit", methods=["GET", "POST"])
@role_required("organizer")
def edit_contest(contest_id: int) -> str | Response | tuple[str, int]:
    """The set-up form again, filled in, while the contest has not started (mode and PIN stay)."""
    found = contest_or_404(contest_id)
    if not contest_setup.not_started(db.session, found, now()):
        flash("竞赛已开始，不能再修改设置；如不再使用，可将其归档。", "error")
        return redirect(url_for("admin.contest", contest_id=found.id))
    if request.method == "GET":
        return _form_page(request.args if request.args else form_of(found), [], found)
    form = {**request.form.to_dict(), "mode": found.mode}
    posted = _Posted(form, request.form.getlist("units"))
    spec = parse_contest_form(posted, Tree.load(db.session))
    changed = _edit(found, spec) if not spec.errors else None
    if changed is None:
        return _form_page(posted, spec.errors, found), 422
    flash("已保存修改。" if changed else "没有改动。", "ok")
    return redirect(url_for("admin.contest", contest_id=found.id))


class _Posted(dict[str, Any]):
    """The posted fields with the mode pinned to the contest's, still offering `getlist`."""

    def __init__(self, values: dict[str, Any], units: list[str]) -> None:
        super().__init__(values)
        self.units = units

    def getlist(self, name: str) -> list[Any]:
        return self.units if name == "units" else [self[name]] if name in self else []


def _form_page(form: Mapping[str, Any], errors: list[str], editing: Contest | None) -> str:
    versions = db.session.scalars(
        select(BankVersion).join(Bank).order_by(Bank.slug, BankVersion.number.desc())
    ).all()
    chosen = _chosen_version(form, versions)
    defaults = campaign_defaults()
    return render_template(
        "admin/contest_new.html",
        versions=versions,
        version=chosen,
        pool=_pool(chosen),
        form=form,
        campaign_default=lambda name: form.get(name, defaults.get(name, "")),
        sticky=_sticky(form) or bool(errors),
        tree=Tree.load(db.session).depth_first(),
        numbers=NUMBERS,
        metrics=METRICS,
        campaign_metrics=rankings.METRICS,
        tie_breaks=range(1, TIE_BREAKS + 1),
        counting=COUNTING,
        review=REVIEW,
        time_modes=TIME_MODES,
        errors=errors,
        editing=editing,
        picked={int(v) for v in _getlist(form, "units") if str(v).isdigit()},
    )


def _sticky(form: Mapping[str, Any]) -> bool:
    """The form shows what was sent (a reload, an edit, a refused post): a box left unticked
    stays unticked instead of falling back to its default."""
    return form.get("reloaded") == "1"


def _getlist(form: Any, name: str) -> list[Any]:
    return form.getlist(name) if hasattr(form, "getlist") else []


def _chosen_version(form: Mapping[str, Any], versions: Sequence[BankVersion]) -> BankVersion | None:
    wanted = str(form.get("bank_version", ""))
    return next((v for v in versions if str(v.id) == wanted), versions[0] if versions else None)


def _pool(version: BankVersion | None) -> dict[str, list[tuple[Any, Any, int]]]:
    """What the chosen version holds per category, difficulty and type, for the quota inputs."""
    if version is None:
        return {}
    titles = {c["id"]: c["title"] for c in version.categories}
    have = {name: Counter(getattr(q, name) for q in version.questions) for name in DIMENSIONS}
    labels = {
        "category": lambda k: titles.get(k, k),
        "difficulty": lambda k: f"难度 {k}",
        "type": lambda k: QUESTION_TYPES[k].label if k in QUESTION_TYPES else k,
    }
    return {
        name: [(k, labels[name](k), n) for k, n in sorted(have[name].items())]
        for name in DIMENSIONS
    }


def _create(spec: ContestSpec) -> Contest | None:
    try:
        contest = contest_setup.create_from_spec(db.session, spec)
    except (ContestError, ValueError) as err:
        db.session.rollback()
        spec.errors.append(str(err))
        return None
    audit.record("contest.create", contest=contest, detail=f"竞赛码 {contest.pin}")
    db.session.commit()
    return contest


def _edit(contest: Contest, spec: ContestSpec) -> list[str] | None:
    try:
        changed = contest_setup.edit_from_spec(db.session, contest, spec)
    except (ContestError, ValueError) as err:
        db.session.rollback()
        spec.errors.append(str(err))
        return None
    if changed:
        audit.record("contest.edit", contest=contest, detail="修改了：" + "、".join(changed))
    db.session.commit()
    return changed


@bp.route("/contests/<int:contest_id>/archive", methods=["POST"])
@role_required("organizer")
def archive_contest(contest_id: int) -> Response:
    """Archive (or bring back): hidden from the default list, every result kept."""
    found = contest_or_404(contest_id)
    back = request.form.get("restore") == "1"
    contest_setup.archive(found, None if back else now())
    audit.record("contest.unarchive" if back else "contest.archive", contest=found)
    db.session.commit()
    flash("已取消归档。" if back else "已归档：竞赛不再显示在默认列表中，成绩保留。", "ok")
    return redirect(url_for("admin.contest", contest_id=found.id))


@bp.route("/contests/<int:contest_id>/delete", methods=["POST"])
@role_required("organizer")
def delete_contest(contest_id: int) -> Response:
    """Delete a contest that has not started, after the organizer ticked the confirmation."""
    found = contest_or_404(contest_id)
    if not contest_setup.not_started(db.session, found, now()):
        flash("竞赛已开始，不能删除（成绩需要保留）；可将其归档。", "error")
        return redirect(url_for("admin.contest", contest_id=found.id))
    if request.form.get("confirm") != "1":
        flash("请勾选“确认删除”后再删除。", "error")
        return redirect(url_for("admin.contest", contest_id=found.id))
    title = found.title
    audit.record("contest.delete", contest=found, detail=f"竞赛码 {found.pin}")
    contest_setup.delete_contest(db.session, found)
    db.session.commit()
    flash(f"已删除竞赛“{title}”。", "ok")
    return redirect(url_for("admin.index"))


# ---------------------------------------------------------------- the contest page


@bp.route("/contests/<int:contest_id>")
@role_required("organizer")
def contest(contest_id: int) -> str:
    """The contest page: the settings of its own mode only, its links and its drawn questions."""
    found = contest_or_404(contest_id)
    rule = DrawRule.from_settings(found.settings.get("draw", {"count": len(found.questions)}))
    moment = now()
    return render_template(
        "admin/contest.html",
        contest=found,
        rule=rule,
        dimensions=DIMENSIONS,
        editable=contest_setup.not_started(db.session, found, moment),
        schedule=_schedule_note(found, moment),
        qr_svg=qr_svg(found),
        **(_campaign_facts(found) if is_campaign(found) else _live_facts(found)),
    )


def _schedule_note(contest: Contest, now: datetime) -> str:
    """What the page says of the scheduled start: when it will start, or why it did not."""
    when = contest.scheduled_at
    if is_campaign(contest) or when is None:
        return ""
    local = when.astimezone(BEIJING_TZ).strftime("%Y-%m-%d %H:%M")
    if contest.phase != "lobby":
        return f"计划 {local}（北京时间）开始"
    if when > now:
        return f"将于 {local}（北京时间）自动开始"
    if now - when <= SCHEDULE_GRACE:
        return f"计划 {local}（北京时间）开始，即将自动开始"
    return f"计划 {local}（北京时间）开始，已过时未自动开始，请在现场控制中手动开始"


def qr_target(contest: Contest) -> str:
    """What a contest's QR code carries: the campaign's phone page, or the live join page."""
    if is_campaign(contest):
        return links.absolute(links.campaign(contest.pin))
    return links.join_url(contest.pin)


def qr_svg(contest: Contest, scale: int = 6) -> Markup:
    """The QR code as inline SVG (segno escapes the title it writes)."""
    buffer = io.BytesIO()
    segno.make(qr_target(contest), error="m").save(
        buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True, omitsize=True,
        title=qr_target(contest), svgclass="qr-code",
    )  # fmt: skip
    return Markup(buffer.getvalue().decode())  # noqa: S704  # segno's own SVG, its title escaped


@bp.route("/contests/<int:contest_id>/qr.png")
@role_required("organizer")
def contest_qr_png(contest_id: int) -> Response:
    """The QR code as a PNG file, to paste into a WeChat group or a slide."""
    found = contest_or_404(contest_id)
    buffer = io.BytesIO()
    segno.make(qr_target(found), error="m").save(buffer, kind="png", scale=12, border=3)
    return download(buffer.getvalue(), f"竞赛{found.pin}-二维码.png", "image/png")


@bp.route("/contests/<int:contest_id>/poster")
@role_required("organizer")
def poster(contest_id: int) -> str:
    """A one-page A4 poster (print it, or save it as PDF from the browser's print dialog)."""
    found = contest_or_404(contest_id)
    return render_template(
        "admin/poster.html",
        contest=found,
        qr_svg=qr_svg(found, scale=10),
        target=qr_target(found),
        schedule=_schedule_note(found, now()),
        campaign=settings_of(found).campaign,
    )


def _live_facts(contest: Contest) -> dict[str, Any]:
    return {
        "campaign": None,
        "timing": settings_of(contest).timing,
        "scoring": settings_of(contest).scoring,
        "metric": METRICS.get(settings_of(contest).ranking_metric, ""),
        "shuffle_options": settings_of(contest).shuffle_options,
        "join_url": links.join_url(contest.pin),
    }


def _campaign_facts(contest: Contest) -> dict[str, Any]:
    config = settings_of(contest).ranking
    return {
        "campaign": settings_of(contest).rules,
        "counting": COUNTING,
        "review": REVIEW,
        "metric": rankings.metric_note(config),
        "tie_break": rankings.tie_break_note(config),
        "campaign_url": links.absolute(links.campaign(contest.pin)),
    }
