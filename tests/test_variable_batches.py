"""Variable-size batches through the sampler: lengths, batchers, len, DDP, resume, loaders."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset
from torchdata.stateful_dataloader import StatefulDataLoader

from samplekit import (
    ConfigError,
    EpochBatchSampler,
    LabelsError,
    UnknownBatcherError,
    available_batchers,
)

RNG = np.random.default_rng(0)
LENGTHS = (RNG.lognormal(4.0, 1.0, 3000) + 1).astype(np.int64)
LABELS = (RNG.random(3000) < 0.05).astype(np.int64)
BUDGET = {"name": "token_budget", "max_tokens": 4096}


def epoch(sampler: EpochBatchSampler, e: int) -> list[list[int]]:
    sampler.set_epoch(e)
    return list(sampler)


def test_the_issue_examples_work_as_written() -> None:
    lengths = LENGTHS
    a = EpochBatchSampler(
        LABELS,
        "negative_subsampling",
        neg_ratio=0.1,
        lengths=lengths,
        batcher={"name": "token_budget", "max_tokens": 16384},
        seed=0,
    )
    b = EpochBatchSampler(
        None, "shuffle", lengths=lengths, batcher={"name": "length_grouped"}, batch_size=32
    )
    c = EpochBatchSampler.from_config(
        {
            "strategy": {"name": "stratified"},
            "batcher": {"name": "token_budget", "max_tokens": 4096},
        },
        LABELS,
        lengths=lengths,
    )
    for sampler in (a, b, c):
        batches = list(sampler)
        assert len(batches) == len(sampler) > 0
    assert available_batchers()[:3] == ["fixed", "length_grouped", "token_budget"]
    positives = set(np.flatnonzero(LABELS).tolist())
    assert positives <= {i for batch in epoch(a, 1) for i in batch}  # every positive kept


@pytest.mark.parametrize("batcher", [BUDGET, {"name": "length_grouped", "window": 256}])
def test_len_is_exact_before_and_during_every_epoch(batcher: dict[str, Any]) -> None:
    extra: dict[str, Any] = {"batch_size": 16} if batcher["name"] == "length_grouped" else {}
    sampler = EpochBatchSampler(
        LABELS,
        "negative_subsampling",
        neg_ratio=0.3,
        lengths=LENGTHS,
        batcher=batcher,
        seed=5,
        **extra,
    )
    for e in range(3):
        sampler.set_epoch(e)
        before = len(sampler)
        seen = 0
        for _ in sampler:
            seen += 1
            assert len(sampler) == before
        assert seen == before


def test_epochs_are_reproducible_fresh_and_every_selected_sample_is_there_once() -> None:
    def make() -> EpochBatchSampler:
        return EpochBatchSampler(None, "shuffle", lengths=LENGTHS, batcher=BUDGET, seed=9)

    one, two = make(), make()
    first, again = epoch(one, 0), epoch(two, 0)
    assert first == again
    assert sorted(i for b in first for i in b) == list(range(len(LENGTHS)))
    second = epoch(one, 1)
    overlap = {frozenset(b) for b in first} & {frozenset(b) for b in second}
    assert len(overlap) <= 0.05 * len(second)  # fresh batches each epoch


@pytest.mark.parametrize("world", [2, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_ranks_share_an_epoch_without_duplicates_or_losses(world: int, drop_last: bool) -> None:
    ranks = [
        EpochBatchSampler(
            None,
            "shuffle",
            lengths=LENGTHS,
            batcher=BUDGET,
            seed=1,
            rank=r,
            world_size=world,
            drop_last=drop_last,
        )
        for r in range(world)
    ]
    per_rank = [list(s) for s in ranks]
    assert len({len(b) for b in per_rank}) == 1
    assert all(len(b) == len(s) for b, s in zip(per_rank, ranks, strict=True))
    single = list(EpochBatchSampler(None, "shuffle", lengths=LENGTHS, batcher=BUDGET, seed=1))
    steps = len(per_rank[0])
    interleaved = [per_rank[r][s] for s in range(steps) for r in range(world)]
    if drop_last:
        assert interleaved == single[: steps * world]
    else:  # the last step is topped up with the epoch's first batches
        assert interleaved[: len(single)] == single
        assert interleaved[len(single) :] == single[: steps * world - len(single)]
    counts = Counter(i for batch in interleaved[: len(single)] for i in batch)
    assert max(counts.values()) == 1


def test_the_ranks_of_a_step_carry_similar_padded_costs() -> None:
    world = 8
    lengths = (np.random.default_rng(1).lognormal(4.0, 1.0, 200_000) + 1).clip(max=4096)
    lengths = lengths.astype(np.int64)
    ranks = [
        list(
            EpochBatchSampler(
                None, "shuffle", lengths=lengths, batcher=BUDGET, seed=0, rank=r, world_size=world
            )
        )
        for r in range(world)
    ]
    worst = mean = 0.0
    for step in zip(*ranks, strict=True):
        costs = [max(lengths[b]) * len(b) for b in step]
        worst += max(costs)
        mean += sum(costs) / world
    assert worst / mean <= 1.05


def test_resume_mid_epoch_continues_the_same_batches() -> None:
    def make() -> EpochBatchSampler:
        return EpochBatchSampler(LABELS, "class_weighted", lengths=LENGTHS, batcher=BUDGET, seed=4)

    reference = make()
    whole = list(reference)
    first = make()
    it = iter(first)
    taken = [next(it) for _ in range(len(whole) // 2)]
    state = json.loads(json.dumps(first.state_dict()))
    resumed = make()
    resumed.load_state_dict(state)
    assert taken + list(resumed) == whole


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_and_stateful_dataloader_with_workers(workers: int) -> None:
    dataset = TensorDataset(torch.arange(len(LENGTHS)))

    def loader(kind: type[DataLoader[Any]]) -> DataLoader[Any]:
        sampler = EpochBatchSampler(
            None,
            "shuffle",
            lengths=LENGTHS,
            batcher={"name": "length_grouped"},
            batch_size=24,
            seed=2,
        )
        return kind(dataset, batch_sampler=sampler, num_workers=workers)

    plain = [xb.tolist() for (xb,) in loader(DataLoader)]
    assert sorted(i for b in plain for i in b) == list(range(len(LENGTHS)))
    first = loader(StatefulDataLoader)
    seen = []
    for step, (xb,) in enumerate(first):
        seen.append(xb.tolist())
        if step == 20:
            state = first.state_dict()  # type: ignore[attr-defined]
            break
    second = loader(StatefulDataLoader)
    second.load_state_dict(state)  # type: ignore[attr-defined]
    assert seen + [xb.tolist() for (xb,) in second] == plain


def test_a_version_2_checkpoint_still_loads() -> None:
    sampler = EpochBatchSampler(LABELS, "stratified", batch_size=10, seed=0)
    it = iter(sampler)
    next(it), next(it)
    state = sampler.state_dict()
    state["version"] = 2
    del state["config"]["batcher"]  # as samplekit 0.2 wrote it
    resumed = EpochBatchSampler(LABELS, "stratified", batch_size=10, seed=0)
    resumed.load_state_dict(state)
    assert list(resumed) == list(it)


def test_a_checkpoint_of_other_lengths_is_refused() -> None:
    a = EpochBatchSampler(None, "shuffle", lengths=LENGTHS, batcher=BUDGET)
    b = EpochBatchSampler(None, "shuffle", lengths=LENGTHS + 1, batcher=BUDGET)
    with pytest.raises(ConfigError, match="lengths differ"):
        b.load_state_dict(a.state_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"labels": [0, 1], "lengths": [1, 2, 3]}, ConfigError, "2 as the labels hold, but got 3"),
        (
            {"labels": None, "strategy": "stratified", "lengths": [1, 2]},
            LabelsError,
            "'stratified' strategy needs one class label per sample",
        ),
        ({"labels": None, "lengths": None}, LabelsError, "number of samples is unknown"),
        ({"lengths": [1, -2, 3]}, ConfigError, "sample 1 has length -2"),
        ({"lengths": [1.5, 2, 3]}, ConfigError, "integer lengths"),
        ({"lengths": [True, False, True]}, ConfigError, "got booleans"),
        ({"lengths": np.array([True, False, True])}, ConfigError, "got booleans"),
        ({"lengths": torch.tensor([True, False, True])}, ConfigError, "got booleans"),
        ({"lengths": [1, np.bool_(True), 3]}, ConfigError, "got booleans"),
        ({"batch_size": 4}, ConfigError, "does not use batch_size=4"),
        ({"batcher": "fixed", "batch_size": None}, ConfigError, "required by the 'fixed'"),
        ({"batcher": "tokens"}, UnknownBatcherError, "no batcher named 'tokens'"),
        ({"batcher": {"name": "token_budget", "max_tokens": True}}, ConfigError, "max_tokens"),
        ({"batcher": {"name": "token_budget"}}, ConfigError, "max_tokens is required"),
        ({"batcher": {"max_tokens": 3}}, ConfigError, "must hold the batcher's 'name'"),
        ({"batcher": {"name": "token_budget", "max_tokens": 3, "windw": 2}}, ConfigError, "windw"),
        (
            {"labels": [0, 1, 2], "batcher": "length_grouped", "batch_size": 2, "lengths": None},
            ConfigError,
            "needs per-sample lengths",
        ),
    ],
)
def test_bad_input_is_refused_at_construction(
    kwargs: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    given: dict[str, Any] = {
        "labels": None,
        "strategy": "shuffle",
        "lengths": [1, 2, 3],
        "batcher": BUDGET,
        **kwargs,
    }
    with pytest.raises(error) as info:
        EpochBatchSampler(given.pop("labels"), given.pop("strategy"), **given)
    assert fragment in str(info.value)


def test_config_round_trips_through_json() -> None:
    sampler = EpochBatchSampler(
        LABELS,
        "negative_subsampling",
        neg_ratio=0.2,
        lengths=LENGTHS,
        batcher={"name": "token_budget", "max_tokens": 2048, "batch_size_multiple": 8},
    )
    text = sampler.config.model_dump_json()
    twin = EpochBatchSampler.from_config(json.loads(text), LABELS, lengths=LENGTHS)
    assert twin.config == sampler.config
    assert list(twin) == list(sampler)


def test_batch_shaping_strategies_combine_with_a_regrouping_batcher() -> None:
    labels = np.arange(3000) % 30
    sampler = EpochBatchSampler(
        labels,
        "m_per_class",
        m=4,
        lengths=LENGTHS,
        batcher={"name": "token_budget", "max_tokens": 4096, "max_batch_size": 64},
    )
    assert sampler.strategy.check_batch_size is not None
    assert len(list(sampler)) == len(sampler)
    with pytest.raises(ConfigError, match="nominal batch size of 62"):
        EpochBatchSampler(
            labels,
            "m_per_class",
            m=4,
            lengths=LENGTHS,
            batcher={"name": "token_budget", "max_tokens": 4096, "max_batch_size": 62},
        )


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 500), min_size=1, max_size=300),
    st.integers(500, 5000),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(0, 2**32),
)
def test_any_lengths_give_exact_len_budget_and_reproducibility(
    lengths: list[int], max_tokens: int, world: int, e: int, seed: int
) -> None:
    def make(rank: int) -> EpochBatchSampler:
        return EpochBatchSampler(
            None,
            "shuffle",
            lengths=lengths,
            seed=seed,
            rank=rank,
            world_size=world,
            batcher={"name": "token_budget", "max_tokens": max_tokens},
        )

    for rank in range(world):
        sampler = make(rank)
        sampler.set_epoch(e)
        expected = len(sampler)
        batches = list(sampler)
        assert len(batches) == expected
        assert all(max(lengths[i] for i in b) * len(b) <= max_tokens for b in batches)
        assert epoch(make(rank), e) == batches
