"""Train a tiny model with DDP and an EpochBatchSampler; launch with torchrun.

    torchrun --standalone --nproc_per_node=2 docs/examples/torchrun_train.py

Each rank prints how many batches it trained on per epoch (the same on every rank).
"""

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset

from samplekit import EpochBatchSampler


def main() -> None:
    """Train for two epochs on every rank."""
    dist.init_process_group("gloo")  # "nccl" on GPUs
    rank = dist.get_rank()

    labels = (torch.arange(10_000) % 50 == 0).long()  # 2 % positives
    features = torch.randn(10_000, 16, generator=torch.Generator().manual_seed(0))
    dataset = TensorDataset(features, labels.float())

    # Same labels, configuration and seed on every rank (checked at construction);
    # rank and world size come from torch.distributed.
    sampler = EpochBatchSampler(
        labels, "negative_subsampling", batch_size=64, seed=0, neg_per_pos=3
    )
    loader = DataLoader(dataset, batch_sampler=sampler)

    model = DistributedDataParallel(torch.nn.Linear(16, 1))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        steps = 0
        for x, y in loader:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            steps += 1
        print(f"rank {rank} epoch {epoch}: {steps} batches of {len(sampler)}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
