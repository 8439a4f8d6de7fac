"""Hook specifications: how plugins add strategies and batchers to samplekit.

Built-in strategies and batchers use exactly the same hooks as third-party ones.

Examples:
    A plugin module (found through the ``samplekit`` entry-point group, or registered in
    process with ``samplekit.get_plugin_manager().register(module)``)::

        import samplekit

        @samplekit.hookimpl
        def samplekit_register_strategies(register):
            register(MyStrategy)

        @samplekit.hookimpl
        def samplekit_register_batchers(register):
            register(MyBatcher)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from samplekit.batcher import Batcher
    from samplekit.strategy import Strategy

PROJECT_NAME = "samplekit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback handed to `samplekit_register_strategies`."""

    def __call__(self, strategy: type[Strategy], /) -> None:
        """Register one strategy class under its ``name``."""


@hookspec
def samplekit_register_strategies(register: Register) -> None:
    """Register strategy classes by calling ``register(StrategyClass)`` once per class.

    Called once for each plugin, when the plugin is registered with the plugin manager
    (built-ins first, then installed entry-point plugins in the order ``importlib.metadata``
    lists them, then anything registered in process). ``register`` accepts a subclass of
    `samplekit.Strategy` with a ``name`` that is a Python identifier and a nested
    ``Options`` model; it raises `samplekit.errors.PluginError` for anything else or
    for a name another plugin already registered.

    Args:
        register: call it with each strategy class this plugin provides.
    """


class RegisterBatcher(Protocol):
    """The callback handed to `samplekit_register_batchers`."""

    def __call__(self, batcher: type[Batcher], /) -> None:
        """Register one batcher class under its ``name``."""


@hookspec
def samplekit_register_batchers(register: RegisterBatcher) -> None:
    """Register batcher classes by calling ``register(BatcherClass)`` once per class.

    Called once for each plugin, when it is registered, as `samplekit_register_strategies`.
    ``register`` accepts a subclass of `samplekit.batcher.Batcher` with a ``name`` that is a
    Python identifier and a nested ``Options`` model; it raises
    `samplekit.errors.PluginError` for anything else or for a name another plugin already
    registered. Batcher names are separate from strategy names.

    Args:
        register: call it with each batcher class this plugin provides.
    """
