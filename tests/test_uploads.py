"""Organizer uploads: the request size limit, and parsing in a worker process with a time and
memory budget, so no upload can stall the phones served by the same process."""

from __future__ import annotations

import io
import json

from conftest import login, make_user
from test_admin import token

from quiz_server.extensions import db

LIMIT = 5 * 1024 * 1024


def organizer(app, client):
    with app.app_context():
        user_id = make_user(db.session).id
        db.session.commit()
    login(client, user_id)
    return client


# ---------------------------------------------------------------- request size


def test_an_oversized_json_body_gets_413_json_in_chinese(client):
    body = json.dumps({"name": "x" * (LIMIT + 100 * 1024)})
    reply = client.post("/api/campaign/123456/join", data=body, content_type="application/json")
    assert reply.status_code == 413
    assert reply.get_json() == {
        "ok": False,
        "reason": "too_large",
        "message": "提交的内容太大（上限 5 MB），请拆分后分别上传",
        "error": "提交的内容太大（上限 5 MB），请拆分后分别上传",
    }


def test_an_oversized_upload_gets_413_page_and_a_legitimate_size_passes(app, client):
    organizer(app, client)
    csrf = token(client, "/admin/banks")

    def send(size: int):
        data = {"csrf_token": csrf, "file": (io.BytesIO(b"x" * size), "bank.xlsx")}
        return client.post("/admin/banks/upload", data=data, content_type="multipart/form-data")

    refused = send(LIMIT + 100 * 1024)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 413 and "提交的内容太大（上限 5 MB）" in page
    assert refused.mimetype == "text/html" and "返回管理后台" in page
    # Just under the limit the file is read and judged on its content.
    near = send(LIMIT - 1024)
    assert near.status_code == 422 and "不是有效的 xlsx 工作簿" in near.get_data(as_text=True)
