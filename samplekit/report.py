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
from typing import TYPE_CHECKING

import torch

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


def composition(sampler: EpochBatchSampler, epochs: int, start: int = 0) -> list[EpochComposition]:
    """Run ``epochs`` epochs from ``start`` (without moving ``sampler.epoch``) and tally them."""
    return [row for row, _ in epoch_tallies(sampler, epochs, start)]


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

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import epoch_tallies
        >>> sampler = EpochBatchSampler([0] * 8 + [1] * 2, "stratified", batch_size=5)
        >>> [(row.epoch, counts.tolist()) for row, counts in epoch_tallies(sampler, 2)]
        [(0, [[4, 1], [4, 1]]), (1, [[4, 1], [4, 1]])]
    """
    labels = sampler.labels.to(torch.int64)
    values = torch.unique(labels)
    keys = values.tolist()
    n_classes = len(keys)
    klass = torch.searchsorted(values, labels)  # class position of every sample
    totals = torch.bincount(klass, minlength=n_classes)
    seen = torch.zeros(labels.numel(), dtype=torch.bool)
    for epoch in range(start, start + epochs):
        batches = [torch.tensor(b, dtype=torch.int64) for b in sampler.epoch_batches(epoch)]
        sizes = torch.tensor([b.numel() for b in batches], dtype=torch.int64)
        flat = torch.cat(batches) if batches else torch.zeros(0, dtype=torch.int64)
        seen[flat] = True
        batch_of = torch.repeat_interleave(torch.arange(len(batches)), sizes)
        counts = torch.bincount(
            batch_of * n_classes + klass[flat], minlength=len(batches) * n_classes
        ).view(len(batches), n_classes)
        full = counts[sizes == sampler.batch_size]
        if not len(full):  # no full batch: the spread is over every batch there is, if any
            full = counts if batches else torch.zeros((1, n_classes), dtype=torch.int64)
        seen_share = torch.bincount(klass[seen], minlength=n_classes) / totals
        row = EpochComposition(
            epoch=epoch,
            batches=len(batches),
            class_counts=dict(zip(keys, counts.sum(0).tolist(), strict=True)),
            batch_min=dict(zip(keys, full.min(0).values.tolist(), strict=True)),
            batch_max=dict(zip(keys, full.max(0).values.tolist(), strict=True)),
            seen_share=dict(zip(keys, seen_share.tolist(), strict=True)),
        )
        yield row, counts


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
    values, counts = torch.unique(labels.to(torch.int64), return_counts=True)
    shown = f"{labels.numel()} samples, {values.numel()} classes: "
    keep = torch.arange(values.numel())
    if values.numel() > limit:
        keep = torch.sort(torch.argsort(counts, descending=True, stable=True)[:limit]).values
    pairs = zip(values[keep].tolist(), counts[keep].tolist(), strict=True)
    listed = "  ".join(f"{v}:{n}" for v, n in pairs)
    if values.numel() > limit:
        listed += f"  (and {values.numel() - limit} smaller classes)"
    return shown + listed
