"""A tiny DDP training run over gloo, launched by test_distributed.py.

Two launch modes, both writing one JSON record per rank into --out:

- ``torchrun --standalone --nproc_per_node=W ddp_worker.py --out DIR`` (rank from the env);
- ``python ddp_worker.py --spawn W --out DIR`` (torch.multiprocessing.spawn, TCP on loopback).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.multiprocessing.spawn import spawn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset

from samplekit import DesyncError, EpochBatchSampler

N = 600
TIMEOUT = datetime.timedelta(seconds=60)


def run_labels() -> torch.Tensor:
    return ((torch.arange(N) * 7919) % 10 < 2).long()  # 20 % positives, fixed


def sampler_for(args: argparse.Namespace, rank: int, world: int) -> EpochBatchSampler:
    seed = args.seed + (1 if rank == args.bad_seed_rank else 0)
    return EpochBatchSampler(
        run_labels(),
        args.strategy,
        batch_size=args.batch_size,
        seed=seed,
        drop_last=args.drop_last,
        **json.loads(args.options),
    )


def train(args: argparse.Namespace) -> int:
    rank, world = dist.get_rank(), dist.get_world_size()
    out = Path(args.out) / f"rank{rank}.json"
    try:
        sampler = sampler_for(args, rank, world)
    except DesyncError as exc:
        out.write_text(json.dumps({"error": str(exc)}))
        # Every rank raised; wait for all of them before teardown (torch 2.3's gloo teardown
        # can hang when a rank destroys its group while another still finishes the gather).
        dist.barrier()
        return 3
    assert (sampler.rank, sampler.world_size) == (rank, world)
    labels = run_labels()
    features = torch.randn(N, 4, generator=torch.Generator().manual_seed(0))
    dataset = TensorDataset(features, labels.float(), torch.arange(N))
    loader = DataLoader(dataset, batch_sampler=sampler)
    model = DistributedDataParallel(torch.nn.Linear(4, 1))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    record: dict[str, list[dict[str, object]]] = {"epochs": []}
    for epoch in range(2):
        sampler.set_epoch(epoch)
        batches = []
        announced = len(sampler)
        for features_batch, targets, indices in loader:
            logits = model(features_batch).squeeze(1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
            optimiser.zero_grad()
            # An all-reduce: a rank with fewer steps would hang here.
            loss.backward()  # type: ignore[no-untyped-call]  # untyped in torch
            optimiser.step()
            batches.append(indices.tolist())
        record["epochs"].append({"len": announced, "batches": batches})
    out.write_text(json.dumps(record))
    dist.barrier()
    return 0


def spawned(rank: int, world: int, port: int, args: argparse.Namespace) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=TIMEOUT,
    )
    try:
        code = train(args)
    finally:
        dist.destroy_process_group()
    if code:
        raise SystemExit(code)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--spawn", type=int, default=0, help="world size for mp.spawn mode")
    parser.add_argument("--strategy", default="stratified")
    parser.add_argument("--options", default="{}", help="strategy options as JSON")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop-last", action="store_true")
    parser.add_argument("--bad-seed-rank", type=int, default=-1)
    args = parser.parse_args()
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    if args.spawn:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        spawn(  # type: ignore[no-untyped-call]  # untyped in torch
            spawned, args=(args.spawn, port, args), nprocs=args.spawn, join=True
        )
        return 0
    dist.init_process_group("gloo", timeout=TIMEOUT)
    code = train(args)
    if code == 0:  # an error leaves without teardown: os._exit below ends the process anyway
        dist.destroy_process_group()
    return code


if __name__ == "__main__":
    code = main()
    # Leave without interpreter finalisation, as torch.multiprocessing's children do: under
    # torchrun, torch's gloo teardown at exit sometimes aborts ("terminate called without an
    # active exception") after everything has finished, even in a script without samplekit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
