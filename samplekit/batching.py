"""Batching: cutting an epoch's order into batches.

A batcher knows how many batches an epoch of ``n`` indices makes and where each one starts and
stops in the order; `cut` turns chosen batches of an order into the lists of indices a
``DataLoader`` receives. `FixedSize` (every batch ``batch_size`` long, the last one shorter or
dropped) is the sampler's batcher.

Examples:
    >>> import torch
    >>> from samplekit.batching import FixedSize, cut
    >>> batcher = FixedSize(batch_size=4, drop_last=False)
    >>> batcher.count(10), batcher.bounds(2, 10)
    (3, (8, 10))
    >>> list(cut(batcher, torch.arange(10), range(3)))
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    >>> list(cut(FixedSize(batch_size=4, drop_last=True), torch.arange(10), [1, 0]))
    [[4, 5, 6, 7], [0, 1, 2, 3]]
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import torch

__all__ = ["FixedSize", "cut"]

# Batches are turned into Python lists this many indices at a time: the first batch does not wait
# for the whole epoch's conversion, and the conversion stays vectorised.
_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class FixedSize:
    """Batches of ``batch_size`` indices; the last one is shorter, or dropped with ``drop_last``.

    Attributes:
        batch_size: indices per batch, at least 1.
        drop_last: drop the last batch when it is shorter than ``batch_size``.
    """

    batch_size: int
    drop_last: bool = False

    def count(self, n: int) -> int:
        """How many batches an epoch of ``n`` indices is cut into."""
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def bounds(self, batch: int, n: int) -> tuple[int, int]:
        """Where batch ``batch`` starts and stops in an order of ``n`` indices."""
        start = batch * self.batch_size
        return start, min(start + self.batch_size, n)

    def offsets(self, n: int) -> list[int]:
        """Every batch's start, then the end of the last one (``count(n) + 1`` numbers)."""
        count = self.count(n)
        starts = [batch * self.batch_size for batch in range(count)]
        return [*starts, self.bounds(count - 1, n)[1] if count else 0]

    def chunk(self) -> int:
        """How many consecutive batches `cut` converts to lists at once."""
        return max(1, _CHUNK // self.batch_size)


def cut(batcher: FixedSize, order: torch.Tensor, ids: Sequence[int]) -> Iterator[list[int]]:
    """The batches ``ids`` of ``order``, each as a list of ints, in the order of ``ids``.

    Consecutive batches are converted with one ``tolist`` per chunk; others one at a time.
    """
    n = order.numel()
    per_chunk = batcher.chunk()
    for offset in range(0, len(ids), per_chunk):
        chosen = ids[offset : offset + per_chunk]
        if isinstance(chosen, range) and chosen.step == 1 and len(chosen):  # one slice, no gather
            first = batcher.bounds(chosen.start, n)[0]
            flat: list[int] = order[first : batcher.bounds(chosen.stop - 1, n)[1]].tolist()
            for batch in chosen:
                start, stop = batcher.bounds(batch, n)
                yield flat[start - first : stop - first]
        else:
            for batch in chosen:
                start, stop = batcher.bounds(batch, n)
                yield order[start:stop].tolist()
