"""The batcher contract: `Batcher`, its options and the `Batches` it returns.

A strategy decides which samples an epoch holds and in what order; a batcher cuts that order
into batches. The default, ``fixed``, cuts it into runs of ``batch_size`` as it comes; others
regroup it (samples of similar length together) and size batches by a budget. Batchers are
registered through the ``samplekit_register_batchers`` hook, built-ins and plugins alike.

Examples:
    >>> import torch
    >>> import samplekit
    >>> from samplekit.batcher import Batcher, Batches
    >>> class Pairs(Batcher):
    ...     '''Batches of two, in the strategy's order.'''
    ...     name = "pairs"
    ...     def batch(self, order, generator):
    ...         n = len(order)
    ...         offsets = torch.cat([torch.arange(0, n, 2), torch.tensor([n])])
    ...         return Batches(order, offsets)
    >>> Pairs(Pairs.Options()).batch(torch.arange(5), torch.Generator()).offsets.tolist()
    [0, 2, 4, 5]
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from samplekit.strategy import Options

if TYPE_CHECKING:
    import torch
    from hypothesis.strategies import SearchStrategy

__all__ = ["Batcher", "Batches"]


@dataclasses.dataclass(frozen=True)
class Batches:
    """An epoch cut into batches: batch ``b`` is ``order[offsets[b]:offsets[b + 1]]``.

    Attributes:
        order: 1-D integer tensor, the epoch's sample indices in batch order (a rearrangement of
            the order the batcher was given, minus any samples it leaves out).
        offsets: 1-D int64 tensor of ``batches + 1`` increasing positions in ``order``, from 0;
            the last may be short of ``len(order)`` when the tail is dropped.
    """

    order: torch.Tensor
    offsets: torch.Tensor

    @property
    def num_batches(self) -> int:
        """How many batches."""
        return int(self.offsets.numel()) - 1


class Batcher(abc.ABC):
    """Base class of every batcher, built-in or from a plugin.

    Subclasses set ``name`` (a Python identifier, unique among batchers), may define a nested
    ``Options`` model (a `samplekit.Options` subclass), declare what they need with
    ``needs_lengths`` and ``needs_batch_size``, and implement `batch`. A batcher that cuts an
    epoch of ``n`` samples into a number of batches known without seeing the order overrides
    `count`, so that ``len(sampler)`` costs nothing; otherwise the sampler plans the epoch to
    count it (once: iteration then uses that plan).

    Validate what depends on the lengths in ``__init__`` and raise
    `samplekit.errors.ConfigError` (naming the option and what to do): the sampler builds the
    batcher at construction, so no epoch fails later.

    Attributes:
        options: the validated options instance.
        lengths: per-sample sizes (1-D int64), or ``None`` when the sampler got none.
        batch_size: the sampler's ``batch_size``, or ``None`` when it got none.
        drop_last: the sampler's ``drop_last``.
    """

    name: ClassVar[str]
    Options: ClassVar[type[Options]] = Options
    needs_lengths: ClassVar[bool] = False
    needs_batch_size: ClassVar[bool] = False
    #: Whether the batcher may put the strategy's order into another order (then batch-level
    #: guarantees of a strategy, such as ``stratified``'s composition per batch, do not hold).
    regroups: ClassVar[bool] = True

    def __init__(
        self,
        options: Any,
        *,
        lengths: torch.Tensor | None = None,
        batch_size: int | None = None,
        drop_last: bool = False,
    ) -> None:
        self.options = options
        self.lengths = lengths
        self.batch_size = batch_size
        self.drop_last = drop_last

    @property
    def nominal_batch_size(self) -> int:
        """The batch size strategies are told (``ctx.batch_size``): ``batch_size``, else 1."""
        return self.batch_size if self.batch_size is not None else 1

    def count(self, n: int) -> int | None:
        """How many batches an epoch of ``n`` samples makes, or ``None`` if that needs the order."""
        return None

    def bounds(self, n: int, batches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Where ``batches`` start and stop in an order of ``n``, if position alone decides it.

        A batcher whose batches are the same runs of positions whatever the order holds (no
        lengths, no randomness: ``fixed``) returns ``(starts, stops)``, int64 like
        ``batches``, and must agree with `batch`. The sampler then reads only those positions
        of a random-access strategy (see `samplekit.Strategy.sample_at`). The default,
        ``None``, makes the sampler build the whole order and call `batch`; so does a subclass
        that overrides `batch` without overriding `bounds` (they may no longer agree).
        """
        return None

    @abc.abstractmethod
    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        """Cut ``order`` (the strategy's epoch, 1-D integer) into batches.

        Draw randomness only from ``generator`` (seeded from the sampler's seed and the epoch).
        """

    def cost(self, lengths: torch.Tensor) -> float:
        """The padded cost of one batch whose samples have ``lengths``: longest x count."""
        return float(lengths.max()) * lengths.numel() if lengths.numel() else 0.0

    @property
    def budget(self) -> float | None:
        """The most a batch may cost (see `cost`), or ``None`` when there is no budget."""
        return None

    @classmethod
    def example_lengths(cls, options: Any) -> SearchStrategy[Any] | None:
        """Lengths `samplekit.testing.check_batcher` draws for ``options``; ``None``: its own."""
        return None

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring, or an empty string."""
        doc = cls.__doc__ or ""
        return doc.strip().splitlines()[0].strip() if doc.strip() else ""
