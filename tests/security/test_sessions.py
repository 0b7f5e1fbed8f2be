"""Sessions end when they should, passwords set by others are changed first, weak
passwords are refused (issue 14, item 3), and sign-in throttling locks out attackers,
not users (item 4)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from edu_guard.auth import services
from edu_guard.auth.models import AuditLog, User
from edu_guard.db import db

STRONG = "Menghai-tea-forest-27"
STRONGER = "Lancang-river-boat-58"


def fresh_request():
    """Requests reuse the test's pushed app context: forget Flask-Login's cached user
    so each request loads its own from its cookie."""
    from flask import g, has_app_context

    if has_app_context():
        g.pop("_login_user", None)


def sign_in(client, username, password, address="127.0.0.1"):
    fresh_request()
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def copy_session(app, source):
    """A second browser holding a copy of ``source``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", source.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    fresh_request()
    return client.get("/children").status_code == 200


@pytest.fixture
def clerk(make_user):
    return make_user("clerk", username="yanwen", password=STRONG)


def test_copied_cookie_dies_with_sign_out(app, client, clerk):
    assert sign_in(client, "yanwen", STRONG).status_code == 302
    thief = copy_session(app, client)
    assert signed_in(thief)
    client.post("/logout")
    assert not signed_in(thief) and not signed_in(client)


def test_copied_cookie_dies_with_a_password_change_but_the_changer_stays(app, client, clerk):
    sign_in(client, "yanwen", STRONG)
    thief = copy_session(app, client)
    resp = client.post("/password", data={"current_password": STRONG, "new_password": STRONGER, "confirm": STRONGER})
    assert resp.status_code == 302
    assert signed_in(client)
    assert not signed_in(thief)


def test_copied_cookie_dies_with_an_admin_reset(app, client, clerk, make_user):
    sign_in(client, "yanwen", STRONG)
    assert signed_in(client)
    admin = app.test_client()
    make_user("admin", username="boss", password=STRONG)
    sign_in(admin, "boss", STRONG)
    resp = admin.post(f"/users/{clerk.id}", data={"username": "yanwen", "display_name": "岩温", "role": "clerk",
                                                   "township_id": "", "school_id": "", "password": STRONGER})
    assert resp.status_code == 302
    assert not signed_in(client)
    # the reset password was chosen by the administrator: it must be changed first
    sign_in(client, "yanwen", STRONGER)
    assert client.get("/children").headers["Location"].endswith("/password")


def test_cookie_without_a_token_is_refused(app, clerk):
    """A session id of the old form (the bare user id) no longer signs anyone in."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(clerk.id)
    assert not signed_in(client)


def test_initial_admin_password_must_be_changed_first(tmp_path, monkeypatch):
    """`edu-guard init` prints the admin login; signing in with it leads to the
    password page, every other page too, until it is changed."""
    import re

    from click.testing import CliRunner

    from edu_guard.app import create_app
    from edu_guard.cli import main

    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(tmp_path / "inst"))
    out = CliRunner().invoke(main, ["init"]).output
    name, password = re.search(r"admin login: (\S+)\s+密码 password: (\S+)", out).groups()
    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    resp = sign_in(client, name, password)
    assert resp.headers["Location"].endswith("/password")
    assert client.get("/users").headers["Location"].endswith("/password")
    assert "请先设置只有您自己知道的新密码" in client.get("/password").get_data(as_text=True)
    weak = client.post("/password", data={"current_password": password, "new_password": "1234567890", "confirm": "1234567890"})
    assert "太容易被猜到" in weak.get_data(as_text=True)
    client.post("/password", data={"current_password": password, "new_password": STRONG, "confirm": STRONG})
    assert client.get("/users").status_code == 200
    assert "admin login" not in CliRunner().invoke(main, ["show-admin"]).output  # the printed password is gone
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("password, reason", [
    ("1111111111", "太容易被猜到"),
    ("1234567890", "太容易被猜到"),
    ("qwertyuiop", "太容易被猜到"),
    ("abc12", "至少需要 10 个字符"),
    ("yanwen2021!", "不能包含用户名"),
])
def test_weak_passwords_are_refused(app_ctx, clerk, password, reason):
    with pytest.raises(services.UserInputError, match=reason):
        services.change_password(clerk, STRONG, password)
    services.change_password(clerk, STRONG, STRONGER)
    assert clerk.check_password(STRONGER)


# --- throttling -------------------------------------------------------------------


def failures_checked(username: str) -> int:
    db.session.expire_all()
    return db.session.execute(
        sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.action == "login_failed", AuditLog.after["username"].as_string() == username)
    ).scalar()


def test_parallel_wrong_passwords_are_checked_at_most_the_limit(app, clerk):
    """40 wrong passwords at once from one address: exactly the limit (5) are
    checked, the rest refused as locked without checking."""
    limit = app.config["EDU_GUARD_LOGIN_MAX_FAILURES"]
    statuses, start = [], threading.Barrier(40)

    def attempt():
        client = app.test_client()
        start.wait()
        statuses.append(sign_in(client, "yanwen", "wrong-password-x").get_data(as_text=True))

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 40
    assert failures_checked("yanwen") == limit
    locked = sum("该账户已被暂时锁定" in s for s in statuses)
    # Every attempt past the limit is refused as locked, and so is the failure that
    # reaches it; a checked failure answered while another thread reaches the limit may
    # also say "locked" (the window is read after the count), never the other way round.
    assert 40 - limit + 1 <= locked <= 40
    assert all(("该账户已被暂时锁定" in s) or ("用户名或密码错误" in s) for s in statuses)


def test_a_lock_from_one_address_leaves_other_addresses_open(app, clerk):
    attacker = app.test_client()
    for _ in range(app.config["EDU_GUARD_LOGIN_MAX_FAILURES"]):
        sign_in(attacker, "yanwen", "guess", address="203.0.113.9")
    assert "已被暂时锁定" in sign_in(attacker, "yanwen", STRONG, address="203.0.113.9").get_data(as_text=True)
    office = app.test_client()
    assert sign_in(office, "yanwen", STRONG, address="10.1.2.3").status_code == 302
    assert signed_in(office)


def test_admin_unlocks_an_account(app, clerk, make_user):
    user_client = app.test_client()
    for _ in range(app.config["EDU_GUARD_LOGIN_MAX_FAILURES"]):
        sign_in(user_client, "yanwen", "typo", address="10.1.2.3")
    assert "已被暂时锁定" in sign_in(user_client, "yanwen", STRONG, address="10.1.2.3").get_data(as_text=True)
    make_user("admin", username="boss", password=STRONG)
    admin = app.test_client()
    sign_in(admin, "boss", STRONG, address="10.9.9.9")
    assert "解除锁定" in admin.get("/users").get_data(as_text=True)
    assert admin.post(f"/users/{clerk.id}/unlock").status_code == 302
    assert sign_in(user_client, "yanwen", STRONG, address="10.1.2.3").status_code == 302
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.action == "unlock")).scalar_one().after["addresses"] == ["10.1.2.3"]


def test_one_address_cannot_flood_the_sign_in_form(app, clerk):
    app.config["EDU_GUARD_LOGIN_ADDRESS_LIMIT"] = "3 per minute"
    client = app.test_client()
    codes = [sign_in(client, f"user{i}", "x", address="198.51.100.7").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert sign_in(app.test_client(), "yanwen", STRONG, address="198.51.100.8").status_code == 302


def test_counters_live_in_the_database_by_default(app):
    from edu_guard.auth import throttle

    assert throttle.storage_uri(app.config) == "edu-guard-db://"
    assert throttle.storage_uri({"EDU_GUARD_QUEUE_URL": "redis://127.0.0.1:6379/5"}) == "redis://127.0.0.1:6379/5"
    assert throttle.storage_uri({"EDU_GUARD_RATELIMIT_STORAGE_URL": "memcached://x:11211"}) == "memcached://x:11211"
