"""Organizer sessions: logout and a password change end every session of the account (copied
cookies included), each login gets new cookies and a new CSRF secret; login is throttled."""

from __future__ import annotations

import time

import pytest
from conftest import make_user
from test_admin import token

from quiz_server.extensions import db


@pytest.fixture
def accounts(app):
    with app.app_context():
        ids = {
            "org": make_user(db.session, "org").id,
            "sec": make_user(db.session, "sec", "secretary").id,
        }
        db.session.commit()
    return ids


def form_login(client, username="org", password="password123", remember=False, address=None):
    data = {"csrf_token": token(client, "/login"), "username": username, "password": password}
    if remember:
        data["remember"] = "y"
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post("/login", data=data, environ_base=environ)


def copy_cookie(app, client, name="session"):
    """A second browser holding a copy of one cookie, as a thief of it would."""
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def admitted(client, path="/admin/") -> bool:
    return client.get(path).status_code == 200


def test_logout_ends_a_copied_session_cookie(app, client, accounts):
    assert form_login(client).status_code == 302
    thief = copy_cookie(app, client)
    assert admitted(thief)
    client.post("/logout", data={"csrf_token": token(client)})
    assert not admitted(client)
    assert not admitted(thief) and thief.get("/admin/").location.startswith("/login")


def test_logout_on_one_device_ends_the_others_too(app, accounts):
    laptop, phone = app.test_client(), app.test_client()
    form_login(laptop), form_login(phone)
    assert admitted(laptop) and admitted(phone)
    laptop.post("/logout", data={"csrf_token": token(laptop)})
    assert not admitted(phone)


def test_a_password_change_ends_the_accounts_sessions(app, client, accounts):
    secretary = app.test_client()
    form_login(secretary, "sec")
    stolen = copy_cookie(app, secretary)
    assert admitted(stolen)
    form_login(client)
    path = f"/admin/users/{accounts['sec']}"
    changed = client.post(
        path,
        data={"csrf_token": token(client, path), "role": "secretary", "password": "a-new-password"},
    )
    assert changed.status_code == 302
    assert not admitted(stolen) and not admitted(secretary)
    assert form_login(app.test_client(), "sec", "a-new-password").status_code == 302


def test_changing_ones_own_password_keeps_this_session_only(app, client, accounts):
    form_login(client)
    stolen = copy_cookie(app, client)
    path = f"/admin/users/{accounts['org']}"
    client.post(
        path,
        data={"csrf_token": token(client, path), "role": "organizer", "password": "a-new-password"},
    )
    assert admitted(client) and not admitted(stolen)


def test_the_remember_cookie_differs_at_every_login_and_dies_at_logout(app, accounts):
    first, second = app.test_client(), app.test_client()
    form_login(first, remember=True), form_login(second, remember=True)
    cookies = [c.get_cookie("remember_token").value for c in (first, second)]
    assert cookies[0] != cookies[1]
    remembered = copy_cookie(app, first, "remember_token")  # no session cookie at all
    assert admitted(remembered)
    first.post("/logout", data={"csrf_token": token(first)})
    returning = app.test_client()
    returning.set_cookie("remember_token", cookies[1])
    assert not admitted(returning) and not admitted(copy_cookie(app, second, "remember_token"))


def test_login_renews_the_csrf_secret(app, client, accounts):
    token(client, "/login")
    with client.session_transaction() as session:
        before = session["csrf_token"]
    form_login(client)
    token(client)
    with client.session_transaction() as session:
        after = session["csrf_token"]
    assert before and after and before != after


def test_a_session_without_a_version_is_refused(app, client, accounts):
    with client.session_transaction() as session:
        session["_user_id"] = str(accounts["org"])  # the shape sessions had before versions
    assert not admitted(client)


# ---------------------------------------------------------------- throttling


@pytest.fixture
def quick_hash(monkeypatch):
    """The throttle is the point here, not scrypt's 0.2 s per try."""
    from quiz_server import auth

    monkeypatch.setattr(auth, "check_password_hash", lambda _stored, pw: pw == "password123")


def test_thirty_wrong_passwords_then_the_right_one_is_refused(app, client, accounts, quick_hash):
    for _ in range(30):
        form_login(client, password="wrong-password")
    refused = form_login(client)
    assert refused.status_code == 429
    assert "登录失败次数过多，为保护账号安全已暂停登录，请 15 分钟后再试。" in refused.get_data(
        as_text=True
    )
    assert not admitted(client)


def test_the_username_limit_holds_across_addresses_and_the_address_limit_across_names(
    app, accounts, quick_hash
):
    for n in range(10):
        form_login(app.test_client(), password="wrong", address=f"198.51.100.{n}")
    assert form_login(app.test_client(), address="198.51.100.99").status_code == 429
    sprayer = app.test_client()
    for n in range(30):
        form_login(sprayer, f"user{n}", "wrong", address="203.0.113.9")
    # The right password of another account, but from the paused address:
    assert form_login(sprayer, "sec", address="203.0.113.9").status_code == 429
    assert form_login(app.test_client(), "sec", address="203.0.113.10").status_code == 302


def test_a_success_clears_the_usernames_failures(app, client, accounts, quick_hash):
    for _ in range(9):
        form_login(client, password="wrong-password")
    assert form_login(client).status_code == 302
    other = app.test_client()
    for _ in range(9):
        form_login(other, password="wrong-password")
    assert form_login(other).status_code == 302


def test_an_unknown_name_costs_the_same_hash_as_a_wrong_password(
    app, client, accounts, monkeypatch
):
    from quiz_server import auth

    checked = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    timings = {}
    for name in ("org", "nobody"):
        started = time.perf_counter()
        form_login(app.test_client(), name, "wrong-password")
        timings[name] = time.perf_counter() - started
    assert checked[1] == auth.dummy_hash() and checked[0] != checked[1]
    assert checked[1].startswith(checked[0].split("$")[0])  # same method and cost
    assert 0.25 < timings["nobody"] / timings["org"] < 4


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(settings, quick_hash):
    from quiz_server import create_app

    settings.trusted_proxies = 1
    proxied = create_app(settings)
    with proxied.app_context():
        make_user(db.session, "org")
        db.session.commit()
    client = proxied.test_client()

    def attempt(forwarded, username="org", password="password123"):
        data = {"csrf_token": token(client, "/login"), "username": username, "password": password}
        return client.post("/login", data=data, headers={"X-Forwarded-For": forwarded})

    for n in range(30):
        attempt("203.0.113.7", f"user{n}", "wrong")
    assert attempt("203.0.113.7").status_code == 429
    assert attempt("203.0.113.8").status_code == 302  # the proxy's own address is not paused
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()
