"""Group commit of answers, joins that leave no orphan seat, and the retryable `busy` refusal
(a full connection pool, a failed batch, a connect that meets a database fault)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from conftest import login, make_bank, make_branches, make_user
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from test_live import answer, control, live_app, phone, right, t, wrong  # noqa: F401  (fixtures)

from quiz_server import create_app
from quiz_server.contests import create_contest
from quiz_server.extensions import db, socketio
from quiz_server.live import seats
from quiz_server.live.answers import answer_batcher
from quiz_server.live.batch import Batcher
from quiz_server.models import Answer, Contest, Participant

PHONES = 12


@pytest.fixture
def live_settings(settings, clock):
    """As test_live's, with a wider flush window: answers sent together share a batch."""
    settings.clock = clock
    settings.run_timers = False
    settings.commit_window_ms = 30
    return settings


@pytest.fixture
def host(live_app, t):  # noqa: F811
    http = live_app.test_client()
    login(http, t["user_id"])
    client = socketio.test_client(live_app, namespace="/host", flask_test_client=http)
    assert client.emit("watch", {"contest_id": t["contest_id"]}, namespace="/host", callback=True)[
        "ok"
    ]
    return client


def together(calls):
    """Run the calls at the same moment, each on its own thread; their results, in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def rows(app):
    with app.app_context():
        return db.session.execute(select(Answer.participant_id, Answer.choice)).all()


# ---------------------------------------------------------------- the batcher itself


def test_batcher_groups_what_arrives_together_and_answers_each_in_order(app):
    seen: list[list[int]] = []

    def flush(items):
        seen.append(items)
        return [i * 10 for i in items]

    with app.app_context():
        batcher = Batcher(flush, lambda _e: -1, window_seconds=0.05)
        results = together([lambda i=i: batcher.submit(i) for i in range(20)])
    assert results == [i * 10 for i in range(20)]
    assert sorted(i for batch in seen for i in batch) == list(range(20))
    assert len(seen) < 20  # shared transactions, not one each


def test_a_failing_flush_fails_every_member_and_the_next_batch_still_runs(app):
    calls = []

    def flush(items):
        calls.append(items)
        if len(calls) == 1:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        return ["ok"] * len(items)

    with app.app_context():
        batcher = Batcher(flush, lambda _e: "retry", window_seconds=0.05)
        first = together([lambda i=i: batcher.submit(i) for i in range(8)])
        assert batcher.submit(99) == "ok"
    assert set(first) <= {"retry", "ok"} and "retry" in first
    assert first.count("retry") == len(calls[0])  # the failed batch's members, all of them


# ---------------------------------------------------------------- answers


def test_a_batch_whose_commit_fails_acks_nobody_ok(live_app, t, host, clock):  # noqa: F811
    phones = [phone(live_app, t, f"成员{i}", i % 2)[0] for i in range(PHONES)]
    control(host, t, "start")
    clock.advance(2)

    def boom(_conn):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    with live_app.app_context():
        engine = db.engine
    event.listen(engine, "commit", boom)
    try:
        acks = together([lambda c=c: answer(c, 0, right(t, 0)) for c in phones])
    finally:
        event.remove(engine, "commit", boom)
    assert {(a["ok"], a["reason"], a["retry"]) for a in acks} == {(False, "busy", True)}
    assert acks[0]["message"] == "服务器繁忙，请稍后重试"
    assert rows(live_app) == []
    assert all(answer(c, 0, right(t, 0))["ok"] for c in phones)  # the phones' retries count
    assert len(rows(live_app)) == PHONES


def test_concurrent_answers_land_once_each(live_app, t, host, clock):  # noqa: F811
    phones = [phone(live_app, t, f"成员{i}", i % 2)[0] for i in range(PHONES)]
    control(host, t, "start")
    clock.advance(3)
    # Every phone sends its answer twice at once (a retry racing the original).
    acks = together([lambda c=c: answer(c, 0, right(t, 0)) for c in phones * 2])
    assert all(a["ok"] for a in acks), acks
    assert acks[:PHONES] == acks[PHONES:]  # the same stored result for both sends
    stored = rows(live_app)
    assert len(stored) == PHONES and len({pid for pid, _ in stored}) == PHONES
    with live_app.app_context():
        assert answer_batcher().batches < 2 * PHONES
        streaks = db.session.scalars(select(Participant.streak)).all()
    assert streaks == [1] * PHONES  # one streak step per member, not one per send


def test_two_choices_racing_store_one_and_refuse_the_other(live_app, t, host, clock):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    clock.advance(1)
    first, second = together(
        [lambda: answer(a1, 0, right(t, 0)), lambda: answer(a1, 0, wrong(t, 0))]
    )
    (stored,) = rows(live_app)
    won, lost = (first, second) if first["ok"] else (second, first)
    assert won["ok"] and won["choice"] == stored[1].split(",")
    assert (lost["ok"], lost["reason"], lost["choice"]) == (
        False,
        "already_answered",
        won["choice"],
    )


def test_a_retry_after_a_lost_ack_gets_the_stored_result_even_after_the_deadline(
    live_app,  # noqa: F811
    t,  # noqa: F811
    host,
    clock,
):
    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    clock.advance(4)
    lost = answer(a1, 0, right(t, 0))  # its ack never reached the phone
    clock.advance(30)  # the phone comes back after the deadline and its grace
    again = answer(a1, 0, right(t, 0))
    assert again == lost and again["ok"] and again["elapsed_ms"] == 4000
    assert len(rows(live_app)) == 1


# ---------------------------------------------------------------- joins


def _join(client, t):  # noqa: F811
    payload = {"pin": t["pin"], "name": "张三", "branch_id": t["branches"][0]}
    return client.emit("join", payload, namespace="/play", callback=True)


def _seats(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Participant))


@pytest.mark.parametrize("when", ["before", "while"])
def test_a_socket_closed_before_or_while_its_join_runs_leaves_no_seat(
    live_app,  # noqa: F811
    t,  # noqa: F811
    monkeypatch,
    caplog,
    when,
):
    client = socketio.test_client(live_app, namespace="/play")
    hang_up = lambda: client.disconnect(namespace="/play")  # noqa: E731
    if when == "before":  # closed while the join waited for the database
        lookup = seats.join_contest
        monkeypatch.setattr(seats, "join_contest", lambda pin: (hang_up(), lookup(pin))[1])
    else:  # closed during the seat's commit
        bind = seats.bind
        monkeypatch.setattr(seats, "bind", lambda seat: (hang_up(), bind(seat))[1])
    with caplog.at_level("WARNING"):
        _join(client, t)
    assert _seats(live_app) == 0
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]


def test_a_join_acks_a_seat_the_phone_can_resume(live_app, t):  # noqa: F811
    client = socketio.test_client(live_app, namespace="/play")
    ack = _join(client, t)
    assert ack["ok"] and _seats(live_app) == 1
    me = ack["snapshot"]["me"]
    assert (me["name"], me["branch"]["name"], me["score"], me["answer"]) == (
        "张三",
        "第1党支部",
        0,
        None,
    )
    again = socketio.test_client(live_app, namespace="/play", auth={"token": ack["token"]})
    (snap,) = [e["args"][0] for e in again.get_received("/play") if e["name"] == "snapshot"]
    assert snap["me"] == me


# ---------------------------------------------------------------- a full pool, a faulty connect


@pytest.fixture
def small_pool(live_settings):
    """An app whose pool has two connections and waits 0.3 s for one; `hold()` takes both."""
    settings = replace(live_settings, db_connections=2, db_pool_timeout=0.3)
    app = create_app(settings)
    with app.app_context():
        branches = make_branches(db.session)
        contest = create_contest(
            db.session, title="小池", bank_version=make_bank(db.session), rule=3,
            branches=branches, settings={"timing": {"auto_advance": False}}, seed=2,
        )  # fmt: skip
        user = make_user(db.session)
        db.session.commit()
        app.config["T"] = {
            "pin": contest.pin, "contest_id": contest.id, "user_id": user.id,
            "branches": [b.id for b in branches], "types": [cq.question.type for cq in contest.questions],
        }  # fmt: skip
        engine = db.engine
    held: list = []
    app.config["hold"] = lambda: held.extend(engine.connect() for _ in range(2))
    app.config["release"] = lambda: [held.pop().close() for _ in range(len(held))]
    yield app
    app.config["release"]()
    engine.dispose()


def test_an_exhausted_pool_refuses_quickly_with_a_retryable_reason(small_pool):
    t = small_pool.config["T"]  # noqa: F811
    client = socketio.test_client(small_pool, namespace="/play")
    small_pool.config["hold"]()
    started = time.monotonic()
    refused = _join(client, t)
    assert time.monotonic() - started < 2
    assert (refused["ok"], refused["reason"], refused["retry"]) == (False, "busy", True)
    small_pool.config["release"]()
    assert _join(client, t)["ok"]  # the phone's retry gets in


def test_a_connect_that_meets_a_database_fault_is_answered_and_sync_resumes(small_pool):
    t = small_pool.config["T"]  # noqa: F811
    joined = _join(socketio.test_client(small_pool, namespace="/play"), t)
    small_pool.config["hold"]()
    again = socketio.test_client(small_pool, namespace="/play", auth={"token": joined["token"]})
    assert again.is_connected("/play")
    (told,) = again.get_received("/play")
    assert told["name"] == "retry" and told["args"][0]["reason"] == "busy"
    assert told["args"][0]["retry"] is True
    small_pool.config["release"]()
    synced = again.emit("sync", {}, namespace="/play", callback=True)
    assert synced["ok"] and synced["snapshot"]["me"]["name"] == "张三"
    assert (
        again.emit("answer", {"position": 0, "choice": ["A"]}, namespace="/play", callback=True)[
            "reason"
        ]
        == "not_open"
    )  # bound again: the socket is its member's


def test_a_host_connect_that_meets_a_database_fault_is_refused_not_left_hanging(small_pool, caplog):
    http = small_pool.test_client()
    login(http, small_pool.config["T"]["user_id"])
    small_pool.config["hold"]()
    with caplog.at_level("WARNING"):
        screen = socketio.test_client(small_pool, namespace="/host", flask_test_client=http)
    assert not screen.is_connected("/host")  # a connect_error carrying the busy refusal
    assert any("/host connect" in r.getMessage() for r in caplog.records)
    small_pool.config["release"]()
    again = socketio.test_client(small_pool, namespace="/host", flask_test_client=http)
    assert again.is_connected("/host")


def test_a_reconnect_waiting_for_another_build_holds_no_connection(small_pool):
    """A reconnect storm: the phones wait for the one build of the phase, with their
    connections back in the pool meanwhile."""
    from quiz_server.live.phase import current_seq
    from quiz_server.live.state import state

    t = small_pool.config["T"]  # noqa: F811
    joined = _join(socketio.test_client(small_pool, namespace="/play"), t)
    with small_pool.app_context():
        seq = current_seq(t["contest_id"])
        builder = socketio.server.eio.create_event()
        state(small_pool).phases.clear()  # as when the phase has just changed
        state(small_pool).builders[("phase", t["contest_id"], seq)] = builder
        pool = db.engine.pool
    waiting = ThreadPoolExecutor(1).submit(
        socketio.test_client, small_pool, namespace="/play", auth={"token": joined["token"]}
    )
    time.sleep(0.5)
    assert not waiting.done() and pool.checkedout() == 0
    state(small_pool).builders.pop(("phase", t["contest_id"], seq))
    builder.set()
    snap = [e for e in waiting.result(timeout=5).get_received("/play") if e["name"] == "snapshot"]
    assert snap and snap[0]["args"][0]["me"]["name"] == "张三"


JOIN_ID = "j0b1-phone_" + "x" * 12


def test_a_join_retried_after_a_lost_ack_takes_the_same_seat_back(live_app, t):  # noqa: F811
    payload = {"pin": t["pin"], "name": "张三", "branch_id": t["branches"][0], "join_id": JOIN_ID}
    first = socketio.test_client(live_app, namespace="/play").emit(
        "join", payload, namespace="/play", callback=True
    )
    retry = socketio.test_client(live_app, namespace="/play")  # the phone reconnected meanwhile
    again = retry.emit("join", payload, namespace="/play", callback=True)
    assert first["ok"] and again["ok"] and again["token"] == first["token"]
    assert _seats(live_app) == 1
    assert retry.emit("sync", {}, namespace="/play", callback=True)["ok"]  # bound to the seat
    other = {**payload, "name": "李四"}  # someone else cannot use that id for their own seat
    refused = socketio.test_client(live_app, namespace="/play").emit(
        "join", other, namespace="/play", callback=True
    )
    assert (refused["ok"], refused["reason"]) == (False, "already_joined")
    bad = {**payload, "join_id": "short"}
    assert _join_with(live_app, bad)["reason"] == "bad_request"


def _join_with(app, payload):
    return socketio.test_client(app, namespace="/play").emit(
        "join", payload, namespace="/play", callback=True
    )


def test_a_roster_join_retried_with_its_join_id_is_not_refused_as_a_second_device(live_settings):
    from quiz_server.models import RosterEntry

    app = create_app(live_settings)
    with app.app_context():
        branches = make_branches(db.session)
        db.session.add(RosterEntry(unit_id=branches[0].id, name="张三", member_no="0101"))
        contest = create_contest(
            db.session, title="名单", bank_version=make_bank(db.session), rule=3,
            branches=branches, roster_bound=True, seed=3,
        )  # fmt: skip
        db.session.commit()
        payload = {"pin": contest.pin, "name": "张三", "branch_id": branches[0].id}
    keyed = {**payload, "member_no": "0101", "join_id": JOIN_ID}
    first, again = _join_with(app, keyed), _join_with(app, keyed)
    assert first["ok"] and again["ok"] and again["token"] == first["token"]
    other_device = _join_with(app, {**keyed, "join_id": "another-phone-" + "y" * 10})
    assert other_device["reason"] == "already_joined"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
        db.engine.dispose()


def test_an_answer_without_a_seat_does_not_fail_the_rest_of_its_batch(live_app, t, host, clock):  # noqa: F811
    from quiz_server.live.answers import Offered, asked_question, commit_answers

    a1, _ = phone(live_app, t, "张三", 0)
    control(host, t, "start")
    clock.advance(1)
    with live_app.app_context():
        pid = db.session.execute(select(Participant.id)).scalar()
        asked = asked_question(t["contest_id"], 0)
        choice = asked.qtype.parse_choice(right(t, 0), asked.options) if asked else None
        assert asked is not None and choice is not None
        good = Offered(pid, t["contest_id"], 0, asked, choice, None, clock())
        ghost = Offered(99_999, t["contest_id"], 0, asked, choice, None, clock())
        acks = commit_answers([ghost, good])
    assert [a["ok"] for a in acks] == [False, True] and acks[0]["reason"] == "not_open"
    assert rows(live_app) == [(pid, ",".join(choice))]


def _cq_id(t):  # noqa: F811
    from quiz_server.models import ContestQuestion

    return db.session.scalar(
        select(ContestQuestion.id).where(
            ContestQuestion.contest_id == t["contest_id"], ContestQuestion.position == 0
        )
    )


def test_standings_follow_the_phase_this_process_knows(live_app, t, host, clock, monkeypatch):  # noqa: F811
    a1, _ = phone(live_app, t, "张三", 0)
    b1, _ = phone(live_app, t, "王五", 1)
    control(host, t, "start")
    clock.advance(2)
    assert answer(a1, 0, right(t, 0))["ok"]
    control(host, t, "next")  # reveal
    control(host, t, "next")  # leaderboard
    with live_app.app_context():
        engine = db.engine
    statements = []

    def note(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        first = a1.emit("standing", {}, namespace="/play", callback=True)
        built = len(statements)
        again = b1.emit("standing", {}, namespace="/play", callback=True)
        assert len(statements) == built  # served from the per-phase table: no query at all
        # Another process moved the contest on and its `phase` reached this process's rooms
        # through the message queue (noted as delivered): the next request builds again.
        with live_app.app_context():
            seq = db.session.scalar(select(Contest.seq).where(Contest.id == t["contest_id"]))
        manager = socketio.server.manager
        monkeypatch.setattr(manager, "delivered", {t["contest_id"]: seq + 1}, raising=False)
        later = b1.emit("standing", {}, namespace="/play", callback=True)
        assert len(statements) > built
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert first["ok"] and first["rank"] == 1
    assert again["ok"] and again["rank"] == 2 and later == again
