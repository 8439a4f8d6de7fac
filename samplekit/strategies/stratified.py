"""``stratified``: every sample once per epoch, each full batch holding classes in proportion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

import samplekit
from samplekit.hookspecs import Register, hookimpl
from samplekit.labels import partition
from samplekit.permutation import Permutation, Permutations, hash32
from samplekit.rng import generator

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["Stratified"]


class Stratified(samplekit.RandomAccessStrategy):
    """Every sample once per epoch; every full batch holds each class in proportion to its share.

    For ``N`` samples of which ``n_c`` have class ``c``, every full batch holds
    ``floor(batch_size * n_c / N)`` or that plus one samples of class ``c``, so its count is
    within 1 of ``batch_size * n_c / N`` in *every* batch, not only on average. The last,
    smaller batch (if any) holds what is left. Which samples go to which batch, the order of the
    batches and the order inside each batch are drawn afresh every epoch.

    Each full batch gets the rounded-down share of every class; the ``batch_size - sum(floors)``
    spare slots of each batch are dealt round-robin to the classes (at most one extra per class
    and batch; classes and batches in random order); each class's samples are shuffled and
    poured into its slots; and the slots inside each batch are laid out at random (one of 64
    layouts per epoch, each from a generator keyed by the epoch and the layout). Every other
    step is a keyed random-access permutation
    (`samplekit.permutation`), so any batch is computed on its own: O(batch + classes) time,
    and no memory beyond the per-class index.

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
        self.class_index.prepare()  # built now: construction, not the first epoch, pays
        self._layouts: tuple[tuple[int, int, int], _Layout] | None = None

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

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        """The samples at ``positions``: each slot's class and place, then its class's shuffle.

        Position ``p`` is slot ``p % batch_size`` of batch ``p // batch_size``. A full batch's
        slot is laid out by the batch's layout; a share slot takes its class's next place in
        that batch (copy ``k`` of class ``c`` in batch ``b`` is place ``b * floor[c] + k``), an
        extra slot takes an extra dealt to the batch, and a slot of the last batch one of the
        places left over; the place is then read through its class's shuffle.
        """
        plan = self._layout(ctx)
        index = self.class_index
        position = positions.to(torch.int64).reshape(-1)
        # numpy divides by a scalar with a multiply; torch's `//` and `%` cost ten times more.
        batch = torch.from_numpy(position.numpy() // plan.size)
        column = position - batch * plan.size
        if not position.numel() or int(batch.max()) < plan.full:
            klass, place = plan.in_full(batch, column)
        else:  # some in the last, smaller batch
            klass, place = torch.empty_like(position), torch.empty_like(position)
            full, last = partition(batch < plan.full)
            klass[full], place[full] = plan.in_full(batch[full], column[full])
            klass[last], place[last] = plan.in_last(column[last])
        return index.members(klass, plan.pools(klass, place))

    def _layout(self, ctx: EpochContext) -> _Layout:
        """The epoch's O(classes) layout, kept for the last (seed, epoch, batch size) asked."""
        key = (ctx.seed, ctx.epoch, ctx.batch_size)
        cached = self._layouts
        if cached is None or cached[0] != key:
            cached = (key, _Layout(self, ctx))
            self._layouts = cached
        return cached[1]


class _Layout:
    """What one epoch of `Stratified` needs besides the positions: O(classes), keyed."""

    def __init__(self, strategy: Stratified, ctx: EpochContext) -> None:
        index = strategy.class_index
        n, size = int(strategy.labels.numel()), ctx.batch_size
        self.size, self.full = size, n // size
        self.key = ctx.key(strategy.name, "layout")
        floor, extras = strategy.shares(size)
        self.floor, self.extras = floor, extras
        self.base = int(floor.sum())
        # The class of each share slot: O(batch_size), needed only when a full batch exists
        # (batch_size may be far beyond the samples).
        shares = floor if self.full else torch.zeros_like(floor)
        self.share_class = torch.repeat_interleave(torch.arange(len(index)), shares)
        self.floor_before = torch.cumsum(floor, 0) - floor
        # Extras are dealt round-robin over the batches (in keyed order) to the classes (in
        # keyed order): extra slot e of the batch at place r takes extra number e * full + r,
        # and the classes' runs of extras follow one another, so a class's run of at most
        # `full` extras reaches each batch once.
        count = len(index)
        self.classes = Permutation(count, ctx.key(strategy.name, "classes"))(torch.arange(count))
        self.extra_ends = torch.cumsum(extras[self.classes], 0)
        self.batches = Permutation(self.full, ctx.key(strategy.name, "batches"))
        self._dealt: dict[int, torch.Tensor] = {}  # blocks of `dealt`, the last two
        # Layout l of a full batch is a permutation of its slots drawn from a generator keyed
        # by (epoch key, l), made when a batch first takes it and kept for small batches.
        self._rows: dict[int, torch.Tensor] = {}
        self._keep = _LAYOUTS * size <= _TABLE
        self._cell_tables: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None
        self._cell_tables = None
        leftover = index.counts - self.full * floor - extras
        self.tail_counts, self.tail_first = leftover, self.full * floor + extras
        self.tail_ends = torch.cumsum(leftover, 0)
        self.tail = Permutation(int(leftover.sum()), ctx.key(strategy.name, "tail"))
        self.pools = Permutations(index.counts, ctx.key(strategy.name, "pools"))

    def in_full(
        self, batch: torch.Tensor, column: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The class and place (in its class's shuffle) of slots of full batches."""
        # Per batch once: its layout and its place in the dealing of extras.
        batches, which = torch.unique_consecutive(batch, return_inverse=True)
        layouts = _layout_of(batches, self.key).index_select(0, which)
        if layouts.numel() >= _LAYOUTS * self.size and self._keep:  # read from the cell tables
            cells = layouts * self.size + column
            table, cell_class, cell_floor, cell_offset = self._cells()
            layout = table.index_select(0, cells)
            klass = cell_class.index_select(0, cells)
            place = batch * cell_floor.index_select(0, cells) + cell_offset.index_select(0, cells)
        else:
            layout = self.layout(layouts, column)
            klass, place = self._share_places(layout)
            place += batch * self.floor.index_select(0, klass)
        extra = torch.from_numpy(np.flatnonzero((layout >= self.base).numpy()))
        if extra.numel():  # the spare slots: extra number e * full + (the batch's place)
            dealt = self.dealt(batches).index_select(0, which.index_select(0, extra))
            number = (layout[extra] - self.base) * self.full + dealt
            run = torch.searchsorted(self.extra_ends, number, right=True)
            owner = self.classes[run]
            klass[extra] = owner
            before = self.extra_ends[run] - self.extras[owner]
            place[extra] = self.full * self.floor[owner] + number - before
        return klass, place

    def dealt(self, batches: torch.Tensor) -> torch.Tensor:
        """Each full batch's place in the dealing of extras (a keyed permutation of them).

        Read from blocks of `_DEALT` consecutive batches, each computed once (and the last two
        kept): a call covers a few hundred batches, and the permutation's fixed cost per call
        is then paid once per block.
        """
        first, last = int(batches.min()) // _DEALT, int(batches.max()) // _DEALT
        if last - first > 1:  # spread out (a rank's batches of a large world): map them alone
            return self.batches(batches)
        blocks = [self._dealt_block(block) for block in range(first, last + 1)]
        table = blocks[0] if len(blocks) == 1 else torch.cat(blocks)
        return table.index_select(0, batches - first * _DEALT)

    def _dealt_block(self, block: int) -> torch.Tensor:
        cached = self._dealt.get(block)
        if cached is None:
            start = block * _DEALT
            cached = self.batches.range(start, min(self.full, start + _DEALT))
            kept = self._dealt  # read once: another thread may replace it meanwhile
            fresh = {block: cached}
            if block - 1 in kept:
                fresh[block - 1] = kept[block - 1]
            self._dealt = fresh  # one assignment: a reader sees the old or the new dict
        return cached

    def in_last(self, column: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The class and place of slots of the last, smaller batch: the places left over."""
        left = self.tail(column)
        klass = torch.searchsorted(self.tail_ends, left, right=True)
        before = self.tail_ends[klass] - self.tail_counts[klass]
        return klass, self.tail_first[klass] + left - before

    def layout(self, layouts: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """Where column ``columns`` of a full batch goes under layout ``layouts``.

        From the rows of the layouts present: for calls too small (or batches too large) for
        `_cells`, which `in_full` reads otherwise.
        """
        if not layouts.numel():
            return torch.empty(0, dtype=torch.int64)
        ids, which = torch.unique(layouts, return_inverse=True)
        rows = torch.stack([self._row(int(layout)) for layout in ids.tolist()])
        return rows[which, columns]

    def _share_places(self, layout: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The class of slots at ``layout``, and their place in its shuffle in batch 0.

        ``layout`` is a share slot's number (or beyond: an extra slot, whose values are then
        replaced); in batch ``b`` the place is ``b * floor[class]`` further.
        """
        share = torch.clamp(layout, max=max(self.base - 1, 0))
        klass = self.share_class.index_select(0, share) if self.base else torch.zeros_like(layout)
        return klass, share - self.floor_before.index_select(0, klass)

    def _cells(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per cell ``layout * size + column`` of a full batch, for every layout, made once.

        The slot it goes to, its class, that class's floor and its place in batch 0.
        """
        cached = self._cell_tables
        if cached is None:
            table = torch.cat([self._row(layout) for layout in range(_LAYOUTS)])
            klass, offset = self._share_places(table)
            cached = (table, klass, self.floor.index_select(0, klass), offset)
            self._cell_tables = cached  # one assignment: the same tables whichever thread
        return cached

    def _row(self, layout: int) -> torch.Tensor:
        row = self._rows.get(layout)
        if row is None:
            row = torch.randperm(self.size, generator=generator(self.key, layout))
            if self._keep:
                self._rows[layout] = row  # the same row whichever thread made it
        return row


def _layout_of(batches: torch.Tensor, key: int) -> torch.Tensor:
    """Which of the `_LAYOUTS` keyed layouts each batch takes (a keyed hash of the batch)."""
    folded = (batches ^ (batches >> 32) ^ (key & 0xFFFFFFFF)) & 0xFFFFFFFF
    return hash32(folded) % _LAYOUTS


# Distinct keyed layouts of a full batch per epoch.
_LAYOUTS = 64
# Batches per block of `_Layout.dealt`.
_DEALT = 4096
# Up to this many cells, an epoch's layouts are computed once into a table.
_TABLE = 1 << 20


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``stratified``."""
    register(Stratified)
