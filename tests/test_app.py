"""The app factory and configuration."""

import re
from pathlib import Path

import pytest

from edu_guard.app import create_app
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
    (inst / "config.py").write_text("SECRET_KEY = 'an-instance-key-long-enough-for-the-check-0123'\nEDU_GUARD_COUNTY_NAME = '甲县'\n", encoding="utf-8")
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(inst))
    assert create_app().config["EDU_GUARD_COUNTY_NAME"] == "甲县"
    monkeypatch.setenv("EDU_GUARD_COUNTY_NAME", "乙县")
    app = create_app()
    assert app.config["EDU_GUARD_COUNTY_NAME"] == "乙县"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{inst / 'edu_guard.sqlite3'}"


def test_env_values_are_read_as_their_settings_types(tmp_path, monkeypatch):
    from edu_guard.config import ConfigError, env_overrides

    env = {
        "EDU_GUARD_PLUGIN_SETTINGS": '{"yulu": {"per_term": "1750"}}',
        "EDU_GUARD_PLUGINS": "yulu, nutrition",
        "EDU_GUARD_ORDER_TO_CORRECT_DAYS": "12",
        "EDU_GUARD_HOMEBOUND_BREAKS": '[["2021-01-25", "2021-02-28"]]',
        "EDU_GUARD_COUNTY_NAME": "乙县",
        "PATH": "/bin",
    }
    assert env_overrides(env) == {
        "EDU_GUARD_PLUGIN_SETTINGS": {"yulu": {"per_term": "1750"}},
        "EDU_GUARD_PLUGINS": ["yulu", "nutrition"],
        "EDU_GUARD_ORDER_TO_CORRECT_DAYS": 12,
        "EDU_GUARD_HOMEBOUND_BREAKS": [["2021-01-25", "2021-02-28"]],
        "EDU_GUARD_COUNTY_NAME": "乙县",
    }
    with pytest.raises(ConfigError, match="EDU_GUARD_PLUGIN_SETTINGS"):
        env_overrides({"EDU_GUARD_PLUGIN_SETTINGS": "per_term=0"})
    with pytest.raises(ConfigError, match="EDU_GUARD_ORDER_TO_CORRECT_DAYS"):
        env_overrides({"EDU_GUARD_ORDER_TO_CORRECT_DAYS": "ten"})

    # Through the environment, a plugin's settings are validated like the config file's.
    from edu_guard.plugins import PluginLoadError

    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text("SECRET_KEY = 'an-instance-key-long-enough-for-the-check-0123'\n", encoding="utf-8")
    monkeypatch.setenv("EDU_GUARD_INSTANCE_PATH", str(inst))
    monkeypatch.setenv("EDU_GUARD_PLUGIN_SETTINGS", '{"yulu": {"per_term": "0"}}')
    with pytest.raises(PluginLoadError, match="'yulu'.*per_term"):
        create_app()


def test_page_titles_are_plain_text():
    """A page's ``{% block title %}`` fills the browser's <title> and the page heading:
    no markup may stand in it (a link merged into the aid page's title once showed as
    ``学生资助<p><a href=…`` in the browser tab)."""
    root = Path(__file__).resolve().parents[1]
    templates = list((root / "templates").rglob("*.html")) + list((root / "plugins").rglob("templates/**/*.html"))
    assert len(templates) > 30
    bad = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for title in re.findall(r"{%-?\s*block title\s*-?%}(.*?){%-?\s*endblock", text, re.S):
            if re.search(r"<[a-zA-Z/]", title):
                bad.append(f"{path.relative_to(root)}: {title.strip()[:60]}")
    assert bad == []
