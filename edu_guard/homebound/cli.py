"""``edu-guard homebound …``: list placements and work out compliance from the shell."""

from __future__ import annotations

import click

from edu_guard import clock
from edu_guard.cli_util import dump_json, requires_init, user_by_name
from edu_guard.homebound import schemas, services

homebound_group = click.Group("homebound", help="送教上门：安置名单、达标统计")

date_type = click.DateTime(formats=["%Y-%m-%d"])
as_option = click.option("--as", "username", default=None, help="按该用户的数据范围列出（学校用户只见本校）")


@homebound_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="包括已结束的安置（默认只列正在送教的）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@as_option
@requires_init
def list_placements(show_all, as_json, username):
    """列出送教上门安置。"""
    placed = services.placements(user_by_name(username), active_on=None if show_all else clock.today())
    data = schemas.PlacementSchema(many=True).dump(placed)
    if as_json:
        dump_json(data)
        return
    if not data:
        click.echo("没有送教上门安置。")
        return
    for p in data:
        level = f"{p['disability_level']}级" if p["disability_level"] else ""
        click.echo(f"{p['id']:>5}  {p['name']}  {p['id_number']}  {p['disability_category'] or ''}{level}  "
                   f"{p['school']}  {p['starts_on']}—{p['ends_on'] or '至今'}  送教{p['sessions']}次")
    click.echo(f"共 {len(data)} 人")


@homebound_group.command("compliance")
@click.option("--from", "start", type=date_type, required=True, help="统计期起日 YYYY-MM-DD")
@click.option("--to", "end", type=date_type, required=True, help="统计期止日 YYYY-MM-DD（含）")
@click.option("--norm", default=None, help="送教频次标准（默认 EDU_GUARD_HOMEBOUND_NORM）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@as_option
@requires_init
def compliance_command(start, end, norm, as_json, username):
    """按学生、学校、乡镇统计送教达标情况：谁未达标、差多少。"""
    start, end = start.date(), end.date()
    try:
        used, rows = services.compliance(start, end, user_by_name(username), norm_key=norm)
    except services.HomeboundError as exc:
        raise click.ClickException(str(exc)) from None
    by_school = services.summarise(rows, "school")
    by_township = services.summarise(rows, "township")
    if as_json:
        dump_json({
            "from": start, "to": end, "norm": used.key, "norm_label": used.label,
            "children": schemas.ComplianceRowSchema(many=True).dump(rows),
            "schools": schemas.GroupSummarySchema(many=True).dump(by_school),
            "townships": schemas.GroupSummarySchema(many=True).dump(by_township),
        })
        return
    click.echo(f"统计期 {start}—{end}；标准：{used.label}")
    for r in rows:
        f = r.figures
        verdict = "达标" if f.compliant else f"未达标，差 {f.visit_shortfall} 次、{f.period_shortfall} 课时"
        click.echo(f"  {r.name}  {r.school}  送教 {f.visits}/{f.expected_visits} 次，{f.periods}/{f.expected_periods} 课时  {verdict}")
    click.echo("按学校：")
    for g in by_school:
        click.echo(f"  {g.name}  {g.children} 人，达标 {g.compliant} 人（{g.rate}），送教 {g.sessions} 次、{g.periods} 课时、{g.hours} 小时")
