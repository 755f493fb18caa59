"""JSON for the phone page before it joins: what contest a PIN names and its branches."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..extensions import db
from ..messages import REFUSALS
from ..models import Contest, Unit
from .lookup import clean_pin

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/contests/<pin>")
def contest(pin: str) -> Response:
    pin = clean_pin(pin)
    found = pin and db.session.scalar(
        select(Contest)
        .where(Contest.pin == pin)
        .options(selectinload(Contest.units).selectinload(Unit.parent))
    )
    if not found:
        abort(404, description=REFUSALS["no_such_contest"])
    response = jsonify(
        pin=found.pin,
        title=found.title,
        mode=found.mode,
        phase=found.phase,
        roster_bound=found.roster_bound,
        branches=[_branch(unit) for unit in found.units],
    )
    response.cache_control.no_store = True
    return response


def _branch(unit: Unit) -> dict[str, object]:
    return {"id": unit.id, "name": unit.name, "parent": unit.parent.name if unit.parent else None}
