"""Per-epoch tallies of `samplekit.report`: exact, and in memory linear in the labels."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
import torch
from helpers import label_tensors
from hypothesis import given
from hypothesis import strategies as st

from samplekit import report
from samplekit.report import batch_class_counts, composition, epoch_tallies
from samplekit.sampler import EpochBatchSampler

STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("stratified", {}),
    ("negative_subsampling", {"neg_ratio": 0.3, "negative_label": 0}),
    ("class_weighted", {"class_weights": "balanced", "num_samples": 50}),
]


def brute_force(
    sampler: EpochBatchSampler, epochs: int
) -> list[tuple[list[list[int]], list[Counter[int]]]]:
    labels = sampler.labels.tolist()
    out = []
    for epoch in range(epochs):
        batches = list(sampler.epoch_batches(epoch))
        out.append((batches, [Counter(labels[i] for i in batch) for batch in batches]))
    return out


@given(
    # Three negatives (label 0) and a positive (label 1) whatever was drawn: every strategy
    # below accepts the labels.
    labels=label_tensors(max_size=200, max_classes=6).map(
        lambda t: torch.cat((t, t.new_tensor([0, 0, 0, 1])))
    ),
    which=st.sampled_from(range(len(STRATEGIES))),
    batch_size=st.integers(1, 40),
    drop_last=st.booleans(),
    chunk=st.sampled_from([5, 1 << 18]),
)
def test_tallies_match_a_brute_force_count(
    labels: torch.Tensor, which: int, batch_size: int, drop_last: bool, chunk: int
) -> None:
    name, options = STRATEGIES[which]
    sampler = EpochBatchSampler(labels, name, batch_size=batch_size, drop_last=drop_last, **options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "_CHUNK", chunk)  # 5: many chunks, a partial last one
        tallies = list(epoch_tallies(sampler, 2))
        rows = composition(sampler, 2)
    keys = sorted(set(labels.tolist()))
    seen: set[int] = set()
    totals = Counter(labels.tolist())
    for (row, counts), plain, (batches, per_batch), epoch in zip(
        tallies, rows, brute_force(sampler, 2), range(2), strict=True
    ):
        assert row == plain
        assert row.epoch == epoch
        assert row.batches == len(per_batch)
        assert counts.tolist() == [[c[k] for k in keys] for c in per_batch]
        assert row.class_counts == {k: sum(c[k] for c in per_batch) for k in keys}
        full = [c for c, b in zip(per_batch, batches, strict=True) if len(b) == batch_size]
        spread = full or per_batch
        assert row.batch_min == {k: min((c[k] for c in spread), default=0) for k in keys}
        assert row.batch_max == {k: max((c[k] for c in spread), default=0) for k in keys}
        seen |= {i for b in batches for i in b}
        got = Counter(int(labels[i]) for i in seen)
        assert row.seen_share == pytest.approx({k: got[k] / totals[k] for k in keys})


def test_batch_class_counts_is_one_epoch_of_the_tallies() -> None:
    sampler = EpochBatchSampler([0] * 8 + [1] * 2 + [5] * 3, "stratified", batch_size=4)
    classes, counts = batch_class_counts(sampler, epoch=1)
    assert classes == [0, 1, 5]
    assert counts.sum(1).tolist() == [4, 4, 4, 1]
    assert counts.tolist() == next(epoch_tallies(sampler, 1, start=1))[1].tolist()


_PEAK = """
import json, resource, torch
from samplekit.report import composition
from samplekit.sampler import EpochBatchSampler
n = 3_000_000
labels = (torch.arange(n) % 10).to(torch.uint8)
sampler = EpochBatchSampler(labels, "stratified", batch_size=256)
sampler.epoch_indices(0)  # the sampler's own epoch: counted before
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
composition(sampler, 2)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_bytes_per_label": (after - before) * 1024 / n}))
"""


@pytest.mark.slow
def test_composition_tallies_without_holding_an_epochs_batches() -> None:
    # It used to hold every batch as a tensor, then int64 copies of the labels and the epoch:
    # some 80 bytes a label on top of the sampler's own epoch.
    out = subprocess.run(
        [sys.executable, "-c", _PEAK], capture_output=True, text=True, check=True, timeout=300
    )
    grew = json.loads(out.stdout)["grew_bytes_per_label"]
    assert grew < 16, f"composition grew the peak by {grew:.1f} bytes a label"


# --- batch shapes from lengths ------------------------------------------------------------


@given(
    lengths=st.lists(st.integers(0, 10_000), min_size=1, max_size=80),
    data=st.data(),
)
def test_batch_shapes_and_their_summary_match_a_brute_force_count(
    lengths: list[int], data: st.DataObject
) -> None:
    n = len(lengths)
    order = data.draw(st.permutations(range(n)))
    kept = data.draw(st.integers(0, n))  # samples past the last offset are in no batch
    cuts = sorted(data.draw(st.sets(st.integers(1, kept - 1), max_size=10))) if kept > 1 else []
    offsets = [0, *cuts, kept] if kept else [0]
    shapes = report.batch_shapes(
        torch.tensor(lengths),
        torch.tensor(order),
        torch.tensor(offsets),
        cost=lambda batch: float(batch.max()) * batch.numel(),
    )
    batches = [order[a:b] for a, b in itertools.pairwise(offsets)]
    assert shapes.sizes.tolist() == [len(b) for b in batches]
    assert shapes.longest.tolist() == [max(lengths[i] for i in b) for b in batches]
    assert shapes.tokens.tolist() == [sum(lengths[i] for i in b) for b in batches]
    padded = [max(lengths[i] for i in b) * len(b) for b in batches]
    assert shapes.padded.tolist() == padded
    assert shapes.costs is not None
    assert shapes.costs.tolist() == [float(p) for p in padded]
    budget = data.draw(st.integers(0, 20_000))
    row = report.summarise_batching(3, shapes, given=n, budget=budget)
    real = sum(lengths[i] for b in batches for i in b)
    assert (row.epoch, row.batches, row.samples, row.tokens) == (3, len(batches), kept, real)
    assert row.padded_tokens == sum(padded)
    assert row.efficiency == (real / sum(padded) if sum(padded) else 1.0)
    assert row.over_budget == sum(p > budget for p in padded)
    assert row.left_out == n - kept
    if batches:
        sizes = [len(b) for b in batches]
        assert (row.size_min, row.size_max) == (min(sizes), max(sizes))
        assert row.size_mean == pytest.approx(kept / len(batches))
        assert row.padded_mean == pytest.approx(sum(padded) / len(batches))
        assert row.padded_max == max(padded)
    else:
        assert (row.size_min, row.size_mean, row.size_max, row.padded_max) == (0, 0.0, 0, 0)


def test_a_budget_without_costs_is_refused() -> None:
    shapes = report.batch_shapes(torch.tensor([3, 4]), torch.tensor([0, 1]), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="budget=8 but shapes without costs"):
        report.summarise_batching(0, shapes, given=2, budget=8)


@pytest.mark.parametrize(
    ("batcher", "batch_size", "drop_last"),
    [
        ("fixed", 7, True),
        ({"name": "length_grouped", "window": 14}, 7, False),
        ({"name": "token_budget", "max_tokens": 300, "window": 16}, None, False),
    ],
)
def test_batching_measures_the_sampler_batches(
    batcher: Any, batch_size: int | None, drop_last: bool
) -> None:
    lengths = torch.randint(0, 60, (50,), generator=torch.Generator().manual_seed(1))
    sampler = EpochBatchSampler(
        None,
        "shuffle",
        lengths=lengths,
        batcher=batcher,
        batch_size=batch_size,
        drop_last=drop_last,
        seed=6,
    )
    sampler.set_epoch(5)
    measured = list(report.batching(sampler, 2, start=1))
    assert sampler.epoch == 5
    for (row, shapes), epoch in zip(measured, (1, 2), strict=True):
        batches = list(sampler.epoch_batches(epoch))
        assert row.epoch == epoch
        assert shapes.sizes.tolist() == [len(b) for b in batches]
        assert shapes.longest.tolist() == [max(int(lengths[i]) for i in b) for b in batches]
        assert row.left_out == 50 - sum(len(b) for b in batches)
        assert row.left_out == (50 % 7 if drop_last else 0)
        assert row.budget == (300.0 if batch_size is None else None)
        assert row.over_budget == (0 if batch_size is None else None)


def test_batching_needs_lengths() -> None:
    sampler = EpochBatchSampler([0, 1, 0], "stratified", batch_size=2)
    with pytest.raises(ValueError, match="the sampler has no lengths"):
        next(report.batching(sampler, 1))
