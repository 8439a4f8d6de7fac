"""``stratified``: every sample once per epoch, each full batch holding classes in proportion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

import samplekit
from samplekit.hookspecs import Register, hookimpl
from samplekit.rng import index_dtype

if TYPE_CHECKING:
    from samplekit.strategy import EpochContext

__all__ = ["Stratified"]


class Stratified(samplekit.Strategy):
    """Every sample once per epoch; every full batch holds each class in proportion to its share.

    For ``N`` samples of which ``n_c`` have class ``c``, every full batch holds
    ``floor(batch_size * n_c / N)`` or that plus one samples of class ``c``, so its count is
    within 1 of ``batch_size * n_c / N`` in *every* batch, not only on average. The last,
    smaller batch (if any) holds what is left. Which samples go to which batch, the order of the
    batches and the order inside each batch are drawn afresh every epoch.

    The epoch is built in O(N log batch_size) time: each batch gets the rounded-down share of
    every class, and the ``batch_size - sum(floors)`` remaining slots of each batch are dealt
    round-robin to the classes, at most one extra per class and batch.

    Example:
        >>> from samplekit import EpochBatchSampler
        >>> labels = [0] * 60 + [1] * 30 + [2] * 10
        >>> sampler = EpochBatchSampler(labels, "stratified", batch_size=10)
        >>> [sorted(labels[i] for i in batch).count(2) for batch in sampler]
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    """

    name = "stratified"

    class Options(samplekit.Options):
        """``stratified`` takes no options: class shares come from the labels."""

    def epoch_length(self, epoch: int) -> int:
        """Every sample, once."""
        return int(self.labels.numel())

    def batch_counts(self, batch_size: int, gen: torch.Generator | None = None) -> torch.Tensor:
        """Per-batch class counts: row ``b`` holds batch ``b``'s count of each class.

        Rows are the full batches, then one row for the last, smaller batch (zeros if none).

        Args:
            batch_size: the batch size.
            gen: if given, the order in which classes take the spare slots is drawn from it.
        """
        counts = self.class_index.counts
        total = int(self.labels.numel())
        full = total // batch_size
        scaled = counts * batch_size
        floor, rest = scaled // total, scaled % total
        spare = batch_size - int(floor.sum())  # spare slots per full batch
        # Each class takes ceil(full * rest / total) extras, one per batch at most ...
        extras = (full * rest + total - 1) // total
        surplus = int(extras.sum()) - full * spare
        if surplus > 0:  # ... less one for the classes rounded up the most
            frac = (full * rest) % total  # x = full*rest/total was rounded up by 1 - frac/total
            order = torch.argsort(frac + (frac == 0) * total, stable=True)
            extras[order[:surplus]] -= 1
        classes = torch.arange(counts.numel())
        if gen is not None:
            classes = classes[torch.randperm(counts.numel(), generator=gen)]
        owner = torch.repeat_interleave(classes, extras[classes])
        batch = torch.arange(owner.numel()) % max(full, 1)
        table = floor.repeat(full, 1).flatten()
        table += torch.bincount(batch * counts.numel() + owner, minlength=table.numel())
        table = table.view(full, counts.numel())
        last = counts - table.sum(0)
        return torch.cat((table, last.unsqueeze(0)))

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Deal every class's shuffled samples into batches by :meth:`batch_counts`."""
        gen, size = ctx.generator, ctx.batch_size
        table = self.batch_counts(size, gen)
        pool = torch.cat(
            [part[torch.randperm(part.numel(), generator=gen)] for part in self.class_index.split()]
        )
        blocks = table.flatten()
        # Block (b, c) reads class c's samples from where batch b-1 stopped reading them.
        read_from = self.class_index.offsets[:-1] + torch.cumsum(table, 0) - table
        write_to = torch.cumsum(blocks, 0) - blocks
        shift = torch.repeat_interleave(read_from.flatten() - write_to, blocks)
        dtype = index_dtype(pool.numel())
        order = pool[shift + torch.arange(pool.numel())]
        full = (table.shape[0] - 1) * size
        batches = order[:full].view(-1, size)
        batches = batches[torch.randperm(batches.shape[0], generator=gen)]
        within = torch.argsort(torch.rand(batches.shape, generator=gen), dim=1)
        tail = order[full:]
        tail = tail[torch.randperm(tail.numel(), generator=gen)]
        return torch.cat((torch.gather(batches, 1, within.to(torch.int64)).flatten(), tail)).to(
            dtype
        )


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``stratified``."""
    register(Stratified)
