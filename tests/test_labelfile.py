"""Reading label files: every file is either read exactly or refused with one clear LabelsError."""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from samplekit.errors import LabelsError
from samplekit.labelfile import SUFFIXES, load_labels


def _write(data: bytes, suffix: str) -> Path:
    directory = Path(tempfile.mkdtemp())
    path = directory / f"labels{suffix}"
    path.write_bytes(data)
    return path


def _npy_bytes(array: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # non-latin-1 field names need the newer format 3.0
        warnings.simplefilter("ignore")
        np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _assert_clear(exc: LabelsError, path: Path) -> None:
    message = str(exc)
    assert message.startswith(f"labels file {str(path)!r}"), message
    assert "allow_pickle" not in message  # never advise loading an untrusted file unsafely
    assert "\n" not in message
    assert len(message) < 600


@given(
    data=st.binary(max_size=300)
    | st.sampled_from([b"\x93NUMPY", b"PK\x03\x04", b"\x80\x04", b"\xef\xbb\xbf1\n"]).flatmap(
        lambda head: st.binary(max_size=100).map(lambda tail: head + tail)
    ),
    suffix=st.sampled_from(SUFFIXES),
)
def test_arbitrary_bytes_are_read_or_refused_with_a_labels_error(data: bytes, suffix: str) -> None:
    path = _write(data, suffix)
    try:
        labels = load_labels(path)
    except LabelsError as exc:
        _assert_clear(exc, path)
        return
    assert labels.ndim == 1
    assert labels.numel() > 0
    assert not labels.dtype.is_floating_point


_DTYPES: st.SearchStrategy[np.dtype[Any]] = (
    hnp.scalar_dtypes()
    | hnp.byte_string_dtypes()
    | hnp.unicode_string_dtypes()
    | hnp.datetime64_dtypes()
    | hnp.array_dtypes()
    | st.just(np.dtype(object))
)


@st.composite
def _saved_arrays(draw: st.DrawFn) -> np.ndarray[Any, Any]:
    dtype = draw(_DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5))
    # An object array holds what numpy can save: picklable values (hypothesis' default for
    # object draws any object, classmethods included, which np.save itself cannot write).
    elements = (
        st.integers(-(2**70), 2**70) | st.text(max_size=3) | st.none() | st.floats()
        if dtype == np.dtype(object)
        else None
    )
    return draw(hnp.arrays(dtype, shape, elements=elements))


@given(_saved_arrays())
def test_any_saved_numpy_array_is_read_exactly_or_refused(array: np.ndarray[Any, Any]) -> None:
    path = _write(_npy_bytes(array), ".npy")
    usable = array.ndim == 1 and array.size > 0 and array.dtype.kind in "biu"
    if usable and array.dtype.kind == "u" and int(array.max()) >= 2**63:
        usable = False
    if not usable:
        with pytest.raises(LabelsError) as info:
            load_labels(path)
        _assert_clear(info.value, path)
        return
    assert load_labels(path).tolist() == [int(v) for v in array.tolist()]


@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
def test_text_labels_round_trip(values: list[int]) -> None:
    path = _write(("label\n" + "\n".join(map(str, values)) + "\n").encode(), ".csv")
    assert load_labels(path).tolist() == values


def test_a_number_of_5000_digits_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "labels.txt"
    path.write_text("0\n-" + "7" * 5000 + "\n")  # int() of it raises ValueError past 4,300 digits
    with pytest.raises(LabelsError, match=r"line 2: label -7{19}\.\.\. \(5000 digits\) does not"):
        load_labels(path)


def test_an_npz_archive_named_npy_says_what_it_is(tmp_path: Path) -> None:
    np.savez(tmp_path / "labels.npz", labels=np.arange(3))
    path = (tmp_path / "labels.npz").rename(tmp_path / "labels.npy")
    with pytest.raises(LabelsError, match=r"is a \.npz archive .* numpy\.save\(path, labels\)"):
        load_labels(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not numpy", "is not a .npy file"),
        (_npy_bytes(np.array([0, "a"], dtype=object)), "holds Python objects"),
        (b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.", "is not a .npy file"),  # a pickle
    ],
)
def test_a_corrupt_or_pickled_npy_never_suggests_allow_pickle(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "labels.npy"
    path.write_bytes(content)
    with pytest.raises(LabelsError) as info:
        load_labels(path)
    assert fragment in str(info.value)
    _assert_clear(info.value, path)


def test_a_big_endian_npy_is_read(tmp_path: Path) -> None:
    path = tmp_path / "labels.npy"
    np.save(path, np.array([2, 0, 70_000], dtype=">i4"))
    assert load_labels(path).tolist() == [2, 0, 70_000]


def test_a_pt_file_of_a_sparse_tensor_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "labels.pt"
    torch.save(torch.tensor([0, 1, 1]).to_sparse(), path)
    with pytest.raises(LabelsError, match=r"labels\.pt'.*sparse tensor.*labels\.to_dense\(\)"):
        load_labels(path)
