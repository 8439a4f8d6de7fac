"""stratified in O(N + classes) memory: many classes and tiny batches keep every guarantee."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from typing import TYPE_CHECKING

import torch
from helpers import label_tensors
from hypothesis import given
from hypothesis import strategies as st

from samplekit import EpochBatchSampler
from samplekit.strategies.stratified import Stratified

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def address_space_capped(extra_bytes: int) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``extra_bytes`` (Linux).

    An allocation beyond the cap fails with torch's "can't allocate memory" error instead of
    taking the machine's memory; elsewhere the block runs uncapped.
    """
    if sys.platform != "linux":
        yield
        return
    import resource
    from pathlib import Path

    status = Path("/proc/self/status").read_text()
    size_kib = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmSize")
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size_kib * 1024 + extra_bytes
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def check_epoch(labels: torch.Tensor, order: torch.Tensor, batch_size: int) -> None:
    """Every sample once; every full batch within 1 of each class's share, in O(N log N)."""
    n = labels.numel()
    assert torch.equal(torch.sort(order.long()).values, torch.arange(n))
    classes, counts = torch.unique(labels, return_counts=True)
    full = n // batch_size
    if not full:
        return
    share = counts.double() * batch_size / n  # expected count of each class per full batch
    klass = torch.searchsorted(classes, labels[order[: full * batch_size].long()])
    batch = torch.arange(full * batch_size) // batch_size
    pairs, got = torch.unique(batch * classes.numel() + klass, return_counts=True)
    present = pairs % classes.numel()
    assert bool(((got - share[present]).abs() <= 1).all())
    batches_with = torch.bincount(present, minlength=classes.numel())
    absent_somewhere = batches_with < full  # a count of 0 in some batch must be within 1 too
    assert bool((share[absent_somewhere] <= 1).all())


def test_forty_thousand_classes_with_batch_size_two_in_bounded_memory() -> None:
    n, n_classes = 80_000, 40_000
    gen = torch.Generator().manual_seed(0)
    # One class of half the samples (exactly 1 per batch), the others of 1 to 3 samples.
    rest = torch.randint(1, n_classes, (n // 2,), generator=gen)
    labels = torch.cat((torch.zeros(n // 2, dtype=torch.int64), rest))
    labels = labels[torch.randperm(n, generator=gen)]
    with address_space_capped(1 << 30):  # a batches x classes table would need 12.8 GB
        sampler = EpochBatchSampler(labels, "stratified", batch_size=2, seed=5)
        orders = [sampler.epoch_indices(epoch) for epoch in range(2)]
    for order in orders:
        check_epoch(labels, order, 2)
        assert bool((labels[order.long()].view(-1, 2) == 0).sum(1).eq(1).all())
    assert not torch.equal(orders[0], orders[1])


def test_ten_thousand_classes_in_bounded_memory() -> None:
    gen = torch.Generator().manual_seed(1)
    labels = torch.randint(10_000, (30_001,), generator=gen) * 7 - 3
    with address_space_capped(1 << 30):
        sampler = EpochBatchSampler(labels, "stratified", batch_size=2)
        order = sampler.epoch_indices(3)
    check_epoch(labels, order, 2)


@given(
    label_tensors(max_size=2000, max_classes=400),
    st.integers(1, 70),
    st.integers(0, 2**32),
    st.integers(0, 10_000),
)
def test_many_classes_every_sample_once_each_full_batch_within_one(
    labels: torch.Tensor, batch_size: int, seed: int, epoch: int
) -> None:
    sampler = EpochBatchSampler(labels, "stratified", batch_size=batch_size, seed=seed)
    order = sampler.epoch_indices(epoch)
    check_epoch(labels, order, batch_size)
    again = EpochBatchSampler(labels, "stratified", batch_size=batch_size, seed=seed)
    assert torch.equal(again.epoch_indices(epoch), order)


@given(label_tensors(max_size=5000, max_classes=300), st.integers(1, 600))
def test_shares_fill_every_full_batch_exactly(labels: torch.Tensor, batch_size: int) -> None:
    sampler = EpochBatchSampler(labels, "stratified", batch_size=batch_size)
    strategy = sampler.strategy
    assert isinstance(strategy, Stratified)
    floor, extras = strategy.shares(batch_size)
    counts = strategy.class_index.counts
    n = labels.numel()
    full = n // batch_size
    assert int(extras.sum()) == full * (batch_size - int(floor.sum()))
    assert bool((extras >= 0).all())
    assert bool((extras <= full).all())
    assert bool((counts - full * floor - extras >= 0).all())  # the last batch holds the rest


def test_each_sample_visits_every_batch_and_place() -> None:
    labels = torch.tensor([0] * 24 + [1] * 12 + [2] * 4)
    sampler = EpochBatchSampler(labels, "stratified", batch_size=4, seed=11)
    batches: Counter[tuple[int, int]] = Counter()
    places: Counter[tuple[int, int]] = Counter()
    for epoch in range(300):
        order = sampler.epoch_indices(epoch).view(10, 4).tolist()
        for b, batch in enumerate(order):
            for place, i in enumerate(batch):
                batches[i, b] += 1
                places[i, place] += 1
    assert len(batches) == 40 * 10  # every sample in every batch at some epoch
    assert len(places) == 40 * 4  # and at every place of a batch


def test_positions_read_alone_in_blocks_or_all_at_once_agree() -> None:
    """Random access reads each batch's place in the dealing of extras from blocks of batches,
    or maps them alone when a call spans more: every way of asking gives one epoch."""
    from samplekit.rng import generator
    from samplekit.strategies.stratified import _DEALT
    from samplekit.strategy import EpochContext

    n, batch_size = 2 * (3 * _DEALT + 5) + 1, 2  # three blocks of full batches and a bit
    labels = (torch.arange(n) % 3 == 0).to(torch.uint8)
    strategy = Stratified(labels, Stratified.Options())
    ctx = EpochContext(epoch=4, seed=1, batch_size=batch_size, generator=generator(1, 4))
    whole = strategy.sample_at(ctx, torch.arange(n))  # spans every block: mapped alone
    check_epoch(labels, whole, batch_size)
    pieces = [strategy.sample_at(ctx, torch.arange(i, min(n, i + 600))) for i in range(0, n, 600)]
    assert torch.equal(torch.cat(pieces), whole)  # within a block, or across two
    shuffled = torch.randperm(n, generator=torch.Generator().manual_seed(3))[:5000]
    assert torch.equal(strategy.sample_at(ctx, shuffled), whole[shuffled])
