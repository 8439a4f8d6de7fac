import functools
import json
import random
from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from samplekit import (
    ConfigError,
    EpochBatchSampler,
    EpochContext,
    SamplerConfig,
    StaleIteratorError,
    Strategy,
    StrategyConfig,
    StrategyOutputError,
)

ORIGIN = [0] * 80 + [1] * 20


def origin_labels() -> torch.Tensor:
    return torch.tensor(ORIGIN)[torch.randperm(100, generator=torch.Generator().manual_seed(3))]


def test_origin_scenario_four_batches_all_positives_fresh_negatives() -> None:
    labels = origin_labels()
    sampler = EpochBatchSampler(labels, "negative_subsampling", batch_size=10, neg_ratio=0.25)
    negatives_per_epoch = []
    for epoch in range(5):
        sampler.set_epoch(epoch)
        assert len(sampler) == 4
        batches = list(sampler)
        assert [len(b) for b in batches] == [10, 10, 10, 10]
        flat = [i for b in batches for i in b]
        positives = sorted(i for i in flat if labels[i] == 1)
        negatives = [i for i in flat if labels[i] == 0]
        assert positives == sorted(torch.nonzero(labels == 1).flatten().tolist())
        assert len(negatives) == len(set(negatives)) == 20
        negatives_per_epoch.append(frozenset(negatives))
    assert len(set(negatives_per_epoch)) == 5  # each epoch drew other negatives


def test_origin_scenario_through_a_dataloader() -> None:
    labels = origin_labels()
    dataset = TensorDataset(torch.randn(100, 3), labels)
    sampler = EpochBatchSampler(labels, "negative_subsampling", batch_size=10, neg_ratio=0.25)
    loader = DataLoader(dataset, batch_sampler=sampler)
    assert len(loader) == 4
    ys = [yb for _, yb in loader]
    assert len(ys) == 4
    assert int(torch.cat(ys).sum()) == 20


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("strategy", ["stratified", "class_weighted"])
def test_len_before_and_during_iteration(strategy: str, drop_last: bool) -> None:
    labels = torch.arange(103) % 3
    sampler = EpochBatchSampler(labels, strategy, batch_size=10, drop_last=drop_last)
    expected = 10 if drop_last else 11
    assert len(sampler) == expected  # before the first iteration
    seen = 0
    for batch in sampler:
        seen += 1
        assert len(sampler) == expected  # during it
        assert len(batch) == 10 or (not drop_last and seen == expected and len(batch) == 3)
    assert seen == expected


def test_no_full_batch_lost_when_epoch_divides() -> None:
    sampler = EpochBatchSampler([0, 1] * 50, "stratified", batch_size=10)
    assert len(sampler) == 10
    assert [len(b) for b in sampler] == [10] * 10


def test_iteration_advances_epoch_and_set_epoch_reproduces() -> None:
    sampler = EpochBatchSampler(
        origin_labels(), "negative_subsampling", batch_size=10, seed=5, neg_ratio=0.25
    )
    assert sampler.epoch == 0
    first = list(sampler)
    assert sampler.epoch == 0  # the epoch moves when the next iteration starts
    second = list(sampler)
    assert sampler.epoch == 1
    assert first != second
    sampler.set_epoch(0)
    assert list(sampler) == first
    fresh = EpochBatchSampler(
        origin_labels(), "negative_subsampling", batch_size=10, seed=5, neg_ratio=0.25
    )
    fresh.set_epoch(1)
    assert list(fresh) == second


def test_partial_iteration_does_not_advance() -> None:
    sampler = EpochBatchSampler([0, 1] * 50, "stratified", batch_size=10)
    iterator = iter(sampler)
    next(iterator)
    del iterator
    assert sampler.epoch == 0


def test_set_epoch_during_iteration_wins() -> None:
    sampler = EpochBatchSampler([0, 1] * 50, "stratified", batch_size=10)

    def loop_that_sets_the_epoch() -> None:
        for _ in sampler:
            sampler.set_epoch(7)

    with pytest.raises(StaleIteratorError, match="superseded"):
        loop_that_sets_the_epoch()
    assert sampler.epoch == 7
    assert list(sampler) == list(sampler.epoch_batches(7))  # the whole of epoch 7


def test_seed_changes_batches_and_seed_epoch_do_not_collide() -> None:
    labels = torch.arange(200) % 4

    def epoch(seed: int, e: int) -> list[list[int]]:
        sampler = EpochBatchSampler(labels, "stratified", batch_size=8, seed=seed)
        return list(sampler.epoch_batches(e))

    assert epoch(0, 1) != epoch(1, 0)
    assert epoch(0, 0) != epoch(1, 0)
    assert epoch(3, 2) == epoch(3, 2)


def test_no_global_rng_is_read_or_changed() -> None:
    labels = torch.arange(500) % 5
    results = []
    cases: list[tuple[str, dict[str, Any]]] = [
        ("negative_subsampling", {"neg_ratio": 0.3}),
        ("negative_subsampling", {"neg_ratio": 0.3, "cycle": True}),
        ("stratified", {}),
        ("class_weighted", {}),
        ("class_weighted", {"replacement": False, "num_samples": 100}),
    ]
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        random.seed(global_seed)
        state = torch.get_rng_state()
        for name, options in cases:
            sampler = EpochBatchSampler(labels, name, batch_size=16, seed=9, **options)
            results.append((global_seed, name, list(sampler)))
        assert torch.equal(torch.get_rng_state(), state)
    half = len(results) // 2
    assert [r[2] for r in results[:half]] == [r[2] for r in results[half:]]


@pytest.mark.parametrize(
    "labels",
    [
        ORIGIN,
        np.array(ORIGIN, dtype=np.int16),
        np.array(ORIGIN, dtype=np.uint32),
        torch.tensor(ORIGIN, dtype=torch.int8),
        torch.tensor(ORIGIN, dtype=torch.int64),
        torch.tensor(ORIGIN, dtype=torch.bool),
        tuple(ORIGIN),
    ],
    ids=["list", "np-int16", "np-uint32", "int8", "int64", "bool", "tuple"],
)
def test_label_containers_give_the_same_batches(labels: Any) -> None:
    reference = EpochBatchSampler(ORIGIN, "negative_subsampling", batch_size=10, neg_ratio=0.5)
    sampler = EpochBatchSampler(labels, "negative_subsampling", batch_size=10, neg_ratio=0.5)
    assert list(sampler) == list(reference)


class CountingDataset(Dataset[int]):
    """A torchvision-style dataset that fails if anyone iterates it."""

    def __init__(self, attr: str) -> None:
        setattr(self, attr, ORIGIN)

    def __len__(self) -> int:
        return 100

    def __getitem__(self, index: int) -> int:
        raise AssertionError("the sampler must not read samples to find labels")


@pytest.mark.parametrize("attr", ["targets", "labels"])
def test_labels_from_a_dataset_attribute_without_iterating(attr: str) -> None:
    sampler = EpochBatchSampler(
        CountingDataset(attr), "negative_subsampling", batch_size=10, neg_ratio=0.25
    )
    assert len(sampler) == 4
    assert sampler.labels.tolist() == ORIGIN


@pytest.mark.parametrize(
    ("strategy", "options"),
    [
        ("negative_subsampling", {"neg_per_pos": 2.0, "cycle": True}),
        ("stratified", {}),
        (
            "class_weighted",
            {"class_weights": {0: 1.0, 1: 3.5}, "num_samples": 64, "replacement": False},
        ),
    ],
)
def test_config_round_trips_through_json(strategy: str, options: dict[str, Any]) -> None:
    sampler = EpochBatchSampler(
        origin_labels(), strategy, batch_size=7, seed=11, drop_last=True, **options
    )
    text = sampler.config.model_dump_json()
    data = json.loads(text)
    assert data["strategy"]["name"] == strategy
    for source in (text, data, SamplerConfig.model_validate_json(text), sampler.config):
        rebuilt = EpochBatchSampler.from_config(source, origin_labels())
        assert rebuilt.config == sampler.config
        for epoch in range(3):
            assert list(rebuilt.epoch_batches(epoch)) == list(sampler.epoch_batches(epoch))


def test_strategy_forms_are_equivalent() -> None:
    labels = origin_labels()
    forms = [
        EpochBatchSampler(labels, "negative_subsampling", batch_size=10, neg_ratio=0.25),
        EpochBatchSampler(
            labels, {"name": "negative_subsampling", "neg_ratio": 0.25}, batch_size=10
        ),
        EpochBatchSampler(labels, {"name": "negative_subsampling"}, batch_size=10, neg_ratio=0.25),
        EpochBatchSampler(
            labels,
            StrategyConfig.model_validate({"name": "negative_subsampling", "neg_ratio": 0.25}),
            batch_size=10,
        ),
        EpochBatchSampler.from_config(
            {"strategy": {"name": "negative_subsampling", "neg_ratio": 0.25}, "batch_size": 10},
            labels,
        ),
    ]
    reference = list(forms[0])
    for sampler in forms[1:]:
        assert list(sampler) == reference


def test_dataloader_workers_give_the_same_batches() -> None:
    labels = torch.arange(300) % 3
    dataset = TensorDataset(torch.arange(300), labels)
    got = {}
    for workers in (0, 2):
        sampler = EpochBatchSampler(labels, "stratified", batch_size=32, seed=4)
        loader = DataLoader(dataset, batch_sampler=sampler, num_workers=workers)
        got[workers] = [[xb.tolist() for xb, _ in loader] for _ in range(2)]
    assert got[0] == got[2]
    assert got[0][0] != got[0][1]  # two passes are two epochs


def test_sampler_is_a_torch_sampler_and_repr_names_strategy() -> None:
    sampler = EpochBatchSampler(ORIGIN, "stratified", batch_size=10)
    assert isinstance(sampler, torch.utils.data.Sampler)
    assert "stratified" in repr(sampler)


def _broken_strategy(output: Any) -> type[Strategy]:
    import samplekit

    class Broken(samplekit.Strategy):
        name = "broken"

        def epoch_length(self, epoch: int) -> int:
            return 4

        def sample(self, ctx: EpochContext) -> Any:  # what it returns is what is tested
            return output

    return Broken


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        (torch.tensor([0.0, 1.0, 2.0, 3.0]), "dtype"),
        (torch.tensor([[0, 1], [2, 3]]), "1-D"),
        (torch.tensor([0, 1, 2]), "epoch_length"),
        (torch.tensor([0, 1, 2, 100]), "outside"),
        (torch.tensor([0, 1, 2, -1]), "outside"),
        ([0, 1, 2, 3], "torch.Tensor"),
        (torch.tensor([True, False, True, True]), "dtype"),
    ],
)
def test_contract_breaking_strategy_output_is_refused(output: Any, fragment: str) -> None:
    sampler = EpochBatchSampler(ORIGIN, _broken_strategy(output), batch_size=2)
    with pytest.raises(StrategyOutputError, match=fragment) as info:
        list(sampler)
    assert "'broken'" in str(info.value)


def test_class_weighted_shares_follow_weights() -> None:
    labels = torch.tensor([0] * 9000 + [1] * 900 + [2] * 100)
    weights = {0: 1.0, 1: 2.0, 2: 10.0}
    sampler = EpochBatchSampler(
        labels, "class_weighted", batch_size=1000, class_weights=weights, num_samples=100_000
    )
    counts = Counter(labels[torch.tensor([i for b in sampler for i in b])].tolist())
    mass = {c: weights[c] * n for c, n in {0: 9000, 1: 900, 2: 100}.items()}
    total = sum(mass.values())
    for c, m in mass.items():
        p = m / total
        sigma = (100_000 * p * (1 - p)) ** 0.5
        assert abs(counts[c] - 100_000 * p) < 5 * sigma


def test_an_epoch_ends_when_its_last_batch_is_handed_out() -> None:
    # Lightning (and zip(range(len(loader)), loader)) stop after len(sampler) batches without
    # exhausting the iterator: the next pass must still be the next epoch, not an empty one.
    sampler = EpochBatchSampler(
        [0] * 80 + [1] * 20, "negative_subsampling", batch_size=10, neg_ratio=0.25
    )
    reference = [list(sampler.epoch_batches(e)) for e in range(3)]
    for epoch in range(3):
        iterator = iter(sampler)
        got = [next(iterator) for _ in range(len(sampler))]
        assert got == reference[epoch]
        assert len(sampler) == len(got)  # exact until the next iteration starts
    iterator = iter(sampler)
    next(iterator)
    assert sampler.state_dict()["cursor"] == {"epoch": 3, "global_batches": 1}  # midway: not over


def test_a_checkpoint_taken_after_an_epochs_last_batch_resumes_at_the_next_epoch() -> None:
    labels = [0] * 80 + [1] * 20
    build = functools.partial(
        EpochBatchSampler, labels, "negative_subsampling", batch_size=10, neg_ratio=0.25
    )
    sampler = build()
    iterator = iter(sampler)
    done = [next(iterator) for _ in range(len(sampler))]  # all of epoch 0, not exhausted
    state = sampler.state_dict()

    # A loop that calls set_epoch with its own counter (the checkpoint's epoch) finishes epoch 0
    # with nothing, then goes on with epoch 1.
    resumed = build()
    resumed.load_state_dict(state)
    for epoch in range(2):
        resumed.set_epoch(epoch)
        done += list(resumed)
    assert done == [b for e in range(2) for b in build().epoch_batches(e)]

    # A loop that follows the sampler's epoch goes straight on with epoch 1.
    resumed = build()
    resumed.load_state_dict(state)
    assert list(resumed) == list(build().epoch_batches(1))
    assert resumed.epoch == 1


@pytest.mark.parametrize("flag", ["check_sync", "prefetch"])
@pytest.mark.parametrize("value", [1, 0, "no", None])
def test_flags_are_bools_not_truthy_values(flag: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"{flag}: expected True or False"):
        EpochBatchSampler([0, 1] * 4, "stratified", batch_size=2, **{flag: value})


def test_numpy_scalars_count_as_the_values_they_hold() -> None:
    numpy_values: dict[str, Any] = {
        "batch_size": np.int64(2),
        "rank": np.int64(1),
        "world_size": np.int32(2),
        "prefetch": np.bool_(False),
    }
    sampler = EpochBatchSampler([0, 1] * 4, "stratified", **numpy_values)
    assert (sampler.rank, sampler.world_size, sampler.batch_size) == (1, 2, 2)
    assert type(sampler.rank) is int
