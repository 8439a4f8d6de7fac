"""How much the feedback channel costs next to a training step.

Times, on one thread:

- ``sampler.observe(idx, loss)`` for one batch (O(batch): the scores are checked and queued);
- ``sampler.loss_weights(idx)`` for one batch;
- the epoch boundary, where the queued observations of an epoch are folded into the state
  (O(observations) plus one O(N) copy of the state while an older view is still held);
- one forward and backward pass of a small 1-D CNN on the same batch (three strided
  convolutions and a linear head, about 8k parameters, the model of the MNIST-1D paper), the
  cheapest training step a user is likely to have.

Run: ``python benchmarks/observe.py [--samples 1000000] [--batch 128]``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from samplekit import EpochBatchSampler


def _cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(25 * 5, 10),
    )


def _per_call(function: object, repeats: int) -> float:
    assert callable(function)
    function()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    """Print the per-call costs and their ratio to a training step."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n, batch = args.samples, args.batch
    labels = torch.zeros(n, dtype=torch.uint8)
    sampler = EpochBatchSampler(labels, "infobatch", batch_size=batch, epochs=30, seed=0)
    generator = torch.Generator().manual_seed(0)
    idx = torch.randint(0, n, (batch,), generator=generator)
    loss = torch.rand(batch, generator=generator)
    observe = _per_call(lambda: sampler.observe(idx, loss), 2000)
    weights = _per_call(lambda: sampler.loss_weights(idx), 2000)

    model = _cnn()
    x = torch.randn(batch, 1, 40, generator=generator)
    y = torch.randint(0, 10, (batch,), generator=generator)

    def step() -> None:
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()  # type: ignore[no-untyped-call]

    train = _per_call(step, 200)
    # An epoch of observations (every sample once), then the boundary that folds them in.
    fresh = EpochBatchSampler(labels, "infobatch", batch_size=batch, epochs=30, seed=0)
    order = torch.randperm(n, generator=generator)
    for first in range(0, n, batch):
        chunk = order[first : first + batch]
        fresh.observe(chunk, torch.rand(chunk.numel(), generator=generator))
    start = time.perf_counter()
    it = iter(fresh)
    next(it)  # the first batch of the next epoch: fold, pin, plan
    boundary = time.perf_counter() - start

    print(f"N = {n:,}, batch = {batch}, one thread, torch {torch.__version__}")
    print(f"  observe(idx, loss)        {observe * 1e6:9.1f} us per batch")
    print(f"  loss_weights(idx)         {weights * 1e6:9.1f} us per batch")
    print(f"  forward+backward, 1-D CNN {train * 1e6:9.1f} us per batch")
    print(f"  observe / training step   {observe / train:9.3f}")
    print(
        f"  first batch of an epoch after N observations: {boundary:.3f} s "
        f"({boundary / (n / batch) * 1e6:.1f} us per batch of the epoch before)"
    )


if __name__ == "__main__":
    main()
