"""m_per_class: per-batch guarantees, epoch length, determinism and errors at construction."""

from collections import Counter

import pytest
import torch
from samplekit_mperclass import MPerClass

from samplekit import ConfigError, EpochBatchSampler, LabelsError

BALANCED = [c for c in range(10) for _ in range(20)]


def batch_classes(labels, batch):
    return Counter(int(labels[i]) for i in batch)


@pytest.mark.parametrize(("batch_size", "m"), [(8, 2), (12, 4), (10, 1), (30, 3), (5, 5)])
def test_every_full_batch_holds_m_of_distinct_classes(batch_size, m):
    sampler = EpochBatchSampler(BALANCED, MPerClass, batch_size=batch_size, m=m, seed=3)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler)
        for batch in batches:
            counts = batch_classes(BALANCED, batch)
            assert set(counts.values()) == {m}  # whole groups, also in a smaller last batch
            if len(batch) == batch_size:
                assert len(counts) == batch_size // m
            assert len(set(batch)) == len(batch)  # distinct classes, distinct samples


def test_epoch_length_is_whole_groups_of_the_labels():
    labels = [c for c in range(7) for _ in range(9)]  # 63 samples
    sampler = EpochBatchSampler(labels, MPerClass, batch_size=8, m=4)
    assert sampler.strategy.epoch_length(0) == 60  # 63 rounded down to a multiple of 4
    assert len(sampler) == 8  # 7 full batches and one of 4
    assert [len(b) for b in sampler][-2:] == [8, 4]
    dropped = EpochBatchSampler(labels, MPerClass, batch_size=8, m=4, drop_last=True)
    assert len(dropped) == len(list(dropped)) == 7


@pytest.mark.parametrize(("num_samples", "expected"), [(1, 3), (3, 3), (100, 99), (1000, 999)])
def test_num_samples_sets_the_epoch_length(num_samples, expected):
    sampler = EpochBatchSampler(BALANCED, MPerClass, batch_size=6, m=3, num_samples=num_samples)
    assert sampler.strategy.epoch_length(5) == expected
    assert sum(len(b) for b in sampler) == expected


def test_within_an_epoch_a_class_is_used_once_before_twice():
    labels = [c for c in range(4) for _ in range(6)]
    sampler = EpochBatchSampler(labels, MPerClass, batch_size=4, m=2, num_samples=96)
    indices = sampler.epoch_indices(0).tolist()
    for c in range(4):
        order = [i for i in indices if labels[i] == c]
        # Each class's samples come in passes of all 6 of them.
        for start in range(0, len(order) - 5, 6):
            assert sorted(order[start : start + 6]) == [i for i in range(24) if labels[i] == c]


def test_classes_are_dealt_evenly():
    labels = [c for c in range(12) for _ in range(50)]
    # 4 classes per batch, 3 batches per round of the 12 classes, 12 rounds of 12 groups of 3.
    sampler = EpochBatchSampler(labels, MPerClass, batch_size=12, m=3, num_samples=432)
    samples = Counter(labels[i] for i in sampler.epoch_indices(0).tolist())
    assert set(samples.values()) == {36}  # 12 groups of each class


def test_epochs_differ_and_are_reproducible():
    a = EpochBatchSampler(BALANCED, MPerClass, batch_size=8, m=2, seed=1)
    b = EpochBatchSampler(BALANCED, MPerClass, batch_size=8, m=2, seed=1)
    assert torch.equal(a.epoch_indices(4), b.epoch_indices(4))
    assert not torch.equal(a.epoch_indices(0), a.epoch_indices(1))


def test_ignores_the_global_rng():
    sampler = EpochBatchSampler(BALANCED, MPerClass, batch_size=8, m=2, seed=0)
    torch.manual_seed(0)
    first = sampler.epoch_indices(2)
    torch.manual_seed(12345)
    torch.rand(100)
    assert torch.equal(first, sampler.epoch_indices(2))


def test_replacement_fills_small_classes():
    labels = [0] * 10 + [1] * 2 + [2] * 10  # class 1 has fewer than m=4
    sampler = EpochBatchSampler(labels, MPerClass, batch_size=8, m=4, replacement=True)
    for epoch in range(5):
        for batch in sampler.epoch_batches(epoch):
            counts = batch_classes(labels, batch)
            assert set(counts.values()) == {4}
            assert len(counts) == len(batch) // 4


def test_replacement_is_unused_when_every_class_is_big_enough():
    plain = EpochBatchSampler(BALANCED, MPerClass, batch_size=8, m=2, seed=5)
    allowed = EpochBatchSampler(BALANCED, MPerClass, batch_size=8, m=2, seed=5, replacement=True)
    assert torch.equal(plain.epoch_indices(0), allowed.epoch_indices(0))


def test_many_classes_few_samples_each():
    labels = torch.arange(5000).repeat_interleave(2)
    sampler = EpochBatchSampler(labels, MPerClass, batch_size=64, m=2)
    indices = sampler.epoch_indices(0)
    assert indices.numel() == 10_000
    groups = labels[indices[: 156 * 64]].view(-1, 32, 2)  # full batches: 32 groups of 2
    assert bool((groups[..., 0] == groups[..., 1]).all())
    assert all(row.unique().numel() == 32 for row in groups[..., 0])


def test_a_class_smaller_than_m_is_a_labels_error():
    labels = [0] * 10 + [1] * 3 + [2] * 2
    with pytest.raises(LabelsError) as info:
        EpochBatchSampler(labels, MPerClass, batch_size=8, m=4)
    message = str(info.value)
    assert "m=4" in message
    assert "1: 3, 2: 2" in message
    assert "replacement=True" in message


@pytest.mark.parametrize(
    ("batch_size", "m", "fragments"),
    [
        (10, 4, ["batch_size=10", "m=4", "not a multiple", "batch_size=8 or 12"]),
        (3, 4, ["batch_size=3", "m=4", "batch_size=4 or 8"]),
        (24, 2, ["batch_size=24", "m=2", "12 distinct classes", "only 10", "batch_size <= 20"]),
    ],
)
def test_bad_batch_size_is_a_config_error(batch_size, m, fragments):
    with pytest.raises(ConfigError) as info:
        EpochBatchSampler(BALANCED, MPerClass, batch_size=batch_size, m=m)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("options", [{}, {"m": 0}, {"m": 2, "num_samples": 0}, {"m": 2, "k": 1}])
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        EpochBatchSampler(BALANCED, MPerClass, batch_size=8, **options)
