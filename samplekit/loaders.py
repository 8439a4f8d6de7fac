"""Reading a sampler's checkpoint out of a torchdata ``StatefulDataLoader`` checkpoint.

``StatefulDataLoader.load_state_dict`` refuses a checkpoint taken with another number of
workers. The sampler's own state inside it is valid for any number of workers (and any world
size), so a job that changes either resumes through `batch_sampler_state`::

    loader = StatefulDataLoader(dataset, batch_sampler=sampler, num_workers=4)  # was 2
    sampler.load_state_dict(batch_sampler_state(saved))  # instead of loader.load_state_dict

Examples:
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from torchdata.stateful_dataloader import StatefulDataLoader
    >>> from samplekit import EpochBatchSampler, batch_sampler_state
    >>> def make():
    ...     return EpochBatchSampler([0, 1] * 20, "stratified", batch_size=4, seed=0)
    >>> loader = StatefulDataLoader(TensorDataset(torch.arange(40)), batch_sampler=make())
    >>> it = iter(loader); _ = next(it), next(it)
    >>> saved = loader.state_dict()
    >>> resumed = make()
    >>> resumed.load_state_dict(batch_sampler_state(saved))
    >>> [b.tolist() for (b,) in it] == list(resumed)
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from samplekit.errors import ConfigError

__all__ = ["batch_sampler_state"]


def batch_sampler_state(loader_state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The batch sampler's checkpoint inside a ``StatefulDataLoader.state_dict()``.

    Works for checkpoints of a loader with or without workers. With workers it is the state at
    the loader's last snapshot, which is the last batch yielded with the default
    ``snapshot_every_n_steps=1`` (with a larger value, batches since that snapshot come again,
    as ``StatefulDataLoader`` itself would repeat them).

    Raises:
        ConfigError: if ``loader_state`` holds no batch sampler state.
    """
    if isinstance(loader_state, Mapping):
        snapshot = loader_state.get("_snapshot")
        if isinstance(snapshot, Mapping):
            main = snapshot.get("_main_snapshot")
            if isinstance(main, Mapping):
                loader_state = main
        state = loader_state.get("_index_sampler_state")
        if isinstance(state, Mapping):
            return state
    keys = sorted(map(str, loader_state))[:10] if isinstance(loader_state, Mapping) else []
    msg = (
        f"loader state: no batch sampler state in it (keys {keys}); pass the dict "
        f"StatefulDataLoader.state_dict() returned for a loader built with "
        f"batch_sampler=EpochBatchSampler(...)"
    )
    raise ConfigError(msg)
