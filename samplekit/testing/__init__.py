"""Property-testing kit for plugin authors: `check_strategy`, `check_batcher`, input strategies.

`check_strategy` drives a feedback strategy with scores drawn from `feedback_models`.

Needs hypothesis (``pip install "samplekit[testing]"``). The kit's names load on first use, so
``import samplekit`` and pytest's loading of `samplekit.testing.pytest_plugin` never import
hypothesis; using a name without hypothesis installed raises an ``ImportError`` saying what to
install. See ``docs/testing.md``.

Examples:
    >>> from samplekit.testing import check_strategy, labels
    >>> check_strategy("stratified", labels=labels(max_size=40), max_examples=3)
    >>> from samplekit.testing import check_batcher
    >>> check_batcher("length_grouped", max_examples=3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samplekit._lazy import attach

if TYPE_CHECKING:
    from samplekit.testing.batchers import DEFAULT_STRATEGIES, BatcherContractError, check_batcher
    from samplekit.testing.check import VARIES_MIN_DISTINCT, StrategyContractError, check_strategy
    from samplekit.testing.strategies import (
        DEFAULT_DTYPES,
        SCORE_DISTRIBUTIONS,
        FeedbackModel,
        LabelArray,
        SamplerInputs,
        batch_sizes,
        epochs,
        feedback_models,
        labels,
        lengths,
        sampler_inputs,
        seeds,
    )

__all__ = [
    "DEFAULT_DTYPES",
    "DEFAULT_STRATEGIES",
    "MISSING_HYPOTHESIS",
    "SCORE_DISTRIBUTIONS",
    "VARIES_MIN_DISTINCT",
    "BatcherContractError",
    "FeedbackModel",
    "LabelArray",
    "SamplerInputs",
    "StrategyContractError",
    "batch_sizes",
    "check_batcher",
    "check_strategy",
    "epochs",
    "feedback_models",
    "labels",
    "lengths",
    "sampler_inputs",
    "seeds",
]

MISSING_HYPOTHESIS = (
    "samplekit.testing needs hypothesis, which is not installed; "
    'run: pip install "samplekit[testing]"'
)
"""The message of the ``ImportError`` raised when the kit is used without hypothesis."""

_CHECK = "samplekit.testing.check"
_BATCHERS = "samplekit.testing.batchers"
_STRATEGIES = "samplekit.testing.strategies"
_LAZY = {
    "VARIES_MIN_DISTINCT": _CHECK,
    "StrategyContractError": _CHECK,
    "check_strategy": _CHECK,
    "BatcherContractError": _BATCHERS,
    "DEFAULT_STRATEGIES": _BATCHERS,
    "check_batcher": _BATCHERS,
    "DEFAULT_DTYPES": _STRATEGIES,
    "SCORE_DISTRIBUTIONS": _STRATEGIES,
    "FeedbackModel": _STRATEGIES,
    "LabelArray": _STRATEGIES,
    "SamplerInputs": _STRATEGIES,
    "batch_sizes": _STRATEGIES,
    "epochs": _STRATEGIES,
    "feedback_models": _STRATEGIES,
    "labels": _STRATEGIES,
    "lengths": _STRATEGIES,
    "sampler_inputs": _STRATEGIES,
    "seeds": _STRATEGIES,
}

__getattr__, __dir__ = attach(__name__, _LAZY)
