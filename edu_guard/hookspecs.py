"""Hook specifications of edu_guard (pluggy project ``edu_guard``).

Every hook a plugin may implement is specified here, grouped by kind. Core calls them
through pluggy (``pm.hook.<name>(...)``, see :mod:`edu_guard.plugins`), in plugin order,
with wrappers, ``tryfirst``/``trylast`` and ``firstresult`` as pluggy documents. Plugins
import what they need, ``hookimpl`` included, from :mod:`edu_guard.toolkit`. This module
imports nothing of the app.
"""

from __future__ import annotations

import pluggy

PROJECT = "edu_guard"

#: Marker for hook specifications.
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker for hook implementations; plugins use ``edu_guard.toolkit.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- facts the lower layers ask of the features ------------------------------------


@hookspec
def counted_as_enrolled(on, child_id):
    """Return the children who count as enrolled on ``on`` although the school roll
    alone does not say so (a feature above the registry knows why: 送教上门 is one).

    The registry's pages and the opening of a dropout case ask this hook, so they need
    not import the feature (docs/architecture.md, "Hooks and events").

    :param on: the day (:class:`datetime.date`).
    :param child_id: only this child's answer, or ``None`` for every child.
    :return: a list of :class:`edu_guard.registry.enrolled.CountedEnrolled`; the lists of
        all plugins are merged (the first answer for a child wins).
    """


# --- events -----------------------------------------------------------------------


@hookspec
def case_transitioned(case, transition, user) -> None:
    """Called after a dropout case's transition has been committed.

    A notifier that fails cannot undo the transition: the transition is already in the
    database when this hook runs; its error is logged with the traceback, and the other
    notifiers are still called.

    :param case: the :class:`edu_guard.cases.models.DropoutCase` after the change.
    :param transition: the :class:`edu_guard.cases.models.CaseEvent` just recorded.
    :param user: the :class:`edu_guard.auth.models.User` who acted, or ``None`` (CLI).
    :return: ignored; every implementation is called.
    """


@hookspec
def payment_batch_approved(batch, user) -> None:
    """Called after an aid list's approval and its payment batch have been committed.

    The payments are already in the database: a notifier that fails (an SMS gateway, a
    provincial system) is logged and cannot undo them; the other notifiers are still
    called.

    :param batch: the :class:`edu_guard.aid.models.PaymentBatch` just approved, with its
        ``payments``.
    :param user: the :class:`edu_guard.auth.models.User` who approved, or ``None`` (CLI).
    :return: ignored; every implementation is called.
    """


# --- what plugins contribute (called once per app at start-up) -------------------------


@hookspec
def aid_schemes() -> list:
    """Return the aid schemes (资助项目) this plugin provides.

    Called once when the app starts, inside an app context, after the plugins' settings
    were validated (read them with :func:`edu_guard.toolkit.plugin_settings`).

    :return: a list of :class:`edu_guard.toolkit.AidScheme`; the lists of all plugins
        are concatenated. Two schemes with one ``code`` stop start-up naming both plugins.
    """


@hookspec
def letter_types() -> list:
    """Return the kinds of letter this plugin prints.

    :return: a list of :class:`edu_guard.toolkit.LetterKind` instances, each with a
        ``template_dir`` holding ``<key>.html`` (extending ``letters/_letter.html``); the
        lists are concatenated. A key already taken stops start-up.
    """


@hookspec
def import_formats() -> list:
    """Return import formats (a kind of file a clerk can import).

    :return: a list of :class:`edu_guard.toolkit.Importer` subclasses, each
        with its own ``kind`` and ``label``; the lists are concatenated. A kind already
        taken stops start-up.
    """


@hookspec
def comparison_kinds() -> list:
    """Return comparisons (数据比对) this plugin adds.

    :return: a list of :class:`edu_guard.toolkit.Comparison` instances (a
        ``name``, ``label``, ``categories`` and ``run``); concatenated, the built-in
        household, status and disabled comparisons first. A name already taken stops
        start-up.
    """


@hookspec
def report_sections(report: str, figures: dict) -> list:
    """Return extra sections for a report, called each time ``report`` is built.

    :param report: which report (``"aid"`` for the student-aid statistics).
    :param figures: the report's figures as plain data (for ``"aid"``: ``{"term": code,
        "schemes": [{"code", "name", "person_times", "persons", "amount_yuan", ...}]}``).
    :return: a list of ``{"title": str, "lines": [str, ...]}``; the lists of all plugins
        are concatenated in plugin order and printed after the core's lines. An
        implementation that raises is logged and left out; the page and the command
        name its plugin, and the other sections are printed.
    """


@hookspec
def web_blueprints() -> list:
    """Return Flask blueprints to register on the app.

    Each blueprint's views are behind the login like every page; use
    :func:`edu_guard.toolkit.role_required` for roles.

    :return: a list of :class:`flask.Blueprint`; concatenated, registered in plugin order.
    """


@hookspec
def cli_commands() -> list:
    """Return click commands to add under ``edu-guard``.

    :return: a list of :class:`click.Command` (``flask.cli.AppGroup`` commands get the app
        context); concatenated. A name already taken stops start-up.
    """


@hookspec
def plugin_settings_schema():
    """Return the marshmallow schema of this plugin's settings, or ``None``.

    The settings are ``EDU_GUARD_PLUGIN_SETTINGS[<plugin name>]`` (a dict in the instance
    config); they are loaded through this schema once at start-up, and invalid settings
    stop start-up naming the plugin and the field. Plugins read the loaded values with
    :func:`edu_guard.toolkit.plugin_settings`.

    :return: a :class:`marshmallow.Schema` instance or class; each plugin answers for
        itself (results are not merged).
    """
