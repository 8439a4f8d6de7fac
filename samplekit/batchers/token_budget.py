"""``token_budget``: batches sized by a padded-token budget, fresh every epoch.

Examples:
    >>> import torch
    >>> from samplekit.batchers.token_budget import TokenBudget
    >>> lengths = torch.tensor([3, 9, 2, 8, 3, 4])
    >>> options = TokenBudget.Options(max_tokens=9, balance=1)
    >>> batcher = TokenBudget(options, lengths=lengths)
    >>> batches = batcher.batch(torch.arange(6), torch.Generator().manual_seed(0))
    >>> order, offsets = batches.order, batches.offsets.tolist()
    >>> sorted(lengths[order[a:b]].tolist() for a, b in zip(offsets, offsets[1:]))
    [[3, 2], [4, 3], [8], [9]]
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, ClassVar, Literal

import torch
from pydantic import Field

import samplekit
from samplekit.batcher import Batcher, Batches
from samplekit.batchers.grouping import (
    DEFAULT_WINDOW,
    balanced_order,
    reorder,
    sort_in_windows,
    window_size,
)
from samplekit.errors import ConfigError
from samplekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from samplekit.hookspecs import RegisterBatcher

__all__ = ["OversizeWarning", "TokenBudget"]

DEFAULT_BALANCE = 8
# Up to this length, capacities come from a table indexed by length (one entry per length),
# so an epoch computes one per batch rather than one per sample.
_TABLE = 1 << 22


class OversizeWarning(UserWarning):
    """``token_budget`` leaves out samples that alone cost more than ``max_tokens``."""


class TokenBudget(Batcher):
    """Batches whose padded cost, longest x count, never exceeds max_tokens.

    The strategy's order is cut into windows of ``window`` samples; each window is sorted by
    length, longest first, and cut greedily (its first batch takes a random share of what fits,
    so batch boundaries move every epoch): a batch starting at a sample of length ``L``
    takes as many samples as ``count * cost(L) <= max_tokens`` allows, at most
    ``max_batch_size``, and a multiple of ``batch_size_multiple`` when it holds at least that
    many (as fairseq's ``required_batch_size_multiple``), except the last batch of each window.
    ``cost(L)`` is ``L``, or ``L + L**2 / quadratic`` with ``quadratic`` set (attention-like
    cost, as lhotse's ``quadratic_duration``). Windows are consecutive samples of the epoch's
    random order, so batches are fresh every epoch; the batches are then put in a random order
    where batches of near-equal cost form runs of ``balance`` (see
    `samplekit.batchers.grouping`).

    A sample that alone costs more than ``max_tokens`` is an error at construction, or, with
    ``oversize="drop"``, is left out of every epoch (counted in `oversized`, with an
    `OversizeWarning`). ``drop_last`` only affects how batches are shared among ranks.

    Attributes:
        oversized: how many samples are left out because they exceed ``max_tokens``.
    """

    name = "token_budget"
    needs_lengths: ClassVar[bool] = True

    class Options(samplekit.Options):
        """Options of ``token_budget``."""

        max_tokens: int = Field(
            ge=1,
            le=2**62,
            description="The padded cost (longest length x samples) no batch exceeds.",
        )
        max_batch_size: int | None = Field(
            None, ge=1, le=2**31 - 1, description="At most this many samples per batch."
        )
        batch_size_multiple: int = Field(
            1,
            ge=1,
            le=2**31 - 1,
            description="Batches of at least this many samples hold a multiple of it (as "
            "fairseq's required_batch_size_multiple), except the last batch of each window.",
        )
        quadratic: float | None = Field(
            None,
            gt=0,
            le=1e300,
            description="Count a sample of length L as L + L**2 / quadratic (attention-like "
            "cost, as lhotse's quadratic_duration); unset: L.",
        )
        oversize: Literal["error", "drop"] = Field(
            "error",
            description="A sample costing more than max_tokens alone: 'error' at construction, "
            "or 'drop' it from every epoch (counted, with a warning).",
        )
        window: int = Field(
            DEFAULT_WINDOW,
            ge=1,
            le=2**40,
            description="Samples sorted by length together: larger pads less, smaller keeps "
            "more of the random order.",
        )
        balance: int = Field(
            DEFAULT_BALANCE,
            ge=1,
            le=2**31 - 1,
            description="Batches of similar cost come in runs of this many, so ranks of one "
            "step are balanced when it is a multiple of the world size; 1 shuffles batches "
            "freely.",
        )

    def __init__(self, options: Any, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        assert self.lengths is not None
        cost = self._sample_cost(self.lengths)
        too_long = cost > options.max_tokens
        self.oversized = int(too_long.sum())
        self._keep: torch.Tensor | None = None
        if self.oversized:
            first = int(torch.nonzero(too_long)[0])
            longest = int(self.lengths[too_long].max())
            what = (
                f"{self.oversized} sample(s) cost more than max_tokens={options.max_tokens} "
                f"alone (the first is sample {first}, of length {int(self.lengths[first])}; "
                f"the longest is {longest})"
            )
            if options.oversize == "error":
                msg = (
                    f"token_budget: {what}; raise max_tokens, shorten those samples, or pass "
                    f"oversize='drop' to leave them out"
                )
                raise ConfigError(msg)
            warnings.warn(
                f"token_budget: {what}; they are left out of every epoch (oversize='drop')",
                OversizeWarning,
                stacklevel=2,
            )
            self._keep = ~too_long
        # How many samples a batch whose longest sample has length L holds, per possible L.
        kept = self.lengths if self._keep is None else self.lengths[self._keep]
        mean = float(kept.double().mean()) if kept.numel() else 1.0
        nominal = options.max_tokens // max(1, math.ceil(mean))
        self._nominal = options.max_batch_size or max(1, nominal)
        # Capacities by length, looked up per batch, when lengths are small enough to table.
        longest = int(kept.max()) if kept.numel() else 0
        self._table = self._capacity(torch.arange(longest + 1)) if longest < _TABLE else None

    @property
    def nominal_batch_size(self) -> int:
        """``max_batch_size``, else ``max_tokens // ceil(mean length)``: what strategies see."""
        nominal: int = self._nominal
        return nominal

    def _sample_cost(self, lengths: torch.Tensor) -> torch.Tensor:
        quadratic = self.options.quadratic
        if quadratic is None:
            return lengths.to(torch.int64)
        wide = lengths.to(torch.float64)
        cost: torch.Tensor = wide + wide * wide / quadratic
        return cost

    def cost(self, lengths: torch.Tensor) -> float:
        """Longest cost x count: ``max(cost(L)) * len(lengths)``."""
        if not lengths.numel():
            return 0.0
        return float(self._sample_cost(lengths.max().reshape(1))[0]) * lengths.numel()

    @property
    def budget(self) -> float:
        """``max_tokens``."""
        return float(self.options.max_tokens)

    def _capacity(self, longest: torch.Tensor) -> np.ndarray[Any, Any]:
        """How many samples a batch holds when its longest sample has length ``longest``."""
        opts = self.options
        limit = opts.max_batch_size or 2**31 - 1
        cost = self._sample_cost(longest)
        if opts.quadratic is None:
            cap = torch.where(cost > 0, opts.max_tokens // cost.clamp(min=1), limit)
        else:
            cap = torch.where(
                cost > 0, torch.floor(opts.max_tokens / cost.clamp(min=1e-300)), float(limit)
            )
            cap = cap - (cap * cost > opts.max_tokens).to(cap.dtype)  # float rounding
            cap = cap.clamp(max=limit).to(torch.int64)
        cap = cap.clamp(min=1, max=limit)
        multiple = opts.batch_size_multiple
        if multiple > 1:
            cap = torch.where(cap >= multiple, cap // multiple * multiple, cap)
        result: np.ndarray[Any, Any] = cap.numpy()
        return result

    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        """Sort windows by length, cut each greedily by the budget, order batches in runs."""
        assert self.lengths is not None
        if self._keep is not None:
            order = order[self._keep[order]]
        n = order.numel()
        if n == 0:
            return Batches(order, torch.zeros(1, dtype=torch.int64))
        window = window_size(self.options.window)
        grouped, keys = sort_in_windows(order, self.lengths, window)
        table, sizes = self._table, keys.numpy()
        full = self._capacity(keys) if table is None else None

        def capacity(i: int) -> int:  # how many samples a batch starting at position i holds
            return int(table[sizes[i]]) if table is not None else int(full[i])  # type: ignore[index]

        # Each window's first batch takes a random 1..capacity samples, so batch boundaries
        # move every epoch even where lengths are far apart (a long tail).
        firsts = torch.arange(0, n, window)
        # (a multiple of batch_size_multiple, as every batch that can hold one)
        multiple = self.options.batch_size_multiple
        room = torch.tensor([capacity(i) for i in firsts.tolist()], dtype=torch.int64)
        steps = torch.where(room >= multiple, room // multiple, room).to(torch.float64)
        draws = torch.rand(firsts.numel(), generator=generator, dtype=torch.float64)
        first_sizes = (draws * steps).to(torch.int64) + 1
        first_sizes = torch.where(room >= multiple, first_sizes * multiple, first_sizes)
        starts: list[int] = []
        for begin, first in zip(firsts.tolist(), first_sizes.tolist(), strict=True):
            end, at = min(begin + window, n), begin
            starts.append(at)
            at += first
            while at < end:
                starts.append(at)
                at += capacity(at)
        starts.append(n)
        offsets = torch.tensor(starts, dtype=torch.int64)  # a window's last batch stops at its end
        longest = self._sample_cost(keys[offsets[:-1]])
        costs = longest.to(torch.float64) * (offsets[1:] - offsets[:-1])
        grouped, offsets = reorder(
            grouped, offsets, balanced_order(costs, self.options.balance, generator)
        )
        return Batches(grouped, offsets)


@hookimpl
def samplekit_register_batchers(register: RegisterBatcher) -> None:
    """Register ``token_budget``."""
    register(TokenBudget)
