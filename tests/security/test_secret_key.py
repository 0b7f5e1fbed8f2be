"""No secret can be guessed (issue 14, item 2): outside tests the app does not start
without a secret key of its own, and a session cookie signed with the key the old
code fell back to ("uninitialised") opens nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from edu_guard.app import NotInitialised, create_app
from edu_guard.cli import _make_app, main

OLD_FALLBACK = "uninitialised"


def forged_cookie(key: str, session: dict) -> str:
    """A Flask session cookie for ``session`` signed with ``key``."""
    signer = Flask("forger")
    signer.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(session)


@pytest.fixture
def bare_instance(tmp_path, monkeypatch):
    """An instance folder with a database holding an admin but no config.py."""
    from edu_guard.auth.models import User
    from edu_guard.db import db

    inst = tmp_path / "inst"
    inst.mkdir()
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(inst))
    monkeypatch.delenv("EDU_GUARD_SECRET_KEY", raising=False)
    setup = create_app({"SECRET_KEY": "set-up-only", "INSTANCE_PATH": str(inst)})
    with setup.app_context():
        db.create_all()
        admin = User(username="admin", display_name="管理员", role="admin")
        admin.set_password("An0ther-l0ng-pass")
        db.session.add(admin)
        db.session.commit()
        admin_id = admin.get_id()
        db.engine.dispose()
    return inst, admin_id


def test_commands_and_the_server_refuse_without_a_key(bare_instance):
    with pytest.raises(NotInitialised, match="edu-guard init.*EDU_GUARD_SECRET_KEY"):
        create_app()
    from flask.cli import NoAppException

    with pytest.raises(NoAppException, match="edu-guard init"):
        _make_app()
    result = CliRunner().invoke(main, ["routes"])  # loads the app as `run` does
    assert result.exit_code != 0 and "edu-guard init" in result.output


def test_a_short_key_in_the_instance_config_is_refused(bare_instance):
    inst, _ = bare_instance
    (inst / "config.py").write_text("SECRET_KEY = 'dev'\n", encoding="utf-8")
    with pytest.raises(NotInitialised, match="太短"):
        create_app()


def test_cookie_forged_with_the_old_fallback_key_opens_nothing(bare_instance, monkeypatch):
    inst, admin_id = bare_instance
    monkeypatch.setenv("EDU_GUARD_SECRET_KEY", "e" * 64)
    app = _make_app()
    assert app.secret_key == "e" * 64
    client = app.test_client()
    client.set_cookie("session", forged_cookie(OLD_FALLBACK, {"_user_id": admin_id, "_fresh": True}))
    resp = client.get("/users")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # the same cookie signed with the instance's key is a session (the test is not vacuous)
    client.set_cookie("session", forged_cookie("e" * 64, {"_user_id": admin_id, "_fresh": True}))
    assert client.get("/users").status_code == 200
    with app.app_context():
        from edu_guard.db import db

        db.engine.dispose()


def test_init_writes_a_private_generated_key(tmp_path, monkeypatch):
    inst = tmp_path / "inst"
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(inst))
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert (inst / "config.py").stat().st_mode & 0o777 == 0o600
    assert (inst / "edu_guard.sqlite3").stat().st_mode & 0o777 == 0o600
    app = create_app()
    assert len(app.secret_key) == 64 and app.secret_key != OLD_FALLBACK
    with app.app_context():
        from edu_guard.db import db

        db.engine.dispose()
