r"""Reading class labels from a file, for ``samplekit preview``.

Supported formats, chosen by extension (case-insensitive):

- ``.npy``: a 1-D integer (or bool) numpy array, read with ``numpy.load(allow_pickle=False)``.
- ``.pt``: a 1-D integer (or bool) tensor saved with ``torch.save``, read with
  ``torch.load(weights_only=True)``.
- ``.csv`` / ``.txt``: one integer per line; blank lines are ignored, and a ``.csv`` may start
  with one non-numeric header line.

Examples:
    >>> import pathlib, tempfile
    >>> from samplekit.labelfile import load_labels
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "labels.csv"
    ...     _ = path.write_text("label\n0\n1\n\n1\n")
    ...     load_labels(path).tolist()
    [0, 1, 1]
"""

from __future__ import annotations

import pathlib
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from samplekit.errors import LabelsError
from samplekit.labels import as_label_tensor

if TYPE_CHECKING:
    import os

    import torch

__all__ = ["SUFFIXES", "load_labels"]

SUFFIXES = (".npy", ".pt", ".csv", ".txt")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def load_labels(path: str | os.PathLike[str]) -> torch.Tensor:
    """Read one integer class label per sample from ``path``.

    Args:
        path: a ``.npy``, ``.pt``, ``.csv`` or ``.txt`` file (see the module docstring).

    Returns:
        The labels as a 1-D integer tensor (as `samplekit.labels.as_label_tensor` returns).

    Raises:
        LabelsError: if the file is missing or unreadable, its extension is not supported, or
            it does not hold a non-empty 1-D sequence of integers. The message names the file.
    """
    file = pathlib.Path(path)
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        msg = (
            f"labels file {str(file)!r}: unsupported extension {file.suffix or '(none)'!r}; "
            f"expected one of {', '.join(SUFFIXES)}"
        )
        raise LabelsError(msg)
    if not file.exists():
        msg = f"labels file {str(file)!r} does not exist"
        raise LabelsError(msg)
    if not file.is_file():
        msg = f"labels file {str(file)!r} is not a regular file"
        raise LabelsError(msg)
    if suffix == ".npy":
        data = _read_npy(file)
    elif suffix == ".pt":
        data = _read_pt(file)
    else:
        data = _read_text(file, header=suffix == ".csv")
    return _check(file, data)


def _read_npy(file: pathlib.Path) -> Any:
    try:
        return np.load(file, allow_pickle=False)
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError... for bad files
        msg = f"labels file {str(file)!r}: could not be read as a .npy array ({_short(exc)})"
        raise LabelsError(msg) from exc


def _read_pt(file: pathlib.Path) -> Any:
    import torch

    try:
        data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zipfile and torch errors all mean "not a usable file"
        msg = (
            f"labels file {str(file)!r}: could not be read with "
            f"torch.load(weights_only=True) ({_short(exc)})"
        )
        raise LabelsError(msg) from exc
    if not isinstance(data, torch.Tensor):
        msg = (
            f"labels file {str(file)!r}: expected a saved 1-D integer tensor, but it holds a "
            f"{type(data).__name__}; save it with torch.save(labels_tensor, path)"
        )
        raise LabelsError(msg)
    return data


def _read_text(file: pathlib.Path, *, header: bool) -> Any:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"labels file {str(file)!r}: could not be read as text ({_short(exc)})"
        raise LabelsError(msg) from exc
    values: list[int] = []
    first = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if _INTEGER.fullmatch(line):
            value = int(line)
            if not -(2**63) <= value < 2**63:
                msg = (
                    f"labels file {str(file)!r}, line {number}: label {_clip(line)} does not fit "
                    f"a 64-bit integer; map labels to smaller class ids"
                )
                raise LabelsError(msg)
            values.append(value)
        elif header and first and not _looks_numeric(line):
            pass  # a column name
        else:
            what = "one column" if "," in line or "\t" in line or ";" in line else "an integer"
            msg = (
                f"labels file {str(file)!r}, line {number}: expected {what} (one integer label "
                f"per line), but got {_clip(line)!r}"
            )
            raise LabelsError(msg)
        first = False
    return np.array(values, dtype=np.int64)


def _check(file: pathlib.Path, data: Any) -> torch.Tensor:
    shape = tuple(data.shape)
    if len(shape) != 1:
        msg = (
            f"labels file {str(file)!r}: expected a 1-D array of labels, but got shape {shape}; "
            f"save one integer label per sample"
        )
        raise LabelsError(msg)
    if shape[0] == 0:
        msg = f"labels file {str(file)!r}: holds no labels; expected one integer per sample"
        raise LabelsError(msg)
    if isinstance(data, np.ndarray):
        integer = data.dtype.kind in "iub"
    else:  # a tensor
        integer = not (data.dtype.is_floating_point or data.dtype.is_complex)
    if not integer:
        msg = (
            f"labels file {str(file)!r}: expected integer labels, but got dtype {data.dtype}; "
            f"convert them to integers before saving"
        )
        raise LabelsError(msg)
    return as_label_tensor(data)


def _looks_numeric(line: str) -> bool:
    try:
        float(line)
    except ValueError:
        return False
    return True


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(exc: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {_clip(first, 160)}" if first else type(exc).__name__
