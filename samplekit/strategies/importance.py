"""``importance``: draw samples with probability growing with their score, weights unbiased."""

from __future__ import annotations

import math

import torch
from pydantic import Field

import samplekit
from samplekit.config import MAX_EPOCH_SAMPLES
from samplekit.errors import ConfigError
from samplekit.feedback import as_view
from samplekit.hookspecs import Register, hookimpl
from samplekit.rng import index_dtype
from samplekit.strategy import EpochContext, FeedbackStrategy, FeedbackView

__all__ = ["Importance"]

# Draws made per step of the inverse-CDF sampling: bounds its float64 temporaries.
_CHUNK = 1 << 20


class Importance(FeedbackStrategy):
    """Draw samples with replacement, sample ``i`` with probability ``p_i`` growing with its score.

    ``p_i = (1 - uniform) * q_i + uniform / N`` with ``q_i`` proportional to ``(score_i +
    smoothing) ** alpha``: scores are the feedback's, say per-sample losses, so hard samples
    come up more often. A sample never observed counts with the highest observed score (it may
    be hard); before any observation ``p`` is uniform, and so is ``q`` when every ``score +
    smoothing`` is 0. Scores must be >= 0: a negative one is refused when the epoch is planned.

    `loss_weights` are ``1 / (N * p_i)``, so the weighted mean loss of an epoch estimates the
    mean loss over the whole dataset without bias (each weight's expectation over a draw is 1).
    That needs every ``p_i > 0``, which ``uniform > 0`` (required) guarantees: every weight is
    at most ``1 / uniform``, finite.

    Draws use the inverse of the float64 cumulative distribution (no 2**24 limit on N, unlike
    ``torch.multinomial``), in chunks of bounded memory.

    Examples:
        >>> import torch
        >>> from samplekit.rng import generator
        >>> from samplekit.strategy import EpochContext, FeedbackView
        >>> strategy = Importance(torch.zeros(4, dtype=torch.int64),
        ...                       Importance.Options(num_samples=1000, uniform=0.2))
        >>> view = FeedbackView(torch.tensor([0.0, 2.0, 3.0, float("nan")]),
        ...                     torch.tensor([0, 0, 0, -1]))
        >>> [round(p, 6) for p in strategy.probabilities(view).tolist()]  # unobserved: 3.0
        [0.05, 0.25, 0.35, 0.35]
        >>> ctx = EpochContext(epoch=0, seed=0, batch_size=10, generator=generator(0, 0),
        ...                    feedback=view)
        >>> counts = torch.bincount(strategy.sample(ctx), minlength=4) / 1000
        >>> bool((counts - torch.tensor([0.05, 0.25, 0.35, 0.35])).abs().max() < 0.05)
        True
        >>> [round(w, 4) for w in strategy.loss_weights(0, view).tolist()]
        [5.0, 1.0, 0.7143, 0.7143]
    """

    name = "importance"

    class Options(samplekit.Options):
        """Options of ``importance``."""

        num_samples: int | None = Field(
            None,
            ge=1,
            le=MAX_EPOCH_SAMPLES,
            description="Samples drawn per epoch, at most 2**31 - 1; default: the number of "
            "labels.",
        )
        alpha: float = Field(
            1.0,
            ge=0,
            allow_inf_nan=False,
            description="Exponent of the scores, >= 0: 0 draws uniformly, larger values favour "
            "high scores more.",
        )
        smoothing: float = Field(
            0.0,
            ge=0,
            allow_inf_nan=False,
            description="Added to every score before the exponent, >= 0, so a score of 0 keeps "
            "some weight; uniform mixing already keeps every sample drawable.",
        )
        uniform: float = Field(
            0.1,
            gt=0,
            le=1,
            allow_inf_nan=False,
            description="Share of the uniform distribution mixed in, 0 < uniform <= 1: keeps "
            "every probability >= uniform / N and every loss weight <= 1 / uniform.",
        )

    options: Importance.Options

    def __init__(self, labels: torch.Tensor, options: Importance.Options) -> None:
        super().__init__(labels, options)
        #: N, the number of samples.
        self.size = int(labels.numel())
        #: Draws per epoch: the ``num_samples`` option, or N.
        self.num_samples = options.num_samples or self.size

    def probabilities(self, feedback: FeedbackView | None) -> torch.Tensor:
        """``p``, float64, one per sample, summing to 1, as the class docstring defines it.

        Raises:
            ConfigError: if an observed score is negative.
        """
        n, options = self.size, self.options
        scores = as_view(feedback, n).scores.to(torch.float64)
        scored = ~torch.isnan(scores)
        uniform = torch.full((n,), 1 / n, dtype=torch.float64)
        if not bool(scored.any()):
            return uniform
        negative = scores < 0
        if bool(negative.any()):
            i = int(torch.nonzero(negative)[0])
            msg = (
                f"importance: sample {i} has the score {float(scores[i])}, but importance "
                f"sampling needs scores >= 0 (such as per-sample losses); observe losses, or "
                f"shift the scores to be non-negative"
            )
            raise ConfigError(msg)
        filled = torch.where(scored, scores, scores[scored].max())
        log_base = torch.log(filled + options.smoothing)  # -inf for a base of 0
        top = float(log_base.max())
        if options.alpha == 0 or top == -math.inf:  # x ** 0 == 1, or every base is 0
            q = uniform
        else:
            # (x / max) ** alpha in log space: no overflow for any alpha, exactly 1 at the max.
            q = torch.exp((log_base - top) * options.alpha)
            q /= q.sum()
        return q * (1 - options.uniform) + options.uniform / n

    def epoch_length(self, epoch: int, feedback: FeedbackView | None = None) -> int:
        """``num_samples`` (default N), whatever the feedback."""
        return self.num_samples

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """``num_samples`` independent draws from `probabilities`."""
        cumulative = torch.cumsum(self.probabilities(ctx.feedback), 0)
        # Dividing by the total makes the last value exactly 1.0, and a sample of p = 0 repeats
        # its predecessor's value, so searchsorted of a draw in [0, 1) never lands on it.
        cumulative /= cumulative[-1].clone()
        out = torch.empty(self.num_samples, dtype=index_dtype(self.size))
        for start in range(0, self.num_samples, _CHUNK):
            size = min(_CHUNK, self.num_samples - start)
            drawn = torch.rand(size, generator=ctx.generator, dtype=torch.float64)
            picked = torch.searchsorted(cumulative, drawn, right=True)
            out[start : start + size] = picked.clamp_(max=self.size - 1)
        return out

    def loss_weights(self, epoch: int, feedback: FeedbackView | None) -> torch.Tensor:
        """float32, one per sample: ``1 / (N * p_i)`` (0 where ``p_i = 0``)."""
        p = self.probabilities(feedback)
        weights = torch.where(p > 0, 1 / (p * self.size), 0.0)
        return weights.to(torch.float32)


@hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``importance``."""
    register(Importance)
