"""Iterations of one sampler: len under DataLoader workers, superseded iterators, set_epoch."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import samplekit
from samplekit import EpochBatchSampler, StaleIteratorError


class Growing(samplekit.Strategy):
    """Every sample of the first 8 + 4 * epoch, shuffled: an epoch length that changes."""

    name = "growing_for_tests"

    def epoch_length(self, epoch: int) -> int:
        return min(len(self.labels), 8 + 4 * epoch)

    def sample(self, ctx: samplekit.EpochContext) -> torch.Tensor:
        n = self.epoch_length(ctx.epoch)
        return torch.randperm(n, generator=ctx.generator)


def growing(**kwargs: Any) -> EpochBatchSampler:
    return EpochBatchSampler([0] * 64, Growing, batch_size=4, **kwargs)


def loader_for(sampler: EpochBatchSampler, workers: int, persistent: bool) -> DataLoader[Any]:
    dataset = TensorDataset(torch.arange(64))
    if workers == 0:
        return DataLoader(dataset, batch_sampler=sampler)
    return DataLoader(
        dataset, batch_sampler=sampler, num_workers=workers, persistent_workers=persistent
    )


@pytest.mark.parametrize(("workers", "persistent"), [(0, False), (1, False), (2, False), (2, True)])
@pytest.mark.parametrize("call_set_epoch", [False, True])
def test_len_is_the_running_epochs_at_every_step(
    workers: int, persistent: bool, call_set_epoch: bool
) -> None:
    # torch's test_len and test_partial_workers, for a batch sampler whose epochs differ in
    # length: workers take every batch of an epoch before the loop has seen them.
    sampler = growing()
    loader = loader_for(sampler, workers, persistent)
    for epoch in range(4):
        if call_set_epoch:
            sampler.set_epoch(epoch)
        lengths, seen = [], []
        for (xb,) in loader:
            lengths.append((len(loader), len(sampler), sampler.epoch))
            seen.append(xb.tolist())
        expected = 2 + epoch  # (8 + 4 * epoch) / 4 batches
        assert lengths == [(expected, expected, epoch)] * expected
        assert seen == list(growing().epoch_batches(epoch))


def test_a_loop_broken_mid_epoch_under_workers_skips_what_the_workers_took() -> None:
    # Documented: the sampler counts the batches handed to the DataLoader; workers hold up to
    # num_workers * prefetch_factor batches the loop has not seen, and the next pass goes on
    # after them. StatefulDataLoader (below) is exact.
    sampler = EpochBatchSampler(torch.arange(200) % 2, "stratified", batch_size=4)
    reference = list(sampler.epoch_batches(0))
    loader = DataLoader(
        TensorDataset(torch.arange(200)), batch_sampler=sampler, num_workers=2, prefetch_factor=2
    )
    seen = []
    for (xb,) in loader:
        seen.append(xb.tolist())
        if len(seen) == 5:
            break
    rest = [xb.tolist() for (xb,) in loader]
    assert seen == reference[:5]
    assert rest == reference[5 + 2 * 2 :]


def test_a_new_iteration_supersedes_an_older_one() -> None:
    sampler = EpochBatchSampler(torch.arange(64) % 2, "stratified", batch_size=4)
    reference = list(sampler.epoch_batches(0))
    first = iter(sampler)
    assert next(first) == reference[0]
    second = iter(sampler)
    assert next(second) == reference[1]  # a new iteration goes on where the epoch stood
    with pytest.raises(StaleIteratorError, match="superseded"):
        next(first)
    assert sampler.state_dict()["cursor"]["global_batches"] == 2  # the stale one moved nothing
    assert [next(second) for _ in range(14)] == reference[2:]
    assert sampler.state_dict()["cursor"]["global_batches"] == len(sampler) == 16
    with pytest.raises(StopIteration):
        next(second)


def test_interleaved_iterators_never_push_the_position_beyond_len() -> None:
    sampler = EpochBatchSampler(torch.arange(64) % 2, "stratified", batch_size=4)
    iterators = [iter(sampler) for _ in range(3)]
    pulled = 0
    for _ in range(40):
        for it in iterators:
            try:
                next(it)
                pulled += 1
            except (StaleIteratorError, StopIteration):
                pass
            assert 0 <= sampler.state_dict()["cursor"]["global_batches"] <= len(sampler)
    assert pulled == 16  # each batch handed out once


def test_set_epoch_during_an_iteration_gives_the_whole_epoch_next() -> None:
    sampler = EpochBatchSampler(torch.arange(64) % 2, "stratified", batch_size=4)
    old = iter(sampler)
    for _ in range(5):
        next(old)
    sampler.set_epoch(1)
    with pytest.raises(StaleIteratorError, match="set_epoch"):
        for _ in old:  # whatever the old iterator does ...
            pass
    batches = list(sampler)  # ... the next iteration is the whole of epoch 1
    assert len(batches) == 16
    assert batches == list(sampler.epoch_batches(1))


def test_set_epoch_twice_replays_the_whole_epoch() -> None:
    sampler = EpochBatchSampler(torch.arange(64) % 2, "stratified", batch_size=4)
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first
    for _ in sampler:  # a broken pass of epoch 1: the loop drops its iterator
        break
    sampler.set_epoch(1)
    assert list(sampler) == list(sampler.epoch_batches(1))  # whole, not the rest


def test_set_epoch_of_the_epoch_an_alive_iterator_is_in_leaves_it_alone() -> None:
    # Lightning calls set_epoch in on_train_epoch_start, after its first iter(loader): with
    # workers the loader has already taken batches from the sampler by then.
    sampler = EpochBatchSampler(torch.arange(64) % 2, "stratified", batch_size=4)
    loader = DataLoader(TensorDataset(torch.arange(64)), batch_sampler=sampler, num_workers=2)
    iterator = iter(loader)  # the workers take their first batches
    sampler.set_epoch(0)
    assert [xb.tolist() for (xb,) in iterator] == list(sampler.epoch_batches(0))
    sampler.set_epoch(1)
    assert [xb.tolist() for (xb,) in loader] == list(sampler.epoch_batches(1))


def test_load_state_dict_supersedes_a_running_iteration() -> None:
    def build() -> EpochBatchSampler:
        return EpochBatchSampler(torch.arange(64) % 2, "stratified", batch_size=4)

    source = build()
    it = iter(source)
    for _ in range(3):
        next(it)
    state = source.state_dict()
    sampler = build()
    running = iter(sampler)
    next(running)
    sampler.load_state_dict(state)
    with pytest.raises(StaleIteratorError):
        next(running)
    assert list(sampler) == list(build().epoch_batches(0))[3:]


def test_a_superseded_iterator_at_its_end_simply_ends() -> None:
    # set_epoch inside the loop body after the last batch (num_workers=0) must not fail.
    sampler = EpochBatchSampler(torch.arange(16) % 2, "stratified", batch_size=4)
    count = 0
    for _ in sampler:
        count += 1
        if count == len(sampler):
            sampler.set_epoch(1)
    assert count == 4
    assert list(sampler) == list(sampler.epoch_batches(1))


def test_epoch_and_len_after_a_full_loop_name_that_loop() -> None:
    sampler = growing()
    batches = list(sampler)
    assert (sampler.epoch, len(sampler), len(batches)) == (0, 2, 2)
    nxt = list(sampler)
    assert (sampler.epoch, len(sampler), len(nxt)) == (1, 3, 3)
