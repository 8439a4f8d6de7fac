"""``class_weighted``: draw samples with per-class weights, with or without replacement."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

import torch
from pydantic import Field

import samplekit
from samplekit.config import MAX_EPOCH_SAMPLES
from samplekit.errors import ConfigError
from samplekit.hookspecs import Register, hookimpl
from samplekit.inputs import quote
from samplekit.permutation import Permutation
from samplekit.rng import generator, index_dtype

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["ClassWeighted"]

Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ClassWeighted(samplekit.RandomAccessStrategy):
    """Draw `num_samples` samples per epoch, class `c` with probability ∝ weight_c * count_c.

    ``class_weights="balanced"`` weighs each class by its inverse frequency, so every class is
    drawn equally often. A mapping ``{label: weight}`` must name every class present (weight 0
    leaves a class out) and no absent one.

    With ``replacement=True`` (the default) each draw picks a class by those probabilities, then
    a sample of that class uniformly: two vectorised stages, O(num_samples). With
    ``replacement=False`` samples are drawn one by one without replacement, each with probability
    ∝ its class weight among those not yet drawn (as ``WeightedRandomSampler(replacement=False)``
    does, but with no 2**24 limit), then shuffled; ``num_samples`` may not exceed the samples of
    non-zero weight.

    Any finite weights >= 0 work, from subnormal to 1e308: probabilities are computed from the
    weights' logarithms in float64, so nothing overflows, and the draw without replacement ranks
    samples by float64 log-keys, so a weight a thousand orders of magnitude below another is still
    drawn (after the heavier ones). A class of weight 0 is never drawn. With replacement, a class
    whose share of the draws is below float64 resolution (about 1e-16) is, like a share of 0, as
    good as never drawn.

    Random access: with replacement, position ``p``'s two draws come from a generator seeded
    from ``(seed, epoch, p // 4096)``, so any batch is drawn without the rest of the epoch.
    Without replacement, drawing every sample of non-zero weight is a keyed permutation of
    them; drawing fewer needs every sample's key, so that epoch is built whole.

    Examples:
        >>> from collections import Counter
        >>> from samplekit import EpochBatchSampler
        >>> labels = [0] * 900 + [1] * 100
        >>> sampler = EpochBatchSampler(labels, "class_weighted", batch_size=100)
        >>> counts = Counter(labels[i] for batch in sampler for i in batch)
        >>> 400 < counts[1] < 600
        True
    """

    name = "class_weighted"

    class Options(samplekit.Options):
        """Options of ``class_weighted``."""

        class_weights: Literal["balanced"] | dict[int, Weight] = Field(
            "balanced",
            description="'balanced' (inverse class frequency) or a mapping label -> weight >= 0 "
            'naming every class present (in JSON, labels are keys such as "3").',
        )
        num_samples: int | None = Field(
            None,
            ge=1,
            le=MAX_EPOCH_SAMPLES,
            description="Samples drawn per epoch, at most 2**31 - 1 (an epoch's indices are "
            "held in memory: use fewer samples per epoch); default: the number of labels.",
        )
        replacement: bool = Field(True, description="Draw with replacement.")

    options: ClassWeighted.Options

    @classmethod
    def example_labels(cls, options: ClassWeighted.Options) -> SearchStrategy[LabelArray]:
        """Labels `samplekit.testing.check_strategy` draws: with a mapping, exactly its classes."""
        from samplekit.testing import labels

        weights = options.class_weights
        if weights == "balanced":
            return labels()
        return labels(values=sorted(weights), min_classes=len(weights), max_classes=len(weights))

    def __init__(self, labels: torch.Tensor, options: ClassWeighted.Options) -> None:
        super().__init__(labels, options)
        index = self.class_index
        counts = index.counts.to(torch.float64)
        weights = options.class_weights
        if weights == "balanced":
            log_weight = -torch.log(counts)
        else:
            present = index.classes.tolist()
            absent = sorted(set(weights) - set(present))
            if absent:
                msg = (
                    f"class_weighted: class_weights gives weights for labels {absent[:20]} that "
                    f"no sample has (labels present: {present[:20]}); remove them"
                )
                raise ConfigError(msg)
            missing = sorted(set(present) - set(weights))
            if missing:
                msg = (
                    f"class_weighted: class_weights has no weight for labels {missing[:20]}; "
                    f"give every class a weight (0 leaves a class out)"
                )
                raise ConfigError(msg)
            if not any(weights[c] > 0 for c in present):
                msg = (
                    f"class_weighted: class_weights={quote(weights)} are all zero; give at "
                    f"least one class a positive weight"
                )
                raise ConfigError(msg)
            # Logarithms of the weights, exact for any finite weight (log(0) = -inf): a product
            # of a weight and a count can overflow (1e308 * 2) and a ratio of two weights can
            # underflow (1e-300 / 1e308), their logarithms cannot.
            log_weight = torch.tensor(
                [math.log(weights[c]) if weights[c] > 0 else -math.inf for c in present],
                dtype=torch.float64,
            )
        drawn = log_weight > -math.inf
        #: Per-class log-weight minus the largest: 0 for the heaviest class, -inf for weight 0.
        self.log_weight = log_weight - log_weight[drawn].max()
        log_mass = self.log_weight + torch.log(counts)
        # Class masses relative to the largest, in [0, 1] (exp(-inf) = 0 for weight 0): no
        # overflow, and a cumulative sum over at most len(labels) classes stays finite.
        mass = torch.exp(log_mass - log_mass[drawn].max())
        cumulative = torch.cumsum(mass, 0)
        #: Cumulative class probabilities. Dividing by the last sum makes it exactly 1.0 from the
        #: last class of non-zero weight on, and a zero-weight class repeats its predecessor's
        #: value, so ``searchsorted`` of a uniform draw in [0, 1) never lands on one.
        self.class_cdf = cumulative / cumulative[-1]
        index.prepare()  # built now: construction, not the first epoch, pays
        self.num_samples = options.num_samples or int(labels.numel())
        #: Positions (in ``class_index.classes``) and counts of the classes of non-zero weight.
        self.drawn_classes = torch.nonzero(drawn).flatten()
        self.drawn_counts = index.counts[self.drawn_classes]
        self.drawable = int(self.drawn_counts.sum())
        if not options.replacement and self.num_samples > self.drawable:
            msg = (
                f"class_weighted: num_samples={self.num_samples} exceeds the {self.drawable} "
                f"samples of non-zero weight, which replacement=False cannot do; lower "
                f"num_samples or set replacement=True"
            )
            raise ConfigError(msg)
        self.random_access = options.replacement or self.num_samples == self.drawable

    def epoch_length(self, epoch: int) -> int:
        """``num_samples``, the same in every epoch."""
        return self.num_samples

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Draw the epoch as described in the class docstring."""
        if self.random_access:
            return super().sample(ctx)
        return self._without_replacement(ctx.generator)

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        """The draws at ``positions`` (random access, see the class docstring)."""
        if not self.random_access:
            return samplekit.Strategy.sample_at(self, ctx, positions)  # raises
        if not self.options.replacement:  # every drawable sample, in a keyed order
            return self._grouped_at(Permutation(self.drawable, ctx.key(self.name))(positions))
        index = self.class_index
        counts = index.counts
        positions = positions.to(torch.int64).reshape(-1)
        block, offset = positions // _DRAWS, positions % _DRAWS
        first = int(block.min()) if positions.numel() else 0
        last = int(block.max()) if positions.numel() else -1
        if last - first < 2 * positions.numel() // _DRAWS + 2:  # a run of blocks: all of them
            blocks, row = torch.arange(first, last + 1), block - first
        else:
            blocks, row = torch.unique(block, return_inverse=True)
        draws = torch.empty(blocks.numel(), 2, _DRAWS, dtype=torch.float64)
        for number, out in zip(blocks.tolist(), draws, strict=True):
            gen = generator(ctx.seed, ctx.epoch, self.name, number)
            torch.rand(2, _DRAWS, generator=gen, dtype=torch.float64, out=out)
        cell = row * (2 * _DRAWS) + offset  # draws[row, 0, offset] in the flat draws
        flat = draws.view(-1)
        klass = torch.searchsorted(self.class_cdf, flat.index_select(0, cell), right=True)
        # A uniform position inside the class: 53 random bits scaled to its count.
        size = counts.index_select(0, klass)
        where = flat.index_select(0, cell + _DRAWS).mul_(size)
        position = torch.minimum(where.long(), size - 1)
        return index.members(klass, position)

    def _without_replacement(self, gen: torch.Generator) -> torch.Tensor:
        k = self.num_samples
        if k == self.drawable:  # every sample of non-zero weight: weights cannot matter
            dtype = index_dtype(k)
            return self._grouped_at(torch.randperm(k, generator=gen, dtype=dtype))
        # Efraimidis-Spirakis in log space: the k smallest log(Exp(1)) - log(w) keys are a
        # weighted draw without replacement (within a class all weights are equal). float64 logs
        # hold any ratio of finite weights, and only samples of non-zero weight get a key.
        keys = torch.empty(self.drawable, dtype=torch.float64).exponential_(generator=gen)
        keys.log_()
        keys -= torch.repeat_interleave(self.log_weight[self.drawn_classes], self.drawn_counts)
        chosen = torch.topk(keys, k, largest=False, sorted=False).indices
        del keys
        chosen = chosen[torch.randperm(k, generator=gen)]
        return self._grouped_at(chosen)

    def _grouped_at(self, positions: torch.Tensor) -> torch.Tensor:
        """The samples at ``positions`` among those of non-zero weight, in ``grouped`` order."""
        # Position p in the j-th drawable class's run is that class's sample p - drawn_start_j.
        positions = positions.to(torch.int64)
        drawn_starts = torch.cumsum(self.drawn_counts, 0) - self.drawn_counts
        run = torch.searchsorted(drawn_starts, positions, right=True) - 1
        klass = self.drawn_classes.index_select(0, run)
        return self.class_index.members(klass, positions - drawn_starts.index_select(0, run))


# Positions per generator with replacement: a batch draws at most a few such blocks.
_DRAWS = 1 << 12


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``class_weighted``."""
    register(ClassWeighted)
