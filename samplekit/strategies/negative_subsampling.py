"""``negative_subsampling``: every positive each epoch, plus a fresh share of the negatives."""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import torch
from pydantic import Field, model_validator

import samplekit
from samplekit.errors import ConfigError, LabelsError
from samplekit.hookspecs import Register, hookimpl
from samplekit.labels import Complement, partition, where
from samplekit.permutation import Permutation
from samplekit.rng import derive_seed, index_dtype

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["NegativeSubsampling"]


class NegativeSubsampling(samplekit.RandomAccessStrategy):
    """Keep every positive each epoch and draw a fresh random share of the negatives.

    Samples labelled ``negative_label`` are negatives; every other sample is a positive and is in
    every epoch exactly once. Each epoch draws ``k`` negatives without replacement (``k`` from
    ``neg_ratio`` or ``neg_per_pos``, rounded to the nearest integer, at least 1) and shuffles
    them with the positives, so every epoch holds ``positives + k`` samples.

    With ``cycle=True`` negatives are also drawn without replacement *across* epochs: a random
    permutation of the negatives is consumed ``k`` at a time, so every negative is seen once
    before any is seen twice. Epochs come in cycles of ``ceil(negatives / k)``; the last epoch of
    a cycle is topped up with negatives seen earlier in that cycle to keep ``k`` per epoch.

    Random access: the epoch's order is a keyed permutation of ``positives + k`` slots (the
    first are the positives, the rest the chosen negatives), and the chosen negatives are the
    first ``k`` of a keyed permutation of the negatives (of the cycle's, with ``cycle=True``).
    The positives are held as the gaps between them (one int32 each below 2**31 samples), and
    the negatives listed while an index of every sample fits in `samplekit.labels.LISTED_BYTES`
    (1 GiB); beyond it, the ``j``-th negative is found among the indices between the positives.
    Both are held once per node.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> sampler = EpochBatchSampler([0] * 80 + [1] * 20, "negative_subsampling",
        ...                             batch_size=10, neg_ratio=0.25)
        >>> [len(batch) for batch in sampler]
        [10, 10, 10, 10]
    """

    name = "negative_subsampling"

    class Options(samplekit.Options):
        """Options of ``negative_subsampling``: give exactly one of neg_ratio and neg_per_pos."""

        neg_ratio: float | None = Field(
            None,
            gt=0,
            le=1,
            allow_inf_nan=False,
            description="Share of the negatives kept each epoch, 0 < neg_ratio <= 1.",
        )
        neg_per_pos: float | None = Field(
            None,
            gt=0,
            allow_inf_nan=False,
            description="Negatives kept each epoch per positive, > 0; at most negatives / "
            "positives of the labels (checked when the sampler is built).",
        )
        negative_label: int = Field(
            0, description="The label of the negatives; every other label is a positive."
        )
        cycle: bool = Field(
            False,
            description="Draw negatives without replacement across epochs too: every negative "
            "is seen once before any is seen twice.",
        )

        @model_validator(mode="after")
        def _exactly_one_share(self) -> NegativeSubsampling.Options:
            if (self.neg_ratio is None) == (self.neg_per_pos is None):
                got = "both" if self.neg_ratio is not None else "neither"
                msg = (
                    f"give exactly one of neg_ratio (share of negatives) or neg_per_pos "
                    f"(negatives per positive), but got {got}"
                )
                raise ValueError(msg)
            return self

    options: NegativeSubsampling.Options

    @classmethod
    def example_labels(cls, options: NegativeSubsampling.Options) -> SearchStrategy[LabelArray]:
        """Labels `samplekit.testing.check_strategy` draws: negatives and at least one positive.

        With ``neg_per_pos``, at least that many negatives per positive (as a list, shuffled).
        """
        from samplekit.testing import labels

        ratio, negative = options.neg_per_pos, options.negative_label
        if ratio is None or ratio * 90 > 10_000:  # too many negatives to draw: refused anyway
            return labels(required=[negative], min_classes=2)

        from hypothesis import strategies as st

        @st.composite
        def enough_negatives(draw: st.DrawFn) -> list[int]:
            others = st.integers(-1000, 1000).filter(lambda value: value != negative)
            positive = draw(st.lists(others, min_size=1, max_size=3, unique=True))
            counts = draw(st.lists(st.integers(1, 30), min_size=len(positive), max_size=3))
            needed = math.ceil(ratio * sum(counts))
            values = [negative] * draw(st.integers(max(1, needed), needed + 50))
            values += [v for v, count in zip(positive, counts, strict=False) for _ in range(count)]
            return draw(st.permutations(values))

        return enough_negatives()

    def __init__(self, labels: torch.Tensor, options: NegativeSubsampling.Options) -> None:
        super().__init__(labels, options)
        total = int(labels.numel())
        # The negatives by rank: listed, or read from the positives' gaps (once per node).
        self._negatives = Complement.of_label(labels, options.negative_label)
        n_neg = len(self._negatives)
        n_pos = total - n_neg
        if n_neg == 0:
            present = self.class_index.classes.tolist()[:10]
            msg = (
                f"negative_subsampling: no sample has negative_label={options.negative_label} "
                f"(labels present: {present}); set negative_label to your negatives' label"
            )
            raise LabelsError(msg)
        if n_pos == 0:
            msg = (
                f"negative_subsampling: every sample has negative_label="
                f"{options.negative_label}, so there are no positives to keep; use a strategy "
                f"such as class_weighted, or check the labels"
            )
            raise LabelsError(msg)
        if options.neg_ratio is not None:
            self.k = min(n_neg, max(1, round(n_neg * options.neg_ratio)))
        else:
            assert options.neg_per_pos is not None  # the validator guarantees one of them
            # A float product: inf for a huge neg_per_pos (1e308), never an OverflowError.
            wanted = n_pos * options.neg_per_pos
            if not wanted < n_neg + 1 or round(wanted) > n_neg:
                msg = (
                    f"negative_subsampling: neg_per_pos={options.neg_per_pos} asks for "
                    f"{round(wanted) if math.isfinite(wanted) else 'infinitely many'} negatives "
                    f"per epoch ({n_pos} positives), but only {n_neg} "
                    f"exist; use neg_per_pos <= {n_neg / n_pos:.6g} (negatives / positives) or "
                    f"neg_ratio"
                )
                raise ConfigError(msg)
            self.k = max(1, round(wanted))
        self.epochs_per_cycle = math.ceil(n_neg / self.k)

    @cached_property
    def positives(self) -> torch.Tensor:
        """Every positive's index, ascending (built on first use; sampling never needs it)."""
        count = int(self.labels.numel()) - len(self._negatives)
        ranks = torch.arange(count, dtype=torch.int64)
        return self._negatives.members(ranks).to(index_dtype(int(self.labels.numel())))

    @cached_property
    def negatives(self) -> torch.Tensor:
        """Every negative's index, ascending (built on first use; sampling never needs it)."""
        return where(self.labels, self.options.negative_label)

    def epoch_length(self, epoch: int) -> int:
        """Positives plus the ``k`` negatives kept, the same in every epoch."""
        return int(self.labels.numel()) - len(self._negatives) + self.k

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        """Every positive and ``k`` negatives, shuffled together, read at ``positions``."""
        n_neg, k = len(self._negatives), self.k
        n_pos = int(self.labels.numel()) - n_neg
        slots = Permutation(n_pos + k, ctx.key(self.name, "slots"))(positions).view(-1)
        chosen = slots - n_pos  # the j-th of the k negatives, where it is one
        if _FEW_POSITIVES * n_pos <= k:
            # Read every slot as a negative, then the few positives over them: cheaper than
            # splitting the slots when positives are a small share of the epoch.
            positive = torch.from_numpy(np.flatnonzero(chosen.numpy() < 0))
            chosen.clamp_(min=0)
            out = self._negatives.at(self._chosen(ctx, chosen))
            out.index_copy_(0, positive, self._negatives.members(slots.index_select(0, positive)))
            return out.view(positions.shape)
        out = torch.empty_like(slots)
        # Split by index lists (index_select and index_copy_ beat boolean masks several times).
        positive, negative = partition(chosen < 0)
        out.index_copy_(0, positive, self._negatives.members(slots.index_select(0, positive)))
        chosen = self._chosen(ctx, chosen.index_select(0, negative))
        out.index_copy_(0, negative, self._negatives.at(chosen))
        return out.view(positions.shape)

    def _chosen(self, ctx: EpochContext, chosen: torch.Tensor) -> torch.Tensor:
        """The rank among the negatives of each of the epoch's ``chosen`` ``k`` negatives."""
        n_neg, k = len(self._negatives), self.k
        if self.options.cycle:  # the cycle's permutation, k at a time, topped up from its start
            cycle, step = divmod(ctx.epoch, self.epochs_per_cycle)
            chosen += step * k
            chosen -= n_neg * (chosen >= n_neg)
            key = derive_seed(ctx.seed, "negative_subsampling.cycle", cycle)
        else:
            key = ctx.key(self.name, "negatives")
        return Permutation(n_neg, key)(chosen)


# Positives at most this share of the chosen negatives: `sample_at` reads every slot as a
# negative first (a few wasted reads, no split of the slots).
_FEW_POSITIVES = 4


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``negative_subsampling``."""
    register(NegativeSubsampling)
