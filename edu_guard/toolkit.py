"""The stable surface plugins import (插件接口): everything a plugin author needs, and
the only module of ``edu_guard`` a plugin imports (``edu_guard.testing`` gives the test
fixtures). Core itself never imports this module; anything else in ``edu_guard`` may
change between versions. An import-linter contract (``pyproject.toml``,
``[tool.importlinter]``, run by ``make test``) keeps the first-party plugins and the test
plugins to it. See ``docs/plugins.md``.

What is here, by the hook it serves:

- every hook: :data:`hookimpl`, :func:`plugin_settings`, :class:`PluginLoadError`,
  :class:`PluginError`, :class:`PluginFailure`;
- ``aid_schemes``: :class:`AidScheme`, :class:`Candidate`, :class:`Decision`,
  :class:`Rate`, :class:`TermInfo`, :class:`SchemeError`, :func:`not_eligible`,
  :func:`grade_number`, :func:`stage_of`, :data:`STAGES`, :data:`POVERTY_KINDS`,
  :data:`HARDSHIP_KINDS`, :func:`schemes`; :class:`Message` for a decision's reason or
  a refusal, shown in the reader's language (``Message("…%(x)s…", x=…)``);
- ``letter_types``: :class:`LetterKind`, :func:`issue_letter`, :func:`letter_pdf`,
  :class:`LetterError`;
- ``import_formats``: :class:`Importer`, :class:`LoadedRow`, :class:`RowSchema`,
  :class:`SchoolsImporter` (a built-in format to extend);
- ``comparison_kinds``: :class:`Comparison`, :class:`Category`, :class:`Outcome`,
  :class:`ComparisonError`, :func:`run_comparison`, :func:`run_rows`,
  :func:`comparison_kinds`;
- ``web_blueprints``: :func:`role_required`;
- reading the registry: :data:`db` (its ``db.session``), the models :class:`Child`,
  :class:`Enrollment`, :class:`School`, :class:`Township`, :class:`StatusChange`,
  :class:`DisabilityRecord`, :class:`FamilyStatus`, and :func:`today`.
"""

from __future__ import annotations

from flask import current_app

from edu_guard import clock
from edu_guard.auth.services import role_required
from edu_guard.comparisons.kinds import Category, Comparison, ComparisonError, Outcome
from edu_guard.comparisons.kinds import kinds as comparison_kinds
from edu_guard.comparisons.services import run_comparison, run_rows
from edu_guard.db import db
from edu_guard.hooks import CONTRIB_KEY, PluginFailure
from edu_guard.hookspecs import hookimpl
from edu_guard.i18n import Message
from edu_guard.letters.schemas import LetterError, LetterKind
from edu_guard.letters.services import issue_letter, letter_pdf
from edu_guard.plugins import PluginError, PluginLoadError
from edu_guard.registry.importers import Importer, LoadedRow, SchoolsImporter
from edu_guard.registry.models import Child, DisabilityRecord, Enrollment, FamilyStatus, School, StatusChange, Township
from edu_guard.registry.schemas import RowSchema
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
    "HARDSHIP_KINDS", "POVERTY_KINDS", "STAGES", "AidScheme", "Candidate", "Category", "Child", "Comparison",
    "ComparisonError", "Decision", "DisabilityRecord", "Enrollment", "FamilyStatus", "Importer", "LetterError",
    "LetterKind", "LoadedRow", "Message", "Outcome", "PluginError", "PluginFailure", "PluginLoadError", "Rate", "RowSchema", "SchemeError",
    "School", "SchoolsImporter", "StatusChange", "TermInfo", "Township", "comparison_kinds", "db", "grade_number",
    "hookimpl", "issue_letter", "letter_pdf", "not_eligible", "plugin_settings", "role_required", "run_comparison",
    "run_rows", "schemes", "stage_of", "today",
]


def plugin_settings(name: str) -> dict:
    """Return plugin ``name``'s settings, loaded through its ``plugin_settings_schema``
    at start-up (``EDU_GUARD_PLUGIN_SETTINGS[name]`` with the schema's defaults).

    :raises KeyError: the plugin declared no settings schema.
    """
    return current_app.extensions[CONTRIB_KEY].settings[name]


def schemes(app=None) -> dict[str, AidScheme]:
    """Return every enabled scheme by code (the current app's, or ``app``'s)."""
    return (app or current_app).extensions[CONTRIB_KEY].schemes


def today():
    """Return today's date (:class:`datetime.date`) as the product counts it (the clock
    tests set with the ``today_is`` fixture)."""
    return clock.today()
