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
from typing import Any, NoReturn

import numpy as np
import torch

from samplekit.errors import LabelsError
from samplekit.inputs import clip
from samplekit.nodecache import shared
from samplekit.rng import index_dtype

__all__ = [
    "LISTED_BYTES",
    "ClassIndex",
    "Complement",
    "Packed",
    "as_label_tensor",
    "class_counts",
    "pack",
    "partition",
    "to_label_tensor",
    "where",
]

# torch's unsigned 16/32/64-bit dtypes (torch >= 2.3) widen to the signed type that holds them.
_WIDEN = {
    getattr(torch, name): wide
    for name, wide in (("uint16", torch.int32), ("uint32", torch.int64), ("uint64", torch.int64))
    if hasattr(torch, name)
}
_UINT64 = getattr(torch, "uint64", None)
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
            ``.labels`` (torchvision style). A dataset is never iterated. A numpy array of
            Python integers (dtype ``object``) is accepted; so are non-native byte orders.

    Returns:
        A 1-D tensor of an integer dtype (``uint8`` when every label is in ``0..255``). A
        tensor or array that already has that dtype is used as it is, without a copy.

    Raises:
        LabelsError: if the labels are missing, empty, not 1-D or not integers (strings,
            floats, dates, structured records), or if they are a tensor without plain values
            (sparse, quantized, nested, ``meta``). The message says how to convert them.

    Examples:
        >>> as_label_tensor(np.array([2, 0, 2])).tolist()
        [2, 0, 2]
        >>> try:
        ...     as_label_tensor(["cat", "dog"])
        ... except LabelsError as exc:
        ...     print(str(exc).split("; ")[1])
        map them to integers first, e.g. classes, labels = numpy.unique(labels, return_inverse=True)
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
    return to_label_tensor(source, "labels")


def to_label_tensor(source: Any, what: str) -> torch.Tensor:
    """`as_label_tensor` without the dataset look-up; messages start with ``what``.

    `samplekit.labelfile` passes the file's name as ``what``, so every message names it.
    """
    if isinstance(source, (str, bytes, bytearray)):
        msg = (
            f"{what}: expected a sequence of integer class labels, but got a "
            f"{type(source).__name__} ({clip(repr(source[:50]))}); pass one integer per "
            f"sample, e.g. [0, 1, 1]"
        )
        raise LabelsError(msg)
    if isinstance(source, torch.Tensor):
        tensor = _plain_tensor(source, what)
    else:
        array = _as_array(source, what)
        _check_shape(tuple(array.shape), what)
        array = _integer_array(array, what, source)
        with warnings.catch_warnings():
            # Read-only arrays (memory maps, Arrow columns) are fine: the labels are never written.
            warnings.filterwarnings("ignore", "The given NumPy array is not writable")
            tensor = torch.as_tensor(array)
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.uint8)
    if tensor.dtype == _UINT64 and bool((tensor.view(torch.int64) < 0).any()):
        big = int(tensor.view(torch.int64).min()) + 2**64
        msg = (
            f"{what}: labels of 2**63 or more (here {big}) do not fit int64; map them to "
            f"smaller class ids first (e.g. numpy.unique(labels, return_inverse=True))"
        )
        raise LabelsError(msg)
    tensor = tensor.to(_WIDEN.get(tensor.dtype, tensor.dtype))
    return _compact(tensor.detach().cpu())


def _check_shape(shape: tuple[int, ...], what: str) -> None:
    if len(shape) != 1:
        msg = (
            f"{what}: expected a 1-D sequence, but got shape {clip(str(shape))}; "
            f"pass one integer class label per sample"
        )
        raise LabelsError(msg)
    if shape[0] == 0:
        msg = f"{what}: expected at least one sample, but got an empty sequence"
        raise LabelsError(msg)


def _plain_tensor(tensor: torch.Tensor, what: str) -> torch.Tensor:
    """``tensor`` if it holds plain integer values (checked before any operation touches it)."""
    problem = None
    if tensor.is_meta:
        problem = "a 'meta' tensor, which has a shape but no values; build the labels on 'cpu'"
    elif tensor.is_nested:
        problem = "a nested tensor; pass one flat 1-D tensor, e.g. torch.cat(labels.unbind())"
    elif tensor.layout != torch.strided:
        problem = f"a sparse tensor ({tensor.layout}); pass a dense one, e.g. labels.to_dense()"
    elif tensor.is_quantized:
        problem = f"a quantized tensor ({tensor.dtype}); pass its integers, e.g. labels.int_repr()"
    elif tensor.dtype in _BITS:
        problem = f"raw bits ({tensor.dtype}); view them as integers, e.g. labels.view(torch.uint8)"
    if problem is not None:
        msg = f"{what}: expected a dense tensor of integer class labels, but got {problem}"
        raise LabelsError(msg)
    _check_shape(tuple(tensor.shape), what)
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex:
        msg = (
            f"{what}: expected integer class labels, but got dtype {tensor.dtype}; convert "
            f"them first, e.g. labels.long() if every value is a whole number"
        )
        raise LabelsError(msg)
    return tensor


def _as_array(source: Any, what: str) -> np.ndarray[Any, Any]:
    if isinstance(source, np.ma.MaskedArray):
        if np.ma.is_masked(source):
            masked = int(np.ma.getmaskarray(source).sum())
            msg = (
                f"{what}: {masked} of {source.size} labels are masked (missing); drop or fill "
                f"them first, e.g. labels.compressed() or labels.filled(-1)"
            )
            raise LabelsError(msg)
        return np.ma.getdata(source)
    if isinstance(source, np.ndarray):
        return source
    try:
        return np.asarray(source)
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        msg = (
            f"{what}: could not be read as a 1-D integer array (got {type(source).__name__}: "
            f"{clip(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 160)}); "
            f"pass one integer class label per sample"
        )
        raise LabelsError(msg) from exc


def _integer_array(array: np.ndarray[Any, Any], what: str, source: Any) -> np.ndarray[Any, Any]:
    """``array`` as an integer (or bool) array torch can take, or a `LabelsError`.

    ``source`` is what ``array`` was made from: a message suggests numpy's conversion for an
    array and Python's for a list.
    """
    dtype = array.dtype
    if dtype.kind in "biu":
        if not dtype.isnative:
            array = array.astype(dtype.newbyteorder("="))
        canonical = np.dtype(f"{dtype.kind}{dtype.itemsize}")  # e.g. ulonglong -> uint64
        return array if array.dtype.char == canonical.char else array.view(canonical)
    if dtype.kind == "O":
        return _object_labels(array, what)
    if dtype.kind in "US" and not hasattr(source, "__array__"):
        return _object_labels(np.asarray(source, dtype=object), what)  # names the first string
    if dtype.kind == "f":
        numpy = hasattr(source, "__array__")
        fix = "labels.astype(numpy.int64)" if numpy else "[int(v) for v in labels]"
        problem = f"dtype {dtype}; convert them first, e.g. {fix} if every value is a whole number"
    elif dtype.kind in "US":
        first = array[0].item()
        problem = f"strings (e.g. {clip(repr(first))}); {_MAP_STRINGS}"
    elif dtype.kind in "Mm":
        problem = f"dtype {dtype}; map the values to integer class ids first, {_UNIQUE}"
    elif dtype.kind == "V" and dtype.names:
        fields = ", ".join(repr(name) for name in dtype.names)  # names may hold any character
        problem = (
            f"a structured array with fields ({clip(fields)}); pass the field that holds the "
            f"labels, e.g. labels[{dtype.names[0]!r}]"
        )
    else:  # complex, raw bytes (void)
        problem = f"dtype {dtype}; convert them to integers first"
    msg = f"{what}: expected integer class labels, but got {problem}"
    raise LabelsError(msg)


def _object_labels(array: np.ndarray[Any, Any], what: str) -> np.ndarray[Any, Any]:
    """An object array of Python (or numpy) integers as int64, or a `LabelsError` naming one."""
    for position, value in enumerate(array.tolist()):
        if isinstance(value, (int, np.integer)):
            if not -(2**63) <= int(value) < 2**63:
                msg = (
                    f"{what}: label {_show_int(int(value))} at position {position} does not fit "
                    f"a 64-bit integer; map labels to smaller class ids first, {_UNIQUE}"
                )
                raise LabelsError(msg)
            continue
        if isinstance(value, (str, bytes)):
            problem = f"strings (e.g. {clip(repr(value))} at position {position}); {_MAP_STRINGS}"
        else:
            problem = (
                f"a {type(value).__name__} at position {position} ({clip(repr(value))}); "
                f"pass one integer per sample"
            )
        msg = f"{what}: expected integer class labels, but got {problem}"
        raise LabelsError(msg)
    return array.astype(np.int64)


def _show_int(value: int) -> str:
    """An integer for a message: digits when short, else its size (str() of huge ints fails)."""
    if value.bit_length() <= 128:
        return str(value)
    return f"of about {int(value.bit_length() * 0.30103) + 1} digits"


_UNIQUE = "e.g. classes, labels = numpy.unique(labels, return_inverse=True)"
_MAP_STRINGS = f"map them to integers first, {_UNIQUE}"
_BITS = tuple(
    getattr(torch, name)
    for name in ("bits1x8", "bits2x4", "bits4x2", "bits8", "bits16")
    if hasattr(torch, name)
)


def _compact(labels: torch.Tensor) -> torch.Tensor:
    if labels.dtype == _COMPACT[0]:  # the smallest: nothing to read
        return labels
    low, high = (int(v) for v in torch.aminmax(labels))  # one read for both
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
    if not _fits(labels, value):
        return (
            torch.arange(labels.numel(), dtype=dtype) if not equal else torch.empty(0, dtype=dtype)
        )
    parts = []
    values = labels.numpy()  # numpy's flatnonzero: several times faster than torch.nonzero
    for start in range(0, labels.numel(), _BLOCK):
        block = values[start : start + _BLOCK]
        hits = np.flatnonzero(block == value if equal else block != value)
        parts.append(torch.from_numpy(hits).to(dtype).add_(start))
    return torch.cat(parts)


def _split(labels: torch.Tensor, value: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`where` ``labels == value`` and ``!= value`` in one pass (both ascending, `index_dtype`)."""
    dtype = index_dtype(labels.numel())
    if not _fits(labels, value):
        return torch.empty(0, dtype=dtype), torch.arange(labels.numel(), dtype=dtype)
    equal, other = [torch.empty(0, dtype=dtype)], [torch.empty(0, dtype=dtype)]
    values = labels.numpy()
    for start in range(0, labels.numel(), _CACHED_BLOCK):
        hits = values[start : start + _CACHED_BLOCK] == value
        equal.append(torch.from_numpy(np.flatnonzero(hits)).to(dtype).add_(start))
        other.append(torch.from_numpy(np.flatnonzero(~hits)).to(dtype).add_(start))
    return torch.cat(equal), torch.cat(other)


def partition(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The positions where 1-D bool ``mask`` is true and where it is false (int64, ascending).

    Numpy's ``flatnonzero``, several times faster than ``torch.nonzero`` on CPU; for splitting
    a batch of positions between two ways of reading them.

    Examples:
        >>> import torch
        >>> partition(torch.tensor([True, False, True]))
        (tensor([0, 2]), tensor([1]))
    """
    flags = mask.numpy()
    return (
        torch.from_numpy(np.flatnonzero(flags)),
        torch.from_numpy(np.flatnonzero(~flags)),
    )


#: Up to this size (bytes) of an index of every sample, samples are listed: `ClassIndex.grouped`
#: lists every sample by class, and `Complement.of_label` lists the samples it reads. Beyond it,
#: `ClassIndex` packs a class of at least half the samples (`Packed`, 2 bytes a sample) and
#: `Complement.of_label` reads its samples by rank from the gaps between the others.
LISTED_BYTES = 1 << 30

# Labels compared per step in `where`: bounds its int64 temporaries to 8 bytes x this.
_BLOCK = 1 << 24


class Complement:
    """The sample indices *not* in a sorted set, read by rank without listing them.

    Holds one integer per member of the set (not per index of the complement), its `gaps`, and
    a bucket table a quarter to half that size, its `starts` (or, built by `from_gaps` with
    ``listed``, the complement's indices themselves, read one per rank). The ``j``-th index
    outside the set is ``j`` plus the number of members whose count of non-members before them
    is at most ``j``: the table narrows that count to the two to four members of ``j``'s bucket on
    average, and a short binary search among them, vectorised over the ranks, finds it (two or
    three cache misses per rank where a binary search over all the members has twenty). Used to
    read the negatives of a dataset from its positives when the negatives are the many: 5 to 6
    bytes per positive (its gaps and their table), where `Packed` would take 2 per negative.

    Args:
        members: ascending, distinct sample indices (1-D integer tensor).
        total: the number of samples.

    Examples:
        >>> import torch
        >>> negatives = Complement(torch.tensor([1, 2, 5]), total=7)
        >>> len(negatives), negatives.at(torch.arange(4)).tolist()
        (4, [0, 3, 4, 6])
    """

    def __init__(self, members: torch.Tensor, total: int) -> None:
        self._gaps = self.gaps(members, total)
        self.total = total
        self._starts: torch.Tensor | None = self.starts(self._gaps, total)
        self._listed: torch.Tensor | None = None

    @staticmethod
    def gaps(members: torch.Tensor, total: int) -> torch.Tensor:
        """What a `Complement` holds: ``members[i] - i``, non-decreasing (`index_dtype`)."""
        dtype = index_dtype(total)
        return members.to(dtype) - torch.arange(members.numel(), dtype=dtype)

    @staticmethod
    def starts(gaps: torch.Tensor, total: int) -> torch.Tensor:
        """The bucket table of `gaps`: entry ``q`` counts the gaps below ``q * 2**shift``.

        The bucket width ``2**shift`` is two to four times the complement's size over the
        members', so a bucket holds two to four members on average. O(members) time.
        """
        shift = _bucket_shift(int(gaps.numel()), total)
        count = total - int(gaps.numel())
        buckets = (count >> shift) + 2
        per_bucket = torch.bincount((gaps >> shift).to(torch.int64), minlength=buckets)
        starts = torch.zeros(buckets + 1, dtype=index_dtype(total))
        torch.cumsum(per_bucket[:buckets], 0, out=starts[1:])
        return starts

    @classmethod
    def from_gaps(
        cls,
        gaps: torch.Tensor,
        total: int,
        *,
        starts: torch.Tensor | None = None,
        listed: torch.Tensor | None = None,
    ) -> Complement:
        """The complement whose `gaps` these are (shared, not copied).

        It reads through ``listed`` (its indices, ascending: one read per rank) if given, else
        through the bucket table ``starts``.

        Raises:
            ValueError: if neither ``starts`` nor ``listed`` is given.
        """
        if starts is None and listed is None:
            msg = "give the complement's bucket table (starts) or its indices (listed)"
            raise ValueError(msg)
        complement = cls.__new__(cls)
        complement._gaps, complement.total = gaps, total
        complement._starts, complement._listed = starts, listed
        return complement

    @classmethod
    def of_label(cls, labels: torch.Tensor, value: int) -> Complement:
        """The samples labelled ``value``, read by rank as the complement of all the others.

        Holds the others' gaps, built once per node (see `samplekit.nodecache`), and either
        the samples labelled ``value`` listed (while an index of every sample takes at most
        `LISTED_BYTES`: one read per rank) or the gaps' bucket table (beyond: two or three
        reads per rank, and 1 to 2 bytes per other sample in place of 4 per sample read).
        ``negative_subsampling`` reads its negatives so.
        """
        total, dtype = int(labels.numel()), index_dtype(int(labels.numel()))

        def build() -> torch.Tensor:
            return cls.gaps(where(labels, value, equal=False), total)

        if total * dtype.itemsize <= LISTED_BYTES:
            split: dict[str, torch.Tensor] = {}

            def build_both() -> torch.Tensor:  # one pass for both lists
                split["of"], others = _split(labels, value)
                return cls.gaps(others, total)

            # The rank that builds the gaps builds the list in the same pass; a rank that only
            # maps the gaps maps the list too, or builds it alone (where) if it claims it first.
            gaps = shared(f"gaps-not{value}", dtype, build_both, of=labels)
            listed = shared(
                f"samples-of{value}",
                dtype,
                lambda: split.pop("of") if "of" in split else where(labels, value),
                of=labels,
            )
            return cls.from_gaps(gaps, total, listed=listed)
        gaps = shared(f"gaps-not{value}", dtype, build, of=labels)
        starts = shared(f"gap-starts-not{value}", dtype, lambda: cls.starts(gaps, total), of=labels)
        return cls.from_gaps(gaps, total, starts=starts)

    def members(self, ranks: torch.Tensor) -> torch.Tensor:
        """The members (of the set, not the complement) of rank ``ranks`` (int64)."""
        return (
            self._gaps.index_select(0, ranks.to(torch.int64).reshape(-1)).view(ranks.shape) + ranks
        )

    def __len__(self) -> int:
        return self.total - int(self._gaps.numel())

    def at(self, ranks: torch.Tensor) -> torch.Tensor:
        """The indices of rank ``ranks`` (0-based, below ``len(self)``) outside the set (int64).

        Raises:
            ValueError: for a rank outside ``[0, len(self))``.
        """
        if ranks.numel() and (int(ranks.min()) < 0 or int(ranks.max()) >= len(self)):
            msg = (
                f"ranks must be in [0, {len(self)}), but got {int(ranks.min())} to "
                f"{int(ranks.max())}"
            )
            raise ValueError(msg)
        size = int(self._gaps.numel())
        if not size or not ranks.numel():
            return ranks.to(torch.int64, copy=True)
        if self._listed is not None:
            flat = ranks.to(torch.int64).reshape(-1)
            return self._listed.index_select(0, flat).to(torch.int64).view(ranks.shape)
        # In the gaps' dtype (int32 below 2**31 samples): half the memory traffic of int64.
        gaps, ranks = self._gaps, ranks.to(self._gaps.dtype)
        bucket = (ranks >> _bucket_shift(size, self.total)).to(torch.int64)
        # Count the gaps <= rank: at least `below`, and at most `left` more, in the bucket.
        # (index_select: several times faster than indexing with a tensor.)
        starts = self._starts
        assert starts is not None  # from_gaps takes starts or listed
        below = starts.index_select(0, bucket)
        left = starts.index_select(0, bucket + 1) - below
        # Binary search on every rank at once, branch-free: `torch.where` costs ten additions.
        for _ in range(int(left.max()).bit_length()):
            half = left >> 1
            probe = (below + half).clamp_(max=size - 1)
            fits = ((gaps.index_select(0, probe) <= ranks) & (left > 0)).to(left.dtype)
            below += fits * (half + 1)
            left = half + fits * (left - 2 * half - 1)  # left - half - 1 if it fits, else half
        return (ranks + below).to(torch.int64)


#: Log2 of the members per block of a `Packed` class: a class of more than a quarter of the
#: samples spans fewer than 2**16 samples per block on average, what 16-bit offsets reach.
_PACK_SHIFT = 14
# A block's offsets are stored less this, so that int16 holds 0 to 2**16 - 1.
_NARROW = 1 << 15
# Members packed per step of `pack`, whole blocks: bounds its int64 temporaries.
_PACK_STEP = 1 << 20


class Packed:
    """The samples of one class, ascending, in about 2 bytes each, read by rank with one gather.

    The members go in blocks of ``2**14``; a block keeps its first sample index (8 bytes, in a
    table of a few hundred KB that stays in cache) and each member's distance from it in 16
    bits. So member ``r`` is ``heads[r >> 14] + offsets[r]``: one cache miss per rank, where
    `Complement`'s bucket table and search take two or three and a dozen vectorised steps. A
    block whose first and last members are ``2**16`` or more apart (the class is sparse there)
    keeps its members whole instead (in `samplekit.rng.index_dtype`: 4 bytes each below
    ``2**31`` samples), and its head says where. A whole block spans at least three times as
    many other samples as members, so when the class holds half the samples or more, fewer than
    one block in three is whole (at most about 3.3 bytes a member in all), and in a class
    spread evenly, none.

    Args:
        data: what `pack` built: the offsets, then the heads (int64) and the whole blocks.
        count: the number of members.
        total: the number of samples (it sets the whole blocks' dtype).

    Raises:
        ValueError: if ``data`` is not what `pack` builds for ``count`` of ``total`` samples.

    Examples:
        >>> import torch
        >>> packed = Packed.of_label(torch.tensor([1, 0, 0, 2, 0], dtype=torch.uint8), 0)
        >>> len(packed), packed.at(torch.tensor([2, 0, 1])).tolist()
        (3, [4, 1, 2])
    """

    def __init__(self, data: torch.Tensor, count: int, total: int) -> None:
        padded, blocks = _packed_sizes(count)
        whole = index_dtype(total)
        size = int(data.numel())
        if data.dtype != torch.int16 or size < padded + 4 * blocks or size % 2:
            msg = (
                f"data must be what pack() built for {count} of {total} samples, but got "
                f"{size} {data.dtype} values"
            )
            raise ValueError(msg)
        self._count = count
        self._offsets = data[:count]
        self._heads = _view(data[padded : padded + 4 * blocks], torch.int64)
        self._whole = _view(data[padded + 4 * blocks :], whole)

    @classmethod
    def of_label(cls, labels: torch.Tensor, value: int) -> Packed:
        """The samples labelled ``value`` (1-D integer ``labels``), packed (not shared)."""
        count = int(torch.count_nonzero(labels == value)) if _fits(labels, value) else 0
        return cls(pack(labels, value, count)[0], count, int(labels.numel()))

    def __len__(self) -> int:
        return self._count

    def at(self, ranks: torch.Tensor) -> torch.Tensor:
        """The members of rank ``ranks`` (0-based, below ``len(self)``; unchecked), as int64."""
        flat = ranks.to(torch.int64).reshape(-1)
        heads = self._heads.index_select(0, flat >> _PACK_SHIFT)
        out = self._offsets.index_select(0, flat).to(torch.int64).add_(heads)
        if self._whole.numel():  # some blocks are kept whole: read their ranks there
            whole, _ = partition(heads < 0)
            if whole.numel():
                start = heads.index_select(0, whole).neg_().sub_(1)
                start += flat.index_select(0, whole) & ((1 << _PACK_SHIFT) - 1)
                out.index_copy_(0, whole, self._whole.index_select(0, start).to(torch.int64))
        return out.view(ranks.shape)


def _view(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """int16 ``values`` read as ``dtype`` (an empty tensor has no storage to view)."""
    return values.view(dtype) if values.numel() else torch.empty(0, dtype=dtype)


def _fits(labels: torch.Tensor, value: int) -> bool:
    """Whether ``value`` is one of ``labels``' dtype (comparing would wrap it otherwise)."""
    info = torch.iinfo(labels.dtype)
    return info.min <= value <= info.max


def _miscounted(value: int, count: int) -> NoReturn:
    msg = f"count must be the number of samples labelled {value}, but got {count}"
    raise ValueError(msg)


def _packed_sizes(count: int) -> tuple[int, int]:
    """The int16 length of a `Packed` class's offsets (to a multiple of 4) and its blocks."""
    return -(-count // 4) * 4, -(-count >> _PACK_SHIFT)


def pack(labels: torch.Tensor, value: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What `Packed` holds of the ``count`` samples labelled ``value``, and the other samples.

    One pass over the labels, a cached block at a time.

    Args:
        labels: 1-D integer labels.
        value: the class to pack.
        count: how many samples are labelled ``value`` (the class counts know it).

    Returns:
        The `Packed` data (int16: the offsets, then the blocks' heads as int64 and the members
        of the blocks kept whole in `samplekit.rng.index_dtype`) and the samples not labelled
        ``value``, ascending in `samplekit.rng.index_dtype`.

    Raises:
        ValueError: if ``count`` is not the number of samples labelled ``value``.
    """
    total = int(labels.numel())
    dtype = index_dtype(total)
    whole_dtype = np.dtype(np.int32 if dtype == torch.int32 else np.int64)
    padded, blocks = _packed_sizes(count)
    data = np.zeros(padded + 4 * blocks, dtype=np.int16)
    offsets, heads = data[:count], data[padded:].view(np.int64)
    whole: list[np.ndarray[Any, Any]] = []
    kept = 0  # members in `whole`
    others: list[torch.Tensor] = [torch.empty(0, dtype=dtype)]
    pending: list[np.ndarray[Any, Any]] = []
    waiting = done = 0  # members in `pending`, and placed
    values = labels.numpy() if _fits(labels, value) else None
    size = 1 << _PACK_SHIFT

    def place(members: np.ndarray[Any, Any]) -> None:
        """Pack ``members`` (whole blocks, but for the class's last) at rank ``done``."""
        nonlocal done, kept
        rows = -(-members.size >> _PACK_SHIFT)
        first = members[::size]
        last = members[np.minimum(np.arange(1, rows + 1) * size, members.size) - 1]
        narrow = last - first < 1 << 16
        each = np.repeat(first - _NARROW, size)[: members.size]
        into = offsets[done : done + members.size]
        np.subtract(members, each, out=into, casting="unsafe")
        block = done >> _PACK_SHIFT
        heads[block : block + rows] = first + _NARROW
        for row in np.flatnonzero(~narrow).tolist():  # few: where the class is sparse
            into[row * size : (row + 1) * size] = 0
            heads[block + row] = -1 - kept
            whole.append(members[row * size : (row + 1) * size].astype(whole_dtype))  # a copy
            kept += whole[-1].size
        done += members.size

    for start in range(0, total, _CACHED_BLOCK):
        if values is None:
            others.append(torch.arange(start, min(total, start + _CACHED_BLOCK), dtype=dtype))
            continue
        hits = values[start : start + _CACHED_BLOCK] == value
        others.append(torch.from_numpy(np.flatnonzero(~hits)).to(dtype).add_(start))
        found = np.flatnonzero(hits)
        if done + waiting + found.size > count:
            _miscounted(value, count)
        pending.append(found + start)
        waiting += found.size
        if waiting >= _PACK_STEP:
            ready = np.concatenate(pending)
            cut = waiting >> _PACK_SHIFT << _PACK_SHIFT
            place(ready[:cut])
            pending, waiting = [ready[cut:]], waiting - cut
    if done + waiting != count:
        _miscounted(value, count)
    if waiting:
        place(np.concatenate(pending))
    if whole:  # grown in place where the allocator can (no second copy of the offsets)
        end = data.size
        del offsets, heads  # views of `data`, which resize replaces
        data.resize(end + kept * whole_dtype.itemsize // 2, refcheck=False)
        for members in whole:
            data[end : end + members.nbytes // 2] = members.view(np.int16)
            end += members.nbytes // 2
    return torch.from_numpy(data), torch.cat(others)


def _bucket_shift(members: int, total: int) -> int:
    """Log2 of `Complement.starts`'s bucket width: 2 to 4 times the non-members per member."""
    others = total - members
    if members == 0 or others <= 0:
        return 0
    return max(0, (others // members).bit_length() + 1)


class ClassIndex:
    """Which samples belong to which class, computed once and shared by strategies.

    Attributes:
        labels: the 1-D integer label tensor this index describes.
        classes: the distinct label values, ascending (int64).
        counts: how many samples each class has, aligned with ``classes`` (int64).
    """

    def __init__(self, labels: torch.Tensor) -> None:
        self.labels = labels

        def build() -> torch.Tensor:
            return torch.cat(class_counts(labels))

        # Shared per node, so a rank that maps the node's index reads the labels only once.
        both = shared("classes", torch.int64, build, of=labels)
        self.classes, self.counts = both.tensor_split(2)
        self._reader: tuple[int, Packed, torch.Tensor, torch.Tensor] | None = None
        self._prepared = False

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

        def build() -> torch.Tensor:
            if len(self) <= _MASK_CLASSES:
                return _grouped_by_blocks(self.labels, self.classes.tolist(), self.offsets, dtype)
            return torch.argsort(self.labels, stable=True).to(dtype)

        return shared("grouped", dtype, build, of=self.labels)  # once per node (nodecache)

    @cached_property
    def offsets(self) -> torch.Tensor:
        """Start of each class in `grouped`, with the total appended (length classes+1)."""
        return torch.cat((torch.zeros(1, dtype=torch.int64), torch.cumsum(self.counts, 0)))

    def members(self, klass: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
        """Sample ``ranks[i]`` (ascending order) of class ``classes[klass[i]]``, for each ``i``.

        Equal to ``grouped[offsets[klass] + ranks]`` (int64). When `grouped` would take more
        than `LISTED_BYTES` and one class holds at least half the samples, that class is
        `Packed` (about 2 bytes per sample where `grouped` takes 4, read with one cache miss
        likewise) and only the others are listed by class: at 10**9 samples with 90 % in one
        class, 2.2 GB per node instead of 4 GB (`prepare` builds it, shared per node).

        Examples:
            >>> import torch
            >>> index = ClassIndex(torch.tensor([1, 0, 0, 2, 0, 0]))
            >>> index.members(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 3, 0, 0])).tolist()
            [1, 5, 0, 3]

        Raises:
            ValueError: for a class outside ``[0, len(self))`` or a rank outside its class.
        """
        klass, ranks = klass.to(torch.int64).reshape(-1), ranks.to(torch.int64).reshape(-1)
        if klass.shape != ranks.shape:
            msg = (
                f"klass and ranks must have one length, but got {klass.numel()} and {ranks.numel()}"
            )
            raise ValueError(msg)
        if klass.numel():
            low, high = (int(v) for v in torch.aminmax(klass))
            if low < 0 or high >= len(self):
                msg = f"klass must be in [0, {len(self)}) (positions in classes)"
                raise ValueError(msg)
            # In numpy: its comparisons cost a fifth of torch's on CPU.
            of, at = klass.numpy(), ranks.numpy()
            if int(at.min()) < 0 or bool((at >= self.counts.numpy().take(of)).any()):
                msg = "ranks must be in [0, counts[klass]) for each class"
                raise ValueError(msg)
        reader = self.prepare()
        if reader is None:
            where = self.offsets.index_select(0, klass) + ranks
            return self.grouped.index_select(0, where).to(torch.int64)
        largest, packed, rest, rest_offsets = reader
        out = torch.empty_like(ranks)
        big, small = partition(klass == largest)
        where = rest_offsets.index_select(0, klass.index_select(0, small))
        where += ranks.index_select(0, small)
        out.index_copy_(0, small, rest.index_select(0, where).to(torch.int64))
        out.index_copy_(0, big, packed.at(ranks.index_select(0, big)))
        return out

    def prepare(self) -> tuple[int, Packed, torch.Tensor, torch.Tensor] | None:
        """Build what `members` reads (once; shared per node), or None when it reads `grouped`.

        Returns:
            None when `grouped` takes at most `LISTED_BYTES` or no class holds half the samples
            (then `grouped` is built); otherwise the largest class's position, that class
            `Packed`, the other samples grouped by class, and each class's start in them.
        """
        if self._prepared:
            return self._reader
        total = int(self.labels.numel())
        dtype = index_dtype(total)
        largest = int(torch.argmax(self.counts))
        if total * dtype.itemsize <= LISTED_BYTES or 2 * int(self.counts[largest]) < total:
            _ = self.grouped
            self._prepared = True
            return None
        value, count = int(self.classes[largest]), int(self.counts[largest])
        split: dict[str, torch.Tensor] = {}

        def build_packed() -> torch.Tensor:  # one pass for the class and the others
            data, split["others"] = pack(self.labels, value, count)
            return data

        def build_rest() -> torch.Tensor:  # the others, grouped by class
            samples = (
                split.pop("others") if "others" in split else where(self.labels, value, equal=False)
            )
            of = self.labels.index_select(0, samples.to(torch.int64))
            if len(self) <= _MASK_CLASSES:
                parts = [samples[of == c] for c in self.classes.tolist() if c != value]
                return torch.cat(parts) if parts else samples[:0]
            return samples[torch.argsort(of, stable=True)]

        packed = Packed(
            shared(f"packed-of{value}", torch.int16, build_packed, of=self.labels), count, total
        )
        rest = shared(f"rest-not{value}", dtype, build_rest, of=self.labels)
        before = torch.where(torch.arange(len(self)) > largest, self.counts[largest], 0)
        rest_offsets = self.offsets[:-1] - before
        self._reader = (largest, packed, rest, rest_offsets)
        self._prepared = True
        return self._reader

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


def _grouped_by_blocks(
    labels: torch.Tensor, classes: list[int], offsets: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """`ClassIndex.grouped` in one pass over the labels (a counting sort).

    Each block of labels, small enough to stay in cache, is split by class into each class's
    next free places of the output, so memory is read once whatever the number of classes.
    """
    out = torch.empty(labels.numel(), dtype=dtype)
    into, values = out.numpy(), labels.numpy()  # numpy's flatnonzero: faster than torch's
    filled = offsets[:-1].tolist()
    for start in range(0, labels.numel(), _CACHED_BLOCK):
        block = values[start : start + _CACHED_BLOCK]
        for number, value in enumerate(classes):
            hits = np.flatnonzero(block == value)
            stop = filled[number] + hits.size
            np.add(hits, start, out=into[filled[number] : stop], casting="unsafe")
            filled[number] = stop
    return out


# Labels per block of `_grouped_by_blocks`: 1 MiB of uint8 labels, in cache while it is split.
_CACHED_BLOCK = 1 << 20


def _few_class_counts(labels: torch.Tensor) -> dict[int, int] | None:
    """The counts of 1- or 2-byte ``labels`` of a few distinct values, else None.

    Each block, in cache, is compared once with each value seen so far (about 0.1 ns a label
    per value for bytes, where ``bincount``, whose increments of one class wait on each other,
    takes about 2 ns a label); a block holding values not seen before adds them. Gives up
    (None) beyond `_FEW_CLASSES` bytes of comparison per label.
    """
    if labels.element_size() > 2 or not labels.numel():
        return None
    most = _FEW_CLASSES // labels.element_size()
    values = labels.numpy()
    seen: dict[int, int] = {}
    for start in range(0, values.size, _CACHED_BLOCK):
        block = values[start : start + _CACHED_BLOCK]
        counted = 0
        for value in seen:
            count = int(np.count_nonzero(block == value))
            seen[value] += count
            counted += count
        if counted < block.size:  # values this block adds
            new = np.ones(block.size, dtype=bool)
            for value in seen:
                new &= block != value
            found, counts = np.unique(block[new], return_counts=True)
            seen.update(zip(found.tolist(), counts.tolist(), strict=True))
            if len(seen) > most:
                return None
    return seen


# Distinct label values (for 1-byte labels; half for 2-byte ones) up to which `class_counts`
# compares each block with each value rather than bincount it.
_FEW_CLASSES = 16


def class_counts(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct values of 1-D integer ``labels``, ascending, and how often each occurs.

    Counted a block at a time: besides the result, memory stays within a few blocks of
    `_BLOCK` labels, whatever the labels' dtype and size (no int64 copy of the labels).

    Examples:
        >>> import torch
        >>> classes, counts = class_counts(torch.tensor([7, -2, 7], dtype=torch.int8))
        >>> classes.tolist(), counts.tolist()
        ([-2, 7], [1, 2])
    """
    few = _few_class_counts(labels)
    if few is not None:
        classes = sorted(few)
        return (
            torch.tensor(classes, dtype=torch.int64),
            torch.tensor([few[c] for c in classes], dtype=torch.int64),
        )
    low, high = (int(v) for v in torch.aminmax(labels))
    if high - low < _BINCOUNT_SPAN:
        shift = low if low < 0 or high >= _BINCOUNT_SPAN else 0
        counts = torch.zeros(high - shift + 1, dtype=torch.int64)
        for start in range(0, labels.numel(), _BLOCK):
            block = labels[start : start + _BLOCK]
            if shift:
                block = block.to(torch.int64) - shift
            counts += torch.bincount(block, minlength=counts.numel())
        present = torch.nonzero(counts).flatten()
        return present + shift, counts[present]
    parts = [
        torch.unique(labels[start : start + _BLOCK], sorted=True, return_counts=True)
        for start in range(0, labels.numel(), _BLOCK)
    ]
    values = torch.cat([v.to(torch.int64) for v, _ in parts])
    classes, inverse = torch.unique(values, sorted=True, return_inverse=True)
    counts = torch.zeros(classes.numel(), dtype=torch.int64)
    counts.scatter_add_(0, inverse, torch.cat([c for _, c in parts]))
    return classes, counts
