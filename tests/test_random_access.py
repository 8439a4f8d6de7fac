"""Random access: a rank computes only its own batches, and a resume starts at its batch.

A recording strategy counts the positions the sampler asks for: over an epoch, a rank asks for
exactly the positions of the batches it yields (never the whole epoch, never `sample`), and after
a mid-epoch checkpoint, on any world size, the first batch asks for that batch alone. The
batches are those of the whole epoch built at once, for every built-in random-access strategy.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import samplekit
from samplekit import EpochBatchSampler
from samplekit.permutation import Permutation


class Recorded(samplekit.RandomAccessStrategy):
    """Every sample once, in a keyed order; records every position it is asked for."""

    name = "recorded_for_tests"
    asked: ClassVar[list[int]] = []
    whole: ClassVar[int] = 0

    def epoch_length(self, epoch: int) -> int:
        return int(self.labels.numel())

    def sample(self, ctx: samplekit.EpochContext) -> torch.Tensor:
        type(self).whole += 1
        return super().sample(ctx)

    def sample_at(self, ctx: samplekit.EpochContext, positions: torch.Tensor) -> torch.Tensor:
        type(self).asked.extend(positions.tolist())
        return Permutation(int(self.labels.numel()), ctx.key(self.name))(positions)


@pytest.fixture(autouse=True)
def fresh_records() -> None:
    Recorded.asked.clear()
    Recorded.whole = 0


@given(
    n=st.integers(1, 300),
    batch_size=st.integers(1, 40),
    world_size=st.integers(1, 5),
    drop_last=st.booleans(),
    data=st.data(),
)
def test_a_rank_reads_only_the_positions_of_its_batches(
    n: int, batch_size: int, world_size: int, drop_last: bool, data: st.DataObject
) -> None:
    rank = data.draw(st.integers(0, world_size - 1), label="rank")
    sampler = EpochBatchSampler(
        [0] * n,
        Recorded,
        batch_size=batch_size,
        rank=rank,
        world_size=world_size,
        drop_last=drop_last,
    )
    assert sampler.planner.random_access
    Recorded.asked.clear()  # (hypothesis runs the body many times per fixture)
    Recorded.whole = 0
    batches = list(sampler)
    global_batches = n // batch_size if drop_last else -(-n // batch_size)
    ids = samplekit.sharding.rank_batch_ids(
        global_batches, rank=rank, world_size=world_size, drop_last=drop_last
    )
    wanted = [p for b in ids for p in range(b * batch_size, min((b + 1) * batch_size, n))]
    assert Recorded.asked == wanted
    assert Recorded.whole == 0
    whole = sampler.strategy.sample(sampler.epoch_context(0)).tolist()
    assert batches == [
        [whole[p] for p in range(b * batch_size, min((b + 1) * batch_size, n))] for b in ids
    ]


@pytest.mark.parametrize(("saved_on", "resumed_on"), [(4, 2), (4, 3), (2, 4), (3, 1)])
def test_a_resume_reads_only_the_batch_it_starts_at(saved_on: int, resumed_on: int) -> None:
    labels, size = [0] * 1000, 10  # 100 global batches
    ranks = [
        EpochBatchSampler(labels, Recorded, batch_size=size, rank=r, world_size=saved_on)
        for r in range(saved_on)
    ]
    steps = [iter(s) for s in ranks]
    for _ in range(7):
        for step in steps:
            next(step)
    state = ranks[0].state_dict()
    handed = state["cursor"]["global_batches"]
    for rank in range(resumed_on):
        resumed = EpochBatchSampler(
            labels, Recorded, batch_size=size, rank=rank, world_size=resumed_on
        )
        resumed.load_state_dict(state)
        Recorded.asked.clear()
        first = next(iter(resumed))
        batch = handed + rank
        assert Recorded.asked == list(range(batch * size, (batch + 1) * size))
        assert first == next(
            iter(EpochBatchSampler(labels, Recorded, batch_size=size).epoch_batches(0, batch))
        )
    assert Recorded.whole == 0


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("shuffle", {}),
        ("negative_subsampling", {"neg_ratio": 0.3}),
        ("negative_subsampling", {"neg_ratio": 0.3, "cycle": True}),
        ("class_weighted", {}),
        ("class_weighted", {"replacement": False}),
        ("stratified", {}),
    ],
)
def test_built_ins_read_by_position_give_the_whole_epoch(
    name: str, options: dict[str, Any]
) -> None:
    labels = ((torch.arange(997) * 7919) % 10 < 3).long() + ((torch.arange(997) % 7) == 0).long()
    sampler = EpochBatchSampler(labels, name, batch_size=16, world_size=3, rank=1, **options)
    assert sampler.planner.random_access
    for epoch in range(3):
        built = sampler.planner.plan(epoch)  # the whole epoch, built at once
        read = list(sampler.epoch_batches(epoch))
        ids = samplekit.sharding.rank_batch_ids(
            built.num_batches, rank=1, world_size=3, drop_last=False
        )
        assert read == list(built.batches(ids))


def test_a_strategy_without_random_access_is_planned_whole() -> None:
    sampler = EpochBatchSampler(
        [0, 1] * 50, "class_weighted", batch_size=4, replacement=False, num_samples=30
    )
    assert not sampler.strategy.random_access
    assert not sampler.planner.random_access
    assert sum(len(b) for b in sampler) == 30


def test_a_regrouping_batcher_plans_the_whole_epoch() -> None:
    sampler = EpochBatchSampler(
        None, "shuffle", lengths=list(range(1, 101)), batcher="length_grouped", batch_size=8
    )
    assert sampler.strategy.random_access
    assert not sampler.planner.random_access


@pytest.mark.parametrize("many", [False, True])
def test_permutations_refuse_members_and_positions_out_of_range(many: bool) -> None:
    """Out-of-range input is refused, whether members are mapped together (few positions each)
    or alone (thousands of positions of one member in a call)."""
    from samplekit.permutation import _RUN, Permutations

    perms = Permutations([10, 50_000], key=1)
    count = 2 * _RUN if many else 8
    members = torch.ones(count, dtype=torch.long)
    places = torch.arange(count)
    assert perms(members, places).shape == (count,)
    with pytest.raises(ValueError, match=r"members must be in \[0, 2\), but got 1 to 2"):
        perms(torch.cat([members, torch.tensor([2])]), torch.cat([places, torch.tensor([0])]))
    with pytest.raises(ValueError, match=r"members must be in \[0, 2\), but got -1 to 1"):
        perms(torch.cat([members, torch.tensor([-1])]), torch.cat([places, torch.tensor([0])]))
    for bad in (-1, 50_000):
        with pytest.raises(ValueError, match=r"positions must be in \[0, sizes\[member\]\)"):
            perms(members, torch.cat([places[:-1], torch.tensor([bad])]))
    with pytest.raises(ValueError, match=r"positions must be in \[0, sizes\[member\]\)"):
        perms(torch.zeros(count, dtype=torch.long), places + 5)  # member 0 holds 10
    with pytest.raises(ValueError, match="one shape"):
        perms(members, places[:-1])
    with pytest.raises(ValueError, match=r"integer torch\.Tensor"):
        perms(members, places.double())
