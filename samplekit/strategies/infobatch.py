"""``infobatch``: prune a random share of the well-learned samples each epoch, and reweight."""

from __future__ import annotations

import torch
from pydantic import Field

import samplekit
from samplekit.feedback import as_view
from samplekit.hookspecs import Register, hookimpl
from samplekit.rng import choice_without_replacement, index_dtype
from samplekit.strategy import EpochContext, FeedbackStrategy, FeedbackView

__all__ = ["InfoBatch"]


class InfoBatch(FeedbackStrategy):
    """Skip a random share of the well-learned samples each epoch (InfoBatch), reweighting the rest.

    After InfoBatch (Qin et al., ICLR 2024, arXiv:2303.04947). The feedback's scores are losses:
    a sample is *well-learned* in an epoch when it has an observed score strictly below the mean
    of the observed scores. Of the ``k`` well-learned samples, exactly ``round(prune_ratio * k)``
    (Python's ``round``: halves go to the even integer, ``round(2.5) == 2``), chosen uniformly at
    random, are left out of the epoch; every other sample, including those never observed, is in
    it once, in random order. So an epoch holds ``N - round(prune_ratio * k)`` samples, known
    before it is drawn.

    With ``rescale=True``, `loss_weights` gives the well-learned samples the weight
    ``1 / (1 - prune_ratio)`` (1 for the others): multiplying each sample's loss by its weight
    keeps the epoch's expected gradient that of full data (up to the rounding of the pruned
    count). The last ``round(anneal * epochs)`` epochs of the run (epoch ``e >= epochs -
    round(anneal * epochs)``), and any epoch after ``epochs``, train on full data with every
    weight 1.

    Unlike the reference implementation, the mean is over observed samples only (unobserved
    ones neither count nor get pruned), the pruned count is exact rather than a draw-rounded
    share, and weights go back to 1 when annealing starts.

    Examples:
        >>> import torch
        >>> from samplekit.rng import generator
        >>> from samplekit.strategy import EpochContext, FeedbackView
        >>> labels = torch.zeros(6, dtype=torch.int64)
        >>> strategy = InfoBatch(labels, InfoBatch.Options(epochs=10))
        >>> scores = torch.tensor([0.1, 0.2, 0.3, 2.0, 3.0, float("nan")])
        >>> view = FeedbackView(scores, torch.tensor([0, 0, 0, 0, 0, -1]))
        >>> strategy.epoch_length(0, view)  # 3 well-learned (below the mean 1.12): 2 pruned
        4
        >>> ctx = EpochContext(epoch=0, seed=0, batch_size=2, generator=generator(0, 0),
        ...                    feedback=view)
        >>> kept = strategy.sample(ctx)
        >>> len(kept), {3, 4, 5} <= set(kept.tolist())
        (4, True)
        >>> strategy.loss_weights(0, view).tolist()
        [2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
        >>> strategy.epoch_length(9, view)  # annealing: the last round(0.125 * 10) = 1 epoch
        6
    """

    name = "infobatch"

    class Options(samplekit.Options):
        """Options of ``infobatch``."""

        prune_ratio: float = Field(
            0.5,
            gt=0,
            lt=1,
            allow_inf_nan=False,
            description="Share of the well-learned samples left out of each epoch, "
            "0 < prune_ratio < 1.",
        )
        epochs: int = Field(
            ge=1,
            description="Total epochs of the training run, >= 1: annealing covers its last ones.",
        )
        anneal: float = Field(
            0.125,
            ge=0,
            le=1,
            allow_inf_nan=False,
            description="Share of the final epochs trained on full data with weights 1, "
            "0 <= anneal <= 1: the last round(anneal * epochs) epochs.",
        )
        rescale: bool = Field(
            True,
            description="Weigh the well-learned samples' losses by 1 / (1 - prune_ratio) "
            "(loss_weights), keeping the gradient's expectation.",
        )

    options: InfoBatch.Options

    def __init__(self, labels: torch.Tensor, options: InfoBatch.Options) -> None:
        super().__init__(labels, options)
        #: N, the number of samples.
        self.size = int(labels.numel())
        #: The first epoch trained on full data.
        self.anneal_start = options.epochs - round(options.anneal * options.epochs)

    def annealing(self, epoch: int) -> bool:
        """Whether ``epoch`` trains on full data, weights 1: the run's last epochs, or later."""
        return epoch >= self.anneal_start

    def well_learned(self, feedback: FeedbackView | None) -> torch.Tensor:
        """Mask of the samples whose observed score is strictly below the observed scores' mean."""
        scores = as_view(feedback, self.size).scores.to(torch.float64)
        scored = ~torch.isnan(scores)
        if not bool(scored.any()):
            return torch.zeros(self.size, dtype=torch.bool)
        return scores < scores[scored].mean()  # NaN compares False: never well-learned

    def pruned_count(self, well_learned: int) -> int:
        """How many of ``well_learned`` samples an epoch that prunes leaves out."""
        return round(self.options.prune_ratio * well_learned)

    def epoch_length(self, epoch: int, feedback: FeedbackView | None = None) -> int:
        """``N - round(prune_ratio * k)`` for ``k`` well-learned samples; ``N`` when annealing."""
        if self.annealing(epoch):
            return self.size
        return self.size - self.pruned_count(int(self.well_learned(feedback).sum()))

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Every sample but ``round(prune_ratio * k)`` random well-learned ones, shuffled."""
        gen, dtype = ctx.generator, index_dtype(self.size)
        if self.annealing(ctx.epoch):
            return torch.randperm(self.size, generator=gen, dtype=dtype)
        mask = self.well_learned(ctx.feedback)
        candidates = torch.nonzero(mask).flatten()
        pruned = self.pruned_count(candidates.numel())
        keep = torch.ones(self.size, dtype=torch.bool)
        picks = choice_without_replacement(candidates.numel(), pruned, gen, shuffled=False)
        keep[candidates[picks.long()]] = False
        kept = torch.nonzero(keep).flatten().to(dtype)
        return kept[torch.randperm(kept.numel(), generator=gen)]

    def loss_weights(self, epoch: int, feedback: FeedbackView | None) -> torch.Tensor:
        """float32, one per sample: ``1 / (1 - prune_ratio)`` for the well-learned, else 1.

        Every weight is 1 when annealing or with ``rescale=False``.
        """
        weights = torch.ones(self.size, dtype=torch.float32)
        if self.options.rescale and not self.annealing(epoch):
            weights[self.well_learned(feedback)] = 1 / (1 - self.options.prune_ratio)
        return weights


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``infobatch``."""
    register(InfoBatch)
