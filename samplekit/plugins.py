"""The plugin manager: built-in strategies plus plugins installed under the ``samplekit`` group.

Nothing is loaded at import time. `get_plugin_manager` builds the manager on first use,
registers the built-in strategy modules, then each installed entry point one at a time, so one
broken plugin cannot stop the others. Which plugins load is read from ``SAMPLEKIT_LOAD_PLUGINS``
at that moment: unset loads all, the empty string loads none, ``a,b`` loads only those
(distribution or entry-point names). The built-ins always load.

Examples:
    >>> import samplekit
    >>> class Plugin:
    ...     @samplekit.hookimpl
    ...     def samplekit_register_strategies(self, register):
    ...         pass  # register(MyStrategy)
    >>> pm = samplekit.get_plugin_manager()
    >>> name = pm.register(Plugin())
    >>> pm.unregister(name=name) is not None
    True
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import re
import threading
import warnings
from typing import TYPE_CHECKING, Any

import pluggy

from samplekit import hookspecs
from samplekit.errors import PluginError, PluginWarning
from samplekit.registry import StrategyRegistry

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginManager",
    "get_plugin_manager",
    "isolated_plugin_manager",
    "make_plugin_manager",
]

ENTRY_POINT_GROUP = "samplekit"
LOAD_PLUGINS_ENV = "SAMPLEKIT_LOAD_PLUGINS"
DEFAULT_PLUGINS = (
    "samplekit.strategies.class_weighted",
    "samplekit.strategies.negative_subsampling",
    "samplekit.strategies.stratified",
)


class PluginManager(pluggy.PluginManager):
    """A ``pluggy.PluginManager`` that keeps the strategy registry in step with its plugins.

    ``register`` collects the plugin's strategies at once and refuses the plugin (raising, and
    leaving nothing registered) if a strategy is invalid, its name is taken, or the plugin
    implements a hook that does not exist. ``unregister`` removes its strategies.

    Attributes:
        strategies: the `samplekit.registry.StrategyRegistry` of this manager.
        failures: distribution (or entry-point) name -> error, for plugins that failed to load.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.strategies = StrategyRegistry(self)
        self.failures: dict[str, str] = {}
        self._sources: dict[str, str] = {}

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` and its strategies; see the class docstring for what is refused."""
        plugin_name = super().register(plugin, name)
        if plugin_name is None:  # blocked by name
            return None
        try:
            self.check_pending()
            self.strategies.collect(plugin)
        except Exception as exc:
            super().unregister(plugin)
            if isinstance(exc, PluginError):
                raise
            msg = f"plugin {self.describe(plugin_name)} was refused: {exc}"
            raise PluginError(msg) from exc
        return plugin_name

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        """Unregister a plugin (by object or name) and forget its strategies."""
        plugin_name = name if name is not None else self.get_name(plugin) if plugin else None
        removed = super().unregister(plugin, name)
        if plugin_name is not None:
            self.strategies.discard(plugin_name)
            self._sources.pop(plugin_name, None)
        return removed

    def describe(self, plugin_name: str) -> str:
        """Where the plugin called ``plugin_name`` comes from, for messages and listings."""
        if plugin_name in DEFAULT_PLUGINS:
            return "built-in"
        return self._sources.get(plugin_name, f"plugin {plugin_name}")

    def load_entrypoints(self, only: set[str] | None = None) -> None:
        """Register every installed ``samplekit`` entry point, one at a time.

        A plugin that fails to import or is refused at registration gives a
        `samplekit.errors.PluginWarning` naming its distribution and the error, and is
        recorded in `failures`; the others still load.

        Args:
            only: if given, load just the entry points whose name or distribution is in it.
        """
        wanted = {_normalise(n) for n in only} if only is not None else None
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else ep.name
            version = ep.dist.version if ep.dist is not None else "?"
            if wanted is not None and not wanted & {_normalise(dist), _normalise(ep.name)}:
                continue
            if self.has_plugin(ep.name):
                continue
            self._sources[ep.name] = f"{dist} {version}"
            try:
                self.register(ep.load(), name=ep.name)
            except Exception as exc:
                self._sources.pop(ep.name, None)
                self.failures[dist] = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"samplekit plugin {dist} {version} (entry point {ep.name!r}) failed to load "
                    f"and is skipped: {type(exc).__name__}: {exc}",
                    PluginWarning,
                    stacklevel=2,
                )


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def make_plugin_manager(*, entrypoints: bool = True) -> PluginManager:
    """A new plugin manager with the built-ins and, if ``entrypoints``, installed plugins.

    ``SAMPLEKIT_LOAD_PLUGINS`` is read here, on each call.
    """
    pm = PluginManager()
    for module in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module), name=module)
    if entrypoints:
        setting = os.environ.get(LOAD_PLUGINS_ENV)
        only = None if setting is None else {n.strip() for n in setting.split(",") if n.strip()}
        pm.load_entrypoints(only)
    return pm


_lock = threading.Lock()
_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, built on first use and then kept.

    ``get_plugin_manager().register(obj)`` makes the strategies of any object or module carrying
    a ``samplekit_register_strategies`` hook implementation available by name at once.
    """
    global _manager
    with _lock:
        if _manager is None:
            _manager = make_plugin_manager()
        return _manager


@contextlib.contextmanager
def isolated_plugin_manager(*, entrypoints: bool = False) -> Iterator[PluginManager]:
    """Use a fresh plugin manager for the duration of a ``with`` block, then restore the old one.

    By default it holds the built-ins only, so installed plugins cannot affect a test.

    Examples:
        >>> from samplekit import available_strategies
        >>> from samplekit.plugins import isolated_plugin_manager
        >>> with isolated_plugin_manager():
        ...     available_strategies()
        ['class_weighted', 'negative_subsampling', 'stratified']
    """
    global _manager
    fresh = make_plugin_manager(entrypoints=entrypoints)
    with _lock:
        previous, _manager = _manager, fresh
    try:
        yield fresh
    finally:
        with _lock:
            _manager = previous
