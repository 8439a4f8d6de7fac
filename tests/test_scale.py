"""Correctness at large N: what must still hold when the data outgrows toy sizes.

CI runs these just past PyTorch's 2**24-category limit. ``SAMPLEKIT_TEST_N=100000000 pytest
tests/test_scale.py`` runs them at 10**8 (about a minute and a few GiB).
"""

import os

import numpy as np
import pytest
import torch
from torch.utils.data import WeightedRandomSampler

from samplekit import EpochBatchSampler

TORCH_LIMIT = 2**24  # torch.multinomial(replacement=False) refuses more categories
N = int(os.environ.get("SAMPLEKIT_TEST_N", TORCH_LIMIT + 4099))


@pytest.fixture(scope="module")
def labels() -> torch.Tensor:
    """N binary labels, 1 % positives, in uint8 as a user with big data would hold them."""
    gen = torch.Generator().manual_seed(7)
    return (torch.rand(N, generator=gen) < 0.01).to(torch.uint8)


@pytest.fixture(scope="module")
def positives(labels: torch.Tensor) -> torch.Tensor:
    return torch.nonzero(labels).flatten()


def epoch_indices(sampler: EpochBatchSampler, epoch: int) -> torch.Tensor:
    """The epoch as the DataLoader sees it: the yielded batches, concatenated."""
    sampler.set_epoch(epoch)
    return torch.tensor([i for batch in sampler for i in batch], dtype=torch.int64)


def test_labels_and_indices_stay_small(labels: torch.Tensor) -> None:
    sampler = EpochBatchSampler(labels, "stratified", batch_size=256)
    assert sampler.labels.dtype == torch.uint8
    assert sampler.labels.data_ptr() == labels.data_ptr(), "binary uint8 labels were copied"
    assert sampler.epoch_indices(0).dtype == torch.int32  # N < 2**31
    wide = EpochBatchSampler(labels.long() * 1000, "stratified", batch_size=256)
    assert wide.labels.dtype == torch.int16


def test_negative_subsampling_keeps_every_positive_and_distinct_negatives(
    labels: torch.Tensor, positives: torch.Tensor
) -> None:
    sampler = EpochBatchSampler(labels, "negative_subsampling", batch_size=256, neg_ratio=0.01)
    n_neg = N - positives.numel()
    k = round(n_neg * 0.01)
    assert len(sampler) == -(-(positives.numel() + k) // 256)
    seen = []
    for epoch in range(2):
        got = epoch_indices(sampler, epoch)
        assert got.numel() == positives.numel() + k
        chosen = labels[got] == 0
        assert torch.equal(got[~chosen].sort().values, positives)
        negatives = got[chosen]
        assert torch.unique(negatives).numel() == k
        seen.append(negatives)
    assert not torch.equal(seen[0].sort().values, seen[1].sort().values)


def test_class_weighted_without_replacement_beyond_torchs_limit(labels: torch.Tensor) -> None:
    weights = torch.ones(N)  # torch annotates them Sequence[float], and takes a tensor
    with pytest.raises(RuntimeError, match="2\\^24"):
        list(WeightedRandomSampler(weights, 10, replacement=False))  # type: ignore[arg-type]
    draws = 1 << 20
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=1024,
        class_weights={0: 1.0, 1: 9.0},
        num_samples=draws,
        replacement=False,
    )
    got = epoch_indices(sampler, 0)
    assert got.numel() == draws
    assert torch.unique(got).numel() == draws
    assert int(got.min()) >= 0
    assert int(got.max()) < N
    # The first draw is a positive with probability 9 * 1 % / (9 * 1 % + 99 %) ~ 0.083, later
    # draws a little less as positives run out; a uniform draw would give 0.01.
    share = float(labels[got].float().mean())
    assert 0.06 < share < 0.10


def test_stratified_every_full_batch_in_proportion(
    labels: torch.Tensor, positives: torch.Tensor
) -> None:
    sampler = EpochBatchSampler(labels, "stratified", batch_size=512)
    got = sampler.epoch_indices(3).long()  # what the batches slice (checked at small N)
    assert got.numel() == N
    assert len(sampler) == -(-N // 512)
    assert bool((torch.bincount(got, minlength=N) == 1).all()), "not every sample exactly once"
    full = N // 512 * 512
    per_batch = labels[got[:full]].view(-1, 512).sum(1, dtype=torch.int64)
    expected = 512 * positives.numel() / N
    assert int(per_batch.min()) >= int(expected)
    assert int(per_batch.max()) <= int(expected) + 1


def test_labels_from_numpy_are_not_copied_per_sample(labels: torch.Tensor) -> None:
    array = labels.numpy()
    sampler = EpochBatchSampler(array, "negative_subsampling", batch_size=256, neg_per_pos=1.0)
    assert sampler.labels.data_ptr() == array.ctypes.data
    assert isinstance(array, np.ndarray)
