"""Time one epoch of each built-in strategy against PyTorch's samplers and the origin's sampler.

Builds one set of binary labels (``--positives`` share of 1s) and, in the same run, measures for
each built-in strategy: a full epoch consumed as the ``list[int]`` batches a DataLoader takes,
the time to the first batch, and the peak memory of the epoch; beside the same work done by

- ``floor``: ``torch.randperm(k)`` plus ``.tolist()`` of the k indices the epoch holds,
- ``BatchSampler(RandomSampler)`` (the peer of ``stratified``: every sample once),
- ``BatchSampler(WeightedRandomSampler)`` with the same class weights (peer of
  ``class_weighted``),
- the origin's ``MySampler`` logic with its batches turned into lists and its off-by-one fixed
  (peer of ``negative_subsampling``).

Times are medians over ``--repeats`` runs (each a different epoch; a strategy's runs alternate
with its floor's, so both see the same moments of a shared machine). Peak memory is the rise of
the process's resident high-water mark during one epoch (Linux ``/proc/self/clear_refs``).

A second table shows the wait at an epoch boundary inside a training loop (a simulated step
that sleeps, releasing the GIL as torch ops do, for ``--train-s`` seconds per epoch), with and
without ``prefetch=True``.

    python benchmarks/epoch.py                      # N = 10**7
    python benchmarks/epoch.py --n 100000000 --peer-repeats 1 --json
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import BatchSampler, RandomSampler, WeightedRandomSampler

from samplekit import EpochBatchSampler

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


# --- measuring --------------------------------------------------------------------------------


def _rss_kib(field: str) -> int | None:
    try:
        match = re.search(rf"{field}:\s+(\d+) kB", STATUS.read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


class PeakMemory:
    """Rise of the resident-set high-water mark over a block (MiB), where Linux allows it.

    Resetting the mark per block also resets what ``getrusage`` reports, so the process's own
    high-water mark across blocks is kept here, in ``PeakMemory.process_kib``.
    """

    process_kib = 0

    def __enter__(self) -> PeakMemory:
        gc.collect()
        before = _rss_kib("VmHWM")  # what happened since the last reset (e.g. construction)
        PeakMemory.process_kib = max(PeakMemory.process_kib, before or 0)
        with contextlib.suppress(OSError):  # where not allowed, the peak is not reset
            CLEAR_REFS.write_text("5")  # reset VmHWM to the current RSS
        self.start = _rss_kib("VmRSS")
        self.mib: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        peak = _rss_kib("VmHWM")
        if peak is not None:
            PeakMemory.process_kib = max(PeakMemory.process_kib, peak)
            if self.start is not None:
                self.mib = (peak - self.start) / 1024


def consume(batches: Iterator[list[int]]) -> tuple[float, float, int]:
    """Time to first batch, time for all of them, and how many there were."""
    start = time.perf_counter()
    first = None
    count = 0
    for _ in batches:
        if first is None:
            first = time.perf_counter() - start
        count += 1
    total = time.perf_counter() - start
    return (first if first is not None else total), total, count


def measure(run: Callable[[int], Iterator[list[int]]], repeats: int) -> dict[str, Any]:
    return measure_together([run], repeats)[0]


def measure_together(
    runs: list[Callable[[int], Iterator[list[int]]]], repeats: int
) -> list[dict[str, Any]]:
    """`measure` of each of ``runs``, their repeats interleaved (run 0, run 1, run 0, ...).

    A strategy and its floor measured so share the machine's slow and fast moments (on a
    shared machine a burst of other work otherwise lands on one of them and moves the ratio).
    """
    firsts: list[list[float]] = [[] for _ in runs]
    totals: list[list[float]] = [[] for _ in runs]
    peaks: list[list[float]] = [[] for _ in runs]
    counts: list[set[int]] = [set() for _ in runs]
    for repeat in range(repeats):
        for i, run in enumerate(runs):
            with PeakMemory() as memory:
                first, total, count = consume(run(repeat))
            firsts[i].append(first)
            totals[i].append(total)
            counts[i].add(count)
            if memory.mib is not None:
                peaks[i].append(memory.mib)
    return [
        {
            "epoch_s": statistics.median(totals[i]),
            "first_batch_s": statistics.median(firsts[i]),
            "peak_mib": max(peaks[i]) if peaks[i] else None,
            "batches": sorted(counts[i]),
        }
        for i in range(len(runs))
    ]


def measure_peer(run: Callable[[int], Iterator[list[int]]], repeats: int) -> dict[str, Any]:
    """As :func:`measure`, but a peer that refuses the work gets its error recorded instead."""
    try:
        return {**measure(run, repeats), "refused": None}
    except RuntimeError as exc:  # e.g. torch.multinomial beyond 2**24 categories
        none = {"epoch_s": None, "first_batch_s": None, "peak_mib": None, "batches": []}
        return {**none, "refused": str(exc).splitlines()[0]}


# --- the work being compared --------------------------------------------------------------------


def floor(k: int, batch_size: int) -> Callable[[int], Iterator[list[int]]]:
    """randperm(k) + tolist(), cut into batches: the least any sampler of k indices must do."""

    def run(repeat: int) -> Iterator[list[int]]:
        gen = torch.Generator().manual_seed(repeat)
        order: list[int] = torch.randperm(k, generator=gen).tolist()
        for start in range(0, k, batch_size):
            yield order[start : start + batch_size]

    return run


def randperm_only(k: int, repeats: int) -> float:
    times = []
    for repeat in range(repeats):
        gen = torch.Generator().manual_seed(repeat)
        start = time.perf_counter()
        torch.randperm(k, generator=gen)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(sampler: EpochBatchSampler) -> Callable[[int], Iterator[list[int]]]:
    def run(repeat: int) -> Iterator[list[int]]:
        sampler.set_epoch(repeat)
        return iter(sampler)

    return run


def boundary_wait(sampler: EpochBatchSampler, epochs: int, train_s: float) -> float:
    """Median wait for the first batch of epochs 1.. in a loop that trains ``train_s`` per epoch."""
    per_batch = train_s / max(1, len(sampler))
    waits = []
    for epoch in range(epochs + 1):
        sampler.set_epoch(epoch)
        start = time.perf_counter()
        batches = iter(sampler)
        next(batches, None)
        if epoch:
            waits.append(time.perf_counter() - start)
        owed = per_batch
        for _ in batches:
            owed += per_batch
            if owed >= 0.005:  # sleep in slices of a few ms: a model step releasing the GIL
                time.sleep(owed)
                owed = 0.0
        time.sleep(owed)
    return statistics.median(waits)


def torch_random(n: int, batch_size: int) -> Callable[[int], Iterator[list[int]]]:
    def run(repeat: int) -> Iterator[list[int]]:
        gen = torch.Generator().manual_seed(repeat)
        return iter(BatchSampler(RandomSampler(range(n), generator=gen), batch_size, False))

    return run


def torch_weighted(
    labels: torch.Tensor, class_weight: dict[int, float], batch_size: int
) -> Callable[[int], Iterator[list[int]]]:
    table = torch.tensor([class_weight[c] for c in sorted(class_weight)], dtype=torch.float64)
    weights = table[labels.long()]

    def run(repeat: int) -> Iterator[list[int]]:
        gen = torch.Generator().manual_seed(repeat)
        sampler = WeightedRandomSampler(weights, len(weights), replacement=True, generator=gen)
        return iter(BatchSampler(sampler, batch_size, False))

    return run


def origin(labels: torch.Tensor, ratio: float, batch_size: int) -> Callable[[int], Iterator]:
    """The origin's MySampler.__iter__, batches as lists, `<=` so the last full batch is kept."""
    n = len(labels)
    pos_idx = torch.arange(n)[labels == 1]
    neg_idx = torch.arange(n)[labels == 0]
    neg_sample_size = int(len(neg_idx) * ratio)

    def run(repeat: int) -> Iterator[list[int]]:
        gen = torch.Generator().manual_seed(repeat)
        neg_selected = neg_idx[torch.randperm(len(neg_idx), generator=gen)[:neg_sample_size]]
        selected = torch.cat([pos_idx, neg_selected], axis=0)
        selected = selected[torch.randperm(len(selected), generator=gen)]
        cnt = 0
        while cnt * batch_size < len(selected):
            yield selected[cnt * batch_size : (cnt + 1) * batch_size].tolist()
            cnt += 1

    return run


# --- the report -------------------------------------------------------------------------------


def make_labels(n: int, positives: float) -> torch.Tensor:
    gen = torch.Generator().manual_seed(12345)
    return (torch.rand(n, generator=gen) < positives).to(torch.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=float, default=1e7, help="number of samples (default 1e7)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--positives", type=float, default=0.01, help="share of label 1")
    parser.add_argument("--neg-ratio", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--peer-repeats",
        type=int,
        default=None,
        help="repeats for the slow PyTorch peers (default: --repeats)",
    )
    parser.add_argument(
        "--strategies", nargs="*", default=["negative_subsampling", "stratified", "class_weighted"]
    )
    parser.add_argument("--no-peers", action="store_true", help="skip the PyTorch peers")
    parser.add_argument(
        "--train-s",
        type=float,
        default=None,
        help="simulated training time per epoch for the boundary table "
        "(default: twice the slowest strategy's epoch; 0 skips the table)",
    )
    parser.add_argument("--boundary-epochs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    n, bs, repeats = int(args.n), args.batch_size, args.repeats
    peer_repeats = args.peer_repeats or repeats

    build_start = time.perf_counter()
    labels = make_labels(n, args.positives)
    label_s = time.perf_counter() - build_start
    n_pos = int(labels.sum())
    rows: list[dict[str, Any]] = []

    def add(name: str, k: int, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
        row = {"name": name, "k": k, **result, **extra}
        rows.append(row)
        if not args.json:
            peak = f"{row['peak_mib']:8.0f}" if row["peak_mib"] is not None else "       ?"
            if row.get("refused"):
                print(f"  refused  {name:<44} {row['refused']}", file=sys.stderr, flush=True)
                return row
            print(
                f"  measured {name:<44} {row['epoch_s']:8.3f} s  first {row['first_batch_s']:.4f} s"
                f"  peak {peak} MiB",
                file=sys.stderr,
                flush=True,
            )
        return row

    floors: dict[int, dict[str, Any]] = {}

    peers: dict[str, dict[str, Any]] = {}
    report = []
    options = {
        "negative_subsampling": {"neg_ratio": args.neg_ratio},
        "stratified": {},
        "class_weighted": {"class_weights": "balanced"},
    }
    for name in args.strategies:
        start = time.perf_counter()
        sampler = EpochBatchSampler(labels, name, batch_size=bs, **options[name])
        construct_s = time.perf_counter() - start
        k = sampler.strategy.epoch_length(0)
        # Each strategy beside its own floor, their epochs interleaved.
        ours_result, floor_result = measure_together([ours(sampler), floor(k, bs)], repeats)
        mine = add(name, k, ours_result, construct_s=construct_s)
        base = floors[k] = add(
            f"floor randperm({k})+tolist",
            k,
            floor_result,
            randperm_s=randperm_only(k, repeats),
        )
        peer = None
        if not args.no_peers:
            if name == "negative_subsampling":
                key = "origin MySampler (fixed)"
                if key not in peers:
                    peers[key] = add(
                        key, k, measure_peer(origin(labels, args.neg_ratio, bs), repeats)
                    )
            elif name == "stratified":
                key = "BatchSampler(RandomSampler)"
                if key not in peers:
                    peers[key] = add(key, n, measure_peer(torch_random(n, bs), peer_repeats))
            else:
                key = "BatchSampler(WeightedRandomSampler)"
                counts = torch.bincount(labels.long(), minlength=2).tolist()
                balanced = {c: 1.0 / counts[c] for c in range(2)}
                if key not in peers:
                    peers[key] = add(
                        key, n, measure_peer(torch_weighted(labels, balanced, bs), peer_repeats)
                    )
            peer = {"name": key, **peers[key]}
        report.append(
            {
                "strategy": name,
                "options": options[name],
                "k": k,
                "construct_s": construct_s,
                "epoch_s": mine["epoch_s"],
                "first_batch_s": mine["first_batch_s"],
                "peak_mib": mine["peak_mib"],
                "floor_epoch_s": base["epoch_s"],
                "floor_randperm_s": base["randperm_s"],
                "epoch_vs_floor": mine["epoch_s"] / base["epoch_s"],
                "first_batch_vs_randperm": mine["first_batch_s"] / base["randperm_s"],
                "peer": peer["name"] if peer else None,
                "peer_epoch_s": peer["epoch_s"] if peer else None,
                "peer_refused": peer["refused"] if peer else None,
                "speedup_vs_peer": (
                    peer["epoch_s"] / mine["epoch_s"] if peer and peer["epoch_s"] else None
                ),
            }
        )

    boundary = []
    train_s = args.train_s
    if train_s is None:
        train_s = 2 * max(r["epoch_s"] for r in report)
    if train_s > 0:
        for name in args.strategies:
            waits = {}
            for prefetch in (False, True):
                sampler = EpochBatchSampler(
                    labels, name, batch_size=bs, prefetch=prefetch, **options[name]
                )
                waits[prefetch] = boundary_wait(sampler, args.boundary_epochs, train_s)
                del sampler
            k = next(r["k"] for r in report if r["strategy"] == name)
            randperm_s = floors[k]["randperm_s"]
            boundary.append(
                {
                    "strategy": name,
                    "train_s_per_epoch": train_s,
                    "wait_s": waits[False],
                    "wait_prefetch_s": waits[True],
                    "wait_vs_randperm": waits[False] / randperm_s,
                    "wait_prefetch_vs_randperm": waits[True] / randperm_s,
                }
            )
            if not args.json:
                print(f"  measured boundary of {name}", file=sys.stderr, flush=True)

    meta = {
        "n": n,
        "positives": n_pos,
        "batch_size": bs,
        "repeats": repeats,
        "peer_repeats": peer_repeats,
        "labels_build_s": label_s,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "process_peak_mib": _process_peak_mib(),
    }
    if args.json:
        out = {"meta": meta, "strategies": report, "boundary": boundary, "measurements": rows}
        print(json.dumps(out, indent=2))
        return 0
    print(
        f"\nN = {n:,} samples ({n_pos:,} positives), batch_size = {bs}, median of {repeats} "
        f"(peers {peer_repeats}); torch {meta['torch']}, {meta['machine']}; "
        f"peak resident memory of the whole run {meta['process_peak_mib'] or 0:,.0f} MiB\n"
    )
    head = (
        "| strategy | k | build s | epoch s | x floor | first batch s | x randperm(k) | peak MiB "
        "| peer | peer s | speed-up |"
    )
    print(head)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in report:
        peak = f"{r['peak_mib']:.0f}" if r["peak_mib"] is not None else "?"
        if r["peer_refused"]:
            peer = f"{r['peer']} | refused: {r['peer_refused']} | -"
        elif r["peer"]:
            peer = f"{r['peer']} | {r['peer_epoch_s']:.3f} | {r['speedup_vs_peer']:.1f}x"
        else:
            peer = "- | - | -"
        print(
            f"| {r['strategy']} | {r['k']:,} | {r['construct_s']:.2f} | {r['epoch_s']:.3f} | "
            f"{r['epoch_vs_floor']:.2f} | "
            f"{r['first_batch_s']:.4f} | {r['first_batch_vs_randperm']:.2f} | {peak} | {peer} |"
        )
    if boundary:
        print(
            f"\nWait for the first batch of the next epoch in a loop that trains "
            f"{train_s:.2f} s per epoch (median over epochs 1..{args.boundary_epochs}):\n"
        )
        print("| strategy | wait s | x randperm(k) | with prefetch s | x randperm(k) |")
        print("|---|---:|---:|---:|---:|")
        for b in boundary:
            print(
                f"| {b['strategy']} | {b['wait_s']:.4f} | {b['wait_vs_randperm']:.2f} | "
                f"{b['wait_prefetch_s']:.4f} | {b['wait_prefetch_vs_randperm']:.3f} |"
            )
    return 0


def _process_peak_mib() -> float | None:
    """The whole run's resident high-water mark (labels, indices, peers), where known."""
    now = _rss_kib("VmHWM")
    peak = max(PeakMemory.process_kib, now or 0)
    return peak / 1024 if peak else None


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
