"""Organizer uploads: the request size limit, and parsing in a worker process with a time and
memory budget, so no upload can stall the phones served by the same process."""

from __future__ import annotations

import io
import json
import re
import statistics
import threading
import time
import zipfile

import openpyxl
import pytest
import requests
from conftest import ROOT, login, make_user
from servers import free_port, start_gunicorn, stop
from test_admin import token

from quiz_server import create_app, uploads
from quiz_server.auth import create_user
from quiz_server.config import Settings
from quiz_server.extensions import db
from quiz_server.orgs import file as orgfile

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


# ---------------------------------------------------------------- parsing in a worker process


def sheet_xlsx(write_rows) -> bytes:
    """A workbook whose first sheet's XML `write_rows` streams: big inside, small on the wire."""
    book = openpyxl.Workbook()
    book.active.append(["备注"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item.filename))
        with dst.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            sheet.write(b"<sheetData>")
            write_rows(sheet)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def many_rows(count: int) -> bytes:
    """`count` rows of five cells: 20,000 rows are 20 KB that take seconds to read."""
    cells = "".join(f'<c t="inlineStr"><is><t>x{c}</t></is></c>' for c in range(5)).encode()
    return sheet_xlsx(
        lambda sheet: [sheet.write(b"<row>" + cells + b"</row>") for _ in range(count)]
    )


def one_huge_cell(megabytes: int) -> bytes:
    def write(sheet):
        sheet.write(b'<row><c t="inlineStr"><is><t>')
        for _ in range(megabytes):
            sheet.write(b"x" * (1024 * 1024))
        sheet.write(b"</t></is></c></row>")

    return sheet_xlsx(write)


def post_org(client, name, data):
    return client.post(
        "/admin/orgs/",
        data={"csrf_token": token(client, "/admin/orgs/"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def post_bank(client, name, data):
    return client.post(
        "/admin/banks/upload",
        data={"csrf_token": token(client, "/admin/banks"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_upload_over_the_time_budget_is_refused_with_a_clear_message(app, client, monkeypatch):
    organizer(app, client)
    monkeypatch.setattr(uploads, "PARSE_SECONDS", 4)
    started = time.perf_counter()
    page = post_org(client, "org.xlsx", many_rows(100_000)).get_data(as_text=True)
    assert time.perf_counter() - started < 10
    assert "文件太大或太复杂：解析超出了 4 秒 / 1024 MB 的限制，请拆分后分别上传" in page


def test_an_upload_over_the_memory_budget_is_refused_with_a_clear_message(app, client, monkeypatch):
    organizer(app, client)
    monkeypatch.setattr(uploads, "PARSE_MEMORY_MB", 256)
    bomb = one_huge_cell(300)  # 0.3 MB on the wire, 300 MB inside
    assert len(bomb) < 1024 * 1024
    reply = post_bank(client, "bank.xlsx", bomb)
    assert reply.status_code == 422
    assert "解析超出了 20 秒 / 256 MB 的限制" in reply.get_data(as_text=True)


def test_an_alias_bomb_upload_is_refused_quickly_within_a_small_budget(app, client, monkeypatch):
    organizer(app, client)
    monkeypatch.setattr(uploads, "PARSE_MEMORY_MB", 256)
    layers = ["  - &a0 [x, x, x, x, x, x, x, x, x]"]
    layers += [f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    text = "bank:\n  id: bomb\n  title: 炸弹\n  categories: *a8\nquestions:\n" + "\n".join(layers)
    text = text.replace("categories: *a8\nquestions:\n", "categories: []\nquestions:\n")
    text += "\n  - *a8\n"
    started = time.perf_counter()
    reply = post_bank(client, "bomb.yaml", text.encode())
    assert time.perf_counter() - started < 10
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422 and "列表或映射不能用别名" in page and "限制" not in page


def test_uploads_in_the_worker_give_the_same_results_as_the_command_line(app, client):
    organizer(app, client)
    bank = (ROOT / "tests" / "data" / "banks" / "good.yaml").read_bytes()
    assert post_bank(client, "good.yaml", bank).status_code == 302
    sample = (ROOT / "samples" / "orgs-template.xlsx").read_bytes()
    assert post_org(client, "orgs.xlsx", sample).status_code == 302
    assert "导入成功" in client.get("/admin/orgs/").get_data(as_text=True)
    with app.app_context():
        found, errors = uploads.parse_org("orgs.xlsx", sample, orgfile.known_units(db.session))
    assert found is not None and errors == [] and len(found.units) == 8  # re-import: all known


# ---------------------------------------------------------------- under gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    url = f"sqlite:///{folder / 'quiz.sqlite3'}"
    settings = Settings.from_env(database_url=url, data_dir=folder, run_timers=False)
    app = create_app(settings)
    with app.app_context():
        create_user("org", "password123", "organizer")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    secret = "uploads-test-key-of-at-least-32-characters"
    proc = start_gunicorn(port, {"QUIZ_DATABASE_URL": url, "QUIZ_SECRET_KEY": secret,
                                 "QUIZ_DATA_DIR": str(folder)})  # fmt: skip
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def console_session(base: str) -> requests.Session:
    """Logged in through the real form; the session keeps every cookie the server sets."""
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf, "username": "org", "password": "password123"}
    assert http.post(f"{base}/login", data=form, timeout=30).status_code == 200
    return http


def test_a_slow_upload_does_not_stall_other_requests_under_gunicorn(server):
    http = console_session(server)
    page = http.get(f"{server}/admin/orgs/", timeout=30).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    heavy = many_rows(20_000)  # read in-process, this held the only worker for seconds
    result: list[requests.Response] = []

    def upload() -> None:
        files = {"file": ("org.xlsx", heavy)}
        result.append(
            http.post(f"{server}/admin/orgs/", data={"csrf_token": csrf}, files=files, timeout=60)
        )

    worker = threading.Thread(target=upload)
    worker.start()
    waits = []
    while worker.is_alive():
        started = time.perf_counter()
        requests.get(f"{server}/", timeout=30)
        waits.append(time.perf_counter() - started)
        time.sleep(0.05)
    worker.join()
    assert result[0].status_code == 200 and "没有找到表头" in result[0].text
    assert len(waits) > 10, "the upload finished too fast to tell"
    assert statistics.median(waits) < 0.3 and max(waits) < 2, waits


def test_the_chinese_named_template_downloads_under_gunicorn(server):
    http = console_session(server)
    reply = http.get(f"{server}/admin/banks/template.xlsx", timeout=30)
    assert reply.status_code == 200
    assert (
        "filename*=UTF-8''%E9%A2%98%E5%BA%93%E6%A8%A1%E6%9D%BF.xlsx"
        in reply.headers["Content-Disposition"]
    )
    assert openpyxl.load_workbook(io.BytesIO(reply.content)).sheetnames[0] == "题目"
