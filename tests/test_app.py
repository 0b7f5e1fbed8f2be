"""The app factory and configuration."""

import pytest

from edu_guard import create_app
from edu_guard.app import NotInitialised
from edu_guard.db import db


def test_tables_created(app_ctx):
    names = set(db.metadata.tables)
    assert {"child", "dropout_case", "letter", "audit_log", "import_run"} <= names
    assert db.session.execute(db.text("select count(*) from child")).scalar() == 0


def test_uninitialised_instance_refuses(tmp_path, monkeypatch):
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(tmp_path / "empty"))
    with pytest.raises(NotInitialised, match="edu-guard init"):
        create_app()


def test_env_overrides_instance_config(tmp_path, monkeypatch):
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text("SECRET_KEY = 'k'\nEDU_GUARD_COUNTY_NAME = '甲县'\n", encoding="utf-8")
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(inst))
    assert create_app().config["EDU_GUARD_COUNTY_NAME"] == "甲县"
    monkeypatch.setenv("EDU_GUARD_COUNTY_NAME", "乙县")
    app = create_app()
    assert app.config["EDU_GUARD_COUNTY_NAME"] == "乙县"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{inst / 'edu_guard.sqlite3'}"
