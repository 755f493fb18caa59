"""Campaign contests over plain HTTP: the phone page and its JSON API (the unit rankings board
is in `boards`, the fair-play review in `admin.flags`). Why HTTP and not the socket:
docs/campaign.md.

The API authenticates members by the token in `X-Member-Token` (kept in the phone's
localStorage), not by a cookie, so a forged cross-site request carries no credential: those
endpoints are exempt from the CSRF check that every cookie-authenticated form keeps.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import campaign
from .. import practice as practice_rules
from ..campaign import attempts, rankings
from ..campaign import payloads as cp
from ..config import Settings
from ..extensions import csrf, db
from ..messages import REFUSALS, strings_for
from ..models import Attempt, AttemptItem, Contest, Participant, Question
from ..orgs import Tree
from ..questions import question_type
from ..refusals import Refusal
from .boards import cached_rankings
from .lookup import campaign_by_pin_or_404, clean_pin

bp = Blueprint("campaign", __name__)
API = "/api/campaign/<pin>"
DEVICE_MAX = 64


@bp.before_request
def _json_only() -> Any:
    """The CSRF-exempt API takes JSON only: a cross-site form cannot send it without a CORS
    preflight, which this server never grants, so exemption does not open a forgery path."""
    if request.method == "POST" and request.path.startswith("/api/") and not request.is_json:
        return refusal("bad_request", 415)
    return None


def settings() -> Settings:
    return current_app.config["QUIZ"]


def now() -> Any:
    return settings().clock()


def refusal(reason: str, status: int = 409, **extra: Any) -> tuple[Response, int]:
    return jsonify(ok=False, reason=reason, message=REFUSALS.get(reason, reason), **extra), status


_contest = campaign_by_pin_or_404


def _member(contest: Contest) -> Participant:
    found = attempts.member(db.session, contest, request.headers.get("X-Member-Token"))
    if found is None:
        response, status = refusal("unknown_token", 401)
        response.status_code = status
        abort(response)
    return found


def _attempt(contest: Contest, member: Participant, attempt_id: int) -> Attempt:
    found = db.session.scalar(
        select(Attempt)
        .where(Attempt.id == attempt_id)
        .options(selectinload(Attempt.items).selectinload(AttemptItem.question))
    )
    if found is None or found.participant_id != member.id or found.contest_id != contest.id:
        abort(404, description=REFUSALS["no_such_attempt"])
    return found


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.before_request
def _read_body_first() -> None:
    """Read a request's body before its first query: under gevent a read from the socket can
    switch greenlets, and none may switch between a transaction's first read and its commit
    (SQLite would refuse the write that follows a stale read snapshot)."""
    if request.method == "POST":
        request.get_data(cache=True)


# ------------------------------------------------------------------ pages


@bp.route("/c/<pin>")
def phone(pin: str) -> str:
    return render_template("campaign.html", pin=clean_pin(pin), strings=strings_for("campaign"))


# ------------------------------------------------------------------ the phone's API


@bp.route(API)
def info(pin: str) -> Response:
    contest = _contest(pin)
    tree = Tree.load(db.session)
    branches = [
        {"id": u.id, "name": u.name, "path": [a.name for a in reversed(tree.ancestors(u.id))]}
        for u in contest.units
    ]
    return _no_store(
        jsonify(**cp.contest_info(contest, attempts.rules_of(contest)), branches=branches)
    )


@bp.route(API + "/join", methods=["POST"])
@csrf.exempt
def join(pin: str) -> Any:
    contest = _contest(pin)
    data = _body()
    name, branch_id, member_no = data.get("name"), data.get("branch_id"), data.get("member_no", "")
    if (
        not isinstance(name, str)
        or not isinstance(branch_id, int)
        or not isinstance(member_no, str)
    ):
        return refusal("bad_request", 400)
    device = data.get("device", "")
    joined = attempts.join(
        db.session,
        contest,
        name,
        branch_id,
        member_no,
        address=request.remote_addr or "",
        device=device[:DEVICE_MAX] if isinstance(device, str) else "",
        now=now(),
    )
    db.session.commit()  # a refused roster match is recorded too (rate limit, flags)
    if isinstance(joined, str):
        return refusal(joined, 429 if joined == "roster_rate_limited" else 400)
    return jsonify(ok=True, token=joined.token, name=joined.name)


@bp.route(API + "/me")
def me(pin: str) -> Response:
    """What the home screen shows: attempts left, the attempt in progress, history."""
    contest = _contest(pin)
    member = _member(contest)
    rules = attempts.rules_of(contest)
    moment = now()
    current = attempts.open_attempt(db.session, member)
    if current is not None and attempts.close_if_due(db.session, rules, current, moment):
        current = None
    db.session.commit()
    past = attempts.history(db.session, member)
    blocked = None
    if current is None:
        blocked = campaign.can_start(rules, moment, [campaign.Past(a.started_at) for a in past])
    left = campaign.attempts_left(rules, moment, [campaign.Past(a.started_at) for a in past])
    return _no_store(jsonify(cp.status_for_member(member, left, current, past, blocked, moment)))


@bp.route(API + "/attempts", methods=["POST"])
@csrf.exempt
def start(pin: str) -> Any:
    contest = _contest(pin)
    member = _member(contest)
    device = str(_body().get("device", ""))[:DEVICE_MAX]
    started = attempts.start(db.session, contest, member, now(), device, _pool(contest))
    if not isinstance(started, attempts.Started):
        db.session.commit()
        return refusal(str(getattr(started, "value", started)))
    db.session.flush()
    payload = cp.attempt_for_member(attempts.rules_of(contest), started.attempt, now())
    db.session.commit()
    return jsonify(ok=True, continued=started.continued, attempt=payload)


def _pool(contest: Contest) -> list[attempts.PoolEntry]:
    """The pinned bank version's draw pool, kept per process: a version never changes."""
    pools = current_app.extensions.setdefault("campaign_pools", {})
    if contest.bank_version_id not in pools:
        pools[contest.bank_version_id] = attempts.pool_of(db.session, contest.bank_version_id)
    return pools[contest.bank_version_id]


@bp.route(API + "/attempts/<int:attempt_id>")
def attempt(pin: str, attempt_id: int) -> Response:
    contest = _contest(pin)
    found = _attempt(contest, _member(contest), attempt_id)
    rules = attempts.rules_of(contest)
    attempts.close_if_due(db.session, rules, found, now())
    db.session.commit()
    return _no_store(jsonify(ok=True, attempt=cp.attempt_for_member(rules, found, now())))


@bp.route(API + "/attempts/<int:attempt_id>/answers", methods=["POST"])
@csrf.exempt
def answer(pin: str, attempt_id: int) -> Any:
    """Idempotent per (attempt, position): a retry after a lost response gets the same ack."""
    contest = _contest(pin)
    found = _attempt(contest, _member(contest), attempt_id)
    data = _body()
    position = data.get("position")
    if not isinstance(position, int) or isinstance(position, bool):
        return refusal("bad_request", 400)
    ack = attempts.answer(db.session, contest, found, position, data.get("choice"), now())
    db.session.flush()
    if ack.refusal is not None:
        extra: dict[str, Any] = {"finished": found.finished_at is not None}
        if ack.refusal is Refusal.ALREADY_ANSWERED and ack.item is not None and ack.item.choice:
            extra["choice"] = ack.item.choice.split(",")  # the stored one, as the live ack does
        db.session.commit()
        return refusal(ack.refusal.value, **extra)
    assert ack.item is not None
    payload = cp.answer_ack(ack.item, found)
    rules = attempts.rules_of(contest)
    if not payload["finished"] and rules.per_question:
        payload["attempt"] = cp.attempt_for_member(rules, found, now())
    db.session.commit()  # durable before the ack goes out
    return jsonify(payload)


@bp.route(API + "/attempts/<int:attempt_id>/hidden", methods=["POST"])
@csrf.exempt
def hidden(pin: str, attempt_id: int) -> Any:
    contest = _contest(pin)
    found = _attempt(contest, _member(contest), attempt_id)
    count = _body().get("count")
    if not isinstance(count, int) or not 0 <= count <= 10_000:
        return refusal("bad_request", 400)
    attempts.report_hidden(db.session, contest, found, count, now())
    db.session.commit()
    return jsonify(ok=True, finished=found.finished_at is not None, closed_by=found.closed_by)


@bp.route(API + "/attempts/<int:attempt_id>/submit", methods=["POST"])
@csrf.exempt
def submit(pin: str, attempt_id: int) -> Any:
    contest = _contest(pin)
    found = _attempt(contest, _member(contest), attempt_id)
    attempts.submit(db.session, contest, found, now())
    db.session.commit()
    return jsonify(ok=True, finished=True)


@bp.route(API + "/attempts/<int:attempt_id>/result")
def result(pin: str, attempt_id: int) -> Any:
    contest = _contest(pin)
    member = _member(contest)
    found = _attempt(contest, member, attempt_id)
    rules = attempts.rules_of(contest)
    attempts.close_if_due(db.session, rules, found, now())
    db.session.commit()
    if found.finished_at is None:
        return refusal("attempt_open")
    held = practice_rules.held_back(db.session, contest.bank_version.bank_id, now(), contest.id)
    payload = cp.result_for_member(rules, found, now(), _ranks(contest, member), held)
    return _no_store(jsonify(ok=True, result=payload))


def _ranks(contest: Contest, member: Participant) -> dict[str, Any]:
    data = cached_rankings(contest, "branch")
    rank, of = rankings.member_rank(db.session, contest, member.id)
    branch = next((r for r in data["rows"] if r["unit_id"] == member.unit_id), None)
    return {
        "rank": rank,
        "of": of,
        "branch": {
            "name": member.unit.name,
            "rank": branch["rank"] if branch else None,
            "of": len(data["rows"]),
        },
    }


@bp.route(API + "/practice")
def practice(pin: str) -> Any:
    """Untimed questions of a category for learning; never scored, never stored. Members only,
    and only questions no open contest can still ask (quiz_server.practice)."""
    contest = _contest(pin)
    _member(contest)
    found = practice_rules.questions(db.session, contest, now(), request.args.get("category", ""))
    if found is None:
        return refusal("practice_closed")
    return _no_store(jsonify(ok=True, questions=[cp.practice_question(q) for q in found]))


@bp.route(API + "/practice/<int:question_id>", methods=["POST"])
@csrf.exempt
def practice_check(pin: str, question_id: int) -> Any:
    contest = _contest(pin)
    _member(contest)
    question = db.session.get(Question, question_id)
    if question is None or question.bank_version_id != contest.bank_version_id:
        abort(404)
    if not practice_rules.may_practise(db.session, question, now()):
        return refusal("practice_held", 403)
    choice = question_type(question.type).parse_choice(_body().get("choice"), question.options)
    if choice is None:
        return refusal("no_such_option", 400)
    return jsonify(ok=True, **cp.practice_check(question, choice))


def _no_store(response: Response) -> Response:
    response.cache_control.no_store = True
    return response
