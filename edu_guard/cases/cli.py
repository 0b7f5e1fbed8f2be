"""``edu-guard cases …``: list, show, open and act on 控辍保学 cases from the shell.

Commands act as the bureau (the machine's role check is skipped for ``--as`` absent);
``--as USERNAME`` records and checks a named user instead.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
import sqlalchemy as sa

from edu_guard import clock, deadlines
from edu_guard.cases import machine, services
from edu_guard.cases.models import REASONS, RESPONSIBLE_ROLES, VISIT_FORMS, DropoutCase
from edu_guard.cases.schemas import CaseDetailSchema, CaseSchema
from edu_guard.cli_util import dump_json, run_or_fail, requires_init, user_by_name
from edu_guard.db import db
from edu_guard.transaction import after_commit
from edu_guard.letters.models import SERVICE_MANNERS
from edu_guard.registry.identity import normalize_id
from edu_guard.registry.models import Child

cases_group = click.Group("cases", help="控辍保学个案：列表、查看、立案、办理")

as_option = click.option("--as", "username", default=None, help="以该用户身份办理（记入日志并校验角色）")
date_type = click.DateTime(formats=["%Y-%m-%d"])


def _case(case_id: int) -> DropoutCase:
    case = db.session.get(DropoutCase, case_id)
    if case is None:
        raise click.ClickException(f"没有编号为 {case_id} 的个案")
    return case


def _run(fn):
    return run_or_fail(fn, services.CaseError)


@cases_group.command("list")
@click.option("--state", type=click.Choice(list(machine.STATES)), help="按状态筛选")
@click.option("--open/--all", "only_open", default=True, help="只列未销号的（默认）或全部")
@click.option("--due-within", type=click.IntRange(min=0), default=None,
              help="只列 N 日内有期限届满的（本步期限或机关自身须遵守的时限）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def list_cases(state, only_open, due_within, as_json):
    """列出个案。"""
    stmt = sa.select(DropoutCase).order_by(DropoutCase.id)
    if state:
        stmt = stmt.where(DropoutCase.state == state)
    elif only_open:
        stmt = stmt.where(DropoutCase.state != "closed")
    cases = db.session.execute(stmt).scalars().all()
    if due_within is not None:
        cases = services.due_within(cases, due_within, services.today())
    rows = CaseSchema(many=True).dump(cases)
    if as_json:
        dump_json(rows)
        return
    if not rows:
        click.echo("没有个案。")
    for r in rows:
        click.echo(f"{r['id']:>5}  {r['name']:<6} {r['id_number']}  {r['school'] or '-'}  {r['state_label']}  期限 {r['deadline'] or '-'}")


@cases_group.command("show")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def show_case(case_id, as_json):
    """查看一个个案：状态、期限、时间线、文书与可办理的操作。"""
    case = _case(case_id)
    data = CaseDetailSchema(full_ids=True).dump(case)
    facts = services.facts_for(case)
    data["actions"] = [{"event": t.event, "label": t.label, "allowed": why is None, "reason": why}
                       for t, why in machine.allowed(facts, None, services.today())]
    data.update(services.deadline_report(case, services.today()))
    if as_json:
        dump_json(data)
        return
    click.echo(f"个案 {data['id']}：{data['name']}（{data['id_number']}） {data['school'] or ''}")
    click.echo(f"状态：{data['state_label']}   本步开始：{data['step_started_on']}   "
               f"期限：{data['deadline'] or '—'}{'（估算）' if data['deadline_estimated'] else ''}")
    for limit in data["time_limits"]:
        click.echo(f"时限：{limit['label']} {limit['day']}{'（估算）' if limit['estimated'] else ''}"
                   f"  剩余 {limit['days_left']} 日{'  ⚠ ' + limit['warning'] if limit['warning'] else ''}")
    if data["closed_reason"]:
        click.echo(f"销号：{data['closed_reason']}")
    click.echo("时间线：")
    for e in data["events"]:
        step = f" → {machine.STATES[e['to_state']].label}" if e["from_state"] != e["to_state"] else ""
        extra = " ".join(x for x in (e["letter"] if e["event"] != "record_service" else None, e["note"]) if x)
        click.echo(f"  {e['acted_on']}  {machine.EVENT_LABELS.get(e['event'], e['event'])}{step}  {extra}")
    for v in data["visits"]:
        click.echo(f"家访 {v['visited_on']} {v['form']} {v['visitors']}：{v['findings']}")
    for l in data["letters"]:
        click.echo(f"文书 {l['id']}：{l['doc_number']} {l['title']}  送达：{l['served_on'] or '未送达'}")
    click.echo("可办理：")
    for a in data["actions"]:
        click.echo(f"  {a['event']:<24} {a['label']}  {'✓' if a['allowed'] else '✗ ' + a['reason']}")


@cases_group.command("open")
@click.argument("id_number")
@click.option("--reason", type=click.Choice(REASONS), required=True, help="辍学原因")
@click.option("--on", "opened_on", type=date_type, help="发现日期（默认今天）")
@click.option("--note", default=None, help="情况说明")
@click.option("--responsible", multiple=True, metavar="ROLE=姓名[:电话]",
              help=f"包保责任人，ROLE 为 {', '.join(RESPONSIBLE_ROLES)}；可多次给出")
@as_option
@requires_init
def open_command(id_number, reason, opened_on, note, responsible, username):
    """为身份证号 ID_NUMBER 的学生立案（第一步：宣传教育）。"""
    child = db.session.execute(sa.select(Child).where(Child.id_number == normalize_id(id_number))).scalar_one_or_none()
    if child is None:
        raise click.ClickException(f"学籍库中没有身份证号 {id_number} 的学生；请先导入或登记")
    assignments = []
    for item in responsible:
        role, sep, rest = item.partition("=")
        name, _, phone = rest.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"“{item}”应写成 ROLE=姓名[:电话]，如 class_teacher=李老师:13900000000",
                                     param_hint="--responsible")
        assignments.append({"role": role.strip(), "name": name.strip(), "phone": phone.strip() or None})
    case = _run(lambda: services.open_case(
        child, reason=reason, opened_on=opened_on.date() if opened_on else None, reason_note=note,
        assignments=assignments, user=user_by_name(username)))
    click.echo(f"已立案：个案 {case.id}，{child.name}，期限 {case.deadline}")


@cases_group.command("visit")
@click.argument("case_id", type=int)
@click.option("--on", "visited_on", type=date_type, required=True, help="家访日期")
@click.option("--visitors", required=True, help="家访人员")
@click.option("--form", type=click.Choice(VISIT_FORMS), default="入户", show_default=True)
@click.option("--findings", required=True, help="家访情况")
@click.option("--outcome", default=None)
@click.option("--next-action", default=None)
@as_option
@requires_init
def visit_command(case_id, visited_on, visitors, form, findings, outcome, next_action, username):
    """登记个案的一次家访。"""
    case = _case(case_id)
    _run(lambda: services.log_home_visit(
        case.child, case=case, visited_on=visited_on.date(), visitors=visitors, form=form, findings=findings,
        outcome=outcome, next_action=next_action, user=user_by_name(username)))
    click.echo(f"已登记家访：个案 {case.id}，{visited_on.date()}")


@cases_group.command("act")
@click.argument("case_id", type=int)
@click.argument("event", type=click.Choice(list(machine.TRANSITIONS)))
@click.option("--on", "acted_on", type=date_type, help="办理日期（默认今天）")
@click.option("--note", default=None)
@click.option("--fine", default=None, help="拟处罚款（元），制发行政处罚告知书时必填")
@click.option("--placement", type=click.Choice(machine.PLACEMENTS), default=None, help="安置方式（place）")
@click.option("--school", default=None, help="核实就读学校（verify_elsewhere）")
@click.option("--representative", default=None, help="法定代表人（apply_to_court；默认取配置 EDU_GUARD_BUREAU_HEAD）")
@click.option("--fine-reason", default=None, help="决定罚款低于告知书拟处数额的理由（issue_penalty_decision）")
@click.option("--content", default=None, help="陈述申辩内容、复核意见、听证笔录要点或听证报告意见")
@click.option("--result", default=None, help="复核结果（采纳/部分采纳/不采纳）、复议或判决结果、法院裁定（准予执行/不准予执行）")
@click.option("--hearing-on", default=None, help="听证日期 YYYY-MM-DD（issue_hearing_notice）")
@click.option("--hearing-time", default=None, help="听证时间，如“上午9时”")
@click.option("--place", default=None, help="听证地点")
@click.option("--host", default=None, help="听证主持人")
@click.option("--public/--not-public", "public", default=None,
              help="听证是否公开举行（行政处罚法第六十四条第三项；不公开须给出 --closed-reason）")
@click.option("--closed-reason", type=click.Choice(services.HEARING_CLOSED_REASONS), default=None,
              help="不公开举行听证的理由")
@click.option("--amount", default=None, help="缴纳或执行到位金额（元）")
@click.option("--receipt", default=None, help="缴款凭证号")
@click.option("--until", default=None, help="延期（分期）缴纳的最后日期 YYYY-MM-DD")
@click.option("--kind", "pay_kind", type=click.Choice(["延期", "分期"]), default=None, help="延期或分期缴纳")
@click.option("--body", default=None, help="复议机关或受理法院")
@click.option("--confirm-estimate", is_flag=True, help="确认按估算的节假日安排制发文书")
@click.option("--preview", "preview_to", type=click.Path(dir_okay=False, writable=True), default=None,
              help="只预览：把将要制发的文书（未编号）写入此 PDF 文件，不办理、不保存")
@as_option
@requires_init
def act_command(case_id, event, acted_on, note, fine, placement, school, representative, fine_reason, content,
                result, hearing_on, hearing_time, place, host, public, closed_reason, amount, receipt, until, pay_kind, body,
                confirm_estimate, preview_to, username):
    """对个案办理一项操作（升级步骤、制发文书、陈述申辩、听证、缴款、复议诉讼、复学、销号等）。"""
    case = _case(case_id)
    given = {"fine": fine, "placement": placement, "school": school, "representative": representative,
             "fine_reason": fine_reason, "content": content, "result": result, "hearing_on": hearing_on,
             "hearing_time": hearing_time, "place": place, "host": host, "closed_reason": closed_reason, "amount": amount, "receipt": receipt,
             "until": until, "kind": pay_kind, "body": body, "confirm_estimate": confirm_estimate}
    data = {k: v for k, v in given.items() if v}
    if public is not None:
        data["public"] = public
    if preview_to:
        pdf, estimates = _run(lambda: services.preview(case, event, on=acted_on.date() if acted_on else None,
                                                       data=data, user=user_by_name(username)))
        Path(preview_to).write_bytes(pdf)
        click.echo(f"预览（未编号、未保存）：{preview_to}")
        for item in estimates:
            click.echo(f"估算：{item}（该年度国务院节假日安排尚未载入；制发时须加 --confirm-estimate）")
        return
    ev = _run(lambda: services.fire(case, event, on=acted_on.date() if acted_on else None, note=note,
                                               data=data, user=user_by_name(username)))
    after_commit(lambda: services.notify_transition(case, ev))
    msg = f"个案 {case.id}：{machine.TRANSITIONS[event].label} → {machine.STATES[case.state].label}"
    if ev.letter:
        pdf = Path(current_app.instance_path) / ev.letter.pdf_path
        msg += f"；文书 {ev.letter.id} {ev.letter.doc_number}，PDF：{pdf}"
    click.echo(msg)


@cases_group.command("serve")
@click.argument("case_id", type=int)
@click.argument("letter_id", type=int)
@click.option("--on", "served_on", type=date_type, required=True, help="送达日期")
@click.option("--manner", type=click.Choice(SERVICE_MANNERS), default="直接送达", show_default=True)
@click.option("--to", "served_to", required=True, help="受送达人")
@click.option("--by", "served_by", required=True, help="送达人")
@as_option
@requires_init
def serve_command(case_id, letter_id, served_on, manner, served_to, served_by, username):
    """登记文书的送达回证（期限自送达次日起算）。"""
    case = _case(case_id)
    _run(lambda: services.record_service(case, letter_id, served_on=served_on.date(), manner=manner,
                                                    served_to=served_to, served_by=served_by, user=user_by_name(username)))
    click.echo(f"已登记送达：文书 {letter_id}，{served_on.date()} {manner}；本步期限 {case.deadline or '—'}")


@cases_group.command("correct-service")
@click.argument("case_id", type=int)
@click.argument("letter_id", type=int)
@click.option("--on", "served_on", type=date_type, required=True, help="正确的送达日期")
@click.option("--manner", type=click.Choice(SERVICE_MANNERS), default=None, help="正确的送达方式（默认不变）")
@click.option("--reason", required=True, help="更正理由")
@as_option
@requires_init
def correct_service_command(case_id, letter_id, served_on, manner, reason, username):
    """更正登记有误的送达回证（原记录保留在日志中，其后各期限随之重算）。"""
    case = _case(case_id)
    _run(lambda: services.correct_service(case, letter_id, served_on=served_on.date(), manner=manner,
                                                     reason=reason, user=user_by_name(username)))
    click.echo(f"已更正送达：文书 {letter_id}，{served_on.date()}；本步期限 {case.deadline or '—'}")


@cases_group.command("void-letter")
@click.argument("case_id", type=int)
@click.argument("letter_id", type=int)
@click.option("--on", "voided_on", type=date_type, help="作废日期（默认今天）")
@click.option("--reason", required=True, help="作废理由")
@as_option
@requires_init
def void_letter_command(case_id, letter_id, voided_on, reason, username):
    """作废一份文书（文号保留作废，不再使用），以便重新制发。"""
    case = _case(case_id)
    _run(lambda: services.void_letter(case, letter_id, on=voided_on.date() if voided_on else services.today(),
                                                 reason=reason, user=user_by_name(username)))
    click.echo(f"已作废文书 {letter_id}；个案 {case.id} 现处于“{machine.STATES[case.state].label}”")


@cases_group.command("guardian")
@click.argument("case_id", type=int)
@click.option("--address", default=None, help="监护人住址")
@click.option("--id-number", default=None, help="监护人身份证号")
@click.option("--child-address", default=None, help="学生住址")
@as_option
@requires_init
def guardian_command(case_id, address, id_number, child_address, username):
    """登记个案学生及其第一监护人的住址、监护人身份证号（处罚决定书、强制执行申请书所需）。"""
    case = _case(case_id)
    _run(lambda: services.set_addresses(case, guardian_address=address, guardian_id_number=id_number,
                                                   child_address=child_address, user=user_by_name(username)))
    click.echo(f"已登记：个案 {case.id} 的住址和身份信息")


@cases_group.command("holidays")
@click.argument("year", type=int)
@click.option("--holidays", "holidays_text", required=True,
              help="放假日期：YYYY-MM-DD 或 YYYY-MM-DD~YYYY-MM-DD，以空格或逗号分隔")
@click.option("--workdays", "workdays_text", default="", help="调休上班日期")
@click.option("--source", required=True, help="国务院办公厅通知的文号")
@as_option
@requires_init
def holidays_command(year, holidays_text, workdays_text, source, username):
    """载入一个年度的国务院放假安排（放假日和调休上班日）到数据库，所有进程即时生效；载入前该年度的期限为估算。"""
    arrangement = _run(lambda: services.load_holiday_arrangement(year, holidays_text, workdays_text, source,
                                                                 user=user_by_name(username)))
    click.echo(f"已载入 {year} 年节假日安排：放假 {len(arrangement['holidays'])} 天，调休上班 "
               f"{len(arrangement['workdays'])} 天（{source.strip()}）")
