"""Feedback through the sampler: observe, loss_weights, exact epochs, resume, loaders, DDP."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.multiprocessing.spawn import spawn
from torch.utils.data import DataLoader, TensorDataset
from torchdata.stateful_dataloader import StatefulDataLoader

from samplekit import ConfigError, EpochBatchSampler, WithIndices

N = 600
LABELS = torch.arange(N) % 3
DATA = TensorDataset(torch.randn(N, 4), LABELS)


def score(indices: torch.Tensor, epoch: int) -> torch.Tensor:
    """A deterministic stand-in for a per-sample loss: some samples are learned early."""
    return ((indices * 7919 + epoch * 31) % 97).float() / 97 + (indices % 5 == 0).float()


def infobatch(**kwargs: Any) -> EpochBatchSampler:
    return EpochBatchSampler(
        LABELS, "infobatch", batch_size=32, seed=3, prune_ratio=0.5, epochs=6, **kwargs
    )


def run(sampler: EpochBatchSampler, epochs: range, observe: bool = True) -> list[list[list[int]]]:
    out = []
    for e in epochs:
        sampler.set_epoch(e)
        batches = []
        for batch in sampler:
            batches.append(batch)
            if observe:
                sampler.observe(batch, score(torch.tensor(batch), e))
        out.append(batches)
    return out


@pytest.mark.parametrize("workers", [0, 2])
def test_the_issue_loop_runs_as_written(workers: int) -> None:
    model = torch.nn.Linear(4, 3)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    sampler = infobatch()
    loader = DataLoader(WithIndices(DATA), batch_sampler=sampler, num_workers=workers)
    sizes = []
    for epoch in range(6):
        seen = batches = 0
        expected = None
        for idx, (x, y) in loader:
            expected = expected or len(sampler)  # this epoch's, once its iteration began
            loss = F.cross_entropy(model(x), y, reduction="none")
            sampler.observe(idx, loss.detach())
            weights = sampler.loss_weights(idx)
            assert weights.dtype == torch.float32
            assert bool(torch.isfinite(weights).all())
            (loss * weights).mean().backward()  # type: ignore[no-untyped-call]  # untyped in torch
            optimiser.step()
            optimiser.zero_grad()
            seen += len(idx)
            batches += 1
            assert len(sampler) == expected
        assert batches == expected
        assert sampler.epoch == epoch
        sizes.append(seen)
    assert sizes[0] == N  # nothing observed yet: the full data
    assert all(size < N for size in sizes[1:5])  # pruned
    assert sizes[5] == N  # the annealing epoch (round(0.125 * 6) = 1): full data


def test_len_before_an_epoch_is_exact_given_no_further_observations() -> None:
    sampler = infobatch()
    run(sampler, range(1))
    sampler.set_epoch(1)
    before = len(sampler)
    assert len(list(sampler)) == before


def test_an_epoch_is_a_pure_function_of_the_observations_before_it() -> None:
    first, second = run(infobatch(), range(4)), run(infobatch(), range(4))
    assert first == second
    other = infobatch()
    run(other, range(1))
    other.observe([0, 1, 2], torch.tensor([9.0, 9.0, 9.0]))  # one more observation
    assert run(other, range(1, 2), observe=False)[0] != first[1]


def test_observations_during_an_epoch_do_not_change_it() -> None:
    sampler = infobatch()
    run(sampler, range(1))
    sampler.set_epoch(1)
    iterator = iter(sampler)
    head = [next(iterator) for _ in range(3)]
    length = len(sampler)
    weights = sampler.loss_weights(torch.arange(N))
    sampler.observe(torch.arange(N), torch.zeros(N))  # would prune differently
    rest = list(iterator)
    assert len(sampler) == length == len(head) + len(rest)
    assert torch.equal(sampler.loss_weights(torch.arange(N)), weights)
    reference = infobatch()
    run(reference, range(1))
    assert run(reference, range(1, 2), observe=False)[0] == head + rest


def test_loss_weights_rescale_the_kept_well_learned_samples() -> None:
    sampler = infobatch()
    run(sampler, range(1))
    sampler.set_epoch(1)
    list(sampler)
    weights = sampler.loss_weights(list(range(N)))
    assert set(weights.tolist()) == {1.0, 2.0}  # 1 / (1 - 0.5) for well-learned
    plain = EpochBatchSampler(LABELS, "stratified", batch_size=32)
    assert plain.loss_weights(torch.tensor([0, 5])).tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("indices", "scores", "fragment"),
    [
        ([0, 1], torch.tensor([1.0]), "2 indices but 1 scores"),
        ([0, N], torch.tensor([1.0, 2.0]), "out of range"),
        ([0, 1], torch.tensor([1.0, float("nan")]), "NaN"),
        (torch.tensor([[0, 1]]), torch.tensor([[1.0, 2.0]]), "1-D"),
        ([True, False], torch.tensor([1.0, 2.0]), "indices"),
        ([0, 1], torch.empty(2, device="meta"), "meta"),
    ],
)
def test_bad_observations_are_refused(indices: Any, scores: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        infobatch().observe(indices, scores)


def test_observe_on_a_strategy_without_feedback_is_refused() -> None:
    sampler = EpochBatchSampler(LABELS, "stratified", batch_size=8)
    with pytest.raises(ConfigError, match="does not plan from feedback"):
        sampler.observe([0], torch.tensor([1.0]))


def test_feedback_across_ranks_needs_a_process_group() -> None:
    with pytest.raises(ConfigError, match=r"torch\.distributed"):
        infobatch(rank=0, world_size=2)


@pytest.mark.parametrize("stop", [0, 5])
def test_a_checkpoint_resumes_the_same_decisions(stop: int) -> None:
    reference = run(infobatch(), range(4))
    sampler = infobatch()
    done = run(sampler, range(2))
    sampler.set_epoch(2)
    iterator = iter(sampler)
    head = []
    for _ in range(stop):
        batch = next(iterator)
        head.append(batch)
        sampler.observe(batch, score(torch.tensor(batch), 2))
    buffer = io.BytesIO()
    torch.save(sampler.state_dict(), buffer)
    buffer.seek(0)
    resumed = infobatch()
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    rest = []
    for batch in resumed:
        rest.append(batch)
        resumed.observe(batch, score(torch.tensor(batch), 2))
    assert [*done, head + rest] == reference[:3]
    assert run(resumed, range(3, 4)) == reference[3:]


def test_a_checkpoint_without_feedback_is_refused_by_a_feedback_sampler() -> None:
    state = infobatch().state_dict()
    del state["feedback"]
    with pytest.raises(ConfigError, match="holds none"):
        infobatch().load_state_dict(state)


def test_a_checkpoint_without_feedback_stays_small_json() -> None:
    state = EpochBatchSampler(LABELS, "stratified", batch_size=8).state_dict()
    assert len(json.dumps(state)) < 512


@pytest.mark.parametrize("workers", [0, 2])
def test_stateful_dataloader_resumes_with_feedback(workers: int) -> None:
    def loader() -> StatefulDataLoader:
        return StatefulDataLoader(WithIndices(DATA), batch_sampler=infobatch(), num_workers=workers)

    def train(loader_: StatefulDataLoader, epochs: range, stop: int | None = None) -> list[Any]:
        seen = []
        sampler = loader_.batch_sampler
        for e in epochs:
            sampler.set_epoch(e)
            for step, (idx, _) in enumerate(loader_):
                seen.append(idx.tolist())
                sampler.observe(idx, score(idx, e))
                if e == epochs[-1] and step == stop:
                    return seen
        return seen

    reference = train(loader(), range(3))
    first = loader()
    head = train(first, range(3), stop=4)
    state = first.state_dict()
    second = loader()
    second.load_state_dict(state)
    tail = train(second, range(2, 3))
    assert head + tail == reference


def test_prefetch_is_off_for_feedback_strategies_and_batches_are_unchanged() -> None:
    assert run(infobatch(prefetch=True), range(3)) == run(infobatch(), range(3))


def _ddp_worker(rank: int, world: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        sampler = infobatch()
        record: dict[str, Any] = {"epochs": [], "observed": []}
        for e in range(4):
            sampler.set_epoch(e)
            pairs = []
            for batch in sampler:
                scores = score(torch.tensor(batch), e)
                sampler.observe(batch, scores)
                pairs.append((batch, scores.tolist()))
            record["epochs"].append(sampler.epoch_indices(e).tolist())
            record["observed"].append(pairs)
        state = sampler.state_dict()  # a collective
        record["state"] = state["feedback"]["live"]["scores"].tolist()
    finally:
        dist.destroy_process_group()
    Path(out, f"rank{rank}.json").write_text(json.dumps(record))


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 3])
def test_ranks_plan_the_same_epochs_as_one_process_observing_them_all(
    world: int, tmp_path: Path
) -> None:
    init = f"file://{tmp_path / 'rendezvous'}"
    spawn(_ddp_worker, args=(world, init, str(tmp_path)), nprocs=world, join=True)  # type: ignore[no-untyped-call]
    records = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    assert all(r["epochs"] == records[0]["epochs"] for r in records)
    assert all(r["state"] == records[0]["state"] for r in records)
    # One process that observes, at each epoch's end, rank 0's pairs, then rank 1's, ...
    single = infobatch()
    for e in range(4):
        single.set_epoch(e)
        assert single.epoch_indices(e).tolist() == records[0]["epochs"][e]
        list(single)
        for record in records:
            for batch, scores in record["observed"][e]:
                single.observe(batch, torch.tensor(scores))
    all_ranks = {i for r in records for batch, _ in r["observed"][1] for i in batch}
    assert all_ranks == set(records[0]["epochs"][1])  # the ranks shared the epoch
