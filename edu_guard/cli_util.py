"""Helpers shared by every command module, and the commands' unit of work."""

from __future__ import annotations

import functools
import json

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from edu_guard.auth.models import User
from edu_guard.db import db
from edu_guard.transaction import finish


def requires_init(f):
    """Run the command in the app's context as one unit of work: its changes are
    committed once when it returns, rolled back if it fails
    (:func:`edu_guard.transaction.finish`). Commands never commit by hand. An instance
    that ``edu-guard init`` has not set up (no secret key) never gets that far: loading
    the app refuses with the message of :class:`edu_guard.app.NotInitialised` (see
    ``edu_guard.cli._make_app``)."""

    @functools.wraps(f)
    @with_appcontext
    def wrapper(*args, **kwargs):
        try:
            result = f(*args, **kwargs)
        except BaseException:
            finish(ok=False)
            raise
        finish(ok=True)
        return result

    return wrapper


def user_by_name(username: str | None):
    """Return the :class:`~edu_guard.auth.models.User` named ``username`` for ``--as``,
    or ``None`` when no name is given.

    :raises click.ClickException: no such user.
    """
    if not username:
        return None
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    return user


def dump_json(obj) -> None:
    """Print ``obj`` as indented JSON, Chinese as is; dates and Decimals as strings."""
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def run_or_fail(fn, *refusals: type[Exception]):
    """Run ``fn`` (a service call) and return its result; on one of the ``refusals``
    stop the command with the refusal's message (exit 1), nothing saved (the command's
    unit of work rolls back)."""
    try:
        return fn()
    except refusals as exc:
        raise click.ClickException(str(exc)) from None
