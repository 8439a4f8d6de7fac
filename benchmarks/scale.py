"""How samplekit's random-access strategies scale with N: first batch, resume, rate and memory.

For each N of ``--sizes`` (default 1e6, 1e7, 1e8) and each built-in random-access strategy
(``shuffle``; ``negative_subsampling`` with ``neg_ratio=0.1``; ``class_weighted`` with its
defaults: balanced, with replacement, N draws; ``stratified``), with ``batch_size=256`` and the
default ``fixed`` batcher, it measures:

1. construction: wall and process CPU seconds of ``EpochBatchSampler(...)`` (the child builds
   the sampler three times; the best of the three is shown);
2. first batch at start: CPU time of ``next(iter(sampler))`` for rank 3 of ``world_size=8``
   (passed explicitly, no ``torch.distributed``), on a freshly built sampler after
   ``set_epoch(1)``; beside it the median over ``--repeats`` later epochs of the same sampler;
3. first batch after a mid-epoch resume: a fresh sampler (rank 3 of 8) loads a checkpoint of
   epoch 1 half-way through (``state["cursor"]["global_batches"]`` set to half the epoch's
   global batches, rounded down to a multiple of 8), then ``next(iter(...))``; the CPU time
   covers ``load_state_dict`` and the first batch, and the batch is checked against the one
   ``epoch_batches`` gives for that rank and step;
4. sustained rate: indices per second per core delivered as ``list[int]`` batches on one rank
   (``world_size=1``) over ``min(epoch, --rate-indices)`` indices (default 4e6), CPU time; the
   fastest of ``--rate-repeats`` runs (default 3, each in another epoch);
5. memory (Linux ``/proc/self/status``), each above the resident memory before the sampler is
   built: after it is built; the high-water mark (``VmHWM``) during construction; after
   construction once glibc returned what was freed (``malloc_trim``: construction's
   temporaries, which a rank mapping its node's copy never makes, would otherwise stay
   counted); the high-water mark during iteration (the sustained run and, where measured, the
   whole epoch). Resident memory is the process's own (``RssAnon`` + ``RssShmem``), without the
   libraries' file pages, which the kernel drops and reloads as other processes need memory.
   Then the per-node data (``strategy.class_index.grouped``, int32 per sample, when the
   strategy built it, or the listing of every class but the largest and the gaps and bucket
   table that read the largest by rank; ``negative_subsampling``'s gaps and table), which
   ``torch.distributed`` ranks share once per node (``samplekit.nodecache``; in this single
   process it is private), and the per-rank memory beyond it: the iteration peak less the
   per-node bytes. The labels are created before the baseline (they are the user's) and
   reported apart;
6. whole epoch against the floor, for N in ``--epoch-sizes`` (default 1e6, 1e7): CPU seconds of
   a whole epoch on one rank (``world_size=1``) against ``torch.randperm(k).tolist()`` cut into
   lists of 256 (the floor of ``benchmarks/epoch.py``) for the strategy's own epoch size ``k``;
   best of ``--epoch-repeats``;
7. N = 1e9: measured when ``--sizes`` holds it and ``MemAvailable`` covers the strategy's rough
   need; otherwise the first-batch CPU times, the per-rank memory and the per-node data are
   extrapolated from the two largest sizes measured and labelled "extrapolated". Per-node data:
   in proportion to N. A first-batch time: the fresh value at the largest N plus the rise that
   the medians over later epochs (``--repeats`` samples each, steadier than one call) project to
   1e9, linear in N when they rose by 20 % and 0.5 ms between the two sizes (a step that grows
   with N, however small its share of the time), else none. Per-rank memory: linear in N when
   it rose by 8 MiB or more, else the value at the largest N (smaller moves are allocator
   noise). Linear is the cautious choice: a cache effect that grows like log N comes out larger
   than it will be.

Labels (uint8, from a seeded ``torch.Generator``): 10 % positives. ``shuffle``,
``negative_subsampling`` and ``class_weighted`` get binary labels (1 = positive); ``stratified``
gets 10 classes, class 0 holding the 90 % negatives and classes 1..9 sharing the 10 % positives in
proportion to 1/c (3.5 % down to 0.39 %), so that its batches mix rare and common classes.

Each (strategy, N) and each floor runs in its own child process (this file with ``--one``), with
``torch.set_num_threads(1)``; before its baseline the child builds and iterates a sampler over a
few thousand labels, so imports and plugin loading are not counted. Times are CPU seconds
(``time.process_time``) unless marked wall, so a shared machine disturbs them less.

Targets, each printed with the measured value, the ratio and PASS or MISS:

- first batch (start and resume) <= 10 ms CPU for 256 indices at N = 1e9;
- sustained >= 5 M indices/s per core (the verdict at the largest N measured);
- per-rank memory beyond the per-node data <= 64 MiB at N = 1e9;
- per node of 8 ranks <= 5 GB (5 x 10**9 bytes) at N = 1e9: per-node data + 8 x per-rank + the
  labels once, as when every rank memory-maps one label file (the page cache holds it once; with
  a private copy per rank add 7 x the labels);
- whole epoch within 1.5 x the floor at N = 1e7.

Peers: ``--peers PATH`` reads the JSON that ``benchmarks/scale_peers.py --json PATH`` writes
(MosaicML Streaming's epoch build per node and Grain's ``index_shuffle``, run in their own
virtual environment as that file's docstring describes) and prints them beside samplekit at the
same N.

    python benchmarks/scale.py --sizes 1e6,1e7 --json scale.json         # quick
    python benchmarks/scale.py --sizes 1e6,1e7,1e8 --peers peers.json
    python benchmarks/scale.py --sizes 1e9 --json big.json                # measure 1e9
    python benchmarks/scale.py --results scale.json big.json --peers peers.json   # merged

    # the peers file, with the python of the peers' own virtual environment:
    <peers venv>/bin/python benchmarks/scale_peers.py --sizes 1e6,1e7,1e8 --json peers.json
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from samplekit import EpochBatchSampler

STRATEGIES: dict[str, dict[str, Any]] = {
    "shuffle": {},
    "negative_subsampling": {"neg_ratio": 0.1},
    "class_weighted": {},
    "stratified": {},
}
BATCH_SIZE = 256
WORLD_SIZE = 8
RANK = 3
POSITIVES = 0.1
CLASSES = 10  # stratified: class 0 = negatives, 1..9 share the positives in proportion to 1/c
SEED = 12345
WARM_UP_N = 4096
LABEL_BLOCK = 1 << 24
BILLION = 10**9
MIB = 1 << 20
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
MEMINFO = Path("/proc/meminfo")
# Rough bytes per sample a child needs (labels, per-node data, construction temporaries), to
# skip a size that cannot fit instead of swapping.
NEED_BYTES_PER_SAMPLE = {
    "shuffle": 3,
    "negative_subsampling": 5,
    "class_weighted": 12,
    "stratified": 12,
}
FLOOR_BYTES_PER_SAMPLE = 48  # randperm's int64 plus a Python int per index

# Targets.
FIRST_BATCH_S = 0.010
RATE_PER_S = 5e6
PER_RANK_BYTES = 64 * MIB
PER_NODE_BYTES = 5 * BILLION
EPOCH_VS_FLOOR = 1.5
EPOCH_TARGET_N = 10**7
# Growth between the two largest sizes below these is noise, not a trend to extrapolate: a
# resident set moves by a few MiB with the allocator, a first batch by a fraction of a ms.
MEMORY_NOISE_BYTES = 8 * MIB
TIME_NOISE_S = 0.0005


# --- measuring (in the child) -----------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        match = re.search(rf"{field}:\s+(\d+) kB", STATUS.read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _rss() -> int | None:
    """The process's own resident bytes now (anonymous and shared memory), after a collection.

    File-backed pages (the interpreter's and torch's libraries) are left out: the kernel drops
    and reloads them as other processes need memory, which would move a ``VmRSS`` baseline.
    """
    gc.collect()
    anon, shmem = _status_kib("RssAnon"), _status_kib("RssShmem")
    if anon is None or shmem is None:
        kib = _status_kib("VmRSS")
        return None if kib is None else kib * 1024
    return (anon + shmem) * 1024


def _high_water() -> int | None:
    """The high-water mark since the last `_reset_high_water`, less today's file-backed pages.

    ``VmHWM`` counts every resident page; the file-backed ones resident now are taken off, so
    that it compares with `_rss` (an over-estimate if the kernel dropped some meanwhile).
    """
    peak, files = _status_kib("VmHWM"), _status_kib("RssFile")
    if peak is None:
        return None
    return (peak - (files or 0)) * 1024


def _trim() -> bool:
    """Return the memory the C allocator holds freed to the system (glibc ``malloc_trim``).

    Construction frees large temporaries that glibc may keep mapped; trimming makes the
    resident set count what is held, not what the allocator kept. False where unavailable.
    """
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return False
    trim(0)
    return True


def _reset_high_water() -> bool:
    """Reset ``VmHWM`` to the current RSS; False where Linux does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _above(peak: int | None, base: int | None) -> int | None:
    return None if peak is None or base is None else peak - base


def make_labels(strategy: str, n: int) -> torch.Tensor:
    """The benchmark's labels for ``strategy``: uint8, 10 % positives, seeded.

    Args:
        strategy: ``stratified`` gets 10 imbalanced classes, the others binary labels.
        n: How many labels.

    Returns:
        A uint8 tensor of ``n`` labels, drawn a block at a time (no float copy of all of them).
    """
    gen = torch.Generator().manual_seed(SEED)
    labels = torch.empty(n, dtype=torch.uint8)
    cdf = torch.tensor(_class_shares()).cumsum(0)[:-1].to(torch.float32)
    for start in range(0, n, LABEL_BLOCK):
        stop = min(n, start + LABEL_BLOCK)
        draws = torch.rand(stop - start, generator=gen)
        if strategy == "stratified":
            labels[start:stop] = torch.searchsorted(cdf, draws, right=True).to(torch.uint8)
        else:
            labels[start:stop] = draws < POSITIVES
    return labels


def _class_shares() -> list[float]:
    """Stratified's class shares: 0.9 for class 0, the positives' 0.1 split in proportion to 1/c."""
    harmonic = sum(1 / c for c in range(1, CLASSES))
    return [1 - POSITIVES] + [POSITIVES * (1 / c) / harmonic for c in range(1, CLASSES)]


def _build(
    labels: torch.Tensor, strategy: str, *, world_size: int, rank: int
) -> tuple[EpochBatchSampler, float, float]:
    """A sampler of ``strategy`` for rank ``rank`` of ``world_size``, and its wall and CPU s."""
    from samplekit import EpochBatchSampler

    wall, cpu = time.perf_counter(), time.process_time()
    sampler = EpochBatchSampler(
        labels,
        strategy,
        batch_size=BATCH_SIZE,
        world_size=world_size,
        rank=rank,
        **STRATEGIES[strategy],
    )
    return sampler, time.perf_counter() - wall, time.process_time() - cpu


def per_node_bytes(sampler: EpochBatchSampler) -> int:
    """Bytes of the data ranks share once per node: the per-class index and the positives.

    Looks at what the strategy built; never builds it (``class_index`` is a cached property):
    ``grouped``; or, when one class holds half the samples, the other samples by class and the
    large class packed; ``negative_subsampling``'s gaps and its listed negatives (or, beyond
    ``LISTED_BYTES``, the gaps' bucket table). A tensor reached twice is counted once.
    """
    strategy = sampler.strategy
    tensors: dict[int, torch.Tensor] = {}
    complements = [strategy.__dict__.get("_negatives")]
    index = strategy.__dict__.get("class_index")
    if index is not None and "grouped" in index.__dict__:
        tensors[index.__dict__["grouped"].data_ptr()] = index.__dict__["grouped"]
    if index is not None and index._reader is not None:
        _, packed, rest, _ = index._reader
        for tensor in (packed._offsets, packed._heads, packed._whole, rest):
            tensors[tensor.data_ptr()] = tensor
    for complement in complements:
        if complement is not None:
            for tensor in (complement._gaps, complement._starts, complement._listed):
                if tensor is not None:
                    tensors[tensor.data_ptr()] = tensor
    return sum(t.numel() * t.element_size() for t in tensors.values())


def _close(batches: Iterator[list[int]]) -> None:
    """End an iteration now (the sampler's iterator is a generator), not at garbage collection."""
    close = getattr(batches, "close", None)
    if close is not None:
        close()


def _first_batch(sampler: EpochBatchSampler, epoch: int) -> tuple[float, float, list[int]]:
    """CPU and wall seconds of ``next(iter(sampler))`` after ``set_epoch(epoch)``."""
    sampler.set_epoch(epoch)
    wall, cpu = time.perf_counter(), time.process_time()
    batches = iter(sampler)
    batch = next(batches)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    _close(batches)
    return cpu, wall, batch


def _resume(
    sampler: EpochBatchSampler, state: dict[str, Any]
) -> tuple[float, float, float, list[int]]:
    """CPU seconds of ``load_state_dict`` + first batch, of the load alone, wall, the batch."""
    wall, cpu = time.perf_counter(), time.process_time()
    sampler.load_state_dict(state)
    loaded = time.process_time()
    batches = iter(sampler)
    batch = next(batches)
    end, wall = time.process_time(), time.perf_counter() - wall
    _close(batches)
    return end - cpu, loaded - cpu, wall, batch


def _consume(sampler: EpochBatchSampler, limit: int | None) -> tuple[int, float, float]:
    """Indices handed out (up to ``limit``), CPU and wall seconds, as a training loop takes them."""
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    batches = iter(sampler)
    for batch in batches:
        count += len(batch)
        if limit is not None and count >= limit:
            break
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    _close(batches)
    return count, cpu, wall


def _warm_up(strategy: str) -> None:
    """Run every measured code path once on a few labels: imports and plugins load here."""
    labels = make_labels(strategy, WARM_UP_N)
    sampler, _, _ = _build(labels, strategy, world_size=WORLD_SIZE, rank=RANK)
    _first_batch(sampler, 1)
    state = sampler.state_dict()
    state["cursor"] = {"epoch": 1, "global_batches": WORLD_SIZE}
    _resume(sampler, state)
    whole, _, _ = _build(labels, strategy, world_size=1, rank=0)
    _consume(whole, None)


def measure_strategy(
    strategy: str,
    n: int,
    *,
    repeats: int,
    rate_indices: int,
    rate_repeats: int,
    epoch_repeats: int,
) -> dict[str, Any]:
    """Every measure of one strategy at one N, in this (fresh) process.

    Args:
        strategy: A key of `STRATEGIES`.
        n: Number of labels.
        repeats: Later epochs over which the first batch and the resume are also timed.
        rate_indices: Indices of the sustained run (at most the epoch).
        rate_repeats: Sustained runs (each in another epoch); the fastest is kept.
        epoch_repeats: Whole epochs timed (0: none); the best is kept.

    Returns:
        A JSON-serialisable dict: ``k`` (the epoch size), ``build``, ``memory`` (bytes),
        ``rate``, ``epoch`` (None without ``epoch_repeats``), ``first_batch`` and ``resume``
        (seconds), each with the runs it was chosen from where there were several.
    """
    torch.set_num_threads(1)
    labels = make_labels(strategy, n)
    _warm_up(strategy)
    out: dict[str, Any] = {"strategy": strategy, "n": n, "options": STRATEGIES[strategy]}
    out["labels_bytes"] = labels.numel() * labels.element_size()
    out["labels_classes"] = int(torch.unique(labels).numel())

    # Memory, construction, sustained rate and whole epoch: one rank of world size 1.
    trimmed = _trim()
    before = _rss()
    resettable = _reset_high_water()
    sampler, build_wall, build_cpu = _build(labels, strategy, world_size=1, rank=0)
    builds = [(build_wall, build_cpu)]
    out["memory"] = {
        "rss_before": before,
        "rss_after_build": _rss(),
        "build_peak_above_before": _above(_high_water(), before) if resettable else None,
        "rss_after_build_trimmed": _rss() if _trim() else None,
        "per_node_bytes": per_node_bytes(sampler),
        "high_water_resettable": resettable,
        "malloc_trim": trimmed,
    }
    k = sampler.strategy.epoch_length(0)
    out["k"] = k
    out["global_batches"] = sampler.planner.count(1)
    _reset_high_water()
    rates = []
    for repeat in range(max(1, rate_repeats)):
        sampler.set_epoch(10 + repeat)
        count, cpu, wall = _consume(sampler, min(k, rate_indices))
        rates.append({"indices": count, "cpu_s": cpu, "wall_s": wall, "per_s": count / cpu})
    out["rate"] = {**max(rates, key=lambda r: r["per_s"]), "runs": rates}
    epochs = []
    for repeat in range(epoch_repeats):
        sampler.set_epoch(2 + repeat)
        count, cpu, wall = _consume(sampler, None)
        epochs.append({"indices": count, "cpu_s": cpu, "wall_s": wall})
    out["epoch"] = min(epochs, key=lambda e: e["cpu_s"]) if epochs else None
    out["epoch_runs"] = epochs
    memory = out["memory"]
    # Without a reset the mark still holds the construction's temporaries: no iteration peak.
    rise = _above(_high_water(), before) if resettable else None
    memory["iteration_peak_above_before"] = rise
    memory["per_rank_bytes"] = None if rise is None else rise - memory["per_node_bytes"]
    del sampler
    gc.collect()

    # First batch at start: a fresh sampler, rank 3 of 8.
    sampler, build_wall, build_cpu = _build(labels, strategy, world_size=WORLD_SIZE, rank=RANK)
    builds.append((build_wall, build_cpu))
    cpu, wall, _ = _first_batch(sampler, 1)
    later = [_first_batch(sampler, 2 + r)[:2] for r in range(repeats)]
    out["first_batch"] = {
        "cpu_s": cpu,
        "wall_s": wall,
        "later_cpu_s": statistics.median(c for c, _ in later) if later else None,
    }

    # Resume half-way through epoch 1 (and later epochs), each checked against epoch_batches.
    total = sampler.planner.count(1)
    half = total // 2 // WORLD_SIZE * WORLD_SIZE
    states, expected = [], []
    for epoch in range(1, 2 + repeats):
        state = sampler.state_dict()
        state["cursor"] = {"epoch": epoch, "global_batches": half}
        states.append(state)
        expected.append(next(sampler.epoch_batches(epoch, start=half // WORLD_SIZE)))
    del sampler
    gc.collect()
    resumed, build_wall, build_cpu = _build(labels, strategy, world_size=WORLD_SIZE, rank=RANK)
    builds.append((build_wall, build_cpu))
    runs = [_resume(resumed, state) for state in states]
    cpu, load_cpu, wall, batch = runs[0]
    out["resume"] = {
        "global_batches": half,
        "of": total,
        "cpu_s": cpu,
        "load_cpu_s": load_cpu,
        "wall_s": wall,
        "later_cpu_s": statistics.median(r[0] for r in runs[1:]) if runs[1:] else None,
        "matches": all(r[3] == e for r, e in zip(runs, expected, strict=True)),
        "batch_size": len(batch),
    }
    out["build"] = {
        "wall_s": min(w for w, _ in builds),
        "cpu_s": min(c for _, c in builds),
        "runs": [{"wall_s": w, "cpu_s": c} for w, c in builds],
    }
    return out


def measure_floor(k: int, epoch_repeats: int) -> dict[str, Any]:
    """CPU seconds of ``randperm(k).tolist()`` cut into lists of 256, consumed; best of repeats."""
    torch.set_num_threads(1)
    runs = []
    for repeat in range(max(1, epoch_repeats)):
        gen = torch.Generator().manual_seed(repeat)
        count = 0
        wall, cpu = time.perf_counter(), time.process_time()
        order: list[int] = torch.randperm(k, generator=gen).tolist()
        for start in range(0, k, BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            count += len(batch)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        del order
        runs.append({"indices": count, "cpu_s": cpu, "wall_s": wall})
    best = min(runs, key=lambda r: r["cpu_s"])
    return {"k": k, **best, "runs": runs}


# --- driving (in the parent) ------------------------------------------------------------------


def _available_bytes() -> int | None:
    try:
        match = re.search(r"MemAvailable:\s+(\d+) kB", MEMINFO.read_text())
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def _child(args: Sequence[str]) -> dict[str, Any]:
    """Run this file with ``args`` in a fresh interpreter; its JSON, or its error."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _fits(need: int) -> str | None:
    """None if ``need`` bytes fit in the available memory, else why not."""
    available = _available_bytes()
    if available is None or need <= available:
        return None
    return f"needs ~{need / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every child the flags ask for; the runs and floors as lists of dicts."""
    runs: list[dict[str, Any]] = []
    floors: dict[int, dict[str, Any]] = {}
    for n in args.sizes:
        for strategy in args.strategies:
            epoch_repeats = args.epoch_repeats if n in args.epoch_sizes else 0
            skipped = _fits(NEED_BYTES_PER_SAMPLE[strategy] * n)
            if skipped:
                runs.append({"strategy": strategy, "n": n, "skipped": skipped})
                _progress(f"  skipped  {strategy:<21} N={n:.0e}: {skipped}")
                continue
            result = _child(
                [
                    "--one",
                    strategy,
                    str(n),
                    f"--repeats={args.repeats}",
                    f"--rate-indices={args.rate_indices}",
                    f"--rate-repeats={args.rate_repeats}",
                    f"--epoch-repeats={epoch_repeats}",
                ]
            )
            runs.append({"strategy": strategy, "n": n, **result})
            if "error" in result:
                _progress(f"  error    {strategy:<21} N={n:.0e}: {result['error']}")
                continue
            _progress(
                f"  measured {strategy:<21} N={n:.0e}: build {result['build']['cpu_s']:.2f} s, "
                f"first {result['first_batch']['cpu_s'] * 1e3:.2f} ms, resume "
                f"{result['resume']['cpu_s'] * 1e3:.2f} ms, "
                f"{result['rate']['per_s'] / 1e6:.2f} M/s"
            )
            k = result["k"]
            if epoch_repeats and k not in floors:
                skipped = _fits(FLOOR_BYTES_PER_SAMPLE * k)
                floor = (
                    {"k": k, "skipped": skipped}
                    if skipped
                    else _child(["--floor", str(k), f"--epoch-repeats={epoch_repeats}"])
                )
                floors[k] = {"k": k, **floor}
                if "cpu_s" in floor:
                    _progress(f"  measured floor k={k:,}: {floor['cpu_s']:.3f} s")
    return {"runs": runs, "floors": list(floors.values())}


# --- extrapolation and targets ----------------------------------------------------------------


def _ok(run: dict[str, Any]) -> bool:
    return "error" not in run and "skipped" not in run


def _points(
    runs: Iterable[dict[str, Any]], strategy: str, value: Callable[[dict[str, Any]], Any]
) -> list[tuple[int, float]]:
    points = []
    for run in runs:
        if run["strategy"] == strategy and _ok(run) and run["n"] != BILLION:
            got = value(run)
            if got is not None:
                points.append((int(run["n"]), float(got)))
    return sorted(points)


def extrapolate(points: Sequence[tuple[int, float]], kind: str) -> tuple[float, str] | None:
    """A value at 1e9 from measured ``(n, value)`` points, and how it was obtained.

    Args:
        points: Measured points, ascending in n.
        kind: ``proportional``: value / n at the largest n, times 1e9. ``time``: linear in n
            through the two largest n when it rose by 20 % and `TIME_NOISE_S` between them,
            else the value at the largest n. ``memory``: linear in n through the two largest n
            when it rose by `MEMORY_NOISE_BYTES`, else the value at the largest n.

    Returns:
        The value and a label, or None without points.
    """
    if not points:
        return None
    n2, y2 = points[-1]
    if kind == "proportional":
        return y2 / n2 * BILLION, f"in proportion to N from {_n(n2)}"
    if len(points) < 2:
        return y2, f"constant: value at {_n(n2)}"
    n1, y1 = points[-2]
    through = f"through {_n(n1)} and {_n(n2)}"
    noise = TIME_NOISE_S if kind == "time" else MEMORY_NOISE_BYTES
    if y2 - y1 < noise or (kind == "time" and y2 < 1.2 * y1):
        return y2, f"constant: value at {_n(n2)}"
    return y2 + (y2 - y1) / (n2 - n1) * (BILLION - n2), f"linear in N {through}"


def extrapolate_time(
    fresh: Sequence[tuple[int, float]], later: Sequence[tuple[int, float]]
) -> tuple[float, str] | None:
    """A fresh first-batch time at 1e9: the value at the largest n plus the later medians' rise.

    One fresh call is noisy; the medians over later epochs say whether time grows with N.
    """
    if not fresh:
        return None
    n2, y2 = fresh[-1]
    trend = extrapolate(later, "time") if later and later[-1][0] == n2 else None
    if trend is None:
        return y2, f"constant: value at {_n(n2)}"
    rise = trend[0] - later[-1][1]
    if rise <= 0:
        return y2, f"constant: value at {_n(n2)} (later-epoch medians: {trend[1]})"
    return y2 + rise, f"value at {_n(n2)} + rise of the later-epoch medians ({trend[1]})"


def _getter(*keys: str) -> Callable[[dict[str, Any]], Any]:
    """``run[keys[0]][keys[1]]...``, as a function of the run."""

    def get(run: dict[str, Any]) -> Any:
        value: Any = run
        for key in keys:
            value = value[key]
        return value

    return get


def billion_rows(runs: Sequence[dict[str, Any]], strategies: Sequence[str]) -> list[dict[str, Any]]:
    """Per strategy without a measured 1e9 run: the extrapolated values at 1e9."""
    rows = []
    for strategy in strategies:
        if any(r["strategy"] == strategy and r["n"] == BILLION and _ok(r) for r in runs):
            continue
        row: dict[str, Any] = {"strategy": strategy, "n": BILLION, "extrapolated": True}
        for key in ("first_batch", "resume"):
            found = extrapolate_time(
                _points(runs, strategy, _getter(key, "cpu_s")),
                _points(runs, strategy, _getter(key, "later_cpu_s")),
            )
            row[f"{key}_cpu_s"], row[f"{key}_cpu_s_how"] = found or (None, "no measured points")
        for key, kind in (("per_rank_bytes", "memory"), ("per_node_bytes", "proportional")):
            found = extrapolate(_points(runs, strategy, _getter("memory", key)), kind)
            row[key], row[f"{key}_how"] = found or (None, "no measured points")
        row["labels_bytes"] = BILLION  # uint8
        rows.append(row)
    return rows


def node_total(per_node: float | None, per_rank: float | None, labels: float) -> float | None:
    """Bytes per node of `WORLD_SIZE` ranks: shared data, each rank's own, the labels once."""
    if per_node is None or per_rank is None:
        return None
    return per_node + WORLD_SIZE * max(per_rank, 0.0) + labels


# --- the report -------------------------------------------------------------------------------


def _n(n: int, extrapolated: bool = False) -> str:
    text = f"{n:.0e}".replace("+0", "").replace("+", "")
    return f"{text} (extrapolated)" if extrapolated else text


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MIB:,.1f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.2f}"


def _verdict(ok: bool | None) -> str:
    return {True: "PASS", False: "MISS", None: "-"}[ok]


def _at_n(ok: bool | None, n: int, target_n: int) -> str:
    """The verdict, in brackets when ``n`` is not the N the target is set at."""
    return _verdict(ok) if n == target_n or ok is None else f"({_verdict(ok)})"


def _at_most(value: float | None, target: float) -> tuple[str, bool | None]:
    if value is None:
        return "-", None
    return f"{value / target:.2f}", value <= target


def _at_least(value: float | None, target: float) -> tuple[str, bool | None]:
    if value is None:
        return "-", None
    return f"{value / target:.2f}", value >= target


def _table(head: Sequence[str], align: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _skip_row(run: dict[str, Any], width: int) -> list[str]:
    why = run.get("skipped") or f"error: {run.get('error')}"
    return [run["strategy"], _n(run["n"]), why, *["-"] * (width - 3)]


def report(results: dict[str, Any], peers: dict[str, Any] | None) -> list[str]:
    """The markdown tables and the targets block."""
    runs, floors = results["runs"], {f["k"]: f for f in results["floors"]}
    billion = results["billion"]
    lines: list[str] = []
    out = lines.append

    out("### Construction\n")
    rows = []
    for r in runs:
        if not _ok(r):
            rows.append(_skip_row(r, 6))
            continue
        build = r["build"]
        rows.append(
            [
                r["strategy"],
                _n(r["n"]),
                f"{r['k']:,}",
                f"{build['wall_s']:.3f}",
                f"{build['cpu_s']:.3f}",
                f"{build['cpu_s'] / r['n'] * 1e9:.1f}",
            ]
        )
    lines += _table(
        ["strategy", "N", "epoch k", "build s (wall)", "build s (CPU)", "CPU ns per label"],
        ["---", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )

    for title, key in (
        (f"First batch at start (rank {RANK} of {WORLD_SIZE}, fresh sampler)", "first_batch"),
        (f"First batch after a mid-epoch resume (rank {RANK} of {WORLD_SIZE})", "resume"),
    ):
        resume = key == "resume"
        out(f"\n### {title}\n")
        rows = []
        for r in runs:
            if not _ok(r):
                rows.append(_skip_row(r, 7 + resume))
                continue
            m = r[key]
            ratio, ok = _at_most(m["cpu_s"], FIRST_BATCH_S)
            check = ["yes" if m["matches"] else "NO"] if resume else []
            rows.append(
                [
                    r["strategy"],
                    _n(r["n"]),
                    _ms(m["cpu_s"]),
                    _ms(m["later_cpu_s"]),
                    _ms(m["wall_s"]),
                    *check,
                    ratio,
                    _at_n(ok, r["n"], BILLION),
                ]
            )
        value = f"{key}_cpu_s"
        for b in billion:
            ratio, ok = _at_most(b[value], FIRST_BATCH_S)
            check = ["-"] if resume else []
            rows.append(
                [
                    b["strategy"],
                    _n(BILLION, True),
                    _ms(b[value]),
                    "-",
                    "-",
                    *check,
                    ratio,
                    _verdict(ok),
                ]
            )
        lines += _table(
            [
                "strategy",
                "N",
                "CPU ms (fresh)",
                "CPU ms (median, later epochs)",
                "wall ms (fresh)",
                *(["batch = epoch_batches"] if resume else []),
                "x target 10 ms",
                "at 1e9: <= 10 ms",
            ],
            ["---", "---:", "---:", "---:", "---:", *(["---"] if resume else []), "---:", "---"],
            rows,
        )
        if resume:
            out(
                "\nCPU covers `load_state_dict` and the first batch; the checkpoint is half-way "
                "through epoch 1's global batches (later epochs: the same point of epochs 2..)."
            )
        if billion:
            out(
                "\nExtrapolated: "
                + "; ".join(f"{b['strategy']} {b[f'{value}_how']}" for b in billion)
                + "."
            )
    out("\nVerdicts in brackets are at another N than the target's.")

    out("\n### Sustained rate (one rank, world_size=1, list[int] batches)\n")
    rows = []
    for r in runs:
        if not _ok(r):
            rows.append(_skip_row(r, 7))
            continue
        rate = r["rate"]
        ratio, ok = _at_least(rate["per_s"], RATE_PER_S)
        rows.append(
            [
                r["strategy"],
                _n(r["n"]),
                f"{rate['indices']:,}",
                f"{rate['per_s'] / 1e6:.2f}",
                f"{rate['indices'] / rate['wall_s'] / 1e6:.2f}",
                ratio,
                _verdict(ok),
            ]
        )
    lines += _table(
        [
            "strategy",
            "N",
            "indices",
            "M/s per core (CPU)",
            "M/s (wall)",
            "x target 5 M/s",
            ">= 5 M/s",
        ],
        ["---", "---:", "---:", "---:", "---:", "---:", "---"],
        rows,
    )

    out("\n### Memory (MiB)\n")
    rows = []
    for r in runs:
        if not _ok(r):
            rows.append(_skip_row(r, 14))
            continue
        m = r["memory"]
        total = node_total(m["per_node_bytes"], m["per_rank_bytes"], r["labels_bytes"])
        ratio, ok = _at_most(m["per_rank_bytes"], PER_RANK_BYTES)
        node_ratio, node_ok = _at_most(total, PER_NODE_BYTES)
        rows.append(
            [
                r["strategy"],
                _n(r["n"]),
                _mib(r["labels_bytes"]),
                _mib(m["rss_before"]),
                _mib(_above(m["rss_after_build"], m["rss_before"])),
                _mib(m["build_peak_above_before"]),
                _mib(_above(m.get("rss_after_build_trimmed"), m["rss_before"])),
                _mib(m["iteration_peak_above_before"]),
                _mib(m["per_node_bytes"]),
                _mib(m["per_rank_bytes"]),
                ratio,
                _at_n(ok, r["n"], BILLION),
                f"{_mib(total)} ({node_ratio})",
                _at_n(node_ok, r["n"], BILLION),
            ]
        )
    for b in billion:
        total = node_total(b["per_node_bytes"], b["per_rank_bytes"], b["labels_bytes"])
        ratio, ok = _at_most(b["per_rank_bytes"], PER_RANK_BYTES)
        node_ratio, node_ok = _at_most(total, PER_NODE_BYTES)
        rows.append(
            [
                b["strategy"],
                _n(BILLION, True),
                _mib(b["labels_bytes"]),
                *["-"] * 5,
                _mib(b["per_node_bytes"]),
                _mib(b["per_rank_bytes"]),
                ratio,
                _verdict(ok),
                f"{_mib(total)} ({node_ratio})",
                _verdict(node_ok),
            ]
        )
    lines += _table(
        [
            "strategy",
            "N",
            "labels",
            "RSS before",
            "after build (+)",
            "build peak (+)",
            "after build, trimmed (+)",
            "iteration peak (+)",
            "per-node data",
            "per-rank beyond per-node",
            "x 64 MiB",
            "at 1e9: per-rank <= 64 MiB",
            f"node of {WORLD_SIZE} ranks (x 5 GB)",
            "at 1e9: node <= 5 GB",
        ],
        ["---", *["---:"] * 10, "---", "---:", "---"],
        rows,
    )
    out(
        '\n(+): above "RSS before". Trimmed: after glibc `malloc_trim(0)`, which returns what '
        "construction freed; the iteration peak is measured after it. Per-rank = iteration peak "
        f"(+) - per-node data. Node = per-node data + {WORLD_SIZE} x per-rank + the labels once "
        "(memory-mapped from one file, the page cache holding one copy; a private copy per rank "
        f"adds {WORLD_SIZE - 1} x labels); 5 GB = 5 x 10^9 bytes. The build peak holds "
        "construction temporaries, paid by the one rank per node that builds the per-node data. "
        "Verdicts in brackets are at another N than the target's."
    )
    if billion:
        out(
            "Extrapolated: "
            + "; ".join(
                f"{b['strategy']} per-rank {b['per_rank_bytes_how']}, per-node "
                f"{b['per_node_bytes_how']}"
                for b in billion
            )
            + "."
        )

    out("\n### Whole epoch against the floor (one rank, world_size=1)\n")
    rows = []
    for r in runs:
        if not _ok(r) or not r.get("epoch"):
            continue
        floor = r.get("floor") or floors.get(r["k"], {})
        epoch = r["epoch"]["cpu_s"]
        base = floor.get("cpu_s")
        times = None if base is None else epoch / base
        ok = None if times is None else times <= EPOCH_VS_FLOOR
        rows.append(
            [
                r["strategy"],
                _n(r["n"]),
                f"{r['k']:,}",
                "-" if base is None else f"{base:.3f}",
                f"{epoch:.3f}",
                f"{r['epoch']['wall_s']:.3f}",
                "-" if times is None else f"{times:.2f}",
                _at_n(ok, r["n"], EPOCH_TARGET_N),
            ]
        )
    lines += _table(
        [
            "strategy",
            "N",
            "epoch k",
            "floor s (CPU)",
            "epoch s (CPU)",
            "epoch s (wall)",
            "x floor",
            "at 1e7: <= 1.5 x floor",
        ],
        ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---"],
        rows,
    )
    out(
        "\nFloor: `torch.randperm(k).tolist()` cut into lists of 256, for the strategy's epoch "
        "size k. Verdicts in brackets are at another N than the target's."
    )

    if peers is not None:
        lines += ["", *peer_tables(runs, billion, peers)]

    lines += ["", "### Targets", ""]
    lines += targets(results)
    return lines


def targets(results: dict[str, Any]) -> list[str]:
    """One line per target and strategy, at the target's N (1e9 measured or extrapolated)."""
    runs, floors = results["runs"], {f["k"]: f for f in results["floors"]}
    at_billion: dict[str, dict[str, Any]] = {}
    for r in runs:
        if r["n"] == BILLION and _ok(r):
            m = r["memory"]
            at_billion[r["strategy"]] = {
                "how": "measured",
                "first_batch_cpu_s": r["first_batch"]["cpu_s"],
                "resume_cpu_s": r["resume"]["cpu_s"],
                "per_rank_bytes": m["per_rank_bytes"],
                "per_node_bytes": m["per_node_bytes"],
                "labels_bytes": r["labels_bytes"],
            }
    for b in results["billion"]:
        at_billion[b["strategy"]] = {**b, "how": "extrapolated"}
    lines = []

    def line(ok: bool | None, text: str) -> None:
        lines.append(f"- {_verdict(ok)} {text}")

    for strategy, b in at_billion.items():
        how = b["how"]
        for key, what in (("first_batch_cpu_s", "first batch"), ("resume_cpu_s", "resume")):
            ratio, ok = _at_most(b[key], FIRST_BATCH_S)
            line(ok, f"{strategy}: {what} at 1e9 ({how}) {_ms(b[key])} ms CPU <= 10 ms ({ratio} x)")
        ratio, ok = _at_most(b["per_rank_bytes"], PER_RANK_BYTES)
        line(
            ok,
            f"{strategy}: per-rank memory at 1e9 ({how}) {_mib(b['per_rank_bytes'])} MiB <= 64 MiB "
            f"({ratio} x)",
        )
        total = node_total(b["per_node_bytes"], b["per_rank_bytes"], b["labels_bytes"])
        ratio, ok = _at_most(total, PER_NODE_BYTES)
        gb = "-" if total is None else f"{total / 1e9:.2f} GB ({total / 2**30:.2f} GiB)"
        line(
            ok,
            f"{strategy}: node of {WORLD_SIZE} ranks at 1e9 ({how}) {gb} <= 5 GB ({ratio} x; "
            f"per-node data {_mib(b['per_node_bytes'])} MiB + {WORLD_SIZE} x per-rank + labels "
            "once, memory-mapped)",
        )
    measured = [r for r in runs if _ok(r)]
    largest = max((r["n"] for r in measured), default=None)
    for r in measured:
        if r["n"] != largest:
            continue
        ratio, ok = _at_least(r["rate"]["per_s"], RATE_PER_S)
        line(
            ok,
            f"{r['strategy']}: sustained at {_n(r['n'])} {r['rate']['per_s'] / 1e6:.2f} M "
            f"indices/s per core >= 5 M ({ratio} x)",
        )
    for r in measured:
        if r["n"] != EPOCH_TARGET_N or not r.get("epoch"):
            continue
        base = (r.get("floor") or floors.get(r["k"], {})).get("cpu_s")
        times = None if base is None else r["epoch"]["cpu_s"] / base
        ok = None if times is None else times <= EPOCH_VS_FLOOR
        shown = "-" if times is None else f"{times:.2f}"
        line(ok, f"{r['strategy']}: whole epoch at 1e7 {shown} x floor <= 1.5 x")
    return lines


def peer_tables(
    runs: Sequence[dict[str, Any]], billion: Sequence[dict[str, Any]], peers: dict[str, Any]
) -> list[str]:
    """samplekit beside Streaming and Grain (``benchmarks/scale_peers.py``) at each shared N."""
    streaming = {int(s["n"]): s for s in peers.get("streaming") or []}
    grain = {int(g["n"]): g for g in peers.get("grain") or []}
    ours: dict[int, list[dict[str, Any]]] = {}
    for r in runs:
        if _ok(r):
            ours.setdefault(int(r["n"]), []).append(r)
    sizes = sorted(set(ours) | ({BILLION} if billion else set()))
    sizes = [n for n in sizes if n in streaming or n in grain]
    meta = peers.get("meta", {})
    lines = [
        "### Peers at the same N\n",
        f"mosaicml-streaming {meta.get('mosaicml-streaming')}, grain {meta.get('grain')} "
        "(from the peers file). Streaming: the node leader's epoch build "
        "(partition, shuffle, copy into shared memory) at epoch start and at resume, for one node "
        "of 8 ranks x 8 workers; its per-node data is the shared epoch array and its per-rank "
        "column the leader's peak above its baseline. Grain: `index_shuffle` (random access, "
        "any position costs the same: resume = start); rate from Python calls (CPU) and through "
        "`IndexSampler[i].record_key` (wall).\n",
    ]
    rows: list[list[str]] = []
    for n in sizes:
        rows.extend(
            [
                _n(n),
                f"samplekit {r['strategy']}",
                _ms(r["first_batch"]["cpu_s"]),
                _ms(r["resume"]["cpu_s"]),
                f"{r['rate']['per_s'] / 1e6:.2f}",
                _mib(r["memory"]["per_node_bytes"]),
                _mib(r["memory"]["per_rank_bytes"]),
            ]
            for r in ours.get(n, [])
        )
        if n == BILLION:
            rows.extend(
                [
                    _n(n, True),
                    f"samplekit {b['strategy']}",
                    _ms(b["first_batch_cpu_s"]),
                    _ms(b["resume_cpu_s"]),
                    "-",
                    _mib(b["per_node_bytes"]),
                    _mib(b["per_rank_bytes"]),
                ]
                for b in billion
            )
        s = streaming.get(n)
        if s is not None:
            if "skipped" in s:
                rows.append([_n(n), "Streaming", f"skipped: {s['skipped']}", "-", "-", "-", "-"])
            else:
                shared = s.get("shared_mib")
                peak = s.get("first_batch_peak_mib")
                rows.append(
                    [
                        _n(n),
                        "Streaming (leader)",
                        _peer_ms(s, "first_batch_cpu_s"),
                        _peer_ms(s, "resume_cpu_s"),
                        "-",
                        "-" if shared is None else f"{shared:,.1f}",
                        "-" if peak is None else f"{peak:,.1f}",
                    ]
                )
        g = grain.get(n)
        if g is not None:
            if "error" in g:
                rows.append([_n(n), "Grain", f"error: {g['error']}", "-", "-", "-", "-"])
            else:
                cpu_rate = g.get("cpu_rate_per_s")
                sampler_rate = g.get("sampler_rate_per_s")
                rate = "-" if cpu_rate is None else f"{cpu_rate / 1e6:.2f}"
                if sampler_rate is not None:
                    rate += f" ({sampler_rate / 1e6:.3f} IndexSampler)"
                first = _peer_ms(g, "first_256_cpu_s")
                peak = g.get("peak_mib")
                rows.append(
                    [
                        _n(n),
                        "Grain index_shuffle",
                        first,
                        first,
                        rate,
                        "0",
                        "-" if peak is None else f"{peak:,.1f}",
                    ]
                )
    lines += _table(
        [
            "N",
            "method",
            "first batch ms (CPU)",
            "resume ms (CPU)",
            "M indices/s per core",
            "per-node MiB",
            "per-rank MiB",
        ],
        ["---:", "---", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )
    return lines


def _peer_ms(row: dict[str, Any], key: str) -> str:
    stage = key.rsplit("_", 2)[0]
    if f"{stage}_error" in row:
        return f"error: {row[f'{stage}_error']}"
    return _ms(row.get(key))


# --- the command line -------------------------------------------------------------------------


def _size(text: str) -> int:
    return int(float(text))


def _sizes(text: str) -> list[int]:
    return [_size(part) for part in text.split(",") if part.strip()]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def merge(saved: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Results of several runs as one (say 1e6..1e8 and a separate 1e9 run).

    A later run's (strategy, N) and floors replace an earlier one's, each run keeping the floor
    measured beside it for its ratio; the 1e9 rows are
    extrapolated again from the merged runs, by this file's rules.
    """
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    floors: dict[int, dict[str, Any]] = {}
    for results in saved:
        own = {int(f["k"]): f for f in results["floors"]}
        # Each run keeps the floor measured beside it: a ratio is taken within one run.
        runs.update(
            {
                (r["strategy"], int(r["n"])): {**r, "floor": own.get(int(r["k"]), r.get("floor"))}
                for r in results["runs"]
            }
        )
        floors.update(own)
    order = sorted(runs, key=lambda key: (key[1], list(STRATEGIES).index(key[0])))
    merged_runs = [runs[key] for key in order]
    merged: dict[str, Any] = {
        "meta": {**saved[0]["meta"], "merged_from": [r["meta"] for r in saved]},
        "runs": merged_runs,
        "floors": list(floors.values()),
        "peers": next((r["peers"] for r in reversed(saved) if r.get("peers")), None),
    }
    names = list(dict.fromkeys(name for name, _ in order))
    merged["billion"] = billion_rows(merged_runs, names)
    return merged


def _print(results: dict[str, Any], peers: dict[str, Any] | None) -> None:
    meta = results["meta"]
    print(
        f"\nbatch_size {BATCH_SIZE}, labels 10 % positives (stratified: {CLASSES} classes), "
        f"torch {meta['torch']}, Python {meta['python']}, {meta['machine']}, one thread per "
        "child\n"
    )
    print("\n".join(report(results, peers)))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the flags, run the children, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("1e6,1e7,1e8"), help="N values")
    parser.add_argument(
        "--epoch-sizes",
        type=_sizes,
        default=_sizes("1e6,1e7"),
        help="N values at which whole epochs and the floor are timed (default 1e6,1e7)",
    )
    parser.add_argument(
        "--strategies",
        type=lambda text: [s for s in text.split(",") if s],
        default=list(STRATEGIES),
        help="comma separated (default: all four)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="later epochs timed for the medians (default 5)"
    )
    parser.add_argument(
        "--epoch-repeats", type=int, default=2, help="whole epochs timed, best kept (default 2)"
    )
    parser.add_argument(
        "--rate-indices", type=_size, default=4_000_000, help="indices of the sustained run"
    )
    parser.add_argument(
        "--rate-repeats", type=int, default=3, help="sustained runs, fastest kept (default 3)"
    )
    parser.add_argument("--peers", type=Path, metavar="PATH", help="scale_peers.py's JSON")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every result as JSON")
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="print the tables of --json files (merged, later ones winning) instead of "
        "measuring; with --peers, beside those peers",
    )
    parser.add_argument("--one", nargs=2, metavar=("STRATEGY", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=_size, metavar="K", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        result = measure_strategy(
            args.one[0],
            _size(args.one[1]),
            repeats=args.repeats,
            rate_indices=args.rate_indices,
            rate_repeats=args.rate_repeats,
            epoch_repeats=args.epoch_repeats,
        )
        print(json.dumps(result))
        return 0
    if args.floor is not None:
        print(json.dumps(measure_floor(args.floor, args.epoch_repeats)))
        return 0
    unknown = sorted(set(args.strategies) - set(STRATEGIES))
    if unknown:
        parser.error(f"unknown strategies {unknown}; choose from {sorted(STRATEGIES)}")

    peers = None
    if args.peers is not None:
        peers = json.loads(args.peers.read_text())
    if args.results is not None:  # print saved results (with --peers: beside those peers)
        saved = merge([json.loads(path.read_text()) for path in args.results])
        _print(saved, peers if peers is not None else saved.get("peers"))
        return 0
    meta = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "threads": 1,
        "batch_size": BATCH_SIZE,
        "world_size": WORLD_SIZE,
        "rank": RANK,
        "positives": POSITIVES,
        "stratified_class_shares": _class_shares(),
        "sizes": args.sizes,
        "epoch_sizes": args.epoch_sizes,
        "repeats": args.repeats,
        "epoch_repeats": args.epoch_repeats,
        "rate_indices": args.rate_indices,
        "rate_repeats": args.rate_repeats,
    }
    started = time.perf_counter()
    results: dict[str, Any] = {"meta": meta, **run_all(args)}
    results["billion"] = billion_rows(results["runs"], args.strategies)
    meta["run_s"] = time.perf_counter() - started
    with contextlib.suppress(ImportError):
        import samplekit

        meta["samplekit"] = getattr(samplekit, "__version__", None)
    _print(results, peers)
    if args.json:
        results["peers"] = peers
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
