"""Scoping (数据权限): the one place that limits queries to a user's area (SPEC 2.8).

Admins, clerks and auditors see the county; a township user sees the township; a
school user sees the school.
"""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.auth.models import User


def scope_children(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(Child)`` statement to the children ``user`` may see.

    A township user sees children living in the township or enrolled at its schools; a
    school user, the children enrolled at the school.
    """
    from edu_guard.registry.models import Child, Enrollment, School

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        at_school = sa.select(Enrollment.child_id).join(School).where(School.township_id == user.township_id)
        return stmt.where(sa.or_(Child.township_id == user.township_id, Child.id.in_(at_school)))
    if user.role == "school":
        return stmt.where(Child.id.in_(sa.select(Enrollment.child_id).where(Enrollment.school_id == user.school_id)))
    return stmt.where(sa.false())


def scope_cases(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(DropoutCase)`` statement to the cases ``user`` may see."""
    from edu_guard.cases.models import DropoutCase

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        return stmt.where(DropoutCase.township_id == user.township_id)
    if user.role == "school":
        return stmt.where(DropoutCase.school_id == user.school_id)
    return stmt.where(sa.false())


def scope_jobs(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(Job)`` statement to the jobs ``user`` may see: the county's
    users every job; a township or school user the jobs submitted in their area (and
    their own)."""
    from edu_guard.jobs.models import Job

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        return stmt.where(sa.or_(Job.owner_id == user.id, Job.township_id == user.township_id))
    if user.role == "school":
        return stmt.where(sa.or_(Job.owner_id == user.id, Job.school_id == user.school_id))
    return stmt.where(Job.owner_id == user.id)


def scope_schools(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(School)`` statement to the schools ``user`` may see: a township
    user, the township's schools; a school user, the school."""
    from edu_guard.registry.models import School

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        return stmt.where(School.township_id == user.township_id)
    if user.role == "school":
        return stmt.where(School.id == user.school_id)
    return stmt.where(sa.false())


def scope_aid_lists(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(AidList)`` statement to the aid lists ``user`` may see: a
    township user, the lists of the township's schools; a school user, the school's."""
    from edu_guard.aid.models import AidList
    from edu_guard.registry.models import School

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        return stmt.where(AidList.school_id.in_(sa.select(School.id).where(School.township_id == user.township_id)))
    if user.role == "school":
        return stmt.where(AidList.school_id == user.school_id)
    return stmt.where(sa.false())


def scope_payments(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(Payment)`` statement to the payments ``user`` may see (by the
    paying school, as :func:`scope_aid_lists`)."""
    from edu_guard.aid.models import Payment
    from edu_guard.registry.models import School

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        return stmt.where(Payment.school_id.in_(sa.select(School.id).where(School.township_id == user.township_id)))
    if user.role == "school":
        return stmt.where(Payment.school_id == user.school_id)
    return stmt.where(sa.false())


def scope_placements(stmt: sa.Select, user: User | None) -> sa.Select:
    """Limit a ``select(HomeboundPlacement)`` statement to the 送教上门 placements
    ``user`` may see: a township user, those delivered by the township's schools or of
    children living there; a school user, only those its own school delivers."""
    from edu_guard.homebound.models import HomeboundPlacement
    from edu_guard.registry.models import Child, School

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return stmt
    if user.role == "township":
        schools = sa.select(School.id).where(School.township_id == user.township_id)
        living = sa.select(Child.id).where(Child.township_id == user.township_id)
        return stmt.where(sa.or_(HomeboundPlacement.school_id.in_(schools), HomeboundPlacement.child_id.in_(living)))
    if user.role == "school":
        return stmt.where(HomeboundPlacement.school_id == user.school_id)
    return stmt.where(sa.false())


def can_see_placement(user: User | None, placement) -> bool:
    """Return whether ``user`` may see ``placement`` (same rule as :func:`scope_placements`)."""
    from edu_guard.db import db
    from edu_guard.homebound.models import HomeboundPlacement

    stmt = scope_placements(sa.select(HomeboundPlacement.id).where(HomeboundPlacement.id == placement.id), user)
    return db.session.execute(stmt).first() is not None


def can_see_candidate(user: User | None, township: str | None, school_id: int | None) -> bool:
    """Return whether ``user`` may see a 送教上门 candidate living in the township named
    ``township`` (as the disabled persons' list names it) and enrolled at the school
    ``school_id`` (if any): a township user, those of its township by either; a school
    user, only those enrolled at its school."""
    from edu_guard.db import db
    from edu_guard.registry.models import School, Township

    if user is None or user.role in ("admin", "clerk", "auditor"):
        return True
    if user.role == "school":
        return school_id is not None and school_id == user.school_id
    if user.role == "township":
        own = db.session.get(Township, user.township_id)
        school = db.session.get(School, school_id) if school_id else None
        return (own is not None and township == own.name) or (school is not None and school.township_id == user.township_id)
    return False


def can_see_child(user: User | None, child) -> bool:
    """Return whether ``user`` may see ``child`` (same rule as :func:`scope_children`)."""
    from edu_guard.db import db
    from edu_guard.registry.models import Child

    stmt = scope_children(sa.select(Child.id).where(Child.id == child.id), user)
    return db.session.execute(stmt).first() is not None


def can_see_case(user: User | None, case) -> bool:
    """Return whether ``user`` may see ``case`` (same rule as :func:`scope_cases`)."""
    from edu_guard.cases.models import DropoutCase
    from edu_guard.db import db

    stmt = scope_cases(sa.select(DropoutCase.id).where(DropoutCase.id == case.id), user)
    return db.session.execute(stmt).first() is not None
