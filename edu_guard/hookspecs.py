"""Hook specifications of edu_guard (pluggy project ``edu_guard``).

Every hook a plugin may implement is specified here, grouped by kind. Call hooks with
keyword arguments through ``current_app.extensions["edu_guard.plugins"].hook``.
"""

from __future__ import annotations

import pluggy

PROJECT = "edu_guard"

#: Marker for hook specifications.
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker for hook implementations; plugins use ``@edu_guard.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- events -----------------------------------------------------------------------


@hookspec
def case_transitioned(case, transition, user) -> None:
    """Called after a dropout case's transition has been committed.

    A notifier that fails cannot undo the transition: the transition is already in the
    database when this hook runs; errors are logged and swallowed by the caller.

    :param case: the :class:`edu_guard.cases.models.DropoutCase` after the change.
    :param transition: the :class:`edu_guard.cases.models.CaseEvent` just recorded.
    :param user: the :class:`edu_guard.auth.models.User` who acted, or ``None`` (CLI).
    :return: ignored; every implementation is called.
    """
