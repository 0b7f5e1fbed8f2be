"""``edu-guard report …``: periodic reports and ledgers of dropout control."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import current_app

from edu_guard.cli_util import dump_json, requires_init
from edu_guard.reports import ledgers, services
from edu_guard.reports import excel

report_group = click.Group("report", help="控辍保学报表与台账")


@report_group.command("dropout")
@click.option("--period", type=click.Choice(list(services.PERIODS)), default="month", show_default=True, help="日报、周报或月报")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="报表期内的任一天（默认今天）")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="自定义统计期的第一天（与 --to 一起使用）")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="自定义统计期的最后一天")
@click.option("--by", type=click.Choice(["township", "school"]), default="township", show_default=True, help="按乡镇或学校分行")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None, help="导出 Excel 到该文件")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def dropout_report(period, on, start, end, by, xlsx, as_json):
    """控辍保学日报/周报/月报：期初、新增、销号、复学、安置、仍未返校、各步骤、家访人次、文书。"""

    if start or end:
        if not (start and end):
            raise click.UsageError("--from 与 --to 须同时给出")
        start, end, period = start.date(), end.date(), None
    else:
        start, end = services.period_bounds(period, on.date() if on else date.today())
    try:
        report = services.periodic_report(start, end, by=by)
    except services.ReportError as exc:
        raise click.ClickException(str(exc)) from None
    if xlsx:
        xlsx.write_bytes(excel.report_workbook(report, current_app.config["EDU_GUARD_COUNTY_NAME"], period))
    if as_json:
        dump_json({**report, "period": period})
        return
    click.echo(f"{services.PERIODS.get(period, '统计表')} {start} 至 {end}")
    keys = list(services.COLUMNS)
    click.echo("\t".join(["名称", *services.COLUMNS.values()]))
    for row in [*report["rows"], report["total"]]:
        click.echo("\t".join([row["name"], *(str(row[k]) for k in keys)]))
    if xlsx:
        click.echo(f"已导出 {xlsx.resolve()}")


@report_group.command("ledger")
@click.argument("kind", type=click.Choice(list(ledgers.LEDGERS)))
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="适龄儿童台账的基准日（默认今天）")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), required=True, help="导出 Excel 到该文件")
@requires_init
def ledger(kind, on, xlsx):
    """导出台账：school_age 适龄儿童、suspected 疑似辍学、dropouts 辍学（含劝返记录）。"""

    if kind == "school_age":
        rows = ledgers.school_age_ledger(on.date() if on else date.today(), current_app.config, unmasked=True)
    elif kind == "suspected":
        rows = ledgers.suspected_ledger(unmasked=True)
    else:
        rows = ledgers.dropout_ledger(unmasked=True)
    xlsx.write_bytes(excel.ledger_workbook(kind, rows, ledgers.LEDGERS[kind]))
    click.echo(f"{ledgers.LEDGERS[kind]}：{len(rows)} 条，已导出 {xlsx.resolve()}")
