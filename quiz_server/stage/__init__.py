"""The on-stage branch contest (现场知识竞赛): teams at desks, a referee, a big screen.

`engine` is the pure fold over the event log (rounds, turns, buzzers, rulings, scores);
`clock` estimates each device's clock and orders buzzes by the tap, not by arrival;
`store` keeps the log in the database and replays it; `setup` builds a contest from a
programme; `team` and `referee` are the two namespaces (`/stage`, `/referee`), each a
`live.door.LiveNamespace`; `broadcast` sends boards and runs timers; `payloads` builds what
each audience sees; `audience` links the hall's live round; `commands` is the CLI.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Give `app` its stage state, pages and namespaces. Call before `socketio.init_app(app)`."""
    from . import referee, state, team, views  # noqa: F401  (registering the namespaces)

    state.init_app(app)
    app.register_blueprint(views.bp)
