"""The gunicorn entry point: `gunicorn -k gevent -w 1 quiz_server.wsgi:app`.

gevent must patch the standard library before anything else is imported.
"""

from gevent import monkey

monkey.patch_all()

from quiz_server import create_app, i18n  # noqa: E402
from quiz_server.live import watch_contests, watch_delivery  # noqa: E402
from quiz_server.stage.broadcast import watch_stages  # noqa: E402

app = create_app()
i18n.warm()
watch_contests(app)
watch_delivery(app)
watch_stages(app)
