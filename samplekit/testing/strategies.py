"""Hypothesis strategies for the inputs of a sampler: labels, lengths, batch sizes, seeds, epochs.

`feedback_models` draws how a training loop reports per-sample scores to a feedback strategy.

Every function is keyword-only and returns a hypothesis ``SearchStrategy``; bad arguments raise
`samplekit.errors.ConfigError` at once, saying how to fix them. Defaults stay small (a few
thousand labels at most, mostly far fewer) so properties run fast.

Examples:
    >>> from hypothesis import given, settings
    >>> from samplekit.testing import labels
    >>> @settings(max_examples=5, database=None)
    ... @given(labels(values=[0, 1], min_classes=2))
    ... def test_both_classes(y):
    ...     assert sorted(set(int(v) for v in y)) == [0, 1]
    >>> test_both_classes()
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import torch

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - tested in a subprocess with hypothesis hidden
    from samplekit.testing import MISSING_HYPOTHESIS

    raise ImportError(MISSING_HYPOTHESIS) from exc

from samplekit.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    Observation = tuple[torch.Tensor, torch.Tensor]

    from samplekit.sampler import EpochBatchSampler
    from samplekit.strategy import Strategy

__all__ = [
    "DEFAULT_DTYPES",
    "SCORE_DISTRIBUTIONS",
    "FeedbackModel",
    "LabelArray",
    "SamplerInputs",
    "batch_sizes",
    "epochs",
    "feedback_models",
    "labels",
    "lengths",
    "sampler_inputs",
    "seeds",
]

LabelArray = Union[torch.Tensor, "np.ndarray[Any, Any]", list[int]]
"""What `labels` draws: a torch tensor, a numpy array or a Python list of ints."""

DEFAULT_DTYPES: tuple[Any, ...] = (
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    np.dtype(np.int32),
    np.dtype(np.int64),
    list,
)
"""The label containers `labels` draws from by default (``list`` means a Python list)."""

# Label sizes up to this are drawn about half of the time, whatever max_size is.
_SMALL = 64
_INT64 = (-(2**63), 2**63 - 1)


def _value_range(kind: Any) -> tuple[int, int]:
    if kind is list:
        return _INT64
    if isinstance(kind, torch.dtype):
        if kind.is_floating_point or kind.is_complex or kind == torch.bool:
            msg = f"labels: dtypes must be integer dtypes, but got {kind}"
            raise ConfigError(msg)
        info = torch.iinfo(kind)
        return int(info.min), int(info.max)
    try:
        dtype = np.dtype(kind)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "iu":
        msg = (
            f"labels: each of dtypes must be an integer torch dtype, an integer numpy dtype or "
            f"`list`, but got {kind!r}; e.g. dtypes=[torch.int64, np.int32, list]"
        )
        raise ConfigError(msg)
    npinfo = np.iinfo(dtype)
    return int(npinfo.min), min(int(npinfo.max), 2**63 - 1)  # labels are held as int64 at most


def _positive(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"labels: {name} must be an integer >= {minimum}, but got {name}={value!r}"
        raise ConfigError(msg)


def labels(
    *,
    min_size: int = 1,
    max_size: int = 2000,
    min_classes: int = 1,
    max_classes: int = 10,
    values: Sequence[int] | None = None,
    dtypes: Sequence[Any] | None = None,
    skewed: bool = True,
    min_per_class: int = 1,
    required: Sequence[int] = (),
) -> st.SearchStrategy[LabelArray]:
    r"""Label arrays: skewed class shares, arbitrary integer values, several containers.

    Each example picks a size, a number of classes, the class values (any integers the container
    holds, negative and large ones included, unless ``values`` fixes them; every ``required``
    value among them), each class's share
    (up to about 1000 times another's when ``skewed``), shuffles the samples and returns them as
    one of ``dtypes``. Small sizes are drawn about half of the time and shrink towards one class.

    Args:
        min_size: fewest labels, at least 1.
        max_size: most labels.
        min_classes: fewest distinct classes, at least 1.
        max_classes: most distinct classes.
        values: if given, the class values are drawn from these (all of them are present when
            ``min_classes == len(values)``), e.g. ``[0, 1]`` for a negative and a positive class.
        dtypes: containers to draw from: integer ``torch.dtype``\ s, integer numpy dtypes, or
            ``list`` for a Python list (default `DEFAULT_DTYPES`). Only those holding
            every value of ``values`` are used.
        skewed: draw very unequal class shares; ``False`` gives near-equal shares.
        min_per_class: fewest samples of each present class.
        required: class values present in every example (each with at least
            ``min_per_class`` samples), e.g. ``[0]`` for a strategy that needs its negatives;
            the other classes are drawn as usual. Raises ``min_classes`` to ``len(required)``.

    Returns:
        A ``SearchStrategy`` of torch tensors, numpy arrays and lists (`LabelArray`).

    Raises:
        ConfigError: for contradictory arguments, naming the fix.
    """
    for name, value in (
        ("min_size", min_size),
        ("max_size", max_size),
        ("min_classes", min_classes),
        ("max_classes", max_classes),
        ("min_per_class", min_per_class),
    ):
        _positive(name, value)
    needed = _required(required, values)
    if max_classes < len(needed):
        msg = (
            f"labels: required={needed!r} needs max_classes >= {len(needed)}, but got "
            f"max_classes={max_classes}; raise max_classes"
        )
        raise ConfigError(msg)
    min_classes = max(min_classes, len(needed))
    if max_size < min_size:
        msg = f"labels: max_size={max_size} is below min_size={min_size}; raise max_size"
        raise ConfigError(msg)
    if max_classes < min_classes:
        msg = (
            f"labels: max_classes={max_classes} is below min_classes={min_classes}; "
            f"raise max_classes"
        )
        raise ConfigError(msg)
    fixed: list[int] | None = None
    if values is not None:
        fixed = [int(v) for v in values]
        if len(set(fixed)) != len(fixed) or not fixed:
            msg = f"labels: values must be distinct integers, at least one, but got {values!r}"
            raise ConfigError(msg)
        if len(fixed) < min_classes:
            msg = (
                f"labels: min_classes={min_classes} needs at least that many values, but "
                f"values={fixed!r}; give more values or lower min_classes"
            )
            raise ConfigError(msg)
        max_classes = min(max_classes, len(fixed))
    if max_size < min_classes * min_per_class:
        msg = (
            f"labels: min_classes={min_classes} with min_per_class={min_per_class} needs "
            f"max_size >= {min_classes * min_per_class}, but got max_size={max_size}"
        )
        raise ConfigError(msg)
    kinds = list(DEFAULT_DTYPES if dtypes is None else dtypes)
    ranges = [(kind, _value_range(kind)) for kind in kinds]
    pinned = fixed if fixed is not None else needed
    if pinned:
        low, high = min(pinned), max(pinned)
        ranges = [(k, r) for k, r in ranges if r[0] <= low and high <= r[1]]
    if not ranges:
        msg = (
            f"labels: no dtype in {kinds!r} holds every value of {pinned!r}; add a wider dtype "
            f"such as torch.int64 or list"
        )
        raise ConfigError(msg)
    return _draw_labels(
        min_size=max(min_size, min_classes * min_per_class),
        max_size=max_size,
        min_classes=min_classes,
        max_classes=max_classes,
        values=fixed,
        ranges=ranges,
        skewed=skewed,
        min_per_class=min_per_class,
        required=needed,
    )


def _required(required: Sequence[int], values: Sequence[int] | None) -> list[int]:
    given: object = required  # checked at runtime: callers may pass anything
    if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
        msg = f"labels: required must be a sequence of integers, such as [0], but got {given!r}"
        raise ConfigError(msg)
    needed: list[int] = []
    for value in required:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            msg = f"labels: required must hold integers, but holds {value!r}"
            raise ConfigError(msg)
        if int(value) not in needed:
            needed.append(int(value))
    if values is not None:
        missing = [v for v in needed if v not in {int(x) for x in values}]
        if missing:
            msg = (
                f"labels: required values {missing} are not among values={list(values)!r}; "
                f"add them to values"
            )
            raise ConfigError(msg)
    return needed


@st.composite
def _draw_labels(
    draw: st.DrawFn,
    *,
    min_size: int,
    max_size: int,
    min_classes: int,
    max_classes: int,
    values: list[int] | None,
    ranges: list[tuple[Any, tuple[int, int]]],
    skewed: bool,
    min_per_class: int,
    required: list[int],
) -> LabelArray:
    small = min(max_size, max(min_size, _SMALL))
    n = draw(st.integers(min_size, small) | st.integers(min_size, max_size), label="size")
    k = draw(st.integers(min_classes, min(max_classes, n // min_per_class)), label="classes")
    kind, (low, high) = draw(st.sampled_from(ranges), label="dtype")
    rest_k = k - len(required)
    others: list[int] = []
    if rest_k and values is not None:
        pool = st.sampled_from([v for v in values if v not in required])
        others = draw(st.lists(pool, min_size=rest_k, max_size=rest_k, unique=True))
    elif rest_k:
        fresh = st.integers(low, high).filter(lambda v: v not in required)
        others = draw(st.lists(fresh, min_size=rest_k, max_size=rest_k, unique=True))
    chosen = required + others
    # Skewed shares differ up to 2**10 times.
    weights = [2 ** draw(st.integers(0, 10)) for _ in range(k)] if skewed else [1] * k
    rest = n - k * min_per_class
    counts = [min_per_class + rest * w // sum(weights) for w in weights]
    counts[0] += n - sum(counts)
    order_seed = draw(st.integers(0, 2**32 - 1), label="shuffle seed")
    values_t = torch.tensor(chosen, dtype=torch.int64)
    tensor = torch.repeat_interleave(values_t, torch.tensor(counts))
    tensor = tensor[torch.randperm(n, generator=torch.Generator().manual_seed(order_seed))]
    if kind is list:
        out: list[int] = tensor.tolist()
        return out
    if isinstance(kind, torch.dtype):
        return tensor.to(kind)
    return tensor.numpy().astype(kind)


def lengths(
    *, min_size: int = 1, max_size: int = 1000, min_value: int = 0, max_value: int = 100_000
) -> st.SearchStrategy[list[int]]:
    """Per-sample lengths (tokens, frames): non-negative ints, a long right tail, often ties.

    Each example draws a size (up to 64 about half of the time), a typical length (a power of
    two), a spread (lengths are lognormal around the typical one, with sigma up to 2: a right
    tail hundreds of times the typical length, and zeros when it is small) and, about half of
    the time, 1 to 4 levels that every length is snapped to (many ties); about half of the time
    up to a tenth of the samples (at least one) are set to ``min_value`` (empty sequences, with
    the default 0). Lengths are clipped to ``[min_value, max_value]``. Examples shrink towards
    one sample of length 1.

    Args:
        min_size: fewest samples, at least 1.
        max_size: most samples.
        min_value: the smallest length, at least 0.
        max_value: the largest length.

    Returns:
        A ``SearchStrategy`` of Python lists of ints, as ``EpochBatchSampler(lengths=...)``
        takes them.

    Raises:
        ConfigError: for bounds that are not integers or are out of order.

    Examples:
        >>> from hypothesis import given, settings
        >>> from samplekit.testing import lengths
        >>> @settings(max_examples=5, database=None)
        ... @given(lengths(max_size=50, max_value=300))
        ... def test_bounds(sizes):
        ...     assert 1 <= len(sizes) <= 50 and all(0 <= v <= 300 for v in sizes)
        >>> test_bounds()
    """
    for (low_name, low), (high_name, high), floor in (
        (("min_size", min_size), ("max_size", max_size), 1),
        (("min_value", min_value), ("max_value", max_value), 0),
    ):
        for name, value in ((low_name, low), (high_name, high)):
            if isinstance(value, bool) or not isinstance(value, int):
                msg = f"lengths: {name} must be an integer, but got {name}={value!r}"
                raise ConfigError(msg)
        if low < floor:
            msg = f"lengths: {low_name} must be >= {floor}, but got {low_name}={low}"
            raise ConfigError(msg)
        if high < low:
            msg = f"lengths: {high_name}={high} is below {low_name}={low}; raise {high_name}"
            raise ConfigError(msg)
    return _draw_lengths(
        min_size=min_size, max_size=max_size, min_value=min_value, max_value=max_value
    )


@st.composite
def _draw_lengths(
    draw: st.DrawFn, *, min_size: int, max_size: int, min_value: int, max_value: int
) -> list[int]:
    small = min(max_size, max(min_size, _SMALL))
    n = draw(st.integers(min_size, small) | st.integers(min_size, max_size), label="size")
    exponent = draw(st.integers(0, max(0, max_value.bit_length() - 1)), label="typical 2**")
    sigma = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]), label="spread")
    levels = draw(st.integers(1, 4), label="levels") if draw(st.booleans(), label="ties") else 0
    shortest = draw(st.booleans(), label="some of min_value")
    seed = draw(st.integers(0, 2**32 - 1), label="lengths seed")
    rng = np.random.default_rng(seed)
    spread = np.exp(sigma * rng.standard_normal(n))
    values = np.clip(np.floor(2.0**exponent * spread), min_value, max_value).astype(np.int64)
    if levels:
        chosen = rng.choice(values, size=levels)
        values = chosen[rng.integers(0, levels, size=n)]
    if shortest:  # e.g. empty sequences, which a batcher may mishandle
        count = int(rng.integers(1, n // 10 + 2))
        values[rng.choice(n, size=min(count, n), replace=False)] = min_value
    out: list[int] = values.tolist()
    return out


def batch_sizes(*, min_value: int = 1, max_value: int = 256) -> st.SearchStrategy[int]:
    """Batch sizes in ``[min_value, max_value]``, small ones (up to 16) about half of the time."""
    _check_bounds("batch_sizes", min_value, max_value, 1)
    small = min(max_value, max(min_value, 16))
    return st.integers(min_value, small) | st.integers(min_value, max_value)


def seeds(*, min_value: int = 0, max_value: int = 2**63 - 1) -> st.SearchStrategy[int]:
    """Sampler seeds in ``[min_value, max_value]``."""
    _check_bounds("seeds", min_value, max_value, None)
    return st.integers(min_value, max_value)


def epochs(*, min_value: int = 0, max_value: int = 10_000) -> st.SearchStrategy[int]:
    """Epoch numbers in ``[min_value, max_value]`` (non-zero ones included by default)."""
    _check_bounds("epochs", min_value, max_value, 0)
    return st.integers(min_value, max_value)


def _check_bounds(name: str, low: int, high: int, floor: int | None) -> None:
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{name}: bounds must be integers, but got {value!r}"
            raise ConfigError(msg)
    if floor is not None and low < floor:
        msg = f"{name}: min_value must be >= {floor}, but got min_value={low}"
        raise ConfigError(msg)
    if high < low:
        msg = f"{name}: max_value={high} is below min_value={low}; raise max_value"
        raise ConfigError(msg)


@dataclasses.dataclass(frozen=True)
class SamplerInputs:
    """One drawn set of sampler inputs, from `sampler_inputs`.

    Attributes:
        labels: the label array (tensor, numpy array or list).
        batch_size: samples per batch.
        seed: the sampler seed.
        epoch: the epoch to look at.
        drop_last: the sampler's ``drop_last``.
    """

    labels: LabelArray
    batch_size: int
    seed: int
    epoch: int
    drop_last: bool

    def sampler(self, strategy: str | type[Strategy], **options: Any) -> EpochBatchSampler:
        """An `samplekit.EpochBatchSampler` on these inputs, set to `epoch`.

        Raises:
            ConfigError: for invalid options.
            LabelsError: if the strategy cannot serve these labels.
        """
        from samplekit.sampler import EpochBatchSampler

        sampler = EpochBatchSampler(
            self.labels,
            strategy,
            batch_size=self.batch_size,
            seed=self.seed,
            drop_last=self.drop_last,
            rank=0,
            world_size=1,
            check_sync=False,
            **options,
        )
        sampler.set_epoch(self.epoch)
        return sampler


def sampler_inputs(
    *,
    labels: st.SearchStrategy[LabelArray] | None = None,
    batch_sizes: st.SearchStrategy[int] | None = None,
    seeds: st.SearchStrategy[int] | None = None,
    epochs: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[SamplerInputs]:
    """Whole sampler inputs: labels, batch size, seed, epoch and ``drop_last``.

    Each argument replaces the default strategy of that input (the functions of this module).
    Build a sampler on the drawn inputs with `SamplerInputs.sampler`.
    """
    return st.builds(
        SamplerInputs,
        labels=_labels_default() if labels is None else labels,
        batch_size=_batch_sizes_default() if batch_sizes is None else batch_sizes,
        seed=_seeds_default() if seeds is None else seeds,
        epoch=_epochs_default() if epochs is None else epochs,
        drop_last=st.booleans(),
    )


# sampler_inputs' parameters shadow the module's functions; these reach the functions.
def _labels_default() -> st.SearchStrategy[LabelArray]:
    return labels()


def _batch_sizes_default() -> st.SearchStrategy[int]:
    return batch_sizes()


def _seeds_default() -> st.SearchStrategy[int]:
    return seeds()


def _epochs_default() -> st.SearchStrategy[int]:
    return epochs()


SCORE_DISTRIBUTIONS = ("exponential", "pareto", "levels", "constant")
"""The per-sample difficulties a `FeedbackModel` draws (see `FeedbackModel.difficulty`)."""

# Scores stay far inside float32's range, so sums and means of them stay finite too.
_MAX_SCORE = 1e30


@dataclasses.dataclass(frozen=True)
class FeedbackModel:
    """How a training loop reports scores (say per-sample losses) to a feedback strategy.

    Drawn by `feedback_models`; every score and every choice is a pure function of the fields and
    of where it is asked for (epoch, batch position), so two runs that see the same batches make
    the same observations. Each sample ``i`` has a difficulty ``d_i`` (`difficulty`); a score
    reported for it is ``d_i * exp(noise * z)`` with ``z`` standard normal (exactly ``d_i`` when
    ``noise`` is 0, so ties stay ties), halved for a repeated observation.

    Attributes:
        seed: seeds every draw of the model.
        distribution: the difficulties, one of `SCORE_DISTRIBUTIONS`: ``exponential`` (mean 1),
            ``pareto`` (a long tail, up to about 1e16), ``levels`` (0, 1, 2 or 7.5: many ties)
            or ``constant`` (every difficulty 1).
        scale: every difficulty is multiplied by it (> 0).
        zero_share: the share of samples whose difficulty is exactly 0.
        observed_share: the share of each batch's samples that are reported (chosen per batch):
            1 reports them all, 0 none.
        calls: how many ``observe`` calls a batch's reports are split over (some may be empty,
            and are not made).
        repeat_share: the share of a batch's reported samples reported once more, in one more
            call after the others, with another score: the later one wins.
        noise: the spread of the log-normal factor of each score (0: every score is ``d_i``).
        epoch_end_share: the share of all samples reported once more after each epoch's last
            batch (as an evaluation pass would), samples the epoch left out included.
    """

    seed: int = 0
    distribution: str = "exponential"
    scale: float = 1.0
    zero_share: float = 0.0
    observed_share: float = 1.0
    calls: int = 1
    repeat_share: float = 0.0
    noise: float = 0.0
    epoch_end_share: float = 0.0

    def __post_init__(self) -> None:
        problem = None
        if self.distribution not in SCORE_DISTRIBUTIONS:
            problem = (
                f"distribution must be one of {SCORE_DISTRIBUTIONS}, not {self.distribution!r}"
            )
        elif not (math.isfinite(self.scale) and self.scale > 0):
            problem = f"scale must be a finite number > 0, not {self.scale!r}"
        elif not (math.isfinite(self.noise) and 0 <= self.noise <= 10):
            problem = f"noise must be from 0 to 10, not {self.noise!r}"
        elif isinstance(self.calls, bool) or not isinstance(self.calls, int) or self.calls < 1:
            problem = f"calls must be an integer >= 1, not {self.calls!r}"
        else:
            for name in ("zero_share", "observed_share", "repeat_share", "epoch_end_share"):
                value = getattr(self, name)
                if not 0 <= value <= 1:  # False for NaN too
                    problem = f"{name} must be from 0 to 1, not {value!r}"
                    break
        if problem is not None:
            msg = f"FeedbackModel: {problem}"
            raise ConfigError(msg)

    def difficulty(self, num_samples: int) -> torch.Tensor:
        """The difficulty ``d_i`` of each of ``num_samples`` samples: float32, finite, >= 0."""
        return self._difficulty(num_samples).clone()

    def _difficulty(self, num_samples: int) -> torch.Tensor:  # shared: never written to
        return _difficulty(self.seed, self.distribution, self.scale, self.zero_share, num_samples)

    def _scores(
        self, indices: torch.Tensor, num_samples: int, gen: torch.Generator, factor: float
    ) -> torch.Tensor:
        scores = self._difficulty(num_samples)[indices].to(torch.float64) * factor
        if self.noise:
            z = torch.randn(indices.numel(), generator=gen, dtype=torch.float64)
            scores = scores * torch.exp(self.noise * z)
        return scores.clamp(0, _MAX_SCORE).to(torch.float32)

    def batch_observations(
        self, batch: Sequence[int], *, num_samples: int, epoch: int, position: int
    ) -> list[Observation]:
        """The ``observe(indices, scores)`` calls made after batch ``position`` of ``epoch``.

        Each is a pair of an int64 index tensor and a float32 score tensor of the same length.
        """
        from samplekit.rng import generator

        gen = generator(self.seed, "batch", epoch, position)
        index = torch.as_tensor(list(batch), dtype=torch.int64)
        reported = index[torch.rand(index.numel(), generator=gen) < self.observed_share]
        scores = self._scores(reported, num_samples, gen, 1.0)
        calls = [
            (part, part_scores)
            for part, part_scores in zip(
                torch.tensor_split(reported, self.calls),
                torch.tensor_split(scores, self.calls),
                strict=True,
            )
            if part.numel()
        ]
        again = reported[torch.rand(reported.numel(), generator=gen) < self.repeat_share]
        if again.numel():
            calls.append((again, self._scores(again, num_samples, gen, 0.5)))
        return calls

    def epoch_end_observations(self, *, num_samples: int, epoch: int) -> list[Observation]:
        """The ``observe`` calls made after the last batch of ``epoch`` (none or one)."""
        from samplekit.rng import generator

        gen = generator(self.seed, "epoch end", epoch)
        chosen = torch.rand(num_samples, generator=gen) < self.epoch_end_share
        index = torch.nonzero(chosen).flatten()
        if not index.numel():
            return []
        return [(index, self._scores(index, num_samples, gen, 1.0))]


@functools.lru_cache(maxsize=4)  # asked for once per batch: computed once per run
def _difficulty(
    seed: int, distribution: str, scale: float, zero_share: float, num_samples: int
) -> torch.Tensor:
    from samplekit.rng import generator

    gen = generator(seed, "difficulty", num_samples)
    u = torch.rand(num_samples, generator=gen, dtype=torch.float64)
    if distribution == "exponential":
        values = -torch.log1p(-u)
    elif distribution == "pareto":  # tail index 1: no finite mean
        values = 1 / (1 - u) - 1
    elif distribution == "levels":
        values = torch.tensor([0.0, 1.0, 2.0, 7.5], dtype=torch.float64)[(u * 4).long()]
    else:
        values = torch.ones(num_samples, dtype=torch.float64)
    zero = torch.rand(num_samples, generator=gen, dtype=torch.float64) < zero_share
    values = torch.where(zero, 0.0, values * scale)
    return values.clamp(0, _MAX_SCORE).to(torch.float32)


def feedback_models() -> st.SearchStrategy[FeedbackModel]:
    """Score models for feedback strategies: per-sample scores and how they are reported.

    Scores are finite floats >= 0 with ties, zeros (some or all) and long tails, from 1e-3 to
    1e3 in scale; some batches report every sample, some a share, some none, over one to three
    ``observe`` calls, sometimes reporting samples again (the later score wins) and sometimes
    reporting a share of every sample after the epoch. See `FeedbackModel`.
    """
    return st.builds(
        FeedbackModel,
        seed=st.integers(0, 2**32 - 1),
        distribution=st.sampled_from(SCORE_DISTRIBUTIONS),
        scale=st.sampled_from([1.0, 1e-3, 1e3]),
        zero_share=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
        observed_share=st.sampled_from([1.0, 0.5, 0.1, 0.0]),
        calls=st.integers(1, 3),
        repeat_share=st.sampled_from([0.0, 0.3, 1.0]),
        noise=st.sampled_from([0.0, 0.5]),
        epoch_end_share=st.sampled_from([0.0, 0.5, 1.0]),
    )
