"""Each built-in strategy's own guarantees, as hypothesis properties over skewed labels."""

import math
from collections import Counter
from typing import TYPE_CHECKING, cast
from unittest import mock

import torch
from helpers import label_tensors
from hypothesis import assume, given
from hypothesis import strategies as st

from samplekit import EpochBatchSampler

if TYPE_CHECKING:
    from samplekit.strategies.negative_subsampling import NegativeSubsampling

batch_sizes = st.integers(1, 300)
seeds = st.integers(0, 2**32)
epochs = st.integers(0, 10_000)


def check_common(sampler: EpochBatchSampler, epoch: int) -> list[list[int]]:
    """Range, batch sizes, len, reproducibility: what every strategy owes."""
    sampler.set_epoch(epoch)
    expected = len(sampler)
    size = sampler.batch_size
    assert size is not None  # the fixed batcher's
    batches = []
    for batch in sampler:
        assert len(sampler) == expected
        batches.append(batch)
    assert len(batches) == expected
    n = sampler.labels.numel()
    assert all(0 <= i < n for b in batches for i in b)
    assert all(len(b) == size for b in batches[:-1])
    if batches:
        assert 0 < len(batches[-1]) <= size
        if sampler.drop_last:
            assert len(batches[-1]) == size
    total = sampler.strategy.epoch_length(epoch)
    dropped = total % size if sampler.drop_last else 0
    assert sum(len(b) for b in batches) == total - dropped
    assert list(sampler.epoch_batches(epoch)) == batches  # pure function of (seed, epoch)
    return batches


@given(label_tensors(), st.floats(0.01, 1.0), batch_sizes, seeds, epochs, st.booleans())
def test_negative_subsampling_keeps_every_positive_once(
    labels: torch.Tensor, ratio: float, size: int, seed: int, epoch: int, drop: bool
) -> None:
    negative = int(labels[0])
    assume(bool((labels != negative).any()))
    sampler = EpochBatchSampler(
        labels,
        "negative_subsampling",
        batch_size=size,
        seed=seed,
        drop_last=drop,
        neg_ratio=ratio,
        negative_label=negative,
    )
    batches = check_common(sampler, epoch)
    flat = (
        [i for b in sampler.epoch_batches(epoch) for i in b]
        if drop
        else [i for b in batches for i in b]
    )
    full = sampler.epoch_indices(epoch).tolist()
    positives = sorted(i for i in full if labels[i] != negative)
    assert positives == torch.nonzero(labels != negative).flatten().tolist()
    negatives = [i for i in full if labels[i] == negative]
    strategy = cast("NegativeSubsampling", sampler.strategy)
    assert len(negatives) == len(set(negatives)) == strategy.k
    n_neg = int((labels == negative).sum())
    assert strategy.k == min(n_neg, max(1, round(n_neg * ratio)))
    assert len(flat) <= len(full)


@given(label_tensors(min_size=20), st.floats(0.05, 0.5), seeds)
def test_negative_subsampling_epochs_differ(labels: torch.Tensor, ratio: float, seed: int) -> None:
    negative = int(labels[0])
    n_neg = int((labels == negative).sum())
    assume(bool((labels != negative).any()) and n_neg >= 20)
    sampler = EpochBatchSampler(
        labels,
        "negative_subsampling",
        batch_size=8,
        seed=seed,
        neg_ratio=ratio,
        negative_label=negative,
    )
    selections = {frozenset(sampler.epoch_indices(e).tolist()) for e in range(4)}
    assert len(selections) > 1


@given(label_tensors(), st.floats(0.01, 1.0), st.integers(1, 64), seeds)
def test_negative_subsampling_cycle_sees_every_negative_before_repeats(
    labels: torch.Tensor, ratio: float, size: int, seed: int
) -> None:
    negative = int(labels[0])
    assume(bool((labels != negative).any()))
    sampler = EpochBatchSampler(
        labels,
        "negative_subsampling",
        batch_size=size,
        seed=seed,
        neg_ratio=ratio,
        negative_label=negative,
        cycle=True,
    )
    strategy = cast("NegativeSubsampling", sampler.strategy)
    n_neg, k, per_cycle = strategy.negatives.numel(), strategy.k, strategy.epochs_per_cycle
    assert per_cycle == -(-n_neg // k)
    for cycle in range(2):
        seen: Counter[int] = Counter()
        for epoch in range(cycle * per_cycle, (cycle + 1) * per_cycle):
            picked = [i for i in sampler.epoch_indices(epoch).tolist() if labels[i] == negative]
            assert len(picked) == len(set(picked)) == k  # no repeat inside an epoch
            if len(seen) < n_neg:  # until all were seen once, nothing is seen twice
                assert all(seen[i] == 0 for i in picked) or len(seen) + k > n_neg
            seen.update(picked)
        assert len(seen) == n_neg  # a cycle covers every negative
        assert max(seen.values()) <= 2
        assert sum(v - 1 for v in seen.values()) == per_cycle * k - n_neg


@given(label_tensors(), batch_sizes, seeds, epochs, st.booleans())
def test_stratified_every_sample_once_and_each_batch_within_one(
    labels: torch.Tensor, size: int, seed: int, epoch: int, drop: bool
) -> None:
    sampler = EpochBatchSampler(labels, "stratified", batch_size=size, seed=seed, drop_last=drop)
    check_common(sampler, epoch)
    order = sampler.epoch_indices(epoch)
    assert sorted(order.tolist()) == list(range(labels.numel()))
    classes, counts = torch.unique(labels, return_counts=True)
    n = labels.numel()
    for start in range(0, n - size + 1, size):
        batch = labels[order[start : start + size].long()]
        for value, count in zip(classes.tolist(), counts.tolist(), strict=True):
            got = int((batch == value).sum())
            assert abs(got - size * count / n) <= 1, (value, got, size * count / n)


@given(label_tensors(min_size=40), st.integers(2, 16), seeds)
def test_stratified_epochs_differ(labels: torch.Tensor, size: int, seed: int) -> None:
    sampler = EpochBatchSampler(labels, "stratified", batch_size=size, seed=seed)
    assert len({tuple(sampler.epoch_indices(e).tolist()) for e in range(3)}) > 1


@given(label_tensors(), batch_sizes, seeds, epochs, st.booleans(), st.integers(1, 5000))
def test_class_weighted_with_replacement_contract(
    labels: torch.Tensor, size: int, seed: int, epoch: int, drop: bool, num: int
) -> None:
    sampler = EpochBatchSampler(
        labels, "class_weighted", batch_size=size, seed=seed, drop_last=drop, num_samples=num
    )
    check_common(sampler, epoch)
    assert sampler.strategy.epoch_length(epoch) == num


@given(label_tensors(), batch_sizes, seeds, epochs, st.data())
def test_class_weighted_without_replacement_draws_distinct(
    labels: torch.Tensor, size: int, seed: int, epoch: int, data: st.DataObject
) -> None:
    classes = torch.unique(labels).tolist()
    weights = {c: data.draw(st.sampled_from([0.0, 0.5, 1.0, 20.0])) for c in classes}
    weights[classes[0]] = 1.0
    drawable = sum(int((labels == c).sum()) for c, w in weights.items() if w > 0)
    num = data.draw(st.integers(1, drawable))
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=size,
        seed=seed,
        class_weights=weights,
        num_samples=num,
        replacement=False,
    )
    check_common(sampler, epoch)
    picked = sampler.epoch_indices(epoch).tolist()
    assert len(picked) == len(set(picked)) == num
    assert all(weights[int(labels[i])] > 0 for i in picked)


@given(label_tensors(min_size=50), seeds)
def test_class_weighted_balanced_evens_out_classes(labels: torch.Tensor, seed: int) -> None:
    classes = torch.unique(labels)
    k = classes.numel()
    num = 4000
    sampler = EpochBatchSampler(
        labels, "class_weighted", batch_size=100, seed=seed, num_samples=num
    )
    drawn = labels[sampler.epoch_indices(0).long()]
    p = 1 / k
    sigma = (num * p * (1 - p)) ** 0.5
    for value in classes.tolist():
        assert abs(int((drawn == value).sum()) - num * p) <= 6 * sigma + 1


def test_class_weighted_without_replacement_beyond_torch_multinomial_limit() -> None:
    n = 2**24 + 10  # torch.multinomial refuses more categories than 2**24
    labels = torch.zeros(n, dtype=torch.uint8)
    labels[:1000] = 1
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=4096,
        seed=1,
        class_weights={0: 1.0, 1: 50.0},
        num_samples=20_000,
        replacement=False,
    )
    picked = sampler.epoch_indices(0)
    assert torch.unique(picked).numel() == 20_000
    positives = int((picked < 1000).sum())
    # Efraimidis-Spirakis: drawn iff its Exp(w) key is below t, where the expected count is 20,000.
    low, high = 0.0, 1.0
    for _ in range(60):
        t = (low + high) / 2
        drawn = (n - 1000) * -math.expm1(-t) + 1000 * -math.expm1(-50 * t)
        low, high = (t, high) if drawn < 20_000 else (low, t)
    p = -math.expm1(-50 * t)
    expected, sigma = 1000 * p, math.sqrt(1000 * p * (1 - p))  # about 58 and 7.4
    assert abs(positives - expected) < 6 * sigma


@given(
    label_tensors(),
    st.floats(0.01, 1.0),
    st.booleans(),
    seeds,
    st.integers(0, 40),
    st.lists(st.integers(0, 2**20), max_size=40),
)
def test_negative_subsampling_reads_slots_alike_either_way(
    labels: torch.Tensor, ratio: float, cycle: bool, seed: int, epoch: int, picks: list[int]
) -> None:
    """Reading every slot as a negative then the positives over them (few positives) gives what
    splitting the slots gives, at any positions, with and without cycle."""
    import samplekit.strategies.negative_subsampling as module

    negative = int(labels[0])
    assume(bool((labels != negative).any()))
    sampler = EpochBatchSampler(
        labels,
        "negative_subsampling",
        batch_size=8,
        seed=seed,
        neg_ratio=ratio,
        negative_label=negative,
        cycle=cycle,
    )
    strategy = cast("NegativeSubsampling", sampler.strategy)
    length = strategy.epoch_length(epoch)
    positions = torch.tensor([p % length for p in picks] + list(range(length)))
    ctx = sampler.epoch_context(epoch)
    read = {}
    for few in (0, 2**62):  # every slot read as a negative first; the slots split
        with mock.patch.object(module, "_FEW_POSITIVES", few):
            read[few] = strategy.sample_at(ctx, positions).tolist()
    assert read[0] == read[2**62]
