"""The cases' reads for the pages (个案查询): open cases by step, a child's cases and
home visits. Views call these and render."""

from __future__ import annotations

import sqlalchemy as sa

from edu_guard.auth.scoping import scope_cases
from edu_guard.cases.machine import OPEN, STATES
from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard.db import db
from edu_guard.registry.models import Child, School, Township
from edu_guard.registry.queries import in_pupil_order
from edu_guard.registry.search import name_condition, number_condition



def case_by_id(case_id: int, user) -> DropoutCase | None:
    """Return the case ``case_id`` if ``user`` may see it, else ``None``."""
    stmt = scope_cases(sa.select(DropoutCase).where(DropoutCase.id == case_id), user)
    return db.session.execute(stmt).scalar_one_or_none()


def still_open(stmt: sa.Select) -> list[DropoutCase]:
    """Return the cases of ``stmt`` (a ``select(DropoutCase)``) that are not closed."""
    return db.session.execute(stmt.where(DropoutCase.state != "closed")).scalars().all()


def only(stmt: sa.Select, cases) -> sa.Select:
    """Limit ``stmt`` (a ``select(DropoutCase)``) to ``cases`` (none: no row)."""
    return stmt.where(DropoutCase.id.in_([c.id for c in cases] or [-1]))


def cases_by_state(user) -> dict[str, int]:
    """Return the number of open cases in each open state, within ``user``'s scope."""
    stmt = scope_cases(sa.select(DropoutCase.state, sa.func.count(DropoutCase.id)).where(DropoutCase.state.in_(OPEN)),
                       user).group_by(DropoutCase.state)
    return dict(db.session.execute(stmt).all())


def child_cases(child, user) -> list[DropoutCase]:
    """Return the child's cases ``user`` may see, newest first."""
    stmt = scope_cases(sa.select(DropoutCase).where(DropoutCase.child_id == child.id), user)
    return db.session.execute(stmt.order_by(DropoutCase.opened_on.desc(), DropoutCase.id.desc())).scalars().all()


def child_visits(child) -> list[HomeVisit]:
    """Return the home visits of the child, newest first."""
    return db.session.execute(
        sa.select(HomeVisit).where(HomeVisit.child_id == child.id)
        .order_by(HomeVisit.visited_on.desc(), HomeVisit.id.desc())).scalars().all()


def case_list(user, *, state: str = "open", township_id: int | None = None, school_id: int | None = None,
              overdue_on=None, text: str | None = None) -> sa.Select:
    """Return ``select(DropoutCase)`` of the cases list, within ``user``'s scope.

    :param state: ``"open"`` (every state but closed) or one state of the machine (any
        other value: every case).
    :param overdue_on: only open cases whose deadline is before this date.
    :param text: a name (with or without its 间隔号) or an exact document number.
    :return: in the clerk's order (township → school → grade → class → name,
        :func:`edu_guard.registry.queries.in_pupil_order`), then case id.
    """
    stmt = scope_cases(sa.select(DropoutCase).join(Child), user)
    if state == "open":
        stmt = stmt.where(DropoutCase.state != "closed")
    elif state in STATES:
        stmt = stmt.where(DropoutCase.state == state)
    if township_id:
        stmt = stmt.where(DropoutCase.township_id == township_id)
    if school_id:
        stmt = stmt.where(DropoutCase.school_id == school_id)
    if overdue_on is not None:
        stmt = stmt.where(DropoutCase.deadline < overdue_on, DropoutCase.state.in_(OPEN))
    if text:
        stmt = stmt.where(sa.or_(name_condition(Child.name, text), number_condition(Child.id_number, text, exact=True)))
    return in_pupil_order(stmt, DropoutCase.child_id, Child.name, DropoutCase.id)


def areas() -> tuple[list[Township], list[School]]:
    """Return the townships (by name) and schools (by code) a list may be filtered by."""
    return (db.session.execute(sa.select(Township).order_by(Township.name)).scalars().all(),
            db.session.execute(sa.select(School).outerjoin(Township, Township.id == School.township_id)
                               .order_by(Township.name, School.code)).scalars().all())
