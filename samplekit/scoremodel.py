"""Synthetic per-sample scores that stand in for training, for ``samplekit preview --scores``.

A feedback strategy plans each epoch from the scores the training loop reported (see
`samplekit.EpochBatchSampler.observe`). To preview one without a model, a `ScoreModel` answers
for training: asked for the scores of a batch, it gives one non-negative score per sample, as a
per-sample loss would be, and counts each sample as seen.

Every sample ``i`` has a *difficulty* ``d_i = -ln(1 - u_i)``, with ``u_i`` uniform in [0, 1)
drawn from ``samplekit.rng.generator(seed, "scores")``: exponentially distributed with mean 1,
so most samples are easy and a long tail is hard, independently of the labels. The score of
sample ``i`` when it is seen for the ``(c + 1)``-th time (``c`` sightings before, counting
repeats of a sample within one batch one after the other) is, by model (`MODELS`):

- ``decaying``: ``d_i * DECAY ** c`` (``DECAY = 0.8``): every sighting is learned from, so the
  samples seen often become well-learned while those left out keep their last score;
- ``constant``: ``d_i``: nothing is learned, the hard samples stay hard.

The scores depend only on the seed, the number of samples and which samples were seen how
often, never on the labels or on the strategy.

Examples:
    >>> import torch
    >>> from samplekit.scoremodel import ScoreModel
    >>> model = ScoreModel(4, seed=0)
    >>> first = model.scores(torch.tensor([0, 1, 2, 3]))
    >>> bool(torch.equal(first, model.difficulty))     # the first sighting: the difficulty
    True
    >>> again = model.scores([1, 1])                   # twice in one batch: decayed twice
    >>> torch.allclose(again, model.difficulty[1] * torch.tensor([0.8, 0.64]))
    True
    >>> model.seen.tolist()
    [1, 3, 1, 1]
"""

from __future__ import annotations

from typing import Any

import torch

from samplekit.errors import ConfigError
from samplekit.rng import generator

__all__ = ["DECAY", "DEFAULT_MODEL", "MODELS", "ScoreModel"]

DECAY = 0.8
"""The factor a ``decaying`` score is multiplied by each time its sample is seen."""

MODELS = {
    "decaying": f"d * {DECAY}**c: each sighting is learned from",
    "constant": "d: nothing is learned, hard samples stay hard",
}
"""The score models by name, with what the score of a sample of difficulty ``d`` seen ``c``
times before is."""

DEFAULT_MODEL = "decaying"
"""The model `samplekit preview` uses when ``--scores`` is not given."""


class ScoreModel:
    """One score per sample, as a synthetic training run would report it (see the module).

    Args:
        num_samples: how many samples there are, at least 1.
        seed: seeds the difficulties (``samplekit.rng.generator(seed, "scores")``).
        model: ``"decaying"`` or ``"constant"`` (`MODELS`).

    Attributes:
        model: the model's name.
        difficulty: float32, one per sample: its score the first time it is seen.
        seen: int64, one per sample: how many times it was seen so far.

    Raises:
        ConfigError: for an unknown model or fewer than one sample.

    Examples:
        >>> ScoreModel(3, seed=0, model="constant").scores([2, 2]).tolist() == [
        ...     ScoreModel(3, seed=0).difficulty[2].item()] * 2
        True
        >>> ScoreModel(3, seed=0, model="learning")
        Traceback (most recent call last):
        ...
        samplekit.errors.ConfigError: unknown score model 'learning'; choose one of ...
    """

    def __init__(self, num_samples: int, *, seed: int, model: str = DEFAULT_MODEL) -> None:
        if model not in MODELS:
            choices = ", ".join(repr(name) for name in MODELS)
            msg = f"unknown score model {model!r}; choose one of {choices}"
            raise ConfigError(msg)
        if num_samples < 1:
            msg = f"a score model needs at least 1 sample, but got num_samples={num_samples}"
            raise ConfigError(msg)
        self.model = model
        uniform = torch.rand(num_samples, generator=generator(seed, "scores"), dtype=torch.float64)
        self.difficulty = (-torch.log1p(-uniform)).to(torch.float32)
        self.seen = torch.zeros(num_samples, dtype=torch.int64)

    def scores(self, indices: Any) -> torch.Tensor:
        """The scores of the samples ``indices`` (float32, one each); counts them as seen.

        A sample that occurs several times in ``indices`` is seen once per occurrence, in
        order: its later occurrences get the later, more decayed scores.
        """
        index = torch.as_tensor(indices, dtype=torch.int64).flatten()
        if index.numel() == 0:
            return torch.empty(0, dtype=torch.float32)
        # c of each occurrence: sightings before this call plus earlier occurrences in it.
        order = torch.sort(index, stable=True).indices
        ordered = index[order]
        starts = torch.ones_like(ordered, dtype=torch.bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        position = torch.arange(ordered.numel())
        first = torch.cummax(torch.where(starts, position, 0), 0).values
        earlier = torch.empty_like(index)
        earlier[order] = position - first
        count = self.seen[index] + earlier
        self.seen += torch.bincount(index, minlength=self.seen.numel())
        if self.model == "constant":
            return self.difficulty[index].clone()
        decay = torch.pow(torch.tensor(DECAY, dtype=torch.float64), count.to(torch.float64))
        return (self.difficulty[index].to(torch.float64) * decay).to(torch.float32)
