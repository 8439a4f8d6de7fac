"""Selection: a strategy's epoch, checked once against the strategy contract.

`select` is the one place an epoch's order is computed and checked; the sampler, its prefetch
thread and the property-testing kit all call it, so a contract violation reads the same
wherever it is found.

Examples:
    >>> import torch
    >>> from samplekit import EpochBatchSampler
    >>> from samplekit.selection import select
    >>> sampler = EpochBatchSampler([0, 1] * 5, "stratified", batch_size=2)
    >>> order = select(sampler.strategy, sampler.epoch_context(0), num_samples=10)
    >>> sorted(order.tolist())
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from samplekit.errors import StrategyOutputError
from samplekit.inputs import as_int, quote
from samplekit.strategy import FeedbackStrategy

if TYPE_CHECKING:
    from samplekit.strategy import EpochContext, FeedbackView, Strategy

__all__ = ["INDEX_DTYPES", "check_indices", "epoch_length", "select", "select_at"]

# The dtypes a strategy may return indices in; every torch operation the sampler needs works on
# them (torch's uint16/32/64 lack min/max and tolist on several builds).
INDEX_DTYPES = frozenset({torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8})

# An epoch's indices live in one tensor: more than this many cannot be allocated anywhere.
_MAX_LENGTH = 2**62


_TENSOR = "sample returns a 1-D integer tensor"  # the rules, named as the kit reports them
_LENGTH = "epoch_length"
_RANGE = "index range"


def _broke(strategy: Strategy, epoch: int, problem: str, rule: str) -> StrategyOutputError:
    msg = f"strategy {strategy.name!r} broke its contract in epoch {epoch}: {problem}"
    return StrategyOutputError(msg, rule)


def epoch_length(strategy: Strategy, epoch: int, feedback: FeedbackView | None = None) -> int:
    """``strategy.epoch_length(epoch)``, checked to be an integer in ``[0, 2**62]``.

    A feedback strategy is asked ``epoch_length(epoch, feedback)``.

    Raises:
        StrategyOutputError: for a negative number, a float, a bool, a string or anything else
            that is not an integer count of indices.
    """
    if isinstance(strategy, FeedbackStrategy):
        length = strategy.epoch_length(epoch, feedback)
    else:
        length = strategy.epoch_length(epoch)
    value = as_int(length)
    if value is None or not 0 <= value <= _MAX_LENGTH:
        problem = (
            f"epoch_length({epoch}) returned {quote(length)} ({type(length).__name__}); it must "
            f"return the number of indices sample() returns, an int from 0 to 2**62"
        )
        raise _broke(strategy, epoch, problem, _LENGTH)
    return value


def check_indices(
    indices: object,
    *,
    strategy: Strategy,
    epoch: int,
    expected: int,
    num_samples: int,
    method: str = "sample",
) -> torch.Tensor:
    """Return ``indices`` if they are ``expected`` integer indices in ``[0, num_samples)``.

    ``method`` names the strategy method that returned them in the message (``sample_at``
    is asked for as many indices as positions).

    Raises:
        StrategyOutputError: naming the strategy, the epoch and what is wrong (type, layout,
            device, shape, dtype, count or range).
    """
    problem, rule = None, _TENSOR
    said = "epoch_length() said" if method == "sample" else "it was given positions:"
    if not isinstance(indices, torch.Tensor):
        problem = f"returned {type(indices).__name__}, not a torch.Tensor"
    elif indices.layout != torch.strided or indices.is_quantized or indices.is_nested:
        problem = f"returned a tensor with layout {indices.layout}, not a dense (strided) tensor"
    elif indices.is_meta:
        problem = "returned a tensor on the meta device, which holds no values"
    elif indices.ndim != 1:
        problem = f"returned a tensor of shape {tuple(indices.shape)}, not 1-D"
    elif indices.dtype not in INDEX_DTYPES:
        problem = (
            f"returned dtype {indices.dtype}; return indices as torch.int64 (or int32, int16, "
            f"int8, uint8)"
        )
    elif indices.numel() != expected:
        problem = f"returned {indices.numel()} indices but {said} {expected}"
        rule = _LENGTH
    elif indices.numel():
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= num_samples:
            problem = f"returned indices from {low} to {high}, outside [0, {num_samples})"
            rule = _RANGE
    if problem is not None or not isinstance(indices, torch.Tensor):
        problem = problem or "returned no tensor"
        shown = problem if method == "sample" else f"{method} {problem}"
        raise _broke(strategy, epoch, shown, rule)
    return indices


def select(strategy: Strategy, ctx: EpochContext, *, num_samples: int) -> torch.Tensor:
    """The indices of epoch ``ctx.epoch`` in order: ``strategy.sample(ctx)``, checked.

    Args:
        strategy: the strategy instance.
        ctx: the epoch's context (its generator is consumed).
        num_samples: how many labels the strategy was built on (indices must be below it).

    Raises:
        StrategyOutputError: if ``epoch_length`` or ``sample`` break the contract.
    """
    expected = epoch_length(strategy, ctx.epoch, ctx.feedback)
    return check_indices(
        strategy.sample(ctx),
        strategy=strategy,
        epoch=ctx.epoch,
        expected=expected,
        num_samples=num_samples,
    )


def select_at(
    strategy: Strategy, ctx: EpochContext, positions: torch.Tensor, *, num_samples: int
) -> torch.Tensor:
    """The indices at ``positions`` of epoch ``ctx.epoch``: ``strategy.sample_at``, checked.

    Raises:
        StrategyOutputError: if ``sample_at`` returns anything but one index in
            ``[0, num_samples)`` per position.
    """
    return check_indices(
        strategy.sample_at(ctx, positions),
        strategy=strategy,
        epoch=ctx.epoch,
        expected=positions.numel(),
        num_samples=num_samples,
        method="sample_at",
    )
