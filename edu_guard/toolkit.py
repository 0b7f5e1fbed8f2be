"""The small, stable surface plugins import (core itself never imports this module).

Everything a plugin author needs is here; anything else in ``edu_guard`` may change
between versions. See ``docs/plugins.md``.
"""

from __future__ import annotations

from flask import current_app

from edu_guard.auth.services import role_required
from edu_guard.hookspecs import hookimpl
from edu_guard.plugins import PluginLoadError
from edu_guard.schemes.base import (
    HARDSHIP_KINDS,
    POVERTY_KINDS,
    STAGES,
    AidScheme,
    Candidate,
    Decision,
    Rate,
    SchemeError,
    TermInfo,
    grade_number,
    not_eligible,
    stage_of,
)

__all__ = [
    "HARDSHIP_KINDS", "POVERTY_KINDS", "PluginLoadError", "STAGES", "AidScheme", "Candidate", "Decision", "Rate", "SchemeError",
    "TermInfo", "grade_number", "hookimpl", "not_eligible", "plugin_settings", "role_required", "schemes", "stage_of",
]


def plugin_settings(name: str) -> dict:
    """Return plugin ``name``'s settings, loaded through its ``plugin_settings_schema``
    at start-up (``EDU_GUARD_PLUGIN_SETTINGS[name]`` with the schema's defaults).

    :raises KeyError: the plugin declared no settings schema.
    """
    return current_app.extensions["edu_guard.contributions"].settings[name]


def schemes(app=None) -> dict[str, AidScheme]:
    """Return every enabled scheme by code (the current app's, or ``app``'s)."""
    return (app or current_app).extensions["edu_guard.contributions"].schemes
