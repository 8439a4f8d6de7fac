"""Checkpoints: what state_dict holds and what load_state_dict refuses."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from samplekit import ConfigError, EpochBatchSampler, SampleKitError


def build() -> EpochBatchSampler:
    return EpochBatchSampler(torch.arange(100) % 4, "stratified", batch_size=8, seed=1)


def midway() -> dict[str, Any]:
    sampler = build()
    it = iter(sampler)
    for _ in range(3):
        next(it)
    return sampler.state_dict()


def test_state_is_small_json_and_resumes() -> None:
    state = midway()
    text = json.dumps(state)
    assert len(text) < 512
    resumed = build()
    resumed.load_state_dict(json.loads(text))
    assert list(resumed) == list(build().epoch_batches(0))[3:]


def test_state_dict_of_an_unused_sampler_round_trips_through_repr_and_json() -> None:
    sampler = build()
    json.dumps(sampler.state_dict())
    assert "epoch=0" in repr(sampler)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        pytest.param("cursor.epoch", 10**5000, "epoch must be an int from 0 to 2**63", id="huge"),
        ("cursor.epoch", 2**63, "epoch must be an int"),
        ("cursor.epoch", -1, "epoch must be an int"),
        ("cursor.epoch", 1.0, "(float)"),
        ("cursor.epoch", True, "(bool)"),
        ("cursor.global_batches", 14, "global_batches=14 is more than 1 ranks can hand out"),
        ("cursor.global_batches", 10**30, "global_batches must be an int"),
        ("cursor.position", 3, "cursor must be a mapping {'epoch': int, 'global_batches': int}"),
        ("cursor", [0, 3], "cursor must be a mapping"),
        ("world_size", "1", "world_size must be an int"),
        ("world_size", 0, "world_size must be an int from 1"),
        ("version", "2", "version '2' is not supported"),
        ("version", 4, "version 4 is not supported"),
        ("labels", 5, "labels must be a mapping"),
        ("labels", {"count": 100}, "labels must be a mapping"),
        ("labels", {"count": 100, "digest": "0x1"}, "labels must be a mapping"),
        ("labels", {"count": 100, "digest": 1.5}, "labels must be a mapping"),
        ("config", "stratified", "config must be a mapping"),
    ],
)
def test_malformed_checkpoints_are_refused_with_the_key(
    key: str, value: Any, fragment: str
) -> None:
    state = midway()
    *parents, last = key.split(".")
    target = state
    for part in parents:
        target = target[part]
    target[last] = value
    sampler = build()
    with pytest.raises(ConfigError) as info:
        sampler.load_state_dict(state)
    assert fragment in str(info.value)
    assert len(str(info.value)) < 600
    assert sampler.state_dict()["cursor"] == {"epoch": 0, "global_batches": 0}  # nothing loaded
    json.dumps(sampler.state_dict())
    repr(sampler)


def test_a_checkpoint_of_version_1_still_loads() -> None:
    two_ranks: dict[str, Any] = {"batch_size": 8, "seed": 1, "rank": 1, "world_size": 2}
    source = EpochBatchSampler(torch.arange(100) % 4, "stratified", **two_ranks)
    it = iter(source)
    for _ in range(3):
        next(it)
    state = source.state_dict()
    assert state["cursor"] == {"epoch": 0, "global_batches": 6}
    old = {k: v for k, v in state.items() if k != "cursor"}
    old.update(version=1, epoch=0, position=3)  # samplekit 0.1 kept this rank's position
    resumed = EpochBatchSampler(torch.arange(100) % 4, "stratified", **two_ranks)
    resumed.load_state_dict(old)
    assert resumed.state_dict() == state
    assert list(resumed) == list(it)
    old["epoch"] = 10**5000
    with pytest.raises(ConfigError, match="epoch must be an int"):
        resumed.load_state_dict(old)


def test_a_deeply_nested_or_huge_config_in_a_checkpoint_is_refused_briefly() -> None:
    state = midway()
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100_000):
        node["x"] = {}
        node = node["x"]
    state["config"] = deep
    with pytest.raises(ConfigError, match="another sampler"):
        build().load_state_dict(state)
    state["config"] = {f"key{i}": i for i in range(200_000)}
    with pytest.raises(ConfigError) as info:
        build().load_state_dict(state)
    assert len(str(info.value)) < 3000


@pytest.mark.parametrize("world", [2, 3, 5, 13, 20])
@pytest.mark.parametrize("drop_last", [False, True])
def test_a_checkpoint_resumes_on_any_world_size(world: int, drop_last: bool) -> None:
    def sampler(rank: int = 0, world_size: int = 1) -> EpochBatchSampler:
        return EpochBatchSampler(
            torch.arange(100) % 4,
            "stratified",
            batch_size=8,
            seed=1,
            rank=rank,
            world_size=world_size,
            drop_last=drop_last,
        )

    whole = list(sampler())  # 13 global batches (12 with drop_last)
    first = sampler()
    it = iter(first)
    head = [next(it) for _ in range(3)]
    state = first.state_dict()
    ranks = [sampler(rank, world) for rank in range(world)]
    for resumed in ranks:
        resumed.load_state_dict(state)
    rests = [list(resumed) for resumed in ranks]
    assert len({len(rest) for rest in rests}) == 1
    # len: the epoch's count on a step boundary of `world` (3 batches handed out), else the rest
    skipped = 3 // world if 3 % world == 0 else 0
    assert all(len(r) - len(rest) == skipped for rest, r in zip(rests, ranks, strict=True))
    steps = [rests[r][s] for s in range(len(rests[0])) for r in range(world)]
    left = whole[3:]
    if drop_last:  # the rest of the epoch in whole steps of `world`
        assert steps == left[: len(left) // world * world]
    else:  # every remaining batch once, then padding from the epoch's start
        assert steps[: len(left)] == left
        assert steps[len(left) :] == whole[: len(steps) - len(left)]
    assert head == whole[:3]
    # With nothing left for these ranks (drop_last, fewer batches than ranks), the iteration
    # went on with the next epoch (of no batches for them either).
    nothing_left = drop_last and len(left) < world
    assert all(r.state_dict()["cursor"]["epoch"] == int(nothing_left) for r in ranks)
    fresh = sampler(0, world)
    fresh.set_epoch(1 + int(nothing_left))
    assert list(ranks[0]) == list(fresh)  # the next epoch: plain sharding again


@given(
    st.dictionaries(
        st.sampled_from(["version", "cursor", "epoch", "position", "world_size", "labels", "x"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=5)
        | st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    )
)
def test_fuzzed_checkpoints_load_or_raise_a_samplekit_error(changes: dict[str, Any]) -> None:
    state = copy.deepcopy(midway())
    state.update(changes)
    sampler = build()
    try:
        sampler.load_state_dict(state)
    except SampleKitError:
        return
    batches = list(sampler)
    assert len(batches) <= len(sampler)
    json.dumps(sampler.state_dict())


@pytest.mark.parametrize(
    "epoch", [pytest.param(10**5000, id="huge"), 2**63, -1, 1.0, True, "1", None]
)
def test_set_epoch_refuses_out_of_range_epochs(epoch: Any) -> None:
    with pytest.raises(ConfigError, match="epoch: expected an int from 0 to 2\\*\\*63 - 1"):
        build().set_epoch(epoch)


def test_set_epoch_takes_numpy_integers_and_the_largest_epoch() -> None:
    import numpy as np

    sampler = build()
    numpy_epoch: Any = np.int64(3)  # set_epoch is annotated int, and takes numpy integers too
    sampler.set_epoch(numpy_epoch)
    assert sampler.epoch == 3
    assert type(sampler.epoch) is int
    sampler.set_epoch(2**63 - 1)
    assert len(list(sampler)) == len(sampler)
    json.dumps(sampler.state_dict())


def test_an_elastic_resume_with_nothing_left_for_the_new_ranks_goes_on_with_the_next_epoch() -> (
    None
):
    def sampler(rank: int = 0, world_size: int = 1) -> EpochBatchSampler:
        return EpochBatchSampler(
            None,
            "shuffle",
            lengths=[1, 1, 1, 1],
            batch_size=1,
            drop_last=True,
            rank=rank,
            world_size=world_size,
        )

    one = sampler()
    it = iter(one)
    for _ in range(3):
        next(it)
    state = one.state_dict()  # 3 of 4 global batches: 1 left, fewer than 2 ranks need
    two = [sampler(rank, 2) for rank in range(2)]
    for resumed in two:
        resumed.load_state_dict(state)
    assert [len(s) for s in two] == [0, 0]
    passes = [[list(s) for s in two] for _ in range(2)]  # no set_epoch: the next pass moves on
    expected = []
    for epoch in (1, 2):
        fresh = [sampler(rank, 2) for rank in range(2)]
        for s in fresh:
            s.set_epoch(epoch)
        expected.append([list(s) for s in fresh])
    assert passes == expected
