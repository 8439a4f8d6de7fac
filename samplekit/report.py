"""Per-epoch class composition and batch shapes of a sampler, for ``samplekit demo``/``preview``.

`composition` and `epoch_tallies` count each batch's samples per class; with per-sample
lengths, `batching` measures each epoch's batches: their sizes, padding and budget (see
`EpochBatching`). For a feedback strategy, `feedback_tallies` runs the epochs as a training
loop would, reporting the scores of a `samplekit.scoremodel.ScoreModel` after each batch, and
tallies them with how many samples each epoch held (see `EpochScores`).

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
    from collections.abc import Callable, Iterable, Iterator

    from samplekit.sampler import EpochBatchSampler
    from samplekit.scoremodel import ScoreModel

__all__ = [
    "BatchShapes",
    "EpochBatching",
    "EpochComposition",
    "EpochScores",
    "batch_class_counts",
    "batch_shapes",
    "batching",
    "composition",
    "epoch_tallies",
    "feedback_tallies",
    "format_batching",
    "format_composition",
    "format_label_counts",
    "format_length_counts",
    "format_scores",
    "leaves_samples_out",
    "summarise_batching",
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

    def epoch(
        self, epoch: int, *, keep_counts: bool, source: Iterable[list[int]] | None = None
    ) -> tuple[EpochComposition, torch.Tensor]:
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

        for batch in self.sampler.epoch_batches(epoch) if source is None else source:
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


# --- feedback strategies: epochs run with a synthetic score model ------------------------------


@dataclasses.dataclass(frozen=True)
class EpochScores:
    """How big one epoch of a feedback strategy was, and what training reported in it.

    Attributes:
        epoch: the epoch.
        samples: the samples in its batches (repeats counted).
        num_samples: the samples of the dataset, for the share ``samples / num_samples``.
        weight_min: the lowest loss weight (``sampler.loss_weights``) of a sample in it.
        weight_max: the highest loss weight of a sample in it.
        score_mean: the mean of the scores observed in it (``None`` for an epoch without
            samples).
    """

    epoch: int
    samples: int
    num_samples: int
    weight_min: float
    weight_max: float
    score_mean: float | None


def feedback_tallies(
    sampler: EpochBatchSampler, epochs: int, model: ScoreModel, *, keep_counts: bool = True
) -> Iterator[tuple[EpochComposition, torch.Tensor, EpochScores]]:
    """Run epochs ``0 .. epochs - 1`` of a feedback strategy as a training loop, one at a time.

    Each epoch is iterated as training iterates it (``sampler.set_epoch(e)``, then ``for batch
    in sampler``); after each batch its loss weights are read and ``model.scores(batch)`` is
    reported with ``sampler.observe``, so every epoch is planned from the scores of the epochs
    before it. Yields each epoch's `EpochComposition`, its per-batch class counts (as in
    `epoch_tallies`; empty unless ``keep_counts``) and its `EpochScores`. This moves
    ``sampler.epoch`` and fills the sampler's feedback: use a fresh sampler.

    Raises:
        ConfigError: if the sampler's strategy does not plan from feedback.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import feedback_tallies
        >>> from samplekit.scoremodel import ScoreModel
        >>> sampler = EpochBatchSampler([0] * 100, "infobatch", batch_size=10, epochs=3,
        ...                             anneal=0.4)  # the last round(0.4 * 3) = 1 epoch anneals
        >>> model = ScoreModel(100, seed=0)
        >>> [scores.samples for _, _, scores in feedback_tallies(sampler, 3, model)]
        [100, 68, 100]
    """
    from samplekit.errors import ConfigError

    if not sampler.strategy.uses_feedback:
        msg = (
            f"feedback_tallies: the {sampler.strategy.name!r} strategy does not plan from "
            f"feedback; tally it with epoch_tallies"
        )
        raise ConfigError(msg)
    tally = _Tally(sampler)
    num_samples = int(sampler.labels.numel())
    for epoch in range(epochs):
        observed = _Observed()
        row, counts = tally.epoch(
            epoch, keep_counts=keep_counts, source=_trained(sampler, epoch, model, observed)
        )
        yield row, counts, observed.summary(epoch, num_samples)


class _Observed:
    """What the training loop of `feedback_tallies` saw in one epoch."""

    def __init__(self) -> None:
        self.samples = 0
        self.score_sum = 0.0
        self.weight_min = float("inf")
        self.weight_max = float("-inf")

    def add(self, scores: torch.Tensor, weights: torch.Tensor) -> None:
        self.samples += scores.numel()
        self.score_sum += float(scores.sum(dtype=torch.float64))
        if weights.numel():
            self.weight_min = min(self.weight_min, float(weights.min()))
            self.weight_max = max(self.weight_max, float(weights.max()))

    def summary(self, epoch: int, num_samples: int) -> EpochScores:
        empty = self.samples == 0
        return EpochScores(
            epoch=epoch,
            samples=self.samples,
            num_samples=num_samples,
            weight_min=1.0 if empty else self.weight_min,
            weight_max=1.0 if empty else self.weight_max,
            score_mean=None if empty else self.score_sum / self.samples,
        )


def _trained(
    sampler: EpochBatchSampler, epoch: int, model: ScoreModel, observed: _Observed
) -> Iterator[list[int]]:
    """Epoch ``epoch``'s batches; after each, its weights are read and its scores observed."""
    sampler.set_epoch(epoch)
    for batch in sampler:
        yield batch
        index = torch.tensor(batch, dtype=torch.int64)
        weights = sampler.loss_weights(index)
        scores = model.scores(index)
        sampler.observe(index, scores)
        observed.add(scores, weights)


def format_scores(rows: list[EpochScores]) -> str:
    """A plain-text table of the `EpochScores` of `feedback_tallies`, one line per epoch.

    Examples:
        >>> from samplekit.report import EpochScores, format_scores
        >>> print(format_scores([EpochScores(0, 80, 100, 1.0, 2.0, 0.4567)]))
          epoch 0: 80 samples (80.0% of 100) | loss weights 1-2 | mean score 0.457
    """
    width = max((len(str(row.samples)) for row in rows), default=1)
    lines = []
    for row in rows:
        share = row.samples / row.num_samples
        mean = "-" if row.score_mean is None else f"{row.score_mean:.3g}"
        lines.append(
            f"  epoch {row.epoch}: {row.samples:>{width}} samples ({share:.1%} of "
            f"{row.num_samples}) | loss weights {row.weight_min:.3g}-{row.weight_max:.3g} | "
            f"mean score {mean}"
        )
    return "\n".join(lines)


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


# --- batch shapes, from per-sample lengths ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchShapes:
    """The size and lengths of each batch of one epoch, in batch order.

    Attributes:
        sizes: int64, the samples in each batch.
        longest: int64, the longest length in each batch (0 for none).
        tokens: int64, the sum of the lengths in each batch: its real tokens.
        costs: float64, each batch's cost as the batcher counts it
            (`samplekit.batcher.Batcher.cost`), or ``None`` when not asked for.
    """

    sizes: torch.Tensor
    longest: torch.Tensor
    tokens: torch.Tensor
    costs: torch.Tensor | None = None

    @property
    def padded(self) -> torch.Tensor:
        """int64, each batch's padded tokens: its longest length x its samples."""
        return self.longest * self.sizes


def batch_shapes(
    lengths: torch.Tensor,
    order: torch.Tensor,
    offsets: torch.Tensor,
    *,
    cost: Callable[[torch.Tensor], float] | None = None,
) -> BatchShapes:
    """Measure the batches ``order[offsets[b]:offsets[b + 1]]`` by the samples' ``lengths``.

    Args:
        lengths: 1-D integer tensor, the length of every sample.
        order: 1-D integer tensor of sample indices in batch order (as in an epoch plan).
        offsets: 1-D int64 tensor of increasing positions in ``order`` from 0, one more than
            there are batches; samples of ``order`` beyond the last are in no batch.
        cost: if given, called with each batch's lengths to fill `BatchShapes.costs`.

    Examples:
        >>> import torch
        >>> from samplekit.report import batch_shapes
        >>> lengths = torch.tensor([4, 1, 3, 2, 9])
        >>> shapes = batch_shapes(lengths, torch.tensor([0, 2, 1, 3, 4]), torch.tensor([0, 2, 4]))
        >>> shapes.sizes.tolist(), shapes.longest.tolist(), shapes.tokens.tolist()
        ([2, 2], [4, 2], [7, 3])
        >>> shapes.padded.tolist()
        [8, 4]
    """
    import numpy as np

    starts = offsets[:-1].numpy()
    end = int(offsets[-1])
    values = lengths[order[:end]].to(torch.int64).numpy()
    if len(starts):
        longest = torch.from_numpy(np.maximum.reduceat(values, starts))
        tokens = torch.from_numpy(np.add.reduceat(values, starts))
    else:
        longest = tokens = torch.zeros(0, dtype=torch.int64)
    costs = None
    if cost is not None:
        within = lengths[order[:end]]
        bounds = offsets.tolist()
        costs = torch.tensor(
            [float(cost(within[a:b])) for a, b in itertools.pairwise(bounds)],
            dtype=torch.float64,
        )
    return BatchShapes(offsets.diff(), longest, tokens, costs)


@dataclasses.dataclass(frozen=True)
class EpochBatching:
    """How one epoch's batches are shaped, measured by the samples' lengths.

    Attributes:
        epoch: the epoch.
        batches: how many batches it has.
        samples: the samples in its batches.
        tokens: the real tokens in its batches (the sum of their samples' lengths).
        padded_tokens: the sum over batches of longest length x samples.
        efficiency: ``tokens / padded_tokens``, the share of the padded batches that is real
            (1.0 when nothing is padded: no batches, or only empty samples).
        size_min: the fewest samples in a batch (0 without batches).
        size_mean: the mean samples per batch.
        size_max: the most samples in a batch.
        padded_mean: the mean padded tokens (longest x samples) per batch.
        padded_max: the most padded tokens in a batch.
        budget: the most a batch may cost (`samplekit.batcher.Batcher.budget`), or ``None``.
        over_budget: the batches costing more than ``budget`` (always 0 for a batcher that
            keeps its contract), or ``None`` without a budget.
        left_out: samples of the strategy's epoch in no batch (say, ``token_budget`` with
            ``oversize='drop'``, or a last batch dropped by ``drop_last``).
    """

    epoch: int
    batches: int
    samples: int
    tokens: int
    padded_tokens: int
    efficiency: float
    size_min: int
    size_mean: float
    size_max: int
    padded_mean: float
    padded_max: int
    budget: float | None
    over_budget: int | None
    left_out: int


def summarise_batching(
    epoch: int, shapes: BatchShapes, *, given: int, budget: float | None = None
) -> EpochBatching:
    """Sum up one epoch's `BatchShapes`.

    Args:
        epoch: the epoch measured.
        shapes: its batches' shapes (with ``costs`` when ``budget`` is given).
        given: the samples the strategy gave the batcher (the epoch's length).
        budget: the batcher's budget, if it has one.

    Examples:
        >>> import torch
        >>> from samplekit.report import BatchShapes, summarise_batching
        >>> shapes = BatchShapes(sizes=torch.tensor([2, 2]), longest=torch.tensor([4, 2]),
        ...                      tokens=torch.tensor([7, 3]), costs=torch.tensor([8.0, 4.0]))
        >>> row = summarise_batching(0, shapes, given=5, budget=8)
        >>> row.efficiency, row.size_mean, row.padded_max, row.over_budget, row.left_out
        (0.8333333333333334, 2.0, 8, 0, 1)
    """
    batches = int(shapes.sizes.numel())
    samples = int(shapes.sizes.sum())
    tokens = int(shapes.tokens.sum())
    padded = shapes.padded
    padded_tokens = int(padded.sum())
    over = None
    if budget is not None:
        if shapes.costs is None:
            from samplekit.errors import ConfigError

            msg = (
                f"budget: got budget={budget!r} but shapes without costs; measure the batches "
                f"with batch_shapes(..., cost=batcher.cost)"
            )
            raise ConfigError(msg)
        over = int((shapes.costs > budget).sum())
    return EpochBatching(
        epoch=epoch,
        batches=batches,
        samples=samples,
        tokens=tokens,
        padded_tokens=padded_tokens,
        efficiency=tokens / padded_tokens if padded_tokens else 1.0,
        size_min=int(shapes.sizes.min()) if batches else 0,
        size_mean=samples / batches if batches else 0.0,
        size_max=int(shapes.sizes.max()) if batches else 0,
        padded_mean=padded_tokens / batches if batches else 0.0,
        padded_max=int(padded.max()) if batches else 0,
        budget=None if budget is None else float(budget),
        over_budget=over,
        left_out=given - samples,
    )


def batching(
    sampler: EpochBatchSampler, epochs: int, start: int = 0
) -> Iterator[tuple[EpochBatching, BatchShapes]]:
    """Measure epochs ``start`` .. ``start + epochs - 1`` of a sampler that has lengths.

    Each epoch's global plan (every rank's batches, as `samplekit.plan.EpochPlan` holds them)
    is measured by ``sampler.lengths``; ``sampler.epoch`` does not move.

    Raises:
        ConfigError: if the sampler got no lengths.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import batching
        >>> sampler = EpochBatchSampler(None, "shuffle", lengths=[5, 1, 4, 2, 3, 3],
        ...                             batcher={"name": "token_budget", "max_tokens": 8})
        >>> row, shapes = next(batching(sampler, 1))
        >>> row.samples, row.over_budget, bool((shapes.padded <= 8).all())
        (6, 0, True)
    """
    from samplekit import selection
    from samplekit.errors import ConfigError

    lengths = sampler.lengths
    if lengths is None:
        msg = "batching: the sampler has no lengths; build it with lengths=... (one per sample)"
        raise ConfigError(msg)
    batcher = sampler.batcher
    budget = batcher.budget
    for epoch in range(start, start + epochs):
        plan = sampler.planner.plan(epoch)
        shapes = batch_shapes(
            lengths, plan.order, plan.offsets, cost=None if budget is None else batcher.cost
        )
        given = selection.epoch_length(sampler.strategy, epoch)
        yield summarise_batching(epoch, shapes, given=given, budget=budget), shapes


def _number(value: float) -> str:
    """``value`` as an integer when it is whole: a budget of 4096.0 reads 4096."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def format_batching(rows: list[EpochBatching]) -> str:
    """A plain-text table of `batching` rows, one line per epoch.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.report import batching, format_batching
        >>> sampler = EpochBatchSampler(None, "shuffle", lengths=[3, 3, 3, 3, 3], batch_size=2)
        >>> print(format_batching([row for row, _ in batching(sampler, 1)]))
          epoch 0:    3 batches | padding efficiency 100.0% | samples per batch 1 / 1.7 / 2
          | padded tokens per batch 5.0 / 6
    """
    lines = []
    for row in rows:
        line = (
            f"  epoch {row.epoch}: {row.batches:>4} batches | padding efficiency "
            f"{row.efficiency:.1%} | samples per batch {row.size_min} / {row.size_mean:.1f} / "
            f"{row.size_max} | padded tokens per batch {row.padded_mean:.1f} / {row.padded_max}"
        )
        if row.budget is not None:
            line += f" | budget {_number(row.budget)}: {row.over_budget} over"
        if row.left_out:
            line += f" | left out {row.left_out}"
        lines.append(line)
    return "\n".join(lines)


def format_length_counts(lengths: torch.Tensor) -> str:
    """How many samples ``lengths`` holds, their shortest, mean and longest, and their sum.

    Examples:
        >>> import torch
        >>> from samplekit.report import format_length_counts
        >>> format_length_counts(torch.tensor([3, 12, 0, 5]))
        '4 samples, lengths 0 to 12 (mean 5.0), 20 in all'
    """
    total = int(lengths.sum(dtype=torch.int64))
    mean = total / lengths.numel()
    return (
        f"{lengths.numel()} samples, lengths {int(lengths.min())} to {int(lengths.max())} "
        f"(mean {mean:.1f}), {total} in all"
    )
