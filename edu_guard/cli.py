"""The ``edu-guard`` command line (also ``flask edu-guard …``).

Every bulk job has a command here. Feature packages keep their commands in their own
``cli.py``; this module assembles them and adds ``init``.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from edu_guard.app import NotInitialised, create_app, default_instance_path, init_migrations

#: The command group: ``flask edu-guard …`` and the console script ``edu-guard``.
cli = AppGroup("edu-guard", help="edu_guard 控辍保学与学生资助管理系统")

INITIAL_ADMIN_FILE = "initial_admin.txt"


def _make_app():
    from edu_guard.config import ConfigError
    from edu_guard.plugins import PluginLoadError

    from flask.cli import NoAppException

    try:
        return create_app()
    except NotInitialised as exc:  # no key, no fallback: every command but init stops
        raise NoAppException(str(exc)) from None
    except PluginLoadError as exc:  # a clear line for the clerk, not a traceback
        click.echo(f"edu_guard 无法启动（插件错误）：{exc}", err=True)
        sys.exit(1)
    except ConfigError as exc:
        click.echo(f"edu_guard 无法启动（配置错误）：{exc}", err=True)
        sys.exit(1)


@cli.command("init", with_appcontext=False)
@click.option("--admin", "admin_name", default="admin", show_default=True, help="管理员用户名")
@click.pass_context
def init_command(ctx: click.Context, admin_name: str) -> None:
    """初始化实例：写配置（随机密钥）、迁移数据库、创建管理员并打印其登录信息。"""
    from flask.cli import ScriptInfo

    instance = Path(default_instance_path()).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    instance.chmod(0o700)
    config_file = instance / "config.py"
    if not config_file.exists():
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(
                "# edu_guard instance configuration, written by `edu-guard init`.\n"
                "# See instance/config.example.py in the source tree for every setting.\n"
                f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
            )
        click.echo(f"已写入配置 {config_file}")
    app = current_app._get_current_object() if current_app else ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        _init_instance(instance, admin_name)


def _init_instance(instance: Path, admin_name: str) -> None:
    """Migrate the database, create the admin (who must change the printed password
    at the first sign-in) and build the letters' fonts; print the admin login."""
    import flask_migrate

    from edu_guard.auth.models import User
    from edu_guard.db import db

    flask_migrate.upgrade(directory=init_migrations(current_app).directory)
    click.echo(f"数据库已迁移：{db.engine.url.render_as_string(hide_password=True)}")

    creds = instance / INITIAL_ADMIN_FILE
    admin = db.session.execute(db.select(User).where(User.username == admin_name)).scalar_one_or_none()
    if admin is None:
        password = secrets.token_urlsafe(12)
        # printed on the console and kept in a file: changed at the first sign-in
        admin = User(username=admin_name, display_name="系统管理员", role="admin", must_change_password=True)
        admin.set_password(password)
        db.session.add(admin)
        db.session.commit()
        fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{admin_name}\n{password}\n")
    _prepare_letter_fonts()
    print_admin_login(instance)


def _prepare_letter_fonts() -> None:
    """Build the letters' subset fonts now, so the first letter a clerk prints does not
    wait for them; a machine without CJK fonts is told what to install."""
    from edu_guard.letters.fonts import FontsMissing, ensure_fonts
    from edu_guard.letters.render import font_cache_dir

    try:
        ensure_fonts(font_cache_dir(current_app), log=click.echo)
    except FontsMissing as exc:
        click.echo(f"注意：{exc}", err=True)


@cli.command("purge-uploads")
@click.option("--days", type=int, default=None, help="保留天数（默认 EDU_GUARD_UPLOAD_KEEP_DAYS，90 天）")
@click.option("--dry-run", is_flag=True, help="只列出将删除的文件")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def purge_uploads_command(days, dry_run: bool, as_json: bool) -> None:
    """删除超过保留期的导入原始文件（导入记录、计数和未导入的行仍保留在数据库中）。"""
    from edu_guard.cli_util import dump_json
    from edu_guard.uploads import purge_uploads

    purged = purge_uploads(keep_days=days, dry_run=dry_run)
    if as_json:
        dump_json({"dry_run": dry_run, "files": purged})
        return
    verb = "将删除" if dry_run else "已删除"
    click.echo(f"{verb} {len(purged)} 个原始文件，共 {sum(p['bytes'] for p in purged)} 字节")


@cli.command("show-admin")
@with_appcontext
def show_admin_command() -> None:
    """打印 init 创建的管理员账号（修改密码前有效）。"""
    print_admin_login(Path(current_app.instance_path))


def print_admin_login(instance: Path) -> None:
    """Print the admin login written by ``init`` (until it is changed)."""
    creds = instance / INITIAL_ADMIN_FILE
    if creds.exists():
        name, password = creds.read_text(encoding="utf-8").split()[:2]
        click.echo(f"管理员账号 admin login: {name}  密码 password: {password}")
        click.echo(f"（首次登录时系统会要求修改此密码；此信息保存在 {creds}，改密码后即删除）")


def _add_feature_commands() -> None:
    from edu_guard.aid.cli import aid_group
    from edu_guard.cases.cli import cases_group
    from edu_guard.homebound.cli import homebound_group
    from edu_guard.comparisons.cli import compare_group
    from edu_guard.reports.cli import report_group
    from edu_guard.registry.cli import children_group, demo_command, import_command

    cli.add_command(import_command)
    cli.add_command(demo_command)
    cli.add_command(children_group)
    cli.add_command(cases_group)
    from edu_guard.plugin_cli import plugin_group, plugins_command

    cli.add_command(plugins_command)
    cli.add_command(plugin_group)
    cli.add_command(homebound_group)
    cli.add_command(compare_group)
    cli.add_command(report_group)
    cli.add_command(aid_group)


_add_feature_commands()


class _Main(FlaskGroup):
    """``edu-guard``: the commands of :data:`cli` at top level, plus Flask's ``run``."""

    def list_commands(self, ctx):
        # The same commands also hang under ``flask edu-guard``; do not list them twice.
        return sorted({name for name in super().list_commands(ctx) if name != cli.name} | {"db"})

    def get_command(self, ctx, name):
        if name == "db":  # Flask-Migrate's group, imported only now (see init_migrations)
            from flask.cli import ScriptInfo

            init_migrations(ctx.ensure_object(ScriptInfo).load_app())
            from flask_migrate.cli import db as db_group

            return db_group
        return super().get_command(ctx, name)


main = _Main(create_app=_make_app, add_default_commands=True, add_version_option=False, help=cli.help)
for _name, _cmd in cli.commands.items():
    main.add_command(_cmd, _name)


def register(app) -> None:
    """Attach the group to ``app.cli`` (``flask edu-guard …``), and the plugins'
    ``cli_commands`` to this app's own commands (``edu-guard <command>``)."""
    from edu_guard.plugins import contributions

    app.cli.add_command(cli)
    for command in contributions(app).cli_commands:
        app.cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
