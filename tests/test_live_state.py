"""The live layer's state belongs to its app: two apps in one process (a test session, a command
beside a server) each keep their own caches, though contest ids repeat across their databases."""

from __future__ import annotations

from conftest import make_bank, make_branches
from sqlalchemy import select

from quiz_server import create_app, live
from quiz_server.config import Settings
from quiz_server.contests import create_contest
from quiz_server.extensions import db, socketio
from quiz_server.models import Answer

# The second app's bank has other answers, so a question cached by the first app would mark wrong.
OTHER_ANSWERS = {"single": "C", "multiple": ["B", "D"], "judge": False}
CHOICES = {
    "first": {"single": ["B"], "multiple": ["A", "C"], "judge": ["T"]},
    "second": {"single": ["C"], "multiple": ["B", "D"], "judge": ["F"]},
}


def build(tmp_path, clock, name):
    settings = Settings.from_env(
        database_url=f"sqlite:///{tmp_path / name}.sqlite3", secret_key="k" * 40,
        data_dir=tmp_path, async_mode="threading", message_queue=None, testing=True,
    )  # fmt: skip
    settings.clock, settings.run_timers = clock, False
    app = create_app(settings)
    with app.app_context():
        version = make_bank(db.session)
        if name == "second":
            for question in version.questions:
                question.answer = OTHER_ANSWERS[question.type]
        branches = make_branches(db.session)
        contest = create_contest(
            db.session, title=f"{name}竞赛", bank_version=version, rule=5, branches=branches,
            seed=7,
        )  # fmt: skip
        db.session.commit()
        first = contest.questions[0].question.type
        info = {"cid": contest.id, "pin": contest.pin, "branch": branches[0].id, "type": first}
    return app, info


def join_and_answer(app, info, name):
    phone = socketio.test_client(app, namespace="/play")
    joined = phone.emit(
        "join", {"pin": info["pin"], "name": "张三", "branch_id": info["branch"]},
        namespace="/play", callback=True,
    )  # fmt: skip
    with app.app_context():
        assert live.step(info["cid"], "start") is None
    choice = CHOICES[name][info["type"]]
    ack = phone.emit("answer", {"position": 0, "choice": choice}, namespace="/play", callback=True)
    return joined, ack


def test_two_apps_in_one_process_each_get_their_own_contest(tmp_path, clock):
    first, first_info = build(tmp_path, clock, "first")
    join_and_answer(first, first_info, "first")  # fills the first app's caches
    second, second_info = build(tmp_path, clock, "second")
    assert second_info["cid"] == first_info["cid"]  # the same id, in another database

    joined, ack = join_and_answer(second, second_info, "second")
    info_type = second_info["type"]

    assert joined["snapshot"]["contest"]["title"] == "second竞赛"
    assert ack["ok"], ack
    with second.app_context():
        stored = db.session.scalar(select(Answer))
        assert (stored.choice, stored.correct) == (",".join(CHOICES["second"][info_type]), True)
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()
