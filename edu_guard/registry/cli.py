"""Registry commands: ``edu-guard import KIND PATH``.

An import is one unit of work (:func:`edu_guard.cli_util.requires_init` commits it once
at the end, the services only flush) and is rolled back on any error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edu_guard.cli_util import requires_init, user_by_name
from edu_guard.registry.importers import importers
from edu_guard.registry.services import (
    ImportFileError,
    ImportResult,
    describe_source,
    import_file,
    rejects_workbook,
)

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
    except ImportFileError as exc:
        if as_json:
            click.echo(json.dumps({"kind": kind, "error": str(exc)}, ensure_ascii=False))
        raise click.ClickException(str(exc)) from None
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
        f"{label}“{result.filename}”：{result.counts_text()}。"
    )
    for line in describe_source(result.source):
        click.echo(f"  {line}")
    if result.warnings:
        click.echo("已导入但请核对的行：")
        for warning in result.warnings[:SHOWN_REJECTS]:
            click.echo(f"  {_where(warning)}  {warning['message']}")
    if not result.rejects:
        return
    click.echo("未导入的行：")
    for reject in result.rejects[:SHOWN_REJECTS]:
        click.echo(f"  {_where(reject)}  {reject['reason']}")
    if len(result.rejects) > SHOWN_REJECTS:
        click.echo(
            f"  ……另有 {len(result.rejects) - SHOWN_REJECTS} 行；用 --rejects 文件.xlsx 导出全部，或 --json 查看。"
        )


def _where(entry: dict) -> str:
    """``第5行`` or ``工作表“三年级”第5行``."""
    return (f"工作表“{entry['sheet']}”" if entry.get("sheet") else "") + f"第{entry['row']}行"
