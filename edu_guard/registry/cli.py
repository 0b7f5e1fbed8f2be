"""Registry commands: ``edu-guard import KIND PATH`` and ``edu-guard demo``.

Both commit once at the end (the services only flush) and roll back on any error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edu_guard.cli_util import requires_init, user_by_name
from edu_guard.db import db
from edu_guard.registry.importers import importers
from edu_guard.registry.services import ImportFileError, ImportResult, import_file, load_demo, rejects_workbook

#: Rejects listed in the readable summary; the rest are counted (the workbook has all).
SHOWN_REJECTS = 50


class _Bar:
    """A click progress bar opened on the first progress call (the total comes with it)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if total > self.bar.length:
            self.bar.length = total
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("import")
@click.argument("kind")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="只输出一个 JSON 对象（计数与未导入的行）")
@click.option("--as", "username", default=None, help="记为该用户的导入（默认不记用户）")
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="把未导入的行写入此 Excel 文件（原表头 + 错误原因）",
)
@requires_init
def import_command(
    kind: str,
    path: Path,
    as_json: bool,
    username: str | None,
    rejects_path: Path | None,
) -> None:
    """导入文件：KIND 为 schools（学校名单）、roster（学籍花名册）、status-changes（学籍变动）、
    families（脱贫户和监测对象名单）、disabled（残疾儿童名单）；PATH 为 .xlsx 或 .csv 文件。

    文件读取成功即以 0 退出（即使有未导入的行）；文件无法读取、类型不对或缺少必需的列时，
    不写入任何数据并以非 0 退出。
    """
    if kind not in importers():
        raise click.BadParameter(f"“{kind}”不是可导入的类型（可选：{'、'.join(importers())}）", param_hint="KIND")
    show_bar = not as_json and sys.stdout.isatty()
    bar = _Bar(f"导入 {path.name}") if show_bar else None
    try:
        result = import_file(kind, path, user=user_by_name(username), progress=bar)
        db.session.commit()
    except ImportFileError as exc:
        db.session.rollback()
        if as_json:
            click.echo(json.dumps({"kind": kind, "error": str(exc)}, ensure_ascii=False))
        raise click.ClickException(str(exc)) from None
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if bar is not None:
            bar.close()
    if rejects_path is not None:
        rejects_path.write_bytes(rejects_workbook(result))
    if as_json:
        click.echo(json.dumps(result.summary(), ensure_ascii=False))
        return
    _echo_summary(result)
    if rejects_path is not None and result.rejects:
        click.echo(f"未导入的行已写入 {rejects_path}（原表头 + 错误原因），改正后可重新导入。")


def _echo_summary(result: ImportResult) -> None:
    label = importers()[result.kind].label
    click.echo(
        f"{label}“{result.filename}”：共 {result.rows} 行；新增 {result.created}，更新 {result.updated}，"
        f"未变 {result.unchanged}，未导入 {len(result.rejects)}。"
    )
    if not result.rejects:
        return
    click.echo("未导入的行：")
    for reject in result.rejects[:SHOWN_REJECTS]:
        click.echo(f"  第{reject['row']}行  {reject['reason']}")
    if len(result.rejects) > SHOWN_REJECTS:
        click.echo(
            f"  ……另有 {len(result.rejects) - SHOWN_REJECTS} 行；用 --rejects 文件.xlsx 导出全部，或 --json 查看。"
        )


#: The demo county's penalty settings: a SAMPLE, labelled as such in the basis printed
#: on its letters, so the demo walks all four steps. A real county sets its own.
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
    comment saying they are a sample) when the county has not set its own."""
    from flask import current_app

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
    脱贫户和监测对象、残疾儿童。已载入过的文件跳过，再次运行不做任何更改。"""
    from edu_guard.aid.services import load_demo_term

    _demo_penalty_settings()
    try:
        results = load_demo()
        proposals = load_demo_term()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if proposals:
        made = [p for p in proposals if p.proposed]
        click.echo("学期 2021-spring（2021年春季学期）已建立，资助名单已生成：" + "；".join(
            f"{p.scheme_code} {p.proposed}人" for p in made))
    if all(result is None for _, _, result in results):
        click.echo("示例县数据已载入过，本次未做任何更改。")
        return
    for kind, name, result in results:
        if result is None:
            click.echo(f"{name}：已载入过，跳过")
        else:
            click.echo(
                f"{name}（{importers()[kind].label}）：共 {result.rows} 行；新增 {result.created}，更新 {result.updated}，"
                f"未变 {result.unchanged}，未导入 {len(result.rejects)}"
            )
    click.echo("示例县数据已载入。")
