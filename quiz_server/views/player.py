"""The member's pages: landing, the phone page, the QR target; and the site's error pages."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..messages import REFUSALS, strings_for

bp = Blueprint("player", __name__)

PIN_MAX = 12


def clean_pin(raw: str | None) -> str:
    """Digits only, at most PIN_MAX of them: members type PINs with stray spaces."""
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    return digits[:PIN_MAX]


def join_url(pin: str) -> str:
    """The public join URL a QR code encodes: QUIZ_PUBLIC_URL if set (behind a proxy), else
    the host the organizer reached us on."""
    base = current_app.config["QUIZ"].public_url or request.host_url
    return base.rstrip("/") + url_for("player.join", pin=pin)


@bp.app_context_processor
def _asset_helper() -> dict[str, object]:
    return {"asset": asset}


def asset(filename: str) -> str:
    """A static URL that changes when the file does: WeChat's browser caches hard."""
    path = Path(current_app.static_folder or "") / filename
    try:
        version = int(path.stat().st_mtime)
    except OSError:
        version = 0
    return url_for("static", filename=filename, v=version)


@bp.route("/")
def index() -> str:
    return render_template("index.html")


@bp.route("/play")
def play() -> str:
    return _play_page(clean_pin(request.args.get("pin")))


@bp.route("/j/<pin>")
def join(pin: str) -> str:
    return _play_page(clean_pin(pin))


def _play_page(pin: str) -> str:
    return render_template("play.html", pin=pin, strings=strings_for("play"))


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
