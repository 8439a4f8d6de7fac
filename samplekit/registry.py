"""Names -> strategy and batcher classes, filled through the ``samplekit_register_*`` hooks.

This module is the only code that calls the hooks' implementations, so the untyped hook calls
get a typed face here. The plugin manager (`samplekit.plugins`) hands a `StrategyRegistry`
each plugin's implementations when the plugin is registered, which is how a broken or clashing
class is refused at registration rather than later; the registry knows nothing else of the
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
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from samplekit.batcher import Batcher
from samplekit.errors import PluginError, UnknownBatcherError, UnknownStrategyError
from samplekit.strategy import Options, Strategy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pluggy import HookImpl

__all__ = [
    "BatcherInfo",
    "BatcherRegistry",
    "Registry",
    "StrategyInfo",
    "StrategyRegistry",
    "validate_batcher_class",
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

    @property
    def cls(self) -> type[Strategy]:
        """The strategy class (as `strategy`)."""
        return self.strategy


@dataclasses.dataclass(frozen=True)
class BatcherInfo:
    """A registered batcher and where it came from.

    Attributes:
        name: the name users pick it by.
        batcher: the batcher class.
        source: as `StrategyInfo.source`.
        plugin_name: the pluggy name of the plugin that registered it.
    """

    name: str
    batcher: type[Batcher]
    source: str
    plugin_name: str

    @property
    def cls(self) -> type[Batcher]:
        """The batcher class (as `batcher`)."""
        return self.batcher


def validate_strategy_class(strategy: Any) -> type[Strategy]:
    """Check that ``strategy`` is a usable strategy class and return it.

    Raises:
        PluginError: naming what is missing (base class, ``name``, ``Options``, methods).
    """
    checked: type[Strategy] = _validate_class(strategy, Strategy, "strategy", "samplekit.Strategy")
    return checked


def validate_batcher_class(batcher: Any) -> type[Batcher]:
    """Check that ``batcher`` is a usable batcher class and return it.

    Raises:
        PluginError: naming what is missing (base class, ``name``, ``Options``, methods).
    """
    checked: type[Batcher] = _validate_class(
        batcher, Batcher, "batcher", "samplekit.batcher.Batcher"
    )
    return checked


InfoT = TypeVar("InfoT", "StrategyInfo", "BatcherInfo")


def _validate_class(cls: Any, base: type[Any], kind: str, base_name: str) -> Any:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        msg = (
            f"a {kind} must be a subclass of {base_name}, but got {cls!r}; define "
            f"`class My{kind.title()}({base_name}): ...` and register the class"
        )
        raise PluginError(msg)
    label = cls.__qualname__
    name = cls.__dict__.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        msg = (
            f"{kind} class {label} must set `name` to a Python identifier in its own class "
            f"body, but has name={name!r}"
        )
        raise PluginError(msg)
    options = getattr(cls, "Options", None)
    if not (isinstance(options, type) and issubclass(options, Options)):
        msg = (
            f"{kind} {name!r} ({label}) must have a nested `class Options(samplekit.Options)`, "
            f"but its Options is {options!r}"
        )
        raise PluginError(msg)
    if options.model_config.get("extra") != "forbid":
        msg = (
            f"{kind} {name!r}: its Options model must refuse unknown keys "
            f"(extra='forbid', inherited from samplekit.Options), but sets "
            f"extra={options.model_config.get('extra')!r}"
        )
        raise PluginError(msg)
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        msg = f"{kind} {name!r} ({label}) does not implement: {missing}"
        raise PluginError(msg)
    return cls


class Registry(Generic[InfoT]):
    """Registered classes of one kind (strategies or batchers) by name.

    Args:
        hint: called when a name is unknown; returns text to add to the error (why the class
            may be missing: plugins that failed to load, a plugin selection).
    """

    kind: ClassVar[str]
    hook: ClassVar[str]
    unknown: ClassVar[type[Exception]]

    def __init__(self, hint: Callable[[], str] = str) -> None:
        self._hint = hint
        self._entries: dict[str, InfoT] = {}

    def validate(self, cls: Any) -> Any:
        """Check ``cls`` is a usable class of this kind and return it."""
        raise NotImplementedError

    def collect(self, impls: Iterable[HookImpl], *, plugin_name: str, source: str) -> None:
        """Call one plugin's hook implementations and add the classes they register.

        All or nothing: if any registration fails, none of this plugin's classes are added.

        Raises:
            PluginError: for an invalid class or a name that is already taken.
        """
        added: list[Any] = []
        arguments: dict[str, Any] = {"register": added.append}
        for impl in impls:
            impl.function(**{arg: arguments[arg] for arg in impl.argnames})
        self.add(added, plugin_name=plugin_name, source=source)

    def add(self, classes: Iterable[Any], *, plugin_name: str, source: str) -> None:
        """Add ``classes`` registered by ``plugin_name``, all or none.

        Raises:
            PluginError: for an invalid class or a name that is already taken.
        """
        added: dict[str, InfoT] = {}
        for given in classes:
            cls = self.validate(given)
            name: str = cls.name
            clash = self._entries.get(name) or added.get(name)
            if clash is not None:
                msg = (
                    f"{self.kind} name {name!r} is registered twice: by {clash.source} "
                    f"({clash.cls.__module__}.{clash.cls.__qualname__}) and by "
                    f"{source} ({cls.__module__}.{cls.__qualname__}); uninstall one of them or "
                    f"limit plugins with SAMPLEKIT_LOAD_PLUGINS"
                )
                raise PluginError(msg)
            added[name] = self._info(name, cls, source, plugin_name)
        self._entries.update(added)

    def _info(self, name: str, cls: Any, source: str, plugin_name: str) -> InfoT:
        raise NotImplementedError

    def discard(self, plugin_name: str) -> None:
        """Forget the classes registered by the plugin called ``plugin_name``."""
        for name in [n for n, info in self._entries.items() if info.plugin_name == plugin_name]:
            del self._entries[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def infos(self) -> list[InfoT]:
        """Every registered entry, sorted by name."""
        return [self._entries[name] for name in self.names()]

    def get(self, name: str) -> InfoT:
        """The entry registered as ``name``.

        Raises:
            UnknownStrategyError: (`UnknownBatcherError` for batchers) listing the available
                names, the closest match, and the registry's hint (plugins that failed to
                load, a plugin selection).
        """
        info = self._entries.get(name)
        if info is not None:
            return info
        asked = repr(name) if len(repr(name)) <= _SHOWN else f"{repr(name)[:_SHOWN]}..."
        msg = f"{self.kind}: no {self.kind} named {asked}; available: {', '.join(self.names())}"
        close = (
            difflib.get_close_matches(name, self.names(), n=1)
            if isinstance(name, str) and len(name) <= 2 * _SHOWN
            else []
        )
        if close:
            msg += f"; did you mean {close[0]!r}?"
        raise self.unknown(msg + self._hint())


class StrategyRegistry(Registry[StrategyInfo]):
    """The registered strategies by name (filled through ``samplekit_register_strategies``)."""

    kind = "strategy"
    hook = "samplekit_register_strategies"
    unknown = UnknownStrategyError

    def validate(self, cls: Any) -> type[Strategy]:
        """`validate_strategy_class`."""
        return validate_strategy_class(cls)

    def _info(self, name: str, cls: type[Strategy], source: str, plugin_name: str) -> StrategyInfo:
        return StrategyInfo(name, cls, source, plugin_name)


class BatcherRegistry(Registry[BatcherInfo]):
    """The registered batchers by name (filled through ``samplekit_register_batchers``)."""

    kind = "batcher"
    hook = "samplekit_register_batchers"
    unknown = UnknownBatcherError

    def validate(self, cls: Any) -> type[Batcher]:
        """`validate_batcher_class`."""
        return validate_batcher_class(cls)

    def _info(self, name: str, cls: type[Batcher], source: str, plugin_name: str) -> BatcherInfo:
        return BatcherInfo(name, cls, source, plugin_name)


_SHOWN = 60  # characters of an unknown name the error quotes
