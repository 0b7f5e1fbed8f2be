"""The per-app plugin manager (pluggy), kept in ``app.extensions``."""

from __future__ import annotations

import pluggy
from flask import Flask

from edu_guard import hookspecs

EXTENSION_KEY = "edu_guard.plugins"


class PluginLoadError(RuntimeError):
    """An enabled plugin is missing, fails to import or breaks a hook contract."""


def init_app(app: Flask) -> pluggy.PluginManager:
    """Create the app's plugin manager, load the enabled plugins and check them.

    Plugins are discovered through the ``edu_guard`` entry-point group; names listed in
    ``EDU_GUARD_PLUGINS`` (a comma-separated string or a list; empty by default) must
    be found or start-up stops.

    :raises PluginLoadError: naming the plugin and the reason.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    enabled = app.config.get("EDU_GUARD_PLUGINS") or []
    if isinstance(enabled, str):
        enabled = [n.strip() for n in enabled.split(",") if n.strip()]
    if enabled:
        from importlib.metadata import entry_points

        found = {ep.name: ep for ep in entry_points(group=hookspecs.PROJECT)}
        for name in enabled:
            if name not in found:
                raise PluginLoadError(f"plugin {name!r} is enabled in EDU_GUARD_PLUGINS but not installed")
            try:
                pm.register(found[name].load(), name=name)
            except Exception as exc:  # noqa: BLE001 - any import error names the plugin
                raise PluginLoadError(f"plugin {name!r} failed to load: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
    app.extensions[EXTENSION_KEY] = pm
    return pm


def notify(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> list[tuple[str, Exception]]:
    """Call an event hook so that one failing notifier neither stops the others nor
    reaches the caller (pluggy stops a call at the first exception, so each
    implementation is called on its own). Failures are logged.

    :param hook_name: an event hook of :mod:`edu_guard.hookspecs`.
    :return: ``(plugin name, exception)`` for each implementation that failed.
    """
    import logging

    failures = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        try:
            impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception as exc:  # noqa: BLE001 - a notifier must never break the caller
            logging.getLogger(__name__).exception("plugin %s failed in %s", impl.plugin_name, hook_name)
            failures.append((impl.plugin_name, exc))
    return failures
