"""Compare samplekit's batchers with peer libraries' length-aware batching on real lengths.

The lengths are drawn (with replacement, fixed seed) from the docstring token counts of the
running Python's standard library and site-packages (`benchmarks/lengths.py`), whose summary is
printed first: installed packages change the distribution, so the table describes itself.

Each method, measured in the same process at each ``--sizes`` N:

- ``random/32``: ``torch.randperm`` cut into batches of 32 (the baseline);
- ``hf LengthGroupedSampler/32``: Hugging Face transformers' sampler, its order cut into 32s;
- ``lhotse DynamicBucketing``: lhotse's sampler over cheap ``MonoCut`` objects whose duration is
  the length, ``max_duration`` = ``--max-tokens`` (its constraint is batch size x longest cut,
  the padded size);
- ``fairseq batch_by_size``: fairseq's Cython ``batch_by_size_vec`` over the indices fairseq's
  ``ordered_indices`` gives (a random permutation stably argsorted by length), timed with and
  without that sort. fairseq builds its batches once and only shuffles their order per epoch
  (``EpochBatchIterator``), which the overlap column shows as it is;
- ``samplekit``: ``EpochBatchSampler(None, "shuffle", batcher={"name": "length_grouped"},
  batch_size=32)`` and ``batcher={"name": "token_budget", "max_tokens": ...}``, plus
  ``negative_subsampling`` (1 % positives, ``neg_ratio=0.1``) with the token-budget batcher.
  These rows print "not available" until samplekit has batchers.

Columns: padding efficiency (real tokens / sum over batches of longest x batch size), plan time
(wall seconds for one epoch's batches as lists or arrays), overlap (share of epoch 1's batches,
as sets of indices, that are also batches of epoch 0), batches over the token budget (budgeted
methods), batch count. For samplekit, a second table runs 8 explicit ranks (duplicates, missing
samples, padding repeats and the straggler ratio of padded tokens per step) and a resume check
(time to the first batch after ``load_state_dict`` half-way through an epoch). A targets block
closes the run with PASS/MISS per target.

fairseq's kernel is its ``fairseq/data/data_utils_fast.pyx`` built on its own with Cython (or an
installed fairseq); point ``--fairseq-kernel`` (or ``$FAIRSEQ_KERNEL_DIR``) at the folder holding
the built ``data_utils_fast`` module.

    python benchmarks/batching.py --fairseq-kernel DIR            # N = 1e6 and 1e7
    python benchmarks/batching.py --fairseq-kernel DIR --quick    # N = 1e5 smoke run
    python benchmarks/batching.py --sizes 1000000 --lhotse-max 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import gc
import importlib
import itertools
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lengths import describe, docstring_lengths, resample

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from types import ModuleType

SEED = 0
BATCH_SIZE = 32
WORLD_SIZE = 8
POSITIVE_SHARE = 0.01
NEG_RATIO = 0.1
RESUME_N = 1_000_000
HF = "hf LengthGroupedSampler/32"
LHOTSE = "lhotse DynamicBucketing"
FAIRSEQ = "fairseq batch_by_size"

Batches = list[Any]  # lists of ints, numpy arrays or tensors, as each method yields them


# --- metrics ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Flat:
    """An epoch's batches as one index array and the offsets where each batch starts."""

    indices: np.ndarray
    offsets: np.ndarray  # len(batches) + 1

    @property
    def sizes(self) -> np.ndarray:
        """Samples per batch."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return self.offsets.size - 1


def flatten(batches: Batches) -> Flat:
    """Turn a list of batches (lists, arrays or tensors of indices) into a `Flat`."""
    sizes = np.fromiter((len(b) for b in batches), dtype=np.int64, count=len(batches))
    offsets = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if batches and isinstance(batches[0], list):
        indices = np.fromiter(
            itertools.chain.from_iterable(batches), dtype=np.int64, count=int(offsets[-1])
        )
    elif batches:
        indices = np.concatenate([np.asarray(b, dtype=np.int64) for b in batches])
    else:
        indices = np.zeros(0, dtype=np.int64)
    return Flat(indices, offsets)


def padded_tokens(flat: Flat, lengths: np.ndarray) -> np.ndarray:
    """Longest length x batch size, per batch."""
    if len(flat) == 0:
        return np.zeros(0, dtype=np.int64)
    longest: np.ndarray = np.maximum.reduceat(lengths[flat.indices], flat.offsets[:-1])
    padded: np.ndarray = longest * flat.sizes
    return padded


def efficiency(flat: Flat, lengths: np.ndarray) -> float:
    """Real tokens / padded tokens over the epoch."""
    padded = int(padded_tokens(flat, lengths).sum())
    return int(lengths[flat.indices].sum()) / padded if padded else float("nan")


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: a 64-bit bijection that scatters nearby indices far apart.
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def batch_keys(flat: Flat) -> np.ndarray:
    """One 64-bit key per batch that depends only on its set of indices (and its size).

    Two batches holding the same indices in any order get the same key; two different sets
    collide with probability about 2**-64 per pair, so comparing keys counts the batches that
    ``frozenset``s would find equal (checked against ``frozenset``s at the smallest size).
    """
    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        sums: np.ndarray = np.add.reduceat(_mix(flat.indices), flat.offsets[:-1])
        keys: np.ndarray = sums ^ _mix(flat.sizes.astype(np.uint64) + np.uint64(1 << 40))
        return keys


def overlap(first: Flat, second: Flat) -> float:
    """Share of ``second``'s batches (as sets of indices) that are also batches of ``first``."""
    if len(second) == 0:
        return float("nan")
    return float(np.isin(batch_keys(second), batch_keys(first)).mean())


def overlap_frozensets(first: Flat, second: Flat) -> float:
    """`overlap` computed with ``frozenset``s (slow; the cross-check of `batch_keys`)."""

    def sets(flat: Flat) -> list[frozenset[int]]:
        ids = flat.indices.tolist()
        bounds = flat.offsets.tolist()
        return [frozenset(ids[a:b]) for a, b in itertools.pairwise(bounds)]

    seen = set(sets(first))
    later = sets(second)
    return sum(s in seen for s in later) / len(later) if later else float("nan")


# --- results ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One method at one size."""

    method: str
    n: int
    efficiency: float | None = None
    plan_s: float | None = None
    overlap: float | None = None
    over_budget: int | None = None
    batches: int | None = None
    note: str = ""

    @classmethod
    def measured(
        cls,
        method: str,
        n: int,
        lengths: np.ndarray,
        epochs: tuple[Flat, Flat],
        plan_s: float,
        max_tokens: int | None,
        note: str = "",
    ) -> Row:
        """Fill the metrics from two consecutive epochs' batches."""
        first, second = epochs
        over = None
        if max_tokens is not None:
            over = int((padded_tokens(first, lengths) > max_tokens).sum())
        return cls(
            method,
            n,
            efficiency(first, lengths),
            plan_s,
            overlap(first, second),
            over,
            len(first),
            note,
        )


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: Sequence[Row]) -> None:
    """The side-by-side table."""
    header = (
        f"{'method':<40} {'N':>10} {'effic.':>7} {'plan s':>8} {'overlap':>8} "
        f"{'over':>6} {'batches':>9}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.method:<40} {row.n:>10,} {_fmt(row.efficiency, '.4f'):>7} "
            f"{_fmt(row.plan_s, '.3f'):>8} {_fmt(row.overlap, '.2%'):>8} "
            f"{_fmt(row.over_budget, 'd'):>6} {_fmt(row.batches, ',d'):>9}  {row.note}"
        )


def timed(fn: Callable[[], Batches]) -> tuple[Batches, float]:
    """Run ``fn`` once after a garbage collection; its result and wall seconds."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# --- peers ------------------------------------------------------------------------------------


def run_random(lengths: np.ndarray, _max_tokens: int) -> Row:
    """``torch.randperm`` cut into batches of 32: the baseline."""
    n = lengths.size
    generator = torch.Generator().manual_seed(SEED)

    def epoch() -> Batches:
        order = torch.randperm(n, generator=generator).tolist()
        return [order[i : i + BATCH_SIZE] for i in range(0, n, BATCH_SIZE)]

    first, plan_s = timed(epoch)
    second = epoch()
    return Row.measured(
        "random/32 (torch.randperm)", n, lengths, (flatten(first), flatten(second)), plan_s, None
    )


def run_hf(lengths: np.ndarray, _max_tokens: int) -> Row:
    """transformers' ``LengthGroupedSampler`` (as the Trainer builds it), cut into 32s."""
    try:
        from transformers.trainer_pt_utils import LengthGroupedSampler
    except ImportError as error:
        return Row(HF, lengths.size, note=f"not available: {error}")
    import transformers

    n = lengths.size
    # The Trainer passes a seeded generator; each epoch's iteration draws on from it.
    generator = torch.Generator().manual_seed(SEED)
    sampler = LengthGroupedSampler(BATCH_SIZE, lengths=lengths.tolist(), generator=generator)

    def epoch() -> Batches:
        order = list(sampler)
        return [order[i : i + BATCH_SIZE] for i in range(0, n, BATCH_SIZE)]

    first, plan_s = timed(epoch)
    second = epoch()
    return Row.measured(
        HF,
        n,
        lengths,
        (flatten(first), flatten(second)),
        plan_s,
        None,
        f"transformers {transformers.__version__}",
    )


def run_lhotse(lengths: np.ndarray, max_tokens: int, max_n: int, seen: dict[int, float]) -> Row:
    """lhotse's ``DynamicBucketingSampler`` over ``MonoCut``s whose duration is the length.

    ``seen`` maps each N measured so far to its seconds (cuts and two epochs), from which a
    skipped size's time is projected.
    """
    name = LHOTSE
    n = lengths.size
    try:
        import lhotse
        from lhotse import CutSet, MonoCut
        from lhotse.dataset import DynamicBucketingSampler
    except ImportError as error:
        return Row(name, n, note=f"not available: {error}")
    if n > max_n:
        note = f"skipped above --lhotse-max={max_n:,}: one Python cut object per sample"
        if seen:
            base = max(seen)
            note += f"; ~{seen[base] * n / base:.0f} s projected from N={base:,}"
        return Row(name, n, note=note)
    start = time.perf_counter()
    cuts = CutSet.from_cuts(
        MonoCut(id=str(i), start=0.0, duration=float(length), channel=0)
        for i, length in enumerate(lengths.tolist())
    )
    build_s = time.perf_counter() - start
    with warnings.catch_warnings():
        # It warns that an eager CutSet gains nothing from dynamic bucketing: true, and the
        # cheapest way to hand it N cuts here.
        warnings.simplefilter("ignore", UserWarning)
        sampler = DynamicBucketingSampler(
            cuts, max_duration=float(max_tokens), shuffle=True, seed=SEED
        )

    def epoch(e: int) -> Batches:
        sampler.set_epoch(e)
        return [np.fromiter((int(c.id) for c in batch), dtype=np.int64) for batch in sampler]

    first, plan_s = timed(lambda: epoch(0))
    start = time.perf_counter()
    second = epoch(1)
    seen[n] = build_s + plan_s + time.perf_counter() - start
    return Row.measured(
        name,
        n,
        lengths,
        (flatten(first), flatten(second)),
        plan_s,
        max_tokens,
        f"lhotse {lhotse.__version__}, default 10 buckets; cuts built in {build_s:.1f} s "
        f"(not in plan)",
    )


def load_fairseq_kernel(folder: str | None) -> ModuleType | None:
    """fairseq's ``data_utils_fast`` from ``folder``, else from an installed fairseq."""
    if folder:
        sys.path.insert(0, str(Path(folder).expanduser().resolve()))
        with contextlib.suppress(ImportError):
            return importlib.import_module("data_utils_fast")
    with contextlib.suppress(ImportError):
        return importlib.import_module("fairseq.data.data_utils_fast")
    return None


def run_fairseq(lengths: np.ndarray, max_tokens: int, kernel: ModuleType | None) -> list[Row]:
    """fairseq's ``batch_by_size_vec`` with and without ``ordered_indices``' sort."""
    name = FAIRSEQ
    n = lengths.size
    if kernel is None:
        return [Row(name, n, note="not available: pass --fairseq-kernel DIR")]

    def ordered_indices() -> np.ndarray:
        # LanguagePairDataset.ordered_indices with shuffle=True, under numpy_seed(seed).
        rng = np.random.RandomState(SEED)
        indices = rng.permutation(n).astype(np.int64)
        return indices[np.argsort(lengths[indices], kind="mergesort")]

    def batches(indices: np.ndarray) -> Batches:
        made: Batches = kernel.batch_by_size_vec(indices, lengths[indices], max_tokens, -1, 1)
        return made

    def shuffled(frozen: Batches, epoch: int) -> Batches:
        # EpochBatchIterator: the frozen batches, in an order shuffled with seed + epoch.
        order = np.random.RandomState(SEED + epoch).permutation(len(frozen))
        return [frozen[i] for i in order]

    def epoch_with_sort() -> Batches:
        return shuffled(batches(ordered_indices()), 1)

    _, with_sort_s = timed(epoch_with_sort)
    sorted_indices = ordered_indices()
    frozen, without_sort_s = timed(lambda: batches(sorted_indices))
    epochs = (flatten(shuffled(frozen, 1)), flatten(shuffled(frozen, 2)))
    note = "batches built once; epochs reshuffle their order"
    return [
        Row.measured(f"{name} (+ sort)", n, lengths, epochs, with_sort_s, max_tokens, note),
        Row.measured(f"{name} (kernel only)", n, lengths, epochs, without_sort_s, max_tokens),
    ]


# --- samplekit --------------------------------------------------------------------------------


def samplekit_batchers() -> list[str] | None:
    """The batchers samplekit offers, or None when it has none yet."""
    try:
        import samplekit
    except ImportError:
        return None
    available = getattr(samplekit, "available_batchers", None)
    if available is None:
        return None
    try:
        return sorted(available())
    except Exception:  # an unfinished API counts as absent
        return None


@dataclasses.dataclass(frozen=True)
class Setup:
    """One samplekit configuration: the strategy, its labels and the batcher."""

    name: str
    strategy: str
    batcher: dict[str, Any]
    batch_size: int | None = None
    labelled: bool = False

    def labels(self, n: int) -> np.ndarray | None:
        """Binary labels with ``POSITIVE_SHARE`` positives, when the strategy reads labels."""
        if not self.labelled:
            return None
        return (np.random.default_rng(SEED + 1).random(n) < POSITIVE_SHARE).astype(np.int64)

    def build(self, labels: np.ndarray | None, lengths: np.ndarray, **extra: Any) -> Any:
        """An ``EpochBatchSampler`` of this setup."""
        from samplekit import EpochBatchSampler

        options: dict[str, Any] = {"lengths": lengths, "batcher": self.batcher, "seed": SEED}
        if self.batch_size is not None:
            options["batch_size"] = self.batch_size
        if self.strategy == "negative_subsampling":
            options["neg_ratio"] = NEG_RATIO
        return EpochBatchSampler(labels, self.strategy, **options, **extra)


def samplekit_setups(max_tokens: int) -> list[Setup]:
    """The three samplekit configurations the brief names."""
    budget = {"name": "token_budget", "max_tokens": max_tokens}
    return [
        Setup("samplekit length_grouped/32", "shuffle", {"name": "length_grouped"}, BATCH_SIZE),
        Setup("samplekit token_budget", "shuffle", budget),
        Setup("samplekit neg_subsampling+token_budget", "negative_subsampling", budget, None, True),
    ]


def _epoch(sampler: Any, epoch: int) -> Batches:
    sampler.set_epoch(epoch)
    return list(sampler)


def run_samplekit(setup: Setup, lengths: np.ndarray, max_tokens: int) -> Row:
    """One epoch's metrics of a samplekit setup (world size 1)."""
    n = lengths.size
    labels = setup.labels(n)
    start = time.perf_counter()
    sampler = setup.build(labels, lengths)
    build_s = time.perf_counter() - start
    sampler.set_epoch(0)
    first, plan_s = timed(lambda: list(sampler))
    second = _epoch(sampler, 1)
    budget = max_tokens if setup.batcher["name"] == "token_budget" else None
    flat = flatten(first)
    note = f"built in {build_s:.2f} s"
    if setup.labelled:
        note += f"; {flat.indices.size:,} of {n:,} selected"
    return Row.measured(setup.name, n, lengths, (flat, flatten(second)), plan_s, budget, note)


@dataclasses.dataclass
class DdpRow:
    """Explicit ranks of one setup: coverage and balance."""

    method: str
    n: int
    duplicates: int | None = None
    missing: int | None = None
    padding_repeats: int | None = None
    straggler: float | None = None
    steps: int | None = None
    plan_s: float | None = None
    note: str = ""


def run_ddp(setup: Setup, lengths: np.ndarray) -> DdpRow:
    """``WORLD_SIZE`` samplers with explicit ranks, one epoch each; the single-rank epoch is truth.

    Steps are zipped across ranks; the global batches past the single-rank count (step-major
    order: step s, rank r is global batch ``s * world_size + r``) are the documented padding.
    Duplicates count samples repeated outside that padding, missing the single-rank epoch's
    samples no rank yields.
    """
    n = lengths.size
    labels = setup.labels(n)
    single = flatten(_epoch(setup.build(labels, lengths), 0))
    per_rank: list[Batches] = []
    start = time.perf_counter()
    for rank in range(WORLD_SIZE):
        sampler = setup.build(labels, lengths, rank=rank, world_size=WORLD_SIZE)
        per_rank.append(_epoch(sampler, 0))
    plan_s = time.perf_counter() - start
    steps = {len(batches) for batches in per_rank}
    if len(steps) != 1:
        return DdpRow(setup.name, n, note=f"ranks yield different step counts: {sorted(steps)}")
    step_count = steps.pop()
    step_major = [per_rank[r][s] for s in range(step_count) for r in range(WORLD_SIZE)]
    real = flatten(step_major[: len(single)])
    padding = flatten(step_major[len(single) :])
    counts = np.bincount(real.indices, minlength=n)
    expected = np.zeros(n, dtype=bool)
    expected[single.indices] = True
    duplicates = int(np.maximum(counts - 1, 0).sum())
    missing = int((expected & (counts == 0)).sum())
    extra = int(((~expected) & (counts > 0)).sum())
    padded = np.stack([padded_tokens(flatten(per_rank[r]), lengths) for r in range(WORLD_SIZE)])
    straggler = float(padded.max(axis=0).sum() / padded.mean(axis=0).sum())
    note = f"{extra:,} samples outside the single-rank epoch" if extra else ""
    return DdpRow(
        setup.name,
        n,
        duplicates,
        missing,
        int(padding.indices.size),
        straggler,
        step_count,
        plan_s,
        note,
    )


def _ddp_error(method: str, n: int, note: str) -> DdpRow:
    return DdpRow(method, n, note=note)


def print_ddp(rows: Sequence[DdpRow]) -> None:
    """The explicit-ranks table."""
    header = (
        f"{'method':<40} {'N':>10} {'dup':>5} {'missing':>8} {'pad rep':>8} "
        f"{'straggler':>9} {'steps':>8} {'8 ranks s':>9}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.method:<40} {row.n:>10,} {_fmt(row.duplicates, 'd'):>5} "
            f"{_fmt(row.missing, ',d'):>8} {_fmt(row.padding_repeats, ',d'):>8} "
            f"{_fmt(row.straggler, '.4f'):>9} {_fmt(row.steps, ',d'):>8} "
            f"{_fmt(row.plan_s, '.2f'):>9}  {row.note}"
        )


def run_resume(setup: Setup, lengths: np.ndarray, repeats: int = 3) -> tuple[float | None, str]:
    """Seconds from ``load_state_dict`` to the first batch, resuming half-way through epoch 0.

    The median of ``repeats`` resumes from one checkpoint, each in a newly built sampler (whose
    construction is reported apart); None when a resumed batch differs from the original's.
    """
    labels = setup.labels(lengths.size)
    sampler = setup.build(labels, lengths)
    sampler.set_epoch(0)
    total = len(sampler)
    iterator = iter(sampler)
    for _ in range(total // 2):
        next(iterator)
    state = sampler.state_dict()
    expected = list(next(iterator))
    waits, builds, same = [], [], True
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        resumed = setup.build(labels, lengths)
        built = time.perf_counter()
        resumed.load_state_dict(state)
        batch = next(iter(resumed))
        waits.append(time.perf_counter() - built)
        builds.append(built - start)
        same = same and list(batch) == expected
    note = (
        f"median of {repeats}, after {total // 2:,} of {total:,} batches; "
        f"+{statistics.median(builds):.2f} s to build the sampler"
        f"{'' if same else '; RESUMED BATCH DIFFERS'}"
    )
    return (statistics.median(waits) if same else None), note


# --- the run ----------------------------------------------------------------------------------


def _guarded(fn: Callable[[], Any], error_row: Callable[[str], Any]) -> Any:
    try:
        return fn()
    except Exception as error:  # one failure must not lose the other methods
        return error_row(f"error: {type(error).__name__}: {error}"[:160])


@dataclasses.dataclass
class Target:
    """One target of the closing block."""

    label: str
    measured: str
    ok: bool | None


def _get(row: Row | None, field: str) -> float | None:
    value = None if row is None else getattr(row, field)
    return None if value is None else float(value)


def _find(rows: Iterable[Row], method: str, n: int) -> Row | None:
    return next((r for r in rows if r.method == method and r.n == n), None)


def targets(
    rows: Sequence[Row],
    ddp: Sequence[DdpRow],
    resume: dict[str, float | None],
    n: int,
) -> list[Target]:
    """The brief's targets, read off the results at size ``n`` (the largest run)."""
    out: list[Target] = []

    def check(label: str, value: float | None, ok: Callable[[float], bool], spec: str) -> None:
        if value is None:
            out.append(Target(label, "not measured", None))
        else:
            out.append(Target(label, format(value, spec), ok(value)))

    fairseq = _find(rows, f"{FAIRSEQ} (+ sort)", n)
    hf = _find(rows, HF, n)
    budget_targets = (
        ("samplekit token_budget", "token_budget"),
        ("samplekit neg_subsampling+token_budget", "neg_subsampling+token_budget"),
    )
    for method, short in budget_targets:
        row = _find(rows, method, n)
        check(f"{short} efficiency >= 0.97", _get(row, "efficiency"), lambda v: v >= 0.97, ".4f")
        check(f"{short} over budget == 0", _get(row, "over_budget"), lambda v: v == 0, ".0f")
        check(f"{short} overlap <= 1%", _get(row, "overlap"), lambda v: v <= 0.01, ".2%")
        plan, fairseq_plan = _get(row, "plan_s"), _get(fairseq, "plan_s")
        ratio = plan / fairseq_plan if plan and fairseq_plan else None
        check(f"{short} plan / fairseq (+ sort) <= 1", ratio, lambda v: v <= 1.0, ".2f")
    row = _find(rows, "samplekit length_grouped/32", n)
    check("length_grouped efficiency >= 0.95", _get(row, "efficiency"), lambda v: v >= 0.95, ".4f")
    check("length_grouped overlap <= 1%", _get(row, "overlap"), lambda v: v <= 0.01, ".2%")
    plan, hf_plan = _get(row, "plan_s"), _get(hf, "plan_s")
    speedup = hf_plan / plan if plan and hf_plan else None
    check("length_grouped speed-up over HF >= 3x", speedup, lambda v: v >= 3.0, ".1f")
    for d in ddp:
        if d.n != n:
            continue
        short = d.method.removeprefix("samplekit ")
        check(f"{short} DDP straggler <= 1.05", d.straggler, lambda v: v <= 1.05, ".4f")
        check(f"{short} DDP duplicates == 0", d.duplicates, lambda v: v == 0, ".0f")
        check(f"{short} DDP missing == 0", d.missing, lambda v: v == 0, ".0f")
    for method, seconds in resume.items():
        short = method.removeprefix("samplekit ")
        check(f"{short} resume first batch <= 0.1 s", seconds, lambda v: v <= 0.1, ".4f")
    return out


@dataclasses.dataclass
class Results:
    """Everything measured in one run."""

    rows: list[Row] = dataclasses.field(default_factory=list)
    ddp: list[DdpRow] = dataclasses.field(default_factory=list)
    resume: dict[str, float | None] = dataclasses.field(default_factory=dict)
    resume_notes: dict[str, str] = dataclasses.field(default_factory=dict)
    lhotse_seconds: dict[int, float] = dataclasses.field(default_factory=dict)

    def add(self, result: Row | list[Row]) -> None:
        """Keep one method's row(s) and say it was measured."""
        for row in result if isinstance(result, list) else [result]:
            self.rows.append(row)
            print(f"  {row.method}: plan {_fmt(row.plan_s, '.3f')} s {row.note}", flush=True)


def run_size(
    lengths: np.ndarray,
    args: argparse.Namespace,
    kernel: ModuleType | None,
    batchers: list[str] | None,
    results: Results,
    *,
    resume: bool,
) -> None:
    """Every method at one size; ``resume`` adds samplekit's resume check."""
    n, max_tokens = lengths.size, args.max_tokens
    clipped = int((lengths > max_tokens).sum())
    if clipped:  # a sample longer than the budget fits no batch: fairseq refuses it
        lengths = np.minimum(lengths, max_tokens)
    print(
        f"\nN = {n:,}: lengths mean {lengths.mean():.1f}, max {int(lengths.max())}"
        f"{f' ({clipped} clipped to max_tokens)' if clipped else ''}",
        flush=True,
    )

    def error_row(method: str) -> Callable[[str], Row]:
        return lambda note: Row(method, n, note=note)

    results.add(_guarded(lambda: run_random(lengths, max_tokens), error_row("random/32")))
    results.add(_guarded(lambda: run_hf(lengths, max_tokens), error_row(HF)))
    results.add(
        _guarded(
            lambda: run_lhotse(lengths, max_tokens, args.lhotse_max, results.lhotse_seconds),
            error_row(LHOTSE),
        )
    )
    results.add(_guarded(lambda: run_fairseq(lengths, max_tokens, kernel), error_row(FAIRSEQ)))
    for setup in samplekit_setups(max_tokens):
        if batchers is None:
            results.add(Row(setup.name, n, note="not available (samplekit has no batchers yet)"))
            continue
        results.add(
            _guarded(
                functools.partial(run_samplekit, setup, lengths, max_tokens),
                error_row(setup.name),
            )
        )
        if n <= args.ddp_max:
            ddp = _guarded(
                functools.partial(run_ddp, setup, lengths),
                functools.partial(_ddp_error, setup.name, n),
            )
            results.ddp.append(ddp)
            print(f"  {setup.name} x{WORLD_SIZE} ranks: {_fmt(ddp.plan_s, '.2f')} s", flush=True)
        if resume:
            try:
                seconds, note = run_resume(setup, lengths)
            except Exception as error:  # one method's failure must not lose the others
                seconds, note = None, f"error: {type(error).__name__}: {error}"[:160]
            results.resume[setup.name], results.resume_notes[setup.name] = seconds, note


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the flags, run every method at every size, print the tables and targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000], help="the N to run"
    )
    parser.add_argument("--quick", action="store_true", help="N = 1e5 only (a smoke run)")
    parser.add_argument("--max-tokens", type=int, default=16384, help="the token budget")
    parser.add_argument(
        "--fairseq-kernel",
        default=os.environ.get("FAIRSEQ_KERNEL_DIR"),
        help="folder with fairseq's built data_utils_fast module (default: $FAIRSEQ_KERNEL_DIR)",
    )
    parser.add_argument(
        "--lhotse-max",
        type=int,
        default=1_000_000,
        help="largest N for lhotse (one Python object per cut: 1e7 takes GBs and minutes)",
    )
    parser.add_argument(
        "--ddp-max", type=int, default=10_000_000, help="largest N for the 8-rank samplekit runs"
    )
    args = parser.parse_args(argv)
    sizes = [100_000] if args.quick else sorted(args.sizes)
    resume_n = min(RESUME_N, max(sizes))
    max_tokens = args.max_tokens

    source = docstring_lengths()
    print(describe(source))
    kernel = load_fairseq_kernel(args.fairseq_kernel)
    batchers = samplekit_batchers()
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}; "
        f"max_tokens={max_tokens}, batch_size={BATCH_SIZE}, seed={SEED}; "
        f"samplekit batchers: {batchers if batchers is not None else 'not available'}"
    )
    results = Results()
    for n in sizes:
        lengths = resample(source, n, SEED)
        run_size(lengths, args, kernel, batchers, results, resume=n == resume_n)
        if n == min(sizes):
            _cross_check_overlap(lengths)
            print("  overlap keys agree with frozensets (cross-check)", flush=True)
        del lengths
        gc.collect()
    rows, ddp_rows = results.rows, results.ddp
    resume, resume_notes = results.resume, results.resume_notes

    print("\n== one epoch (world size 1) ==")
    print_table(rows)
    if batchers is None:
        print("\n== samplekit: 8 explicit ranks, resume == not available")
    else:
        print(f"\n== samplekit: {WORLD_SIZE} explicit ranks (epoch 0) ==")
        print_ddp(ddp_rows)
        print(f"\n== samplekit: resume at N = {resume_n:,} (world size 1) ==")
        for method, seconds in resume.items():
            print(f"{method:<40} first batch {_fmt(seconds, '.4f')} s  {resume_notes[method]}")
    print(f"\n== targets (N = {max(sizes):,}) ==")
    for target in targets(rows, ddp_rows, resume, max(sizes)):
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[target.ok]
        print(f"{verdict:<5} {target.label:<60} {target.measured}")


def _cross_check_overlap(lengths: np.ndarray) -> None:
    """Check `batch_keys` against ``frozenset``s on a batching with much overlap."""
    n = min(lengths.size, 200_000)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(n)
    first = [order[i : i + BATCH_SIZE] for i in range(0, n, BATCH_SIZE)]
    second = [rng.permutation(b) for b in first[: len(first) // 2]]
    second += [order[i : i + BATCH_SIZE - 1] for i in range(0, n // 2, BATCH_SIZE)]
    a, b = flatten(first), flatten(second)
    fast, slow = overlap(a, b), overlap_frozensets(a, b)
    if fast != slow:
        msg = f"batch_keys overlap {fast} differs from frozensets' {slow}"
        raise AssertionError(msg)


if __name__ == "__main__":
    main()
