"""Turning user labels into a compact 1-D integer tensor, and indexing samples by class.

Examples:
    >>> from samplekit.labels import as_label_tensor, ClassIndex
    >>> labels = as_label_tensor([3, 0, 3, 3])
    >>> labels.dtype
    torch.uint8
    >>> index = ClassIndex(labels)
    >>> index.classes.tolist(), index.counts.tolist(), index.indices_of(3).tolist()
    ([0, 3], [1, 3], [0, 2, 3])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import torch

from samplekit.errors import LabelsError
from samplekit.rng import index_dtype

__all__ = ["ClassIndex", "as_label_tensor", "where"]

_WIDEN = {torch.uint16: torch.int32, torch.uint32: torch.int64, torch.uint64: torch.int64}
_COMPACT = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
# Above this many distinct label values between min and max, counting uses a sort, not bincount.
_BINCOUNT_SPAN = 1 << 22
# Up to this many classes, per-class indices come from one mask per class, not a full sort.
_MASK_CLASSES = 32


def as_label_tensor(labels: Any) -> torch.Tensor:
    """Validate ``labels`` and return them as a 1-D integer tensor in the smallest dtype that fits.

    Args:
        labels: a 1-D sequence of integer class labels (list, tuple, numpy array, torch tensor of
            any integer or bool dtype), or a dataset exposing such a sequence as ``.targets`` or
            ``.labels`` (torchvision style). A dataset is never iterated.

    Returns:
        A 1-D tensor of an integer dtype (``uint8`` when every label is in ``0..255``).

    Raises:
        LabelsError: if the labels are missing, empty, not 1-D or not integers.
    """
    source = labels
    if not isinstance(labels, (torch.Tensor, Sequence)) and not hasattr(labels, "__array__"):
        for attr in ("targets", "labels"):
            if hasattr(labels, attr):
                source = getattr(labels, attr)
                break
        else:
            msg = (
                f"labels: expected a 1-D integer sequence or a dataset with .targets or .labels, "
                f"but got {type(labels).__name__}; pass the labels themselves, e.g. "
                f"EpochBatchSampler(dataset.targets, ...)"
            )
            raise LabelsError(msg)
    try:
        with warnings.catch_warnings():
            # Read-only arrays (memory maps, Arrow columns) are fine: the labels are never written.
            warnings.filterwarnings("ignore", "The given NumPy array is not writable")
            tensor = torch.as_tensor(source)
    except (TypeError, ValueError, RuntimeError) as exc:
        msg = (
            f"labels: could not be read as a 1-D integer array (got {type(source).__name__}: {exc})"
        )
        raise LabelsError(msg) from exc
    if tensor.ndim != 1:
        msg = (
            f"labels: expected a 1-D sequence, but got shape {tuple(tensor.shape)}; "
            f"pass one integer class label per sample"
        )
        raise LabelsError(msg)
    if tensor.numel() == 0:
        msg = "labels: expected at least one sample, but got an empty sequence"
        raise LabelsError(msg)
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.uint8)
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex:
        msg = (
            f"labels: expected integer class labels, but got dtype {tensor.dtype}; "
            f"convert them first, e.g. labels.long() if every value is a whole number"
        )
        raise LabelsError(msg)
    if tensor.dtype == torch.uint64 and bool((tensor.view(torch.int64) < 0).any()):
        msg = (
            "labels: uint64 labels of 2**63 or more do not fit int64; map them to smaller "
            "class ids first (e.g. numpy.unique(labels, return_inverse=True))"
        )
        raise LabelsError(msg)
    tensor = tensor.to(_WIDEN.get(tensor.dtype, tensor.dtype))
    return _compact(tensor.detach().cpu())


def _compact(labels: torch.Tensor) -> torch.Tensor:
    low, high = int(labels.min()), int(labels.max())
    for dtype in _COMPACT:
        info = torch.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return labels if labels.dtype == dtype else labels.to(dtype)
    return labels  # pragma: no cover - int64 always fits


def where(labels: torch.Tensor, value: int, *, equal: bool = True) -> torch.Tensor:
    """Indices of the samples whose label is (or, with ``equal=False``, is not) ``value``.

    Returns them ascending in `samplekit.rng.index_dtype` (int32 below 2**31 samples),
    built a block at a time so that no int64 index array of the whole dataset is ever made
    (``torch.nonzero`` returns int64: 8 GB for 10**9 samples). A ``value`` outside the labels'
    dtype matches nothing.

    Examples:
        >>> import torch
        >>> where(torch.tensor([0, 1, 0, 2], dtype=torch.uint8), 0)
        tensor([0, 2], dtype=torch.int32)
        >>> where(torch.tensor([0, 1, 0, 2], dtype=torch.uint8), 0, equal=False)
        tensor([1, 3], dtype=torch.int32)
    """
    dtype = index_dtype(labels.numel())
    info = torch.iinfo(labels.dtype)
    if not info.min <= value <= info.max:  # comparing would wrap the value into range
        return (
            torch.arange(labels.numel(), dtype=dtype) if not equal else torch.empty(0, dtype=dtype)
        )
    parts = []
    for start in range(0, labels.numel(), _BLOCK):
        block = labels[start : start + _BLOCK]
        hits = torch.nonzero(block == value if equal else block != value).flatten()
        parts.append(hits.to(dtype).add_(start))
    return torch.cat(parts)


# Labels compared per step in `where`: bounds its int64 temporaries to 8 bytes x this.
_BLOCK = 1 << 24


class ClassIndex:
    """Which samples belong to which class, computed once and shared by strategies.

    Attributes:
        labels: the 1-D integer label tensor this index describes.
        classes: the distinct label values, ascending (int64).
        counts: how many samples each class has, aligned with ``classes`` (int64).
    """

    def __init__(self, labels: torch.Tensor) -> None:
        self.labels = labels
        self.classes, self.counts = _classes_and_counts(labels)

    def __len__(self) -> int:
        return int(self.classes.numel())

    def position(self, value: int) -> int | None:
        """The position of class ``value`` in `classes`, or None if absent."""
        pos = int(torch.searchsorted(self.classes, torch.tensor(value)))
        if pos < len(self) and int(self.classes[pos]) == value:
            return pos
        return None

    @cached_property
    def grouped(self) -> torch.Tensor:
        """All sample indices grouped by class (in `classes` order), ascending in a class."""
        dtype = index_dtype(self.labels.numel())
        if len(self) <= _MASK_CLASSES:
            return torch.cat([where(self.labels, c) for c in self.classes.tolist()])
        return torch.argsort(self.labels, stable=True).to(dtype)

    @cached_property
    def offsets(self) -> torch.Tensor:
        """Start of each class in `grouped`, with the total appended (length classes+1)."""
        return torch.cat((torch.zeros(1, dtype=torch.int64), torch.cumsum(self.counts, 0)))

    def indices_of(self, value: int) -> torch.Tensor:
        """Indices of the samples labelled ``value`` (empty if the class is absent)."""
        pos = self.position(value)
        if pos is None:
            return self.grouped[:0]
        start, stop = self.offsets[pos : pos + 2].tolist()
        return self.grouped[start:stop]

    def split(self) -> list[torch.Tensor]:
        """The per-class index tensors, in `classes` order (views into `grouped`)."""
        return list(torch.split(self.grouped, self.counts.tolist()))


def _classes_and_counts(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    low, high = int(labels.min()), int(labels.max())
    if high - low < _BINCOUNT_SPAN:
        counts = torch.bincount((labels.to(torch.int64) - low) if low else labels.to(torch.int64))
        present = torch.nonzero(counts).flatten()
        return present + low, counts[present]
    classes, counts = torch.unique(labels, sorted=True, return_counts=True)
    return classes.to(torch.int64), counts
