"""The bare reference server: Flask-SocketIO with trivial handlers, on quiz-server's worker.

    gunicorn -k gevent -w 1 benchmarks.bare_server:app     (started by benchmarks/live_load.py)

It speaks the subset of docs/live-protocol.md the load benchmark uses, with nothing behind it:
`/play` `join` acks a token and a small snapshot, `answer` and `standing` ack at once; `/host`
`watch` joins the host room and `control` steps a phase machine (question → reveal →
leaderboard → … → finished) and broadcasts each phase to the room, like quiz-server's
one-emit-per-audience. `GET /api/contests/<pin>` lists ten branches. No database, no checks:
what it costs per join and per answer is what the transport itself costs, the reference the
benchmark divides quiz-server's figures by.

Environment: BARE_QUESTIONS (questions before `finished`, default 3), QUIZ_MESSAGE_QUEUE and
QUIZ_MESSAGE_CHANNEL (several processes share rooms through Redis), QUIZ_PING_INTERVAL and
QUIZ_PING_TIMEOUT (unset: the library's defaults).
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import orjson  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

QUESTIONS = int(os.environ.get("BARE_QUESTIONS", "3"))
BRANCHES = [{"id": i, "name": f"压测第{i}党支部", "parent": "压测机关党委"} for i in range(1, 11)]
STEM = "在公共场合与他人交谈时，下列哪种做法最符合文明礼仪的要求？" * 2
OPTIONS = [{"id": k, "text": f"选项{k}：保持适当距离，音量适中，不打断对方说话"} for k in "ABCD"]


class Json:
    """orjson, as quiz-server hands Socket.IO (Chinese stays UTF-8)."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(data: Any, **_: Any) -> Any:
        return orjson.loads(data)


def _options() -> dict[str, Any]:
    options: dict[str, Any] = {"json": Json, "cors_allowed_origins": "*"}
    queue = os.environ.get("QUIZ_MESSAGE_QUEUE")
    if queue:
        options.update(
            message_queue=queue, channel=os.environ.get("QUIZ_MESSAGE_CHANNEL", "bare-bench")
        )
    for name in ("ping_interval", "ping_timeout"):
        value = os.environ.get(f"QUIZ_{name.upper()}")
        if value:
            options[name] = float(value)
    return options


app = Flask(__name__)
app.config["SECRET_KEY"] = secrets.token_hex(16)
socketio = SocketIO(app, **_options())
state: dict[str, Any] = {"seq": 0, "phase": "lobby", "position": 0, "opens_at": None}


def now_ms() -> int:
    return int(time.time() * 1000)


def payload() -> dict[str, Any]:
    """The current phase, shaped and sized like quiz-server's phase payload."""
    phase, position = state["phase"], state["position"]
    question = None
    if phase != "lobby":
        question = {
            "position": position, "type": "single", "type_label": "单选题", "stem": STEM,
            "options": OPTIONS, "opens_at": state["opens_at"],
            "closes_at": state["opens_at"] + 60_000, "time_limit": 60,
        }  # fmt: skip
    reveal = None
    if phase in ("reveal", "leaderboard", "finished"):
        reveal = {
            "position": position, "correct": ["B"], "explanation": STEM, "source": "礼仪读本",
            "distribution": {"A": 1, "B": 2}, "answered": 3, "participants": 3,
        }  # fmt: skip
    board = None
    if phase in ("leaderboard", "finished"):
        board = {
            "members": [{"rank": i, "name": f"成员{i}", "branch": "压测第1党支部", "score": 10,
                         "correct": 1} for i in range(1, 11)],
            "branches": [{"rank": b["id"], "id": b["id"], "name": b["name"], "score": 10}
                         for b in BRANCHES],
        }  # fmt: skip
    return {
        "seq": state["seq"], "phase": phase, "paused": False, "position": position,
        "total": QUESTIONS, "contest": {"title": "压测竞赛", "pin": "000000"},
        "phase_ends_at": None, "question": question, "reveal": reveal, "leaderboard": board,
        "server_now": now_ms(),
    }  # fmt: skip


@app.get("/")
def index() -> str:
    return "bare"


@app.get("/api/contests/<pin>")
def contest(pin: str) -> Any:
    return jsonify({"pin": pin, "phase": state["phase"], "branches": BRANCHES})


@socketio.on("join", namespace="/play")
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    join_room("contest")
    join_room(
        f"p{secrets.randbelow(10**9)}"
    )  # each member has a room of its own, as in quiz-server
    return {"ok": True, "token": secrets.token_urlsafe(16), "snapshot": {**payload(), "me": data}}


@socketio.on("answer", namespace="/play")
def on_answer(data: dict[str, Any]) -> dict[str, Any]:
    position, choice = data.get("position"), data.get("choice")
    return {"ok": True, "position": position, "choice": choice, "elapsed_ms": 1000,
            "points_if_correct": 10}  # fmt: skip


@socketio.on("standing", namespace="/play")
def on_standing(_data: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "score": 10, "rank": 1, "of": 1, "correct": 1,
            "branch": {"name": "压测第1党支部", "rank": 1, "of": 10}}  # fmt: skip


@socketio.on("watch", namespace="/host")
def on_watch(_data: dict[str, Any]) -> dict[str, Any]:
    join_room("host")
    return {"ok": True, "snapshot": payload()}


@socketio.on("control", namespace="/host")
def on_control(data: dict[str, Any]) -> dict[str, Any]:
    phase, position = state["phase"], state["position"]
    action = data.get("action")
    if action == "start" and phase == "lobby":
        state.update(phase="question", position=0, opens_at=now_ms())
    elif action == "next" and phase == "question":
        state["phase"] = "reveal"
    elif action == "next" and phase == "reveal":
        state["phase"] = "leaderboard"
    elif action == "next" and phase == "leaderboard" and position + 1 < QUESTIONS:
        state.update(phase="question", position=position + 1, opens_at=now_ms())
    elif action in ("next", "end") and phase != "finished":
        state["phase"] = "finished"
    else:
        return {"ok": False, "reason": "wrong_phase", "message": request.namespace}
    state["seq"] += 1
    body = payload()
    socketio.emit("phase", body, to="contest", namespace="/play")
    socketio.emit("phase", body, to="host", namespace="/host")
    return {"ok": True}
