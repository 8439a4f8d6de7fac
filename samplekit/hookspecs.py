"""Hook specifications: how plugins add strategies to samplekit.

Built-in strategies use exactly the same hook as third-party ones.

Examples:
    A plugin module (found through the ``samplekit`` entry-point group, or registered in
    process with ``samplekit.get_plugin_manager().register(module)``)::

        import samplekit

        @samplekit.hookimpl
        def samplekit_register_strategies(register):
            register(MyStrategy)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
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
