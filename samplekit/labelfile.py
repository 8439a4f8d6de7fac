r"""Reading class labels, or per-sample lengths, from a file, for ``samplekit preview``.

Supported formats, chosen by extension (case-insensitive):

- ``.npy``: a 1-D integer (or bool) numpy array saved with ``numpy.save``. Its header is
  checked before the data is read: a ``.npz`` archive, an object array or any other file
  is refused with a message saying how to save the labels.
- ``.pt``: a 1-D integer (or bool) tensor saved with ``torch.save``, read with
  ``torch.load(weights_only=True)``.
- ``.csv`` / ``.txt``: one integer per line (ASCII digits, an optional sign, at most 64
  bits); blank lines are ignored, and a ``.csv`` may start with one non-numeric header line.
  Read line by line: memory holds 8 bytes per label, not the text.

Whatever the format, the labels go through `samplekit.labels.to_label_tensor`: strings,
floats, dates, sparse, quantized, nested or ``meta`` tensors are refused with a
`samplekit.errors.LabelsError` naming the file and the fix. `load_lengths` reads per-sample
lengths from the same formats and checks them with `samplekit.lengths.as_length_tensor`
(non-negative integers, as many as the labels), raising `samplekit.errors.ConfigError`.

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

import array
import dataclasses
import pathlib
import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from samplekit.errors import ConfigError, LabelsError
from samplekit.inputs import clip
from samplekit.labels import to_label_tensor

if TYPE_CHECKING:
    import os

    import torch

__all__ = ["SUFFIXES", "load_labels", "load_lengths"]

SUFFIXES = (".npy", ".pt", ".csv", ".txt")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64_DIGITS = 19  # 2**63 has 19 digits
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclasses.dataclass(frozen=True)
class _Kind:
    """What a file holds, as its messages name it."""

    many: str  # "labels"
    one: str  # "label"
    too_big: str  # what to do about a value beyond 64 bits


_LABELS = _Kind("labels", "label", "map labels to smaller class ids")
_LENGTHS = _Kind("lengths", "length", "give each sample's count of tokens, frames or bytes")


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
    return to_label_tensor(_read(file, _LABELS), f"labels file {str(file)!r}")


def load_lengths(path: str | os.PathLike[str], *, count: int | None = None) -> torch.Tensor:
    r"""Read one non-negative integer length per sample (tokens, frames, bytes) from ``path``.

    Args:
        path: a ``.npy``, ``.pt``, ``.csv`` or ``.txt`` file, as for `load_labels`.
        count: the number of samples the labels hold, which the lengths must match.

    Returns:
        The lengths as a 1-D integer tensor (as `samplekit.lengths.as_length_tensor` returns).

    Raises:
        ConfigError: if the file is missing or unreadable, its extension is not supported, or
            it does not hold ``count`` (if given) non-negative integers, or holds booleans.
            The message names the file.

    Examples:
        >>> import pathlib, tempfile
        >>> from samplekit.labelfile import load_lengths
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "lengths.txt"
        ...     _ = path.write_text("12\n7\n-3\n")
        ...     load_lengths(path)
        Traceback (most recent call last):
        ...
        samplekit.errors.ConfigError: lengths file '...lengths.txt': expected non-negative ...
    """
    from samplekit.lengths import as_length_tensor

    file = pathlib.Path(path)
    what = f"lengths file {str(file)!r}"
    try:
        data = _read(file, _LENGTHS)
    except LabelsError as exc:
        raise ConfigError(str(exc)) from None
    if _holds_booleans(data):
        msg = (
            f"{what}: holds booleans, not lengths; save one non-negative integer per sample, "
            f"e.g. numpy.save(path, lengths.astype(numpy.int64))"
        )
        raise ConfigError(msg)
    try:
        return as_length_tensor(data, count=count)
    except ConfigError as exc:  # "lengths: ..." -> "lengths file '...': ..."
        text = str(exc)
        raise ConfigError(what + text.removeprefix("lengths")) from None


def _holds_booleans(data: Any) -> bool:
    import torch

    if isinstance(data, torch.Tensor):
        return data.dtype == torch.bool
    return isinstance(data, np.ndarray) and data.dtype == np.bool_


def _read(file: pathlib.Path, kind: _Kind) -> Any:
    """The raw array ``file`` holds, by its extension; `LabelsError` naming the file if not."""
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        msg = (
            f"{kind.many} file {str(file)!r}: unsupported extension "
            f"{file.suffix or '(none)'!r}; expected one of {', '.join(SUFFIXES)}"
        )
        raise LabelsError(msg)
    if not file.exists():
        msg = f"{kind.many} file {str(file)!r} does not exist"
        raise LabelsError(msg)
    if not file.is_file():
        msg = f"{kind.many} file {str(file)!r} is not a regular file"
        raise LabelsError(msg)
    if suffix == ".npy":
        return _read_npy(file, kind)
    if suffix == ".pt":
        return _read_pt(file, kind)
    return _read_text(file, kind, header=suffix == ".csv")


def _read_npy(file: pathlib.Path, kind: _Kind) -> Any:
    what = f"{kind.many} file {str(file)!r}"
    try:
        with file.open("rb") as stream:
            start = stream.read(len(_NPY_MAGIC))
            stream.seek(0)
            if start.startswith(_ZIP_MAGIC):
                msg = (
                    f"{what}: is a .npz archive (or another zip file), not a .npy array; save "
                    f"the {kind.many} array itself with numpy.save(path, {kind.many})"
                )
                raise LabelsError(msg)
            if start != _NPY_MAGIC:
                msg = (
                    f"{what}: is not a .npy file (it does not start with numpy's .npy header); "
                    f"save the {kind.many} with numpy.save(path, {kind.many})"
                )
                raise LabelsError(msg)
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except LabelsError:
        raise
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError... for bad headers
        msg = f"{what}: could not be read as a .npy array ({_short(exc)})"
        raise LabelsError(msg) from exc
    if dtype.hasobject:
        msg = (
            f"{what}: holds Python objects (dtype {clip(str(dtype), 40)}), not integers; samplekit "
            f"reads plain numeric arrays only: save integer {kind.many}, e.g. "
            f"numpy.save(path, {kind.many}.astype(numpy.int64))"
        )
        raise LabelsError(msg)
    _check_shape(file, tuple(shape), kind)
    try:
        return np.load(file, allow_pickle=False)
    except Exception as exc:  # a truncated or unreadable file
        msg = f"{what}: could not be read as a .npy array ({_short(exc)})"
        raise LabelsError(msg) from exc


def _read_pt(file: pathlib.Path, kind: _Kind) -> Any:
    import torch

    try:
        with warnings.catch_warnings():
            # torch warns about what some files hold (quantized, sparse, nested tensors are
            # deprecated or in beta); what matters is whether they are labels, checked below.
            warnings.simplefilter("ignore")
            data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zipfile and torch errors all mean "not a usable file"
        msg = (
            f"{kind.many} file {str(file)!r}: could not be read with "
            f"torch.load(weights_only=True) ({_short(exc)}); save the {kind.many} with "
            f"torch.save({kind.many}_tensor, path)"
        )
        raise LabelsError(msg) from exc
    if not isinstance(data, torch.Tensor):
        msg = (
            f"{kind.many} file {str(file)!r}: expected a saved 1-D integer tensor, but it holds "
            f"a {type(data).__name__}; save it with torch.save({kind.many}_tensor, path)"
        )
        raise LabelsError(msg)
    if not data.is_nested:  # a nested tensor has no shape; to_label_tensor names it
        _check_shape(file, tuple(data.shape), kind)
    return data


def _read_text(file: pathlib.Path, kind: _Kind, *, header: bool) -> Any:
    values = array.array("q")  # 8 bytes a value, where a list of ints takes 4 to 5 times that
    first = True
    try:
        with file.open(encoding="utf-8-sig") as stream:
            for number, raw in enumerate(stream, start=1):
                line = raw.strip()
                if not line:
                    continue
                if _INTEGER.fullmatch(line):
                    values.append(_integer(file, number, line, kind))
                elif header and first and not _looks_numeric(line):
                    pass  # a column name
                else:
                    what = (
                        "one column" if "," in line or "\t" in line or ";" in line else "an integer"
                    )
                    msg = (
                        f"{kind.many} file {str(file)!r}, line {number}: expected {what} (one "
                        f"integer {kind.one} per line), but got {clip(line, 40)!r}"
                    )
                    raise LabelsError(msg)
                first = False
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{kind.many} file {str(file)!r}: could not be read as text ({_short(exc)})"
        raise LabelsError(msg) from exc
    data = np.frombuffer(values, dtype=np.int64)
    _check_shape(file, data.shape, kind)
    return data


def _integer(file: pathlib.Path, number: int, line: str, kind: _Kind) -> int:
    """The integer on a line already matched by `_INTEGER`, if it fits 64 bits."""
    digits = line.lstrip("+-").lstrip("0")
    # Checked before int(): Python refuses to convert more than 4,300 digits.
    value = int(line) if len(digits) <= _INT64_DIGITS else None
    if value is None or not -(2**63) <= value < 2**63:
        shown = clip(line, 40) if len(line) <= 40 else f"{line[:20]}... ({len(digits)} digits)"
        msg = (
            f"{kind.many} file {str(file)!r}, line {number}: {kind.one} {shown} does not fit a "
            f"64-bit integer; {kind.too_big}"
        )
        raise LabelsError(msg)
    return value


def _check_shape(file: pathlib.Path, shape: tuple[int, ...], kind: _Kind) -> None:
    if len(shape) != 1:
        msg = (
            f"{kind.many} file {str(file)!r}: expected a 1-D array of {kind.many}, but got shape "
            f"{clip(str(shape), 40)}; save one integer {kind.one} per sample"
        )
        raise LabelsError(msg)
    if shape[0] == 0:
        msg = (
            f"{kind.many} file {str(file)!r}: holds no {kind.many}; expected one integer per sample"
        )
        raise LabelsError(msg)


def _looks_numeric(line: str) -> bool:
    try:
        float(line)
    except ValueError:
        return False
    return True


def _short(exc: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "pickle" in first:  # advice to unpickle an untrusted file is never passed on
        first = "the file holds pickled Python objects, which samplekit does not load"
    return f"{type(exc).__name__}: {clip(first, 160)}" if first else type(exc).__name__
