"""Shared steps of the length-aware batchers: sort within windows, order batches by cost.

- `sort_in_windows`: cut the order into consecutive windows of ``window`` samples and sort each
  by length, longest first. Windows are fresh each epoch (the strategy's order is), so the
  batches are too; ties keep the strategy's order.
- `balanced_order`: an order of batches where batches of near-equal cost sit in runs of
  ``run`` consecutive batches. Ranks take consecutive batches of one step (rank ``r`` takes
  every ``world_size``-th), so when ``run`` is a multiple of the world size every step's
  batches come from one run and cost about the same: no rank waits for a straggler. The runs
  are shuffled; the one partial run (the cheapest batches) comes last, so the full runs stay
  aligned with the steps.
- `rotate_windows`: rotate each window by its own shift (moves batch boundaries each epoch).
- `reorder`: the batches of an order, rearranged.

The global plan never depends on the world size, so every rank computes the same one.

Examples:
    >>> import torch
    >>> from samplekit.batchers.grouping import balanced_order, reorder, sort_in_windows
    >>> lengths = torch.tensor([1, 5, 2, 8, 3, 9])
    >>> [t.tolist() for t in sort_in_windows(torch.arange(6), lengths, window=3)]
    [[1, 2, 0, 5, 3, 4], [5, 2, 1, 9, 8, 3]]
    >>> costs = torch.tensor([4.0, 9.0, 8.0, 3.0, 1.0])
    >>> order = balanced_order(costs, run=2, generator=torch.Generator().manual_seed(0))
    >>> sorted(order[:4].tolist()) == [0, 1, 2, 3] and order[4].item() == 4
    True
    >>> reorder(torch.arange(5), torch.tensor([0, 2, 5]), torch.tensor([1, 0]))[0].tolist()
    [2, 3, 4, 0, 1]
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["balanced_order", "reorder", "rotate_windows", "sort_in_windows", "window_size"]

#: Samples sorted together by default: enough to pad little, few enough that an epoch of 10**6
#: samples is sorted in 16 windows that change every epoch.
DEFAULT_WINDOW = 1 << 16


def window_size(window: int, multiple: int = 1) -> int:
    """``window`` rounded down to a multiple of ``multiple`` (at least ``multiple``)."""
    return max(multiple, window // multiple * multiple)


def sort_in_windows(
    order: torch.Tensor, lengths: torch.Tensor, window: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``order`` with each run of ``window`` samples sorted by length, longest first (stable).

    Args:
        order: the epoch's sample indices.
        lengths: per-sample lengths of all samples (indexed by ``order``).
        window: samples per window, at least 1; the last window may be shorter.

    Returns:
        The sorted order and the lengths of its samples, in that order.
    """
    n = order.numel()
    keys = lengths[order]
    if n == 0:
        return order, keys
    full = (n // window) * window
    orders, sorted_keys = [], []
    if full:
        ranks = _descending_ranks(keys[:full].view(-1, window))
        values = torch.gather(keys[:full].view(-1, window), 1, ranks)
        ranks += torch.arange(0, full, window).unsqueeze(1)
        orders.append(order[ranks.view(-1)])
        sorted_keys.append(values.view(-1))
    if full < n:
        tail = _descending_ranks(keys[full:].unsqueeze(0)).view(-1)
        orders.append(order[full:][tail])
        sorted_keys.append(keys[full:][tail])
    if len(orders) == 1:
        return orders[0], sorted_keys[0]
    return torch.cat(orders), torch.cat(sorted_keys)


def _descending_ranks(rows: torch.Tensor) -> torch.Tensor:
    """Per row, the positions that sort it longest first, ties in their order (stable).

    numpy's stable sort is a radix sort for 8- and 16-bit keys (lengths mostly fit int16), and
    a stable sort gives the same order on every machine, as every rank needs.
    """
    keys = rows.numpy()
    if keys.dtype.itemsize < 4 and keys.dtype.kind == "u":  # -x must not wrap around
        keys = keys.astype(np.int32 if keys.dtype.itemsize == 2 else np.int16)
    return torch.from_numpy(np.argsort(-keys, axis=1, kind="stable")).to(torch.int64)


def rotate_windows(
    tensors: tuple[torch.Tensor, ...], window: int, shifts: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """Each window of ``window`` consecutive elements rotated left by its entry of ``shifts``.

    The same rotation is applied to every tensor of ``tensors`` (all of one length). Windows
    sharing a shift are rotated together, so the cost is a few copies of the data.
    """
    n = tensors[0].numel()
    full = (n // window) * window
    rotated = [t.clone() for t in tensors]
    if full:
        for shift in torch.unique(shifts[: full // window]).tolist():
            if shift == 0:
                continue
            rows = torch.nonzero(shifts[: full // window] == shift).view(-1)
            for source, target in zip(tensors, rotated, strict=True):
                block = source[:full].view(-1, window)[rows]
                target[:full].view(-1, window)[rows] = torch.roll(block, -shift, dims=1)
    if full < n:
        shift = int(shifts[-1]) % (n - full)
        for source, target in zip(tensors, rotated, strict=True):
            target[full:] = torch.roll(source[full:], -shift)
    return tuple(rotated)


def balanced_order(costs: torch.Tensor, run: int, generator: torch.Generator) -> torch.Tensor:
    """A permutation of the batches: runs of ``run`` batches of near-equal cost, shuffled.

    Batches are sorted by cost, most expensive first (ties in random order), and cut into runs
    of ``run``; the full runs are shuffled, and the partial run, the cheapest, comes last.
    ``run=1`` is a plain shuffle of the batches.
    """
    count = costs.numel()
    shuffled = torch.randperm(count, generator=generator)
    if run == 1:
        return shuffled
    by_cost = shuffled[torch.sort(costs[shuffled], descending=True, stable=True).indices]
    full = (count // run) * run
    runs = torch.randperm(full // run, generator=generator)
    head = by_cost[:full].view(-1, run)[runs].view(-1)
    return torch.cat([head, by_cost[full:]])


def reorder(
    order: torch.Tensor, offsets: torch.Tensor, permutation: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batches ``order[offsets[b]:offsets[b + 1]]`` in the order ``permutation`` gives.

    Returns:
        The new order and its offsets (a tail of ``order`` beyond ``offsets[-1]`` is left out).
    """
    sizes = (offsets[1:] - offsets[:-1])[permutation]
    new_offsets = torch.zeros(sizes.numel() + 1, dtype=torch.int64)
    torch.cumsum(sizes, 0, out=new_offsets[1:])
    shift = torch.repeat_interleave(offsets[:-1][permutation] - new_offsets[:-1], sizes)
    source = torch.arange(int(new_offsets[-1]), dtype=torch.int64) + shift
    return order[source], new_offsets
