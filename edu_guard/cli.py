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
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, ScriptInfo, with_appcontext

from edu_guard import backup as backups
from edu_guard.aid.cli import aid_group
from edu_guard.aid.demo import DEMO_ACCOUNTS_FILE, load_demo_accounts
from edu_guard.aid.services import load_demo_term, schemes
from edu_guard.app import NotInitialised, create_app, default_instance_path, init_migrations
from edu_guard.cases.children_cli import children_group
from edu_guard.cases.cli import cases_group
from edu_guard.cli_util import dump_json, requires_init
from edu_guard.comparisons.cli import compare_group
from edu_guard.db import db, is_busy, wait_for_deferred_writes
from edu_guard.homebound.cli import homebound_group
from edu_guard.jobs.cli import worker_command
from edu_guard.letters.fonts import BODY_FACES, INSTALL_HINT, TITLE_FACES, cjk_font_installed, face_for
from edu_guard.plugin_cli import plugin_group, plugins_command
from edu_guard.registry.cli import import_command
from edu_guard.registry.importers import importers
from edu_guard.registry.jobs import purge_files
from edu_guard.registry.services import load_demo
from edu_guard.reports.cli import report_group
from edu_guard.serve import serve_command
from edu_guard.transaction import finish

#: Exit status of a command refused because the database stayed busy (EX_TEMPFAIL).
BUSY_EXIT_STATUS = 75

#: The command group: ``flask edu-guard …`` and the console script ``edu-guard``.
cli = AppGroup("edu-guard", help="edu_guard 控辍保学与学生资助管理系统")

from edu_guard.paths import INITIAL_ADMIN_FILE  # noqa: E402,F401 (auth reads it there)
from edu_guard.config import ConfigError
from edu_guard.plugins import PluginLoadError
from edu_guard.auth.models import User


def _make_app():
    from flask.cli import NoAppException

    try:
        try:
            app = create_app()
        except NotInitialised as exc:  # no key, no fallback: every command but init stops
            raise NoAppException(str(exc)) from None
        register(app)
        return app
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
    at the first sign-in) and say which fonts the letters use; print the admin login."""
    import flask_migrate

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
        finish(ok=True)  # ``init`` runs before the instance is set up: its own unit of work
        fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{admin_name}\n{password}\n")
    _prepare_letter_fonts()
    print_admin_login(instance)


def _prepare_letter_fonts() -> None:
    """Say which installed faces the letters will print in (nothing is built: the
    letters use the system fonts); a machine without CJK fonts is told what to install."""
    if not cjk_font_installed():
        click.echo(f"注意：本机没有安装任何中文字体，无法打印文书。{INSTALL_HINT}。", err=True)
        return
    body = face_for(BODY_FACES)
    title = face_for(TITLE_FACES)
    if title in (None, "Noto Serif CJK SC"):
        title = "Noto Serif CJK SC Bold（未安装方正小标宋，以此替代）"
    click.echo(f"文书字体：正文 {body or 'Noto Serif CJK SC（未安装仿宋）'}，标题 {title}")
    if body is None:
        click.echo("注意：未安装仿宋字体（仿宋_GB2312、方正仿宋或 FandolFang），请以 root 运行 tools/system-packages.sh", err=True)


def _purge(upload_days, job_file_days, dry_run: bool, as_json: bool) -> None:
    purged = purge_files(upload_days=upload_days, job_file_days=job_file_days, dry_run=dry_run)
    uploads, job_files = purged["uploads"], purged["job_files"]
    if as_json:
        dump_json({"dry_run": dry_run, "files": uploads, "job_files": job_files})
        return
    verb = "将删除" if dry_run else "已删除"
    click.echo(f"{verb} {len(uploads)} 个导入原始文件，共 {sum(p['bytes'] for p in uploads)} 字节；"
               f"{len(job_files)} 个任务结果文件，共 {sum(p['bytes'] for p in job_files)} 字节")


_PURGE_OPTIONS = (
    click.option("--days", "upload_days", type=int, default=None,
                 help="导入原始文件保留天数（默认 EDU_GUARD_UPLOAD_KEEP_DAYS，90 天）"),
    click.option("--job-file-days", type=int, default=None,
                 help="任务结果文件保留天数（默认 EDU_GUARD_JOB_FILE_KEEP_DAYS，7 天）"),
    click.option("--dry-run", is_flag=True, help="只列出将删除的文件"),
    click.option("--json", "as_json", is_flag=True, help="以 JSON 输出"),
)


def _with_purge_options(f):
    for option in reversed(_PURGE_OPTIONS):
        f = option(f)
    return f


@cli.command("purge")
@_with_purge_options
@requires_init
def purge_command(upload_days, job_file_days, dry_run: bool, as_json: bool) -> None:
    """删除超过保留期的文件：导入原始文件（导入记录、计数和未导入的行仍保留在数据库中）和后台任务留下的结果文件（导出、批量打印）。"""
    _purge(upload_days, job_file_days, dry_run, as_json)


@cli.command("purge-uploads")
@_with_purge_options
@requires_init
def purge_uploads_command(upload_days, job_file_days, dry_run: bool, as_json: bool) -> None:
    """同 purge（旧名称，保留兼容）。"""
    _purge(upload_days, job_file_days, dry_run, as_json)


@cli.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@requires_init
def backup_command(path: Path, as_json: bool) -> None:
    """备份本实例到新目录 PATH（系统运行中即可）：数据库、文书、附件、导入原始文件和配置，附 sha256 清单。"""
    try:
        outcome = backups.backup(path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if not wait_for_deferred_writes(timeout=600):
        outcome.notes.append("备份审计记录未能写入（数据库持续繁忙），请查看日志。")
    files = outcome.manifest["files"]
    summary = {"path": str(outcome.path), "database": outcome.manifest["database"]["kind"], "files": len(files),
               "bytes": sum(f["bytes"] for f in files.values()), "rows": outcome.manifest["database"]["counts"],
               "notes": outcome.notes}
    if as_json:
        dump_json(summary)
        return
    click.echo(f"已备份到 {outcome.path}：数据库（{summary['database']}，{sum(summary['rows'].values())} 行）"
               f"及 {len(files) - 1} 个文件，共 {summary['bytes']} 字节；清单 {backups.MANIFEST}")
    for note in outcome.notes:
        click.echo(f"注意：{note}")


@cli.command("restore", with_appcontext=False)
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="本实例已有数据时仍用备份替换全部数据")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_context
def restore_command(ctx: click.Context, path: Path, force: bool, as_json: bool) -> None:
    """从备份目录 PATH 恢复到本实例（先停止网站和任务队列进程）。逐个核对 sha256，不符则拒绝；
    本实例已有数据时须加 --force。"""
    try:
        manifest = backups.read_manifest(path)  # every file checked before anything is written
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    instance = Path(default_instance_path()).resolve()
    if "config.py" in manifest["files"] and not (instance / "config.py").exists():
        # a new machine: the backup's key and county settings, so the app can start
        instance.mkdir(parents=True, exist_ok=True)
        instance.chmod(0o700)
        backups.copy_file(Path(path) / "config.py", instance / "config.py")
    app = current_app._get_current_object() if current_app else ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        try:
            outcome = backups.restore(path, force=force)
        except backups.BackupError as exc:
            finish(ok=False)
            raise click.ClickException(str(exc)) from None
        finish(ok=True)
    counts = outcome.manifest["database"]["counts"]
    if as_json:
        dump_json({"path": str(outcome.path), "rows": counts, "files": len(outcome.manifest["files"]),
                   "notes": outcome.notes})
        return
    click.echo(f"已从 {outcome.path} 恢复：{sum(counts.values())} 行数据，{len(outcome.manifest['files'])} 个文件，"
               "均与清单核对一致。")
    for note in outcome.notes:
        click.echo(f"注意：{note}")


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


#: The demo county's penalty settings: a SAMPLE, labelled as such in the basis printed
#: on its letters, so the demo walks all four steps. A real county sets its own (there
#: is no default: edu_guard.config).
DEMO_PENALTY_SETTINGS = {
    "EDU_GUARD_PENALTY_BASIS": "《云南省义务教育条例》第四十二条（示例依据，须按本县适用法规核实）",
    "EDU_GUARD_FINE_MIN": "50",
    "EDU_GUARD_FINE_MAX": "500",
    "EDU_GUARD_FINE_PAYMENT_ACCOUNT": {"bank": "示例银行景洪支行", "account_name": "示例非税收入专户",
                                       "account_number": "0000000000000000"},
    "EDU_GUARD_BUREAU_CONTACT": {"person": "示例联系人", "phone": "0691-0000000", "address": "景洪市示例路1号"},
    # The demo county's two ethnic townships: their codes are configured, not derived.
    "EDU_GUARD_TOWNSHIPS": {"景哈哈尼族乡": {"name": "景哈哈尼族乡人民政府", "code": "景哈政"},
                            "基诺山基诺族乡": {"name": "基诺山基诺族乡人民政府", "code": "基诺山政"}},
}


def _demo_penalty_settings() -> None:
    """Write the demo's sample penalty settings into the instance config (once, under a
    comment saying they are a sample) for the ones the county has not set."""
    todo = {k: v for k, v in DEMO_PENALTY_SETTINGS.items() if current_app.config.get(k) in (None, "", {})}
    if not todo:
        return
    path = Path(current_app.instance_path) / "config.py"
    lines = ["", "# --- 示例（edu-guard demo 写入）：处罚依据、罚款幅度、缴款账户和联系人均为演示用的示例，",
             "# --- 正式使用前必须改为本县适用的地方性法规条款、罚款幅度和财政非税收入账户。"]
    for key, value in todo.items():
        lines.append(f"{key} = {value!r}")
        current_app.config[key] = value
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    click.echo(f"已在 {path} 写入示例处罚设置（标明为示例，正式使用前须修改）")


@click.command("demo")
@requires_init
def demo_command() -> None:
    """载入示例县（景洪市 2021 年春季学期）的全部数据：学校、花名册、勐罕镇名册、学籍变动、
    脱贫户和监测对象、残疾儿童、示例收款账户（可导出代发文件），并写入标明为示例的处罚设置。已载入过的文件跳过，再次运行不做任何更改。"""
    _demo_penalty_settings()
    results = load_demo()
    proposals = load_demo_term()
    accounts = load_demo_accounts()
    if proposals:
        made = [p for p in proposals if p.proposed]
        names = {code: scheme.name for code, scheme in schemes().items()}
        click.echo("学期 2021-spring（2021年春季学期）已建立，资助名单已生成：" + "；".join(
            f"{names.get(p.scheme_code, p.scheme_code)} {p.proposed}人" for p in made))
    if all(result is None for _, _, result in results) and accounts is None:
        click.echo("示例县数据已载入过，本次未做任何更改。")
        return
    for kind, name, result in results:
        if result is None:
            click.echo(f"{name}：已载入过，跳过")
        else:
            click.echo(
                f"{name}（{importers()[kind].label}）：{result.counts_text()}"
            )
    if accounts is not None:
        click.echo(f"{DEMO_ACCOUNTS_FILE}（{importers()['accounts'].label}，示例账号，仅供演示代发文件）："
                   f"{accounts.counts_text()}")
    click.echo("示例县数据已载入。")


def _add_feature_commands() -> None:
    cli.add_command(import_command)
    cli.add_command(demo_command)
    cli.add_command(children_group)
    cli.add_command(cases_group)
    cli.add_command(plugins_command)
    cli.add_command(plugin_group)
    cli.add_command(homebound_group)
    cli.add_command(compare_group)
    cli.add_command(report_group)
    cli.add_command(aid_group)
    cli.add_command(worker_command)
    cli.add_command(serve_command)


_add_feature_commands()


class _Main(FlaskGroup):
    """``edu-guard``: the commands of :data:`cli` at top level, plus Flask's ``run``."""

    def invoke(self, ctx):
        """Run the command; a database kept locked by another writer (an import job)
        ends it with "系统繁忙，请稍后重试" (JSON with ``--json``) and exit status 75
        (EX_TEMPFAIL), not a traceback."""
        try:
            return super().invoke(ctx)
        except sa.exc.OperationalError as exc:
            if not is_busy(exc):
                raise
            message = "系统繁忙，请稍后重试。（其他任务正在写入数据库，本次操作未保存）"
            if "--json" in sys.argv[1:] or "--json" in [*getattr(ctx, "_protected_args", []), *ctx.args]:
                dump_json({"error": "busy", "message": message})
            else:
                click.echo(message, err=True)
            ctx.exit(BUSY_EXIT_STATUS)

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
    """Attach the group to ``app.cli`` (``flask edu-guard …``); the plugins' commands are
    added by :func:`edu_guard.app.create_app`."""
    app.cli.add_command(cli)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
