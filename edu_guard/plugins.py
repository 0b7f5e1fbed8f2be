"""The per-app plugin manager (pluggy), kept in ``app.extensions``.

Plugins come from three places, all registered the same way: the built-in plugins of
core (the national aid schemes, :data:`BUILTIN_PLUGINS`), the ``edu_guard`` entry-point
group for the names enabled in ``EDU_GUARD_PLUGINS``, and the single-file modules of the
instance's plugins folder. After :meth:`pluggy.PluginManager.check_pending`, each plugin's
settings are validated and what the plugins contribute (schemes, letter kinds, import
formats, comparisons, blueprints, CLI commands) is collected once into
:class:`Contributions`; a clash or a broken contract stops start-up naming the plugin.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pluggy
from flask import Flask, current_app
from marshmallow import Schema, ValidationError

from edu_guard import hookspecs

from edu_guard.hooks import CONTRIB_KEY, EXTENSION_KEY, NOTIFY_KEY  # noqa: E402,F401 (features read them there)
from edu_guard import __version__
from edu_guard.schemes.base import AidScheme
from edu_guard.letters.schemas import LETTER_KINDS, LetterKind
from edu_guard.registry.importers import IMPORTERS, Importer
from edu_guard.comparisons.kinds import Comparison

#: Built-in plugins: ``(name, module)``; registered first, whatever the configuration.
BUILTIN_PLUGINS = (
    ("national_schemes", "edu_guard.schemes.national"),
    ("comparisons", "edu_guard.comparisons.kinds"),
    ("homebound", "edu_guard.homebound.hooks"),
    ("aid", "edu_guard.aid.hooks"),
)

log = logging.getLogger(__name__)


class PluginLoadError(RuntimeError):
    """An enabled plugin is missing, fails to import or breaks a hook contract."""


@dataclass
class Contributions:
    """What the registered plugins contribute, collected once at start-up.

    :ivar schemes: aid schemes by code (:class:`edu_guard.schemes.base.AidScheme`).
    :ivar settings: each plugin's loaded settings, by plugin name.
    :ivar owners: for each contributed thing (``"scheme:<code>"``, ``"letter:<key>"`` …)
        the plugin that gave it.
    """

    schemes: dict = field(default_factory=dict)
    letter_kinds: dict = field(default_factory=dict)
    import_formats: dict = field(default_factory=dict)
    comparison_kinds: dict = field(default_factory=dict)
    blueprints: list = field(default_factory=list)
    cli_commands: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    owners: dict = field(default_factory=dict)


def _enabled_names(app: Flask) -> list[str]:
    enabled = app.config.get("EDU_GUARD_PLUGINS") or []
    if isinstance(enabled, str):
        enabled = [n.strip() for n in enabled.split(",") if n.strip()]
    return list(enabled)


def _load_folder(app: Flask, pm: pluggy.PluginManager, contrib: Contributions) -> None:
    folder = Path(app.instance_path) / (app.config.get("EDU_GUARD_PLUGINS_FOLDER") or "plugins")
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = path.stem
        if pm.has_plugin(name):
            raise PluginLoadError(f"plugin {name!r} in {folder} has the name of a plugin already loaded")
        mod_name = f"edu_guard_instance_plugins.{name}"
        try:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - any error names the plugin file
            raise PluginLoadError(f"plugin {name!r} ({path}) failed to load: {exc}") from exc
        pm.register(module, name=name)
        contrib.versions[name] = str(getattr(module, "__version__", ""))


def _register_all(app: Flask, pm: pluggy.PluginManager, contrib: Contributions) -> None:
    for name, module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=name)
        contrib.versions[name] = __version__
    enabled = _enabled_names(app)
    if enabled:
        from importlib.metadata import entry_points

        found = {ep.name: ep for ep in entry_points(group=hookspecs.PROJECT)}
        for name in enabled:
            if name not in found:
                raise PluginLoadError(
                    f"plugin {name!r} is enabled in EDU_GUARD_PLUGINS but not installed "
                    f"(pip install plugins/{name}, or remove it from EDU_GUARD_PLUGINS)"
                )
            try:
                pm.register(found[name].load(), name=name)
                contrib.versions[name] = found[name].dist.version if found[name].dist else ""
            except Exception as exc:  # noqa: BLE001 - any import error names the plugin
                raise PluginLoadError(f"plugin {name!r} failed to load: {exc}") from exc
    for name, obj in app.config.get("EDU_GUARD_PLUGIN_OBJECTS") or ():
        if pm.has_plugin(name):
            raise PluginLoadError(f"plugin {name!r} is registered twice")
        pm.register(obj, name=name)
        contrib.versions[name] = str(getattr(obj, "__version__", ""))
    _load_folder(app, pm, contrib)


def answers(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> list[tuple[str, object]]:
    """Call a contribution hook and keep who answered: ``[(plugin name, result), ...]``.

    pluggy's own call concatenates results anonymously; start-up needs each answer's
    plugin to name it in an error, so each implementation is called here, in the order
    the plugins were registered (built-ins first; ``tryfirst``/``trylast`` honoured).

    :raises PluginLoadError: an implementation raised; the message names the plugin.
    """
    out = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        try:
            result = impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception as exc:  # noqa: BLE001 - name the plugin that broke
            raise PluginLoadError(f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc}") from exc
        if result is not None:
            out.append((impl.plugin_name, result))
    return out


def _as_list(plugin: str, hook_name: str, result) -> list:
    if not isinstance(result, (list, tuple)):
        raise PluginLoadError(f"plugin {plugin!r}: {hook_name} must return a list, not {type(result).__name__}")
    return list(result)


def _load_settings(app: Flask, pm: pluggy.PluginManager, contrib: Contributions) -> None:
    configured = app.config.get("EDU_GUARD_PLUGIN_SETTINGS") or {}
    for plugin, schema in answers(pm, "plugin_settings_schema"):
        if isinstance(schema, type) and issubclass(schema, Schema):
            schema = schema()
        if not isinstance(schema, Schema):
            raise PluginLoadError(f"plugin {plugin!r}: plugin_settings_schema must return a marshmallow Schema")
        try:
            contrib.settings[plugin] = schema.load(configured.get(plugin) or {})
        except ValidationError as exc:
            raise PluginLoadError(
                f"plugin {plugin!r}: invalid settings in EDU_GUARD_PLUGIN_SETTINGS[{plugin!r}]: {exc.messages}"
            ) from exc


def _collect(app: Flask, pm: pluggy.PluginManager, contrib: Contributions) -> None:
    from flask import Blueprint

    def claim(kind: str, key: str, plugin: str) -> None:
        owner = contrib.owners.get(f"{kind}:{key}")
        if owner is not None:
            raise PluginLoadError(f"plugin {plugin!r}: {kind} {key!r} is already provided by plugin {owner!r}")
        contrib.owners[f"{kind}:{key}"] = plugin

    for plugin, result in answers(pm, "aid_schemes"):
        for scheme in _as_list(plugin, "aid_schemes", result):
            if not isinstance(scheme, AidScheme):
                raise PluginLoadError(f"plugin {plugin!r}: aid_schemes returned {scheme!r}, not an AidScheme")
            claim("scheme", scheme.code, plugin)
            scheme.plugin = plugin
            contrib.schemes[scheme.code] = scheme
    for code, scheme in contrib.schemes.items():
        unknown = scheme.excludes - set(contrib.schemes)
        if unknown:
            log.warning("scheme %s excludes unknown schemes %s", code, sorted(unknown))

    for key in LETTER_KINDS:
        contrib.owners[f"letter:{key}"] = "core"
    for plugin, result in answers(pm, "letter_types"):
        for kind in _as_list(plugin, "letter_types", result):
            if not isinstance(kind, LetterKind) or not getattr(kind, "template_dir", None):
                raise PluginLoadError(f"plugin {plugin!r}: letter_types must return LetterKind objects with a template_dir")
            claim("letter", kind.key, plugin)
            contrib.letter_kinds[kind.key] = kind

    for key in IMPORTERS:
        contrib.owners[f"import:{key}"] = "core"
    for plugin, result in answers(pm, "import_formats"):
        for fmt in _as_list(plugin, "import_formats", result):
            if not (isinstance(fmt, type) and issubclass(fmt, Importer)):
                raise PluginLoadError(f"plugin {plugin!r}: import_formats must return Importer subclasses")
            claim("import", fmt.kind, plugin)
            contrib.import_formats[fmt.kind] = fmt

    for plugin, result in answers(pm, "comparison_kinds"):
        for kind in _as_list(plugin, "comparison_kinds", result):
            if not isinstance(kind, Comparison):
                raise PluginLoadError(f"plugin {plugin!r}: comparison_kinds must return Comparison instances")
            claim("comparison", kind.name, plugin)
            contrib.comparison_kinds[kind.name] = kind

    for plugin, result in answers(pm, "web_blueprints"):
        for bp in _as_list(plugin, "web_blueprints", result):
            if not isinstance(bp, Blueprint):
                raise PluginLoadError(f"plugin {plugin!r}: web_blueprints must return flask.Blueprint objects")
            claim("blueprint", bp.name, plugin)
            contrib.blueprints.append(bp)

    import click

    for plugin, result in answers(pm, "cli_commands"):
        for cmd in _as_list(plugin, "cli_commands", result):
            if not isinstance(cmd, click.Command):
                raise PluginLoadError(f"plugin {plugin!r}: cli_commands must return click commands")
            claim("command", cmd.name, plugin)
            contrib.cli_commands.append(cmd)


def init_app(app: Flask) -> pluggy.PluginManager:
    """Create the app's plugin manager, load and check the plugins, collect what they give.

    :raises PluginLoadError: naming the plugin and the reason (not installed, import
        error, unknown hook, invalid settings, a clash or a wrong return type).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    contrib = Contributions()
    _register_all(app, pm, contrib)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"plugin {pm.get_name(exc.plugin)!r} implements an unknown hook: {exc}") from exc
    app.extensions[EXTENSION_KEY] = pm
    app.extensions[CONTRIB_KEY] = contrib
    app.extensions[NOTIFY_KEY] = functools.partial(notify, pm)  # edu_guard.hooks.notify
    with app.app_context():
        _load_settings(app, pm, contrib)
        _collect(app, pm, contrib)
    return pm


def contributions(app: Flask | None = None) -> Contributions:
    """Return the app's :class:`Contributions` (the current app by default)."""
    return (app or current_app).extensions[CONTRIB_KEY]


def manager(app: Flask | None = None) -> pluggy.PluginManager:
    """Return the app's plugin manager (the current app by default)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def notify(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> list[tuple[str, Exception]]:
    """Call an event hook so that one failing notifier neither stops the others nor
    reaches the caller (pluggy stops a call at the first exception, so each
    implementation is called on its own). Failures are logged.

    :param hook_name: an event hook of :mod:`edu_guard.hookspecs`.
    :return: ``(plugin name, exception)`` for each implementation that failed.
    """
    failures = []
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        try:
            impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception as exc:  # noqa: BLE001 - a notifier must never break the caller
            log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
            failures.append((impl.plugin_name, exc))
    return failures
