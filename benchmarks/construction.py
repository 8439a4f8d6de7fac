"""What building a sampler costs per label, step by step, and how many times it reads the labels.

On the labels of ``benchmarks/scale.py`` (uint8, 10 % positives; 10 classes for the per-class
index), one thread, each step timed alone (CPU, best of ``--repeats``) in the order a sampler
runs them:

- one read: ``torch.aminmax`` of the labels, what reading them once costs at least;
- fingerprint: ``samplekit.state.labels_digest`` (BLAKE2b of the bytes), every sampler;
- class counts: ``samplekit.labels.class_counts``, for a per-class index (10 classes);
- per-class index: ``ClassIndex.grouped``, the counting sort (``stratified``,
  ``class_weighted``);
- compact index: ``ClassIndex.prepare`` with ``LISTED_BYTES = 0``, the gaps, bucket table and
  other classes' list used beyond 1 GiB of index;
- negatives: ``Complement.of_label`` of label 0 (``negative_subsampling``): the positives' gaps
  and the negatives' list in one pass (beyond ``LISTED_BYTES``: the gaps and their table);

then the whole ``EpochBatchSampler`` of each built-in strategy, as ``scale.py`` builds it.

    python benchmarks/construction.py              # N = 1e8
    python benchmarks/construction.py --n 1e9      # about 6 GB
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # the same labels and sampler options as the scale benchmark

from samplekit import labels as labels_module
from samplekit.labels import ClassIndex, Complement, class_counts
from samplekit.state import labels_digest

if TYPE_CHECKING:
    from collections.abc import Callable


def best_cpu(step: Callable[[], object], repeats: int) -> float:
    """The least CPU seconds of ``repeats`` runs of ``step`` (its result dropped each time)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        result = step()
        times.append(time.process_time() - start)
        del result
    return min(times)


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e8, help="number of labels (default 1e8)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    n, repeats = int(args.n), args.repeats
    torch.set_num_threads(1)
    binary = scale.make_labels("negative_subsampling", n)
    classes = scale.make_labels("stratified", n)

    def compact() -> object:
        saved, labels_module.LISTED_BYTES = labels_module.LISTED_BYTES, 0
        try:
            return ClassIndex(classes).prepare()
        finally:
            labels_module.LISTED_BYTES = saved

    steps: list[tuple[str, str, Callable[[], object]]] = [
        ("one read (aminmax)", "1", lambda: torch.aminmax(classes)),
        ("fingerprint (labels_digest)", "1", lambda: labels_digest(classes)),
        ("class counts, 10 classes", "1", lambda: class_counts(classes)),
        ("per-class index (grouped)", "1", lambda: ClassIndex(classes).grouped),
        ("compact index (LISTED_BYTES = 0)", "1 + others", compact),
        ("negatives (Complement.of_label)", "1", lambda: Complement.of_label(binary, 0)),
    ]
    print(
        f"N = {n:,}, uint8 labels, one thread; torch {torch.__version__}, "
        f"{platform.machine()}, Python {platform.python_version()}\n"
    )
    print("| step | reads of the labels | CPU ns per label |")
    print("|---|---:|---:|")
    for name, reads, step in steps:
        print(f"| {name} | {reads} | {best_cpu(step, repeats) / n * 1e9:.2f} |")
    print("\n| sampler | steps | CPU ns per label |")
    print("|---|---|---:|")
    made_of = {
        "shuffle": "fingerprint",
        "negative_subsampling": "fingerprint, negatives",
        "class_weighted": "fingerprint, class counts, per-class index",
        "stratified": "fingerprint, class counts, per-class index",
    }
    for strategy in made_of:  # warm up: imports and plugins load here
        scale._build(scale.make_labels(strategy, 4096), strategy, world_size=1, rank=0)
    for strategy, parts in made_of.items():
        labels = classes if strategy == "stratified" else binary

        def build(labels: torch.Tensor = labels, strategy: str = strategy) -> object:
            return scale._build(labels, strategy, world_size=1, rank=0)[0]

        print(f"| {strategy} | {parts} | {best_cpu(build, repeats) / n * 1e9:.2f} |")


if __name__ == "__main__":
    main()
