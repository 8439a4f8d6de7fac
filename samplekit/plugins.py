"""The plugin manager: built-in strategies and batchers plus plugins of the ``samplekit`` group.

Nothing is loaded at import time. `get_plugin_manager` builds the manager on first use,
registers the built-in strategy modules, then each installed entry point one at a time, so one
broken plugin cannot stop the others: any exception a plugin raises while it is imported or
registered, ``SystemExit`` included (everything but ``KeyboardInterrupt``), skips that plugin with
a `samplekit.errors.PluginWarning`. Which plugins load is read from ``SAMPLEKIT_LOAD_PLUGINS`` at
that moment: unset loads all, the empty string loads none, ``a,b`` loads only those (distribution
or entry-point names, case and ``-``/``_`` insensitive). A name in it that no installed plugin
has gives one ``PluginWarning`` naming the installed plugins. The built-ins always load.

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
import difflib
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
from samplekit.registry import (
    BatcherInfo,
    BatcherRegistry,
    Registry,
    StrategyInfo,
    StrategyRegistry,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from samplekit.batcher import Batcher
    from samplekit.strategy import Strategy

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginManager",
    "available_batchers",
    "available_strategies",
    "batcher_info",
    "get_batcher",
    "get_plugin_manager",
    "get_strategy",
    "installed_plugins",
    "isolated_plugin_manager",
    "make_plugin_manager",
    "strategy_info",
]

ENTRY_POINT_GROUP = "samplekit"
LOAD_PLUGINS_ENV = "SAMPLEKIT_LOAD_PLUGINS"
DEFAULT_PLUGINS = (
    "samplekit.strategies.class_weighted",
    "samplekit.strategies.hard_negatives",
    "samplekit.strategies.importance",
    "samplekit.strategies.infobatch",
    "samplekit.strategies.negative_subsampling",
    "samplekit.strategies.shuffle",
    "samplekit.strategies.stratified",
    "samplekit.batchers.fixed",
    "samplekit.batchers.length_grouped",
    "samplekit.batchers.token_budget",
)


class PluginManager(pluggy.PluginManager):
    """A ``pluggy.PluginManager`` that keeps the strategy and batcher registries in step.

    ``register`` collects the plugin's strategies and batchers at once and refuses the plugin
    (raising `samplekit.errors.PluginError`, and leaving nothing registered) if a class is
    invalid, its name is taken, the plugin implements a hook that does not exist, or its hook
    raises (``SystemExit`` included; only ``KeyboardInterrupt`` passes through as it is).
    ``unregister`` removes its strategies and batchers.

    Attributes:
        strategies: the `samplekit.registry.StrategyRegistry` of this manager.
        batchers: the `samplekit.registry.BatcherRegistry` of this manager.
        failures: distribution (or entry-point) name -> error, for plugins that failed to load.
        load_plugins: the value of ``SAMPLEKIT_LOAD_PLUGINS`` the installed plugins were
            selected with, or ``None`` if it was unset or the entry points were not loaded.
        not_selected: installed distributions that ``load_plugins`` left out.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.strategies = StrategyRegistry(self._unknown_hint)
        self.batchers = BatcherRegistry(self._unknown_hint)
        self.failures: dict[str, str] = {}
        self.load_plugins: str | None = None
        self.not_selected: list[str] = []
        self._sources: dict[str, str] = {}

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` and its classes; see the class docstring for what is refused."""
        plugin_name = super().register(plugin, name)
        if plugin_name is None:  # blocked by name
            return None
        registries: tuple[Registry[Any], ...] = (self.strategies, self.batchers)
        try:
            self.check_pending()
            for registry in registries:
                registry.collect(
                    [
                        impl
                        for impl in getattr(self.hook, registry.hook).get_hookimpls()
                        if impl.plugin is plugin
                    ],
                    plugin_name=plugin_name,
                    source=self.describe(plugin_name),
                )
        except BaseException as exc:  # SystemExit from a hook too: refuse the plugin, not exit
            for registry in registries:
                registry.discard(plugin_name)
            super().unregister(plugin)
            if isinstance(exc, (PluginError, KeyboardInterrupt)):
                raise
            msg = f"plugin {self.describe(plugin_name)} was refused: {_error_text(exc)}"
            raise PluginError(msg) from exc
        return plugin_name

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        """Unregister a plugin (by object or name) and forget its strategies and batchers."""
        plugin_name = name if name is not None else self.get_name(plugin) if plugin else None
        removed = super().unregister(plugin, name)
        if plugin_name is not None:
            self.strategies.discard(plugin_name)
            self.batchers.discard(plugin_name)
            self._sources.pop(plugin_name, None)
        return removed

    def describe(self, plugin_name: str) -> str:
        """Where the plugin called ``plugin_name`` comes from, for messages and listings."""
        if plugin_name in DEFAULT_PLUGINS:
            return "built-in"
        return self._sources.get(plugin_name, f"plugin {plugin_name}")

    def _unknown_hint(self) -> str:
        """Why a strategy may be missing: plugins that failed, or a plugin selection."""
        hint = ""
        if self.failures:
            broken = "; ".join(f"{dist}: {error}" for dist, error in self.failures.items())
            hint += f". These plugins failed to load and may provide it: {broken}"
        if self.load_plugins is not None:
            left_out = ", ".join(self.not_selected) or "none"
            setting = self.load_plugins
            shown = setting if len(setting) <= 200 else f"{setting[:200]}..."
            hint += (
                f". {LOAD_PLUGINS_ENV}={shown!r} restricted which installed plugins loaded "
                f"(left out: {left_out}); add the plugin that provides the strategy to it, or "
                f"unset it to load every installed plugin"
            )
        return hint

    def load_entrypoints(self, only: set[str] | None = None) -> None:
        """Register every installed ``samplekit`` entry point, one at a time.

        A plugin that raises anything but ``KeyboardInterrupt`` while it is imported or
        registered (``SystemExit`` included) gives a `samplekit.errors.PluginWarning` naming
        its distribution and the error, and is recorded in `failures`; the others still load.
        Installed plugins that ``only`` leaves out are recorded in `not_selected`.

        Args:
            only: if given, load just the entry points whose name or distribution is in it.
        """
        wanted = {_normalise(n) for n in only} if only is not None else None
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else ep.name
            version = ep.dist.version if ep.dist is not None else "?"
            if wanted is not None and not wanted & {_normalise(dist), _normalise(ep.name)}:
                if dist not in self.not_selected:
                    self.not_selected.append(dist)
                continue
            if self.has_plugin(ep.name):
                continue
            self._sources[ep.name] = f"{dist} {version}"
            try:
                self.register(ep.load(), name=ep.name)
            except KeyboardInterrupt:
                self._sources.pop(ep.name, None)
                raise
            except BaseException as exc:  # SystemExit at import must not end the program
                self._sources.pop(ep.name, None)
                error = _error_text(exc)
                self.failures[dist] = error
                warnings.warn(
                    f"samplekit plugin {dist} {version} (entry point {ep.name!r}) failed to load "
                    f"and is skipped: {error}",
                    PluginWarning,
                    stacklevel=2,
                )


def installed_plugins() -> list[tuple[str, str]]:
    """``(distribution, entry-point name)`` of every installed ``samplekit`` entry point."""
    return [
        (ep.dist.name if ep.dist is not None else ep.name, ep.name)
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    ]


def _warn_unknown(names: set[str]) -> None:
    """One `PluginWarning` for the names in ``SAMPLEKIT_LOAD_PLUGINS`` no installed plugin has."""
    installed = installed_plugins()
    known = {_normalise(n) for pair in installed for n in pair}
    unknown = sorted(n for n in names if _normalise(n) not in known)
    if not unknown:
        return
    listed = ", ".join(
        dist if dist == name else f"{dist} (entry point {name})" for dist, name in installed
    )
    close = {
        name: match[0]
        for name in unknown
        if (match := difflib.get_close_matches(name, [n for p in installed for n in p], n=1))
    }
    hints = "".join(f"; did you mean {close[n]!r} for {n!r}?" for n in unknown if n in close)
    warnings.warn(
        f"{LOAD_PLUGINS_ENV} names {', '.join(repr(_shorten(n)) for n in unknown)}, which no "
        f"installed plugin has, so nothing is loaded for "
        f"{'it' if len(unknown) == 1 else 'them'}; installed plugins: {listed or 'none'}{hints}. "
        f"It takes comma-separated distribution or entry-point names; unset it to load every "
        f"installed plugin, set it to the empty string to load none",
        PluginWarning,
        stacklevel=3,
    )


_QUOTE_LIMIT = 1000


def _shorten(text: str) -> str:
    return text if len(text) <= _QUOTE_LIMIT else f"{text[:_QUOTE_LIMIT]}... ({len(text)} chars)"


def _error_text(exc: BaseException) -> str:
    """``"Type: message"`` (``"Type"`` alone for an empty message), the message shortened."""
    text = str(exc)
    return f"{type(exc).__name__}: {_shorten(text)}" if text else type(exc).__name__


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def make_plugin_manager(*, entrypoints: bool = True) -> PluginManager:
    """A new plugin manager with the built-ins and, if ``entrypoints``, installed plugins.

    ``SAMPLEKIT_LOAD_PLUGINS`` is read here, on each call; names in it that no installed plugin
    has give one `samplekit.errors.PluginWarning`.
    """
    pm = PluginManager()
    for module in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module), name=module)
    if entrypoints:
        setting = os.environ.get(LOAD_PLUGINS_ENV)
        only = None if setting is None else {n.strip() for n in setting.split(",") if n.strip()}
        if only is not None:
            pm.load_plugins = setting
            _warn_unknown(only)
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
        ['class_weighted', 'hard_negatives', 'importance', 'infobatch', 'negative_subsampling', \
'shuffle', 'stratified']
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


def available_strategies() -> list[str]:
    """Names of every registered strategy, built-ins and plugins alike, sorted.

    Examples:
        >>> from samplekit import available_strategies
        >>> available_strategies()[:3]
        ['class_weighted', 'hard_negatives', 'importance']
    """
    return get_plugin_manager().strategies.names()


def strategy_info(name: str) -> StrategyInfo:
    """The `samplekit.registry.StrategyInfo` of the strategy registered as ``name``.

    Raises:
        UnknownStrategyError: if no strategy has that name.
    """
    return get_plugin_manager().strategies.get(name)


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``.

    Raises:
        UnknownStrategyError: if no strategy has that name.
    """
    return strategy_info(name).strategy


def available_batchers() -> list[str]:
    """Names of every registered batcher, built-ins and plugins alike, sorted.

    Examples:
        >>> from samplekit import available_batchers
        >>> available_batchers()[:3]
        ['fixed', 'length_grouped', 'token_budget']
    """
    return get_plugin_manager().batchers.names()


def batcher_info(name: str) -> BatcherInfo:
    """The `samplekit.registry.BatcherInfo` of the batcher registered as ``name``.

    Raises:
        UnknownBatcherError: if no batcher has that name.
    """
    return get_plugin_manager().batchers.get(name)


def get_batcher(name: str) -> type[Batcher]:
    """The batcher class registered as ``name``.

    Raises:
        UnknownBatcherError: if no batcher has that name.
    """
    return batcher_info(name).batcher
