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
    >>> list(rank_batch_ids(5, rank=0, world_size=2, drop_last=False))
    [0, 2, 4]
    >>> list(rank_batch_ids(5, rank=1, world_size=2, drop_last=False))  # batch 0 as padding
    [1, 3, 0]
    >>> list(rank_batch_ids(5, rank=1, world_size=2, drop_last=True))
    [1, 3]
    >>> rank_batch_ids(5, rank=0, world_size=1, drop_last=False)   # one rank: a range
    range(0, 5)
    >>> list(rank_batch_ids(5, rank=1, world_size=2, drop_last=False, start=2))  # resumed
    [3, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

__all__ = ["RankBatches", "rank_batch_count", "rank_batch_ids"]


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

    Padding wraps to the start of the epoch. O(1) time and memory: a ``range``, or a
    `RankBatches` (a range and the padding) when the last step wraps.
    """
    if world_size == 1:
        return range(min(start, global_batches), global_batches)
    count = rank_batch_count(global_batches, world_size, drop_last=drop_last, start=start)
    first = start + rank
    inside = min(count, max(0, -(-(global_batches - first) // world_size)))
    steps = range(first, first + inside * world_size, world_size)
    if inside == count:
        return steps
    padding = [(first + step * world_size) % global_batches for step in range(inside, count)]
    return RankBatches(steps, padding)


class RankBatches(Sequence[int]):
    """A rank's batch numbers: a ``range`` of them, then the padding that wraps to the start.

    Examples:
        >>> ids = RankBatches(range(1, 5, 2), [0])
        >>> list(ids), list(ids[1:]), len(ids)
        ([1, 3, 0], [3, 0], 3)
    """

    def __init__(self, steps: range, padding: list[int]) -> None:
        self.steps, self.padding = steps, padding

    def __len__(self) -> int:
        return len(self.steps) + len(self.padding)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        inside = len(self.steps)
        if isinstance(index, slice):
            first, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(first, stop, step)]
            head = self.steps[first : max(first, min(stop, inside))]
            tail = self.padding[max(first - inside, 0) : max(stop - inside, 0)]
            return RankBatches(head, tail) if tail else head
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            msg = "batch index out of range"
            raise IndexError(msg)
        return self.steps[index] if index < inside else self.padding[index - inside]

    def __repr__(self) -> str:
        return f"RankBatches({self.steps!r}, {self.padding!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, compared by value
