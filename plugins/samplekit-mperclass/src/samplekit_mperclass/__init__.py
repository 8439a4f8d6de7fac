"""``m_per_class``: batches of ``m`` samples from each of ``batch_size // m`` distinct classes.

A samplekit plugin for metric learning (the batches pytorch-metric-learning's
``MPerClassSampler`` builds), registered under the ``samplekit`` entry-point group.

Examples:
    >>> from samplekit import EpochBatchSampler
    >>> from samplekit_mperclass import MPerClass
    >>> labels = [0] * 10 + [1] * 10 + [2] * 10 + [3] * 10
    >>> sampler = EpochBatchSampler(labels, MPerClass, batch_size=8, m=2)
    >>> batch = next(iter(sampler))
    >>> sorted(labels[i] for i in batch)
    [0, 0, 1, 1, 2, 2, 3, 3]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from pydantic import Field

import samplekit
from samplekit.errors import ConfigError, LabelsError

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.hookspecs import Register
    from samplekit.strategy import EpochContext
    from samplekit.testing import LabelArray

__all__ = ["MPerClass", "samplekit_register_strategies"]
__version__ = "0.1.0"

# Samples one epoch may hold at most (samplekit's own limit on `num_samples` and `batch_size`).
_MAX_EPOCH_SAMPLES = 2**31 - 1


class MPerClass(samplekit.Strategy):
    """Every batch holds `m` samples from each of `batch_size // m` distinct classes.

    An epoch is a sequence of *groups*: ``m`` samples of one class, laid out contiguously. The
    sampler cuts it into batches of ``batch_size = P * m``, so each full batch is ``P`` groups of
    ``P`` different classes. The epoch holds ``m * max(1, num_samples // m)`` indices
    (``num_samples`` defaults to the number of labels), the same in every epoch; when that is
    not a multiple of ``batch_size`` the last batch is smaller and holds fewer *whole* groups
    (still ``m`` per class, distinct classes), or is dropped with ``drop_last=True``.

    Classes are dealt in rounds: each round is a fresh random permutation of the ``C`` classes
    cut into ``C // P`` batches (the ``C mod P`` classes left over sit that round out), so no
    class appears twice within a batch, nor within the batches of one round, and every class gets
    about the same number of groups per epoch. Inside a class, samples are taken from a fresh
    random permutation of the class, ``m`` at a time and wrapping around, so within an epoch every
    sample of a class is used once before any is used twice, and a group's ``m`` samples are
    distinct. A class with fewer than ``m`` samples is refused unless ``replacement=True``; its
    groups are then drawn with replacement.

    Everything is vectorised: per epoch one sort of ``N`` random keys (the class permutations),
    one of ``rounds * C`` keys (the class deal) and one of the groups (their rank in their class),
    O(N log N) time and O(N + C) memory, with no Python loop over samples or classes.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> labels = [c for c in range(5) for _ in range(6)]
        >>> sampler = EpochBatchSampler(labels, MPerClass, batch_size=6, m=3)
        >>> [len(b) for b in sampler], len(sampler)
        ([6, 6, 6, 6, 6], 5)
    """

    name = "m_per_class"

    class Options(samplekit.Options):
        """Options of ``m_per_class``."""

        m: int = Field(
            ge=1,
            le=_MAX_EPOCH_SAMPLES,
            description="Samples of each class in a batch; batch_size % m == 0, so m <= "
            "batch_size <= 2**31 - 1.",
        )
        num_samples: int | None = Field(
            None,
            ge=1,
            le=_MAX_EPOCH_SAMPLES,
            description="Samples per epoch, rounded down to a multiple of m (at least m), at "
            "most 2**31 - 1 (an epoch's indices are held in memory: use fewer samples per "
            "epoch); default: the number of labels.",
        )
        replacement: bool = Field(
            False,
            description="Allow classes with fewer than m samples, drawing their groups with "
            "replacement; otherwise such a class is an error.",
        )

    options: MPerClass.Options

    @classmethod
    def example_labels(cls, options: MPerClass.Options) -> SearchStrategy[LabelArray]:
        """Labels `samplekit.testing.check_strategy` draws: 4+ classes, m samples each if needed."""
        from samplekit.testing import labels

        per_class = 1 if options.replacement else options.m
        return labels(min_classes=4, min_per_class=per_class, max_size=max(2000, 8 * per_class))

    @classmethod
    def example_batch_sizes(cls, options: MPerClass.Options) -> SearchStrategy[int]:
        """Batch sizes `samplekit.testing.check_strategy` draws: 1 to 4 classes of m samples."""
        from hypothesis import strategies as st

        return st.integers(1, 4).map(lambda classes: classes * options.m)

    def __init__(self, labels: torch.Tensor, options: MPerClass.Options) -> None:
        super().__init__(labels, options)
        index = self.class_index
        m = options.m
        small = index.counts < m
        if bool(small.any()) and not options.replacement:
            classes = index.classes[small].tolist()
            counts = index.counts[small].tolist()
            shown = ", ".join(f"{c}: {n}" for c, n in zip(classes[:10], counts[:10], strict=True))
            more = f" and {len(classes) - 10} more" if len(classes) > 10 else ""
            msg = (
                f"m_per_class: m={m} samples of each class are needed, but {len(classes)} "
                f"classes have fewer (label: count {shown}{more}); remove those classes, lower "
                f"m, or set replacement=True to draw their groups with replacement"
            )
            raise LabelsError(msg)
        total = options.num_samples if options.num_samples is not None else labels.numel()
        self.groups = max(1, total // m)
        self._small = small

    def check_batch_size(self, batch_size: int) -> None:
        """Refuse a batch size that is not ``P * m`` for some ``1 <= P <= number of classes``."""
        m, n_classes = self.options.m, len(self.class_index)
        if batch_size % m:
            lower = max(m, batch_size - batch_size % m)
            msg = (
                f"m_per_class: batch_size={batch_size} is not a multiple of m={m}, but every "
                f"batch holds m samples of each of batch_size // m classes; use batch_size="
                f"{lower} or {lower + m}, or an m that divides {batch_size}"
            )
            raise ConfigError(msg)
        if batch_size // m > n_classes:
            msg = (
                f"m_per_class: batch_size={batch_size} with m={m} needs {batch_size // m} "
                f"distinct classes per batch, but the labels have only {n_classes}; use "
                f"batch_size <= {m * n_classes} (m * classes) or a larger m"
            )
            raise ConfigError(msg)

    def epoch_length(self, epoch: int) -> int:
        """``m * max(1, num_samples // m)``, the same in every epoch."""
        return self.groups * self.options.m

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        """Deal the classes to groups, then fill each group from its class's permutation."""
        gen, m = ctx.generator, self.options.m
        index = self.class_index
        n_classes = len(index)
        per_batch = ctx.batch_size // m
        if not 1 <= per_batch <= n_classes:  # only if the sampler's check was bypassed
            self.check_batch_size(ctx.batch_size)
        group_class = self._deal_classes(per_batch, gen)
        # The rank of each group among the groups of its class, in epoch order.
        order = torch.argsort(group_class, stable=True)
        per_class = torch.bincount(group_class, minlength=n_classes)
        first = torch.cumsum(per_class, 0) - per_class
        rank = torch.empty_like(group_class)
        rank[order] = torch.arange(self.groups) - first[group_class[order]]
        # Slot i of the r-th group of class c takes position (r*m + i) mod n_c of a fresh
        # permutation of class c: distinct inside a group whenever n_c >= m.
        counts = index.counts[group_class].unsqueeze(1)
        position = (rank.unsqueeze(1) * m + torch.arange(m)) % counts
        if self.options.replacement and bool(self._small.any()):
            drawn = torch.rand(self.groups, m, generator=gen, dtype=torch.float64).mul_(counts)
            free = torch.minimum(drawn.long(), counts - 1)
            position = torch.where(self._small[group_class].unsqueeze(1), free, position)
        starts = index.offsets[:-1][group_class].unsqueeze(1)
        return self._shuffled_within_classes(gen)[(starts + position).flatten()]

    def _deal_classes(self, per_batch: int, gen: torch.Generator) -> torch.Tensor:
        """The class (position in ``classes``) of each group: batches of distinct classes."""
        n_classes = len(self.class_index)
        batches_per_round = n_classes // per_batch
        batches = -(-self.groups // per_batch)
        rounds = -(-batches // batches_per_round)
        keys = torch.rand(rounds, n_classes, generator=gen, dtype=torch.float64)
        dealt = torch.argsort(keys, dim=1)[:, : batches_per_round * per_batch]
        return dealt.flatten()[: self.groups]

    def _shuffled_within_classes(self, gen: torch.Generator) -> torch.Tensor:
        """`ClassIndex.grouped` with each class's block in a fresh random order."""
        index = self.class_index
        grouped = index.grouped
        # Integer keys (class, random) sort each class's block into a random order in one pass;
        # float keys class + rand could round up into the next class.
        keys = torch.randint(_KEY_SPAN, (grouped.numel(),), generator=gen)
        keys += torch.repeat_interleave(torch.arange(len(index)) * _KEY_SPAN, index.counts)
        return grouped[torch.argsort(keys)]


# Random keys per sample are drawn in [0, _KEY_SPAN): ties (harmless) are rare, and
# class * _KEY_SPAN fits in int64 for any class count below 2**32.
_KEY_SPAN = 1 << 31


@samplekit.hookimpl
def samplekit_register_strategies(register: Register) -> None:
    """Register ``m_per_class``."""
    register(MPerClass)
