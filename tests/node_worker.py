"""Gloo processes that build samplers sharing per-node data, launched by test_nodecache.py.

``python node_worker.py WORLD OUT_DIR`` builds a ``stratified`` and a ``negative_subsampling``
sampler (whose labels are 70 % class 0: the first packs class 0, as the per-class index does
beyond ``LISTED_BYTES``, set to 0 here, the second reads it from the gaps between the others)
and a ``class_weighted`` sampler on balanced labels (its per-class index lists every sample),
then, with ``LISTED_BYTES`` as it was, a ``negative_subsampling`` sampler on the balanced labels
(its negatives listed, beside the positives' gaps) on every rank (with ``SAMPLEKIT_NODE_CACHE``
as the test sets it) and writes ``rank<r>.json``: the batches of epoch 0, the per-node files this
process maps (from ``/proc/self/maps``), the warnings raised and what the cache directory holds
afterwards.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import warnings
from pathlib import Path

import torch
import torch.distributed as dist
from torch.multiprocessing.spawn import spawn

from samplekit import EpochBatchSampler
from samplekit import labels as labels_module

N = 5000
LISTED_BYTES = labels_module.LISTED_BYTES


def labels() -> torch.Tensor:
    return ((torch.arange(N) * 7919) % 10 < 3).to(torch.int64)  # 30 % positives, fixed


def balanced() -> torch.Tensor:
    return (torch.arange(N) * 7919) % 3  # three classes of a third each


def mapped() -> list[str]:
    text = Path("/proc/self/maps").read_text()
    return sorted(
        {line.split(maxsplit=5)[-1] for line in text.splitlines() if "samplekit-" in line}
    )


def run(rank: int, world: int, port: int, out: str) -> None:
    labels_module.LISTED_BYTES = 0  # pack class 0 or read it from gaps, as beyond 1 GiB of index
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=60),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samplers = [
            EpochBatchSampler(labels(), "stratified", batch_size=16),
            EpochBatchSampler(labels(), "negative_subsampling", batch_size=16, neg_ratio=0.5),
            EpochBatchSampler(balanced(), "class_weighted", batch_size=16),
        ]
        labels_module.LISTED_BYTES = LISTED_BYTES  # within it: the negatives are listed
        samplers.append(
            EpochBatchSampler(balanced(), "negative_subsampling", batch_size=16, neg_ratio=0.5)
        )
    cache = os.environ.get("SAMPLEKIT_NODE_CACHE", "")
    record = {
        "batches": [list(sampler) for sampler in samplers],
        "mapped": mapped(),
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        "left": sorted(p.name for p in Path(cache).iterdir()) if Path(cache).is_dir() else None,
    }
    Path(out, f"rank{rank}.json").write_text(json.dumps(record))
    dist.barrier()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    world, out = int(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    spawn(run, args=(world, free, out), nprocs=world, join=True)  # type: ignore[no-untyped-call]
