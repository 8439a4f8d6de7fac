"""One copy per node: per-class indices built by one rank, mapped by the others.

Real gloo process groups (``node_worker.py``) check that every rank maps the same files, that
nothing is left in the directory, and that the batches are those of a single process; a
directory that cannot be written makes every rank build its own copy, with a warning. In one
process: a lock left by a dead builder, a builder that failed, and sharing turned off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from samplekit import EpochBatchSampler, nodecache
from samplekit.labels import ClassIndex, Complement
from samplekit.nodecache import SharingWarning, shared, sharing

LABELS = torch.tensor([1, 0, 1])  # what the unit tests' per-node data derives from

WORKER = Path(__file__).with_name("node_worker.py")


def run_worker(world: int, out: Path, cache: str) -> list[dict[str, Any]]:
    env = {**os.environ, "SAMPLEKIT_NODE_CACHE": cache, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(WORKER), str(world), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(world)]


def single_process_batches() -> list[list[list[int]]]:
    sys.path.insert(0, str(WORKER.parent))
    from node_worker import balanced, labels

    return [
        list(EpochBatchSampler(labels(), "stratified", batch_size=16, world_size=1, rank=0)),
        list(
            EpochBatchSampler(
                labels(), "negative_subsampling", batch_size=16, neg_ratio=0.5, world_size=1, rank=0
            )
        ),
        list(EpochBatchSampler(balanced(), "class_weighted", batch_size=16, world_size=1, rank=0)),
        list(
            EpochBatchSampler(
                balanced(),
                "negative_subsampling",
                batch_size=16,
                neg_ratio=0.5,
                world_size=1,
                rank=0,
            )
        ),
    ]


def dealt(records: list[dict[str, Any]], which: int) -> list[list[int]]:
    per_rank = [record["batches"][which] for record in records]
    return [batch for step in zip(*per_rank, strict=True) for batch in step]


@pytest.mark.slow
def test_ranks_of_a_node_map_one_copy(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    records = run_worker(3, out, str(cache))
    for record in records:
        assert record["warnings"] == []
        names = {Path(line.replace(" (deleted)", "")).name for line in record["mapped"]}
        # One file per kind and labels: stratified packs class 0 and lists the rest by class,
        # negative_subsampling reads class 0 from the gaps between the others; class_weighted's
        # balanced labels are listed by class, and so are the negatives of the last sampler,
        # beside its positives' gaps.
        kinds = sorted(name.split("-", 2)[2] for name in names)
        assert kinds == [
            "classes.bin",  # the class counts, of each of the two sets of labels
            "classes.bin",
            "gap-starts-not0.bin",
            "gaps-not0.bin",
            "gaps-not0.bin",
            "grouped.bin",
            "packed-of0.bin",
            "rest-not0.bin",
            "samples-of0.bin",
        ], record["mapped"]
    assert list(cache.iterdir()) == []  # the writer deleted its files once every rank had built
    single = single_process_batches()
    for which in range(4):
        global_batches = single[which]
        got = dealt(records, which)
        assert got[: len(global_batches)] == global_batches


@pytest.mark.slow
def test_an_unwritable_directory_builds_per_rank_with_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    records = run_worker(2, out, str(tmp_path / "missing" / "dir"))
    for record in records:
        assert any(
            "SharingWarning" in w and "SAMPLEKIT_NODE_CACHE" in w for w in record["warnings"]
        )
        assert record["mapped"] == []
    single = single_process_batches()
    assert dealt(records, 0)[: len(single[0])] == single[0]


def test_outside_sharing_it_builds_in_place() -> None:
    calls = []

    def build() -> torch.Tensor:
        calls.append(1)
        return torch.arange(3, dtype=torch.int32)

    assert shared("x", torch.int32, build, of=LABELS).tolist() == [0, 1, 2]
    assert calls == [1]


def test_the_writer_maps_its_file_and_release_deletes_it(tmp_path: Path) -> None:
    with sharing(123, tmp_path, labels=LABELS) as written:
        first = shared("x", torch.int32, lambda: torch.arange(5, dtype=torch.int32), of=LABELS)
        # A second process of the node would find the file and map it without building.
        again = shared("x", torch.int32, lambda: pytest.fail("built twice"), of=LABELS)
    assert first.tolist() == again.tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in written] == [f"samplekit-{123:016x}-x.bin"]
    nodecache.release(written)
    assert list(tmp_path.iterdir()) == []
    assert first.tolist() == [0, 1, 2, 3, 4]  # the mapping outlives the file


def test_data_of_other_labels_is_built_in_place_not_shared(tmp_path: Path) -> None:
    """Per-node files are named by the sampler's labels: an index a strategy builds of other
    labels (a subset, derived classes) inside the same scope is its own, never their file."""
    labels = torch.tensor([0, 1, 1, 0, 2], dtype=torch.uint8)
    other = labels[:3].clone()
    with sharing(11, tmp_path, labels=labels) as written:
        index = ClassIndex(labels)
        assert index.grouped.tolist() == [0, 3, 1, 2, 4]
        assert sorted(p.name.split("-", 2)[2] for p in written) == ["classes.bin", "grouped.bin"]
        others = ClassIndex(other)  # the same names: it would map the files above if shared
        assert others.classes.tolist() == [0, 1]
        assert others.counts.tolist() == [1, 2]
        assert others.grouped.tolist() == [0, 1, 2]
        again = ClassIndex(labels)  # the sampler's labels: mapped, not built
        assert again.grouped.tolist() == [0, 3, 1, 2, 4]
        negatives = Complement.of_label(other, 0)
        assert negatives.at(torch.arange(1)).tolist() == [0]
    assert len(written) == 2
    nodecache.release(written)


def test_a_lock_left_by_a_dead_builder_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / f"samplekit-{7:016x}-x.lock").write_text(dead.stdout.strip())
    with sharing(7, tmp_path, labels=LABELS) as written:
        got = shared("x", torch.int64, lambda: torch.arange(4), of=LABELS)
    assert got.tolist() == [0, 1, 2, 3]
    assert len(written) == 1  # this process built and wrote it
    nodecache.release(written)


def test_a_failed_builder_makes_the_others_build_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / f"samplekit-{9:016x}-x.lock").write_text(str(os.getpid()))
    (tmp_path / f"samplekit-{9:016x}-x.failed").touch()
    with (
        sharing(9, tmp_path, labels=LABELS),
        pytest.warns(SharingWarning, match="failed or timed out"),
    ):
        got = shared("x", torch.int64, lambda: torch.arange(2), of=LABELS)
    assert got.tolist() == [0, 1]


def test_a_builder_that_never_finishes_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMPLEKIT_NODE_CACHE_TIMEOUT", "0.2")
    (tmp_path / f"samplekit-{5:016x}-x.lock").write_text(str(os.getpid()))  # alive, never writes
    with sharing(5, tmp_path, labels=LABELS), pytest.warns(SharingWarning):
        got = shared("x", torch.int64, lambda: torch.arange(2), of=LABELS)
    assert got.tolist() == [0, 1]


@pytest.mark.parametrize("value", ["off", "", "0"])
def test_sharing_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SAMPLEKIT_NODE_CACHE", value)
    assert nodecache.directory() is None


def test_the_default_directory_is_shared_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPLEKIT_NODE_CACHE", raising=False)
    expected = (
        Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    )
    assert nodecache.directory() == expected


def test_one_process_shares_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLEKIT_NODE_CACHE", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EpochBatchSampler([0, 1] * 50, "stratified", batch_size=4)
    assert list(tmp_path.iterdir()) == []
