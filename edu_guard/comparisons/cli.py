"""``edu-guard compare …``: run the comparisons (数据比对), show a stored run, open
cases from it."""

from __future__ import annotations

from pathlib import Path

import click

from edu_guard.cases import services as case_services
from edu_guard.cli_util import dump_json, requires_init, run_or_fail, user_by_name
from edu_guard.comparisons import services
from edu_guard.comparisons.kinds import kinds, ComparisonError
from edu_guard.comparisons.models import ComparisonRun
from edu_guard.db import db

compare_group = click.Group("compare", help="数据比对：户籍与学籍、学籍变动、残疾儿童；查看比对记录、批量立案")
date_type = click.DateTime(formats=["%Y-%m-%d"])
as_option = click.option("--as", "username", default=None, help="以该用户身份运行（记入比对记录）")


def _report(run: ComparisonRun, rows: list[dict] | None, as_json: bool) -> None:
    kind = kinds()[run.kind]
    if as_json:
        dump_json({
            "run": run.id,
            "as_of": run.as_of.isoformat(),
            "counts": run.counts,
            "rows": [{"id_number": r["id_number"], "category": r["category"], "reason": r["reason"],
                      "line": r["line"], "name": r["name"]} for r in (rows or [])],
        })
        return
    click.echo(f"比对记录 {run.id}：{kind.label}，截至 {run.as_of}，共 {run.total} 行，用时 {run.seconds} 秒")
    for cat, label in ((c, k.label) for c, k in kind.categories.items()):
        mark = "（可立案）" if kind.categories[cat].flagged else ""
        click.echo(f"  {label}{mark}：{run.counts.get(cat, 0)}")


def _run(kind: str, as_of, path: Path | None, as_json: bool, username: str | None) -> None:
    user = user_by_name(username)
    data = path.read_bytes() if path else None
    run, outcome = run_or_fail(lambda: services.run_comparison(
        kind, as_of=(as_of.date() if as_of else case_services.today()), data=data,
        filename=path.name if path else None, user=user), ComparisonError)
    _report(run, outcome.rows if as_json else None, as_json)


@compare_group.command("household")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", type=date_type, required=True, help="比对基准日 YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（含每一行的类别与原因）")
@as_option
@requires_init
def household(path, as_of, as_json, username):
    """户籍名单与学籍比对：每行归入一类并说明原因。"""
    _run("household", as_of, path, as_json, username)


@compare_group.command("status")
@click.option("--as-of", type=date_type, default=None, help="比对基准日（默认今天）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@as_option
@requires_init
def status(as_of, as_json, username):
    """学籍变动核查：转出无接收学校、休学期满未复学、死亡注销。"""
    _run("status", as_of, None, as_json, username)


@compare_group.command("disabled")
@click.option("--as-of", type=date_type, default=None, help="比对基准日（默认今天）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@as_option
@requires_init
def disabled(as_of, as_json, username):
    """残疾儿童名单与学籍、送教上门比对。"""
    _run("disabled", as_of, None, as_json, username)


@compare_group.command("show")
@click.argument("run_id", type=int)
@click.option("--category", default=None, help="只列该类")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def show(run_id, category, as_json):
    """重新打开一次比对记录（保存的行与各类计数）。"""
    run = db.session.get(ComparisonRun, run_id)
    if run is None:
        raise click.ClickException(f"没有编号为 {run_id} 的比对记录")
    rows = db.session.execute(services.run_rows(run, category)).scalars().all()
    dicts = [{"line": r.line, "id_number": r.id_number, "name": r.name, "category": r.category, "reason": r.reason} for r in rows]
    if as_json:
        _report(run, dicts, True)
        return
    _report(run, None, False)
    for r in dicts:
        click.echo(f"  {r['line']:>6} {r['id_number'] or '-':<18} {r['name'] or '-':<6} {r['category']}  {r['reason']}")


@compare_group.command("open-cases")
@click.argument("run_id", type=int)
@click.option("--category", default=None, help="该类的全部行立案")
@click.option("--row", "row_ids", multiple=True, type=int, help="只为这些行（编号）立案，可重复")
@click.option("--reason", default=None, help="辍学原因（默认按类别）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@as_option
@requires_init
def open_cases(run_id, category, row_ids, reason, as_json, username):
    """从比对记录批量立案；同一儿童只立一个案。"""
    run = db.session.get(ComparisonRun, run_id)
    if run is None:
        raise click.ClickException(f"没有编号为 {run_id} 的比对记录")
    user = user_by_name(username)
    result = run_or_fail(lambda: services.open_cases(run, list(row_ids) or None, category=category, reason=reason,
                                                     user=user), ComparisonError)
    if as_json:
        dump_json(result)
        return
    click.echo(f"新立案 {len(result['opened'])} 个；已有个案 {len(result['existing'])} 个；未立案 {len(result['refused'])} 行")
    for row_id, why in result["refused"]:
        click.echo(f"  行 {row_id}：{why}")
