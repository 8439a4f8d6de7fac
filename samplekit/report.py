"""Per-epoch class composition of a sampler's batches, for ``samplekit demo`` and ``preview``.

Examples:
    >>> from samplekit import EpochBatchSampler
    >>> from samplekit.report import composition
    >>> sampler = EpochBatchSampler([0] * 8 + [1] * 2, "stratified", batch_size=5)
    >>> rows = composition(sampler, epochs=1)
    >>> rows[0].class_counts, rows[0].batch_min, rows[0].batch_max
    ({0: 8, 1: 2}, {0: 4, 1: 1}, {0: 4, 1: 1})
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING

import torch

from samplekit.labels import class_counts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from samplekit.sampler import EpochBatchSampler

__all__ = [
    "EpochComposition",
    "batch_class_counts",
    "composition",
    "epoch_tallies",
    "format_composition",
    "format_label_counts",
    "leaves_samples_out",
]


@dataclasses.dataclass(frozen=True)
class EpochComposition:
    """What one epoch held, per class (keys are label values).

    Attributes:
        epoch: the epoch.
        batches: how many batches it yielded.
        class_counts: samples of each class in the epoch (repeats counted).
        batch_min: the fewest samples of each class in any full batch.
        batch_max: the most samples of each class in any full batch.
        seen_share: share of each class's samples seen at least once up to this epoch.
    """

    epoch: int
    batches: int
    class_counts: dict[int, int]
    batch_min: dict[int, int]
    batch_max: dict[int, int]
    seen_share: dict[int, float]


def batch_class_counts(sampler: EpochBatchSampler, epoch: int) -> tuple[list[int], torch.Tensor]:
    """The samples of each class in each batch of epoch ``epoch`` (``sampler.epoch`` unchanged).

    Returns:
        The class values present in the labels, ascending, and a ``[batches, classes]`` int64
        tensor: row ``b`` counts this rank's ``b``-th batch, column ``c`` the ``c``-th class.
        A row sums to its batch's size, so a smaller last batch shows.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import batch_class_counts
        >>> sampler = EpochBatchSampler([0] * 8 + [1] * 2, "stratified", batch_size=4)
        >>> classes, counts = batch_class_counts(sampler, epoch=0)
        >>> classes, counts.tolist()
        ([0, 1], [[3, 1], [3, 1], [2, 0]])
    """
    row, counts = next(epoch_tallies(sampler, 1, start=epoch))
    return list(row.class_counts), counts


def epoch_tallies(
    sampler: EpochBatchSampler, epochs: int, start: int = 0
) -> Iterator[tuple[EpochComposition, torch.Tensor]]:
    """Each epoch's `EpochComposition` with its per-batch class counts, one at a time.

    Runs epochs ``start`` .. ``start + epochs - 1`` through ``sampler.epoch_batches`` (without
    moving ``sampler.epoch``). The counts are as in `batch_class_counts`; only one epoch's
    are held at a time. `composition` and `batch_class_counts` are built on this.

    Memory: besides the sampler's own epoch, one byte or two per sample (its class and whether
    it was seen) and the ``[batches, classes]`` counts; batches are tallied a chunk at a time.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import epoch_tallies
        >>> sampler = EpochBatchSampler([0] * 8 + [1] * 2, "stratified", batch_size=5)
        >>> [(row.epoch, counts.tolist()) for row, counts in epoch_tallies(sampler, 2)]
        [(0, [[4, 1], [4, 1]]), (1, [[4, 1], [4, 1]])]
    """
    tally = _Tally(sampler)
    for epoch in range(start, start + epochs):
        yield tally.epoch(epoch, keep_counts=True)


def composition(sampler: EpochBatchSampler, epochs: int, start: int = 0) -> list[EpochComposition]:
    """Run ``epochs`` epochs from ``start`` (without moving ``sampler.epoch``) and tally them.

    As `epoch_tallies`, without keeping any epoch's per-batch counts: memory does not grow with
    the number of batches.
    """
    tally = _Tally(sampler)
    return [tally.epoch(epoch, keep_counts=False)[0] for epoch in range(start, start + epochs)]


# Indices (and batch x class cells) tallied per step: bounds the temporaries to a few MB.
_CHUNK = 1 << 18


class _Tally:
    """Per-class tallies of a sampler's epochs, with memory linear in the labels' count."""

    def __init__(self, sampler: EpochBatchSampler) -> None:
        self.sampler = sampler
        labels = sampler.labels
        self.classes, self.totals = class_counts(labels)
        self.keys: list[int] = self.classes.tolist()
        n_classes = len(self.keys)
        dtype = next(
            t for t in (torch.uint8, torch.int16, torch.int32, torch.int64)
            if n_classes <= torch.iinfo(t).max
        )  # fmt: skip
        self.klass = torch.empty(labels.numel(), dtype=dtype)  # class position of every sample
        for at in range(0, labels.numel(), _CHUNK):
            block = labels[at : at + _CHUNK].to(torch.int64)
            self.klass[at : at + _CHUNK] = torch.searchsorted(self.classes, block).to(dtype)
        self.seen = torch.zeros(labels.numel(), dtype=torch.bool)

    def epoch(self, epoch: int, *, keep_counts: bool) -> tuple[EpochComposition, torch.Tensor]:
        n_classes = len(self.keys)
        size = self.sampler.batch_size
        total = torch.zeros(n_classes, dtype=torch.int64)
        extremes: dict[bool, tuple[torch.Tensor, torch.Tensor]] = {}  # full batches? -> min, max
        parts: list[torch.Tensor] = []
        batches = 0
        chunk: list[list[int]] = []
        held = 0

        def flush() -> None:
            sizes = torch.tensor([len(b) for b in chunk], dtype=torch.int64)
            flat = torch.tensor(list(itertools.chain.from_iterable(chunk)), dtype=torch.int64)
            self.seen[flat] = True
            batch_of = torch.repeat_interleave(torch.arange(len(chunk)), sizes)
            counts = torch.bincount(
                batch_of * n_classes + self.klass[flat].to(torch.int64),
                minlength=len(chunk) * n_classes,
            ).view(len(chunk), n_classes)
            total.add_(counts.sum(0))
            for full, rows in ((True, counts[sizes == size]), (False, counts)):
                if not len(rows):
                    continue
                low, high = rows.min(0).values, rows.max(0).values
                if full in extremes:
                    low = torch.minimum(low, extremes[full][0])
                    high = torch.maximum(high, extremes[full][1])
                extremes[full] = (low, high)
            if keep_counts:
                parts.append(counts)
            chunk.clear()

        for batch in self.sampler.epoch_batches(epoch):
            chunk.append(batch)
            batches += 1
            held += len(batch) + n_classes
            if held >= _CHUNK:
                flush()
                held = 0
        if chunk:
            flush()
        # the spread is over full batches; with none, over every batch there is, if any
        zeros = torch.zeros(n_classes, dtype=torch.int64)
        low, high = extremes.get(True, extremes.get(False, (zeros, zeros)))
        seen = torch.zeros(n_classes, dtype=torch.int64)
        for at in range(0, self.seen.numel(), _CHUNK):
            picked = self.klass[at : at + _CHUNK][self.seen[at : at + _CHUNK]]
            seen += torch.bincount(picked.to(torch.int64), minlength=n_classes)
        seen_share = seen / self.totals
        row = EpochComposition(
            epoch=epoch,
            batches=batches,
            class_counts=dict(zip(self.keys, total.tolist(), strict=True)),
            batch_min=dict(zip(self.keys, low.tolist(), strict=True)),
            batch_max=dict(zip(self.keys, high.tolist(), strict=True)),
            seen_share=dict(zip(self.keys, seen_share.tolist(), strict=True)),
        )
        counts = torch.cat(parts) if parts else torch.zeros((0, n_classes), dtype=torch.int64)
        return row, counts


def format_composition(rows: list[EpochComposition], *, seen: bool = False) -> str:
    """A plain-text table of `composition` rows, one line per epoch."""
    lines = []
    for row in rows:
        counts = "  ".join(f"{c}:{n}" for c, n in row.class_counts.items())
        spread = "  ".join(f"{c}:{row.batch_min[c]}-{row.batch_max[c]}" for c in row.class_counts)
        line = (
            f"  epoch {row.epoch}: {row.batches:>4} batches | classes {counts} | per batch {spread}"
        )
        if seen:
            line += " | seen " + "  ".join(f"{c}:{s:.0%}" for c, s in row.seen_share.items())
        lines.append(line)
    return "\n".join(lines)


def leaves_samples_out(rows: list[EpochComposition]) -> bool:
    """Whether some class was not wholly seen by the end of ``rows``: the strategy subsamples.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import composition, leaves_samples_out
        >>> sampler = EpochBatchSampler([0] * 8 + [1] * 2, "stratified", batch_size=5)
        >>> leaves_samples_out(composition(sampler, epochs=2))
        False
    """
    return any(share < 1 for row in rows for share in row.seen_share.values())


def format_label_counts(labels: torch.Tensor, *, limit: int = 20) -> str:
    """How many samples and classes ``labels`` holds, with the count of each class.

    Only the ``limit`` most frequent classes are listed by count; the rest are summarised.

    Examples:
        >>> import torch
        >>> from samplekit.report import format_label_counts
        >>> format_label_counts(torch.tensor([1, 0, 1, 1]))
        '4 samples, 2 classes: 0:1  1:3'
    """
    values, counts = class_counts(labels)  # in blocks: no int64 copy of the labels
    shown = f"{labels.numel()} samples, {values.numel()} classes: "
    keep = torch.arange(values.numel())
    if values.numel() > limit:
        keep = torch.sort(torch.argsort(counts, descending=True, stable=True)[:limit]).values
    pairs = zip(values[keep].tolist(), counts[keep].tolist(), strict=True)
    listed = "  ".join(f"{v}:{n}" for v, n in pairs)
    if values.numel() > limit:
        listed += f"  (and {values.numel() - limit} smaller classes)"
    return shown + listed
