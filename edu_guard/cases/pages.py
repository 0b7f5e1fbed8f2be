"""The pages that show a child's whole file (个人档案): the home page and the child page.

They gather the registry, the dropout cases and their visits, and (through the
``counted_as_enrolled`` hook) what the features above know, so they live in the cases
layer; they keep the registry blueprint's endpoints (``registry.index``,
``registry.child_detail``) that every template links to.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user
from sqlalchemy.orm import selectinload

from edu_guard.auth.scoping import scope_cases, scope_children, scope_schools
from edu_guard.cases.machine import OPEN, STATES
from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard import clock
from edu_guard.db import db
from edu_guard.registry.enrolled import counted_enrolled
from edu_guard.registry.importers import importers
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, FamilyStatus, School, StatusChange
from edu_guard.registry.views import IMPORT_VIEW_ROLES, _import_runs, bp, get_child_or_404, import_kinds

@bp.get("/")
def index():
    """Show the home page: children in school, open cases by step, schools, and the
    latest imports, all within the user's scope."""
    enrolled = db.session.execute(
        scope_children(
            sa.select(sa.func.count(Child.id)).where(
                Child.id.in_(sa.select(Enrollment.child_id).where(Enrollment.status == "在读"))
            ),
            current_user,
        )
    ).scalar_one()
    children_total = db.session.execute(scope_children(sa.select(sa.func.count(Child.id)), current_user)).scalar_one()
    by_state = dict(
        db.session.execute(
            scope_cases(
                sa.select(DropoutCase.state, sa.func.count(DropoutCase.id)).where(DropoutCase.state.in_(OPEN)),
                current_user,
            ).group_by(DropoutCase.state)
        ).all()
    )
    steps = [{"state": name, "label": STATES[name].label, "count": by_state.get(name, 0)} for name in OPEN]
    schools = db.session.execute(scope_schools(sa.select(sa.func.count(School.id)), current_user)).scalar_one()
    imports = _import_runs(limit=5) if current_user.role in IMPORT_VIEW_ROLES else None
    return render_template(
        "registry/index.html",
        enrolled=enrolled,
        children_total=children_total,
        steps=steps,
        open_cases=sum(s["count"] for s in steps),
        max_step=max([s["count"] for s in steps] + [1]),
        schools=schools,
        imports=imports,
        import_kinds=import_kinds(),
    )


@bp.get("/children/<int:child_id>")
def child_detail(child_id: int):
    """Show one child: identity, guardians, enrollments and status changes, family
    statuses, disability record, cases and home visits."""
    child = get_child_or_404(child_id)
    enrollments = (
        db.session.execute(
            sa.select(Enrollment)
            .where(Enrollment.child_id == child.id)
            .options(selectinload(Enrollment.school).selectinload(School.township))
            .order_by(Enrollment.id)
        )
        .scalars()
        .all()
    )
    changes = (
        db.session.execute(
            sa.select(StatusChange)
            .where(sa.or_(StatusChange.child_id == child.id, StatusChange.id_number == child.id_number))
            .order_by(StatusChange.changed_on, StatusChange.id)
        )
        .scalars()
        .all()
    )
    statuses = (
        db.session.execute(
            sa.select(FamilyStatus)
            .where(FamilyStatus.id_number == child.id_number)
            .order_by(FamilyStatus.risk_removed, FamilyStatus.kind)
        )
        .scalars()
        .all()
    )
    disability = db.session.execute(
        sa.select(DisabilityRecord).where(DisabilityRecord.id_number == child.id_number)
    ).scalar_one_or_none()
    cases = (
        db.session.execute(
            scope_cases(sa.select(DropoutCase).where(DropoutCase.child_id == child.id), current_user).order_by(
                DropoutCase.opened_on.desc(), DropoutCase.id.desc()
            )
        )
        .scalars()
        .all()
    )
    visits = (
        db.session.execute(
            sa.select(HomeVisit)
            .where(HomeVisit.child_id == child.id)
            .order_by(HomeVisit.visited_on.desc(), HomeVisit.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "registry/child.html",
        child=child,
        enrollments=enrollments,
        changes=changes,
        statuses=statuses,
        disability=disability,
        cases=cases,
        has_open_case=any(c.state != "closed" for c in cases),
        homebound=counted_enrolled(clock.today(), child.id).get(child.id),
        states=STATES,
        visits=visits,
        source_labels={cls.source: cls.label for cls in importers().values() if getattr(cls, "source", None)},
    )
