"""The real engine: several gloo processes, via torchrun and torch.multiprocessing."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ddp_worker import run_labels

from samplekit import EpochBatchSampler

pytestmark = pytest.mark.slow  # every test here starts gloo processes

WORKER = Path(__file__).with_name("ddp_worker.py")
LIMIT = 240  # seconds: a hang fails the test instead of stalling CI


def launch(mode: str, world: int, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if mode == "torchrun":
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={world}",
            str(WORKER),
        ]
    else:
        command = [sys.executable, str(WORKER), f"--spawn={world}"]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*command, f"--out={out}", *extra],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        env=env,
        check=False,
    )


CASES = [
    ("torchrun", 2, "stratified", {}, False),
    ("torchrun", 3, "negative_subsampling", {"neg_ratio": 0.3}, False),
    ("spawn", 2, "class_weighted", {}, True),
    ("spawn", 3, "stratified", {}, False),
]


@pytest.mark.parametrize(("mode", "world", "strategy", "options", "drop_last"), CASES)
def test_ranks_split_the_single_process_epoch(
    tmp_path: Path,
    mode: str,
    world: int,
    strategy: str,
    options: dict[str, Any],
    drop_last: bool,
) -> None:
    extra = [f"--strategy={strategy}", f"--options={json.dumps(options)}", "--batch-size=32"]
    if drop_last:
        extra.append("--drop-last")
    result = launch(mode, world, tmp_path, *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    single = EpochBatchSampler(
        run_labels(), strategy, batch_size=32, drop_last=drop_last, world_size=1, rank=0, **options
    )
    for epoch in range(2):
        per_rank = [record["epochs"][epoch] for record in records]
        steps = {len(r["batches"]) for r in per_rank}
        assert len(steps) == 1, f"ranks took different step counts: {steps}"
        assert {r["len"] for r in per_rank} == steps
        global_batches = list(single.epoch_batches(epoch))
        dealt = [r["batches"][step] for step in range(steps.pop()) for r in per_rank]
        g = len(global_batches)
        if drop_last:
            assert dealt == global_batches[: len(dealt)]
        else:
            assert dealt[:g] == global_batches
            assert dealt[g:] == [global_batches[i % g] for i in range(len(dealt) - g)]
    assert records[0]["epochs"][0]["batches"] != records[0]["epochs"][1]["batches"]


@pytest.mark.parametrize("mode", ["torchrun", "spawn"])
def test_a_mismatched_seed_raises_on_every_rank(tmp_path: Path, mode: str) -> None:
    result = launch(mode, 2, tmp_path, "--bad-seed-rank=1")
    assert result.returncode != 0
    for rank in range(2):
        record = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert "seed differs" in record["error"]
        assert "check_sync=False" in record["error"]


def test_the_documented_torchrun_recipe_runs() -> None:
    script = Path(__file__).resolve().parent.parent / "docs" / "examples" / "torchrun_train.py"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    for rank in range(2):
        for epoch in range(2):
            assert f"rank {rank} epoch {epoch}: 7 batches of 7" in result.stdout, result.stderr
    assert result.returncode == 0 or torch_teardown_abort(result.stderr), result.stderr[-3000:]


def torch_teardown_abort(stderr: str) -> bool:
    """The one failure the recipe may show after training finished on every rank.

    Under torchrun with gloo, torch 2.13 sometimes aborts a rank during interpreter exit, after
    ``destroy_process_group``; a bare DDP script without samplekit does the same. The recipe's
    work is checked above through its output; only this exact abort is let through.
    """
    aborted = re.findall(r"exitcode\s*:\s*(-?\d+)", stderr)
    return (
        "terminate called without an active exception" in stderr
        and stderr.count("Traceback (most recent call last)") <= 1  # torchrun's own only
        and all(code in {"-6", "-15"} for code in aborted)
    )


def test_only_the_known_teardown_abort_is_tolerated() -> None:
    abort = (
        "terminate called without an active exception\n"
        "Traceback (most recent call last):\n  raise ChildFailedError(\n"
        "    exitcode  : -6 (pid: 1)  (SIGABRT)\n    exitcode  : -15 (pid: 2)  (SIGTERM)\n"
    )
    assert torch_teardown_abort(abort)
    rank_error = "Traceback (most recent call last):\n  ValueError: boom\n" + abort
    assert not torch_teardown_abort(rank_error)
    assert not torch_teardown_abort(abort.replace("-6 (pid", "1 (pid"))


def run_sync_worker(scenario: str, world: int, out: Path) -> list[Any]:
    worker = Path(__file__).with_name("sync_worker.py")
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(worker), scenario, str(world), str(out)],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(world)]


def test_two_processes_passing_the_same_rank_are_refused(tmp_path: Path) -> None:
    records = run_sync_worker("same_rank", 2, tmp_path)
    # Rank 1 is told its rank is wrong at once; rank 0, left alone in the sync check, is told
    # that another rank did not join it instead of hanging.
    assert records[1]["type"] == "ConfigError"
    assert "rank=0, but this process is rank 1 of the 2" in records[1]["message"]
    assert records[0]["type"] == "DesyncError"
    assert "did not construct its sampler with check_sync=True" in records[0]["message"]


def test_a_rank_that_skips_the_sync_check_times_out_into_a_desync_error(tmp_path: Path) -> None:
    records = run_sync_worker("skip_sync", 3, tmp_path)
    assert records[0]["type"] == "DesyncError"
    assert "check_sync" in records[0]["message"]
    assert records[1] is None
    assert records[2] is None


def test_an_explicit_sub_group_rank_is_taken_as_given(tmp_path: Path) -> None:
    assert run_sync_worker("sub_group", 2, tmp_path) == [None, None]
