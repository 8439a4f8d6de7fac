"""samplekit: per-epoch sample selection for PyTorch by named, validated, pluggable strategies.

Example:
    >>> from samplekit import EpochBatchSampler
    >>> sampler = EpochBatchSampler([0] * 80 + [1] * 20, "negative_subsampling",
    ...                             batch_size=10, seed=0, neg_ratio=0.25)
    >>> len(sampler)
    4
"""

from samplekit.config import SamplerConfig, StrategyConfig
from samplekit.errors import (
    ConfigError,
    DesyncError,
    LabelsError,
    PluginError,
    PluginWarning,
    SampleKitError,
    StrategyOutputError,
    UnknownStrategyError,
)
from samplekit.hookspecs import hookimpl
from samplekit.plugins import get_plugin_manager
from samplekit.registry import available_strategies, get_strategy, strategy_info
from samplekit.sampler import EpochBatchSampler
from samplekit.strategy import EpochContext, Options, Strategy

__all__ = [
    "ConfigError",
    "DesyncError",
    "EpochBatchSampler",
    "EpochContext",
    "LabelsError",
    "Options",
    "PluginError",
    "PluginWarning",
    "SampleKitError",
    "SamplerConfig",
    "Strategy",
    "StrategyConfig",
    "StrategyOutputError",
    "UnknownStrategyError",
    "available_strategies",
    "get_plugin_manager",
    "get_strategy",
    "hookimpl",
    "strategy_info",
]

__version__ = "0.1.0"
