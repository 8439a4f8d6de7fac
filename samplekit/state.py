"""Fingerprints of a sampler's inputs, and the checkpoint state ``state_dict()`` returns.

Examples:
    >>> import torch
    >>> from samplekit.state import labels_digest
    >>> labels_digest(torch.tensor([0, 1, 1])) == labels_digest(torch.tensor([0, 1, 1]))
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import torch

from samplekit.errors import ConfigError

__all__ = ["STATE_VERSION", "check_state", "digest", "labels_digest"]

STATE_VERSION = 1


def digest(data: bytes) -> int:
    """A 63-bit BLAKE2b digest (fits a signed int64 tensor and a JSON number)."""
    value = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    return value >> 1


def labels_digest(labels: torch.Tensor) -> int:
    """Digest of the label values and dtype, independent of memory layout.

    Hashes the tensor's memory in place (no copy of the labels for contiguous ones); equal to
    ``digest(dtype + NUL + bytes)``.
    """
    hasher = hashlib.blake2b(str(labels.dtype).encode() + b"\0", digest_size=8)
    hasher.update(labels.contiguous().view(torch.uint8).numpy().data)
    return int.from_bytes(hasher.digest(), "little") >> 1


def check_state(state: Any, expected: Mapping[str, Any]) -> tuple[int, int]:
    """Validate a ``state_dict()`` against the sampler loading it; return (epoch, position).

    Raises:
        ConfigError: naming what differs (labels, configuration, world size) or what is
            malformed.
    """
    if not isinstance(state, Mapping):
        msg = f"state: expected the dict from EpochBatchSampler.state_dict(), got {state!r}"
        raise ConfigError(msg)
    missing = sorted(
        {"version", "epoch", "position", "labels", "config", "world_size"} - set(state)
    )
    if missing:
        msg = f"state: missing keys {missing}; pass a dict from EpochBatchSampler.state_dict()"
        raise ConfigError(msg)
    if state["version"] != STATE_VERSION:
        msg = f"state: version {state['version']!r} is not supported (expected {STATE_VERSION})"
        raise ConfigError(msg)
    differences = []
    if state["labels"] != expected["labels"]:
        differences.append(
            f"labels differ (checkpoint: {state['labels']['count']} labels, digest "
            f"{state['labels']['digest']:#x}; here: {expected['labels']['count']} labels, digest "
            f"{expected['labels']['digest']:#x})"
        )
    if state["config"] != expected["config"]:
        differences.extend(_config_differences(state["config"], expected["config"]))
    if state["world_size"] != expected["world_size"]:
        differences.append(
            f"world_size differs (checkpoint: {state['world_size']}, here: "
            f"{expected['world_size']})"
        )
    if differences:
        msg = (
            f"state: this checkpoint belongs to another sampler: {'; '.join(differences)}. "
            f"Resume with the labels and configuration it was saved with."
        )
        raise ConfigError(msg)
    epoch, position = state["epoch"], state["position"]
    for name, value in (("epoch", epoch), ("position", position)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            msg = f"state: {name} must be an integer >= 0, but got {name}={value!r}"
            raise ConfigError(msg)
    return epoch, position


def _config_differences(saved: Any, here: Any, path: str = "") -> list[str]:
    if isinstance(saved, dict) and isinstance(here, dict):
        found = []
        for key in sorted(set(saved) | set(here), key=str):
            found += _config_differences(saved.get(key), here.get(key), f"{path}{key}.")
        return found
    if saved != here:
        return [f"{path.rstrip('.')} differs (checkpoint: {saved!r}, here: {here!r})"]
    return []
