"""Helpers shared by the blueprints' views."""

from __future__ import annotations

from flask import flash

from edu_guard.db import db


def commit_or_flash(action, refusals: tuple[type[Exception], ...], success: str | None = None):
    """Run ``action`` (a service call) and commit once; a refusal (one of ``refusals``)
    rolls back and is flashed as an error, so nothing is half-written.

    :return: the action's result, or ``None`` when it was refused.
    """
    try:
        result = action()
        db.session.commit()
    except refusals as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return None
    if success:
        flash(success, "success")
    return result
