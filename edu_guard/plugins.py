"""The per-app plugin manager (pluggy), kept in ``app.extensions``.

Plugins come from three places, all registered the same way: the built-in plugins of
core (the national aid schemes, :data:`BUILTIN_PLUGINS`), the ``edu_guard`` entry-point
group for the names enabled in ``EDU_GUARD_PLUGINS``, and the single-file modules of the
instance's plugins folder. After :meth:`pluggy.PluginManager.check_pending`, each plugin's
settings are validated and what the plugins contribute (schemes, letter kinds, import
formats, comparisons, blueprints, CLI commands) is collected once into
:class:`Contributions`; a clash or a broken contract stops start-up naming the plugin.

Every hook is called through pluggy (``pm.hook.<name>(...)``), so hook wrappers
(``wrapper=True`` and the older ``hookwrapper=True``), ``tryfirst``/``trylast`` and
``firstresult`` behave as pluggy documents. pluggy calls the implementations of a hook
last-registered first; the plugins are registered in the reverse of the *plugin order*
(built-ins, then ``EDU_GUARD_PLUGINS`` in the order listed, then plugin objects, then the
instance folder), so a hook is called, and its results come back, in plugin order.

Two things pluggy does not do are done by :class:`PluginManager` when a plugin is
registered: it wraps each (non-wrapper) implementation's function so that

- an implementation of a run-time hook (:data:`ISOLATED_HOOKS`: the events and
  ``report_sections``) that raises is logged with its traceback and answers ``None``
  instead; pluggy leaves ``None`` out of the results and goes on with the next
  implementation, and the caller gets the failures from :func:`notify` / :func:`collect`;
- an implementation of any other hook that raises is named: in a :class:`PluginLoadError`
  at start-up (the contribution hooks, through :func:`answers`), in a :class:`PluginError`
  at run time (``counted_as_enrolled``: the caller needs the answer, so the error is not
  swallowed); and the objects it returns at start-up are noted, so that after pluggy's
  call :func:`answers` can name the plugin of anything that fails validation.

Why at registration, around each implementation: pluggy's ``_multicall`` ends a call at
the first exception (it re-raises it through the wrappers), so a hook wrapper of our own
around the call cannot isolate one implementation from the next, and calling each
implementation ourselves (what this module did before) bypasses pluggy's wrappers, order
and ``firstresult``. Wrapping the function pluggy will call keeps pluggy's whole call
path and adds only the error handling and the bookkeeping. Hook call monitoring
(``add_hookcall_monitoring``) sees a call, not which implementation returned what.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import pluggy
from flask import Flask, current_app
from marshmallow import Schema, ValidationError

from edu_guard import hookspecs

from edu_guard.hooks import (  # noqa: F401 (features read them there)
    COLLECT_KEY,
    CONTRIB_KEY,
    EXTENSION_KEY,
    NOTIFY_KEY,
    PluginFailure,
)
from edu_guard import __version__
from edu_guard.schemes.base import AidScheme
from edu_guard.letters.schemas import LETTER_KINDS, LetterKind
from edu_guard.registry.importers import IMPORTERS, Importer
from edu_guard.comparisons.kinds import Comparison

#: Built-in plugins: ``(name, module)``; first in plugin order, whatever the configuration.
BUILTIN_PLUGINS = (
    ("national_schemes", "edu_guard.schemes.national"),
    ("comparisons", "edu_guard.comparisons.kinds"),
    ("homebound", "edu_guard.homebound.hooks"),
)

#: Hooks called at run time: one implementation that raises is logged and skipped, and
#: neither stops the others nor reaches the caller.
ISOLATED_HOOKS = frozenset({"case_transitioned", "payment_batch_approved", "report_sections"})

log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin's implementation of a run-time hook that is not isolated (such as
    ``counted_as_enrolled``, whose answer the caller cannot do without) raised; the
    message names the plugin, the original error is the ``__cause__``."""


class PluginLoadError(PluginError):
    """An enabled plugin is missing, fails to import or breaks a hook contract."""


#: During :func:`answers`: what each implementation returned, as
#: ``{"results": {id: (object, plugin, item ids)}, "items": {id: (object, {plugins})}}``.
_origins: ContextVar[dict | None] = ContextVar("edu_guard_plugin_origins", default=None)
#: During :func:`notify` / :func:`collect`: the failures of isolated implementations.
_failures: ContextVar[list | None] = ContextVar("edu_guard_plugin_failures", default=None)


def _note_origin(value, plugin: str) -> None:
    origins = _origins.get()
    if origins is None:
        return
    items = list(value) if isinstance(value, (list, tuple)) else []
    origins["results"][id(value)] = (value, plugin, frozenset(id(i) for i in items))
    for item in items:
        origins["items"].setdefault(id(item), (item, set()))[1].add(plugin)


def _named(hook_name: str, plugin: str, function):
    """Wrap a start-up hook's implementation: its errors and answers carry its plugin."""

    @functools.wraps(function)
    def named(*args):
        try:
            result = function(*args)
        except PluginError:
            raise
        except Exception as exc:  # noqa: BLE001 - any error names the plugin that broke
            error = PluginLoadError if _origins.get() is not None else PluginError  # start-up, or run time
            raise error(f"plugin {plugin!r} failed in {hook_name}: {exc}") from exc
        _note_origin(result, plugin)
        return result

    return named


def _isolated(hook_name: str, plugin: str, function):
    """Wrap a run-time hook's implementation: an error is logged and recorded, the
    implementation answers ``None`` (which pluggy leaves out of the results), and pluggy
    calls the next one."""

    @functools.wraps(function)
    def isolated(*args):
        try:
            return function(*args)
        except Exception as exc:  # noqa: BLE001 - one plugin must not break the others or the caller
            log.exception("plugin %s failed in %s", plugin, hook_name)
            failures = _failures.get()
            if failures is not None:
                failures.append(PluginFailure(plugin, hook_name, exc))
            return None

    return isolated


class PluginManager(pluggy.PluginManager):
    """pluggy's plugin manager for the ``edu_guard`` hooks, which wraps each plugin's
    implementations when the plugin is registered (see the module's docstring).

    Only the implementation's *function* is wrapped; pluggy still decides the order,
    runs the hook wrappers around the implementations and applies ``firstresult``.
    Hook wrappers themselves are not wrapped: a wrapper is part of the call, and an
    error it raises ends the call as pluggy documents (:func:`notify` and
    :func:`collect` still catch and log it, so it never reaches their caller).
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)

    def register(self, plugin, name: str | None = None) -> str | None:
        """Register ``plugin`` as pluggy does, then wrap its implementations."""
        name = super().register(plugin, name)
        if name is None:
            return None
        for caller in self.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin or impl.wrapper or impl.hookwrapper:
                    continue
                if caller.name in ISOLATED_HOOKS:
                    impl.function = _isolated(caller.name, name, impl.function)
                else:
                    impl.function = _named(caller.name, name, impl.function)
        return name


@dataclass
class Contributions:
    """What the registered plugins contribute, collected once at start-up.

    :ivar schemes: aid schemes by code (:class:`edu_guard.schemes.base.AidScheme`).
    :ivar settings: each plugin's loaded settings, by plugin name.
    :ivar owners: for each contributed thing (``"scheme:<code>"``, ``"letter:<key>"`` …)
        the plugin that gave it.
    :ivar order: the plugin names in plugin order (the order hooks are called in).
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
    order: list = field(default_factory=list)


def _enabled_names(app: Flask) -> list[str]:
    enabled = app.config.get("EDU_GUARD_PLUGINS") or []
    if isinstance(enabled, str):
        enabled = [n.strip() for n in enabled.split(",") if n.strip()]
    return list(enabled)


def _load_folder(app: Flask, found: list[tuple[str, object, str]]) -> None:
    folder = Path(app.instance_path) / (app.config.get("EDU_GUARD_PLUGINS_FOLDER") or "plugins")
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = path.stem
        if any(name == n for n, _, _ in found):
            raise PluginLoadError(f"plugin {name!r} in {folder} has the name of a plugin already loaded")
        mod_name = f"edu_guard_instance_plugins.{name}"
        try:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - any error names the plugin file
            raise PluginLoadError(f"plugin {name!r} ({path}) failed to load: {exc}") from exc
        found.append((name, module, str(getattr(module, "__version__", ""))))


def _find_all(app: Flask) -> list[tuple[str, object, str]]:
    """Import every plugin: ``[(name, plugin, version)]`` in plugin order."""
    found = [(name, importlib.import_module(module_name), __version__) for name, module_name in BUILTIN_PLUGINS]
    enabled = _enabled_names(app)
    if enabled:
        from importlib.metadata import entry_points

        points = {ep.name: ep for ep in entry_points(group=hookspecs.PROJECT)}
        for name in enabled:
            if name not in points:
                raise PluginLoadError(
                    f"plugin {name!r} is enabled in EDU_GUARD_PLUGINS but not installed "
                    f"(pip install plugins/{name}, or remove it from EDU_GUARD_PLUGINS)"
                )
            try:
                plugin = points[name].load()
            except Exception as exc:  # noqa: BLE001 - any import error names the plugin
                raise PluginLoadError(f"plugin {name!r} failed to load: {exc}") from exc
            found.append((name, plugin, points[name].dist.version if points[name].dist else ""))
    for name, obj in app.config.get("EDU_GUARD_PLUGIN_OBJECTS") or ():
        if any(name == n for n, _, _ in found):
            raise PluginLoadError(f"plugin {name!r} is registered twice")
        found.append((name, obj, str(getattr(obj, "__version__", ""))))
    _load_folder(app, found)
    return found


def _register_all(app: Flask, pm: PluginManager, contrib: Contributions) -> None:
    """Register the plugins in the reverse of plugin order: pluggy calls the last
    registered first, so hooks are called in plugin order."""
    found = _find_all(app)
    first_name: dict[int, str] = {}
    for name, plugin, _ in found:
        if id(plugin) in first_name:
            raise PluginLoadError(f"plugin {name!r} is the same object as plugin {first_name[id(plugin)]!r}")
        first_name[id(plugin)] = name
    for name, plugin, version in reversed(found):
        try:
            pm.register(plugin, name=name)
        except ValueError as exc:  # pluggy refuses it (e.g. a name blocked with pm.set_blocked)
            raise PluginLoadError(f"plugin {name!r} cannot be registered: {exc}") from exc
        contrib.versions[name] = version
    contrib.order = [name for name, _, _ in found]


def _wrappers(pm: pluggy.PluginManager, hook_name: str) -> str:
    names = [i.plugin_name for i in getattr(pm.hook, hook_name).get_hookimpls() if i.wrapper or i.hookwrapper]
    return " or ".join(names) or "?"


def answers(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> list[tuple[str, object]]:
    """Call a start-up hook through pluggy and name each answer's plugin.

    The hook is called once, as ``pm.hook.<hook_name>(**kwargs)``: wrappers,
    ``tryfirst``/``trylast`` and ``firstresult`` apply. Each implementation was wrapped
    at registration (:class:`PluginManager`) to note the objects it returned; an answer
    (a result, or an item of a list result) that no implementation returned was made by
    a hook wrapper and is named by the hook's wrapper plugins.

    :return: ``[(plugin name, result), ...]`` in pluggy's result order (a list result
        is an :class:`_Answer` whose ``items()`` name each item's plugin); one pair, or
        none, for a ``firstresult`` hook.
    :raises PluginLoadError: an implementation raised; the message names the plugin.
    """
    caller = getattr(pm.hook, hook_name)
    origins: dict = {"results": {}, "items": {}}
    token = _origins.set(origins)
    try:
        results = caller(**kwargs)
    finally:
        _origins.reset(token)
    if caller.spec is not None and caller.spec.opts.get("firstresult"):
        results = [] if results is None else [results]
    fallback = _wrappers(pm, hook_name)

    def owner_of(result):
        found = origins["results"].get(id(result))
        return found if found is not None and found[0] is result else None

    def answer(result):
        origin = owner_of(result)
        who = origin[1] if origin else fallback
        if not isinstance(result, (list, tuple)):
            return who, result

        def item_owner(item) -> str:
            if origin and id(item) in origin[2]:  # in the list as its implementation returned it
                return who
            found = origins["items"].get(id(item))  # moved into another list by a wrapper
            if found is not None and found[0] is item and len(found[1]) == 1:
                return next(iter(found[1]))
            return fallback  # added by a wrapper

        return who, _Answer(result, item_owner)

    return [answer(r) for r in results]


class _Answer(list):
    """A list result of a start-up hook whose items know their plugin (:meth:`items`)."""

    def __init__(self, values, who) -> None:
        super().__init__(values)
        self._who = who

    def items(self):
        """``(who, item)`` for each item."""
        return [(self._who(item), item) for item in self]


def _as_list(plugin: str, hook_name: str, result) -> list[tuple[str, object]]:
    if not isinstance(result, _Answer):
        raise PluginLoadError(f"plugin {plugin!r}: {hook_name} must return a list, not {type(result).__name__}")
    return result.items()


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
        for plugin, scheme in _as_list(plugin, "aid_schemes", result):
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
        for plugin, kind in _as_list(plugin, "letter_types", result):
            if not isinstance(kind, LetterKind) or not getattr(kind, "template_dir", None):
                raise PluginLoadError(f"plugin {plugin!r}: letter_types must return LetterKind objects with a template_dir")
            claim("letter", kind.key, plugin)
            contrib.letter_kinds[kind.key] = kind

    for key in IMPORTERS:
        contrib.owners[f"import:{key}"] = "core"
    for plugin, result in answers(pm, "import_formats"):
        for plugin, fmt in _as_list(plugin, "import_formats", result):
            if not (isinstance(fmt, type) and issubclass(fmt, Importer)):
                raise PluginLoadError(f"plugin {plugin!r}: import_formats must return Importer subclasses")
            claim("import", fmt.kind, plugin)
            contrib.import_formats[fmt.kind] = fmt

    for plugin, result in answers(pm, "comparison_kinds"):
        for plugin, kind in _as_list(plugin, "comparison_kinds", result):
            if not isinstance(kind, Comparison):
                raise PluginLoadError(f"plugin {plugin!r}: comparison_kinds must return Comparison instances")
            claim("comparison", kind.name, plugin)
            contrib.comparison_kinds[kind.name] = kind

    for plugin, result in answers(pm, "web_blueprints"):
        for plugin, bp in _as_list(plugin, "web_blueprints", result):
            if not isinstance(bp, Blueprint):
                raise PluginLoadError(f"plugin {plugin!r}: web_blueprints must return flask.Blueprint objects")
            claim("blueprint", bp.name, plugin)
            contrib.blueprints.append(bp)

    import click

    for plugin, result in answers(pm, "cli_commands"):
        for plugin, cmd in _as_list(plugin, "cli_commands", result):
            if not isinstance(cmd, click.Command):
                raise PluginLoadError(f"plugin {plugin!r}: cli_commands must return click commands")
            claim("command", cmd.name, plugin)
            contrib.cli_commands.append(cmd)


def init_app(app: Flask) -> pluggy.PluginManager:
    """Create the app's plugin manager, load and check the plugins, collect what they give.

    :raises PluginLoadError: naming the plugin and the reason (not installed, import
        error, unknown hook, invalid settings, a clash or a wrong return type).
    """
    pm = PluginManager()
    contrib = Contributions()
    _register_all(app, pm, contrib)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"plugin {pm.get_name(exc.plugin)!r} implements an unknown hook: {exc}") from exc
    app.extensions[EXTENSION_KEY] = pm
    app.extensions[CONTRIB_KEY] = contrib
    app.extensions[NOTIFY_KEY] = functools.partial(notify, pm)  # edu_guard.hooks.notify
    app.extensions[COLLECT_KEY] = functools.partial(collect, pm)  # edu_guard.hooks.collect
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


def collect(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> tuple[list, list[PluginFailure]]:
    """Call a run-time hook (:data:`ISOLATED_HOOKS`) through pluggy, each implementation
    isolated from the others.

    pluggy ends a call at the first exception (``_multicall`` re-raises it through the
    wrappers), so isolation cannot be a wrapper around the call: each implementation's
    function was wrapped when its plugin was registered (:class:`PluginManager`); one
    that raises is logged with its traceback and answers ``None``, and pluggy calls the
    next. An error raised by a hook *wrapper* still ends the call; it is logged and
    returned here as well, so it never reaches the caller either.

    :param hook_name: a hook of :data:`ISOLATED_HOOKS`.
    :return: ``(results, failures)``: pluggy's results (the answers of the
        implementations that did not fail, in plugin order) and a
        :class:`PluginFailure` for each one that failed.
    """
    failures: list[PluginFailure] = []
    token = _failures.set(failures)
    try:
        results = getattr(pm.hook, hook_name)(**kwargs)
    except Exception as exc:  # noqa: BLE001 - a hook wrapper's own error: logged, never the caller's
        log.exception("a wrapper of %s failed", hook_name)
        failures.append(PluginFailure(_wrappers(pm, hook_name), hook_name, exc))
        results = []
    finally:
        _failures.reset(token)
    return results, failures


def notify(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> list[PluginFailure]:
    """Call an event hook (``case_transitioned``, ``payment_batch_approved``) after the
    change it reports was committed: one failing notifier neither stops the others nor
    reaches the caller (see :func:`collect`, which does the call). Failures are logged
    with their traceback.

    :param hook_name: an event hook of :mod:`edu_guard.hookspecs`.
    :return: a :class:`PluginFailure` for each implementation that failed.
    """
    return collect(pm, hook_name, **kwargs)[1]
