"""What each audience of a stage contest sees: one builder per audience.

`public` goes to the big screen and to every team device; it never carries the answer of a
question before that question is ruled. `referee` adds the answer, the buzz order with its
gaps and uncertainties, the rulings log and the team PINs: organizer only.
"""

from __future__ import annotations

from typing import Any

from ..extensions import DbSession
from ..models import Question, StageTeam
from ..questions import question_type
from .clock import Buzz, order
from .engine import Board, Kind, RoundSpec, RoundType, Step, standings, turn_member
from .store import Loaded

KIND_LABELS = {
    RoundType.REQUIRED: "必答题",
    RoundType.BUZZ: "抢答题",
    RoundType.RISK: "风险题",
    RoundType.SPEED: "限时速答",
}
# Steps in which the round's question is on every screen.
SHOWN = {
    RoundType.REQUIRED: {Step.ANSWERING, Step.RULED},
    RoundType.BUZZ: {Step.SHOWN, Step.OPEN, Step.ANSWERING, Step.RULED},
    RoundType.RISK: {Step.ANSWERING, Step.RULED},
    RoundType.SPEED: {Step.SPEED},
}


def rules_text(spec: RoundSpec) -> str:
    """The round's rules in one line, as the host reads them out."""
    who = "每位队员轮流" if spec.answerer == "member_turn" else "各队轮流"
    if spec.kind == RoundType.BUZZ:
        foul = (
            f"，提前抢答犯规{_signed(spec.foul)}" if spec.foul else "，提前抢答犯规并取消本题资格"
        )
        return (
            f"主持人读题完毕宣布开始后抢答，限时 {spec.answer_seconds:g} 秒作答，"
            f"答对{_signed(spec.right)}，答错{_signed(spec.wrong)}{foul}"
        )
    if spec.kind == RoundType.RISK:
        values = "/".join(str(v) for v in spec.risk_values)
        return f"{who}先选分值（{values} 分）再看题，限时 {spec.answer_seconds:g} 秒，答对加分，答错扣分"
    if spec.kind == RoundType.SPEED:
        return f"每队 {spec.speed_seconds:g} 秒内连续作答，答对一题{_signed(spec.right)}"
    return (
        f"{who}作答，限时 {spec.answer_seconds:g} 秒，答对{_signed(spec.right)}，"
        f"答错{_signed(spec.wrong)}，不得相互提示"
    )


def _signed(points: int) -> str:
    return f" {points:+d} 分" if points else "不扣分"


def public(session: DbSession, loaded: Loaded, board: Board, now: float) -> dict[str, Any]:
    spec = loaded.programme.rounds[board.round] if 0 <= board.round < len(loaded.rounds) else None
    question = loaded.question(session) if spec and board.step in SHOWN[spec.kind] else None
    payload: dict[str, Any] = {
        "contest": {"id": loaded.contest.id, "title": loaded.contest.title, "pin": loaded.contest.pin},
        "seq": len(loaded.rows),
        "step": board.step.value,
        "server_now": now,
        "deadline": board.deadline,
        "round": _round(spec, board, len(loaded.rounds)),
        "teams": [_team(t, board) for t in loaded.teams],
        "turn": _turn(loaded, board, spec),
        "value": board.value,
        "question": _question(question) if question else None,
        "reveal": _reveal(question) if question and board.step == Step.RULED else None,
        "buzz": {"winner": board.team if spec and spec.kind == RoundType.BUZZ else None,
                 "fouls": sorted(board.locked), "count": len(board.buzzed)},
        "speed": {"right": board.speed_right, "done": board.pool} if spec and spec.kind == RoundType.SPEED else None,
        "last": _ruling(board.rulings[-1]) if board.rulings else None,
        "podium": [{"rank": r, "team": t, "score": s} for r, t, s in standings(loaded.programme, board)]
        if board.step == Step.FINISHED else None,
    }  # fmt: skip
    return payload


def referee(session: DbSession, loaded: Loaded, board: Board, now: float) -> dict[str, Any]:
    """Organizer only: the answer of the current question, whatever the step, and the logs."""
    spec = loaded.programme.rounds[board.round] if 0 <= board.round < len(loaded.rounds) else None
    question = loaded.question(session)
    buzzes = current_buzzes(loaded, board)
    ranked = order(b for b in buzzes if b.team in board.buzzed)
    opened = board.opened_at or 0.0
    return {
        **public(session, loaded, board, now),
        "answer": {**_question(question), **_reveal(question)} if question and spec else None,
        "buzz_order": [
            {
                "team": b.team,
                "after_open_ms": round((b.at - opened) * 1000, 1),
                "uncertainty_ms": round(b.uncertainty * 1000, 1),
                "clamped": b.clamped,
            }
            for b in ranked.ranked
        ],  # fmt: skip
        "tie": list(ranked.tied) if len(ranked.tied) > 1 else None,
        "gap_ms": round(ranked.gap * 1000, 1) if ranked.gap is not None else None,
        "rulings": [_ruling(r) for r in board.rulings[-12:]][::-1],
        "team_pins": [{"team": t.id, "team_name": t.name, "pin": t.pin} for t in loaded.teams],
        "can_undo": any(e.kind != Kind.BUZZ for e in loaded.events()),
    }


def current_buzzes(loaded: Loaded, board: Board) -> list[Buzz]:
    """The buzzes logged for the board's question, as the clock module orders them."""
    return [
        Buzz(row.team_id or 0, row.t, float(row.data.get("uncertainty", 1.0)),
             float(row.data.get("arrived", row.t)), float(row.data.get("offset", 0.0)),
             bool(row.data.get("clamped", False)))
        for row in loaded.rows
        if row.kind == Kind.BUZZ and row.data.get("round") == board.round
        and row.data.get("slot") == board.slot
    ]  # fmt: skip


def _round(spec: RoundSpec | None, board: Board, total: int) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {
        "index": board.round, "of": total, "title": spec.title, "kind": spec.kind.value,
        "kind_label": KIND_LABELS[spec.kind], "rules": rules_text(spec), "slot": board.slot,
        "slots": spec.slots, "answer_seconds": spec.answer_seconds,
        "speed_seconds": spec.speed_seconds, "risk_values": list(spec.risk_values),
    }  # fmt: skip


def _team(team: StageTeam, board: Board) -> dict[str, Any]:
    return {
        "id": team.id, "team_name": team.name, "desk": team.desk, "score": board.score(team.id),
        "locked": team.id in board.locked, "member_names": [m["name"] for m in team.members],
    }  # fmt: skip


def _turn(loaded: Loaded, board: Board, spec: RoundSpec | None) -> dict[str, Any] | None:
    if spec is None or board.team is None:
        return None
    team = loaded.team(board.team)
    seat = None
    if spec.answerer == "member_turn" and team is not None:
        seat = turn_member(loaded.programme, board.slot)
    member = (
        next((m["name"] for m in team.members if m["seat"] == seat), None)
        if team and seat
        else None
    )
    return {"team": board.team, "seat": seat, "member_name": member}


def _question(q: Question) -> dict[str, Any]:
    qtype = question_type(q.type)
    options = [
        {"id": oid, "text": text}
        for oid, text in zip(
            qtype.option_ids(q.options), qtype.option_labels(q.options), strict=True
        )
    ]
    return {"type": q.type, "type_label": qtype.label, "stem": q.stem, "options": options}


def _reveal(q: Question) -> dict[str, Any]:
    return {"correct": question_type(q.type).correct_ids(q.answer), "explanation": q.explanation}


def _ruling(r: Any) -> dict[str, Any]:
    return {"round": r.round, "slot": r.slot, "team": r.team, "outcome": r.outcome,
            "points": r.points, "reason": r.reason}  # fmt: skip
