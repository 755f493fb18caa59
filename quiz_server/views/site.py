"""Site-wide hooks: the security headers on every page, the error pages, asset URLs that change
with the file, Beijing time for organizers, and the public links every template may print."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import assets, links
from ..messages import REFUSALS

bp = Blueprint("site", __name__)
BEIJING = timezone(timedelta(hours=8), "北京时间")  # organizers think in local time; no DST


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    # `asset`: a static URL that changes when the file does (WeChat's browser caches hard).
    return {"asset": assets.url, "links": links}


@bp.app_template_filter("beijing")
def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


@bp.after_app_request
def _security_headers(response: Response) -> Response:
    """Pages carry no inline script or style, so a strict policy costs nothing and blunts XSS."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", _csp())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _csp() -> str:
    # Older WebViews (WeChat's X5) don't count ws:// as 'self', so name the host's sockets.
    host = request.host
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' ws://{host} wss://{host}; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
def _error_page(error: HTTPException) -> tuple[Response | str, int]:
    code = error.code or 500
    if request.path.startswith("/api/"):
        return jsonify(error=error.description), code
    return render_template(f"errors/{code}.html"), code


@bp.app_errorhandler(413)
def _too_large(_error: HTTPException) -> tuple[Response | str, int]:
    """A body over MAX_CONTENT_LENGTH is refused before it is read into memory."""
    limit = current_app.config["QUIZ"].max_upload_mb
    message = REFUSALS["too_large"].format(limit=limit)
    if request.path.startswith("/api/"):
        return jsonify(ok=False, reason="too_large", message=message, error=message), 413
    return render_template("errors/413.html", message=message), 413
