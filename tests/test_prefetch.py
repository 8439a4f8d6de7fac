import copy
import pickle

import pytest
import torch

import samplekit
from samplekit import EpochBatchSampler, StrategyOutputError

LABELS = torch.arange(3000) % 7 == 0


@pytest.mark.parametrize(
    ("strategy", "options"),
    [("negative_subsampling", {"neg_ratio": 0.2}), ("stratified", {}), ("class_weighted", {})],
)
def test_prefetch_changes_nothing_but_timing(strategy, options):
    plain = EpochBatchSampler(LABELS, strategy, batch_size=64, seed=5, **options)
    ahead = EpochBatchSampler(LABELS, strategy, batch_size=64, seed=5, prefetch=True, **options)
    for _ in range(3):  # epochs 0, 1, 2 as a loop without set_epoch
        assert list(ahead) == list(plain)
    for epoch in (7, 3, 3, 0):  # jumps: a prefetched epoch that is not asked for is dropped
        ahead.set_epoch(epoch)
        plain.set_epoch(epoch)
        assert list(ahead) == list(plain)


def test_prefetch_resumes_mid_epoch():
    ahead = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=True)
    iterator = iter(ahead)
    taken = [next(iterator) for _ in range(5)]
    state = ahead.state_dict()
    resumed = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=True)
    resumed.load_state_dict(state)
    assert taken + list(resumed) == list(ahead.epoch_batches(0))


def test_prefetched_strategy_errors_reach_the_consumer():
    class Broken(samplekit.Strategy):
        name = "broken_later"

        def epoch_length(self, epoch):
            return 4

        def sample(self, ctx):
            return torch.arange(4) if ctx.epoch == 0 else torch.arange(3)

    sampler = EpochBatchSampler([0] * 10, Broken, batch_size=2, prefetch=True)
    assert len(list(sampler)) == 2
    with pytest.raises(StrategyOutputError, match="epoch 1"):
        list(sampler)


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))])
def test_a_prefetching_sampler_copies(clone):
    sampler = EpochBatchSampler(LABELS, "stratified", batch_size=64, prefetch=True)
    twin = clone(sampler)
    assert list(twin) == list(sampler)
