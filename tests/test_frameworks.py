"""Training frameworks that drive the sampler themselves: Lightning with set_epoch and workers."""

from __future__ import annotations

from typing import Any

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from samplekit import EpochBatchSampler

pytestmark = pytest.mark.slow  # a Trainer with DataLoader worker processes


class _Data(L.LightningDataModule):
    def __init__(self, workers: int) -> None:
        super().__init__()
        self.workers = workers
        self.labels = (torch.arange(160) % 5 == 0).long()
        self.dataset = TensorDataset(torch.arange(160), torch.randn(160, 4))

    def train_dataloader(self) -> DataLoader[Any]:
        sampler = EpochBatchSampler(
            self.labels, "negative_subsampling", batch_size=4, seed=0, neg_per_pos=1
        )
        if self.workers == 0:
            return DataLoader(self.dataset, batch_sampler=sampler)
        return DataLoader(
            self.dataset, batch_sampler=sampler, num_workers=self.workers, persistent_workers=True
        )


class _Model(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(4, 1)
        self.trained_on: dict[int, list[list[int]]] = {}

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        ids, x = batch
        self.trained_on.setdefault(self.current_epoch, []).append(ids.tolist())
        out: torch.Tensor = self.net(x).pow(2).mean()
        return out

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


class _SetBatchSamplerEpoch(L.Callback):  # the callback docs/recipes/lightning.md shows
    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loader = trainer.train_dataloader
        assert isinstance(loader, DataLoader)
        sampler = loader.batch_sampler
        assert isinstance(sampler, EpochBatchSampler)
        sampler.set_epoch(trainer.current_epoch)


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("callback", [False, True])
def test_lightning_trains_each_epoch_of_the_sampler_once(workers: int, callback: bool) -> None:
    # Lightning creates the loader's iterator (and its workers take batches) before it calls
    # on_train_epoch_start in the first epoch: set_epoch there must not break that epoch.
    model = _Model()
    trainer = L.Trainer(
        max_epochs=3,
        accelerator="cpu",
        devices=1,
        use_distributed_sampler=False,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[_SetBatchSamplerEpoch()] if callback else [],
    )
    trainer.fit(model, datamodule=_Data(workers))
    loader = trainer.train_dataloader
    assert isinstance(loader, DataLoader)
    sampler = loader.batch_sampler
    assert isinstance(sampler, EpochBatchSampler)
    assert model.trained_on == {e: list(sampler.epoch_batches(e)) for e in range(3)}
