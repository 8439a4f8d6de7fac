"""Strategy names -> strategy classes, filled through the ``samplekit_register_strategies`` hook.

This module is the only code that calls the hook's implementations, so the untyped hook call
gets a typed face here. The plugin manager (`samplekit.plugins`) hands a `StrategyRegistry`
each plugin's implementations when the plugin is registered, which is how a broken or clashing
strategy is refused at registration rather than later; the registry knows nothing else of the
plugin manager.

Examples:
    >>> from samplekit.registry import StrategyRegistry
    >>> from samplekit.strategies.stratified import Stratified
    >>> registry = StrategyRegistry()
    >>> registry.add([Stratified], plugin_name="mine", source="plugin mine")
    >>> registry.names(), registry.get("stratified").source
    (['stratified'], 'plugin mine')
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from typing import TYPE_CHECKING, Any

from samplekit.errors import PluginError, UnknownStrategyError
from samplekit.strategy import Options, Strategy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pluggy import HookImpl

__all__ = ["StrategyInfo", "StrategyRegistry", "validate_strategy_class"]


@dataclasses.dataclass(frozen=True)
class StrategyInfo:
    """A registered strategy and where it came from.

    Attributes:
        name: the name users pick it by.
        strategy: the strategy class.
        source: ``"built-in"``, ``"<distribution> <version>"`` for an installed plugin, or
            ``"plugin <name>"`` for one registered in process.
        plugin_name: the pluggy name of the plugin that registered it.
    """

    name: str
    strategy: type[Strategy]
    source: str
    plugin_name: str


def validate_strategy_class(strategy: Any) -> type[Strategy]:
    """Check that ``strategy`` is a usable strategy class and return it.

    Raises:
        PluginError: naming what is missing (base class, ``name``, ``Options``, methods).
    """
    if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
        msg = (
            f"a strategy must be a subclass of samplekit.Strategy, but got {strategy!r}; "
            f"define `class MyStrategy(samplekit.Strategy): ...` and register the class"
        )
        raise PluginError(msg)
    label = strategy.__qualname__
    name = strategy.__dict__.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        msg = (
            f"strategy class {label} must set `name` to a Python identifier in its own class "
            f"body, but has name={name!r}"
        )
        raise PluginError(msg)
    options = getattr(strategy, "Options", None)
    if not (isinstance(options, type) and issubclass(options, Options)):
        msg = (
            f"strategy {name!r} ({label}) must have a nested `class Options(samplekit.Options)`, "
            f"but its Options is {options!r}"
        )
        raise PluginError(msg)
    if options.model_config.get("extra") != "forbid":
        msg = (
            f"strategy {name!r}: its Options model must refuse unknown keys "
            f"(extra='forbid', inherited from samplekit.Options), but sets "
            f"extra={options.model_config.get('extra')!r}"
        )
        raise PluginError(msg)
    if inspect.isabstract(strategy):
        missing = ", ".join(sorted(strategy.__abstractmethods__))
        msg = f"strategy {name!r} ({label}) does not implement: {missing}"
        raise PluginError(msg)
    return strategy


class StrategyRegistry:
    """The registered strategies by name.

    Args:
        hint: called when a name is unknown; returns text to add to the error (why the strategy
            may be missing: plugins that failed to load, a plugin selection).
    """

    def __init__(self, hint: Callable[[], str] = str) -> None:
        self._hint = hint
        self._entries: dict[str, StrategyInfo] = {}

    def collect(self, impls: Iterable[HookImpl], *, plugin_name: str, source: str) -> None:
        """Call one plugin's hook implementations and add the strategies they register.

        All or nothing: if any registration fails, none of this plugin's strategies are added.

        Raises:
            PluginError: for an invalid strategy class or a name that is already taken.
        """
        added: list[type[Strategy]] = []
        arguments: dict[str, Any] = {"register": added.append}
        for impl in impls:
            impl.function(**{arg: arguments[arg] for arg in impl.argnames})
        self.add(added, plugin_name=plugin_name, source=source)

    def add(self, strategies: Iterable[Any], *, plugin_name: str, source: str) -> None:
        """Add ``strategies`` registered by ``plugin_name``, all or none.

        Raises:
            PluginError: for an invalid strategy class or a name that is already taken.
        """
        added: dict[str, StrategyInfo] = {}
        for strategy in strategies:
            cls = validate_strategy_class(strategy)
            clash = self._entries.get(cls.name) or added.get(cls.name)
            if clash is not None:
                msg = (
                    f"strategy name {cls.name!r} is registered twice: by {clash.source} "
                    f"({clash.strategy.__module__}.{clash.strategy.__qualname__}) and by "
                    f"{source} ({cls.__module__}.{cls.__qualname__}); uninstall one of them or "
                    f"limit plugins with SAMPLEKIT_LOAD_PLUGINS"
                )
                raise PluginError(msg)
            added[cls.name] = StrategyInfo(cls.name, cls, source, plugin_name)
        self._entries.update(added)

    def discard(self, plugin_name: str) -> None:
        """Forget the strategies registered by the plugin called ``plugin_name``."""
        for name in [n for n, info in self._entries.items() if info.plugin_name == plugin_name]:
            del self._entries[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def infos(self) -> list[StrategyInfo]:
        """Every registered strategy, sorted by name."""
        return [self._entries[name] for name in self.names()]

    def get(self, name: str) -> StrategyInfo:
        """The strategy registered as ``name``.

        Raises:
            UnknownStrategyError: listing the available names, the closest match, and the
                registry's hint (plugins that failed to load, a plugin selection).
        """
        info = self._entries.get(name)
        if info is not None:
            return info
        asked = repr(name) if len(repr(name)) <= _SHOWN else f"{repr(name)[:_SHOWN]}..."
        msg = f"strategy: no strategy named {asked}; available: {', '.join(self.names())}"
        close = (
            difflib.get_close_matches(name, self.names(), n=1)
            if isinstance(name, str) and len(name) <= 2 * _SHOWN
            else []
        )
        if close:
            msg += f"; did you mean {close[0]!r}?"
        raise UnknownStrategyError(msg + self._hint())


_SHOWN = 60  # characters of an unknown name the error quotes
