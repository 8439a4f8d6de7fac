"""What building a sampler costs per label, step by step, and how many times it reads the labels.

On the labels of ``benchmarks/scale.py`` (uint8, 10 % positives; 10 classes for the per-class
index), one thread, each step timed alone (CPU, best of ``--repeats``) in the order a sampler
runs them:

- one read: ``torch.aminmax`` of the labels, what reading them once costs at least;
- fingerprint: ``samplekit.state.labels_digest`` (BLAKE2b of the bytes), every sampler;
- class counts: ``samplekit.labels.class_counts``, for a per-class index (10 classes);
- per-class index: ``ClassIndex.grouped``, the counting sort (``stratified``,
  ``class_weighted``);
- compact index: ``ClassIndex.prepare`` with ``LISTED_BYTES = 0``, the large class packed and
  the other classes listed, used beyond 1 GiB of index;
- negatives: ``Complement.of_label`` of label 0 (``negative_subsampling``): the positives' gaps
  and the negatives' list in one pass (beyond ``LISTED_BYTES``: the gaps and their table);

then the whole ``EpochBatchSampler`` of each built-in strategy, as ``scale.py`` builds it, and
what a rank pays that maps the data its node's first rank built (`samplekit.nodecache`): the
fingerprint and the strategy, which finds the node's files and maps them.

    python benchmarks/construction.py              # N = 1e8
    python benchmarks/construction.py --n 1e9      # about 6 GB
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # the same labels and sampler options as the scale benchmark

from samplekit import labels as labels_module
from samplekit import nodecache
from samplekit.labels import ClassIndex, Complement, class_counts
from samplekit.plugins import get_strategy
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
    print(
        "\n| sampler | steps | CPU ns per label | a rank mapping its node's data: "
        "CPU ns per label | x fingerprint |"
    )
    print("|---|---|---:|---:|---:|")
    fingerprint = best_cpu(lambda: labels_digest(classes), repeats) / n * 1e9
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

        alone = best_cpu(build, repeats) / n * 1e9
        mapping = mapping_rank_cpu(labels, strategy, repeats) / n * 1e9
        ratio = mapping / fingerprint
        print(f"| {strategy} | {parts} | {alone:.2f} | {mapping:.2f} | {ratio:.2f} |")


def mapping_rank_cpu(labels: torch.Tensor, strategy: str, repeats: int) -> float:
    """CPU seconds of a rank whose node's data another rank built: fingerprint and strategy.

    The strategy is built once inside `samplekit.nodecache.sharing` (that build writes the
    node's files, as the first rank of a node does), then timed as the other ranks build it:
    the labels fingerprinted, the files found and mapped.
    """
    cls = get_strategy(strategy)
    options = cls.Options(**scale.STRATEGIES[strategy])
    with tempfile.TemporaryDirectory() as where:
        digest = labels_digest(labels)
        with nodecache.sharing(digest, Path(where), labels=labels) as written:
            cls(labels, options)

            def follow() -> object:
                labels_digest(labels)
                return cls(labels, options)

            cost = best_cpu(follow, repeats)
            nodecache.release(written)
    return cost


if __name__ == "__main__":
    main()
