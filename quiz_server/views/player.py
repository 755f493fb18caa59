"""The member's pages: the landing page and the live contest's phone page (by form or by the
join URL a QR code carries)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..messages import strings_for
from .lookup import clean_pin

bp = Blueprint("player", __name__)


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
