"""The audit log writer: one call per change, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_login import current_user

from edu_guard.auth.models import AuditLog
from edu_guard.db import db


def snapshot(obj: Any, fields: list[str] | None = None) -> dict:
    """Return the column values of an ORM object as JSON-ready data.

    :param obj: a mapped instance.
    :param fields: the column names to keep; all columns when ``None``.
    """
    cols = [c.key for c in obj.__table__.columns]
    out = {}
    for key in fields or cols:
        value = getattr(obj, key)
        if isinstance(value, (date, datetime, time)):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[key] = value
    return out


def acting_user_id(user=None) -> int | None:
    """Return the id of ``user``, else of the signed-in user, else ``None`` (CLI)."""
    if user is not None:
        return user.id
    try:
        if current_user and current_user.is_authenticated:
            return current_user.id
    except Exception:  # noqa: BLE001 - no request context (CLI, tests)
        return None
    return None


def acting_county_code(user=None) -> str | None:
    """Return the county a run or a record made now belongs to (GB/T 2260, 6 digits):
    ``user``'s county (``division_code``), else the signed-in user's, else, for a user
    with no county (a county deployed alone) and for the CLI and jobs, the instance's
    ``EDU_GUARD_COUNTY_CODE``; ``None`` outside an application.

    A prefecture or province user's division is no county: such a user's runs take the
    instance's county too (they make none through the pages)."""
    if user is None:
        try:
            if current_user and current_user.is_authenticated:
                user = current_user
        except Exception:  # noqa: BLE001 - no request context (CLI, tests)
            user = None
    code = getattr(user, "division_code", None)
    if code and getattr(user, "role", None) in ("admin", "clerk", "auditor"):
        return code
    return current_app.config.get("EDU_GUARD_COUNTY_CODE") if has_app_context() else None


def record(action: str, obj: Any, before: dict | None = None, after: dict | None = None, user=None) -> AuditLog:
    """Append an audit row for ``obj`` (flushed, not committed).

    :param action: create, update, transition, print, serve, import …
    :param obj: the changed mapped instance (its table name and id are recorded).
    :param before: the state before (``snapshot``), or ``None`` for a creation.
    :param after: the state after; defaults to ``snapshot(obj)``.
    :param user: who acted; the signed-in user by default.
    """
    db.session.flush()
    row = AuditLog(
        user_id=acting_user_id(user),
        action=action,
        entity=obj.__tablename__,
        entity_id=getattr(obj, "id", None),
        before=before,
        after=after if after is not None else snapshot(obj),
    )
    db.session.add(row)
    return row


def record_access(action: str, entity: str, entity_id: int | None, detail: dict | None = None, user=None) -> AuditLog:
    """Append an audit row for reading personal data whole (flushed, not committed):
    a page showing full ID numbers, a workbook or PDF downloaded with them.

    :param action: ``view_full`` (a page) or ``download_full`` (a file).
    :param entity: the table of what was read (``child``, ``import_run`` …).
    :param entity_id: its id, or ``None`` for a list (a ledger).
    :param detail: what was read: ``{"file": "rejects.xlsx"}``, a filter …
    :param user: who read it; the signed-in user by default.
    """
    row = AuditLog(user_id=acting_user_id(user), action=action, entity=entity, entity_id=entity_id,
                   before=None, after=detail or {})
    db.session.add(row)
    db.session.flush()
    return row


def full_number_access(action: str, entity: str, entity_id: int | None, detail: dict | None = None) -> None:
    """In a view: record :func:`record_access` for the signed-in user if their role
    sees whole numbers (the request boundary, edu_guard.web, commits it)."""
    if not (current_user and current_user.is_authenticated and current_user.sees_full_ids):
        return
    record_access(action, entity, entity_id, detail)
