"""A training loop that checkpoints its sampler every few steps; test_kill_resume.py kills it.

Each consumed batch is appended to --log as one JSON line (epoch, step, indices) before the
step's checkpoint may be written; the checkpoint (written atomically) records the sampler state
and how many log lines it covers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from samplekit import EpochBatchSampler

EPOCHS = 3
EVERY = 5  # checkpoint every this many steps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--step-seconds", type=float, default=0.0)
    args = parser.parse_args()

    labels = (torch.arange(1000) % 7 == 0).long()
    sampler = EpochBatchSampler(
        labels, "negative_subsampling", batch_size=16, seed=7, neg_ratio=0.3
    )
    loader = DataLoader(TensorDataset(torch.arange(1000)), batch_sampler=sampler)
    checkpoint = Path(args.checkpoint)
    consumed = 0
    if args.resume:
        saved = json.loads(checkpoint.read_text())
        sampler.load_state_dict(saved["sampler"])
        consumed = saved["consumed"]
    with open(args.log, "a", buffering=1) as log:
        for epoch in range(sampler.epoch, EPOCHS):
            sampler.set_epoch(epoch)  # keeps the resume position in the checkpoint's epoch
            for (indices,) in loader:
                log.write(json.dumps([epoch, indices.tolist()]) + "\n")
                consumed += 1
                if consumed % EVERY == 0:
                    temporary = checkpoint.with_suffix(".tmp")
                    temporary.write_text(
                        json.dumps({"sampler": sampler.state_dict(), "consumed": consumed})
                    )
                    os.replace(temporary, checkpoint)
                time.sleep(args.step_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
