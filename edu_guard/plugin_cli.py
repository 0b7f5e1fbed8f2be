"""``edu-guard plugins`` (what is loaded) and ``edu-guard plugin new`` (a plugin skeleton)."""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask.cli import with_appcontext

from edu_guard.cli_util import dump_json
from edu_guard.plugins import BUILTIN_PLUGINS, contributions, manager



def describe_plugins(app) -> list[dict]:
    """Return each registered plugin as plain data: name, version, hooks it implements,
    and what it contributes (schemes, letter kinds, import formats, commands).

    :return: ``[{"name", "version", "builtin", "hooks": [...], "schemes": [{"code",
        "name"}], "letter_kinds": [...], "import_formats": [...], "commands": [...]}]``
        in plugin order (the order the hooks are called in).
    """

    pm, contrib = manager(app), contributions(app)
    builtin = {name for name, _ in BUILTIN_PLUGINS}
    out = []
    names = contrib.order + [n for n, _ in pm.list_name_plugin() if n not in contrib.order]
    for name in names:
        plugin = pm.get_plugin(name)
        owned = [k for k, owner in contrib.owners.items() if owner == name]

        def of(kind: str) -> list[str]:
            return sorted(k.split(":", 1)[1] for k in owned if k.startswith(kind + ":"))

        out.append(
            {
                "name": name,
                "version": contrib.versions.get(name, ""),
                "builtin": name in builtin,
                "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or ()),
                "schemes": [{"code": c, "name": contrib.schemes[c].name} for c in of("scheme")],
                "letter_kinds": of("letter"),
                "import_formats": of("import"),
                "commands": of("command"),
                "blueprints": of("blueprint"),
            }
        )
    return out


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@with_appcontext
def plugins_command(as_json: bool) -> None:
    """列出已加载的插件：名称、版本、实现的钩子和提供的资助项目。"""
    from flask import current_app

    rows = describe_plugins(current_app)
    if as_json:
        dump_json(rows)
        return
    for row in rows:
        kind = "内置" if row["builtin"] else "插件"
        click.echo(f"{row['name']} {row['version']}（{kind}）")
        click.echo(f"  钩子：{', '.join(row['hooks']) or '无'}")
        if row["schemes"]:
            click.echo("  资助项目：" + "；".join(f"{s['code']} {s['name']}" for s in row["schemes"]))
        for label, key in (("文书", "letter_kinds"), ("导入格式", "import_formats"), ("命令", "commands")):
            if row[key]:
                click.echo(f"  {label}：{', '.join(row[key])}")


@click.group("plugin")
def plugin_group() -> None:
    """插件开发：生成插件骨架。"""


NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@plugin_group.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path("plugins"),
              show_default=True, help="在此目录下创建 NAME 子目录")
@click.option("--scheme-name", default=None, help="资助项目的中文名称（默认：NAME 本地资助项目）")
def plugin_new(name: str, parent: Path, scheme_name: str | None) -> None:
    """生成一个可用的插件发行包（含一个资助项目和通过的测试）到 plugins/NAME。

    NAME：小写字母开头，只含小写字母、数字和下划线。
    """
    if not NAME_RE.match(name):
        raise click.BadParameter("插件名须以小写字母开头，只含小写字母、数字和下划线（2–40 个字符）", param_hint="NAME")
    target = parent / name
    if target.exists():
        raise click.ClickException(f"{target} 已存在，未作任何改动")
    files = skeleton(name, scheme_name or f"{name}本地资助项目")
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    click.echo(f"已生成插件 {target}：")
    for rel in files:
        click.echo(f"  {target / rel}")
    click.echo("下一步：")
    click.echo(f"  pip install -e {target}        # 安装（注册 edu_guard 入口点）")
    click.echo(f"  pytest {target}                # 运行插件自带的测试")
    click.echo(f"  在 instance/config.py 的 EDU_GUARD_PLUGINS 中加入 \"{name}\" 以启用")


def skeleton(name: str, scheme_name: str) -> dict[str, str]:
    """Return the files of a new plugin distribution: ``{relative path: text}``.

    The plugin gives one scheme (a fixed amount a term for 家庭经济困难 pupils of 小学 and
    初中, amount a validated setting) and a test of it that passes as generated.
    """
    dist = name.replace("_", "-")
    pkg = f"edu_guard_{name}"
    return {
        "pyproject.toml": f'''[build-system]
requires = ["setuptools>=69", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "edu-guard-{dist}"
version = "0.1.0"
description = "edu_guard plugin: {scheme_name}"
requires-python = ">=3.11"
dependencies = ["edu-guard"]

[project.entry-points.edu_guard]
{name} = "{pkg}.plugin"

[tool.setuptools]
packages = ["{pkg}"]

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
filterwarnings = ["error"]
''',
        f"{pkg}/__init__.py": f'"""edu_guard plugin {name}: {scheme_name}."""\n\n__version__ = "0.1.0"\n',
        f"{pkg}/plugin.py": f'''"""{scheme_name}: an aid scheme plugin for edu_guard (see docs/plugins.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate

from edu_guard.toolkit import AidScheme, Candidate, Decision, Rate, TermInfo, hookimpl, not_eligible, plugin_settings

NAME = "{name}"


class Settings(Schema):
    """Settings (``EDU_GUARD_PLUGIN_SETTINGS["{name}"]``): yuan a term."""

    per_term = fields.Decimal(load_default=Decimal("300"), as_string=True,
                              validate=validate.Range(min=Decimal("0"), min_inclusive=False))


class LocalScheme(AidScheme):
    """{scheme_name}: 家庭经济困难 pupils in compulsory education, a fixed amount a term."""

    def decide(self, c: Candidate, term: TermInfo) -> Decision:
        if c.stage not in self.stages:
            return not_eligible(f"学段为{{c.stage}}，本项目面向义务教育阶段")
        if not c.hardship:
            return not_eligible("非家庭经济困难学生")
        return Decision(True, "家庭经济困难学生", self.amount("default", term), "default")


@hookimpl
def plugin_settings_schema():
    """This plugin's settings."""
    return Settings()


@hookimpl
def aid_schemes():
    """The scheme, at the configured amount."""
    per_term = plugin_settings(NAME)["per_term"]
    return [
        LocalScheme(
            code=NAME, name="{scheme_name}", stages=("小学", "初中"), funding_level="县级", unit="term",
            rates=(Rate(date(2020, 1, 1), {{"default": per_term}}, "县级标准"),),
            eligible_statuses=("脱贫户", "监测户", "低保", "特困"),
        )
    ]
''',
        "tests/test_plugin.py": f'''"""Tests of the {name} plugin, with the fixtures of edu_guard.testing."""

from decimal import Decimal

from {pkg} import plugin


def test_scheme_is_registered(plugin_app):
    from edu_guard.toolkit import schemes

    app = plugin_app([("{name}", plugin)])
    assert schemes(app)["{name}"].plugin == "{name}"


def test_pays_a_hardship_pupil_and_refuses_others(plugin_app, make_candidate, aid_term):
    from edu_guard.toolkit import schemes

    app = plugin_app([("{name}", plugin)], settings={{"{name}": {{"per_term": "250"}}}})
    scheme = schemes(app)["{name}"]
    yes = scheme.decide(make_candidate(family_kinds={{"低保"}}), aid_term)
    assert (yes.eligible, yes.amount) == (True, Decimal("250.00"))
    assert not scheme.decide(make_candidate(), aid_term).eligible
    assert not scheme.decide(make_candidate(stage="高中", family_kinds={{"低保"}}), aid_term).eligible
''',
        "README.md": f"# {scheme_name}\n\nAn edu_guard plugin (`{name}`). Install with `pip install -e .`, enable by adding `\"{name}\"` to `EDU_GUARD_PLUGINS`, test with `pytest`.\n",
    }
