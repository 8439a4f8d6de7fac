"""Sharding: which of an epoch's global batches each rank yields.

Every rank computes the same global epoch and takes every ``world_size``-th whole batch,
starting at its rank, so a batch keeps the strategy's composition on every rank. All ranks
yield the same number of batches:

- ``drop_last=False``: the batch count is rounded up to a multiple of ``world_size`` by repeating
  batches from the start of the epoch (as ``DistributedSampler`` repeats samples);
- ``drop_last=True``: the smaller last batch and then the batches beyond the last multiple of
  ``world_size`` are dropped.

Both functions are pure: they depend on the numbers they are given and nothing else.

Examples:
    >>> from samplekit.sharding import rank_batch_ids
    >>> rank_batch_ids(5, rank=0, world_size=2, drop_last=False)   # batch 0 repeats as padding
    [0, 2, 4]
    >>> rank_batch_ids(5, rank=1, world_size=2, drop_last=False)
    [1, 3, 0]
    >>> rank_batch_ids(5, rank=1, world_size=2, drop_last=True)
    [1, 3]
    >>> rank_batch_ids(5, rank=0, world_size=1, drop_last=False)   # one rank: a range
    range(0, 5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["rank_batch_count", "rank_batch_ids"]


def rank_batch_count(global_batches: int, world_size: int, *, drop_last: bool) -> int:
    """How many batches each rank yields when the epoch has ``global_batches`` batches."""
    if drop_last:
        return global_batches // world_size
    return -(-global_batches // world_size)


def rank_batch_ids(
    global_batches: int, *, rank: int, world_size: int, drop_last: bool
) -> Sequence[int]:
    """The global batch numbers rank ``rank`` yields, in order (padding wraps to the start).

    A single rank gets a ``range`` (the batcher turns consecutive batches into one slice).
    """
    if world_size == 1:
        return range(global_batches)
    count = rank_batch_count(global_batches, world_size, drop_last=drop_last)
    return [(rank + step * world_size) % global_batches for step in range(count)]
