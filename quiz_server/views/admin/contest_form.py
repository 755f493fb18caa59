"""The contest set-up form, pure: posted fields → a checked `ContestSpec`, and a stored contest →
the fields that fill the form again (to edit it before it starts). Live-round fields and
campaign fields are read only for their own mode."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ...campaign import Rules, rankings
from ...campaign.rules import COUNTING, REVIEW, TIME_MODES
from ...campaign.setup import weekly_stages
from ...campaign.setup import window as campaign_window
from ...contest_setup import ContestSpec
from ...contests import DEFAULT_RANKING, is_campaign, settings_of
from ...draw import DIMENSIONS, DrawRule
from ...models import Contest
from ...orgs import Tree
from ...standings import METRICS
from ..site import BEIJING

SEED_MAX = 2**31 - 1
# (form name, settings path, label, low, high, default, step) for every number of a live round.
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
TIE_BREAKS = 3  # the tie-break chain's length on the form
# Campaign fields a form may leave out (an older page): the stored rules' defaults.
CAMPAIGN_DEFAULTS = {"time_mode": "attempt", "campaign_question_seconds": "30", "fast_ms": "1500"}
WEIGHT_MAX = 10.0


def parse_contest_form(form: Mapping[str, Any], tree: Tree) -> ContestSpec:
    """Pure: the posted form → a spec and its errors. Picking an agency picks its branches."""
    spec = ContestSpec(title=" ".join(str(form.get("title", "")).split())[:200])
    if not spec.title:
        spec.errors.append("请填写竞赛名称")
    spec.version_id = _whole(form, "bank_version", 1, 2**31, spec.errors, "请选择题库版本")
    spec.rule = _rule(form, spec.errors)
    if str(form.get("seed", "")).strip():
        spec.seed = _whole(
            form, "seed", 0, SEED_MAX, spec.errors, f"随机种子须为 0–{SEED_MAX} 的整数"
        )
    spec.unit_ids = _branches(form, tree)
    if not spec.unit_ids:
        spec.errors.append("至少选择一个参赛党支部")
    spec.roster_bound = form.get("roster_bound") == "1"
    if form.get("mode") == "campaign":
        sent = _with_defaults(form, CAMPAIGN_DEFAULTS)
        if "campaign_metric" not in form:  # a form from before the ranking fields
            sent = _with_defaults(sent, campaign_defaults())
        spec.campaign = _campaign_rules(sent, spec.errors)
        spec.ranking = _ranking(sent, spec.errors)
    else:
        spec.settings = _settings(form, spec.errors)
        spec.scheduled_at = _when(str(form.get("scheduled_at", "")).strip(), spec.errors)
    return spec


def _with_defaults(form: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields (the last value of each), with `defaults` for those it does not send."""
    return {**defaults, **{k: form[k] for k in form}}


def _campaign_rules(form: Mapping[str, Any], errors: list[str]) -> Rules | None:
    """The campaign part: window in Beijing time, limits, clock, counting, review, fair play."""
    start = str(form.get("campaign_start", "")).strip()
    days = _whole(form, "campaign_days", 1, 366, errors, "活动天数须为 1–366 的整数")
    per_day = _optional(form, "per_day", 1, 100, errors, "每天作答次数须为 1–100 的整数")
    total = _optional(form, "total", 1, 10000, errors, "总作答次数须为 1–10000 的整数")
    per_stage = _optional(form, "per_stage", 1, 1000, errors, "每周作答次数须为 1–1000 的整数")
    minutes = _whole(form, "attempt_minutes", 1, 180, errors, "每次作答限时须为 1–180 分钟")
    seconds = _whole(form, "campaign_question_seconds", 5, 600, errors, "每题限时须为 5–600 秒")
    fast_ms = _whole(form, "fast_ms", 0, 60000, errors, "过快作答阈值须为 0–60000 毫秒")
    hidden = _optional(form, "hidden_limit", 1, 100, errors, "切出页面次数须为 1–100 的整数")
    time_mode = str(form.get("time_mode", "attempt"))
    counting, review = str(form.get("counting", "")), str(form.get("review", ""))
    if counting not in COUNTING or review not in REVIEW or time_mode not in TIME_MODES:
        errors.append("请选择计时方式、计分方式和答案公布方式")
    try:
        starts_at, ends_at = campaign_window(start, days or 1, "Asia/Shanghai")
    except ValueError:
        errors.append("请填写活动开始日期")
        return None
    if errors:
        return None
    return Rules(
        starts_at=starts_at, ends_at=ends_at, per_day=per_day, total=total, per_stage=None,
        time_mode=time_mode, attempt_seconds=(minutes or 1) * 60, question_seconds=seconds or 30,
        counting=counting, review=review, fast_answer_ms=fast_ms or 0, hidden_limit=hidden,
        stages=weekly_stages(starts_at, ends_at, per_stage)
        if form.get("weekly_stages") == "1" else (),
    )  # fmt: skip


def _ranking(form: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    """The campaign's unit ranking: the metric picked, a composite's weights, the tie-break chain."""
    metric = str(form.get("campaign_metric", ""))
    if metric not in rankings.METRICS:
        errors.append("请选择单位排名方式")
    weights: dict[str, float] = {}
    for key, label in rankings.METRICS.items():
        text = str(form.get(f"weight-{key}", "")).strip()
        if key == "composite" or not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= WEIGHT_MAX:
            errors.append(f"“{label}”的权重须在 0–{WEIGHT_MAX:g} 之间")
        elif value:
            weights[key] = value
    if metric == "composite" and not weights:
        errors.append("综合得分至少需要一项权重")
    chain = [str(form.get(f"tie_break_{n}", "")) for n in range(1, TIE_BREAKS + 1)]
    tie_break = [k for k in dict.fromkeys(chain) if k in rankings.METRICS and k != metric]
    return {"metric": metric, "weights": weights, "tie_break": tie_break}


def _whole(
    form: Mapping[str, Any], name: str, low: int, high: int, errors: list[str], message: str
) -> int | None:
    text = str(form.get(name, "")).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors.append(message)
        return None
    return int(text)


def _optional(
    form: Mapping[str, Any], name: str, low: int, high: int, errors: list[str], message: str
) -> int | None:
    """A limit that may be left blank (no limit)."""
    if not str(form.get(name, "")).strip():
        return None
    return _whole(form, name, low, high, errors, message)


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
    settings["timing"]["outage_credit"] = form.get("outage_credit") == "1"
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


# ---------------------------------------------------------------- a stored contest → the form


class FormValues(dict[str, Any]):
    """Form fields as a mapping with `getlist`, like a posted form."""

    def getlist(self, name: str) -> list[Any]:
        value = self.get(name, [])
        return list(value) if isinstance(value, list | tuple) else [value]


def form_of(contest: Contest) -> FormValues:
    """The fields that show `contest` on the set-up form, for editing it."""
    s = settings_of(contest)
    rule = s.draw or DrawRule(count=len(contest.questions))
    values = FormValues(
        title=contest.title, bank_version=str(contest.bank_version_id), count=str(rule.count),
        seed=str(contest.draw_seed), units=[str(u.id) for u in contest.units],
        roster_bound="1" if contest.roster_bound else "", mode=contest.mode, reloaded="1",
    )  # fmt: skip
    for name, quota in rule.quotas().items():
        values.update({f"quota-{name}:{k}": str(n) for k, n in quota.items()})
    values.update(_campaign_values(contest) if is_campaign(contest) else _live_values(contest))
    return values


def _live_values(contest: Contest) -> dict[str, Any]:
    s = settings_of(contest)
    groups = {"timing": s.timing, "scoring": s.scoring}
    values = {name: f"{getattr(groups[g], k):g}" for name, (g, k), *_ in NUMBERS}
    values["auto_advance"] = "1" if s.timing.auto_advance else ""
    values["outage_credit"] = "1" if s.timing.outage_credit else ""
    values["close_early"] = "1" if s.timing.close_early else ""
    values["shuffle_options"] = "1" if s.shuffle_options else ""
    values["ranking_metric"] = s.ranking_metric
    when = contest.scheduled_at
    values["scheduled_at"] = when.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M") if when else ""
    return values


def _campaign_values(contest: Contest) -> dict[str, Any]:
    s = settings_of(contest)
    r, ranking = s.rules, s.ranking
    start = r.starts_at.astimezone(BEIJING)
    per_stage = next((st.total for st in r.stages if st.total), None)
    values: dict[str, Any] = {
        "campaign_start": start.strftime("%Y-%m-%d"),
        "campaign_days": str(max((r.ends_at - r.starts_at).days, 1)),
        "per_day": _blank(r.per_day), "total": _blank(r.total), "per_stage": _blank(per_stage),
        "weekly_stages": "1" if r.stages else "", "time_mode": r.time_mode,
        "attempt_minutes": str(max(r.attempt_seconds // 60, 1)),
        "campaign_question_seconds": str(r.question_seconds), "fast_ms": str(r.fast_answer_ms),
        "hidden_limit": _blank(r.hidden_limit), "counting": r.counting, "review": r.review,
        "campaign_metric": ranking["metric"],
    }  # fmt: skip
    values.update({f"weight-{k}": f"{w:g}" for k, w in ranking.get("weights", {}).items()})
    for n, key in enumerate(ranking.get("tie_break", [])[:TIE_BREAKS], start=1):
        values[f"tie_break_{n}"] = key
    return values


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def campaign_defaults() -> dict[str, Any]:
    """What a fresh form shows for a campaign's ranking (the stored defaults)."""
    values = {"campaign_metric": DEFAULT_RANKING["metric"]}
    values.update({f"weight-{k}": f"{w:g}" for k, w in DEFAULT_RANKING["weights"].items()})
    for n, key in enumerate(DEFAULT_RANKING["tie_break"][:TIE_BREAKS], start=1):
        values[f"tie_break_{n}"] = key
    return values
