"""The exceptions and warnings samplekit raises.

Every error the library raises on purpose derives from `SampleKitError`. Errors caused by
the caller's input also derive from `ValueError`, so ``except ValueError`` keeps working.

Examples:
    >>> from samplekit import EpochBatchSampler, SampleKitError
    >>> try:
    ...     EpochBatchSampler([0, 1, 1], "stratified", batch_size=0)
    ... except SampleKitError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    ConfigError True
"""

from __future__ import annotations


class SampleKitError(Exception):
    """Base class of every error samplekit raises on purpose."""


class ConfigError(SampleKitError, ValueError):
    """A configuration value (sampler setting or strategy option) is invalid."""


class LabelsError(SampleKitError, ValueError):
    """The labels are unusable: wrong shape, not integer, empty, or unfit for the strategy."""


class UnknownStrategyError(SampleKitError, ValueError):
    """No strategy is registered under the requested name."""


class UnknownBatcherError(SampleKitError, ValueError):
    """No batcher is registered under the requested name."""


class PluginError(SampleKitError):
    """A plugin or the strategy it registers is broken (import error, invalid strategy, clash)."""


class StrategyOutputError(SampleKitError, RuntimeError):
    """A strategy returned indices that break the contract (shape, dtype, range or length).

    Attributes:
        rule: the part of the contract that was broken, as the property-testing kit names it
            (``"sample returns a 1-D integer tensor"``, ``"epoch_length"``, ``"index range"``),
            or an empty string.
    """

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class StaleIteratorError(SampleKitError, RuntimeError):
    """An iteration of a sampler was asked for a batch after it was superseded.

    A newer iteration of the same sampler started, or `set_epoch` or `load_state_dict` was
    called while it ran: it would otherwise yield batches the sampler no longer accounts for.
    """


class PluginWarning(UserWarning):
    """A plugin failed to load and is skipped, or ``SAMPLEKIT_LOAD_PLUGINS`` names none installed.

    The other strategies keep working.
    """


class DesyncError(ConfigError):
    """Distributed ranks built their samplers from different labels, configuration or seed."""
