"""Helpers shared by every command module."""

from __future__ import annotations

import functools

import click
from flask.cli import with_appcontext


def requires_init(f):
    """Run the command in the app's context. An instance that ``edu-guard init`` has
    not set up (no secret key) never gets that far: loading the app refuses with the
    message of :class:`edu_guard.app.NotInitialised` (see ``edu_guard.cli._make_app``)."""

    @functools.wraps(f)
    @with_appcontext
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


def user_by_name(username: str | None):
    """Return the :class:`~edu_guard.auth.models.User` named ``username`` for ``--as``,
    or ``None`` when no name is given.

    :raises click.ClickException: no such user.
    """
    if not username:
        return None
    import sqlalchemy as sa

    from edu_guard.auth.models import User
    from edu_guard.db import db

    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    return user


def dump_json(obj) -> None:
    """Print ``obj`` as indented JSON, Chinese as is; dates and Decimals as strings."""
    import json

    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def commit_or_fail(fn, *refusals: type[Exception]):
    """Run ``fn`` (a service call), commit once and return its result; on one of the
    ``refusals`` roll back and stop the command with the refusal's message (exit 1)."""
    from edu_guard.db import db

    try:
        result = fn()
        db.session.commit()
        return result
    except refusals as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
