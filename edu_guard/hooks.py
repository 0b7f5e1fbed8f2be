"""What the app's plugins contribute, and the events to tell them (插件挂钩), for the
code below the app.

The plugin manager is assembled by :mod:`edu_guard.plugins` (which knows every kind of
contribution, so it sits on top with the app); the features only need to read what was
collected and to announce events. They do it through this core module, which knows no
feature: that is how a lower layer reaches plugins without importing upwards
(docs/architecture.md, "Hooks and events").
"""

from __future__ import annotations

from flask import Flask, current_app

#: ``app.extensions`` keys (set by :func:`edu_guard.plugins.init_app`).
EXTENSION_KEY = "edu_guard.plugins"
CONTRIB_KEY = "edu_guard.contributions"
NOTIFY_KEY = "edu_guard.notify"


def contributions(app: Flask | None = None):
    """Return the app's :class:`edu_guard.plugins.Contributions` (the current app by
    default): ``schemes``, ``letter_kinds``, ``import_formats``, ``comparison_kinds``,
    ``settings`` … as collected once at start-up."""
    return (app or current_app).extensions[CONTRIB_KEY]


def manager(app: Flask | None = None):
    """Return the app's :class:`pluggy.PluginManager` (the current app by default)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def notify(hook_name: str, app: Flask | None = None, **kwargs) -> list[tuple[str, Exception]]:
    """Announce the event ``hook_name`` (an event hook of :mod:`edu_guard.hookspecs`) to
    every plugin, with ``kwargs`` as the hook's arguments.

    A failing notifier neither stops the others nor reaches the caller
    (:func:`edu_guard.plugins.notify` keeps that promise).

    :return: ``(plugin name, exception)`` for each implementation that failed.
    """
    return (app or current_app).extensions[NOTIFY_KEY](hook_name, **kwargs)
