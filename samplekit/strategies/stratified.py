"""``stratified``: every sample once per epoch, each full batch holding classes in proportion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

import samplekit
from samplekit.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["Stratified"]


class Stratified(samplekit.Strategy):
    """Every sample once per epoch; every full batch holds each class in proportion to its share.

    For ``N`` samples of which ``n_c`` have class ``c``, every full batch holds
    ``floor(batch_size * n_c / N)`` or that plus one samples of class ``c``, so its count is
    within 1 of ``batch_size * n_c / N`` in *every* batch, not only on average. The last,
    smaller batch (if any) holds what is left. Which samples go to which batch, the order of the
    batches and the order inside each batch are drawn afresh every epoch.

    The epoch is built in O(N) memory and, for up to 32 classes, O(N x classes) time (above
    that, one stable sort of the slots): each batch gets the rounded-down share of every class,
    the ``batch_size - sum(floors)`` spare slots of each batch are dealt round-robin to the
    classes (at most one extra per class and batch, batches in random order), the class slots
    inside each batch are laid out at random, and each class's shuffled samples fill its slots.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> labels = [0] * 60 + [1] * 30 + [2] * 10
        >>> sampler = EpochBatchSampler(labels, "stratified", batch_size=10)
        >>> [sorted(labels[i] for i in batch).count(2) for batch in sampler]
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    """

    name = "stratified"

    class Options(samplekit.Options):
        """``stratified`` takes no options: class shares come from the labels."""

    @classmethod
    def example_labels(cls, options: Stratified.Options) -> SearchStrategy[LabelArray]:
        """Labels `samplekit.testing.check_strategy` draws: any, as every label array is served."""
        from samplekit.testing import labels

        return labels()

    def __init__(self, labels: torch.Tensor, options: Stratified.Options) -> None:
        super().__init__(labels, options)
        _ = self.class_index.grouped  # built now: construction, not the first epoch, pays

    def epoch_length(self, epoch: int) -> int:
        """Every sample, once."""
        return int(self.labels.numel())

    def batch_counts(self, batch_size: int, gen: torch.Generator | None = None) -> torch.Tensor:
        """Per-batch class counts: row ``b`` holds batch ``b``'s count of each class.

        Rows are the full batches, then one row for the last, smaller batch (zeros if none).

        Args:
            batch_size: the batch size.
            gen: if given, which batches receive which spare slots is drawn from it (so the batch
                order is random); otherwise it is a fixed round-robin.
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
        batches = torch.arange(max(full, 1))
        if gen is not None:
            classes = classes[torch.randperm(counts.numel(), generator=gen)]
            batches = torch.randperm(max(full, 1), generator=gen)
        # Extras are dealt round-robin: a class's run of at most `full` extras hits each batch once.
        owner = torch.repeat_interleave(classes, extras[classes])
        batch = batches[torch.arange(owner.numel()) % max(full, 1)]
        table = floor.repeat(full, 1).flatten()
        table += torch.bincount(batch * counts.numel() + owner, minlength=table.numel())
        table = table.view(full, counts.numel())
        last = counts - table.sum(0)
        return torch.cat((table, last.unsqueeze(0)))

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Lay out each batch's class slots by `batch_counts`, then fill them per class."""
        gen, size = ctx.generator, ctx.batch_size
        index = self.class_index
        n, n_classes = int(self.labels.numel()), len(index)
        table = self.batch_counts(size, gen)
        small = _smallest_int(n_classes)
        # The class of every slot, batch after batch, grouped by class inside a batch ...
        slot_class = torch.repeat_interleave(
            torch.arange(n_classes, dtype=small).repeat(table.shape[0]), table.flatten()
        )
        # ... then mixed inside each full batch (a random layout per batch, drawn from a few
        # shared permutations) and in the last batch.
        full = (table.shape[0] - 1) * size
        if full:
            _shuffle_rows(slot_class[:full].view(-1, size), gen)
        if full < n:
            tail = slot_class[full:]
            tail.copy_(tail[torch.randperm(n - full, generator=gen)])
        # Pour each class's samples, shuffled, into its slots in order.
        dtype = index.grouped.dtype
        out = torch.empty(n, dtype=dtype)
        if n_classes <= _MASKED_CLASSES:
            for c, part in enumerate(index.split()):
                shuffled = part[torch.randperm(part.numel(), generator=gen, dtype=dtype)]
                out.masked_scatter_(slot_class == c, shuffled)
        else:
            pool = torch.cat(
                [
                    part[torch.randperm(part.numel(), generator=gen, dtype=dtype)]
                    for part in index.split()
                ]
            )
            out[torch.argsort(slot_class, stable=True)] = pool
        return out


# Above this many classes, slots are grouped by class with one stable sort, not a mask per class.
_MASKED_CLASSES = 32
# Rows shuffled per step and distinct random layouts shared by the rows of one step.
_ROWS_PER_STEP = 1 << 12
_LAYOUTS = 64


def _smallest_int(n_classes: int) -> torch.dtype:
    for dtype in (torch.int8, torch.int16, torch.int32):
        if n_classes <= torch.iinfo(dtype).max:
            return dtype
    return torch.int64  # pragma: no cover - more than 2**31 classes


def _shuffle_rows(rows: torch.Tensor, gen: torch.Generator) -> None:
    """Shuffle each row of ``rows`` in place, in bounded steps.

    Each row gets a uniformly random layout, picked from a small set drawn per step; rows that
    pick the same layout are permuted alike. Cheap (no per-element sort), and enough here: the
    rows hold class labels whose members are shuffled separately.
    """
    width = rows.shape[1]
    for start in range(0, rows.shape[0], _ROWS_PER_STEP):
        block = rows[start : start + _ROWS_PER_STEP]
        layouts = torch.argsort(torch.rand(_LAYOUTS, width, generator=gen), dim=1)
        pick = torch.randint(_LAYOUTS, (block.shape[0],), generator=gen)
        block.copy_(torch.gather(block, 1, layouts[pick]))


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``stratified``."""
    register(Stratified)
