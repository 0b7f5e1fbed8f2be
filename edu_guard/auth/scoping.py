"""Scoping (数据权限): the one place that limits reads to a user's area.

Admins, clerks and auditors see the county; a township user sees the township; a school
user sees the school (docs/domain.md, "Who sees what"). When several counties share the
database, a county user has a county (``User.division_code``) and sees that county only;
a prefecture or province user (``auth.models.SUPERIOR_ROLES``) sees no child-level row at all:
its pages show aggregates of its counties (``edu_guard.reports.province``).

Scoping is core and knows no feature: each model that is scoped registers, next to its
definition, the rule that limits it for a township or a school user (:func:`rule`) and
the rule that limits it to a set of counties (:func:`county_rule`).

**By default.** Inside a request, every ORM ``select`` (and ``session.get``) of a scoped
model is limited to the signed-in user's scope: a ``do_orm_execute`` listener adds
SQLAlchemy's ``with_loader_criteria`` for each registered rule, wherever the model
appears (joins and subqueries included). Code that must see past the user's scope says
so, with its reason: ``with unscoped("one open case per child, county-wide"):`` or
``stmt.execution_options(unscoped="…")`` — typically a check that keeps the county's
data whole (no second open case, no double payment). Commands and jobs have no signed-in
user and see the county; they pass their ``--as`` user to the functions below.
:func:`scope` and ``scope_children`` and friends remain for explicit use.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from edu_guard.auth.models import User
from edu_guard.db import db

#: The user a job acts for (:func:`acting_as`): its reads are scoped as their requests are.
_ACTING: contextvars.ContextVar[User | None] = contextvars.ContextVar("edu_guard_acting", default=None)

#: The reason the code in a ``with unscoped(reason):`` block reads past the user's scope.
_UNSCOPED: contextvars.ContextVar[str | None] = contextvars.ContextVar("edu_guard_unscoped", default=None)

#: Roles that see the whole county.
COUNTY_ROLES = ("admin", "clerk", "auditor")

#: model class → rule(user) → a SQL condition on the model, for a township or school user.
_RULES: dict[type, Callable[[User], sa.ColumnElement[bool]]] = {}

#: model class → rule(county codes) → a SQL condition on the model, for a county user.
_COUNTY_RULES: dict[type, Callable[[list[str]], sa.ColumnElement[bool]]] = {}


#: The models scoped by default inside a request (see below); the others are scoped only
#: where the code asks (:func:`scope`).
_DEFAULT: set[type] = set()


def rule(model: type, *, by_default: bool = True) -> Callable:
    """Register the decorated function as ``model``'s scope rule: called with a township
    or school user, it returns the SQL condition rows of ``model`` must meet.

    :param by_default: apply it to every read inside a request (personal data: children,
        cases, letters …); ``False`` for reference data shown beside them (schools),
        which is limited only where the code asks, as in a filter's choices.
    """

    def register(fn: Callable[[User], sa.ColumnElement[bool]]):
        _RULES[model] = fn
        if by_default:
            _DEFAULT.add(model)
        return fn

    return register


def county_rule(model: type) -> Callable:
    """Register the decorated function as ``model``'s county rule: called with a list of
    county codes (GB/T 2260, 6 digits), it returns the SQL condition the rows of those
    counties meet. Every model with a :func:`rule` needs one (tests/auth check it)."""

    def register(fn: Callable[[list[str]], sa.ColumnElement[bool]]):
        _COUNTY_RULES[model] = fn
        return fn

    return register


def county_condition(model: type, codes: list[str]) -> sa.ColumnElement[bool]:
    """Return the SQL condition the rows of ``model`` in the counties ``codes`` meet.

    :raises KeyError: ``model`` has no county rule.
    """
    return _COUNTY_RULES[model](codes)


def county_scoped_models() -> tuple[type, ...]:
    """Return the models that have a county rule."""
    return tuple(_COUNTY_RULES)


def _sees_everything(user: User | None) -> bool:
    """No user (CLI, jobs, tests), or a county user of a database with one county."""
    return user is None or (user.role in COUNTY_ROLES and not user.division_code)


def through(column: sa.ColumnElement, parent: type, user: User) -> sa.ColumnElement[bool]:
    """The rule of a record that belongs to a ``parent`` row (a case's events, a
    placement's sessions): ``column`` (its foreign key to ``parent.id``) names a
    ``parent`` that ``user`` (a township or school user) may see.

    :raises KeyError: ``parent`` has no scope rule.
    """
    return column.in_(sa.select(parent.id).where(_RULES[parent](user)))


def belongs(column, parent: type) -> None:
    """Register the rule of a record that belongs to a ``parent`` row: it is seen by
    whoever may see the row its foreign key ``column`` (``Model.parent_id``) names, as a
    case's events are seen with the case; its county rule follows the parent's likewise.
    Scoped by default, as personal data.

    :raises KeyError: when applied, if ``parent`` has no scope rule.
    """
    rule(column.class_)(lambda user: through(column, parent, user))
    county_rule(column.class_)(lambda codes: column.in_(sa.select(parent.id).where(county_condition(parent, codes))))


def scoped_models() -> tuple[type, ...]:
    """Return the models that have a scope rule."""
    return tuple(_RULES)


def condition(model: type, user: User | None) -> sa.ColumnElement[bool] | None:
    """Return the SQL condition limiting ``model`` to what ``user`` may see, or ``None``
    when the user sees the whole database (a county user with no county set, as in a
    database with one county; or no user: CLI and tests).

    A county user with a county (``division_code``) sees that county's rows; a township
    or school user, the area's; a prefecture or province user and any unknown role, no
    row (``false``): their pages read aggregates, past the scope, in their services.

    :raises KeyError: ``model`` has no scope rule (or no county rule).
    """
    if _sees_everything(user):
        return None
    if user.role in COUNTY_ROLES:
        return county_condition(model, [user.division_code])
    if user.role in ("township", "school"):
        return _RULES[model](user)
    return sa.false()


def scope(stmt: sa.Select, model: type, user: User | None) -> sa.Select:
    """Limit ``stmt`` (a select over ``model``) to the rows ``user`` may see."""
    where = condition(model, user)
    return stmt if where is None else stmt.where(where)


def can_see(user: User | None, obj) -> bool:
    """Return whether ``user`` may see ``obj`` (a row of a scoped model)."""
    model = type(obj)
    if condition(model, user) is None:
        return True
    stmt = scope(sa.select(model.id).where(model.id == obj.id), model, user)
    return db.session.execute(stmt).first() is not None


def _by_name(name: str) -> type:
    for model in _RULES:
        if model.__name__ == name:
            return model
    raise KeyError(f"no scope rule for {name}")


def _scoper(name: str, what: str) -> Callable[[sa.Select, User | None], sa.Select]:
    def scoper(stmt: sa.Select, user: User | None) -> sa.Select:
        return scope(stmt, _by_name(name), user)

    scoper.__name__ = f"scope_{what}"
    scoper.__doc__ = f"Limit a ``select({name})`` statement to the {what} ``user`` may see."
    return scoper


scope_children = _scoper("Child", "children")
scope_schools = _scoper("School", "schools")
scope_cases = _scoper("DropoutCase", "cases")
scope_aid_lists = _scoper("AidList", "aid lists")
scope_payments = _scoper("Payment", "payments")
scope_placements = _scoper("HomeboundPlacement", "placements")


def can_see_child(user: User | None, child) -> bool:
    """Return whether ``user`` may see ``child`` (same rule as :func:`scope_children`)."""
    return can_see(user, child)


def can_see_case(user: User | None, case) -> bool:
    """Return whether ``user`` may see ``case`` (same rule as :func:`scope_cases`)."""
    return can_see(user, case)


def can_see_placement(user: User | None, placement) -> bool:
    """Return whether ``user`` may see ``placement`` (same rule as :func:`scope_placements`)."""
    return can_see(user, placement)


# --- scoping by default -----------------------------------------------------------


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Read past the signed-in user's scope inside the block; ``reason`` says why (it
    is required, so every such read explains itself)."""
    if not reason or not reason.strip():
        raise ValueError("unscoped() needs a reason")
    token = _UNSCOPED.set(reason)
    try:
        yield
    finally:
        _UNSCOPED.reset(token)


@contextmanager
def acting_as(user: User | None) -> Iterator[None]:
    """Scope every read inside the block by default to ``user``'s area, as if
    ``user`` had made the request: a job (an export, a print run) run by a queue
    worker, which has no signed-in user, sees no more than its owner would see on a
    page. ``None`` leaves the reads as they are (the county)."""
    token = _ACTING.set(user)
    try:
        yield
    finally:
        _ACTING.reset(token)


def request_user() -> User | None:
    """Return the user signed in for the current request, once the login guard has
    loaded it, or the user a job acts for (:func:`acting_as`); ``None`` outside a
    request, or before the user is known."""
    acting = _ACTING.get()
    if acting is not None:
        return acting
    if not has_request_context():
        return None
    user = g.get("_login_user")  # set by Flask-Login when the guard first asks
    return user if isinstance(user, User) else None


@sa.event.listens_for(Session, "do_orm_execute")
def _scope_by_default(state: ORMExecuteState) -> None:
    """Limit every ORM read of a scoped model made for a signed-in township or school
    user to the user's scope, unless the read is marked ``unscoped``."""
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get("unscoped") or _UNSCOPED.get() is not None:
        return
    user = request_user()
    if _sees_everything(user):
        return
    state.statement = state.statement.options(
        *(with_loader_criteria(model, condition(model, user), include_aliases=True) for model in _DEFAULT)
    )
