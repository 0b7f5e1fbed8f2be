"""Scoping (数据权限): the one place that limits reads to a user's area.

Admins, clerks and auditors see the county; a township user sees the township; a school
user sees the school (docs/domain.md, "Who sees what").

Scoping is core and knows no feature: each model that is scoped registers, next to its
definition, the rule that limits it for a township or a school user (:func:`rule`). The
functions below apply the registered rules; ``scope_children`` and friends are the names
the pages use.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from edu_guard.auth.models import User
from edu_guard.db import db

#: Roles that see the whole county.
COUNTY_ROLES = ("admin", "clerk", "auditor")

#: model class → rule(user) → a SQL condition on the model, for a township or school user.
_RULES: dict[type, Callable[[User], sa.ColumnElement[bool]]] = {}


def rule(model: type) -> Callable:
    """Register the decorated function as ``model``'s scope rule: called with a township
    or school user, it returns the SQL condition rows of ``model`` must meet."""

    def register(fn: Callable[[User], sa.ColumnElement[bool]]):
        _RULES[model] = fn
        return fn

    return register


def scoped_models() -> tuple[type, ...]:
    """Return the models that have a scope rule."""
    return tuple(_RULES)


def condition(model: type, user: User | None) -> sa.ColumnElement[bool] | None:
    """Return the SQL condition limiting ``model`` to what ``user`` may see, or ``None``
    when the user sees the whole county (or there is no user: CLI and tests).

    :raises KeyError: ``model`` has no scope rule.
    """
    if user is None or user.role in COUNTY_ROLES:
        return None
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
