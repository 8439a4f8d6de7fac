"""Sharding: which of an epoch's global batches each rank yields.

Every rank computes the same global epoch and takes every ``world_size``-th whole batch,
starting at its rank, so a batch keeps the strategy's composition on every rank. All ranks
yield the same number of batches:

- ``drop_last=False``: the batch count is rounded up to a multiple of ``world_size`` by repeating
  batches from the start of the epoch (as ``DistributedSampler`` repeats samples);
- ``drop_last=True``: the smaller last batch and then the batches beyond the last multiple of
  ``world_size`` are dropped.

After an elastic resume (a checkpoint of one world size loaded with another, see
`samplekit.cursor`), an epoch's iteration starts at global batch ``start``: rank ``r`` yields
``start + r``, ``start + r + world_size``, ... and the same padding or dropping rule applies to
the rest of the epoch, so every remaining global batch is yielded once and ranks stay equal.

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
    >>> rank_batch_ids(5, rank=1, world_size=2, drop_last=False, start=2)  # resumed at batch 2
    [3, 0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["rank_batch_count", "rank_batch_ids"]


def rank_batch_count(
    global_batches: int, world_size: int, *, drop_last: bool, start: int = 0
) -> int:
    """How many batches each rank yields of an epoch of ``global_batches``, from ``start``."""
    left = max(0, global_batches - start)
    if drop_last:
        return left // world_size
    return -(-left // world_size)


def rank_batch_ids(
    global_batches: int, *, rank: int, world_size: int, drop_last: bool, start: int = 0
) -> Sequence[int]:
    """The global batch numbers rank ``rank`` yields from ``start``, in order.

    Padding wraps to the start of the epoch. A single rank gets a ``range`` (consecutive
    batches are converted to lists in chunks).
    """
    if world_size == 1:
        return range(min(start, global_batches), global_batches)
    count = rank_batch_count(global_batches, world_size, drop_last=drop_last, start=start)
    return [(start + rank + step * world_size) % global_batches for step in range(count)]
