"""Fingerprints of a sampler's inputs, and the checkpoint state ``state_dict()`` returns.

Examples:
    >>> import torch
    >>> from samplekit.state import labels_digest
    >>> labels_digest(torch.tensor([0, 1, 1])) == labels_digest(torch.tensor([0, 1, 1]))
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import torch

from samplekit.errors import ConfigError
from samplekit.inputs import quote

__all__ = ["MAX_EPOCH", "STATE_VERSION", "check_state", "digest", "labels_digest"]

STATE_VERSION = 3
_MAX_DIFFERENCES = 10  # differences a refused checkpoint lists at most
_MAX_DEPTH = 8  # nesting levels of a configuration compared key by key


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


MAX_EPOCH = 2**63 - 1
"""The largest epoch number: epochs are mixed into 64-bit seeds and kept in JSON checkpoints."""

_KEYS = ("version", "cursor", "world_size", "labels", "config")


def is_count(value: Any) -> bool:
    """Whether ``value`` is an ``int`` (not a bool) in ``[0, MAX_EPOCH]``."""
    return type(value) is int and 0 <= value <= MAX_EPOCH


def _check_count(key: str, value: Any, *, low: int) -> None:
    if not is_count(value) or value < low:
        msg = (
            f"state: {key} must be an int from {low} to 2**63 - 1, but got "
            f"{key}={quote(value)} ({type(value).__name__}); pass a dict from "
            f"EpochBatchSampler.state_dict()"
        )
        raise ConfigError(msg)


def _upgraded(state: Mapping[str, Any]) -> dict[str, Any]:
    """An older checkpoint in the current shape.

    Version 1 kept a rank-local ``position``; versions 1 and 2 had no batcher (the ``fixed``
    one) and no lengths.
    """
    old = dict(state)
    version = old.get("version")
    if type(version) is not int or version not in (1, 2):
        return old
    if version == 1 and "cursor" not in old:
        for key in ("epoch", "position", "world_size"):
            _check_count(key, old.get(key), low=1 if key == "world_size" else 0)
        epoch, position = old.pop("epoch"), old.pop("position")
        old["cursor"] = {"epoch": epoch, "global_batches": position * old["world_size"]}
    elif version == 1:
        return old
    config = old.get("config")
    if isinstance(config, Mapping) and "batcher" not in config:
        old["config"] = {**config, "batcher": {"name": "fixed"}}
    old["version"] = STATE_VERSION
    return old


def check_state(
    state: Any,
    expected: Mapping[str, Any],
    global_batches: Callable[[int], int],
    *,
    drop_last: bool,
) -> tuple[int, int]:
    """Validate a ``state_dict()`` against the sampler loading it; return (epoch, handed).

    Checkpoints of versions 1 and 2 are read as well. The checkpoint may come from any world
    size: its cursor counts global batches, which every world size shares.

    Args:
        state: the checkpoint.
        expected: this sampler's ``labels``, ``config`` and (if any) ``lengths`` fingerprints.
        global_batches: the number of global batches of an epoch.
        drop_last: the sampler's ``drop_last`` (how far the checkpoint's ranks may have gone).

    Returns:
        The epoch and how many of its global batches were handed out over all ranks.

    Raises:
        ConfigError: naming what differs (labels, lengths, configuration) or what is
            malformed.
    """
    if not isinstance(state, Mapping):
        msg = (
            f"state: expected the dict from EpochBatchSampler.state_dict(), got "
            f"{type(state).__name__} {quote(state)}"
        )
        raise ConfigError(msg)
    state = _upgraded(state)
    if type(state.get("version")) is not int or state["version"] != STATE_VERSION:
        msg = (
            f"state: version {quote(state.get('version'))} is not supported (expected "
            f"{STATE_VERSION}, or 1 or 2 from earlier samplekit); pass a dict from "
            f"EpochBatchSampler.state_dict()"
        )
        raise ConfigError(msg)
    missing = [key for key in _KEYS if key not in state]
    if missing:
        msg = f"state: missing keys {missing}; pass a dict from EpochBatchSampler.state_dict()"
        raise ConfigError(msg)
    cursor = state["cursor"]
    if not isinstance(cursor, Mapping) or set(cursor) != {"epoch", "global_batches"}:
        msg = (
            f"state: cursor must be a mapping {{'epoch': int, 'global_batches': int}}, but got "
            f"cursor={quote(cursor)}; pass a dict from EpochBatchSampler.state_dict()"
        )
        raise ConfigError(msg)
    for key, value in (*cursor.items(), ("world_size", state["world_size"])):
        _check_count(key, value, low=1 if key == "world_size" else 0)
    labels = state["labels"]
    if (
        not isinstance(labels, Mapping)
        or set(labels) != {"count", "digest"}
        or not all(is_count(labels[key]) for key in ("count", "digest"))
    ):
        msg = (
            f"state: labels must be a mapping {{'count': int, 'digest': int}}, but got "
            f"labels={quote(labels)}; pass a dict from EpochBatchSampler.state_dict()"
        )
        raise ConfigError(msg)
    if not isinstance(state["config"], Mapping):
        msg = (
            f"state: config must be a mapping, but got config={quote(state['config'])}; pass "
            f"a dict from EpochBatchSampler.state_dict()"
        )
        raise ConfigError(msg)
    differences = []
    lengths = state.get("lengths")
    if lengths != expected.get("lengths"):
        saved = "none" if lengths is None else f"digest {quote(lengths)}"
        here = "none" if "lengths" not in expected else f"digest {expected['lengths']}"
        differences.append(f"lengths differ (checkpoint: {saved}; here: {here})")
    if dict(labels) != expected["labels"]:
        differences.append(
            f"labels differ (checkpoint: {labels['count']} labels, digest "
            f"{labels['digest']:#x}; here: {expected['labels']['count']} labels, digest "
            f"{expected['labels']['digest']:#x})"
        )
    try:
        if state["config"] != expected["config"]:
            differences.extend(_config_differences(state["config"], expected["config"]))
    except RecursionError:
        differences.append("config differs (the checkpoint's is nested too deeply to compare)")
    if differences:
        msg = (
            f"state: this checkpoint belongs to another sampler: {'; '.join(differences)}. "
            f"Resume with the labels, lengths and configuration it was saved with (the world "
            f"size and the number of workers may differ)."
        )
        raise ConfigError(msg)
    world_size, epoch, handed = state["world_size"], cursor["epoch"], cursor["global_batches"]
    batches = global_batches(epoch)
    most = batches if drop_last else batches + world_size - 1  # the last step's padding
    if handed > most:
        msg = (
            f"state: global_batches={handed} is more than {world_size} ranks can hand out of "
            f"epoch {epoch}, which has {batches} global batches; pass a dict from "
            f"EpochBatchSampler.state_dict()"
        )
        raise ConfigError(msg)
    return epoch, handed


def _config_differences(saved: Any, here: Any, path: str = "") -> list[str]:
    if isinstance(saved, dict) and isinstance(here, dict) and path.count(".") < _MAX_DEPTH:
        found = []
        for key in sorted(set(saved) | set(here), key=str):
            found += _config_differences(saved.get(key), here.get(key), f"{path}{key}.")
            if len(found) > _MAX_DIFFERENCES:
                return [*found[:_MAX_DIFFERENCES], "and more"]
        return found
    if saved != here:
        return [f"{path.rstrip('.')} differs (checkpoint: {quote(saved)}, here: {quote(here)})"]
    return []
