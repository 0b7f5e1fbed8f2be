"""Signing in and out, the failed-login lock, and CSRF on the sign-in form."""

import re
import pytest
import sqlalchemy as sa

from edu_guard.auth import services
from edu_guard.auth.models import AuditLog
from edu_guard.db import db

LOCKED = "该账户已被暂时锁定"
WRONG = "用户名或密码错误"


def post_login(client, username, password, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra})


def test_login_page_is_public_and_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "用户登录" in response.text
    assert 'name="password"' in response.text


def test_pages_need_sign_in(client):
    response = client.get("/children?q=岩")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_success_goes_to_next_page(client, make_user):
    user = make_user("clerk", password="secret-pw")
    response = post_login(client, user.username, "secret-pw", next="/children")
    assert response.status_code == 302
    assert response.headers["Location"] == "/children"
    assert client.get("/children").status_code == 200
    row = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "login")).scalar_one()
    assert row.user_id == user.id and row.after == {"username": user.username, "address": "127.0.0.1"}


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_refuses_open_redirect(client, make_user, target):
    user = make_user("clerk")
    response = post_login(client, user.username, "pw", next=target)
    assert response.headers["Location"] == "/"


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    user = make_user("clerk")
    wrong = post_login(client, user.username, "nope")
    unknown = post_login(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in wrong.text and WRONG in unknown.text
    assert client.get("/").status_code == 302  # still signed out
    failures = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "login_failed")).scalars().all()
    assert [f.after["username"] for f in failures] == [user.username, "nobody"]
    assert [f.entity_id for f in failures] == [user.id, None]


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("clerk")
    user.active = False
    db.session.commit()
    response = post_login(client, user.username, "pw")
    assert "已停用" in response.text
    assert client.get("/").status_code == 302


def test_logout(client, make_user, login):
    login(make_user("clerk"))
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert client.get("/logout").status_code == 405  # sign-out is a POST (CSRF-protected)


@pytest.fixture
def three_strikes(app):
    app.config.update(EDU_GUARD_LOGIN_MAX_FAILURES=3, EDU_GUARD_LOGIN_WINDOW=300)


def test_account_locks_after_max_failures(client, make_user, three_strikes):
    user = make_user("clerk")
    for _ in range(2):
        assert WRONG in post_login(client, user.username, "nope").text
    third = post_login(client, user.username, "nope")
    assert LOCKED in third.text and "5 分钟" in third.text
    # Locked: even the right password is refused, and the attempt is not counted.
    fourth = post_login(client, user.username, "pw")
    assert LOCKED in fourth.text
    assert client.get("/").status_code == 302
    assert db.session.execute(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "login_failed")
    ).scalar() == 3
    db.session.refresh(user)
    assert user.locked_until is not None


def test_unknown_username_locks_the_same_way(client, make_user, three_strikes):
    for _ in range(3):
        response = post_login(client, "ghost", "nope")
    assert LOCKED in response.text


def test_lock_ends_when_the_window_passes(client, make_user, three_strikes, monkeypatch):
    from edu_guard.auth import throttle

    user = make_user("clerk")
    for _ in range(3):
        post_login(client, user.username, "nope")
    start = throttle.clock()
    monkeypatch.setattr(throttle, "clock", lambda: start + 290)
    with pytest.raises(services.AccountLocked):
        services.authenticate(user.username, "pw", "127.0.0.1")
    db.session.commit()  # as the sign-in view does after a refusal
    monkeypatch.setattr(throttle, "clock", lambda: start + 301)
    assert services.authenticate(user.username, "pw", "127.0.0.1") is user


def test_old_failures_and_a_success_reset_the_count(client, make_user, three_strikes, monkeypatch):
    from edu_guard.auth import throttle

    user = make_user("clerk")
    start = throttle.clock()
    monkeypatch.setattr(throttle, "clock", lambda: start - 600)
    for _ in range(2):
        with pytest.raises(services.LoginFailed):
            services.authenticate(user.username, "nope", "127.0.0.1")
        db.session.commit()
    monkeypatch.setattr(throttle, "clock", lambda: start)
    post_login(client, user.username, "nope")
    assert throttle.remaining("127.0.0.1", user.username) == 2  # the two old ones left the window
    post_login(client, user.username, "nope")
    assert post_login(client, user.username, "pw").status_code == 302  # a success clears the count
    client.post("/logout")
    post_login(client, user.username, "nope")
    assert WRONG in post_login(client, user.username, "nope").text


def test_csrf_is_enforced_on_forms(app, client, make_user):
    """The ``app`` fixture turns CSRF off for convenience; with it on (the default),
    a POST without the token is refused and one with it from the page is accepted."""
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("clerk")
    refused = post_login(client, user.username, "pw")
    assert refused.status_code == 400
    assert "页面已过期" in refused.text
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    accepted = post_login(client, user.username, "pw", csrf_token=token)
    assert accepted.status_code == 302
    assert client.post("/logout").status_code == 400  # sign-out needs the token too
