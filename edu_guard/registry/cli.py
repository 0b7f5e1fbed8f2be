"""Registry commands: ``edu-guard import KIND PATH``, ``edu-guard demo`` and
``edu-guard children show|list``.

The imports commit once at the end (the services only flush) and roll back on any
error; the children commands only read, within the ``--as`` user's scope.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from edu_guard.auth.scoping import scope_children
from edu_guard.cases.machine import OPEN, STATES
from edu_guard.cases.models import DropoutCase
from edu_guard.cli_util import dump_json, requires_init, user_by_name
from edu_guard.db import db
from edu_guard.registry.identity import normalize_id
from edu_guard.registry.importers import importers
from edu_guard.registry.models import Child, Enrollment, FamilyStatus, School, Township
from edu_guard.registry.search import number_condition
from edu_guard.registry.services import (
    ImportFileError,
    ImportResult,
    describe_source,
    import_file,
    load_demo,
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


@click.command("demo")
@requires_init
def demo_command() -> None:
    """载入示例县（景洪市 2021 年春季学期）的全部数据：学校、花名册、勐罕镇名册、学籍变动、
    脱贫户和监测对象、残疾儿童。已载入过的文件跳过，再次运行不做任何更改。"""
    from edu_guard.aid.services import load_demo_term

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


# --- children ---------------------------------------------------------------------

children_group = click.Group("children", help="学生名册：查看一名学生、按学校或乡镇列出（在用户的数据范围内）")
_as_option = click.option("--as", "username", default=None, help="按该用户的数据范围（学校用户只见本校学生）")


def child_record(child: Child) -> dict:
    """Return a child's record as the CLI prints it (JSON-ready).

    Name, document type and number, sex, birth date, township, village, family
    statuses, guardians with phones, enrollments (school, grade, class, 学籍号,
    status) and open cases.
    """
    statuses = db.session.execute(
        sa.select(FamilyStatus).where(FamilyStatus.id_number == child.id_number).order_by(FamilyStatus.kind)
    ).scalars().all() if child.id_number else []
    cases = db.session.execute(
        sa.select(DropoutCase).where(DropoutCase.child_id == child.id, DropoutCase.state.in_(OPEN))
        .order_by(DropoutCase.opened_on)
    ).scalars().all()
    return {
        "id": child.id,
        "name": child.name,
        "id_type": child.id_type,
        "id_number": child.id_number,
        "needs_id_follow_up": child.needs_id_follow_up,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "ethnicity": child.ethnicity,
        "township": child.township.name if child.township else None,
        "village": child.village.name if child.village else None,
        "family_statuses": [
            {"kind": s.kind, "category": s.category, "source": s.source, "risk_removed": s.risk_removed}
            for s in statuses
        ],
        "guardians": [{"name": g.name, "relation": g.relation, "phone": g.phone} for g in child.guardians],
        "enrollments": [
            {"school": e.school.name, "school_code": e.school.code, "grade": e.grade, "class": e.class_name,
             "student_number": e.student_number, "status": e.status}
            for e in child.enrollments
        ],
        "open_cases": [
            {"id": c.id, "state": c.state, "state_label": STATES[c.state].label, "opened_on": c.opened_on.isoformat(),
             "deadline": c.deadline.isoformat() if c.deadline else None}
            for c in cases
        ],
    }


@children_group.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@_as_option
@requires_init
def show_child(number: str, as_json: bool, username: str | None) -> None:
    """显示证件号码（或全国学籍号）为 NUMBER 的学生：证件、家庭类型、监护人、学籍、在办个案。"""
    user = user_by_name(username)
    stmt = scope_children(
        sa.select(Child).where(sa.or_(
            number_condition(Child.id_number, number, exact=True),
            Child.id.in_(sa.select(Enrollment.child_id).where(number_condition(Enrollment.student_number, number, exact=True))),
        )),
        user,
    )
    child = db.session.execute(stmt).scalars().first()
    if child is None:
        raise click.ClickException(f"学籍库中没有证件号码或学籍号为 {normalize_id(number)} 的学生（或不在您的数据范围内）")
    record = child_record(child)
    if as_json:
        dump_json(record)
        return
    click.echo(f"{record['name']}  {record['id_type']} {record['id_number'] or '（无证件，需跟进）'}  "
               f"{record['sex']}  {record['birth_date']}")
    click.echo(f"  住址：{record['township'] or '-'} {record['village'] or ''}")
    if record["family_statuses"]:
        click.echo("  家庭类型：" + "、".join(s["category"] or s["kind"] for s in record["family_statuses"]))
    for g in record["guardians"]:
        click.echo(f"  监护人：{g['name'] or '（未填姓名）'} {g['relation'] or ''} {g['phone'] or ''}")
    for e in record["enrollments"]:
        click.echo(f"  学籍：{e['school']} {e['grade'] or ''}{e['class'] or ''} 学籍号 {e['student_number'] or '-'}（{e['status']}）")
    for c in record["open_cases"]:
        click.echo(f"  在办个案 {c['id']}：{c['state_label']}，立案 {c['opened_on']}，期限 {c['deadline'] or '-'}")


@children_group.command("list")
@click.option("--school", default=None, help="学校标识码或学校名称")
@click.option("--township", default=None, help="乡镇名称（住在该乡镇或在该乡镇的学校就读）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@_as_option
@requires_init
def list_children(school: str | None, township: str | None, as_json: bool, username: str | None) -> None:
    """列出学生（在用户的数据范围内），可按学校、乡镇筛选。"""
    stmt = scope_children(sa.select(Child), user_by_name(username))
    if school:
        found = db.session.execute(
            sa.select(School.id).where(sa.or_(School.code == school.strip(), School.name == school.strip()))
        ).scalars().all()
        if not found:
            raise click.ClickException(f"没有学校 {school}")
        stmt = stmt.where(Child.id.in_(sa.select(Enrollment.child_id).where(Enrollment.school_id.in_(found))))
    if township:
        town = db.session.execute(sa.select(Township.id).where(Township.name == township.strip())).scalars().all()
        if not town:
            raise click.ClickException(f"没有乡镇 {township}")
        at_school = sa.select(Enrollment.child_id).join(School).where(School.township_id.in_(town))
        stmt = stmt.where(sa.or_(Child.township_id.in_(town), Child.id.in_(at_school)))
    children = db.session.execute(
        stmt.order_by(Child.id).options(selectinload(Child.enrollments).selectinload(Enrollment.school),
                                        selectinload(Child.township))
    ).scalars().all()
    rows = [
        {"id": c.id, "name": c.name, "id_type": c.id_type, "id_number": c.id_number, "sex": c.sex,
         "birth_date": c.birth_date.isoformat(), "township": c.township.name if c.township else None,
         "school": c.current_enrollment.school.name if c.current_enrollment else None,
         "grade": c.current_enrollment.grade if c.current_enrollment else None,
         "student_number": c.current_enrollment.student_number if c.current_enrollment else None,
         "status": c.current_enrollment.status if c.current_enrollment else None}
        for c in children
    ]
    if as_json:
        dump_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']:>6}  {r['name']}  {r['id_number'] or '（无证件）'}  {r['school'] or '-'} {r['grade'] or ''}  "
                   f"{r['status'] or ''}")
    click.echo(f"共 {len(rows)} 人")
