"""``undersample``: the same number of samples from every class, drawn afresh each epoch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from pydantic import Field

import samplekit
from samplekit import LabelsError

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit import EpochContext
    from samplekit.hookspecs import Register
    from samplekit.testing import LabelArray


class Undersample(samplekit.Strategy):
    """Each epoch, ``per_class`` samples of every class, without replacement, shuffled.

    ``per_class`` defaults to the size of the smallest class, so every epoch is balanced.
    """

    name = "undersample"

    class Options(samplekit.Options):
        """Options of ``undersample``."""

        per_class: int | None = Field(
            None,
            ge=1,
            description="Samples of each class per epoch; default: the smallest class's size.",
        )

    options: Undersample.Options

    # What check_strategy draws by default: classes of at least per_class samples.
    @classmethod
    def example_labels(cls, options: Undersample.Options) -> SearchStrategy[LabelArray]:
        """Labels `samplekit.testing.check_strategy` draws: per_class samples in every class."""
        from samplekit.testing import labels

        return labels(min_per_class=options.per_class or 1)

    def __init__(self, labels: torch.Tensor, options: Undersample.Options) -> None:
        super().__init__(labels, options)
        smallest = int(self.class_index.counts.min())
        self.per_class = options.per_class or smallest
        if self.per_class > smallest:
            msg = (
                f"undersample: per_class={self.per_class} exceeds the smallest class "
                f"({smallest} samples); use per_class <= {smallest}"
            )
            raise LabelsError(msg)

    def epoch_length(self, epoch: int) -> int:
        """``per_class`` times the number of classes, in every epoch."""
        return self.per_class * len(self.class_index)

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """A fresh ``per_class`` of every class, shuffled together."""
        gen = ctx.generator  # the ONLY source of randomness
        parts = [
            part[torch.randperm(part.numel(), generator=gen)[: self.per_class]]
            for part in self.class_index.split()  # one loop per class: fine for few classes
        ]
        epoch = torch.cat(parts)
        return epoch[torch.randperm(epoch.numel(), generator=gen)]


# The hook: the plugin manager calls it once, when the plugin is registered.
@samplekit.hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``undersample``."""
    register(Undersample)
