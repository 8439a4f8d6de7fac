"""``class_weighted``: draw samples with per-class weights, with or without replacement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import torch
from pydantic import Field

import samplekit
from samplekit.errors import ConfigError
from samplekit.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["ClassWeighted"]

Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ClassWeighted(samplekit.Strategy):
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
            "naming every class present.",
        )
        num_samples: int | None = Field(
            None, ge=1, description="Samples drawn per epoch; default: the number of labels."
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
            per_class = 1.0 / counts
        else:
            present = index.classes.tolist()
            absent = sorted(set(weights) - set(present))
            if absent:
                msg = (
                    f"class_weighted: class_weights gives weights for labels {absent} that no "
                    f"sample has (labels present: {present[:20]}); remove them"
                )
                raise ConfigError(msg)
            missing = sorted(set(present) - set(weights))
            if missing:
                msg = (
                    f"class_weighted: class_weights has no weight for labels {missing[:20]}; "
                    f"give every class a weight (0 leaves a class out)"
                )
                raise ConfigError(msg)
            per_class = torch.tensor([weights[c] for c in present], dtype=torch.float64)
        mass = per_class * counts
        if not float(mass.sum()) > 0:
            msg = (
                f"class_weighted: class_weights={weights!r} are all zero; give at least one "
                f"class a positive weight"
            )
            raise ConfigError(msg)
        self.class_probs = mass / mass.sum()
        self.per_class_weight = per_class
        _ = index.grouped  # built now: construction, not the first epoch, pays
        self.num_samples = options.num_samples or int(labels.numel())
        drawable = int(counts[per_class > 0].sum())
        if not options.replacement and self.num_samples > drawable:
            msg = (
                f"class_weighted: num_samples={self.num_samples} exceeds the {drawable} samples "
                f"of non-zero weight, which replacement=False cannot do; lower num_samples or "
                f"set replacement=True"
            )
            raise ConfigError(msg)

    def epoch_length(self, epoch: int) -> int:
        """``num_samples``, the same in every epoch."""
        return self.num_samples

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Draw the epoch as described in the class docstring."""
        if self.options.replacement:
            return self._with_replacement(ctx.generator)
        return self._without_replacement(ctx.generator)

    def _with_replacement(self, gen: torch.Generator) -> torch.Tensor:
        index = self.class_index
        out = torch.empty(self.num_samples, dtype=index.grouped.dtype)
        cdf = torch.cumsum(self.class_probs, 0)
        counts, starts, last = index.counts, index.offsets[:-1], len(index) - 1
        for start in range(0, self.num_samples, _CHUNK):  # bounded memory, same draws
            size = min(_CHUNK, self.num_samples - start)
            drawn = torch.rand(size, generator=gen, dtype=torch.float64)
            klass = torch.searchsorted(cdf, drawn, right=True).clamp_(max=last)
            # A uniform position inside the class: 53 random bits scaled to its count.
            where = torch.rand(size, generator=gen, dtype=torch.float64).mul_(counts[klass])
            position = torch.minimum(where.long(), counts[klass] - 1)
            out[start : start + size] = index.grouped[starts[klass] + position]
        return out

    def _without_replacement(self, gen: torch.Generator) -> torch.Tensor:
        index = self.class_index
        dtype = index.grouped.dtype
        if self.num_samples == self.labels.numel():  # every sample: weights cannot matter
            return index.grouped[torch.randperm(self.num_samples, generator=gen, dtype=dtype)]
        # Efraimidis-Spirakis: the k smallest Exp(1)/w keys are a weighted draw without
        # replacement; within a class all weights are equal.
        weight = torch.repeat_interleave(self.per_class_weight.float(), index.counts)
        keys = torch.empty(weight.numel()).exponential_(generator=gen)
        keys /= weight  # weight 0 gives +inf: never drawn while others remain
        del weight
        chosen = torch.topk(keys, self.num_samples, largest=False, sorted=False).indices
        del keys
        chosen = chosen[torch.randperm(chosen.numel(), generator=gen)]
        return index.grouped[chosen]


# Draws made per step: large enough to stay vectorised, small enough to bound memory.
_CHUNK = 1 << 20


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``class_weighted``."""
    register(ClassWeighted)
