"""What the app's plugins contribute, and the events to tell them (插件挂钩), for the
code below the app.

The plugin manager is assembled by :mod:`edu_guard.plugins` (which knows every kind of
contribution, so it sits on top with the app); the features only need to read what was
collected and to announce events. They do it through this core module, which knows no
feature: that is how a lower layer reaches plugins without importing upwards
(docs/architecture.md, "Hooks and events").
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from edu_guard.i18n import Message

#: ``app.extensions`` keys (set by :func:`edu_guard.plugins.init_app`).
EXTENSION_KEY = "edu_guard.plugins"
CONTRIB_KEY = "edu_guard.contributions"
NOTIFY_KEY = "edu_guard.notify"
COLLECT_KEY = "edu_guard.collect"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin's implementation that raised at run time (logged with its traceback).

    :ivar plugin: the plugin's name.
    :ivar hook: the hook (or ``"<scheme code>.decide"`` for a scheme's decision).
    :ivar error: the exception.
    """

    plugin: str
    hook: str
    error: BaseException

    @property
    def message(self) -> Message:
        """A line naming the plugin and the error, for pages (in the reader's language)
        and the CLI (Chinese)."""
        return Message("插件“%(plugin)s”出错（%(hook)s）：%(error)s", plugin=self.plugin, hook=self.hook,
                       error=f"{type(self.error).__name__}: {self.error}")


def contributions(app: Flask | None = None):
    """Return the app's :class:`edu_guard.plugins.Contributions` (the current app by
    default): ``schemes``, ``letter_kinds``, ``import_formats``, ``comparison_kinds``,
    ``settings`` … as collected once at start-up."""
    return (app or current_app).extensions[CONTRIB_KEY]


def manager(app: Flask | None = None):
    """Return the app's :class:`pluggy.PluginManager` (the current app by default)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def notify(hook_name: str, app: Flask | None = None, **kwargs) -> list[PluginFailure]:
    """Announce the event ``hook_name`` (an event hook of :mod:`edu_guard.hookspecs`) to
    every plugin, with ``kwargs`` as the hook's arguments.

    A failing notifier neither stops the others nor reaches the caller
    (:func:`edu_guard.plugins.notify` keeps that promise, on pluggy's call path).

    :return: a :class:`PluginFailure` for each implementation that failed.
    """
    return (app or current_app).extensions[NOTIFY_KEY](hook_name, **kwargs)


def collect(hook_name: str, app: Flask | None = None, **kwargs) -> tuple[list, list[PluginFailure]]:
    """Call the run-time hook ``hook_name`` (``report_sections``) with ``kwargs``, one
    plugin's failure isolated from the others (:func:`edu_guard.plugins.collect`).

    :return: ``(results, failures)``: the answers of the implementations that did not
        fail, in plugin order, and a :class:`PluginFailure` for each one that did.
    """
    return (app or current_app).extensions[COLLECT_KEY](hook_name, **kwargs)
