"""Signing in and web hygiene: passwords, rate limit, sessions, cookies, CSRF, headers, the first
administrator."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, login


def _token(client, url="/login"):
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_sign_in_and_out(csrf_app, world):
    client = csrf_app.test_client()
    resp = client.get("/submissions")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/submissions")
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and "密码" in page
    resp = client.post("/login", data={"csrf_token": _token(client), "username": "clerk_a", "password": PASSWORD,
                                       "next": "/submissions"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/submissions"
    html = client.get("/").get_data(as_text=True)
    assert "单位填报人员" in html and "青溪县第一中学" in html
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_in_chinese(app, world):
    resp = app.test_client().post("/login", data={"username": "clerk_a", "password": "not-the-password"})
    assert resp.status_code == 401 and "用户名或密码不正确。" in resp.get_data(as_text=True)
    resp = app.test_client().post("/login", data={"username": "nobody", "password": "not-the-password"})
    assert resp.status_code == 401 and "用户名或密码不正确。" in resp.get_data(as_text=True)


def test_open_redirect_after_sign_in_is_refused(app, world):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        resp = app.test_client().post("/login", data={"username": "clerk_a", "password": PASSWORD, "next": target})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", target


def test_rate_limit_is_kept_in_the_database(app, world):
    """Failures delay the next try from that address (issue 16: progressive delays, no lock), even
    with the right password and from a new app instance on the same database (another gunicorn
    worker)."""
    from service import create_app

    for _ in range(3):
        assert app.test_client().post("/login", data={"username": "clerk_a", "password": "nope-nope-nope"}).status_code == 401
    other = create_app({**{k: app.config[k] for k in ("DATABASE_URL", "DATA_DIR", "SECRET_KEY")}, "TESTING": True,
                        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_FAST": True})
    resp = other.test_client().post("/login", data={"username": "clerk_a", "password": PASSWORD})
    assert resp.status_code == 429 and "登录失败次数过多，请1秒后再试。" in resp.get_data(as_text=True)
    assert resp.headers["Retry-After"] == "1"
    other.extensions["jxdoc.db"].dispose()
    # another account is not slowed by these failures
    assert app.test_client().post("/login", data={"username": "clerk_b", "password": PASSWORD}).status_code == 302


def test_login_rows_are_audited(app, world):
    app.test_client().post("/login", data={"username": "clerk_a", "password": "nope-nope-nope"})
    app.test_client().post("/login", data={"username": "clerk_a", "password": PASSWORD})
    from storage.models import AuditEvent

    with app.extensions["jxdoc.db"].read() as session:
        actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions == ["login_failed", "login"]


def test_forms_without_csrf_token_are_refused(csrf_app, world):
    client = login(csrf_app, world, "clerk_a")
    admin = login(csrf_app, world, "admin")
    for c, url, data in ((client, "/forms/request", {"title": "x", "action": "save"}),
                         (client, "/logout", {}),
                         (client, "/account/tokens", {"name": "x"}),
                         (admin, "/admin/users", {"username": "newone", "role": "finance_bureau"}),
                         (admin, "/admin/settings/letterhead", {"letterhead.issuer": "x"}),
                         (app_client := csrf_app.test_client(), "/login", {"username": "clerk_a", "password": PASSWORD})):
        resp = c.post(url, data=data)
        assert resp.status_code == 400, url
        assert "CSRF" in resp.get_data(as_text=True), url
    del app_client


def test_cookie_json_posts_need_the_csrf_header(csrf_app, world):
    """A foreign page could make the browser POST JSON with our cookie; it cannot read the token."""
    client = login(csrf_app, world, "clerk_a")
    body = {"kind": "request", "data": {"title": "x"}}
    resp = client.post("/api/v1/submissions", json=body)
    assert resp.status_code == 400 and "CSRF" in resp.get_json()["message"]
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/api/v1/submissions", json=body, headers={"X-CSRFToken": token}).status_code == 201
    # reads need no token
    assert client.get("/api/v1/submissions").status_code == 200


def test_session_cookie_flags(app, world):
    client = app.test_client()
    resp = client.post("/login", data={"username": "clerk_a", "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    resp = app.test_client().post("/login", data={"username": "clerk_b", "password": PASSWORD},
                                  base_url="https://jxdoc.example")
    assert "; Secure" in resp.headers["Set-Cookie"]


def test_security_headers_on_pages_and_downloads(client):
    for url in ("/", "/login", "/samples/request.docx", "/api/v1/kinds"):
        resp = client.get(url)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", url
        assert resp.headers["X-Frame-Options"] == "SAMEORIGIN", url
        assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"], url
        assert resp.headers["Referrer-Policy"] == "same-origin", url
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_password_change_signs_out_other_sessions(app, world):
    first = login(app, world, "clerk_a")
    second = login(app, world, "clerk_a")
    new = "Another-pass-9876"
    resp = first.post("/account", data={"old_password": PASSWORD, "password": new, "password2": new})
    assert resp.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    assert app.test_client().post("/login", data={"username": "clerk_a", "password": new}).status_code == 302


@pytest.mark.parametrize(("password", "message"), [
    ("short1!", "密码至少需要10个字符。"),
    ("aaaaaaaaaaaa", "密码过于简单：请混合使用字母、数字或符号，不要用重复或连续的字符。"),
    ("1234567890", "密码过于简单：请混合使用字母、数字或符号，不要用重复或连续的字符。"),
    ("xclerk_a-2024!", "密码不能包含用户名。"),
])
def test_password_rules(app, world, password, message):
    client = login(app, world, "clerk_a")
    resp = client.post("/account", data={"old_password": PASSWORD, "password": password, "password2": password})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html


def test_admin_creates_account_and_invitation_sets_password(app, world):
    admin = login(app, world, "admin")
    resp = admin.post("/admin/users", data={"username": "zhang.san", "display_name": "张三", "role": "unit_clerk",
                                            "unit_id": str(world.unit_b)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 201
    url = re.search(r'<code class="invite-url">([^<]+)</code>', html).group(1)
    path = url.split("localhost", 1)[1]
    guest = app.test_client()
    # no password yet: signing in is impossible
    assert guest.post("/login", data={"username": "zhang.san", "password": "anything-at-all"}).status_code == 401
    page = guest.get(path).get_data(as_text=True)
    assert "zhang.san" in page and "青溪县人民医院" in page
    resp = guest.post(path, data={"password": "Guter-Anfang-2024", "password2": "Guter-Anfang-2024"})
    assert resp.status_code == 302 and guest.get("/").status_code == 200
    assert app.test_client().get(path).status_code == 404  # one use only
    resp = admin.post("/admin/users", data={"username": "zhang.san", "role": "unit_clerk", "unit_id": str(world.unit_b)})
    assert resp.status_code == 422 and "用户名“zhang.san”已被使用。" in resp.get_data(as_text=True)
    resp = admin.post("/admin/users", data={"username": "li.si", "role": "unit_clerk"})
    assert resp.status_code == 422 and "单位填报人员必须选择所属单位。" in resp.get_data(as_text=True)


def test_no_default_password_and_create_admin_command(tmp_path, runner, monkeypatch):
    from service.cli import main

    monkeypatch.setenv("JXDOC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("JXDOC_DATABASE_URL", raising=False)
    monkeypatch.delenv("JXDOC_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("JXDOC_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(main, ["create-admin", "--username", "chief", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "密码至少需要10个字符。" in result.output
    result = runner.invoke(main, ["create-admin", "--username", "chief", "--password-stdin"],
                           input="Finanz-Chef-2024\n")
    assert result.exit_code == 0, result.output
    from service import create_app

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    resp = app.test_client().post("/login", data={"username": "chief", "password": "Finanz-Chef-2024"})
    assert resp.status_code == 302
    app.extensions["jxdoc.db"].dispose()


def test_first_admin_from_the_environment(tmp_path, monkeypatch):
    from service import create_app
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("JXDOC_ADMIN_USERNAME", "root.admin")
    monkeypatch.setenv("JXDOC_ADMIN_PASSWORD", "Erster-Admin-2024")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(tmp_path), "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": "root.admin", "password": "Erster-Admin-2024"}).status_code == 302
    assert client.get("/admin/").status_code == 200
    app.extensions["jxdoc.db"].dispose()
    # a second start does not create another or change the password
    monkeypatch.setenv("JXDOC_ADMIN_PASSWORD", "Zweites-Passwort-2024")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(tmp_path), "WTF_CSRF_ENABLED": False})
    assert app.test_client().post("/login", data={"username": "root.admin", "password": "Zweites-Passwort-2024"}).status_code == 401
    app.extensions["jxdoc.db"].dispose()


def test_argon2id_with_library_defaults(app):
    from argon2 import PasswordHasher

    app.config["PASSWORD_HASH_FAST"] = False
    app.extensions.pop("jxdoc.hasher", None)
    with app.app_context():
        from service.passwords import hash_password

        hashed = hash_password("irrelevant-secret")
    default = PasswordHasher()
    assert hashed.startswith("$argon2id$")
    assert f"m={default.memory_cost},t={default.time_cost},p={default.parallelism}" in hashed


def test_a_token_is_touched_at_most_once_a_minute(app, world, monkeypatch):
    """Reading with a token writes its last use only when that is over a minute old: on SQLite a
    write per request would queue every worker behind the one write lock."""
    import datetime as dt

    from service import gate
    from storage.models import ApiToken

    html = login(app, world, "clerk_a").post("/account/tokens", data={"name": "脚本"}).get_data(as_text=True)
    token = re.search(r'<code class="token">([^<]+)</code>', html).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    touched = []
    original = gate.touch_token
    monkeypatch.setattr(gate, "touch_token", lambda token_id: (touched.append(token_id), original(token_id)))
    script = app.test_client()
    db = app.extensions["jxdoc.db"]

    def last_used():
        with db.read() as session:
            return session.query(ApiToken).one().last_used_at

    assert script.get("/api/v1/kinds", headers=headers).status_code == 200
    first = last_used()
    assert first is not None and len(touched) == 1
    for _ in range(3):
        assert script.get("/api/v1/kinds", headers=headers).status_code == 200
    assert len(touched) == 1 and last_used() == first
    with db.write() as session:
        session.query(ApiToken).one().last_used_at = first - dt.timedelta(minutes=2)
    assert script.get("/api/v1/kinds", headers=headers).status_code == 200
    assert len(touched) == 2 and last_used() > first - dt.timedelta(minutes=2)
