"""Contests in the console: the set-up form (bank version, draw rule with quotas and a recorded
seed, timing, scoring, ranking metric, branches from the tree) and the contest page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ... import links
from ...auth import role_required
from ...campaign import Rules, rankings
from ...campaign.rules import COUNTING, REVIEW
from ...campaign.setup import create_campaign
from ...campaign.setup import window as campaign_window
from ...contests import ContestError, create_contest, settings_of
from ...draw import DIMENSIONS, DrawRule
from ...extensions import db
from ...models import Bank, BankVersion, Contest, Unit
from ...orgs import Tree
from ...questions import QUESTION_TYPES
from ...standings import METRICS
from ..lookup import contest_or_404, is_campaign
from ..site import BEIJING
from .console import bp

SEED_MAX = 2**31 - 1
# (form name, settings path, label, low, high, default, step) for every number on the form.
NUMBERS: list[tuple[str, tuple[str, str], str, float, float, float, float]] = [
    ("question_seconds", ("timing", "question_seconds"), "每题作答时间（秒）", 5, 300, 20, 1),
    (
        "reveal_seconds",
        ("timing", "reveal_seconds"),
        "揭晓答案至少停留（秒，解析较长时按字数延长）",
        3,
        120,
        8,
        1,
    ),
    ("leaderboard_seconds", ("timing", "leaderboard_seconds"), "排行榜停留（秒）", 3, 120, 8, 1),
    ("base_points", ("scoring", "base_points"), "每题基础分", 10, 10000, 1000, 10),
    ("speed_share", ("scoring", "speed_share"), "速度占比（0–1，越大越看重速度）", 0, 1, 0.5, 0.05),
    ("streak_bonus", ("scoring", "streak_bonus"), "连对奖励（每连对一题）", 0, 5000, 100, 10),
    ("streak_cap", ("scoring", "streak_cap"), "连对奖励上限（题）", 0, 50, 5, 1),
]


@dataclass
class ContestSpec:
    """What the form asked for, checked; `errors` holds every problem in plain Chinese."""

    title: str = ""
    version_id: int | None = None
    rule: DrawRule | None = None
    seed: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    unit_ids: list[int] = field(default_factory=list)
    roster_bound: bool = False
    scheduled_at: datetime | None = None
    campaign: Rules | None = None  # set when the organizer chose 网络竞答 (campaign) mode
    errors: list[str] = field(default_factory=list)


def parse_contest_form(form: Mapping[str, Any], tree: Tree) -> ContestSpec:
    """Pure: the posted form → a spec and its errors. Picking an agency picks its branches."""
    spec = ContestSpec(title=" ".join(str(form.get("title", "")).split())[:200])
    if not spec.title:
        spec.errors.append("请填写竞赛名称")
    spec.version_id = _whole(form, "bank_version", 1, 2**31, spec.errors, "请选择题库版本")
    spec.rule = _rule(form, spec.errors)
    seed_text = str(form.get("seed", "")).strip()
    if seed_text:
        spec.seed = _whole(
            form, "seed", 0, SEED_MAX, spec.errors, f"随机种子须为 0–{SEED_MAX} 的整数"
        )
    spec.settings = _settings(form, spec.errors)
    spec.unit_ids = _branches(form, tree)
    if not spec.unit_ids:
        spec.errors.append("至少选择一个参赛党支部")
    spec.roster_bound = form.get("roster_bound") == "1"
    spec.scheduled_at = _when(str(form.get("scheduled_at", "")).strip(), spec.errors)
    if form.get("mode") == "campaign":
        spec.campaign = _campaign_rules(form, spec.errors)
    return spec


def _campaign_rules(form: Mapping[str, Any], errors: list[str]) -> Rules | None:
    """The campaign part of the form: window in Beijing time, limits, timing, counting, review."""
    start = str(form.get("campaign_start", "")).strip()
    days = _whole(form, "campaign_days", 1, 366, errors, "活动天数须为 1–366 的整数")
    per_day = _whole(form, "per_day", 1, 100, errors, "每天作答次数须为 1–100 的整数")
    minutes = _whole(form, "attempt_minutes", 1, 180, errors, "每次作答限时须为 1–180 分钟")
    counting, review = str(form.get("counting", "")), str(form.get("review", ""))
    if counting not in COUNTING or review not in REVIEW:
        errors.append("请选择计分方式和答案公布方式")
    try:
        starts_at, ends_at = campaign_window(start, days or 1, "Asia/Shanghai")
    except ValueError:
        errors.append("请填写活动开始日期")
        return None
    if None in (days, per_day, minutes) or counting not in COUNTING or review not in REVIEW:
        return None
    return Rules(
        starts_at=starts_at, ends_at=ends_at, per_day=per_day, attempt_seconds=(minutes or 1) * 60,
        counting=counting, review=review,
    )  # fmt: skip


def _whole(
    form: Mapping[str, Any], name: str, low: int, high: int, errors: list[str], message: str
) -> int | None:
    text = str(form.get(name, "")).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors.append(message)
        return None
    return int(text)


def _rule(form: Mapping[str, Any], errors: list[str]) -> DrawRule | None:
    count = _whole(form, "count", 1, 500, errors, "抽题数量须为 1–500 的整数")
    quotas: dict[str, dict[Any, int]] = {name: {} for name in DIMENSIONS}
    for key, value in form.items():
        name, _, option = str(key).removeprefix("quota-").partition(":")
        if not str(key).startswith("quota-") or name not in DIMENSIONS or not str(value).strip():
            continue
        if not str(value).strip().isdigit():
            errors.append(f"{DIMENSIONS[name]}配额“{option}”须为非负整数")
            continue
        if int(value):
            quotas[name][int(option) if name == "difficulty" and option.isdigit() else option] = (
                int(value)
            )
    if count is None:
        return None
    return DrawRule(count=count, **quotas)


def _settings(form: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {"timing": {}, "scoring": {}}
    for name, (group, key), label, low, high, default, step in NUMBERS:
        text = str(form.get(name, "")).strip() or str(default)
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            errors.append(f"{label}须在 {low:g}–{high:g} 之间")
            continue
        settings[group][key] = value if step < 1 else int(value)
    settings["timing"]["auto_advance"] = form.get("auto_advance") == "1"
    settings["timing"]["close_early"] = form.get("close_early") == "1"
    settings["shuffle_options"] = form.get("shuffle_options") == "1"
    metric = str(form.get("ranking_metric", ""))
    if metric not in METRICS:
        errors.append("请选择支部排名方式")
    settings["ranking_metric"] = metric
    return settings


def _branches(form: Any, tree: Tree) -> list[int]:
    picked = form.getlist("units") if hasattr(form, "getlist") else form.get("units", [])
    ids = {int(v) for v in picked if str(v).isdigit() and int(v) in tree.units}
    return sorted({b.id for uid in ids for b in tree.branches_under(uid) if b.kind == "branch"})


def _when(text: str, errors: list[str]) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        errors.append("计划开始时间格式不正确")
        return None


@bp.route("/contests/new", methods=["GET", "POST"])
@role_required("organizer")
def new_contest() -> str | Response | tuple[str, int]:
    tree = Tree.load(db.session)
    versions = db.session.scalars(
        select(BankVersion).join(Bank).order_by(Bank.slug, BankVersion.number.desc())
    ).all()
    form: Mapping[str, Any] = request.form if request.method == "POST" else request.args
    errors: list[str] = []
    if request.method == "POST":
        spec = parse_contest_form(request.form, tree)
        contest = _create(spec) if not spec.errors else None
        if contest is not None:
            flash(f"已创建竞赛“{contest.title}”，竞赛码 {contest.pin}。", "ok")
            return redirect(url_for("admin.contest", contest_id=contest.id))
        errors = spec.errors
    chosen = _chosen_version(form, versions)
    page = render_template(
        "admin/contest_new.html",
        versions=versions,
        version=chosen,
        pool=_pool(chosen),
        form=form,
        tree=tree.depth_first(),
        numbers=NUMBERS,
        metrics=METRICS,
        counting=COUNTING,
        review=REVIEW,
        errors=errors,
        picked={int(v) for v in _getlist(form, "units") if str(v).isdigit()},
    )
    return (page, 422) if errors else page


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
    version = db.session.get(BankVersion, spec.version_id)
    if version is None or spec.rule is None:
        spec.errors.append("请选择题库版本")
        return None
    branches = db.session.scalars(select(Unit).where(Unit.id.in_(spec.unit_ids))).all()
    common: dict[str, Any] = {
        "title": spec.title,
        "bank_version": version,
        "rule": spec.rule,
        "branches": branches,
    }
    try:
        if spec.campaign is not None:
            contest = create_campaign(
                db.session,
                **common,
                rules=spec.campaign,
                roster_bound=spec.roster_bound,
                seed=spec.seed,
            )
        else:
            contest = create_contest(
                db.session,
                **common,
                settings=spec.settings,
                seed=spec.seed,
                roster_bound=spec.roster_bound,
            )
    except (ContestError, ValueError) as err:
        db.session.rollback()
        spec.errors.append(str(err))
        return None
    contest.scheduled_at = spec.scheduled_at
    db.session.commit()
    return contest


@bp.route("/contests/<int:contest_id>")
@role_required("organizer")
def contest(contest_id: int) -> str:
    """The contest page: the settings of its own mode only, its links and its drawn questions."""
    found = contest_or_404(contest_id)
    rule = DrawRule.from_settings(found.settings.get("draw", {"count": len(found.questions)}))
    return render_template(
        "admin/contest.html",
        contest=found,
        rule=rule,
        dimensions=DIMENSIONS,
        **(_campaign_facts(found) if is_campaign(found) else _live_facts(found)),
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
