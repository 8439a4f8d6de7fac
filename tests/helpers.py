"""Label generators and checks shared by the test modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from hypothesis import strategies as st

if TYPE_CHECKING:
    from samplekit import EpochBatchSampler


@st.composite
def label_tensors(
    draw: st.DrawFn, *, min_size: int = 1, max_size: int = 3000, max_classes: int = 8
) -> torch.Tensor:
    """Skewed integer labels: class shares drawn from 1 .. 1000 (up to 1000x imbalance)."""
    n = draw(st.integers(min_size, max_size))
    k = draw(st.integers(1, min(max_classes, n)))
    values = draw(st.lists(st.integers(-1000, 1000), min_size=k, max_size=k, unique=True))
    weights = draw(st.lists(st.integers(1, 1000), min_size=k, max_size=k))
    counts = [max(1, n * w // sum(weights)) for w in weights]
    counts[0] += n - sum(counts)
    if counts[0] < 1:  # rounding took too much from the first class: rebalance
        counts = [1] * k
        counts[0] += n - k
    labels = torch.repeat_interleave(torch.tensor(values), torch.tensor(counts))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(draw(st.integers(0, 99))))
    return labels[order]


def all_batches(sampler: EpochBatchSampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return list(sampler)
