"""What every console page shares: the `admin` blueprint, the phase names, and downloads."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, send_file
from werkzeug.wrappers import Response

bp = Blueprint("admin", __name__, url_prefix="/admin")

PHASES = {
    "lobby": "等待开始",
    "question": "答题中",
    "reveal": "揭晓答案",
    "leaderboard": "排行榜",
    "finished": "已结束",
}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, name: str, mimetype: str) -> Response:
    """Every console download: an ASCII fallback name plus RFC 5987 `filename*` for a Chinese
    name (a raw non-ASCII header is not latin-1, and gunicorn answers it with a 500)."""
    response = send_file(BytesIO(data), mimetype, as_attachment=True, download_name=name)
    response.cache_control.no_store = True
    return response


@bp.app_context_processor
def _console_names() -> dict[str, object]:
    return {"phase_names": PHASES}
