"""A real length distribution: token counts of the docstrings of the running Python's libraries.

Every module, class and function docstring (``ast.get_docstring``) in CPython's standard library
and in the running interpreter's site-packages is split into regex tokens
(``\\w+|[^\\w\\s]``); each docstring's token count is one length. Text-like corpora have
the same shape: many short items and a long right tail, which is what length-aware batching is
for.

The list of files is sorted, so one interpreter with one set of installed packages always gives
the same array; another machine with other packages gives another distribution, which is why the
benchmarks print this summary beside their tables. The array is cached under
``~/.cache/samplekit-bench/`` (or ``$XDG_CACHE_HOME/samplekit-bench/``), keyed by the Python
version and a fingerprint of the files parsed (at most ``MAX_FILES``, evenly spaced over the
sorted list); ``--refresh`` rebuilds it.

    python benchmarks/lengths.py             # count, min/median/mean/p99/max
    python benchmarks/lengths.py --refresh
"""

from __future__ import annotations

import argparse
import ast
import functools
import hashlib
import os
import re
import site
import sys
import sysconfig
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "chosen_files",
    "describe",
    "docstring_lengths",
    "resample",
    "source_files",
    "summary",
]

TOKEN = re.compile(r"\w+|[^\w\s]")
# At most this many files are parsed (evenly spaced over the sorted list, so every package keeps
# its share), which keeps the one-time build near a minute on two cores however much is installed.
MAX_FILES = 7_000


def _roots() -> list[Path]:
    paths = sysconfig.get_paths()
    roots = [Path(paths[key]) for key in ("stdlib", "purelib", "platlib")]
    roots.extend(Path(p) for p in site.getsitepackages())
    seen: set[Path] = set()
    unique = []
    for root in roots:
        resolved = root.resolve()
        if resolved.is_dir() and resolved not in seen:
            seen.add(resolved)
            unique.append(resolved)
    return unique


@functools.cache
def source_files() -> list[Path]:
    """Every ``.py`` file of the standard library and site-packages, sorted and de-duplicated.

    The standard library's own ``site-packages`` folder is reached through the site roots
    only, so no file is counted twice.

    Returns:
        The files' resolved paths, in sorted order.
    """
    files: set[Path] = set()
    for root in _roots():
        for path in root.rglob("*.py"):
            files.add(path.resolve())
    return sorted(files)


def _docstrings(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc:
                found.append(doc)
    return found


def chosen_files(max_files: int = MAX_FILES) -> list[Path]:
    """The files whose docstrings are counted: `source_files`, every k-th one past ``max_files``.

    Args:
        max_files: at most this many files are kept, evenly spaced over the sorted list.

    Returns:
        The chosen files, in sorted order.
    """
    files = source_files()
    if len(files) <= max_files:
        return files
    step = len(files) / max_files
    return [files[int(i * step)] for i in range(max_files)]


def _count(files: list[Path]) -> np.ndarray:
    lengths: list[int] = []
    for path in files:
        try:
            source = path.read_bytes()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in old files' strings
                tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
            continue  # Python 2 files, test fixtures with deliberate errors, unreadable files
        lengths.extend(len(TOKEN.findall(doc)) for doc in _docstrings(tree))
    return np.asarray(lengths, dtype=np.int64)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "samplekit-bench"


def _cache_path(files: list[Path]) -> Path:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path).encode())
        digest.update(b"\0")
    version = f"py{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    return _cache_dir() / f"docstring-lengths-{version}-{digest.hexdigest()[:16]}.npy"


def docstring_lengths(*, refresh: bool = False, max_files: int = MAX_FILES) -> np.ndarray:
    """Token counts of every docstring of the standard library and site-packages.

    Args:
        refresh: rebuild the array even if a cached one exists.
        max_files: parse at most this many files (see `chosen_files`).

    Returns:
        A 1-D ``int64`` array, one length per non-empty docstring, in sorted-file order.
    """
    files = chosen_files(max_files)
    cache = _cache_path(files)
    if not refresh and cache.exists():
        cached: np.ndarray = np.load(cache)
        return cached
    lengths = _count(files)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(partial, lengths)
    partial.replace(cache)  # atomic: a concurrent reader never sees half a file
    return lengths


def resample(lengths: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Draw ``n`` lengths with replacement, each at least 1.

    Args:
        lengths: the distribution to draw from (e.g. `docstring_lengths`).
        n: how many lengths to draw.
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same draw.

    Returns:
        A 1-D ``int64`` array of ``n`` lengths.
    """
    rng = np.random.default_rng(seed)
    drawn: np.ndarray = rng.choice(np.asarray(lengths, dtype=np.int64), size=n, replace=True)
    clamped: np.ndarray = np.maximum(drawn, 1).astype(np.int64, copy=False)
    return clamped


def summary(lengths: np.ndarray) -> str:
    """One line: count, min, median, mean, 99th percentile and max of ``lengths``."""
    values = np.asarray(lengths)
    return (
        f"count={values.size:,} min={int(values.min())} median={float(np.median(values)):g} "
        f"mean={float(values.mean()):.1f} p99={float(np.percentile(values, 99)):g} "
        f"max={int(values.max())}"
    )


def describe(lengths: np.ndarray | None = None) -> str:
    """Where the distribution comes from and its `summary`, for a benchmark's header."""
    if lengths is None:
        lengths = docstring_lengths()
    found, chosen = len(source_files()), len(chosen_files())
    return (
        f"lengths: token counts of the docstrings of python {sys.version.split()[0]}'s stdlib "
        f"and site-packages ({chosen:,} of {found:,} .py files)\n"
        f"  {summary(lengths)}"
    )


def main() -> None:
    """Build (or load) the distribution and print its summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="rebuild the cached array")
    args = parser.parse_args()
    start = time.perf_counter()
    lengths = docstring_lengths(refresh=args.refresh)
    elapsed = time.perf_counter() - start
    print(describe(lengths))
    print(f"({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
