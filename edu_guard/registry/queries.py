"""The registry's reads for its pages (学籍查询): the children list's filters and search,
a child's file, the import runs. Views call these and render; they build no queries."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from edu_guard.auth.models import User
from edu_guard.auth.scoping import condition, scope_children, scope_schools
from edu_guard.db import db
from edu_guard.lists import GRADE_ORDER, grade_rank
from edu_guard.registry.search import child_condition
from edu_guard.registry.models import (
    FAMILY_STATUS_KINDS,
    Child,
    DisabilityRecord,
    Enrollment,
    FamilyStatus,
    ImportRun,
    School,
    StatusChange,
    Township,
)



def filter_choices(user) -> tuple[list, list, list[str]]:
    """Return the townships ``(id, name)``, schools ``(id, name, township_id)`` and
    grades the children list may be filtered by, within ``user``'s scope."""
    schools = db.session.execute(
        scope_schools(sa.select(School.id, School.name, School.township_id).outerjoin(Township, Township.id == School.township_id)
                      .order_by(Township.name, School.code), user)
    ).all()
    township_stmt = sa.select(Township.id, Township.name).order_by(Township.name)
    if user.role in ("township", "school"):
        township_stmt = township_stmt.where(
            Township.id.in_({s.township_id for s in schools} | {user.township_id} - {None})
        )
    elif getattr(user, "division_code", None):  # a county user of a database of several counties
        township_stmt = township_stmt.where(Township.county_code == user.division_code)
    townships = db.session.execute(township_stmt).all()
    grade_stmt = sa.select(Enrollment.grade).where(Enrollment.grade.is_not(None)).distinct()
    if condition(School, user) is not None:  # the grades of the user's schools (read by school)
        grade_stmt = grade_stmt.where(Enrollment.school_id.in_([s.id for s in schools]))
    grades = db.session.execute(grade_stmt).scalars()
    grades = sorted(grades, key=lambda g: (GRADE_ORDER.index(g) if g in GRADE_ORDER else len(GRADE_ORDER), g))
    return townships, schools, grades


def children_query(filters: dict, user) -> sa.Select:
    """Return ``select(Child)`` for the list: scoped to ``user`` and filtered.

    :param filters: from :meth:`ChildFilterForm.cleaned`: ``q`` matches part of the
        name (with or without its 间隔号), the ID number or the 全国学籍号
        (:func:`edu_guard.registry.search.child_condition`); ``school``, ``grade`` and ``status``
        must hold for one and the same enrollment; ``township`` is where the child
        lives or goes to school; ``family`` is a current family status kind.
    """
    stmt = scope_children(sa.select(Child), user)
    q = filters.get("q")
    if q:
        stmt = stmt.where(child_condition(q))
    if filters.get("township"):
        at_school = sa.select(Enrollment.child_id).join(School).where(School.township_id == filters["township"])
        stmt = stmt.where(sa.or_(Child.township_id == filters["township"], Child.id.in_(at_school)))
    enrollment_conditions = []
    if filters.get("school"):
        enrollment_conditions.append(Enrollment.school_id == filters["school"])
    if filters.get("grade"):
        enrollment_conditions.append(Enrollment.grade == filters["grade"])
    if filters.get("status"):
        enrollment_conditions.append(Enrollment.status == filters["status"])
    if enrollment_conditions:
        stmt = stmt.where(Child.id.in_(sa.select(Enrollment.child_id).where(*enrollment_conditions)))
    if filters.get("family"):
        stmt = stmt.where(
            Child.id_number.in_(
                sa.select(FamilyStatus.id_number).where(
                    FamilyStatus.kind == filters["family"], FamilyStatus.risk_removed.is_(False)
                )
            )
        )
    return in_pupil_order(stmt, Child.id, Child.name)


def in_pupil_order(stmt: sa.Select, child_id, child_name, *tail) -> sa.Select:
    """Order ``stmt`` as clerks read a list of pupils (:mod:`edu_guard.lists`): township →
    school (by 学校标识码) → grade (in school order) → class → name, by each child's
    latest enrollment; children without one last (NULLs sort alike on every database).

    :param stmt: a select whose rows carry a child (a case, a payment, a child).
    :param child_id: the column of ``stmt`` holding the child's id.
    :param child_name: the column holding the child's name (``Child.name``, joined).
    :param tail: further columns to break ties (e.g. the row's id).
    :return: ``stmt`` with the outer joins and the order added.
    """
    # The latest enrollment of each listed child, grouped over the listed children's
    # enrollments only, not every enrollment of the database (bench/README.md
    # "Province": 1.3 s of a 1,000,000-child database's list page).
    listed = stmt.with_only_columns(child_id).order_by(None)
    latest = (sa.select(Enrollment.child_id, sa.func.max(Enrollment.id).label("eid"))
              .where(Enrollment.child_id.in_(listed)).group_by(Enrollment.child_id).subquery())
    shown = sa.orm.aliased(Enrollment)
    school = sa.orm.aliased(School)
    town = sa.orm.aliased(Township)
    stmt = (stmt.outerjoin(latest, latest.c.child_id == child_id).outerjoin(shown, shown.id == latest.c.eid)
            .outerjoin(school, school.id == shown.school_id).outerjoin(town, town.id == school.township_id))
    return stmt.order_by(town.name.is_(None), town.name, school.code.is_(None), school.code, grade_rank(shown.grade),
                         shown.class_name, child_name, child_id, *tail)


def family_kinds(id_numbers: list[str]) -> dict[str, list[str]]:
    """Return the current family status kinds of each ID number (one query)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    if id_numbers:
        rows = db.session.execute(
            sa.select(FamilyStatus.id_number, FamilyStatus.kind).where(
                FamilyStatus.id_number.in_(id_numbers), FamilyStatus.risk_removed.is_(False)
            )
        )
        for id_number, kind in rows:
            kinds[id_number].add(kind)
    order = {k: i for i, k in enumerate(FAMILY_STATUS_KINDS)}
    return {n: sorted(ks, key=lambda k: order.get(k, 99)) for n, ks in kinds.items()}


def child_file(child: Child) -> dict:
    """Return what the registry holds on ``child``: ``enrollments`` (with schools),
    ``changes`` (status changes, by child or ID number), ``statuses`` (family statuses)
    and ``disability`` (the disabled persons' list record, or ``None``)."""
    enrollments = db.session.execute(
        sa.select(Enrollment).where(Enrollment.child_id == child.id)
        .options(selectinload(Enrollment.school).selectinload(School.township)).order_by(Enrollment.id)
    ).scalars().all()
    changes = db.session.execute(
        sa.select(StatusChange)
        .where(sa.or_(StatusChange.child_id == child.id, StatusChange.id_number == child.id_number))
        .order_by(StatusChange.changed_on, StatusChange.id)
    ).scalars().all()
    statuses = db.session.execute(
        sa.select(FamilyStatus).where(FamilyStatus.id_number == child.id_number)
        .order_by(FamilyStatus.risk_removed, FamilyStatus.kind)
    ).scalars().all()
    disability = db.session.execute(
        sa.select(DisabilityRecord).where(DisabilityRecord.id_number == child.id_number)
    ).scalar_one_or_none()
    return {"enrollments": enrollments, "changes": changes, "statuses": statuses, "disability": disability}


def children_counts(user) -> dict[str, int]:
    """Return ``enrolled`` (children with a 在读 enrollment), ``children`` and
    ``schools`` within ``user``'s scope, for the home page."""
    enrolled = db.session.execute(scope_children(
        sa.select(sa.func.count(Child.id)).where(
            Child.id.in_(sa.select(Enrollment.child_id).where(Enrollment.status == "在读"))), user)).scalar_one()
    children = db.session.execute(scope_children(sa.select(sa.func.count(Child.id)), user)).scalar_one()
    schools = db.session.execute(scope_schools(sa.select(sa.func.count(School.id)), user)).scalar_one()
    return {"enrolled": enrolled, "children": children, "schools": schools}


def user_names(runs) -> dict[int, str]:
    """Return user id → display name for the users who made ``runs``."""
    ids = {r.user_id for r in runs if r.user_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def import_runs(limit: int | None = None) -> sa.Select:
    """Return ``select(ImportRun)``, newest first (the first ``limit`` when given)."""
    stmt = sa.select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
    return stmt if limit is None else stmt.limit(limit)


def child_by_id_number(id_number: str) -> Child | None:
    """Return the child with the (normalised) ID number ``id_number``, or ``None``;
    inside a request, only a child in the user's scope (docs/architecture.md, Scoping)."""
    return db.session.execute(sa.select(Child).where(Child.id_number == id_number)).scalar_one_or_none()
