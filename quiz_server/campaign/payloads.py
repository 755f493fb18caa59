"""Campaign payloads, one builder per audience. Nothing a member gets while an attempt is
open carries a correct answer; the review carries them only when the contest's policy allows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from .. import campaign
from ..contests import settings_of
from ..messages import REFUSALS
from ..models import Attempt, AttemptItem, Contest, Participant, Question
from ..questions import question_type
from ..wire import ms
from .rules import Rules


def options_of(question: Question, order: list[str] | None = None) -> list[dict[str, str]]:
    """Options under their stable ids, in `order` (the attempt's shuffle) if given."""
    qtype = question_type(question.type)
    texts = dict(
        zip(qtype.option_ids(question.options), qtype.option_labels(question.options), strict=True)
    )
    return [{"id": oid, "text": texts[oid]} for oid in (order or list(texts))]


def item_for_member(attempt: Attempt, item: AttemptItem) -> dict[str, Any]:
    """One question of an attempt: stem and shuffled options, never the answer."""
    q = item.question
    qtype = question_type(q.type)
    order = campaign.option_order(
        qtype.option_ids(q.options), attempt.shuffle_seed, item.position, q.type
    )
    return {
        "position": item.position,
        "type": q.type,
        "type_label": qtype.label,
        "stem": q.stem,
        "options": options_of(q, order),
        "opened_at": ms(item.opened_at),
        "deadline": ms(item.deadline),
        "choice": item.choice.split(",") if item.choice else None,
    }


def attempt_for_member(rules: Rules, attempt: Attempt, now: datetime) -> dict[str, Any]:
    """The attempt as the phone shows it; with per-question timing only the opened questions."""
    shown = [i for i in attempt.items if i.opened_at is not None]
    return {
        "id": attempt.id,
        "number": attempt.number,
        "time_mode": rules.time_mode,
        "started_at": ms(attempt.started_at),
        "deadline": ms(attempt.deadline),
        "finished": attempt.finished_at is not None,
        "total": len(attempt.items),
        "answered": sum(1 for i in attempt.items if i.choice is not None),
        "hidden_count": attempt.hidden_count,
        "hidden_limit": rules.hidden_limit,
        "items": [item_for_member(attempt, i) for i in shown],
        "server_now": ms(now),
    }


def status_for_member(
    member: Participant,
    left: campaign.Left,
    current: Attempt | None,
    past: list[Attempt],
    blocked: campaign.CampaignRefusal | None,
    now: datetime,
) -> dict[str, Any]:
    """The member's home screen: attempts left, why a new one cannot start, history."""
    return {
        "name": member.name,
        "branch": member.unit.name,
        "left": {"today": left.today, "stage": left.stage, "total": left.total},
        "can_start": blocked is None,
        "blocked": None
        if blocked is None
        else {"reason": blocked.value, "message": REFUSALS[blocked.value]},
        "current": None
        if current is None
        else {
            "id": current.id,
            "answered": sum(1 for i in current.items if i.choice),
            "total": len(current.items),
        },
        "history": [
            {
                "id": a.id,
                "number": a.number,
                "score": a.score,
                "full_mark": a.full_mark,
                "time_ms": a.time_ms,
                "closed_by": a.closed_by,
            }
            for a in past
            if a.finished_at is not None
        ],
        "server_now": ms(now),
    }


def answer_ack(item: AttemptItem, attempt: Attempt) -> dict[str, Any]:
    """The same ack for the first submission and every retry of it: whether it counted is not
    told until the attempt is over."""
    return {
        "ok": True,
        "position": item.position,
        "choice": item.choice.split(",") if item.choice else None,
        "finished": attempt.finished_at is not None,
    }


def result_for_member(
    rules: Rules,
    attempt: Attempt,
    now: datetime,
    ranks: dict[str, Any],
    held: Collection[str] = (),
) -> dict[str, Any]:
    """Score and time at once; answers and explanations as the review policy says, except for
    questions another open contest can still ask (`held`, question ids): those stay out."""
    visible = campaign.review_visible(rules, now)
    shown = [i for i in attempt.items if i.question.qid not in held]
    return {
        "id": attempt.id,
        "number": attempt.number,
        "score": attempt.score,
        "full_mark": attempt.full_mark,
        "correct": attempt.correct,
        "total": len(attempt.items),
        "time_ms": attempt.time_ms,
        "closed_by": attempt.closed_by,
        "review_visible": visible,
        "review_at": None if visible else ms(rules.ends_at),
        "review": [_reviewed(attempt, i) for i in shown] if visible else [],
        "review_held": len(attempt.items) - len(shown) if visible else 0,
        **ranks,
    }


def _reviewed(attempt: Attempt, item: AttemptItem) -> dict[str, Any]:
    q = item.question
    return {
        **item_for_member(attempt, item),
        "correct_ids": question_type(q.type).correct_ids(q.answer),
        "is_correct": item.correct,
        "points": item.points,
        "explanation": q.explanation,
        "source": q.source,
    }


def practice_question(question: Question) -> dict[str, Any]:
    """A practice question: no answer until the member checks one (`practice_check`)."""
    return {
        "id": question.id,
        "type": question.type,
        "type_label": question_type(question.type).label,
        "category": question.category,
        "stem": question.stem,
        "options": options_of(question),
    }


# A judge question's answer in words: "正确答案：错误" alone reads like a verdict on the member.
VERDICTS = {True: "回答正确", False: "回答错误"}
JUDGE_ANSWERS = {"T": "正确（该说法正确）", "F": "错误（该说法不正确）"}


def answer_text(question: Question) -> str:
    """The right answer as the feedback line says it: option texts, or a judge's meaning."""
    ids = question_type(question.type).correct_ids(question.answer)
    if question.type == "judge":
        return JUDGE_ANSWERS[ids[0]]
    texts = {o["id"]: o["text"] for o in options_of(question)}
    return "、".join(texts[i] for i in ids)


def practice_check(question: Question, choice: list[str]) -> dict[str, Any]:
    """The member's practice answer checked: "回答错误。" then "正确答案：…" in plain words."""
    qtype = question_type(question.type)
    correct = qtype.is_correct(question.answer, choice)
    return {
        "correct": correct,
        "verdict": VERDICTS[correct],
        "answer_text": answer_text(question),
        "correct_ids": qtype.correct_ids(question.answer),
        "explanation": question.explanation,
        "source": question.source,
    }


def contest_info(contest: Contest, rules: Rules) -> dict[str, Any]:
    """What the phone shows before joining: title, window, the rules in plain words."""
    return {
        "pin": contest.pin,
        "title": contest.title,
        "mode": contest.mode,
        "roster_bound": contest.roster_bound,
        "starts_at": ms(rules.starts_at),
        "ends_at": ms(rules.ends_at),
        "tz": rules.tz,
        "count": _draw_count(contest),
        "time_mode": rules.time_mode,
        "attempt_seconds": rules.attempt_seconds,
        "question_seconds": rules.question_seconds,
        "per_day": rules.per_day,
        "total": rules.total,
        "counting": rules.counting,
        "counting_label": campaign.COUNTING[rules.counting],
        "review": rules.review,
        "review_label": campaign.REVIEW[rules.review],
        "stages": [
            {"name": s.name, "starts_at": ms(s.starts_at), "ends_at": ms(s.ends_at)}
            for s in rules.stages
        ],
        "categories": contest.bank_version.categories,
    }


def _draw_count(contest: Contest) -> int:
    rule = settings_of(contest).draw
    return rule.count if rule else 0
