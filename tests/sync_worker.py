"""Gloo processes that build samplers wrongly on purpose, launched by test_distributed.py.

``python sync_worker.py SCENARIO WORLD OUT_DIR`` writes ``rank<r>.json`` per rank: the error
the sampler raised (type and message), or ``null``.

- ``same_rank``: every process passes ``rank=0`` for the whole group.
- ``skip_sync``: rank 0 checks ranks agree, the others pass ``check_sync=False``.
- ``sub_group``: every process passes ``rank=0, world_size=1`` (a one-rank sampler).
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import time
from pathlib import Path

import torch.distributed as dist
from torch.multiprocessing.spawn import spawn

from samplekit import EpochBatchSampler

TIMEOUT = datetime.timedelta(seconds=4)


def build(scenario: str, rank: int) -> EpochBatchSampler:
    labels = [0, 1] * 50
    if scenario == "same_rank":
        return EpochBatchSampler(labels, "stratified", batch_size=4, rank=0)
    if scenario == "skip_sync":
        return EpochBatchSampler(labels, "stratified", batch_size=4, check_sync=rank == 0)
    return EpochBatchSampler(labels, "stratified", batch_size=4, rank=0, world_size=1)


def run(rank: int, world: int, port: int, scenario: str, out: str) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=TIMEOUT,
    )
    record: dict[str, str] | None = None
    try:
        build(scenario, rank)
    except Exception as exc:  # recorded for the test to judge
        record = {"type": type(exc).__name__, "message": str(exc)}
    Path(out, f"rank{rank}.json").write_text(json.dumps(record))
    if record is None and scenario != "sub_group":
        time.sleep(TIMEOUT.total_seconds() + 2)  # stay until the waiting rank has timed out
    sys.stdout.flush()
    os._exit(0)  # no gloo teardown: a rank may be stuck in a collective on purpose


if __name__ == "__main__":
    scenario, world, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spawn(  # type: ignore[no-untyped-call]  # untyped in torch
        run, args=(world, port, scenario, out), nprocs=world, join=True
    )
