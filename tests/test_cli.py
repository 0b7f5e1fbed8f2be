"""``edu-guard init``: the instance set-up every other command needs."""

import re

from click.testing import CliRunner

from edu_guard.cli import main


def test_commands_refuse_before_init_then_init_sets_up(tmp_path, monkeypatch):
    instance = tmp_path / "inst"
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(instance))
    runner = CliRunner()

    before = runner.invoke(main, ["cases", "list"])
    assert before.exit_code != 0 and "edu-guard init" in before.output

    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    secret = re.search(r"SECRET_KEY = '([0-9a-f]{64})'", (instance / "config.py").read_text(encoding="utf-8"))
    assert secret, "a generated 64-hex-digit secret key"
    login = re.search(r"admin login: (\S+)\s+密码 password: (\S+)", first.output)
    assert login and login.group(1) == "admin"
    assert (instance / "edu_guard.sqlite3").exists()
    # The letters print in the system fonts: init builds no font files (it used to spend
    # minutes cutting subsets into instance/fonts) and says which faces it found.
    assert not (instance / "fonts").exists()
    assert "文书字体：正文" in first.output

    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0
    assert re.search(r"密码 password: (\S+)", again.output).group(1) == login.group(2)
    assert (instance / "config.py").read_text(encoding="utf-8").count("SECRET_KEY") == 1

    listed = runner.invoke(main, ["cases", "list", "--json"])
    assert listed.exit_code == 0 and listed.output.strip() == "[]"

    from edu_guard.app import create_app
    from edu_guard.auth.models import User
    from edu_guard.db import db

    app = create_app()
    with app.app_context():
        admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
        assert admin.role == "admin" and admin.check_password(login.group(2))
        db.engine.dispose()
