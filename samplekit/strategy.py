"""The strategy contract: `Strategy`, its `Options` model and `EpochContext`.

A strategy decides which sample indices one epoch holds and in which order. The sampler cuts that
order into batches, so a strategy that wants a property per batch (say, stratified batches)
arranges its order with ``ctx.batch_size`` in mind.

Examples:
    >>> import torch
    >>> from pydantic import Field
    >>> import samplekit
    >>> class EveryOther(samplekit.Strategy):
    ...     '''Every second sample, shuffled each epoch.'''
    ...     name = "every_other"
    ...     class Options(samplekit.Options):
    ...         offset: int = Field(0, ge=0, le=1, description="0 for even, 1 for odd indices.")
    ...     def __init__(self, labels, options):
    ...         super().__init__(labels, options)
    ...         self.kept = torch.arange(options.offset, len(labels), 2)
    ...     def epoch_length(self, epoch):
    ...         return len(self.kept)
    ...     def sample(self, ctx):
    ...         return self.kept[torch.randperm(len(self.kept), generator=ctx.generator)]
    >>> sampler = samplekit.EpochBatchSampler([0] * 10, EveryOther, batch_size=2, offset=1)
    >>> sorted(i for batch in sampler for i in batch)
    [1, 3, 5, 7, 9]
"""

from __future__ import annotations

import abc
import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic

from samplekit.inputs import INT64_MAX, INT64_MIN, plain_input
from samplekit.labels import ClassIndex

if TYPE_CHECKING:
    import torch
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "EpochContext",
    "FeedbackStrategy",
    "FeedbackView",
    "Options",
    "RandomAccessStrategy",
    "Strategy",
]


class Options(pydantic.BaseModel):
    """Base of every strategy's options model: strict types, unknown keys refused, frozen.

    Subclass it as a nested ``Options`` class inside a strategy; give each field a
    ``description`` (it feeds ``samplekit strategies`` and the docs), with the limits of
    numeric fields.

    Validation is strict, in the Python API as in JSON or YAML configs, as PyTorch's samplers
    are: a bool is not an int, a string is not a number or a bool, and a float is not an int
    (``2.0`` is refused where an int is expected); an int is fine for a float field. numpy
    scalars (``np.int64(3)``, ``np.float32(0.5)``, ``np.bool_(True)``) count as the Python
    scalars they hold. Every integer must fit in int64, values nest at most
    `samplekit.inputs.MAX_DEPTH` levels, and a ``dict[int, ...]`` field also takes integers
    written as strings as keys (``{"3": 0.5}``), since JSON writes every key as a string. A
    ``tuple`` field is strict too, so it refuses the list a JSON config holds: type it as a
    ``list``, or give it ``Field(strict=False)``.

    Examples:
        >>> import numpy as np
        >>> from pydantic import Field, ValidationError
        >>> import samplekit
        >>> class Opts(samplekit.Options):
        ...     k: int = Field(1, ge=1)
        ...     share: float = 0.5
        >>> Opts(k=np.int64(3), share=1)
        Opts(k=3, share=1.0)
        >>> try:
        ...     Opts(k=2.0)
        ... except ValidationError as exc:
        ...     print(exc.errors()[0]["type"])
        int_type
    """

    model_config = pydantic.ConfigDict(
        extra="forbid", frozen=True, validate_default=True, strict=True
    )

    @pydantic.model_validator(mode="before")
    @classmethod
    def _samplekit_plain_input(cls, data: Any) -> Any:
        return plain_input(cls, data, integers=(INT64_MIN, INT64_MAX))


@dataclasses.dataclass(frozen=True)
class FeedbackView:
    """What training reported back so far, as a feedback strategy reads it (never write to it).

    Attributes:
        scores: float32, one per sample: the latest score observed for it (say its loss), NaN
            where the sample was never observed.
        observed: int64, one per sample: the epoch of that latest observation, -1 where never.
    """

    scores: torch.Tensor
    observed: torch.Tensor

    @classmethod
    def empty(cls, num_samples: int) -> FeedbackView:
        """The view before any observation: every score NaN, every ``observed`` -1."""
        import torch

        return cls(
            torch.full((num_samples,), float("nan"), dtype=torch.float32),
            torch.full((num_samples,), -1, dtype=torch.int64),
        )


@dataclasses.dataclass(frozen=True)
class EpochContext:
    """What a strategy gets to build one epoch.

    Attributes:
        epoch: the epoch being built (0-based).
        seed: the sampler's seed.
        batch_size: the sampler's batch size, for strategies that shape each batch.
        generator: the only source of randomness allowed, seeded from ``(seed, epoch)``.
        feedback: for a `FeedbackStrategy`, every observation made before this epoch began;
            ``None`` for other strategies.
    """

    epoch: int
    seed: int
    batch_size: int
    generator: torch.Generator
    feedback: FeedbackView | None = None

    def key(self, *parts: int | str) -> int:
        """A 64-bit key for a random stream of this epoch: ``derive_seed(seed, epoch, *parts)``.

        What `Strategy.sample_at` keys its random-access permutations with (see
        `samplekit.permutation`), as the generator is consumed by each use.

        Examples:
            >>> import torch
            >>> from samplekit.strategy import EpochContext
            >>> ctx = EpochContext(epoch=1, seed=0, batch_size=4, generator=torch.Generator())
            >>> ctx.key("shuffle") == ctx.key("shuffle") != ctx.key("negatives")
            True
        """
        from samplekit.rng import derive_seed

        return derive_seed(self.seed, self.epoch, *parts)


class Strategy(abc.ABC):
    """Base class of every strategy, built-in or from a plugin.

    Subclasses set ``name`` (a Python identifier, unique across installed plugins), may define a
    nested ``Options`` model (a `samplekit.Options` subclass; the default takes no
    options), precompute what they need in ``__init__`` and implement `epoch_length` and
    `sample`. The first line of the class docstring is the one-line summary users see.

    Raise `samplekit.errors.LabelsError` from ``__init__`` when the labels cannot meet the
    strategy's needs (for example no sample of a required class): the sampler turns it into an
    error at construction, before any epoch runs.

    A strategy that refuses many labels or batch sizes declares the inputs it serves with the
    classmethods `example_labels` and `example_batch_sizes`; `samplekit.testing.check_strategy`
    draws from them by default, so ``check_strategy(MyStrategy, **required_options)`` works
    without ``labels=``. For example, a strategy that needs its ``negative_label`` and at least
    one other class::

        @classmethod
        def example_labels(cls, options):
            from samplekit.testing import labels

            return labels(required=[options.negative_label], min_classes=2)

    Attributes:
        labels: the 1-D integer label tensor (the sampler validates and compacts it).
        options: the validated options instance.
    """

    name: ClassVar[str]
    Options: ClassVar[type[Options]] = Options
    uses_feedback: ClassVar[bool] = False
    needs_labels: ClassVar[bool] = True
    #: Whether `sample_at` gives random access to the epoch (set it per instance when it
    #: depends on the options); `RandomAccessStrategy` sets it.
    random_access: bool = False

    def __init__(self, labels: torch.Tensor, options: Any) -> None:
        self.labels = labels
        self.options = options

    @cached_property
    def class_index(self) -> ClassIndex:
        """Per-class counts and indices of `labels`, computed on first use and kept."""
        return ClassIndex(self.labels)

    def check_batch_size(self, batch_size: int) -> None:  # noqa: B027 - optional, no-op default
        """Refuse a batch size this strategy cannot serve; the sampler calls it at construction.

        The default accepts any. Override it to raise `samplekit.errors.ConfigError`
        (naming ``batch_size`` and what to do) when, for example, batches must hold whole groups.
        """

    @abc.abstractmethod
    def epoch_length(self, epoch: int) -> int:
        """How many indices `sample` returns for ``epoch``, computed without sampling."""

    @abc.abstractmethod
    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """The indices of epoch ``ctx.epoch`` in batch order, as a 1-D integer tensor.

        Must draw randomness only from ``ctx.generator`` (or from generators derived from
        ``ctx.seed`` with `samplekit.rng.generator`, for state that spans epochs) and
        return exactly ``epoch_length(ctx.epoch)`` indices in ``[0, len(labels))``. The result
        must depend only on ``ctx`` and what ``__init__`` computed: with ``prefetch=True`` the
        sampler calls ``sample`` in a background thread, an epoch ahead of the training loop.
        """

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        """Optional random access: ``sample(ctx)[positions]``, without building the epoch.

        A strategy with ``random_access = True`` implements it, and the sampler then computes
        only the positions of the batches a rank yields (O(its batches) per epoch, and a resume
        starts at its batch without replaying the epoch). It must return exactly what
        ``sample(ctx)[positions]`` would, for any ``positions`` (a 1-D int64 tensor of
        positions in ``[0, epoch_length)``, in any order, with repeats), and so must not draw
        from ``ctx.generator``: derive keys from ``ctx.key(...)`` instead (say, for a
        `samplekit.permutation.Permutation`). `samplekit.testing.check_strategy` checks both.
        Subclass `RandomAccessStrategy` to get `sample` from it.

        Raises:
            NotImplementedError: for a strategy without random access (the default).
        """
        msg = f"strategy {self.name!r} has no random access (random_access is False)"
        raise NotImplementedError(msg)

    @classmethod
    def example_labels(cls, options: Any) -> SearchStrategy[Any] | None:
        """The labels `samplekit.testing.check_strategy` draws by default for ``options``.

        Called with each example's validated options; return a hypothesis strategy of label
        arrays this strategy accepts with them, usually built with `samplekit.testing.labels`
        (``required=``, ``values=``, ``min_classes=``, ``min_per_class=``). Import hypothesis
        and `samplekit.testing` inside the method: ``samplekit`` never imports them itself.
        The default, ``None``, lets the kit draw ``samplekit.testing.labels()``.
        """
        return None

    @classmethod
    def example_batch_sizes(cls, options: Any) -> SearchStrategy[int] | None:
        """The batch sizes `samplekit.testing.check_strategy` draws by default for ``options``.

        Override it when `check_batch_size` refuses many sizes (say, sizes that are not a
        multiple of an option). The default, ``None``, lets the kit draw
        ``samplekit.testing.batch_sizes()``.
        """
        return None

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring, or an empty string."""
        doc = cls.__doc__ or ""
        return doc.strip().splitlines()[0].strip() if doc.strip() else ""


class RandomAccessStrategy(Strategy):
    """Base class of strategies defined by `sample_at`; `sample` reads every position.

    Implement `epoch_length` and `sample_at`; the sampler then plans each rank's share of an
    epoch without building the rest (with a batcher that cuts by position, such as the
    default ``fixed``), and `sample` is every position in order, read a block at a time.

    Examples:
        >>> import samplekit
        >>> from samplekit.permutation import Permutation
        >>> class Shuffled(samplekit.RandomAccessStrategy):
        ...     '''Every sample once, in the order of a keyed permutation.'''
        ...     name = "shuffled"
        ...     def epoch_length(self, epoch):
        ...         return len(self.labels)
        ...     def sample_at(self, ctx, positions):
        ...         return Permutation(len(self.labels), ctx.key(self.name))(positions)
        >>> sampler = samplekit.EpochBatchSampler([0] * 6, Shuffled, batch_size=4)
        >>> sorted(i for batch in sampler for i in batch)
        [0, 1, 2, 3, 4, 5]
    """

    random_access: bool = True

    @abc.abstractmethod
    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        """The indices at ``positions`` of epoch ``ctx.epoch`` (see `Strategy.sample_at`)."""

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Every position of the epoch, through `sample_at`, a block at a time."""
        import torch

        from samplekit.rng import index_dtype

        length = self.epoch_length(ctx.epoch)
        out = torch.empty(length, dtype=index_dtype(int(self.labels.numel())))
        for start in range(0, length, _BLOCK):
            stop = min(length, start + _BLOCK)
            out[start:stop] = self.sample_at(ctx, torch.arange(start, stop))
        return out


# Positions `RandomAccessStrategy.sample` reads per call of `sample_at`.
_BLOCK = 1 << 20


class FeedbackStrategy(Strategy):
    """Base class of strategies that decide each epoch from what training reported back.

    The training loop reports one score per sample with ``sampler.observe(indices, scores)``;
    before an epoch is planned, the sampler hands every observation made so far to the strategy
    as a `FeedbackView` (``ctx.feedback`` in `sample`, the ``feedback`` argument of
    `epoch_length` and `loss_weights`). Epoch ``e`` is then a pure function of (labels, options,
    seed, ``e``, the feedback at the start of ``e``).

    Subclasses implement `epoch_length` with the feedback argument and may override
    `loss_weights` to reweight the samples they keep, so that the weighted loss stays unbiased.
    """

    uses_feedback: ClassVar[bool] = True

    @abc.abstractmethod
    def epoch_length(self, epoch: int, feedback: FeedbackView | None = None) -> int:
        """How many indices `sample` returns for ``epoch`` given ``feedback`` (``None``: none)."""

    def loss_weights(self, epoch: int, feedback: FeedbackView) -> torch.Tensor | None:
        """Per-sample loss multipliers for ``epoch`` (float32, one per sample); ``None``: all 1.

        Computed from ``feedback`` alone (no randomness), so they can be recomputed at any time.
        """
        return None
