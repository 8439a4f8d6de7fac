"""``shuffle``: every sample once per epoch, in a fresh random order; needs no labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

import samplekit
from samplekit.hookspecs import Register, hookimpl
from samplekit.rng import index_dtype

if TYPE_CHECKING:
    from samplekit.strategy import EpochContext

__all__ = ["Shuffle"]


class Shuffle(samplekit.Strategy):
    """Every sample once per epoch, in a fresh random order (labels are not needed).

    What ``DataLoader(shuffle=True)`` draws, as a strategy: pair it with a batcher such as
    ``length_grouped`` or ``token_budget``, with per-sample ``lengths`` and no labels.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> sampler = EpochBatchSampler(None, "shuffle", lengths=[3, 1, 2, 5, 4], batch_size=2)
        >>> sorted(i for batch in sampler for i in batch)
        [0, 1, 2, 3, 4]
    """

    name = "shuffle"
    needs_labels: ClassVar[bool] = False

    def epoch_length(self, epoch: int) -> int:
        """Every sample: ``len(labels)``."""
        return int(self.labels.numel())

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """A random permutation of every sample index."""
        n = int(self.labels.numel())
        return torch.randperm(n, generator=ctx.generator, dtype=index_dtype(n))


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``shuffle``."""
    register(Shuffle)
