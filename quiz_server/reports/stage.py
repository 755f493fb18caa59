"""A stage contest's report: total and per-round scores, the buzz log (team, tap time, clock
offset, uncertainty, ruling), the rulings as they stand and every action taken, with who took it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..campaign import DEFAULT_TZ
from ..extensions import DbSession
from ..models import Contest, StageEvent
from ..stage.engine import UNDOABLE, Board, Kind, StageRefusal, apply, replay, standings
from ..stage.store import Loaded, event_of, load
from .sheets import ONE, WHOLE, Column, Sheet

ACTIONS = {
    "next": "下一题", "pick": "选分值", "open": "开放抢答", "buzz": "抢答", "award": "判给答题权",
    "close": "关闭抢答", "start": "开始计时", "answer": "答题台作答", "rule": "裁判裁定",
    "timeout": "超时", "adjust": "调整比分", "undo": "撤销上一步",
}  # fmt: skip
OUTCOMES = {
    "right": "答对", "wrong": "答错", "timeout": "超时", "foul": "犯规", "adjust": "评委调分",
    "none": "无人抢答",
}  # fmt: skip
REFUSED = {
    StageRefusal.LOCKED_OUT.value: "已犯规，不计",
    StageRefusal.ALREADY_BUZZED.value: "重复抢答，不计",
    StageRefusal.WRONG_STEP.value: "不在抢答时段，不计",
}


def sheets(
    session: DbSession, contest: Contest, branch_ids: Collection[int] | None = None
) -> list[Sheet]:
    """The report; limited to `branch_ids` (a branch secretary's) the scores stay whole (they
    are on the big screen for all to see), the buzz log and rulings keep only those branches'
    teams, and the action log (the organizers' own record of who did what) is left out."""
    loaded = load(session, contest.id)
    assert loaded is not None
    if branch_ids is None:
        return [_scores(loaded), _buzz_log(loaded), _rulings(loaded), _actions(loaded),
                _about(loaded)]  # fmt: skip
    teams = {t.id for t in loaded.teams if t.unit_id in branch_ids}
    return [_scores(loaded), _buzz_log(loaded, teams), _rulings(loaded, teams), _about(loaded)]


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, ZoneInfo(DEFAULT_TZ)).strftime("%H:%M:%S.%f")[:-3]


def _scores(loaded: Loaded) -> Sheet:
    board, rounds = loaded.board, loaded.rounds
    columns = [Column("名次", WHOLE, 6), Column("台号", WHOLE, 6), Column("队伍", width=24),
               Column("党支部", width=24)]  # fmt: skip
    columns += [Column(r.title, WHOLE, 12) for r in rounds] + [Column("总分", WHOLE, 8)]
    rows = []
    for rank, team_id, total in standings(loaded.programme, board):
        team = loaded.team(team_id)
        assert team is not None
        per_round = [board.round_scores.get((r.position, team_id), 0) for r in rounds]
        rows.append([rank, team.desk, team.name, team.unit.name, *per_round, total])
    return Sheet("stage_scores", "比分", columns, rows)


def _walk(loaded: Loaded) -> list[tuple[StageEvent, Board, Board, bool]]:
    """Each logged event with the board before and after it, and whether the fold took it."""
    out, board, events = [], replay(loaded.programme, []), loaded.events()
    for i, row in enumerate(loaded.rows):
        if row.kind == Kind.UNDO:
            after: Board | StageRefusal = replay(loaded.programme, events[: i + 1])
        else:
            after = apply(loaded.programme, board, event_of(row))
        taken = isinstance(after, Board)
        out.append((row, board, after if isinstance(after, Board) else board, taken))
        board = after if isinstance(after, Board) else board
    return out


def _buzz_log(loaded: Loaded, teams: Collection[int] | None = None) -> Sheet:
    walked = _walk(loaded)
    awards = {
        (row.data.get("round"), row.data.get("slot")): (
            row.team_id,
            row.actor.startswith("referee"),
        )
        for row, _, _, taken in walked
        if row.kind == Kind.AWARD and taken
    }
    rows = []
    for row, before, after, taken in walked:
        if row.kind != Kind.BUZZ or (teams is not None and row.team_id not in teams):
            continue
        key = (row.data.get("round"), row.data.get("slot"))
        team = loaded.team(row.team_id)
        opened = after.opened_at or before.opened_at
        rows.append([
            int(key[0]) + 1 if key[0] is not None else None, int(key[1]) + 1 if key[1] is not None else None,
            team.name if team else "", _clock(row.data.get("tap")), _clock(row.t),
            round((row.t - opened) * 1000, 1) if opened else None,
            round(float(row.data.get("offset", 0)) * 1000, 1),
            round(float(row.data.get("uncertainty", 0)) * 1000, 1),
            round(float(row.data["rtt"]) * 1000, 1) if row.data.get("rtt") is not None else None,
            _clock(row.data.get("arrived")), _buzz_ruling(row, before, after, taken, awards.get(key)),
        ])  # fmt: skip
    columns = [
        Column("轮次", WHOLE, 6), Column("题号", WHOLE, 6), Column("队伍", width=22),
        Column("按键时刻(设备钟)", width=16), Column("按键时刻(服务器钟)", width=18),
        Column("开放后毫秒", ONE, 11), Column("时钟偏差毫秒", ONE, 13), Column("误差±毫秒", ONE, 10),
        Column("往返时延毫秒", ONE, 12), Column("到达时刻", width=14), Column("裁定", width=22),
    ]  # fmt: skip
    return Sheet("stage_buzzes", "抢答记录", columns, rows)


def _buzz_ruling(
    row: StageEvent, before: Board, after: Board, taken: bool, award: tuple[int | None, bool] | None
) -> str:
    if not taken:
        return REFUSED.get(str(row.data.get("refused", "")), "不计")
    if row.team_id in after.locked and row.team_id not in before.locked:
        return "提前抢答犯规"
    if award and award[0] == row.team_id:
        return "同时抢答，裁判判给" if award[1] else "最先按键，获得答题权"
    return "有效，晚于获胜队"


def _rulings(loaded: Loaded, teams: Collection[int] | None = None) -> Sheet:
    columns = [Column("轮次", WHOLE, 6), Column("题号", WHOLE, 6), Column("队伍", width=22),
               Column("结果", width=10), Column("得分", WHOLE, 8), Column("理由", width=40)]  # fmt: skip
    rows = []
    for r in loaded.board.rulings:
        if teams is not None and r.team not in teams:
            continue
        team = loaded.team(r.team)
        rows.append([r.round + 1, r.slot + 1, team.name if team else "", OUTCOMES.get(r.outcome, r.outcome),
                     r.points, r.reason])  # fmt: skip
    return Sheet("stage_rulings", "裁定记录", columns, rows)


def _undone(loaded: Loaded) -> set[int]:
    """The seqs of actions an undo took back (with the buzzes logged after them)."""
    kept: list[StageEvent] = []
    undone: set[int] = set()
    for row in loaded.rows:
        if row.kind != Kind.UNDO:
            kept.append(row)
            continue
        last = next((i for i in range(len(kept) - 1, -1, -1) if kept[i].kind in UNDOABLE), None)
        if last is not None:
            undone.update(r.seq for r in kept[last:])
            del kept[last:]
    return undone


def _actions(loaded: Loaded) -> Sheet:
    columns = [Column("序号", WHOLE, 6), Column("时刻", width=14), Column("操作", width=12),
               Column("队伍", width=22), Column("数值", WHOLE, 8), Column("判定", width=8),
               Column("理由", width=36), Column("操作人", width=18), Column("生效", width=8)]  # fmt: skip
    rows: list[list[Any]] = []
    undone = _undone(loaded)
    for row, _, _, taken in _walk(loaded):
        team = loaded.team(row.team_id)
        correct = row.data.get("correct")
        rows.append([
            row.seq + 1, _clock(row.t), ACTIONS.get(row.kind, row.kind), team.name if team else "",
            row.data.get("value"), "" if correct is None else ("对" if correct else "错"),
            str(row.data.get("reason", "")), row.actor,
            "已撤销" if row.seq in undone else "是" if taken else "否",
        ])  # fmt: skip
    return Sheet("stage_actions", "操作记录", columns, rows)


def _about(loaded: Loaded) -> Sheet:
    lines = [
        ["竞赛", loaded.contest.title], ["竞赛码", loaded.contest.pin],
        ["抢答顺序", "按各答题台按键的时刻（换算到服务器时钟）排序，而非按到达服务器的先后；"
                    "两次按键相差在双方误差之和以内为同时抢答，由裁判裁定"],
        ["时刻", f"按 {DEFAULT_TZ} 时区，精确到毫秒"],
        ["操作记录", "每一步操作都记录操作人；“生效”为否的是未被接受的操作（如犯规队再次抢答），“已撤销”的是被撤销的操作"],
    ]  # fmt: skip
    return Sheet("about", "说明", [Column("项目", width=14), Column("内容", width=80)], lines)
