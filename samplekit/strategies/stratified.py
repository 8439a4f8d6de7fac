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

    The epoch is built in O(N + classes) time and memory, with no sort: each full batch gets the
    rounded-down share of every class, the ``batch_size - sum(floors)`` spare slots of each batch
    are dealt round-robin to the classes (at most one extra per class and batch; classes and
    batches in random order), each class's samples are shuffled and poured into its slots, and
    the slots inside each batch are laid out at random.

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

    def shares(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each class's place in a full batch: its rounded-down share and its spare slots.

        Args:
            batch_size: the batch size.

        Returns:
            ``(floor, extras)``, both aligned with ``class_index.classes``: every full batch holds
            ``floor[c]`` samples of class ``c``, and ``extras[c]`` of the full batches (at most
            one per batch) hold one more. The extras fill exactly the ``batch_size -
            floor.sum()`` spare slots of every full batch; what is left goes to the last, smaller
            batch. O(classes) time and memory.
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
        return floor, extras

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Lay out the pool position of every slot batch by batch, then read the shuffled pool.

        The pool holds each class's samples, shuffled, class after class. Slots take pool
        positions class by class in a fixed pattern (copy ``k`` of class ``c``'s share in full
        batch ``b`` takes its class's position ``b * floor[c] + k``, then come the extras, then
        the last batch), so the pool's shuffle decides which samples share a batch. O(N + C)
        time and memory: no batches x classes table and no sort.
        """
        gen, size = ctx.generator, ctx.batch_size
        index = self.class_index
        n, dtype = int(self.labels.numel()), index.grouped.dtype
        counts, starts = index.counts, index.offsets[:-1]
        floor, extras = self.shares(size)
        full = n // size
        base = int(floor.sum())  # slots per full batch taken by the rounded-down shares
        # Each class's samples, shuffled: class c owns pool[starts[c] : starts[c] + counts[c]].
        pool = torch.empty(n, dtype=dtype)
        for start, stop, part in zip(
            index.offsets[:-1].tolist(), index.offsets[1:].tolist(), index.split(), strict=True
        ):
            shuffle = torch.randperm(stop - start, generator=gen, dtype=dtype)
            torch.index_select(part, 0, shuffle, out=pool[start:stop])
        slots = torch.empty(n, dtype=dtype)  # the pool position of every slot, in batch order
        if full:
            rows = slots[: full * size].view(full, size)
            if base < size:
                # Extras are dealt round-robin over the batches (in random order) to the classes
                # (in random order): a class's run of at most `full` extras hits each batch
                # once. Column base + j of batch batches[r] takes extra number j * full + r; a
                # class's extras take the pool positions after its shares in full batches.
                classes = torch.randperm(len(index), generator=gen)
                batches = torch.randperm(full, generator=gen)
                first = starts[classes] + full * floor[classes]
                extra = _ranges(first, extras[classes], dtype)
                rows[batches, base:] = extra.view(size - base, full).t()
                del extra
            # The rounded-down shares: copy k of class c in batch b is pool position
            # starts[c] + b * floor[c] + k; filled and shuffled a block of rows at a time.
            share_class = torch.repeat_interleave(floor)
            copy = torch.arange(base) - (torch.cumsum(floor, 0) - floor)[share_class]
            share_start = (starts[share_class] + copy).to(dtype)
            share_step = floor[share_class].to(dtype)
            per_step = max(1, _SLOTS_PER_STEP // size)
            for first_row in range(0, full, per_step):
                block = rows[first_row : first_row + per_step]
                batch = torch.arange(first_row, first_row + block.shape[0], dtype=dtype)
                torch.add(share_start, batch.unsqueeze(1) * share_step, out=block[:, :base])
                _shuffle_rows(block, gen)
        if full * size < n:  # the last, smaller batch: what each class has left, shuffled
            tail = _ranges(starts + full * floor + extras, counts - full * floor - extras, dtype)
            slots[full * size :] = tail[torch.randperm(tail.numel(), generator=gen)]
        for first_slot in range(0, n, _SLOTS_PER_STEP):  # read the pool in place, in steps
            part = slots[first_slot : first_slot + _SLOTS_PER_STEP]
            part.copy_(torch.index_select(pool, 0, part))
        return slots


# Slots handled per step (bounds the temporary copies).
_SLOTS_PER_STEP = 1 << 18
# Distinct random layouts shared by the rows shuffled in one step.
_LAYOUTS = 64


def _ranges(firsts: torch.Tensor, lengths: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``cat([arange(f, f + n) for f, n in zip(firsts, lengths)])`` in O(sum(lengths) + len)."""
    out = torch.arange(int(lengths.sum()), dtype=dtype)
    before = torch.cumsum(lengths, 0) - lengths
    out += torch.repeat_interleave((firsts - before).to(dtype), lengths)
    return out


def _shuffle_rows(rows: torch.Tensor, gen: torch.Generator) -> None:
    """Shuffle each row of ``rows`` in place, in bounded steps.

    Each row gets a uniformly random layout, picked from a small set drawn per step; rows that
    pick the same layout are permuted alike. Cheap (no per-element sort), and enough here: a
    layout only decides where each class sits in a batch, as which of its samples fill those
    places was shuffled separately.
    """
    width = rows.shape[1]
    per_step = max(1, _SLOTS_PER_STEP // width)
    for start in range(0, rows.shape[0], per_step):
        block = rows[start : start + per_step]
        layouts = torch.argsort(torch.rand(_LAYOUTS, width, generator=gen), dim=1)
        pick = torch.randint(_LAYOUTS, (block.shape[0],), generator=gen)
        block.copy_(torch.gather(block, 1, torch.index_select(layouts, 0, pick)))


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``stratified``."""
    register(Stratified)
