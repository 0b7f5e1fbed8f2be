"""The unit of work (事务边界): the one place that commits or rolls back.

A request (:class:`edu_guard.web.App`), a command (:func:`edu_guard.cli_util.requires_init`)
and a background job (:mod:`edu_guard.registry.jobs`) each end with :func:`finish`:
commit once if it succeeded and changed something, roll back otherwise. Services only
add, change and flush; they never commit.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy.orm import Session

from edu_guard.db import db

_CHANGED = "edu_guard.changed"


@sa.event.listens_for(Session, "after_flush")
def _mark_changed(session, flush_context) -> None:
    session.info[_CHANGED] = True


def has_changes() -> bool:
    """Return whether the current session holds changes not yet committed (pending
    objects, or rows already flushed in this transaction)."""
    session = db.session()
    return bool(session.new or session.dirty or session.deleted or session.info.get(_CHANGED))


def _forget_changes() -> None:
    db.session().info.pop(_CHANGED, None)


def discard() -> None:
    """Roll back the unit of work's changes (a refused service call)."""
    db.session.rollback()
    _forget_changes()


def finish(ok: bool) -> None:
    """End the unit of work: commit it when ``ok`` and it changed something, then run
    the :func:`after_commit` callbacks; otherwise roll it back. A failing commit is
    rolled back and re-raised.

    This is the one place a request, a command or a job commits.
    """
    callbacks = g.pop("edu_guard_after_commit", []) if has_app_context() else []
    if not ok:
        db.session.rollback()
        _forget_changes()
        return
    if has_changes():
        try:
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            _forget_changes()
    for callback in callbacks:
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current request or command has committed (not at all
    if it rolls back): plugin events promise the change is already saved."""
    g.setdefault("edu_guard_after_commit", []).append(callback)
