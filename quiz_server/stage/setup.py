"""Creating a stage contest from a programme (YAML or JSON): its rounds, their questions drawn
from one bank version by the existing draw rules or picked by id, and its teams.

    title: 2026 年文明礼仪知识竞赛决赛
    bank: civility            # a bank's slug; its latest version unless `version` is given
    audience: true            # a linked live round for the hall (百人团)
    teams:
      - {branch: B1, desk: 1, members: [张三, 李四, 王五]}
    rounds:
      - {type: required, title: 必答题, questions: 4, answer_seconds: 30, right: 10}
      - {type: buzz, questions: {count: 6, category: {礼仪: 3}}, wrong: -10, foul: -5}
      - {type: risk, questions: [q12, q13, q14, q15], risk_values: [10, 20, 30]}
      - {type: speed, questions: 30, speed_seconds: 40}   # one turn per team, one shared pool
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from ..contests import ContestError, Mode, create_contest, new_pin
from ..draw import DrawError, DrawRule, draw
from ..extensions import DbSession
from ..models import Bank, BankVersion, Contest, Question, StageRound, StageTeam, Unit
from .engine import RoundSpec, RoundType

ROUND_KEYS = set(RoundSpec.__dataclass_fields__) | {"type", "questions", "turns"}


def create_stage(
    session: DbSession, programme: Mapping[str, Any], seed: int | None = None
) -> Contest:
    """Add a stage contest (and its audience round, when asked) to the session; the caller commits."""
    title = _text(programme.get("title"), "title")
    version = _bank_version(session, programme)
    teams = _teams(session, programme.get("teams"))
    seed = secrets.randbelow(2**31) if seed is None else seed
    contest = Contest(
        pin=new_pin(session),
        title=title,
        mode=Mode.STAGE.value,
        bank_version=version,
        settings={"stage": {"buzz": dict(programme.get("buzz") or {})}},
        draw_seed=seed,
        units=[unit for unit, _ in teams],
    )
    session.add(contest)
    session.flush()
    rounds = _list(programme.get("rounds"), "rounds")
    by_qid = {q.qid: q.id for q in version.questions}
    # questions picked by hand are kept out of every draw, whichever round comes first
    used = {
        by_qid[str(x)]
        for r in rounds
        if isinstance(r, Mapping) and isinstance(r.get("questions"), list)
        for x in r["questions"]
        if str(x) in by_qid
    }
    for position, spec in enumerate(rounds):
        session.add(_round(contest, version, position, spec, len(teams), used, seed))
    for position, (unit, values) in enumerate(teams):
        session.add(_team(contest, unit, position, values))
    session.flush()
    if programme.get("audience"):
        audience = _audience(session, contest, version)
        contest.settings = {
            **contest.settings,
            "stage": {**contest.settings["stage"], "audience": audience.id},
        }
    return contest


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContestError(f"节目单缺少 {name}")
    return value.strip()


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ContestError(f"节目单的 {name} 必须是非空列表")
    return value


def _bank_version(session: DbSession, programme: Mapping[str, Any]) -> BankVersion:
    bank = session.scalar(select(Bank).where(Bank.slug == str(programme.get("bank", ""))))
    if bank is None or not bank.versions:
        raise ContestError(f"没有找到题库 {programme.get('bank')!r}")
    number = programme.get("version")
    versions = [v for v in bank.versions if number is None or v.number == number]
    if not versions:
        raise ContestError(f"题库 {bank.slug} 没有第 {number} 版")
    return max(versions, key=lambda v: v.number)


def _teams(session: DbSession, raw: Any) -> list[tuple[Unit, Mapping[str, Any]]]:
    teams = []
    for values in _list(raw, "teams"):
        if not isinstance(values, Mapping):
            raise ContestError("每支队伍写成 {branch: 单位代码, desk: 台号, members: [姓名…]}")
        unit = session.scalar(select(Unit).where(Unit.code == str(values.get("branch", ""))))
        if unit is None or unit.kind != "branch":
            raise ContestError(f"没有找到党支部 {values.get('branch')!r}")
        teams.append((unit, values))
    if len({u.id for u, _ in teams}) != len(teams):
        raise ContestError("同一个党支部只能派一支队伍")
    if not 2 <= len(teams) <= 12:
        raise ContestError("现场竞赛需要 2 至 12 支队伍")
    return teams


def _round(
    contest: Contest,
    version: BankVersion,
    position: int,
    spec: Any,
    teams: int,
    used: set[int],
    seed: int,
) -> StageRound:
    if not isinstance(spec, Mapping) or spec.get("type") not in set(RoundType):
        raise ContestError(f"第 {position + 1} 轮的 type 必须是 required、buzz、risk 或 speed")
    unknown = set(spec) - ROUND_KEYS
    if unknown:
        raise ContestError(f"第 {position + 1} 轮有不认识的设置：{', '.join(sorted(unknown))}")
    raw = spec.get("questions")
    picked = {q.id for q in version.questions if isinstance(raw, list) and q.qid in map(str, raw)}
    questions = _questions(version, raw, used - picked, seed + position)
    used.update(q.id for q in questions)
    kind = RoundType(spec["type"])
    slots = int(spec.get("turns", teams)) if kind == RoundType.SPEED else len(questions)
    settings = {k: v for k, v in spec.items() if k not in ("questions", "turns")}
    try:
        parsed = RoundSpec.from_settings(settings, slots)
    except (TypeError, ValueError) as err:
        raise ContestError(f"第 {position + 1} 轮的设置有误：{err}") from err
    return StageRound(
        contest_id=contest.id, position=position, kind=kind.value, title=parsed.title,
        settings=settings, slots=slots, question_ids=[q.id for q in questions],
    )  # fmt: skip


def _questions(version: BankVersion, raw: Any, used: set[int], seed: int) -> list[Question]:
    pool = [q for q in version.questions if q.id not in used]
    if isinstance(raw, list):
        by_qid = {q.qid: q for q in pool}
        missing = [str(qid) for qid in raw if str(qid) not in by_qid]
        if missing:
            raise ContestError(f"题库中没有这些题目（或已在前面的轮次用过）：{', '.join(missing)}")
        return [by_qid[str(qid)] for qid in raw]
    rule = (
        DrawRule(count=int(raw))
        if isinstance(raw, int)
        else DrawRule.from_settings(dict(raw or {}))
    )
    try:
        return list(draw(pool, rule, seed))
    except DrawError as err:
        raise ContestError(str(err)) from err


def _team(contest: Contest, unit: Unit, position: int, values: Mapping[str, Any]) -> StageTeam:
    members = [
        {"name": str(m if isinstance(m, str) else m.get("name", "")), "seat": i + 1}
        if isinstance(m, str) else {"name": str(m.get("name", "")), "seat": int(m.get("seat", i + 1))}
        for i, m in enumerate(values.get("members") or [])
    ]  # fmt: skip
    return StageTeam(
        contest_id=contest.id, unit_id=unit.id, position=position,
        name=str(values.get("name") or unit.name), desk=int(values.get("desk", position + 1)),
        members=members, pin=f"{secrets.randbelow(9000) + 1000}{position:02d}",
        token=secrets.token_urlsafe(24),
    )  # fmt: skip


def audience_questions(rounds: Sequence[StageRound]) -> list[tuple[int, int, int]]:
    """(round, slot, question id) of every question the hall answers along: all but the speed
    rounds', whose questions go by too fast to be read out."""
    return [
        (r.position, slot, qid)
        for r in rounds
        if r.kind != RoundType.SPEED
        for slot, qid in enumerate(r.question_ids)
    ]


def _audience(session: DbSession, contest: Contest, version: BankVersion) -> Contest:
    """The hall's live round: the stage's questions, in the stage's order, stepped by the referee."""
    rounds = session.scalars(
        select(StageRound).where(StageRound.contest_id == contest.id).order_by(StageRound.position)
    ).all()
    asked = audience_questions(rounds)
    if not asked:
        raise ContestError("观众答题需要至少一轮非限时速答的题目")
    live = create_contest(
        session, title=f"{contest.title}·现场观众", bank_version=version, rule=len(asked),
        branches=list(contest.units), settings={"timing": {"auto_advance": False}},
        seed=contest.draw_seed,
    )  # fmt: skip
    questions = {q.id: q for q in version.questions}
    for cq, (_, _, qid) in zip(live.questions, asked, strict=True):
        cq.question = questions[qid]
        cq.time_limit = questions[qid].time_limit or cq.time_limit
    live.settings = {**live.settings, "stage_of": contest.id}
    session.flush()
    return live
