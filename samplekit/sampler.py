"""The :class:`EpochBatchSampler`: a batch sampler whose epochs come from a named strategy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import Sampler

from samplekit.config import SamplerConfig, StrategyConfig, validate_config
from samplekit.errors import ConfigError, StrategyOutputError
from samplekit.labels import as_label_tensor
from samplekit.rng import generator
from samplekit.strategy import EpochContext

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from typing_extensions import Self

    from samplekit.strategy import Strategy

__all__ = ["EpochBatchSampler"]


class EpochBatchSampler(Sampler[list[int]]):
    """Yields batches of sample indices; each epoch's selection comes from a strategy.

    Pass it to ``DataLoader(dataset, batch_sampler=sampler)``. Epoch ``e`` is a pure function of
    (labels, configuration, seed, e): randomness comes from a ``torch.Generator`` seeded from
    ``(seed, e)``, never from global RNG state.

    Args:
        labels: one integer class label per sample (list, numpy array, integer tensor), or a
            dataset exposing them as ``.targets`` or ``.labels``. Never iterated.
        strategy: a registered strategy name, a mapping ``{"name": ..., **options}``, a
            :class:`~samplekit.config.StrategyConfig`, or a :class:`~samplekit.Strategy` class.
        batch_size: samples per batch, at least 1.
        seed: seed of every epoch's generator.
        drop_last: drop the last batch of an epoch when it is smaller than ``batch_size``.
        **options: the strategy's options (see ``samplekit strategies``).

    Raises:
        ConfigError: for an invalid setting or option (the message names field and value).
        LabelsError: for unusable labels, or labels that the strategy cannot work with.
        UnknownStrategyError: for a strategy name no plugin registered.

    Example:
        >>> from samplekit import EpochBatchSampler
        >>> labels = [0] * 80 + [1] * 20
        >>> sampler = EpochBatchSampler(labels, "negative_subsampling", batch_size=10,
        ...                             neg_ratio=0.25)
        >>> len(sampler)
        4
        >>> batches = list(sampler)              # epoch 0; the next iteration is epoch 1
        >>> sum(len(b) for b in batches), sampler.epoch
        (40, 1)
        >>> sampler.set_epoch(0)
        >>> list(sampler) == batches
        True
    """

    def __init__(
        self,
        labels: Any,
        strategy: Any,
        *,
        batch_size: int,
        seed: int = 0,
        drop_last: bool = False,
        **options: Any,
    ) -> None:
        config = validate_config(
            {
                "strategy": StrategyConfig.resolve(strategy, options),
                "batch_size": batch_size,
                "seed": seed,
                "drop_last": drop_last,
            }
        )
        self._setup(config, labels)

    @classmethod
    def from_config(cls, config: SamplerConfig | Mapping[str, Any] | str, labels: Any) -> Self:
        """Build a sampler from a :class:`SamplerConfig`, a mapping or a JSON string.

        Example:
            >>> from samplekit import EpochBatchSampler
            >>> sampler = EpochBatchSampler.from_config(
            ...     {"strategy": {"name": "stratified"}, "batch_size": 4, "drop_last": True},
            ...     [0, 1] * 5)
            >>> len(sampler)
            2
        """
        sampler = cls.__new__(cls)
        sampler._setup(validate_config(config), labels)
        return sampler

    def _setup(self, config: SamplerConfig, labels: Any) -> None:
        self._config = config
        self._labels = as_label_tensor(labels)
        self._strategy: Strategy = config.strategy.strategy_class(
            self._labels, config.strategy.options
        )
        self._strategy.check_batch_size(config.batch_size)
        self._epoch = 0

    @property
    def config(self) -> SamplerConfig:
        """The validated configuration (``config.model_dump_json()`` rebuilds this sampler)."""
        return self._config

    @property
    def strategy(self) -> Strategy:
        """The strategy instance building the epochs."""
        return self._strategy

    @property
    def labels(self) -> torch.Tensor:
        """The validated 1-D integer label tensor."""
        return self._labels

    @property
    def batch_size(self) -> int:
        """Samples per batch."""
        return self._config.batch_size

    @property
    def drop_last(self) -> bool:
        """Whether the last, smaller batch of an epoch is dropped."""
        return self._config.drop_last

    @property
    def seed(self) -> int:
        """The seed every epoch's generator is derived from."""
        return self._config.seed

    @property
    def epoch(self) -> int:
        """The epoch the next (or the running) iteration uses."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch`` (for exact reproducibility).

        An iteration that runs to its end advances the epoch by one, so calling this is
        optional: without it every iteration still draws a fresh epoch.

        Raises:
            ConfigError: if ``epoch`` is not an integer >= 0.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            msg = f"epoch: expected an integer >= 0, but got epoch={epoch!r}"
            raise ConfigError(msg)
        self._epoch = epoch

    def num_batches(self, epoch: int) -> int:
        """How many batches epoch ``epoch`` yields, computed without sampling it."""
        n = self._strategy.epoch_length(epoch)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __len__(self) -> int:
        return self.num_batches(self._epoch)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """All indices of epoch ``epoch`` in batch order, checked against the strategy contract.

        This is the one place an epoch is computed; it does not change :attr:`epoch`.

        Raises:
            StrategyOutputError: if the strategy returned something other than
                ``epoch_length(epoch)`` integer indices in ``[0, len(labels))``.
        """
        ctx = EpochContext(
            epoch=epoch,
            seed=self.seed,
            batch_size=self.batch_size,
            generator=generator(self.seed, epoch),
        )
        indices = self._strategy.sample(ctx)
        self._check(indices, epoch)
        return indices

    def epoch_batches(self, epoch: int) -> Iterator[list[int]]:
        """The batches of epoch ``epoch`` as lists, without changing :attr:`epoch`."""
        indices: list[int] = self.epoch_indices(epoch).tolist()
        size = self.batch_size
        stop = len(indices) - len(indices) % size if self.drop_last else len(indices)
        for start in range(0, stop, size):
            yield indices[start : start + size]

    def __iter__(self) -> Iterator[list[int]]:
        epoch = self._epoch
        yield from self.epoch_batches(epoch)
        if self._epoch == epoch:  # unless set_epoch was called meanwhile
            self._epoch = epoch + 1

    def _check(self, indices: object, epoch: int) -> None:
        name = self._config.strategy.name
        n = self._labels.numel()
        problem = None
        if not isinstance(indices, torch.Tensor):
            problem = f"returned {type(indices).__name__}, not a torch.Tensor"
        elif indices.ndim != 1:
            problem = f"returned a tensor of shape {tuple(indices.shape)}, not 1-D"
        elif (
            indices.dtype.is_floating_point
            or indices.dtype.is_complex
            or (indices.dtype == torch.bool)
        ):
            problem = f"returned dtype {indices.dtype}, not an integer dtype"
        elif indices.numel() != (expected := self._strategy.epoch_length(epoch)):
            problem = f"returned {indices.numel()} indices but epoch_length() said {expected}"
        elif indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= n):
            problem = (
                f"returned indices from {int(indices.min())} to {int(indices.max())}, "
                f"outside [0, {n})"
            )
        if problem is not None:
            msg = f"strategy {name!r} broke its contract in epoch {epoch}: {problem}"
            raise StrategyOutputError(msg)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(strategy={self._config.strategy!r}, "
            f"batch_size={self.batch_size}, seed={self.seed}, drop_last={self.drop_last}, "
            f"num_samples={self._labels.numel()}, epoch={self._epoch})"
        )
