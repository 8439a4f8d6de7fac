"""samplekit: per-epoch sample selection for PyTorch by named, validated, pluggable strategies.

The public names load on first use, so ``import samplekit`` (which pytest does in every run
through the testing kit's plugin, and the ``samplekit`` command does before parsing
arguments) does not import torch.

Examples:
    >>> from samplekit import EpochBatchSampler
    >>> sampler = EpochBatchSampler([0] * 80 + [1] * 20, "negative_subsampling",
    ...                             batch_size=10, seed=0, neg_ratio=0.25)
    >>> len(sampler)
    4
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samplekit._lazy import attach

if TYPE_CHECKING:
    from samplekit.batcher import Batcher, Batches
    from samplekit.config import BatcherConfig, SamplerConfig, StrategyConfig
    from samplekit.errors import (
        ConfigError,
        DesyncError,
        LabelsError,
        PluginError,
        PluginWarning,
        SampleKitError,
        StaleIteratorError,
        StrategyOutputError,
        UnknownBatcherError,
        UnknownStrategyError,
    )
    from samplekit.feedback import WithIndices
    from samplekit.hookspecs import hookimpl
    from samplekit.loaders import batch_sampler_state
    from samplekit.plugins import (
        available_batchers,
        available_strategies,
        batcher_info,
        get_batcher,
        get_plugin_manager,
        get_strategy,
        strategy_info,
    )
    from samplekit.sampler import EpochBatchSampler
    from samplekit.strategy import (
        EpochContext,
        FeedbackStrategy,
        FeedbackView,
        Options,
        RandomAccessStrategy,
        Strategy,
    )

__all__ = [
    "Batcher",
    "BatcherConfig",
    "Batches",
    "ConfigError",
    "DesyncError",
    "EpochBatchSampler",
    "EpochContext",
    "FeedbackStrategy",
    "FeedbackView",
    "LabelsError",
    "Options",
    "PluginError",
    "PluginWarning",
    "RandomAccessStrategy",
    "SampleKitError",
    "SamplerConfig",
    "StaleIteratorError",
    "Strategy",
    "StrategyConfig",
    "StrategyOutputError",
    "UnknownBatcherError",
    "UnknownStrategyError",
    "WithIndices",
    "available_batchers",
    "available_strategies",
    "batch_sampler_state",
    "batcher_info",
    "get_batcher",
    "get_plugin_manager",
    "get_strategy",
    "hookimpl",
    "strategy_info",
]

__version__ = "0.1.0"

_ERRORS = "samplekit.errors"
_LAZY = {
    "SamplerConfig": "samplekit.config",
    "BatcherConfig": "samplekit.config",
    "Batcher": "samplekit.batcher",
    "Batches": "samplekit.batcher",
    "FeedbackStrategy": "samplekit.strategy",
    "FeedbackView": "samplekit.strategy",
    "UnknownBatcherError": _ERRORS,
    "WithIndices": "samplekit.feedback",
    "available_batchers": "samplekit.plugins",
    "batcher_info": "samplekit.plugins",
    "batch_sampler_state": "samplekit.loaders",
    "get_batcher": "samplekit.plugins",
    "StrategyConfig": "samplekit.config",
    "ConfigError": _ERRORS,
    "DesyncError": _ERRORS,
    "LabelsError": _ERRORS,
    "PluginError": _ERRORS,
    "PluginWarning": _ERRORS,
    "SampleKitError": _ERRORS,
    "StaleIteratorError": _ERRORS,
    "StrategyOutputError": _ERRORS,
    "UnknownStrategyError": _ERRORS,
    "hookimpl": "samplekit.hookspecs",
    "get_plugin_manager": "samplekit.plugins",
    "available_strategies": "samplekit.plugins",
    "get_strategy": "samplekit.plugins",
    "strategy_info": "samplekit.plugins",
    "EpochBatchSampler": "samplekit.sampler",
    "EpochContext": "samplekit.strategy",
    "Options": "samplekit.strategy",
    "RandomAccessStrategy": "samplekit.strategy",
    "Strategy": "samplekit.strategy",
}

__getattr__, __dir__ = attach(__name__, _LAZY)
