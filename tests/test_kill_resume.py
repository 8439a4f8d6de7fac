"""Kill a training run with SIGKILL mid-epoch, resume it from its last checkpoint, lose nothing."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # starts, kills and restarts training processes

WORKER = Path(__file__).with_name("resume_worker.py")


def run(log: Path, checkpoint: Path, *extra: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(WORKER), f"--log={log}", f"--checkpoint={checkpoint}", *extra]
    return subprocess.Popen(command, **kwargs)


def lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_sigkill_mid_epoch_then_resume_equals_one_uninterrupted_run(tmp_path: Path) -> None:
    reference = run(tmp_path / "reference.log", tmp_path / "reference.json")
    assert reference.wait(timeout=120) == 0
    expected = lines(tmp_path / "reference.log")
    per_epoch = len(expected) // 3
    assert len(expected) == 3 * per_epoch > 30

    log, checkpoint = tmp_path / "run.log", tmp_path / "run.json"
    victim = run(log, checkpoint, "--step-seconds=0.02")
    middle = per_epoch + per_epoch // 2  # in the second epoch, two steps past a checkpoint
    target = middle - middle % 5 + 2
    deadline = time.monotonic() + 120
    while not log.exists() or len(log.read_text().splitlines()) < target:
        assert victim.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL

    before = lines(log)
    saved = json.loads(checkpoint.read_text())
    assert saved["sampler"]["cursor"]["epoch"] == 1
    assert 0 < saved["sampler"]["cursor"]["global_batches"] < per_epoch  # killed mid-epoch
    assert len(before) >= saved["consumed"]  # steps after the checkpoint (if any) are redone

    resumed = run(log.with_name("resumed.log"), checkpoint, "--resume")
    assert resumed.wait(timeout=120) == 0
    after = lines(log.with_name("resumed.log"))
    assert before[: saved["consumed"]] + after == expected
