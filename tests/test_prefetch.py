import copy
import pickle
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import samplekit
from samplekit import EpochBatchSampler, EpochContext, StrategyOutputError

LABELS = torch.arange(3000) % 7 == 0


@pytest.mark.parametrize(
    ("strategy", "options"),
    [("negative_subsampling", {"neg_ratio": 0.2}), ("stratified", {}), ("class_weighted", {})],
)
def test_prefetch_changes_nothing_but_timing(strategy: str, options: dict[str, Any]) -> None:
    plain = EpochBatchSampler(LABELS, strategy, batch_size=64, seed=5, **options)
    ahead = EpochBatchSampler(LABELS, strategy, batch_size=64, seed=5, prefetch=True, **options)
    for _ in range(3):  # epochs 0, 1, 2 as a loop without set_epoch
        assert list(ahead) == list(plain)
    for epoch in (7, 3, 3, 0):  # jumps: a prefetched epoch that is not asked for is dropped
        ahead.set_epoch(epoch)
        plain.set_epoch(epoch)
        assert list(ahead) == list(plain)


def test_prefetch_resumes_mid_epoch() -> None:
    ahead = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=True)
    iterator = iter(ahead)
    taken = [next(iterator) for _ in range(5)]
    state = ahead.state_dict()
    resumed = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=True)
    resumed.load_state_dict(state)
    assert taken + list(resumed) == list(ahead.epoch_batches(0))


def test_prefetched_strategy_errors_reach_the_consumer() -> None:
    class Broken(samplekit.Strategy):
        name = "broken_later"

        def epoch_length(self, epoch: int) -> int:
            return 4

        def sample(self, ctx: EpochContext) -> torch.Tensor:
            return torch.arange(4) if ctx.epoch == 0 else torch.arange(3)

    sampler = EpochBatchSampler([0] * 10, Broken, batch_size=2, prefetch=True)
    assert len(list(sampler)) == 2
    with pytest.raises(StrategyOutputError, match="epoch 1"):
        list(sampler)


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))])
def test_a_prefetching_sampler_copies(
    clone: Callable[[EpochBatchSampler], EpochBatchSampler],
) -> None:
    sampler = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=True)
    twin = clone(sampler)
    assert list(twin) == list(sampler)


class Recording(samplekit.Strategy):
    """Every sample, shuffled; records which thread built which epoch."""

    name = "recording"
    calls: ClassVar[list[tuple[int, str]]] = []

    def epoch_length(self, epoch: int) -> int:
        return len(self.labels)

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        self.calls.append((ctx.epoch, threading.current_thread().name))
        return torch.randperm(len(self.labels), generator=ctx.generator)


def wait_for_prefetch() -> None:
    for thread in threading.enumerate():
        if thread.name == "samplekit-prefetch":
            thread.join(timeout=30)


def test_later_epochs_are_built_once_in_the_background() -> None:
    Recording.calls = []
    sampler = EpochBatchSampler(LABELS, Recording, batch_size=64, prefetch=True)
    assert not Recording.calls, "nothing is prepared before the first iteration"
    for _ in range(3):
        list(sampler)
    wait_for_prefetch()
    built = dict(Recording.calls)
    assert sorted(epoch for epoch, _ in Recording.calls) == [0, 1, 2, 3]  # each once, 3 ahead
    assert built[0] == threading.current_thread().name
    assert {built[1], built[2], built[3]} == {"samplekit-prefetch"}


def test_a_loop_stopped_mid_epoch_keeps_the_prepared_epoch() -> None:
    Recording.calls = []
    sampler = EpochBatchSampler(LABELS, Recording, batch_size=64, prefetch=True)
    batch = next(iter(sampler))  # stop after one batch: epoch 1 is already being prepared
    rest = list(sampler)  # epoch 0 again (not prepared), resuming at its second batch
    list(sampler)  # epoch 1: the prepared one
    wait_for_prefetch()
    assert sorted(epoch for epoch, _ in Recording.calls) == [0, 0, 1, 2]
    assert [batch, *rest] == list(sampler.epoch_batches(0))


def test_prefetch_with_persistent_dataloader_workers() -> None:
    dataset = TensorDataset(torch.arange(len(LABELS)))
    batches = {}
    for prefetch in (False, True):
        sampler = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=prefetch)
        loader = DataLoader(dataset, batch_sampler=sampler, num_workers=2, persistent_workers=True)
        batches[prefetch] = [[b[0].tolist() for b in loader] for _ in range(2)]
    assert batches[True] == batches[False]
