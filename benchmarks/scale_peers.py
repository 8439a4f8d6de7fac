"""Measure two peer libraries' per-epoch index work at scale: MosaicML Streaming and Grain.

Each measurement runs in a fresh child process, so its numbers hold that work alone: wall and CPU
seconds (``time.perf_counter`` and ``time.process_time``), and its peak memory, the resident
high-water mark (``VmHWM`` in ``/proc/self/status``; ``ru_maxrss`` elsewhere) at the end of the
work minus the mark after the imports, before any work (the idle interpreter with the library).

**Streaming** (``mosaicml-streaming``): the local leader of each node builds the whole epoch at
each epoch start and at each resume, before any worker gets its first index
(``StreamingDataset._get_work``), with Streaming's defaults for one node of 8 ranks x 8 workers,
batch size 256 and shards of 100,000 samples (``num_canonical_nodes`` = 1, the default on one node
for ``py1e``; ``shuffle_block_size`` = ``max(4_000_000 // num_canonical_nodes, 1 << 18)``; seed
9176). The children measure, each alone:

- partition: ``streaming.base.partition.get_partitions("relaxed", n, 1, 1, 8, 8, 256, 0, None)``
  (``relaxed`` falls back to ``orig`` on a first run, as here);
- shuffle: ``streaming.base.shuffle.get_shuffle("py1e", shard_sizes, 1, 9176, 0, 4_000_000)``;
- first batch: the whole leader, ``streaming.base.batching.random
  .generate_work_random_batching`` (``StreamingDataset.resample_streams``, the partition, the
  shuffle and the two gathers that apply them) followed by ``StreamingDataset._share_work``, which
  copies the epoch into the node's shared memory. The shared array, int64 of shape (nodes, ranks
  per node, workers per rank, batches per worker, batch size), is what the node holds for the
  epoch: about 8 bytes per sample;
- resume: the same leader at ``sample_in_epoch`` = n / 2 (a resume half-way through the epoch).

**Grain** (``grain``): ``grain.experimental.index_shuffle(index, max_index, seed, rounds)``, a
random-access permutation of ``[0, max_index]`` with ``max_index`` = n - 1 and ``rounds`` = 4 (what
grain's own ``MapDataset.shuffle`` passes): the time of the first 256 indices, the sustained rate
over ``--grain-calls`` calls from Python, and the rate of ``IndexSampler(n, shuffle=True,
num_epochs=1, seed=0)[i].record_key`` (what grain's DataLoader calls per index). A last block
shows the global order of ``IndexSampler`` over 12 records with ``ShardOptions(shard_index,
shard_count)`` for 1 and 2 shards, read as grain's DataLoader reads it (shard s takes the
sampler's indices s, s + shard_count, ...).

The peers run in a venv of their own, never the project's environment, with a CPU build of
torch installed first and named again beside the peers, so that their requirements keep it
rather than pull a CUDA build::

    python3 -m venv ~/scalepeers
    ~/scalepeers/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    ~/scalepeers/bin/pip install torch==2.13.0 mosaicml-streaming grain numpy

``import streaming`` imports ``streaming.vision`` and so torchvision, whose PyPI wheels need a
CUDA build of torch; the children therefore import ``streaming.base`` without running
``streaming/__init__.py``. The epoch code measured here needs numpy and torch, not torchvision.

    ~/scalepeers/bin/python benchmarks/scale_peers.py                      # 1e6, 1e7, 1e8
    ~/scalepeers/bin/python benchmarks/scale_peers.py --sizes 1e6 --grain-sizes 1e9 --json out.json

The module imports nothing from samplekit, so that ``benchmarks/scale.py`` can run it in the peer
venv and print its results beside samplekit's.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

NODES = 1
RANKS_PER_NODE = 8
WORKERS_PER_RANK = 8
BATCH_SIZE = 256
SHARD_SAMPLES = 100_000
NUM_CANONICAL_NODES = 1  # Streaming's default on one node when shuffle_algo is py1e
PARTITION_ALGO = "relaxed"  # Streaming's default
SHUFFLE_ALGO = "py1e"  # Streaming's default
SHUFFLE_SEED = 9176  # Streaming's default
SHUFFLE_BLOCK_SIZE = max(4_000_000 // NUM_CANONICAL_NODES, 1 << 18)  # Streaming's default
GRAIN_SEED = 0
GRAIN_ROUNDS = 4  # what grain's MapDataset.shuffle passes to index_shuffle
FIRST_INDICES = 256
GRAIN_CALLS = 1_000_000
SAMPLER_CALLS = 100_000
SHARD_DEMO_RECORDS = 12
STREAMING_BYTES_PER_SAMPLE = 64  # a generous bound on the leader's peak, to skip what cannot fit
MIB = 1 << 20
STATUS = Path("/proc/self/status")
MEMINFO = Path("/proc/meminfo")
STREAMING_STAGES = ("partition", "shuffle", "first_batch", "resume")


# --- measuring (in the child) -----------------------------------------------------------------


def _high_water_mib() -> float:
    """The process's resident high-water mark in MiB (``VmHWM``, else ``ru_maxrss``)."""
    try:
        match = re.search(r"VmHWM:\s+(\d+) kB", STATUS.read_text())
    except OSError:
        match = None
    if match:
        return int(match.group(1)) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MIB if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux


def _timed(work: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``work`` once and return its result with wall seconds, CPU seconds and peak MiB."""
    baseline = _high_water_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _high_water_mib()
    return result, {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": peak - baseline,
        "baseline_mib": baseline,
    }


def _import_streaming_base() -> None:
    """Make ``streaming.base`` importable without running ``streaming/__init__.py``.

    That file imports ``streaming.vision`` and so torchvision, which fails to load next to a CPU
    build of torch; the epoch code measured here does not need it.

    Raises:
        ImportError: mosaicml-streaming is not installed.
    """
    if "streaming" in sys.modules:
        return
    spec = importlib.util.find_spec("streaming")
    if spec is None or not spec.submodule_search_locations:
        message = "mosaicml-streaming is not installed: pip install mosaicml-streaming"
        raise ImportError(message)
    package = types.ModuleType("streaming")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["streaming"] = package


def _streaming_stage(stage: str, n: int) -> dict[str, Any]:
    """One Streaming measurement at ``n`` samples, in this (fresh) process.

    Args:
        stage: ``partition``, ``shuffle``, ``first_batch`` or ``resume`` (see the module doc).
        n: Samples in the epoch.

    Returns:
        Wall and CPU seconds, peak MiB above the post-import baseline, and what was built.
    """
    _import_streaming_base()
    import numpy as np
    from streaming.base.batching.random import generate_work_random_batching
    from streaming.base.dataset import StreamingDataset
    from streaming.base.partition import get_partitions
    from streaming.base.shuffle import get_shuffle

    num_shards = -(-n // SHARD_SAMPLES)
    shard_sizes = np.full(num_shards, SHARD_SAMPLES, np.int64)
    shard_sizes[-1] = n - SHARD_SAMPLES * (num_shards - 1)

    if stage == "partition":
        ids, numbers = _timed(
            lambda: get_partitions(
                PARTITION_ALGO,
                n,
                NUM_CANONICAL_NODES,
                NODES,
                RANKS_PER_NODE,
                WORKERS_PER_RANK,
                BATCH_SIZE,
                0,
                None,
            )
        )
        return {**numbers, "shape": list(ids.shape), "nbytes": int(ids.nbytes)}
    if stage == "shuffle":
        ids, numbers = _timed(
            lambda: get_shuffle(
                SHUFFLE_ALGO,
                shard_sizes,
                NUM_CANONICAL_NODES,
                SHUFFLE_SEED,
                0,
                SHUFFLE_BLOCK_SIZE,
            )
        )
        return {**numbers, "shape": list(ids.shape), "nbytes": int(ids.nbytes)}

    # The leader's whole path, on a stand-in holding the attributes that
    # StreamingDataset.__init__ would set for one stream of these shards.
    sample_in_epoch = n // 2 if stage == "resume" else 0
    offsets = np.concatenate([[0], np.cumsum(shard_sizes)[:-1]]).astype(np.int64)
    dataset = types.SimpleNamespace(
        num_canonical_nodes=NUM_CANONICAL_NODES,
        batch_size=BATCH_SIZE,
        partition_algo=PARTITION_ALGO,
        epoch_size=n,
        initial_physical_nodes=None,
        shuffle=True,
        shuffle_algo=SHUFFLE_ALGO,
        shuffle_seed=SHUFFLE_SEED,
        shuffle_block_size=SHUFFLE_BLOCK_SIZE,
        sampling_method="balanced",
        sampling_granularity=1,
        epoch_seed_change=True,
        num_streams=1,
        streams=[types.SimpleNamespace(choose=n)],
        shard_offset_per_stream=np.zeros(1, np.int64),
        shards_per_stream=np.array([num_shards], np.int64),
        samples_per_shard=shard_sizes,
        sample_offset_per_shard=offsets,
        _shm_prefix_int=10**6 + os.getpid(),  # far from the small prefixes real runs take
    )
    dataset.resample_streams = types.MethodType(StreamingDataset.resample_streams, dataset)
    world = types.SimpleNamespace(
        num_nodes=NODES, ranks_per_node=RANKS_PER_NODE, workers_per_rank=WORKERS_PER_RANK
    )
    shared: list[Any] = []

    def leader() -> Any:
        ids = generate_work_random_batching(dataset, world, 0, sample_in_epoch)
        shared.extend(StreamingDataset._share_work(dataset, ids))
        return ids

    try:
        ids, numbers = _timed(leader)
    finally:
        for memory in shared:
            if memory is not None:
                memory.cleanup()
    return {**numbers, "shape": list(ids.shape), "nbytes": int(ids.nbytes)}


def _grain_stage(n: int, calls: int) -> dict[str, Any]:
    """Grain's ``index_shuffle`` and ``IndexSampler`` at ``n`` records, in this (fresh) process.

    Args:
        n: Records in the permutation (``max_index`` = n - 1).
        calls: Calls for the sustained rate of ``index_shuffle``.

    Returns:
        The first 256 indices' wall and CPU seconds, the sustained rates and the peak MiB above
        the post-import baseline.
    """
    import grain.python as grain
    from grain.experimental import index_shuffle

    last = n - 1

    def first() -> list[int]:
        return [index_shuffle(i, last, GRAIN_SEED, GRAIN_ROUNDS) for i in range(FIRST_INDICES)]

    def sustained() -> int:
        total = 0
        for i in range(calls):
            total += index_shuffle(i, last, GRAIN_SEED, GRAIN_ROUNDS)
        return total

    sampler = grain.IndexSampler(n, shuffle=True, num_epochs=1, seed=GRAIN_SEED)
    sampler_calls = min(SAMPLER_CALLS, n)

    def through_sampler() -> int:
        total = 0
        for i in range(sampler_calls):
            total += sampler[i].record_key
        return total

    baseline = _high_water_mib()
    head, numbers = _timed(first)
    _, rate = _timed(sustained)
    _, via_sampler = _timed(through_sampler)
    return {
        "first_256_wall_s": numbers["wall_s"],
        "first_256_cpu_s": numbers["cpu_s"],
        "calls": calls,
        "rate_per_s": calls / rate["wall_s"],
        "cpu_rate_per_s": calls / rate["cpu_s"] if rate["cpu_s"] else None,
        "sampler_calls": sampler_calls,
        "sampler_rate_per_s": sampler_calls / via_sampler["wall_s"],
        "peak_mib": _high_water_mib() - baseline,
        "baseline_mib": baseline,
        "head": head[:8],
    }


def _grain_shard_orders(records: int) -> dict[str, Any]:
    """The global order of grain's ``IndexSampler`` over ``records`` for 1 and 2 shards.

    Each shard reads the sampler's indices ``shard_index + k * shard_count`` (as grain's
    DataLoader does); the global order takes step k of every shard in shard order.

    Args:
        records: Records in the data source.

    Returns:
        For each shard count, every shard's order and the interleaved global order.
    """
    import grain.python as grain

    orders: dict[str, Any] = {}
    for count in (1, 2):
        shards = []
        for index in range(count):
            sampler = grain.IndexSampler(
                records,
                grain.ShardOptions(index, count, drop_remainder=False),
                shuffle=True,
                num_epochs=1,
                seed=GRAIN_SEED,
            )
            steps = range(records // count)
            shards.append([sampler[k * count + index].record_key for k in steps])
        orders[str(count)] = {
            "shards": shards,
            "global": [key for step in zip(*shards, strict=True) for key in step],
        }
    return orders


def _child(stage: str, n: int, calls: int) -> None:
    """Run one measurement and print it as JSON on the last line of stdout."""
    if stage == "grain":
        result = _grain_stage(n, calls)
    elif stage == "grain_shards":
        result = _grain_shard_orders(n)
    else:
        result = _streaming_stage(stage, n)
    print(json.dumps(result))


# --- driving (in the parent) ------------------------------------------------------------------


def _run_child(stage: str, n: int, calls: int = GRAIN_CALLS) -> dict[str, Any]:
    """Run ``_child`` in a fresh interpreter (this one's) and return its JSON, or its error."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", stage, str(n)]
    command += ["--grain-calls", str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _available_bytes() -> int | None:
    try:
        match = re.search(r"MemAvailable:\s+(\d+) kB", MEMINFO.read_text())
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def streaming_first_batch(n: int) -> dict[str, Any]:
    """Streaming's leader work at ``n`` samples, each stage in its own process.

    Args:
        n: Samples in the epoch.

    Returns:
        For each of ``partition``, ``shuffle``, ``first_batch`` (the whole leader up to the
        shared epoch) and ``resume`` (the same at sample n / 2): ``<stage>_wall_s``,
        ``<stage>_cpu_s`` and ``<stage>_peak_mib``; ``partition_plus_shuffle_s``; the shared
        array's ``shared_shape`` and ``shared_mib``; ``skipped`` or ``<stage>_error`` where a
        stage did not run.
    """
    result: dict[str, Any] = {"n": n}
    available = _available_bytes()
    if available is not None and n * STREAMING_BYTES_PER_SAMPLE > available:
        result["skipped"] = (
            f"needs ~{n * STREAMING_BYTES_PER_SAMPLE / 2**30:.0f} GiB, "
            f"{available / 2**30:.0f} GiB available"
        )
        return result
    for stage in STREAMING_STAGES:
        numbers = _run_child(stage, n)
        if "error" in numbers:
            result[f"{stage}_error"] = numbers["error"]
            continue
        for key in ("wall_s", "cpu_s", "peak_mib"):
            result[f"{stage}_{key}"] = numbers[key]
        if stage == "first_batch":
            result["shared_shape"] = numbers["shape"]
            result["shared_mib"] = numbers["nbytes"] / MIB
            result["baseline_mib"] = numbers["baseline_mib"]
    if "partition_wall_s" in result and "shuffle_wall_s" in result:
        result["partition_plus_shuffle_s"] = result["partition_wall_s"] + result["shuffle_wall_s"]
    return result


def grain_index_shuffle(n: int, calls: int = GRAIN_CALLS) -> dict[str, Any]:
    """Grain's ``index_shuffle`` at ``n`` records, measured in its own process.

    Args:
        n: Records in the permutation.
        calls: Calls for the sustained rate.

    Returns:
        ``first_256_wall_s``, ``first_256_cpu_s``, ``rate_per_s`` (wall), ``cpu_rate_per_s``,
        ``sampler_rate_per_s`` (``IndexSampler[i].record_key``), ``peak_mib``, or ``error``.
    """
    return {"n": n, **_run_child("grain", n, calls)}


def grain_shard_orders(records: int = SHARD_DEMO_RECORDS) -> dict[str, Any]:
    """Grain's global order for 1 and 2 shards (see :func:`_grain_shard_orders`)."""
    return _run_child("grain_shards", records)


def _version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _size(text: str) -> int:
    return int(float(text))


def _sizes(text: str) -> list[int]:
    return [_size(part) for part in text.split(",") if part.strip()]


def _cell(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _streaming_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| N | partition s (CPU) | partition MiB | shuffle s (CPU) | shuffle MiB "
        "| first batch s (CPU) | first batch MiB | resume s (CPU) | shared array MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if "skipped" in row:
            lines.append(f"| {row['n']:.0e} | skipped: {row['skipped']} |" + " |" * 7)
            continue
        cells = [f"{row['n']:.0e}"]
        for stage in STREAMING_STAGES:
            if f"{stage}_error" in row:
                cells.append(f"error: {row[f'{stage}_error']}")
            else:
                wall, cpu = row[f"{stage}_wall_s"], row[f"{stage}_cpu_s"]
                cells.append(f"{wall:.3f} ({cpu:.3f})")
            if stage != "resume":
                cells.append(_cell(row.get(f"{stage}_peak_mib"), ".0f"))
        cells.append(_cell(row.get("shared_mib"), ".0f"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _grain_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| N | first 256 ms (CPU) | index_shuffle /s | IndexSampler /s | peak MiB |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['n']:.0e} | error: {row['error']} | | | |")
            continue
        first = f"{row['first_256_wall_s'] * 1e3:.3f} ({row['first_256_cpu_s'] * 1e3:.3f})"
        lines.append(
            f"| {row['n']:.0e} | {first} | {row['rate_per_s']:,.0f} "
            f"| {row['sampler_rate_per_s']:,.0f} | {row['peak_mib']:.1f} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Measure both peers at each size, print markdown tables and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8", help="Streaming's N, comma separated")
    parser.add_argument(
        "--grain-sizes", help="Grain's N (default: --sizes and 1e9; index_shuffle holds no array)"
    )
    parser.add_argument(
        "--grain-calls", type=int, default=GRAIN_CALLS, help="calls for the sustained rate"
    )
    parser.add_argument("--no-streaming", action="store_true", help="skip Streaming")
    parser.add_argument("--no-grain", action="store_true", help="skip Grain")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], _size(args.child[1]), args.grain_calls)
        return

    sizes = _sizes(args.sizes)
    grain_sizes = _sizes(args.grain_sizes) if args.grain_sizes else sorted({*sizes, 10**9})
    meta = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "mosaicml-streaming": _version("mosaicml-streaming"),
        "grain": _version("grain", "grain-nightly"),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "streaming_config": {
            "partition_algo": PARTITION_ALGO,
            "shuffle_algo": SHUFFLE_ALGO,
            "num_canonical_nodes": NUM_CANONICAL_NODES,
            "physical_nodes": NODES,
            "ranks_per_node": RANKS_PER_NODE,
            "workers_per_rank": WORKERS_PER_RANK,
            "batch_size": BATCH_SIZE,
            "shard_samples": SHARD_SAMPLES,
            "shuffle_block_size": SHUFFLE_BLOCK_SIZE,
            "seed": SHUFFLE_SEED,
        },
        "grain_config": {"seed": GRAIN_SEED, "rounds": GRAIN_ROUNDS, "calls": args.grain_calls},
    }
    print(
        f"mosaicml-streaming {meta['mosaicml-streaming']}, grain {meta['grain']}, "
        f"numpy {meta['numpy']}, Python {meta['python']}, {meta['machine']}\n"
    )
    results: dict[str, Any] = {"meta": meta, "streaming": [], "grain": [], "grain_shards": None}

    if not args.no_streaming:
        for n in sizes:
            results["streaming"].append(streaming_first_batch(n))
        print(
            f"Streaming, one node x {RANKS_PER_NODE} ranks x {WORKERS_PER_RANK} workers, batch "
            f"{BATCH_SIZE}, shards of {SHARD_SAMPLES:,}: seconds wall (CPU), peak MiB over the "
            "post-import baseline; first batch = the leader's whole epoch build and copy into "
            "shared memory\n"
        )
        print("\n".join(_streaming_table(results["streaming"])) + "\n")

    if not args.no_grain:
        for n in grain_sizes:
            results["grain"].append(grain_index_shuffle(n, args.grain_calls))
        print(
            f"Grain index_shuffle(i, N - 1, seed={GRAIN_SEED}, rounds={GRAIN_ROUNDS}): "
            f"{args.grain_calls:,} calls for the rate; IndexSampler(N, shuffle=True)"
            f"[i].record_key over {SAMPLER_CALLS:,}\n"
        )
        print("\n".join(_grain_table(results["grain"])) + "\n")
        orders = grain_shard_orders()
        results["grain_shards"] = orders
        if "error" in orders:
            print(f"Grain shard orders: error: {orders['error']}")
        else:
            print(f"Grain IndexSampler global order over {SHARD_DEMO_RECORDS} records, seed 0:")
            for count, order in orders.items():
                shards = "; ".join(f"shard {i}: {keys}" for i, keys in enumerate(order["shards"]))
                print(f"- {count} shard(s): {order['global']} ({shards})")

    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
