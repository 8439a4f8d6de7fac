"""Elastic resume: a checkpoint taken on one number of ranks continues on another.

Real gloo process groups (ranks and world size come from torch.distributed), and
StatefulDataLoader with a changed number of workers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
from torch.multiprocessing.spawn import spawn
from torch.utils.data import TensorDataset
from torchdata.stateful_dataloader import StatefulDataLoader

from samplekit import ConfigError, EpochBatchSampler, batch_sampler_state

LABELS = torch.arange(300) % 4


def make(**kwargs: Any) -> EpochBatchSampler:
    return EpochBatchSampler(
        LABELS, "negative_subsampling", neg_ratio=0.5, batch_size=8, seed=7, **kwargs
    )


def _phase(rank: int, world: int, init: str, out: str, steps: int | None, load: bool) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        sampler = make()
        if load:
            sampler.load_state_dict(json.loads(Path(out, "state.json").read_text()))
        record: dict[str, Any] = {"len": len(sampler), "epochs": []}
        for epoch in [0] if not load else [0, 1]:  # a loop with its own epoch counter
            sampler.set_epoch(epoch)  # right after loading: the rest of the loaded epoch
            batches = []
            for step, batch in enumerate(sampler):
                batches.append(batch)
                if steps is not None and step + 1 == steps:
                    break
            record["epochs"].append(batches)
        if not load and rank == 0:
            Path(out, "state.json").write_text(json.dumps(sampler.state_dict()))
    finally:
        dist.destroy_process_group()
    Path(out, f"{'after' if load else 'before'}{rank}.json").write_text(json.dumps(record))


def _run(world: int, tmp: Path, name: str, steps: int | None, load: bool) -> list[Any]:
    init = f"file://{tmp / name}"
    spawn(_phase, args=(world, init, str(tmp), steps, load), nprocs=world, join=True)  # type: ignore[no-untyped-call]
    kind = "after" if load else "before"
    return [json.loads((tmp / f"{kind}{r}.json").read_text()) for r in range(world)]


@pytest.mark.slow
@pytest.mark.parametrize(("before", "after"), [(4, 2), (4, 3), (2, 4), (3, 1)])
@pytest.mark.parametrize("steps", [2, None])  # mid-epoch, and after the epoch's last batch
def test_a_checkpoint_continues_on_another_number_of_ranks(
    before: int, after: int, steps: int | None, tmp_path: Path
) -> None:
    reference = list(make())  # the global epoch 0, one rank
    second = make()
    second.set_epoch(1)
    reference_next = list(second)
    first = _run(before, tmp_path, "one", steps, load=False)
    resumed = _run(after, tmp_path, "two", None, load=True)
    taken = len(first[0]["epochs"][0])
    head = [first[r]["epochs"][0][s] for s in range(taken) for r in range(before)]
    rests = [r["epochs"][0] for r in resumed]
    assert len({len(rest) for rest in rests}) == 1  # every rank the same count
    tail = [rests[r][s] for s in range(len(rests[0])) for r in range(after)]
    done = head + tail
    assert done[: len(reference)] == reference  # the same global sequence, none lost
    counts = Counter(tuple(b) for b in done[: len(reference)])
    assert max(counts.values()) == 1 or len(set(map(tuple, reference))) < len(reference)
    assert done[len(reference) :] == reference[: len(done) - len(reference)]  # padding only
    following = [
        resumed[r]["epochs"][1][s]
        for s in range(len(resumed[0]["epochs"][1]))
        for r in range(after)
    ]
    assert following[: len(reference_next)] == reference_next  # the next epoch as usual


@pytest.mark.parametrize(("workers_before", "workers_after"), [(0, 2), (2, 0), (2, 1)])
def test_stateful_dataloader_resumes_with_another_worker_count(
    workers_before: int, workers_after: int
) -> None:
    dataset = TensorDataset(torch.arange(len(LABELS)))

    def loader(workers: int) -> StatefulDataLoader:
        return StatefulDataLoader(dataset, batch_sampler=make(), num_workers=workers)

    plain = loader(0)
    reference = [xb.tolist() for (xb,) in plain]
    reference_next = [xb.tolist() for (xb,) in plain]
    first = loader(workers_before)
    seen = []
    for step, (xb,) in enumerate(first):
        seen.append(xb.tolist())
        if step == 5:
            state = first.state_dict()
            break
    # StatefulDataLoader.load_state_dict refuses another number of workers; the sampler's
    # state inside its checkpoint does not care.
    second = loader(workers_after)
    second.batch_sampler.load_state_dict(batch_sampler_state(state))
    assert seen + [xb.tolist() for (xb,) in second] == reference
    assert [xb.tolist() for (xb,) in second] == reference_next


def test_batch_sampler_state_needs_a_loader_state() -> None:
    with pytest.raises(ConfigError, match="no batch sampler state"):
        batch_sampler_state({"_num_yielded": 3})
