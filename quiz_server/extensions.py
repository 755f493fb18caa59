"""Flask extensions, created unbound here and bound in `create_app` with `init_app`."""

from __future__ import annotations

from typing import Any

import orjson
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session


class Base(DeclarativeBase):
    pass


class Utf8Json:
    """The JSON module handed to Socket.IO: orjson keeps Chinese as UTF-8 instead of \\uXXXX."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        return orjson.loads(data)


# Sessions live for one request or socket event, so nothing gains from reloading every object
# after a commit; the answer path acks straight from what it wrote.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
socketio = SocketIO(json=Utf8Json)
login_manager = LoginManager()
csrf = CSRFProtect()

# What a function that takes a session accepts: a plain one, or Flask-SQLAlchemy's `db.session`.
DbSession = Session | scoped_session[Any]
