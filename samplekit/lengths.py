"""Per-sample lengths (tokens, frames, bytes): validated like labels, for length-aware batching.

Examples:
    >>> from samplekit.lengths import as_length_tensor
    >>> as_length_tensor([3, 0, 12]).tolist()
    [3, 0, 12]
    >>> try:
    ...     as_length_tensor([3, -1])
    ... except Exception as exc:
    ...     print(exc)
    lengths: expected non-negative integers, but sample 1 has length -1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from samplekit.errors import ConfigError, LabelsError
from samplekit.labels import to_label_tensor

__all__ = ["as_length_tensor"]

#: Dataset attributes read for lengths, in this order (fairseq datasets call them ``sizes``).
ATTRIBUTES = ("lengths", "sizes")


def as_length_tensor(lengths: Any, *, count: int | None = None) -> torch.Tensor:
    """Validate per-sample ``lengths`` and return them as a compact 1-D integer tensor.

    Args:
        lengths: a 1-D sequence of non-negative integers (list, numpy array, integer tensor),
            or a dataset exposing it as ``.lengths`` or ``.sizes``; never iterated.
        count: the number of samples the labels hold, which the lengths must match.

    Raises:
        ConfigError: for lengths that are not a 1-D sequence of non-negative integers, or whose
            count differs from the labels'.
    """
    source = lengths
    if not isinstance(lengths, (torch.Tensor, Sequence)) and not hasattr(lengths, "__array__"):
        for attr in ATTRIBUTES:
            if hasattr(lengths, attr):
                source = getattr(lengths, attr)
                break
        else:
            msg = (
                f"lengths: expected a 1-D integer sequence or a dataset with .lengths or .sizes, "
                f"but got {type(lengths).__name__}; pass one length per sample, e.g. "
                f"lengths=[len(tokens) for tokens in dataset['input_ids']]"
            )
            raise ConfigError(msg)
    if _booleans(source):
        msg = (
            "lengths: expected integer lengths, but got booleans; a bool is not a length: pass "
            "the number of tokens, frames or bytes of each sample"
        )
        raise ConfigError(msg)
    try:
        tensor = to_label_tensor(source, "lengths")
    except LabelsError as exc:  # the same rules as labels, told as lengths
        text = str(exc).replace("class labels", "lengths").replace("class label", "length")
        raise ConfigError(text.replace("labels", "lengths")) from None
    if tensor.dtype != torch.uint8 and bool((tensor < 0).any()):
        first = int(torch.nonzero(tensor < 0)[0])
        msg = (
            f"lengths: expected non-negative integers, but sample {first} has length "
            f"{int(tensor[first])}"
        )
        raise ConfigError(msg)
    if count is not None and tensor.numel() != count:
        msg = (
            f"lengths: expected one length per sample, {count} as the labels hold, but got "
            f"{tensor.numel()}; pass lengths of the same samples, in the same order"
        )
        raise ConfigError(msg)
    return tensor


def _booleans(source: Any) -> bool:
    """Whether ``source`` holds booleans (a bool tensor or array, or bools in a list)."""
    dtype = getattr(source, "dtype", None)
    if dtype is not None:
        return dtype == torch.bool or str(dtype) == "bool"
    if isinstance(source, (list, tuple)):
        return any(isinstance(value, (bool, np.bool_)) for value in source)
    return False
