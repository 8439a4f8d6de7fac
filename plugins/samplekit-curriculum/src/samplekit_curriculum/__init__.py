"""``curriculum_negatives``: every positive each epoch, plus a share of negatives on a schedule.

A samplekit plugin, registered under the ``samplekit`` entry-point group.

Examples:
    >>> from samplekit import EpochBatchSampler
    >>> from samplekit_curriculum import CurriculumNegatives
    >>> sampler = EpochBatchSampler([0] * 90 + [1] * 10, CurriculumNegatives, batch_size=10,
    ...                             start_ratio=0.1, end_ratio=0.9, epochs=5)
    >>> lengths = []
    >>> for epoch in range(6):
    ...     sampler.set_epoch(epoch)
    ...     lengths.append(len(sampler))
    >>> lengths
    [2, 4, 6, 8, 10, 10]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch
from pydantic import Field

import samplekit
from samplekit.errors import LabelsError
from samplekit.labels import where
from samplekit.rng import choice_without_replacement

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.hookspecs import Register
    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["CurriculumNegatives", "samplekit_register_strategies"]
__version__ = "0.1.0"


class CurriculumNegatives(samplekit.Strategy):
    """Keep every positive each epoch and a share of the negatives that follows a schedule.

    Samples labelled ``negative_label`` are negatives; every other sample is a positive and is in
    every epoch exactly once. Epoch ``e`` draws ``k(e)`` negatives afresh, without replacement,
    and shuffles them with the positives, so it holds ``positives + k(e)`` samples, where::

        t(e)     = min(e, epochs - 1) / (epochs - 1)      (t = 1 for every epoch if epochs == 1)
        ratio(e) = start_ratio + (end_ratio - start_ratio) * s(t(e))
                   s(t) = t                     for schedule="linear"
                   s(t) = (1 - cos(pi * t)) / 2 for schedule="cosine"
        k(e)     = min(negatives, max(1, round(negatives * ratio(e))))

    So epoch 0 keeps ``start_ratio`` of the negatives, epoch ``epochs - 1`` and every later one
    ``end_ratio`` (exactly: ``ratio`` is ``end_ratio`` itself once ``t == 1``). ``round`` is
    Python's, halves to even. The ratio may rise (an easy start, more negatives later) or fall.

    Examples:
        >>> import torch
        >>> strategy = CurriculumNegatives(
        ...     torch.tensor([0] * 100 + [1] * 5),
        ...     CurriculumNegatives.Options(start_ratio=0.1, end_ratio=0.5, epochs=3,
        ...                                 schedule="cosine"),
        ... )
        >>> [strategy.negatives_in(e) for e in range(4)], strategy.epoch_length(0)
        ([10, 30, 50, 50], 15)
    """

    name = "curriculum_negatives"

    class Options(samplekit.Options):
        """Options of ``curriculum_negatives``."""

        start_ratio: float = Field(
            gt=0,
            le=1,
            allow_inf_nan=False,
            description="Share of the negatives kept in epoch 0, 0 < start_ratio <= 1.",
        )
        end_ratio: float = Field(
            gt=0,
            le=1,
            allow_inf_nan=False,
            description="Share kept from epoch epochs - 1 on, 0 < end_ratio <= 1.",
        )
        epochs: int = Field(
            ge=1,
            description="Length of the schedule in epochs: ratio reaches end_ratio in epoch "
            "epochs - 1 and stays there (with 1, end_ratio from epoch 0).",
        )
        schedule: Literal["linear", "cosine"] = Field(
            "linear", description="How the ratio moves from start to end: linear or cosine."
        )
        negative_label: int = Field(
            0, description="The label of the negatives; every other label is a positive."
        )

    options: CurriculumNegatives.Options

    @classmethod
    def example_labels(cls, options: CurriculumNegatives.Options) -> SearchStrategy[LabelArray]:
        """Labels `samplekit.testing.check_strategy` draws: negatives and at least one positive."""
        from samplekit.testing import labels

        return labels(required=[options.negative_label], min_classes=2)

    def __init__(self, labels: torch.Tensor, options: CurriculumNegatives.Options) -> None:
        super().__init__(labels, options)
        self.negatives = where(labels, options.negative_label)
        self.positives = where(labels, options.negative_label, equal=False)
        if self.negatives.numel() == 0:
            present = self.class_index.classes.tolist()[:10]
            msg = (
                f"curriculum_negatives: no sample has negative_label={options.negative_label} "
                f"(labels present: {present}); set negative_label to your negatives' label"
            )
            raise LabelsError(msg)
        if self.positives.numel() == 0:
            msg = (
                f"curriculum_negatives: every sample has negative_label="
                f"{options.negative_label}, so there are no positives to keep; use a strategy "
                f"such as class_weighted, or check the labels"
            )
            raise LabelsError(msg)

    def ratio(self, epoch: int) -> float:
        """The scheduled share of negatives for ``epoch`` (see the class docstring)."""
        opts = self.options
        if opts.epochs == 1 or epoch >= opts.epochs - 1:
            return opts.end_ratio
        if epoch <= 0:
            return opts.start_ratio
        t = epoch / (opts.epochs - 1)
        shape = t if opts.schedule == "linear" else (1 - math.cos(math.pi * t)) / 2
        return opts.start_ratio + (opts.end_ratio - opts.start_ratio) * shape

    def negatives_in(self, epoch: int) -> int:
        """``k(epoch)``: how many negatives epoch ``epoch`` holds."""
        n_neg = self.negatives.numel()
        return min(n_neg, max(1, round(n_neg * self.ratio(epoch))))

    def epoch_length(self, epoch: int) -> int:
        """Every positive plus ``k(epoch)`` negatives."""
        return self.positives.numel() + self.negatives_in(epoch)

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Every positive and ``k(epoch)`` distinct negatives, shuffled together."""
        gen, k = ctx.generator, self.negatives_in(ctx.epoch)
        picks = choice_without_replacement(self.negatives.numel(), k, gen, shuffled=False)
        # A uniform permutation of slots places the positives and the chosen negatives: the same
        # law as shuffling their concatenation.
        n_pos = self.positives.numel()
        slots = torch.randperm(n_pos + k, generator=gen, dtype=self.positives.dtype)
        epoch = torch.empty(n_pos + k, dtype=self.positives.dtype)
        epoch[slots[:n_pos]] = self.positives
        epoch[slots[n_pos:]] = self.negatives[picks]
        return epoch


@samplekit.hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``curriculum_negatives``."""
    register(CurriculumNegatives)
