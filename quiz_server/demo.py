"""The demo: a small organisation tree, an organizer account and a live contest, ready to play."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth import create_user, set_password
from .banks import latest_version, load_bundled_banks
from .contests import create_contest
from .engine import Phase
from .models import Contest, Unit, User

DEMO_TREE: list[tuple[str, str, list[tuple[str, int]]]] = [
    ("A01", "市教育局机关党委", [("办公室党支部", 12), ("教研室党支部", 18), ("基础教育科党支部", 9)]),
    ("A02", "市卫生健康委机关党委", [("机关第一党支部", 15), ("机关第二党支部", 11)]),
    ("A03", "市交通运输局机关党委", [("综合党支部", 14), ("运输管理党支部", 20), ("执法支队党支部", 25)]),
]
DEMO_TITLE = "“守礼仪、讲文明、树形象”文明礼仪常识网络知识竞答（演示）"
DEMO_BANK = "fujian-babu"


@dataclass(frozen=True)
class DemoInfo:
    contest: Contest
    username: str
    password: str


def seed_demo(session: Session) -> DemoInfo:
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
    return DemoInfo(contest, "admin", password)


def _demo_tree(session: Session) -> list[Unit]:
    root = _unit(session, "S01", "市直机关工委", "system", None, 0)
    branches = []
    for a_index, (code, name, children) in enumerate(DEMO_TREE):
        agency = _unit(session, code, name, "agency", root, a_index)
        for b_index, (branch_name, registered) in enumerate(children):
            branch = _unit(session, f"{code}-B{b_index + 1:02d}", branch_name, "branch", agency, b_index)
            branch.registered = registered
            branches.append(branch)
    return branches


def _unit(session: Session, code: str, name: str, kind: str, parent: Unit | None, position: int) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, parent=parent, position=position)
        session.add(unit)
        session.flush()
    return unit
