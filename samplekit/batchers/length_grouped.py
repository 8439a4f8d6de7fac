"""``length_grouped``: ``batch_size`` samples of similar length per batch, fresh every epoch.

Examples:
    >>> import torch
    >>> from samplekit.batchers.length_grouped import LengthGrouped
    >>> lengths = torch.tensor([5, 1, 9, 2, 8, 1, 7, 3])
    >>> batcher = LengthGrouped(LengthGrouped.Options(balance=1), lengths=lengths, batch_size=2)
    >>> batches = batcher.batch(torch.arange(8), torch.Generator().manual_seed(0))
    >>> order, offsets = batches.order.tolist(), batches.offsets.tolist()
    >>> sorted(sorted(lengths[order[a:b]].tolist()) for a, b in zip(offsets, offsets[1:]))
    [[1, 1], [2, 3], [5, 7], [8, 9]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch
from pydantic import Field

import samplekit
from samplekit.batcher import Batcher, Batches
from samplekit.batchers.grouping import (
    DEFAULT_WINDOW,
    balanced_order,
    rotate_windows,
    sort_in_windows,
    window_size,
)
from samplekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from samplekit.hookspecs import RegisterBatcher

__all__ = ["LengthGrouped"]

#: Runs of batches of near-equal cost, by default: a multiple of every world size up to 8.
DEFAULT_BALANCE = 8


class LengthGrouped(Batcher):
    """Batches of batch_size samples of similar length, regrouped fresh every epoch.

    The strategy's order is cut into windows of ``window`` samples (a multiple of
    ``batch_size``); each window is sorted by length, longest first, and cut into batches of
    ``batch_size``. Windows are consecutive samples of the epoch's random order, so which
    samples share a batch changes every epoch (an epoch that fits in one window is rotated by
    a random ``r < batch_size`` instead, which moves every batch boundary); a larger
    ``window`` pads less and keeps less of the order (Hugging Face's ``LengthGroupedSampler``
    sorts 50 batches at a time). The batches are then put in a random order where batches of
    similar length form runs of ``balance`` consecutive batches, so the ranks of one step get
    similar lengths (see `samplekit.batchers.grouping`).

    Only the last window can end in a short batch, so an epoch has as many batches as with
    the ``fixed`` batcher; that short batch comes last in the epoch, and ``drop_last`` drops
    it.
    """

    name = "length_grouped"
    needs_lengths: ClassVar[bool] = True
    needs_batch_size: ClassVar[bool] = True

    class Options(samplekit.Options):
        """Options of ``length_grouped``."""

        window: int = Field(
            DEFAULT_WINDOW,
            ge=1,
            le=2**40,
            description="Samples sorted by length together (rounded down to a multiple of "
            "batch_size, at least one batch): larger pads less, smaller keeps more of the "
            "random order.",
        )
        balance: int = Field(
            DEFAULT_BALANCE,
            ge=1,
            le=2**31 - 1,
            description="Batches of similar length come in runs of this many, so ranks of one "
            "step are balanced when it is a multiple of the world size; 1 shuffles batches "
            "freely.",
        )

    @property
    def size(self) -> int:
        """The batch size."""
        assert self.batch_size is not None
        return self.batch_size

    def count(self, n: int) -> int:
        """As ``fixed``: ``ceil(n / batch_size)``, or ``floor`` with ``drop_last``."""
        return n // self.size if self.drop_last else -(-n // self.size)

    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        """Sort windows by length, cut them into batches, and order the batches in runs."""
        assert self.lengths is not None
        size = self.size
        n = order.numel()
        count = self.count(n)
        offsets = torch.arange(count + 1, dtype=torch.int64) * size
        if count == 0:
            return Batches(order[:0], offsets)
        window = window_size(self.options.window, size)
        grouped, keys = sort_in_windows(order, self.lengths, window)
        if n <= window:
            # One window: a full sort, the same batches every epoch but for ties. Rotating it by
            # a random r < batch_size moves every batch boundary; the r longest samples then
            # share the last batch with the shortest ones (that one batch pads more). With
            # several windows, which samples share a window changes every epoch instead.
            shift = torch.randint(0, size, (1,), generator=generator)
            grouped, keys = rotate_windows((grouped, keys), window, shift)
        whole = n // size  # batches of exactly batch_size; a short one, if any, goes last
        longest = keys[: whole * size].view(-1, size).amax(dim=1).to(torch.float64)
        rows = balanced_order(longest, self.options.balance, generator)
        body = grouped[: whole * size].view(-1, size)[rows].view(-1)
        end = int(offsets[-1]) if self.drop_last else n
        offsets[-1] = end
        return Batches(torch.cat([body, grouped[whole * size : end]]), offsets)


@hookimpl
def samplekit_register_batchers(register: RegisterBatcher) -> None:
    """Register ``length_grouped``."""
    register(LengthGrouped)
