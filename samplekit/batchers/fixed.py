"""``fixed``: batches of ``batch_size`` in the strategy's order (the default batcher).

Examples:
    >>> import torch
    >>> from samplekit.batchers.fixed import Fixed
    >>> batcher = Fixed(Fixed.Options(), batch_size=4)
    >>> batcher.count(10), batcher.batch(torch.arange(10), torch.Generator()).offsets.tolist()
    (3, [0, 4, 8, 10])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from samplekit.batcher import Batcher, Batches
from samplekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from samplekit.hookspecs import RegisterBatcher

__all__ = ["Fixed"]


class Fixed(Batcher):
    """Batches of batch_size samples in the strategy's order; the last is shorter or dropped.

    The strategy's order is kept as it is, so a strategy that arranges each batch (say
    ``stratified``) keeps its per-batch guarantees. With ``drop_last`` the last batch is
    dropped when it is shorter than ``batch_size``.
    """

    name = "fixed"
    needs_batch_size: ClassVar[bool] = True
    regroups: ClassVar[bool] = False

    @property
    def size(self) -> int:
        """The batch size (the sampler always gives this batcher one)."""
        assert self.batch_size is not None
        return self.batch_size

    def count(self, n: int) -> int:
        """``ceil(n / batch_size)``, or ``floor`` with ``drop_last``."""
        return n // self.size if self.drop_last else -(-n // self.size)

    def bounds(self, n: int, batches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``b`` covers positions ``b * batch_size`` to the next multiple (or ``n``)."""
        starts = batches * self.size
        return starts, torch.clamp(starts + self.size, max=n)

    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        """Cut ``order`` into consecutive runs of ``batch_size``; nothing is drawn."""
        n = order.numel()
        count = self.count(n)
        offsets = torch.arange(count + 1, dtype=torch.int64) * self.size
        if count:
            offsets[-1] = min(int(offsets[-1]), n)
        return Batches(order, offsets)


@hookimpl
def samplekit_register_batchers(register: RegisterBatcher) -> None:
    """Register ``fixed``."""
    register(Fixed)
