"""The epoch plan: which samples, in which batches; and the planner that builds it.

An epoch is planned in two steps: the strategy selects the samples in order (checked by
`samplekit.selection.select`), the batcher cuts that order into batches (checked here). The
resulting `EpochPlan` is the global epoch, the same on every rank and whatever the world size;
sharding and the cursor only choose which of its batches a rank yields.

Examples:
    >>> from samplekit import EpochBatchSampler
    >>> sampler = EpochBatchSampler(None, "shuffle", lengths=[5, 1, 4, 2, 3],
    ...                             batcher="length_grouped", batch_size=2, seed=0)
    >>> plan = sampler.planner.plan(0)
    >>> plan.num_batches, sorted(len(batch) for batch in plan.batches(range(3)))
    (3, [1, 2, 2])
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from typing import TYPE_CHECKING

import torch

from samplekit import selection
from samplekit.errors import StrategyOutputError
from samplekit.rng import generator
from samplekit.strategy import EpochContext, FeedbackStrategy

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from samplekit.batcher import Batcher, Batches
    from samplekit.strategy import FeedbackView, Strategy

    #: A feedback strategy's view and its version, or ``None``.
    Feedback = tuple[FeedbackView, int] | None

__all__ = ["EpochPlan", "EpochReader", "Planner", "RandomAccessPlan", "check_batches"]

# Batches are turned into Python lists this many indices at a time: the first batch does not wait
# for the whole epoch's conversion, and the conversion stays vectorised.
_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class EpochPlan:
    """One epoch's global batches: batch ``b`` is ``order[offsets[b]:offsets[b + 1]]``.

    Attributes:
        epoch: the epoch it plans.
        order: the epoch's sample indices in batch order.
        offsets: int64, ``num_batches + 1`` increasing positions in ``order`` from 0.
        weights: per-sample loss multipliers for the epoch (float32, one per sample) from a
            feedback strategy that reweights, else ``None`` (all 1).
    """

    epoch: int
    order: torch.Tensor
    offsets: torch.Tensor
    weights: torch.Tensor | None = None

    @property
    def num_batches(self) -> int:
        """How many global batches the epoch has."""
        return int(self.offsets.numel()) - 1

    def batches(self, ids: Sequence[int]) -> Iterator[list[int]]:
        """The batches ``ids``, each as a list of ints, in the order of ``ids``.

        Consecutive batches (a ``range``) are converted with one ``tolist`` per chunk of about
        65,536 indices; others one at a time.
        """
        if isinstance(ids, range) and ids.step == 1:
            yield from self._consecutive(ids)
            return
        bounds: list[int] = self.offsets.tolist() if len(ids) > 1 else []
        for batch in ids:
            if bounds:
                start, stop = bounds[batch], bounds[batch + 1]
            else:
                start, stop = int(self.offsets[batch]), int(self.offsets[batch + 1])
            yield self.order[start:stop].tolist()

    def _consecutive(self, ids: range) -> Iterator[list[int]]:
        first = ids.start
        while first < ids.stop:
            # Batches first..last cover at most _CHUNK indices (at least one batch).
            limit = int(self.offsets[first]) + _CHUNK
            last = int(torch.searchsorted(self.offsets, limit, right=True)) - 1
            last = min(max(last, first + 1), ids.stop)
            bounds: list[int] = self.offsets[first : last + 1].tolist()
            flat = _flat(self.order[bounds[0] : bounds[-1]])
            base = bounds[0]
            for start, stop in itertools.pairwise(bounds):
                yield flat[start - base : stop - base].tolist()
            first = last


class RandomAccessPlan:
    """An epoch read on demand: a random-access strategy's positions, cut by position.

    Built when the strategy has random access (`samplekit.Strategy.sample_at`) and the
    batcher cuts by position alone (`samplekit.batcher.Batcher.bounds`): `batches` computes
    only the positions of the batches asked for, so a rank's work is O(its batches) and a
    resume starts at its batch. Same interface as `EpochPlan` for iteration.

    Attributes:
        epoch: the epoch it plans.
        length: how many indices the epoch holds.
        num_batches: how many global batches it has.
        weights: always ``None`` (feedback strategies are planned whole).
    """

    weights: torch.Tensor | None = None

    def __init__(self, planner: Planner, epoch: int, length: int, num_batches: int) -> None:
        self.planner = planner
        self.epoch = epoch
        self.length = length
        self.num_batches = num_batches

    def positions(self, ids: Sequence[int]) -> tuple[torch.Tensor, list[int]]:
        """The epoch positions of batches ``ids``, concatenated, and each batch's size."""
        batches = torch.as_tensor(ids, dtype=torch.int64)
        bounds = self.planner.batcher.bounds(self.length, batches)
        assert bounds is not None  # the planner builds this plan only for such a batcher
        starts, stops = bounds
        sizes = stops - starts
        if starts.numel() and torch.equal(starts[1:], stops[:-1]):  # end to end: one range
            return torch.arange(int(starts[0]), int(stops[-1]), dtype=torch.int64), sizes.tolist()
        flat = torch.arange(int(sizes.sum()), dtype=torch.int64)
        flat += torch.repeat_interleave(starts - (torch.cumsum(sizes, 0) - sizes), sizes)
        return flat, sizes.tolist()

    def batches(self, ids: Sequence[int]) -> Iterator[list[int]]:
        """The batches ``ids``, each as a list of ints.

        Read one batch first (the first batch does not wait for more), then in groups that
        double up to about 65,536 indices.
        """
        size = max(1, self.planner.batcher.nominal_batch_size)
        most = max(1, _CHUNK // size)
        planner = self.planner
        first, step = 0, 1
        while first < len(ids):
            group = list(ids[first : first + step])
            first, step = first + step, min(2 * step, most)
            positions, sizes = self.positions(group)
            ctx = planner.context(self.epoch)  # a fresh one per call: sample_at draws nothing
            values = selection.select_at(
                planner.strategy, ctx, positions, num_samples=planner.num_samples
            )
            flat = _flat(values)
            start = 0
            for count in sizes:
                yield flat[start : start + count].tolist()
                start += count


def _flat(values: torch.Tensor) -> memoryview:
    """``values`` (1-D integers) as a memoryview: its slices' ``tolist`` makes each batch.

    A batch then costs one conversion, where ``tolist`` of the whole followed by list slices
    copies every index twice (about a fifth of an epoch's time in lists).
    """
    return values.cpu().contiguous().numpy().data


#: What iteration reads an epoch's batches from: a whole `EpochPlan` or a `RandomAccessPlan`.
EpochReader = EpochPlan | RandomAccessPlan


def check_batches(
    batches: object, *, batcher: Batcher, epoch: int, given: int, num_samples: int
) -> Batches:
    """Return ``batches`` if they are a valid cut of an order of ``given`` samples.

    Raises:
        StrategyOutputError: naming the batcher, the epoch and what is wrong.
    """
    from samplekit.batcher import Batches

    problem = None
    if not isinstance(batches, Batches):
        problem = f"returned {type(batches).__name__}, not samplekit.batcher.Batches"
    else:
        order, offsets = batches.order, batches.offsets
        if not isinstance(order, torch.Tensor) or order.ndim != 1:
            problem = "returned an order that is not a 1-D tensor"
        elif order.dtype not in selection.INDEX_DTYPES:
            problem = f"returned an order of dtype {order.dtype}, not integer indices"
        elif order.numel() > given:
            problem = f"returned {order.numel()} indices for an epoch of {given}"
        elif not isinstance(offsets, torch.Tensor) or offsets.ndim != 1 or not offsets.numel():
            problem = "returned offsets that are not a non-empty 1-D tensor"
        elif offsets.dtype != torch.int64:
            problem = f"returned offsets of dtype {offsets.dtype}, not torch.int64"
        elif int(offsets[0]) != 0 or int(offsets[-1]) > order.numel():
            problem = (
                f"returned offsets from {int(offsets[0])} to {int(offsets[-1])}; they must "
                f"start at 0 and end at most at len(order) = {order.numel()}"
            )
        elif offsets.numel() > 1 and bool((offsets[1:] <= offsets[:-1]).any()):
            problem = "returned offsets that do not increase (an empty or negative batch)"
        elif order.numel() and (int(order.min()) < 0 or int(order.max()) >= num_samples):
            problem = (
                f"returned indices from {int(order.min())} to {int(order.max())}, outside "
                f"[0, {num_samples})"
            )
        else:
            expected = batcher.count(given)
            if expected is not None and batches.num_batches != expected:
                problem = f"returned {batches.num_batches} batches but count() said {expected}"
    if problem is not None or not isinstance(batches, Batches):
        msg = f"batcher {batcher.name!r} broke its contract in epoch {epoch}: {problem}"
        raise StrategyOutputError(msg, "batches")
    return batches


class Planner:
    """Builds epoch plans from a strategy and a batcher; knows nothing of ranks or cursors.

    Plans of batchers that cannot count batches without the order, and of feedback strategies,
    are cached (the last two: the running epoch and a prefetched one), so ``len`` and
    iteration share one plan. A feedback strategy's plan is keyed by the feedback's version too.

    Args:
        strategy: the strategy instance.
        batcher: the batcher instance.
        seed: the sampler's seed.
        num_samples: how many samples (indices must be below it).
    """

    def __init__(self, strategy: Strategy, batcher: Batcher, *, seed: int, num_samples: int):
        self.strategy = strategy
        self.batcher = batcher
        self.seed = seed
        self.num_samples = num_samples
        self._lock = threading.Lock()
        self._cache: dict[tuple[int, int], EpochPlan] = {}

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        del state["_lock"], state["_cache"]  # a copy plans afresh
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._cache = {}

    def context(self, epoch: int, feedback: FeedbackView | None = None) -> EpochContext:
        """The context the strategy gets to build ``epoch`` (a fresh generator each call)."""
        return EpochContext(
            epoch=epoch,
            seed=self.seed,
            batch_size=self.batcher.nominal_batch_size,
            generator=generator(self.seed, epoch),
            feedback=feedback,
        )

    def indices(self, epoch: int, feedback: Feedback = None) -> torch.Tensor:
        """The strategy's indices of ``epoch`` in order, checked (before batching)."""
        view = feedback[0] if feedback is not None else None
        return selection.select(
            self.strategy, self.context(epoch, view), num_samples=self.num_samples
        )

    def count(self, epoch: int, feedback: Feedback = None) -> int:
        """How many global batches ``epoch`` has (planning it only if the batcher must).

        ``feedback`` is a feedback strategy's view and its version (see `plan`).
        """
        view = feedback[0] if feedback is not None else None
        counted = self.batcher.count(selection.epoch_length(self.strategy, epoch, view))
        return counted if counted is not None else self.plan(epoch, feedback).num_batches

    @property
    def random_access(self) -> bool:
        """Whether epochs are read position by position (`RandomAccessPlan`), not built whole.

        True for a strategy with random access that plans without feedback, cut by a batcher
        that cuts by position (and counts batches): the default ``fixed`` batcher.
        """
        strategy, batcher = self.strategy, self.batcher
        return (
            strategy.random_access
            and not isinstance(strategy, FeedbackStrategy)
            and _defined_together(type(batcher), "bounds", "batch")
            and batcher.count(0) is not None
            and batcher.bounds(0, torch.empty(0, dtype=torch.int64)) is not None
        )

    def reader(self, epoch: int, feedback: Feedback = None) -> EpochReader:
        """What iteration reads ``epoch`` from: a `RandomAccessPlan` when it can, else `plan`."""
        if self.random_access:
            length = selection.epoch_length(self.strategy, epoch)
            count = self.batcher.count(length)
            assert count is not None  # random_access checked the batcher counts
            return RandomAccessPlan(self, epoch, length, count)
        return self.plan(epoch, feedback)

    def plan(self, epoch: int, feedback: Feedback = None) -> EpochPlan:
        """The plan of ``epoch``: the strategy's order cut by the batcher, both checked.

        Args:
            epoch: the epoch.
            feedback: for a feedback strategy, the view to plan from and its version (part of
                the cache key); ``None`` otherwise.
        """
        key = (epoch, feedback[1] if feedback is not None else 0)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        order = self.indices(epoch, feedback)
        batches = check_batches(
            self.batcher.batch(order, generator(self.seed, epoch, "batcher")),
            batcher=self.batcher,
            epoch=epoch,
            given=order.numel(),
            num_samples=self.num_samples,
        )
        weights = None
        if isinstance(self.strategy, FeedbackStrategy) and feedback is not None:
            weights = _checked_weights(
                self.strategy.loss_weights(epoch, feedback[0]),
                self.strategy,
                epoch,
                self.num_samples,
            )
        plan = EpochPlan(epoch, batches.order, batches.offsets, weights)
        if feedback is not None or self.batcher.count(order.numel()) is None:
            with self._lock:
                self._cache[key] = plan
                for old in list(self._cache)[:-2]:
                    del self._cache[old]
        return plan


def _defined_together(cls: type, *names: str) -> bool:
    """Whether one class defines all ``names``.

    A subclass that overrides `batch` alone does not keep its base's `bounds`, which would no
    longer agree with it.
    """
    owners = {next(k for k in cls.__mro__ if name in k.__dict__) for name in names}
    return len(owners) == 1


def _checked_weights(
    weights: object, strategy: Strategy, epoch: int, num_samples: int
) -> torch.Tensor | None:
    """A feedback strategy's loss weights: ``None``, or finite positive float32, one per sample."""
    if weights is None:
        return None
    problem = None
    if not isinstance(weights, torch.Tensor):
        problem = f"returned {type(weights).__name__}, not a torch.Tensor or None"
    elif weights.shape != (num_samples,) or not weights.dtype.is_floating_point:
        problem = (
            f"returned a {weights.dtype} tensor of shape {tuple(weights.shape)}; it must be "
            f"float, one weight per sample ({num_samples})"
        )
    elif not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()):
        problem = "returned a weight that is negative, infinite or NaN"
    if problem is not None or not isinstance(weights, torch.Tensor):
        msg = (
            f"strategy {strategy.name!r} broke its contract in epoch {epoch}: loss_weights "
            f"{problem}"
        )
        raise StrategyOutputError(msg, "loss_weights")
    return weights.to(torch.float32)
