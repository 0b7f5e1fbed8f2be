"""The access layer's reads for its pages: the areas a user can be given, the user
list, and the audit log with its filters. Views call these and render."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from edu_guard import clock
from edu_guard.auth.models import AuditLog, User
from edu_guard.db import db


def area_choices(county: str | None = None) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """Return the townships ``[(id, name)]`` by name and the schools ``[(id, name,
    township name)]`` by township and school code, for the user form; those of the
    county ``county`` (GB/T 2260) only when given (an administrator of one county among
    several).

    The area tables are read by name, as User's foreign keys name them: the registry
    that defines their models sits above auth (docs/architecture.md).
    """
    township, school = db.metadata.tables["township"], db.metadata.tables["school"]
    town_stmt = sa.select(township.c.id, township.c.name).order_by(township.c.name)
    school_stmt = (sa.select(school.c.id, school.c.name, township.c.name)
                   .join(township, school.c.township_id == township.c.id)
                   .order_by(township.c.name, school.c.code))
    if county:
        town_stmt = town_stmt.where(township.c.county_code == county)
        school_stmt = school_stmt.where(school.c.county_code == county)
    townships = db.session.execute(town_stmt).all()
    schools = db.session.execute(school_stmt).all()
    return [tuple(t) for t in townships], [tuple(s) for s in schools]


def divisions(county: str | None = None) -> list[tuple[str, str]]:
    """Return the administrative divisions ``[(code, name)]`` by code (GB/T 2260), for
    the user form (only the county ``county`` when given); read by table name, as User's
    foreign key names it."""
    division = db.metadata.tables["division"]
    stmt = sa.select(division.c.code, division.c.name).order_by(division.c.code)
    if county:
        stmt = stmt.where(division.c.code == county)
    return [tuple(d) for d in db.session.execute(stmt)]


def users(where: sa.ColumnElement[bool] | None = None) -> list[User]:
    """Return every user (those meeting ``where`` when given: an administrator's county,
    ``auth.services.managed_users``) with township and school loaded, by role then user name."""
    stmt = sa.select(User).options(selectinload(User.township), selectinload(User.school))
    if where is not None:
        stmt = stmt.where(where)
    return db.session.execute(stmt.order_by(User.role, User.username)).scalars().all()


class AuditFilters(TypedDict):
    """The audit page's filters; ``None`` means "any"."""

    user_id: int | None
    entity: str | None
    entity_id: int | None
    action: str | None
    #: First and last day shown, inclusive, calendar days of the county's zone.
    start: date | None
    end: date | None


def audit_rows(filters: AuditFilters, users: sa.ColumnElement[bool] | None = None) -> sa.Select:
    """Return ``select(AuditLog)`` limited by ``filters``, newest first; with ``users`` (a
    condition on ``User``: a county reader's county, ``auth.services.managed_users``),
    only the rows written by those users.

    The days are the county's calendar days (``clock.county_zone()``, as the page shows
    the times): ``end`` includes its whole day.
    """
    stmt = sa.select(AuditLog)
    if users is not None:
        stmt = stmt.where(AuditLog.user_id.in_(sa.select(User.id).where(users)))
    if filters["user_id"]:
        stmt = stmt.where(AuditLog.user_id == filters["user_id"])
    if filters["entity"]:
        stmt = stmt.where(AuditLog.entity == filters["entity"])
    if filters["entity_id"]:
        stmt = stmt.where(AuditLog.entity_id == filters["entity_id"])
    if filters["action"]:
        stmt = stmt.where(AuditLog.action == filters["action"])
    zone = clock.county_zone()
    if filters["start"]:
        stmt = stmt.where(AuditLog.at >= datetime.combine(filters["start"], time(), zone))
    if filters["end"]:
        stmt = stmt.where(AuditLog.at < datetime.combine(filters["end"] + timedelta(days=1), time(), zone))
    return stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())


def audit_choices(users: sa.ColumnElement[bool] | None = None) -> tuple[dict[int, str], list[str], list[str]]:
    """Return the audit page's filter choices: ``{user id: display name}`` (of the users
    meeting ``users`` when given), the object types and the actions that occur in the
    log, sorted."""
    known = sa.select(User.id, User.display_name)
    names = dict(db.session.execute(known if users is None else known.where(users)).all())
    entities = db.session.execute(sa.select(AuditLog.entity).distinct().order_by(AuditLog.entity)).scalars().all()
    actions = db.session.execute(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)).scalars().all()
    return names, entities, actions
