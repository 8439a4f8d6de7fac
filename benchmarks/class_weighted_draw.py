"""Time one ``class_weighted`` epoch draw, with and without replacement.

Measures ``strategy.sample`` alone (the draw, without turning batches into lists), the median over
``--repeats`` epochs, for binary labels with ``--positives`` share of 1s and balanced weights.
Without replacement, ``num_samples`` is half the labels (drawing all of them is a permutation,
where weights cannot matter).

    python benchmarks/class_weighted_draw.py --n 1000000 10000000
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from samplekit import EpochBatchSampler
from samplekit.strategy import EpochContext


def time_draw(
    labels: torch.Tensor, repeats: int, *, replacement: bool, num_samples: int | None
) -> float:
    """Median seconds of one ``sample`` call over ``repeats`` epochs."""
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=64,
        replacement=replacement,
        num_samples=num_samples,
    )
    times = []
    for epoch in range(repeats):
        gen = torch.Generator().manual_seed(epoch)
        ctx = EpochContext(epoch=epoch, seed=0, batch_size=64, generator=gen)
        start = time.perf_counter()
        sampler.strategy.sample(ctx)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Print one line per (N, replacement)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, nargs="+", default=[1e6, 1e7], help="label counts")
    parser.add_argument("--positives", type=float, default=0.05, help="share of label 1")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'N':>12} {'replacement':>11} {'median s':>9}")
    for n in (int(value) for value in args.n):
        gen = torch.Generator().manual_seed(0)
        labels = (torch.rand(n, generator=gen) < args.positives).to(torch.int8)
        for replacement in (True, False):
            num_samples = None if replacement else n // 2
            seconds = time_draw(
                labels, args.repeats, replacement=replacement, num_samples=num_samples
            )
            print(f"{n:>12,} {replacement!s:>11} {seconds:>9.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
