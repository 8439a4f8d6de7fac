"""``shuffle``: every sample once per epoch, in a fresh random order; needs no labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import samplekit
from samplekit.hookspecs import Register, hookimpl
from samplekit.permutation import Permutation

if TYPE_CHECKING:
    import torch

    from samplekit.strategy import EpochContext

__all__ = ["Shuffle"]


class Shuffle(samplekit.RandomAccessStrategy):
    """Every sample once per epoch, in a fresh random order (labels are not needed).

    What ``DataLoader(shuffle=True)`` draws, as a strategy: pair it with a batcher such as
    ``length_grouped`` or ``token_budget``, with per-sample ``lengths`` and no labels. The
    order is a random-access permutation (`samplekit.permutation.Permutation`) keyed by
    ``(seed, epoch)``, so a rank reads its own batches without shuffling the whole dataset.

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

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        """The sample indices at ``positions`` of the epoch's permutation of every sample."""
        return Permutation(int(self.labels.numel()), ctx.key(self.name))(positions)


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``shuffle``."""
    register(Shuffle)
