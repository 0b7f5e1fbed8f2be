"""Helpers shared by every command module."""

from __future__ import annotations

import functools

import click
from flask import current_app
from flask.cli import with_appcontext


def requires_init(f):
    """Refuse to run a command on an instance that ``edu-guard init`` has not set up."""

    @functools.wraps(f)
    @with_appcontext
    def wrapper(*args, **kwargs):
        if current_app.config.get("EDU_GUARD_UNINITIALISED"):
            raise click.ClickException(
                f"实例未初始化（{current_app.instance_path}）。请先运行：edu-guard init\n"
                "(instance not initialised: run `edu-guard init` first)"
            )
        return f(*args, **kwargs)

    return wrapper
