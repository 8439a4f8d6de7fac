"""Peak memory of ``samplekit preview`` against the size of its labels file.

Writes random labels as ``.npy`` files in a temporary directory, runs ``samplekit preview`` on
each in its own process, and prints the child's peak resident memory (``ru_maxrss``) next to the
file's size. Each run goes through a small wrapper process, so ``RUSAGE_CHILDREN`` holds that run
alone.

Usage:
    python benchmarks/preview_memory.py                  # 1e7 and 1e8 labels, uint8 and int64
    python benchmarks/preview_memory.py --sizes 1e6 --strategies stratified
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

_WRAPPER = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"code": done.returncode, "peak_kib": peak, "stderr": done.stderr[-500:]}))
"""

_OPTIONS = {
    "stratified": [],
    "negative_subsampling": ["--option", "neg_ratio=0.25"],
    "class_weighted": ["--option", "class_weights=balanced"],
}


def write_labels(directory: pathlib.Path, size: int, dtype: str) -> pathlib.Path:
    gen = np.random.default_rng(0)
    # Ten classes, skewed: class 0 holds about half of the samples.
    labels = np.minimum(gen.geometric(0.5, size=size) - 1, 9).astype(dtype)
    path = directory / f"labels_{size}_{dtype}.npy"
    np.save(path, labels)
    return path


def measure(path: pathlib.Path, strategy: str, batch_size: int, epochs: int) -> dict[str, int]:
    command = [
        sys.executable, "-c", "from samplekit.cli import main; main()",
        "preview", str(path), "--strategy", strategy,
        "--batch-size", str(batch_size), "--epochs", str(epochs), *_OPTIONS[strategy],
    ]  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True
    )
    result: dict[str, int] = json.loads(out.stdout)
    if result["code"] != 0:
        msg = f"preview failed: {result['stderr']}"
        raise SystemExit(msg)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e7, 1e8])
    parser.add_argument("--dtypes", nargs="+", default=["uint8", "int64"])
    parser.add_argument("--strategies", nargs="+", default=list(_OPTIONS), choices=_OPTIONS)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'labels':>12} {'dtype':>6} {'strategy':>21} {'file MB':>9} {'peak MB':>9} {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes):
            for dtype in args.dtypes:
                path = write_labels(pathlib.Path(tmp), size, dtype)
                file_mb = path.stat().st_size / 2**20
                for strategy in args.strategies:
                    peak_mb = measure(path, strategy, args.batch_size, args.epochs)["peak_kib"]
                    peak_mb /= 1024
                    print(
                        f"{size:>12,} {dtype:>6} {strategy:>21} {file_mb:>9.0f} {peak_mb:>9.0f} "
                        f"{peak_mb / file_mb:>6.2f}",
                        flush=True,
                    )
                path.unlink()


if __name__ == "__main__":
    main()
