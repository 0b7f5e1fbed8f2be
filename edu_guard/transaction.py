"""The unit of work (事务边界): the one place that commits or rolls back.

A request (:class:`edu_guard.web.App`), a command (:func:`edu_guard.cli_util.requires_init`)
and a background job (:mod:`edu_guard.registry.jobs`) each end with :func:`finish`:
commit once if it succeeded, roll back otherwise. Services only add, change and flush
(or write in bulk on the session's connection); they never commit.
"""

from __future__ import annotations

from typing import Callable

from flask import g, has_app_context

from edu_guard.db import db


def has_changes() -> bool:
    """Return whether the current session has work to commit: pending objects, or a
    transaction begun (flushed rows, bulk writes on its connection, or reads)."""
    session = db.session()
    return bool(session.new or session.dirty or session.deleted or session.in_transaction())


def discard() -> None:
    """Roll back the unit of work's changes (a refused service call)."""
    db.session.rollback()


class AfterCommitError(RuntimeError):
    """An :func:`after_commit` callback raised once the unit of work had committed:
    the data is saved; the first callback's exception is the ``__cause__``."""


def finish(ok: bool) -> None:
    """End the unit of work: commit it when ``ok`` (a transaction that only read commits
    nothing), then run the :func:`after_commit` callbacks; otherwise roll it back. A
    failing commit (a lost race: a stale version, a unique constraint) is rolled back
    and re-raised. Every callback runs; if any raised, :class:`AfterCommitError` is
    raised after the last one (the commit stands).

    This is the one place a request, a command or a job commits.
    """
    callbacks = g.pop("edu_guard_after_commit", []) if has_app_context() else []
    if not ok:
        db.session.rollback()
        return
    if has_changes():
        try:
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    failure = None
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:  # noqa: BLE001 - the others still run; raised below
            failure = failure or exc
    if failure is not None:
        raise AfterCommitError(f"committed, but a step after the commit failed: {failure!r}") from failure


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current request or command has committed (not at all
    if it rolls back): plugin events promise the change is already saved."""
    g.setdefault("edu_guard_after_commit", []).append(callback)
