"""Children commands (学生名册): ``edu-guard children show|list``, within the ``--as``
user's scope. A child's record shows its open cases too, so the commands live in the
cases layer, above the registry (docs/architecture.md)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from edu_guard.auth.scoping import scope_children
from edu_guard.cases.machine import OPEN, STATES
from edu_guard.cases.models import DropoutCase
from edu_guard.cli_util import dump_json, requires_init, user_by_name
from edu_guard.db import db
from edu_guard.registry.identity import normalize_id
from edu_guard.registry.models import Child, Enrollment, FamilyStatus, School, Township
from edu_guard.registry.search import number_condition

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
