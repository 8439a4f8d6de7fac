"""Sharding over ranks and mid-epoch resume, with explicit ranks (no process group needed)."""

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import label_tensors
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.utils.data import TensorDataset
from torchdata.stateful_dataloader import StatefulDataLoader

from samplekit import ConfigError, EpochBatchSampler

STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("negative_subsampling", {"neg_ratio": 0.3}),
    ("stratified", {}),
    ("class_weighted", {}),
    ("class_weighted", {"replacement": False, "num_samples": 50}),
]


def make(
    labels: torch.Tensor, strategy: str, options: dict[str, Any], **kwargs: Any
) -> EpochBatchSampler:
    return EpochBatchSampler(labels, strategy, **options, **kwargs)


@given(
    label_tensors(min_size=2, max_size=400),
    st.sampled_from(STRATEGIES),
    st.integers(1, 40),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 50),
)
def test_ranks_share_one_global_epoch(
    labels: torch.Tensor,
    choice: tuple[str, dict[str, Any]],
    size: int,
    world: int,
    drop: bool,
    epoch: int,
) -> None:
    strategy, options = choice
    labels = labels.clone()
    labels[0] = 1 - int(labels[1] != 0)  # make sure negative_subsampling has both kinds
    labels[1] = 0 if labels[0] else 1
    assume(options.get("num_samples", 0) <= labels.numel())
    single = make(labels, strategy, options, batch_size=size, drop_last=drop, world_size=1, rank=0)
    global_batches = list(single.epoch_batches(epoch))
    per_rank = []
    for rank in range(world):
        sampler = make(
            labels, strategy, options, batch_size=size, drop_last=drop, world_size=world, rank=rank
        )
        sampler.set_epoch(epoch)
        expected = len(sampler)
        got = []
        for batch in sampler:
            assert len(sampler) == expected
            got.append(batch)
        assert len(got) == expected
        per_rank.append(got)
    counts = {len(batches) for batches in per_rank}
    assert len(counts) == 1  # every rank yields the same number of batches
    count = counts.pop()
    g = len(global_batches)
    if drop:
        assert count == g // world
        dealt = [b for step in range(count) for b in (r[step] for r in per_rank)]
        assert dealt == global_batches[: count * world]  # remainder dropped, nothing else
    else:
        assert count == -(-g // world)
        dealt = [b for step in range(count) for b in (r[step] for r in per_rank)]
        assert dealt[:g] == global_batches  # union is the global epoch ...
        padding = [global_batches[i % g] for i in range(len(dealt) - g)]
        assert dealt[g:] == padding  # ... padded from its start, wrapping if need be


def run_and_interrupt(
    sampler: EpochBatchSampler, stop_after: int
) -> tuple[list[list[int]], dict[str, Any]]:
    """Yield batches, returning the state after `stop_after` of them."""
    iterator = iter(sampler)
    taken = [next(iterator) for _ in range(stop_after)]
    return taken, json.loads(json.dumps(sampler.state_dict()))


@pytest.mark.parametrize(("strategy", "options"), STRATEGIES)
@pytest.mark.parametrize("world", [1, 3])
def test_resume_mid_epoch_yields_exactly_what_was_left(
    strategy: str, options: dict[str, Any], world: int
) -> None:
    labels = torch.arange(500) % 4
    kwargs = {"batch_size": 16, "seed": 3, "world_size": world}
    for rank in range(world):
        reference = make(labels, strategy, options, rank=rank, **kwargs)
        uninterrupted = [list(reference) for _ in range(3)]
        interrupted = make(labels, strategy, options, rank=rank, **kwargs)
        list(interrupted)  # epoch 0 done
        stop = len(interrupted) // 2
        taken, state = run_and_interrupt(interrupted, stop)
        assert state["cursor"] == {"epoch": 1, "global_batches": stop * world}
        resumed = make(labels, strategy, options, rank=rank, **kwargs)
        resumed.load_state_dict(state)
        assert len(resumed) == len(uninterrupted[1])
        rest = list(resumed)
        assert taken + rest == uninterrupted[1]
        assert list(resumed) == uninterrupted[2]  # then carries on as if never interrupted


def test_set_epoch_to_the_checkpoint_epoch_keeps_the_position() -> None:
    labels = torch.arange(100) % 2
    sampler = EpochBatchSampler(labels, "stratified", batch_size=10)
    taken, state = run_and_interrupt(sampler, 4)
    resumed = EpochBatchSampler(labels, "stratified", batch_size=10)
    resumed.load_state_dict(state)
    resumed.set_epoch(0)  # a training loop calling set_epoch(epoch) as usual
    assert taken + list(resumed) == list(sampler.epoch_batches(0))
    resumed.load_state_dict(state)
    resumed.set_epoch(1)  # another epoch: from its start
    assert list(resumed) == list(sampler.epoch_batches(1))


def test_state_after_a_full_epoch_starts_the_next() -> None:
    sampler = EpochBatchSampler([0, 1] * 10, "stratified", batch_size=4)
    list(sampler)
    state = sampler.state_dict()
    assert state["cursor"] == {"epoch": 0, "global_batches": len(sampler)}  # all handed out
    resumed = EpochBatchSampler([0, 1] * 10, "stratified", batch_size=4)
    resumed.load_state_dict(state)
    assert list(resumed) == list(sampler.epoch_batches(1))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"seed": 4}, "seed differs (checkpoint: 3, here: 4)"),
        ({"batch_size": 8}, "batch_size differs"),
        ({"neg_ratio": 0.5}, "strategy.neg_ratio differs"),
        ({"labels": torch.arange(101) % 4}, "labels differ (checkpoint: 100 labels"),
        ({"labels": (torch.arange(100) + 1) % 4}, "labels differ"),
    ],
)
def test_loading_a_foreign_state_names_what_differs(change: dict[str, Any], fragment: str) -> None:
    base: dict[str, Any] = {
        "labels": torch.arange(100) % 4,
        "batch_size": 16,
        "seed": 3,
        "neg_ratio": 0.3,
    }
    state = EpochBatchSampler(base.pop("labels"), "negative_subsampling", **base).state_dict()
    settings: dict[str, Any] = {
        "labels": torch.arange(100) % 4,
        "batch_size": 16,
        "seed": 3,
        "neg_ratio": 0.3,
    }
    settings.update(change)
    other = EpochBatchSampler(settings.pop("labels"), "negative_subsampling", **settings)
    with pytest.raises(ConfigError) as info:
        other.load_state_dict(state)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "state",
    [None, {}, {"version": 99}, "epoch 3"],
)
def test_malformed_states_are_refused(state: Any) -> None:
    sampler = EpochBatchSampler([0, 1] * 10, "stratified", batch_size=4)
    with pytest.raises(ConfigError, match="state"):
        sampler.load_state_dict(state)


@pytest.mark.parametrize(("rank", "world"), [(2, 2), (-1, 2), (0, 0), (1.0, 2)])
def test_bad_rank_or_world_size(rank: Any, world: int) -> None:
    with pytest.raises(ConfigError, match=r"rank|world_size"):
        EpochBatchSampler([0, 1], "stratified", batch_size=1, rank=rank, world_size=world)


@pytest.mark.parametrize("workers", [0, 2])
def test_stateful_dataloader_resumes_mid_epoch(workers: int) -> None:
    labels = torch.arange(400) % 5
    dataset = torch.utils.data.TensorDataset(torch.arange(400))

    def loader() -> StatefulDataLoader:
        sampler = EpochBatchSampler(
            labels, "negative_subsampling", batch_size=8, seed=2, neg_ratio=0.4, negative_label=0
        )
        return StatefulDataLoader(dataset, batch_sampler=sampler, num_workers=workers)

    reference = [[xb.tolist() for (xb,) in loader_] for loader_ in [loader()] for _ in range(2)]
    first = loader()
    seen = []
    for step, (xb,) in enumerate(first):
        seen.append(xb.tolist())
        if step == 6:
            state = first.state_dict()
            break
    state = json.loads(json.dumps(state, default=str)) if workers == 0 else state
    second = loader()
    second.load_state_dict(state)
    rest = [xb.tolist() for (xb,) in second]
    assert seen + rest == reference[0]
    assert [xb.tolist() for (xb,) in second] == reference[1]


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("stop", [13, 26, 27])  # mid-epoch 0, after its last batch, into 1
def test_stateful_dataloader_resumes_at_and_around_an_epoch_boundary(
    tmp_path: Path, workers: int, stop: int
) -> None:
    # The loop saves (its epoch, the loader's state) after every step and calls set_epoch with
    # its own counter; a checkpoint taken just after an epoch's last batch must not repeat it.
    labels = torch.arange(100) % 4
    dataset = torch.utils.data.TensorDataset(torch.arange(100))

    def loader() -> StatefulDataLoader:
        sampler = EpochBatchSampler(labels, "stratified", batch_size=8, seed=3)
        return StatefulDataLoader(dataset, batch_sampler=sampler, num_workers=workers)

    def train(
        loader_: StatefulDataLoader,
        trained: list[list[int]],
        start: int = 0,
        stop_after: int | None = None,
    ) -> None:
        for epoch in range(start, 3):
            loader_.batch_sampler.set_epoch(epoch)
            for (xb,) in loader_:
                trained.append(xb.tolist())
                torch.save((epoch, loader_.state_dict()), tmp_path / "checkpoint.pt")
                if len(trained) == stop_after:
                    return

    trained: list[list[int]] = []
    train(loader(), trained, stop_after=stop)
    epoch, state = torch.load(tmp_path / "checkpoint.pt")
    resumed = loader()
    resumed.load_state_dict(state)
    train(resumed, trained, start=epoch)
    reference = EpochBatchSampler(labels, "stratified", batch_size=8, seed=3)
    assert trained == [b for e in range(3) for b in reference.epoch_batches(e)]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stateful_dataloader_continues_exactly_after_a_break(workers: int) -> None:
    sampler = EpochBatchSampler(torch.arange(200) % 2, "stratified", batch_size=4)
    reference = list(sampler.epoch_batches(0))
    loader = StatefulDataLoader(
        TensorDataset(torch.arange(200)), batch_sampler=sampler, num_workers=workers
    )
    seen = []
    for (xb,) in loader:
        seen.append(xb.tolist())
        if len(seen) == 5:
            state = loader.state_dict()
            break
    resumed = StatefulDataLoader(
        TensorDataset(torch.arange(200)),
        batch_sampler=EpochBatchSampler(torch.arange(200) % 2, "stratified", batch_size=4),
        num_workers=workers,
    )
    resumed.load_state_dict(state)
    assert seen + [xb.tolist() for (xb,) in resumed] == reference
