"""``edu-guard aid …``: terms, proposing, posting and approving lists, the report, the
应助尽助 check, reversals and the bank's payment workbook from the shell.

Commands act as the bureau; ``--as USERNAME`` records a named user instead.
"""

from __future__ import annotations

import sys

from pathlib import Path

import functools

import click
from flask import current_app
import sqlalchemy as sa

from edu_guard import clock, money
from edu_guard.aid import bank, gaps, services, stats
from edu_guard.aid.models import LIST_STATES, AidList, Payment, PaymentBatch
from edu_guard.cli_util import dump_json, requires_init, run_or_fail, user_by_name
from edu_guard.db import db
from edu_guard.transaction import after_commit
from edu_guard.registry.models import School
from edu_guard.schemes.base import SchemeError
from edu_guard.aid.models import Term

aid_group = click.Group("aid", help="学生资助：学期、名单、公示、审批、发放、统计、应助尽助")
terms_group = click.Group("terms", help="学期")
aid_group.add_command(terms_group)

date_type = click.DateTime(formats=["%Y-%m-%d"])
as_option = click.option("--as", "username", default=None, help="以该用户身份办理（记入日志）")


def _run(fn):
    """Run ``fn``, or report its refusal (nothing saved)."""
    return run_or_fail(fn, services.AidError, SchemeError, ValueError)


def _term(code: str):
    try:
        return services.get_term(code)
    except services.AidError as exc:
        raise click.ClickException(str(exc)) from None


def _lists(term, scheme_code: str | None, school: str | None, state: str | None = None) -> list[AidList]:
    if scheme_code and scheme_code not in services.schemes():
        raise click.BadParameter(f"没有资助项目“{scheme_code}”（可选：{'、'.join(services.schemes())}）", param_hint="--scheme")
    stmt = sa.select(AidList).join(School, School.id == AidList.school_id).where(AidList.term_id == term.id)
    if scheme_code:
        stmt = stmt.where(AidList.scheme_code == scheme_code)
    if school:
        stmt = stmt.where(sa.or_(School.code == school, School.name == school))
    if state:
        stmt = stmt.where(AidList.state == state)
    return list(db.session.execute(stmt.order_by(AidList.scheme_code, School.code)).scalars())


@terms_group.command("add")
@click.argument("code")
@click.option("--start", type=date_type, required=True, help="开学日期")
@click.option("--end", type=date_type, required=True, help="学期结束日期")
@click.option("--school-days", type=int, required=True, help="在校天数")
@click.option("--name", default=None, help="名称（默认如 2021年春季学期）")
@requires_init
def terms_add(code, start, end, school_days, name):
    """新增学期 CODE（如 2021-spring）。"""
    term = _run(lambda: services.add_term(code, start.date(), end.date(), school_days, name))
    click.echo(f"已新增学期 {term.code} {term.name}：{term.start} 至 {term.end}，在校 {term.school_days} 天")


@terms_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def terms_list(as_json):
    """列出学期。"""

    rows = [{"code": t.code, "name": t.name, "start": t.start, "end": t.end, "school_days": t.school_days}
            for t in db.session.execute(sa.select(Term).order_by(Term.start)).scalars()]
    if as_json:
        dump_json(rows)
        return
    for r in rows:
        click.echo(f"{r['code']:<14} {r['name']}  {r['start']} 至 {r['end']}  在校 {r['school_days']} 天")


@aid_group.command("schemes")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def schemes_command(as_json):
    """列出已启用的资助项目。"""
    rows = [s.declaration() for s in services.schemes().values()]
    if as_json:
        dump_json(rows)
        return
    for r in rows:
        click.echo(f"{r['code']:<28} {r['name']}（{'、'.join(r['stages'])}，{r['unit_label']}，{r['plugin']}）")


@aid_group.command("propose")
@click.option("--term", "term_code", required=True, help="学期代码")
@click.option("--scheme", "scheme_codes", multiple=True, help="资助项目代码，可多次给出")
@click.option("--all", "all_schemes", is_flag=True, help="全部已启用的资助项目")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def propose_command(term_code, scheme_codes, all_schemes, as_json):
    """为学期生成各校拟资助名单。某个项目出错（如插件故障）时，其他项目照常生成，出错的项目及插件列在最后，退出码为 1。"""
    term = _term(term_code)
    codes = list(services.schemes()) if all_schemes else list(scheme_codes)
    if not codes:
        raise click.ClickException("请用 --scheme 指定资助项目，或用 --all")

    # In the foreground, with a progress bar on stderr (the web page queues a job instead).
    with click.progressbar(length=len(codes), label="生成名单", file=sys.stderr, hidden=as_json) as bar:
        results, failures = _run(lambda: services.propose_all(
            term, codes, progress=lambda done, total: bar.update(done - bar.pos)))
    rows = [{"scheme": r.scheme_code, "lists": r.lists, "proposed": r.proposed, "refused": r.refused,
             "amount_yuan": str(r.amount), "skipped_schools": r.skipped_schools} for r in results]
    if as_json:
        dump_json(rows)
    for r in [] if as_json else rows:
        click.echo(f"{r['scheme']}: {r['lists']} 份名单，拟资助 {r['proposed']} 人，金额 {r['amount_yuan']} 元"
                   + (f"，互斥未列入 {r['refused']} 人" if r["refused"] else "")
                   + (f"；已有名单未重新生成：{'、'.join(r['skipped_schools'])}" if r["skipped_schools"] else "")
                   + ("（本学期没有在读学生符合本项目的学段和条件，未生成名单）"
                      if not r["lists"] and not r["skipped_schools"] else ""))
    if failures:
        raise click.ClickException("以下项目未能生成名单（其他项目已生成）：\n"
                                   + "\n".join(f"{f.hook.split('.')[0]}: {f.message}" for f in failures))


@aid_group.command("lists")
@click.option("--term", "term_code", required=True, help="学期代码")
@click.option("--scheme", "scheme_code", default=None, help="资助项目代码")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def lists_command(term_code, scheme_code, as_json):
    """列出学期的名单及状态。"""
    term = _term(term_code)
    rows = []
    for lst in _lists(term, scheme_code, None):
        s = services.list_summary(lst)
        rows.append({"id": lst.id, "scheme": lst.scheme_code, "school": lst.school.name, "state": lst.state,
                     "included": s["included"], "removed": s["removed"], "amount_yuan": str(s["amount"]),
                     "posted_on": lst.posted_on, "posting_ends_on": lst.posting_ends_on})
    if as_json:
        dump_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']:>5} {r['scheme']:<24} {r['school']:<12} {LIST_STATES[r['state']]} "
                   f"{r['included']} 人 {r['amount_yuan']} 元")


@aid_group.command("post")
@click.option("--term", "term_code", required=True, help="学期代码")
@click.option("--scheme", "scheme_code", required=True, help="资助项目代码")
@click.option("--school", default=None, help="只公示该校（标识码或名称）")
@click.option("--on", "on", type=date_type, default=None, help="公示开始日期（默认今天）")
@as_option
@requires_init
def post_command(term_code, scheme_code, school, on, username):
    """公示待审核的名单（至少五个工作日）。"""
    term = _term(term_code)
    user = user_by_name(username)
    lists = _lists(term, scheme_code, school, "proposed")
    if not lists:
        raise click.ClickException("没有待公示的名单")
    _run(lambda: [services.post(lst, on=on.date() if on else None, user=user) for lst in lists])
    for lst in lists:
        click.echo(f"{lst.school.name}：公示 {lst.posted_on} 至 {lst.posting_ends_on}")


@aid_group.command("approve")
@click.option("--term", "term_code", required=True, help="学期代码")
@click.option("--scheme", "scheme_code", required=True, help="资助项目代码")
@click.option("--school", default=None, help="只审批该校（标识码或名称）")
@click.option("--on", "on", type=date_type, default=None, help="发放日期（默认今天，须在公示期满后）")
@click.option("--channel", type=click.Choice(["bank", "social_card", "in_kind"]), default="bank", show_default=True)
@as_option
@requires_init
def approve_command(term_code, scheme_code, school, on, channel, username):
    """审批公示期满的名单并生成发放批次。"""
    term = _term(term_code)
    user = user_by_name(username)
    lists = _lists(term, scheme_code, school, "posted")
    if not lists:
        raise click.ClickException("没有公示中的名单")
    with click.progressbar(lists, label="审批名单", file=sys.stderr) as bar:  # in the foreground
        batches = _run(lambda: [services.approve(lst, on=on.date() if on else None, channel=channel, user=user)
                                for lst in bar])
    for batch in batches:
        after_commit(functools.partial(services.notify_batch, batch, user))
        click.echo(f"批次 {batch.id}：{batch.aid_list.school.name} 发放 {len(batch.payments)} 人次 "
                   f"{money.from_fen(sum(p.amount_fen for p in batch.payments))} 元")


@aid_group.command("reverse")
@click.argument("payment_id", type=int)
@click.option("--reason", required=True, help="冲正原因")
@as_option
@requires_init
def reverse_command(payment_id, reason, username):
    """冲正一笔发放（不删除，统计中剔除）。"""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise click.ClickException(f"没有编号为 {payment_id} 的发放记录")
    _run(lambda: services.reverse(payment, reason, user=user_by_name(username)))
    click.echo(f"已冲正发放记录 {payment_id}（{payment.amount} 元）")


@aid_group.command("report")
@click.option("--term", "term_code", default=None, help="学期代码")
@click.option("--year", type=int, default=None, help="年度（该年开学的各学期）")
@click.option("--json", "as_json", is_flag=True, help="输出数据（JSON）")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="另存 Excel 统计表（按学段和项目，万元四位小数）")
@requires_init
def report_command(term_code, year, as_json, xlsx_path):
    """资助发放统计：按项目的人次、人数、金额（万元）及“其中”脱贫家庭学生。"""
    try:
        terms = stats.terms_for(term_code, year)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    data = stats.report(terms)
    data["sections"], failures = stats.plugin_sections(data)
    data["section_errors"] = [{"plugin": f.plugin, "error": f"{type(f.error).__name__}: {f.error}"} for f in failures]
    for failure in failures:
        click.echo(f"报表中插件提供的部分未能生成：{failure.message}", err=True)
    if xlsx_path:
        xlsx_path.write_bytes(stats.workbook(terms))
    if as_json:
        dump_json(data)
        return
    click.echo(f"{data['period']}学生资助发放情况：")
    for line in data["lines"] or ["（尚无发放记录）"]:
        click.echo(line)
    for section in data["sections"]:
        click.echo(section["title"])
        for line in section["lines"]:
            click.echo(line)
    if xlsx_path:
        click.echo(f"统计表已保存：{xlsx_path}")


@aid_group.command("gaps")
@click.option("--term", "term_code", required=True, help="学期代码")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@requires_init
def gaps_command(term_code, as_json):
    """应助尽助核查：未获资助的脱贫家庭学生、学籍终止仍获资助、互斥项目重复享受。"""
    found = gaps.check(_term(term_code))
    if as_json:
        dump_json(found)
        return
    if not found:
        click.echo("未发现问题。")
    for g in found:
        click.echo(f"[{g['kind_label']}] {g['name']} {g['id_number']} {g['school'] or ''}：{g['reason']}")


@aid_group.command("export-batch")
@click.argument("batch_id", type=int)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出 .xlsx")
@click.option("--preparer", default="", help="制表人（印在代发文件上）")
@requires_init
def export_batch_command(batch_id, out_path, preparer):
    """导出发放批次的银行代发文件（Excel：户名、账号、金额、身份证号、备注，合计及大写）。"""
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None:
        raise click.ClickException(f"没有编号为 {batch_id} 的发放批次")
    try:
        data = bank.workbook(batch, unit=current_app.config["EDU_GUARD_ISSUERS"]["bureau"]["name"],
                             preparer=preparer, made_on=clock.today())
    except bank.BankFileError as exc:
        raise click.ClickException(str(exc)) from None
    out_path.write_bytes(data)
    paid = [p for p in batch.payments if p.reversal is None and p.channel in bank.ACCOUNT_CHANNELS]
    reversed_ = sum(p.reversal is not None for p in batch.payments)
    click.echo(f"已导出 {len(paid)} 笔：{out_path}" + (f"（另有 {reversed_} 笔已冲正，未列入）" if reversed_ else ""))
