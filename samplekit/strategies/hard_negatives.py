"""``hard_negatives``: every positive each epoch, the hardest negatives and a random share."""

from __future__ import annotations

import torch
from pydantic import Field, model_validator

from samplekit.errors import ConfigError, LabelsError
from samplekit.feedback import as_view
from samplekit.hookspecs import Register, hookimpl
from samplekit.rng import choice_without_replacement
from samplekit.strategies.negative_subsampling import NegativeSubsampling
from samplekit.strategy import EpochContext, FeedbackStrategy, FeedbackView, Strategy

__all__ = ["HardNegatives"]


class HardNegatives(FeedbackStrategy, NegativeSubsampling):
    """Keep every positive each epoch, the highest-scored negatives and a random share of the rest.

    Options and epoch sizes are ``negative_subsampling``'s: samples labelled ``negative_label``
    are negatives, every other sample is a positive and is in every epoch once, and each epoch
    holds ``k`` negatives (from ``neg_ratio`` or ``neg_per_pos``). Of those ``k``,
    ``round(hard_fraction * k)`` (Python's ``round``, halves to even) are the *hard* negatives:
    the observed negatives of highest score (say the loss), ties going to the lower index. A
    negative never observed is never chosen as hard; when fewer negatives were observed, all of
    them are hard. The rest of the ``k`` are drawn uniformly without replacement from the other
    negatives, and the epoch is shuffled. ``cycle=True`` is refused: the hard negatives change
    with the feedback, so no fixed cycle can cover the others.

    Examples:
        >>> import torch
        >>> from samplekit.rng import generator
        >>> from samplekit.strategy import EpochContext, FeedbackView
        >>> labels = torch.tensor([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        >>> options = HardNegatives.Options(neg_ratio=0.5, hard_fraction=0.5)
        >>> strategy = HardNegatives(labels, options)  # k = 4 of 8 negatives, 2 of them hard
        >>> scores = torch.tensor([9.0, 0.1, 5.0, 0.3, 7.0, 0.2, 0.4, 0.5, 0.6, 9.0])
        >>> view = FeedbackView(scores, torch.zeros(10, dtype=torch.int64))
        >>> strategy.hard_negatives(view).tolist()
        [4, 2]
        >>> ctx = EpochContext(epoch=0, seed=0, batch_size=2, generator=generator(0, 0),
        ...                    feedback=view)
        >>> epoch = strategy.sample(ctx).tolist()
        >>> len(epoch), {0, 9, 4, 2} <= set(epoch)
        (6, True)
    """

    name = "hard_negatives"

    class Options(NegativeSubsampling.Options):
        """Options of ``hard_negatives``: ``negative_subsampling``'s and ``hard_fraction``."""

        hard_fraction: float = Field(
            0.5,
            ge=0,
            le=1,
            allow_inf_nan=False,
            description="Share of each epoch's negatives that are the highest-scored observed "
            "ones, 0 <= hard_fraction <= 1; the rest are drawn at random.",
        )

        @model_validator(mode="after")
        def _no_cycle(self) -> HardNegatives.Options:
            if self.cycle:
                msg = (
                    "cycle=True is not supported by hard_negatives: the hard negatives change "
                    "with the feedback each epoch, so no fixed cycle covers the others; leave "
                    "cycle=False"
                )
                raise ValueError(msg)
            return self

    options: HardNegatives.Options
    #: The hard negatives depend on every observed score: the epoch is built whole.
    random_access: bool = False
    sample_at = Strategy.sample_at  # not negative_subsampling's: this epoch is another

    def __init__(self, labels: torch.Tensor, options: HardNegatives.Options) -> None:
        try:
            super().__init__(labels, options)
        except (LabelsError, ConfigError) as exc:  # said in negative_subsampling's name
            prefix = f"{NegativeSubsampling.name}:"
            text = str(exc)
            if text.startswith(prefix):
                text = f"{self.name}:{text.removeprefix(prefix)}"
            raise type(exc)(text) from None
        #: N, the number of samples.
        self.size = int(labels.numel())
        #: How many of each epoch's ``k`` negatives are the hard ones (when that many are scored).
        self.hard = round(options.hard_fraction * self.k)

    def hard_negatives(self, feedback: FeedbackView | None) -> torch.Tensor:
        """The epoch's hard negatives: the highest-scored observed ones, by descending score.

        At most ``round(hard_fraction * k)`` of them, ties in score going to the lower index.
        """
        scores = as_view(feedback, self.size).scores[self.negatives]
        observed = torch.nonzero(~torch.isnan(scores)).flatten()
        # A stable sort keeps ascending index order among equal scores.
        order = torch.sort(scores[observed], descending=True, stable=True).indices
        return self.negatives[observed[order[: self.hard]]]

    def epoch_length(self, epoch: int, feedback: FeedbackView | None = None) -> int:
        """Positives plus the ``k`` negatives kept, whatever the feedback."""
        return self.positives.numel() + self.k

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Every positive, the hard negatives and a random draw of the others, shuffled."""
        gen = ctx.generator
        hard = self.hard_negatives(ctx.feedback)
        others = torch.ones(self.size, dtype=torch.bool)
        others[hard.long()] = False
        rest = self.negatives[others[self.negatives.long()]]
        picks = choice_without_replacement(rest.numel(), self.k - hard.numel(), gen, shuffled=False)
        chosen = torch.cat((hard, rest[picks.long()]))
        n_pos = self.positives.numel()
        slots = torch.randperm(n_pos + self.k, generator=gen, dtype=self.positives.dtype)
        epoch = torch.empty(n_pos + self.k, dtype=self.positives.dtype)
        epoch[slots[:n_pos]] = self.positives
        epoch[slots[n_pos:]] = chosen
        return epoch


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``hard_negatives``."""
    register(HardNegatives)
