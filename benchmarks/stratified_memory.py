"""Peak memory of one ``stratified`` epoch, each case in a fresh process.

Each case ``N,C,B`` (samples, classes, batch size) runs in its own subprocess: it builds ``N``
int64 labels drawn uniformly from ``C`` classes, then constructs the sampler
and draws epoch 0. The process's resident high-water mark (``getrusage`` ``ru_maxrss``, which
sees torch's allocations, unlike ``tracemalloc``) is read once the labels exist and again after the
epoch; the rise is what the sampler cost. The child's address space is capped at ``--limit-gib``,
so a case that needs more fails cleanly with torch's allocation error instead of exhausting the
machine.

    python benchmarks/stratified_memory.py
    python benchmarks/stratified_memory.py --case 80000,40000,2 --limit-gib 4
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

DEFAULT_CASES = ["1000000,10000,2", "1000000,40000,2", "10000000,10,64"]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_case(n: int, classes: int, batch_size: int) -> dict[str, float]:
    """Measure one case in this process (the child side)."""
    import torch

    from samplekit import EpochBatchSampler

    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(classes, (n,), generator=gen)  # no temporary beyond the labels
    before = _peak_mib()
    start = time.perf_counter()
    sampler = EpochBatchSampler(labels, "stratified", batch_size=batch_size)
    order = sampler.epoch_indices(0)
    seconds = time.perf_counter() - start
    assert order.numel() == n
    return {"labels_mib": before, "peak_mib": _peak_mib(), "seconds": seconds}


def measure(case: str, limit_gib: float) -> dict[str, float | str]:
    """Run one case in a fresh interpreter with its address space capped."""
    n, classes, batch_size = (int(float(part)) for part in case.split(","))
    row: dict[str, float | str] = {"n": n, "classes": classes, "batch_size": batch_size}
    done = subprocess.run(  # this very script, as a child
        [sys.executable, __file__, "--child", case, "--limit-gib", str(limit_gib)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        row["error"] = lines[-1][:160]
    else:
        row.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return row


def main(argv: list[str] | None = None) -> int:
    """Print one line per case (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case",
        action="append",
        help="N,C,B: samples, classes, batch size (repeatable; default: "
        + " ".join(DEFAULT_CASES)
        + ")",
    )
    parser.add_argument(
        "--limit-gib", type=float, default=8.0, help="address-space cap per case (default 8)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        cap = int(args.limit_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        n, classes, batch_size = (int(float(part)) for part in args.child.split(","))
        print(json.dumps(run_case(n, classes, batch_size)))
        return 0
    rows = [measure(case, args.limit_gib) for case in args.case or DEFAULT_CASES]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'N':>12} {'classes':>8} {'batch':>6} {'labels MiB':>11} {'peak MiB':>9} "
        f"{'rise MiB':>9} {'seconds':>8}"
    )
    for row in rows:
        head = f"{row['n']:>12,} {row['classes']:>8,} {row['batch_size']:>6}"
        if "error" in row:
            print(f"{head}  failed: {row['error']}")
            continue
        labels_mib, peak_mib = float(row["labels_mib"]), float(row["peak_mib"])
        rise, seconds = peak_mib - labels_mib, float(row["seconds"])
        print(f"{head} {labels_mib:>11.0f} {peak_mib:>9.0f} {rise:>9.0f} {seconds:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
