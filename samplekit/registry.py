"""Strategy names -> strategy classes, filled through the ``samplekit_register_strategies`` hook.

This module is the only code that calls the hook, so the untyped hook call gets a typed face here.
Strategies are collected from each plugin when it is registered with the plugin manager, which is
how a broken or clashing strategy is refused at registration rather than later.

Examples:
    >>> from samplekit import available_strategies, get_strategy
    >>> "stratified" in available_strategies()
    True
    >>> get_strategy("stratified").name
    'stratified'
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from typing import TYPE_CHECKING, Any

from samplekit.errors import PluginError, UnknownStrategyError
from samplekit.strategy import Options, Strategy

if TYPE_CHECKING:
    from samplekit.plugins import PluginManager

__all__ = [
    "StrategyInfo",
    "StrategyRegistry",
    "available_strategies",
    "get_strategy",
    "strategy_info",
    "validate_strategy_class",
]


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
    """The strategies known to one plugin manager, kept in step with its plugins."""

    def __init__(self, pm: PluginManager) -> None:
        self._pm = pm
        self._entries: dict[str, StrategyInfo] = {}

    def collect(self, plugin: object) -> None:
        """Call ``plugin``'s hook implementations and add the strategies they register.

        All or nothing: if any registration fails, none of this plugin's strategies are added.

        Raises:
            PluginError: for an invalid strategy class or a name that is already taken.
        """
        plugin_name = self._pm.get_name(plugin) or repr(plugin)
        source = self._pm.describe(plugin_name)
        added: dict[str, StrategyInfo] = {}

        def register(strategy: type[Strategy], /) -> None:
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

        arguments: dict[str, Any] = {"register": register}
        for impl in self._pm.hook.samplekit_register_strategies.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(**{arg: arguments[arg] for arg in impl.argnames})
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
            UnknownStrategyError: listing the available names, the closest match, any plugin
                that failed to load (the name may have been one of its strategies), and, when
                ``SAMPLEKIT_LOAD_PLUGINS`` selected the plugins, its value and the installed
                plugins it left out.
        """
        info = self._entries.get(name)
        if info is not None:
            return info
        asked = repr(name) if len(repr(name)) <= 200 else f"{repr(name)[:200]}..."
        msg = f"strategy: no strategy named {asked}; available: {', '.join(self.names())}"
        close = difflib.get_close_matches(str(name), self.names(), n=1)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        failures = self._pm.failures
        if failures:
            broken = "; ".join(f"{dist}: {error}" for dist, error in failures.items())
            msg += f". These plugins failed to load and may provide it: {broken}"
        setting = self._pm.load_plugins
        if setting is not None:
            left_out = ", ".join(self._pm.not_selected) or "none"
            shown = setting if len(setting) <= 200 else f"{setting[:200]}..."
            msg += (
                f". SAMPLEKIT_LOAD_PLUGINS={shown!r} restricted which installed plugins loaded "
                f"(left out: {left_out}); add the plugin that provides the strategy to it, or "
                f"unset it to load every installed plugin"
            )
        raise UnknownStrategyError(msg)


def _registry() -> StrategyRegistry:
    from samplekit.plugins import get_plugin_manager

    return get_plugin_manager().strategies


def available_strategies() -> list[str]:
    """Names of every registered strategy, built-ins and plugins alike, sorted.

    Examples:
        >>> from samplekit import available_strategies
        >>> available_strategies()[:3]
        ['class_weighted', 'negative_subsampling', 'stratified']
    """
    return _registry().names()


def strategy_info(name: str) -> StrategyInfo:
    """The `StrategyInfo` of the strategy registered as ``name``."""
    return _registry().get(name)


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``.

    Raises:
        UnknownStrategyError: if no strategy has that name.
    """
    return strategy_info(name).strategy
