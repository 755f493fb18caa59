"""The demo: a small organisation tree, an organizer account and a live contest, ready to play."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .auth import create_user, set_password
from .banks import latest_version, load_bundled_banks
from .campaign import Rules, attempts
from .campaign.setup import create_campaign, window
from .contests import create_contest
from .extensions import DbSession
from .live.engine import Phase
from .models import Contest, Participant, Unit, User
from .questions import question_type

DEMO_TREE: list[tuple[str, str, list[tuple[str, int]]]] = [
    (
        "A01",
        "市教育局机关党委",
        [("办公室党支部", 12), ("教研室党支部", 18), ("基础教育科党支部", 9)],
    ),
    ("A02", "市卫生健康委机关党委", [("机关第一党支部", 15), ("机关第二党支部", 11)]),
    (
        "A03",
        "市交通运输局机关党委",
        [("综合党支部", 14), ("运输管理党支部", 20), ("执法支队党支部", 25)],
    ),
]
DEMO_TITLE = "“守礼仪、讲文明、树形象”文明礼仪常识网络知识竞答（演示）"
DEMO_BANK = "etiquette-basics"  # 礼仪常识, for the 文明礼仪常识 contest
CAMPAIGN_TITLE = "“八不”文明行为规范网络知识竞答（演示）"
CAMPAIGN_BANK = "fujian-babu"  # the “八不” campaign draws from the “八不” bank
CAMPAIGN_DAYS_BEFORE, CAMPAIGN_DAYS = 3, 10
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


@dataclass(frozen=True)
class DemoInfo:
    contest: Contest
    username: str
    password: str
    campaign: Contest | None = None


def seed_demo(session: DbSession) -> DemoInfo:
    """Idempotent: reuses the tree and a demo contest still in its lobby; resets the password."""
    load_bundled_banks(session)
    branches = _demo_tree(session)
    password = secrets.token_urlsafe(9)
    user = session.scalar(select(User).where(User.username == "admin"))
    if user is None:
        create_user("admin", password, "organizer", "演示组织者")
    else:
        set_password(user, password)
    contest = session.scalar(
        select(Contest).where(Contest.title == DEMO_TITLE, Contest.phase == Phase.LOBBY.value)
    )
    if contest is None:
        version = latest_version(session, DEMO_BANK)
        assert version is not None, "bundled bank missing"
        contest = create_contest(
            session, title=DEMO_TITLE, bank_version=version, rule=10, branches=branches
        )
    session.commit()
    return DemoInfo(contest, "admin", password, seed_demo_campaign(session, branches))


def seed_demo_campaign(
    session: DbSession, branches: list[Unit], now: datetime | None = None
) -> Contest:
    """A campaign whose window opened a few days ago, already holding members' attempts."""
    found = session.scalar(select(Contest).where(Contest.title == CAMPAIGN_TITLE))
    if found is not None:
        return found
    now = now or datetime.now(UTC)
    tz = "Asia/Shanghai"
    first_day = (
        (now.astimezone(ZoneInfo(tz)) - timedelta(days=CAMPAIGN_DAYS_BEFORE)).date().isoformat()
    )
    starts_at, ends_at = window(first_day, CAMPAIGN_DAYS, tz)
    version = latest_version(session, CAMPAIGN_BANK)
    assert version is not None, "bundled bank missing"
    contest = create_campaign(
        session, title=CAMPAIGN_TITLE, bank_version=version, rule=10, branches=branches,
        rules=Rules(starts_at=starts_at, ends_at=ends_at, per_day=3, attempt_seconds=600),
    )  # fmt: skip
    _simulate(session, contest, branches, starts_at, now, random.Random(7))
    session.commit()
    return contest


def _simulate(
    session: DbSession,
    contest: Contest,
    branches: list[Unit],
    starts_at: datetime,
    now: datetime,
    rng: random.Random,
) -> None:
    """Members join over the past days and take attempts through the real attempt rules."""
    days = max((now - starts_at).days, 1)
    for branch in branches:
        turnout = rng.uniform(0.35, 0.9)
        for _ in range(round(branch.registered * turnout)):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            member = attempts.join(session, contest, name, branch.id)
            assert isinstance(member, Participant)
            skill = rng.uniform(0.5, 0.98)
            for day in sorted(rng.sample(range(days), rng.randint(1, days))):
                moment = starts_at + timedelta(days=day, hours=rng.uniform(8, 21))
                for _ in range(rng.randint(1, 3)):
                    moment = _attempt(session, contest, member, moment, skill, rng)


def _attempt(
    session: DbSession,
    contest: Contest,
    member: Participant,
    moment: datetime,
    skill: float,
    rng: random.Random,
) -> datetime:
    started = attempts.start(session, contest, member, moment, device=f"demo-{member.id}")
    if not isinstance(started, attempts.Started):
        return moment
    for item in started.attempt.items:
        moment += timedelta(seconds=rng.uniform(4, 25))
        qtype = question_type(item.question.type)
        ids = qtype.option_ids(item.question.options)
        right = qtype.correct_ids(item.question.answer)
        choice = (
            right if rng.random() < skill else [rng.choice([i for i in ids if [i] != right] or ids)]
        )
        attempts.answer(session, contest, started.attempt, item.position, choice, moment)
    return moment + timedelta(minutes=rng.uniform(5, 90))


def _demo_tree(session: DbSession) -> list[Unit]:
    root = _unit(session, "S01", "市直机关工委", "system", None, 0)
    branches = []
    for a_index, (code, name, children) in enumerate(DEMO_TREE):
        agency = _unit(session, code, name, "agency", root, a_index)
        for b_index, (branch_name, registered) in enumerate(children):
            branch = _unit(
                session, f"{code}-B{b_index + 1:02d}", branch_name, "branch", agency, b_index
            )
            branch.registered = registered
            branches.append(branch)
    return branches


def _unit(
    session: DbSession, code: str, name: str, kind: str, parent: Unit | None, position: int
) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, parent=parent, position=position)
        session.add(unit)
        session.flush()
    return unit
