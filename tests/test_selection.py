"""The one contract check on a strategy's epoch: `samplekit.selection`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import samplekit
from samplekit import EpochBatchSampler, StrategyOutputError


def returning(output: Any, length: Any = 4) -> type[samplekit.Strategy]:
    class Returning(samplekit.Strategy):
        """Returns a fixed output."""

        name = "returning_for_tests"

        def epoch_length(self, epoch: int) -> Any:
            return length

        def sample(self, ctx: samplekit.EpochContext) -> Any:
            return output() if callable(output) else output

    return Returning


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        (torch.arange(4).to(torch.uint64), "dtype torch.uint64; return indices as torch.int64"),
        (torch.arange(4).to(torch.uint32), "dtype torch.uint32"),
        (torch.arange(4, dtype=torch.float32), "dtype torch.float32"),
        (torch.zeros(4, dtype=torch.bool), "dtype torch.bool"),
        (torch.empty(4, dtype=torch.int64, device="meta"), "meta device"),
        (torch.arange(4).to_sparse(), "layout torch.sparse_coo"),
        (
            lambda: torch.nested.nested_tensor(
                [torch.arange(2), torch.arange(3)], layout=torch.jagged
            ),
            "layout",
        ),
        (np.arange(4), "returned ndarray, not a torch.Tensor"),
        ([0, 1, 2, 3], "returned list"),
        (torch.arange(4).reshape(2, 2), "shape (2, 2), not 1-D"),
        (torch.arange(5), "returned 5 indices but epoch_length() said 4"),
        (torch.tensor([0, 1, 2, 10]), "outside [0, 4)"),
        (torch.tensor([0, 1, 2, -1]), "outside [0, 4)"),
    ],
)
def test_broken_outputs_are_one_clear_error(output: Any, fragment: str) -> None:
    sampler = EpochBatchSampler([0] * 4, returning(output), batch_size=2)
    with pytest.raises(StrategyOutputError) as info:
        list(sampler)
    assert fragment in str(info.value)
    assert "'returning_for_tests' broke its contract in epoch 0" in str(info.value)


@pytest.mark.parametrize(
    "length", [-1, 2.0, 4.0, "4", True, None, 2**70, torch.tensor(4.0)], ids=repr
)
def test_bad_epoch_lengths_are_one_clear_error(length: Any) -> None:
    sampler = EpochBatchSampler([0] * 4, returning(torch.arange(4), length), batch_size=2)
    with pytest.raises(StrategyOutputError, match=r"epoch_length\(0\) returned"):
        len(sampler)
    loader = DataLoader(TensorDataset(torch.arange(4)), batch_sampler=sampler)
    with pytest.raises(StrategyOutputError, match="an int from 0 to 2\\*\\*62"):
        list(loader)  # not zero batches, silently


@pytest.mark.parametrize("length", [np.int64(4), torch.tensor(4)], ids=repr)
def test_integer_scalars_are_lengths(length: Any) -> None:
    sampler = EpochBatchSampler([0] * 4, returning(torch.arange(4), length), batch_size=2)
    assert len(sampler) == 2
    assert sorted(i for b in sampler for i in b) == [0, 1, 2, 3]


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8])
def test_every_accepted_index_dtype_works(dtype: torch.dtype) -> None:
    sampler = EpochBatchSampler([0] * 4, returning(torch.arange(4, dtype=dtype)), batch_size=3)
    assert list(sampler) == [[0, 1, 2], [3]]
