from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from samplekit import labels as labels_module
from samplekit import nodecache
from samplekit.errors import LabelsError
from samplekit.labels import ClassIndex, Complement, Packed, as_label_tensor, pack
from samplekit.sampler import EpochBatchSampler

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([0, 1, 255], torch.uint8),
        ([-1, 0, 1], torch.int8),
        ([0, 300], torch.int16),
        ([0, 70_000], torch.int32),
        ([0, 2**40], torch.int64),
    ],
)
def test_labels_are_held_in_the_smallest_dtype(values: list[int], dtype: torch.dtype) -> None:
    labels = as_label_tensor(np.array(values, dtype=np.int64))
    assert labels.dtype == dtype
    assert labels.tolist() == values


def test_unsigned_numpy_dtypes_are_widened_without_loss() -> None:
    labels = as_label_tensor(np.array([0, 2**40], dtype=np.uint64))
    assert labels.tolist() == [0, 2**40]


def test_uint64_labels_beyond_int64_are_refused_not_wrapped() -> None:
    with pytest.raises(LabelsError, match="2\\*\\*63"):
        as_label_tensor(np.array([0, 2**63], dtype=np.uint64))


@pytest.mark.parametrize("n_classes", [3, 40])  # the mask path and the sort path
def test_class_index(n_classes: int) -> None:
    gen = torch.Generator().manual_seed(0)
    labels = as_label_tensor(torch.randint(-5, n_classes - 5, (2000,), generator=gen))
    index = ClassIndex(labels)
    classes, counts = torch.unique(labels.long(), return_counts=True)
    assert index.classes.tolist() == classes.tolist()
    assert index.counts.tolist() == counts.tolist()
    for value, part in zip(index.classes.tolist(), index.split(), strict=True):
        assert part.tolist() == torch.nonzero(labels == value).flatten().tolist()
        assert index.indices_of(value).tolist() == part.tolist()
    assert index.indices_of(10**6).numel() == 0


def test_wide_label_values_use_the_sort_path() -> None:
    labels = as_label_tensor(torch.tensor([10**12, -(10**12), 10**12, 7]))
    index = ClassIndex(labels)
    assert index.classes.tolist() == [-(10**12), 7, 10**12]
    assert index.counts.tolist() == [1, 1, 2]


def test_labels_are_not_copied_from_a_dataset_attribute_when_compact() -> None:
    targets = torch.zeros(10, dtype=torch.uint8)

    class Data:
        def __init__(self, targets: torch.Tensor) -> None:
            self.targets = targets

    data = Data(targets)
    assert as_label_tensor(data).data_ptr() == targets.data_ptr()


@pytest.mark.parametrize("equal", [True, False])
def test_where_in_blocks_matches_nonzero(monkeypatch: pytest.MonkeyPatch, equal: bool) -> None:
    monkeypatch.setattr(labels_module, "_BLOCK", 7)  # many blocks, a partial last one
    labels = torch.randint(0, 3, (100,), generator=torch.Generator().manual_seed(0))
    labels = labels.to(torch.uint8)
    got = labels_module.where(labels, 1, equal=equal)
    assert got.dtype == torch.int32
    assert got.tolist() == torch.nonzero((labels == 1) == equal).flatten().tolist()
    outside = labels_module.where(labels, 256, equal=equal)  # 256 would wrap to 0 in uint8
    assert outside.tolist() == ([] if equal else list(range(100)))


def test_read_only_arrays_are_taken_without_a_warning() -> None:
    # memory maps and Arrow columns (Hugging Face datasets) are read-only; pytest turns warnings
    # into errors here, so torch's "not writable" warning would fail this test
    array = np.array([0, 1, 1, 0, 2], dtype=np.int64)
    array.flags.writeable = False
    sampler = EpochBatchSampler(array, "stratified", batch_size=2)
    assert sampler.labels.tolist() == [0, 1, 1, 0, 2]


# --- every unusable input is one clear LabelsError ----------------------------------------------


def _quiet(make: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():  # prototype and deprecated tensor kinds warn when built
        warnings.simplefilter("ignore")
        return make()


BAD_LABELS: dict[str, tuple[Callable[[], Any], str]] = {
    "sparse": (lambda: torch.tensor([0, 1, 1]).to_sparse(), "sparse tensor (torch.sparse_coo)"),
    "quantized": (
        lambda: torch.quantize_per_tensor(torch.tensor([0.0, 1.0]), 1.0, 0, torch.quint8),
        "quantized tensor (torch.quint8); pass its integers, e.g. labels.int_repr()",
    ),
    "nested": (
        lambda: torch.nested.nested_tensor([torch.tensor([0, 1]), torch.tensor([1])]),
        "a nested tensor",
    ),
    "meta": (lambda: torch.zeros(3, dtype=torch.long, device="meta"), "a 'meta' tensor"),
    "bits": (lambda: torch.zeros(3, dtype=torch.bits8), "labels.view(torch.uint8)"),
    "string list": (lambda: ["cat", "dog"], "strings (e.g. 'cat' at position 0)"),
    "string array": (lambda: np.array(["cat", "dog"]), "strings (e.g. 'cat')"),
    "mixed list": (lambda: [0, "dog"], "strings (e.g. 'dog' at position 1)"),
    "a string": (lambda: "0101", "got a str ('0101')"),
    "float numpy": (lambda: np.array([0.0, 1.0]), "labels.astype(numpy.int64)"),
    "float16 numpy": (lambda: np.array([0, 1], dtype=np.float16), "labels.astype(numpy.int64)"),
    "float list": (lambda: [0.0, 1.5], "[int(v) for v in labels]"),
    "float tensor": (lambda: torch.tensor([0.0, 1.0]), "labels.long()"),
    "complex numpy": (lambda: np.array([1 + 0j]), "dtype complex128"),
    "structured": (
        lambda: np.zeros(2, dtype=[("label", "i4"), ("weight", "f4")]),
        "fields ('label', 'weight'); pass the field that holds the labels, e.g. labels['label']",
    ),
    "raw bytes": (lambda: np.zeros(2, dtype="V4"), "dtype |V4; convert them to integers"),
    "datetime": (lambda: np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64[D]"),
    "masked": (
        lambda: np.ma.array([0, 1, 2], mask=[False, True, False]),
        "1 of 3 labels are masked",
    ),
    "huge int": (lambda: [0, 10**5000], "label of about 5001 digits at position 1"),
    "int below int64": (lambda: [-(2**63) - 1], "-9223372036854775809 at position 0"),
    "int above int64": (lambda: [2**63], "2**63 or more (here 9223372036854775808)"),
    "object of None": (lambda: np.array([0, None], dtype=object), "a NoneType at position 1"),
    "ragged": (lambda: [[0], [1, 2]], "could not be read as a 1-D integer array"),
}


@pytest.mark.parametrize("case", sorted(BAD_LABELS))
def test_unusable_labels_are_one_clear_labels_error(case: str) -> None:
    make, fragment = BAD_LABELS[case]
    with pytest.raises(LabelsError) as info:
        as_label_tensor(_quiet(make))
    message = str(info.value)
    assert message.startswith("labels: "), message
    assert fragment in message, message


def test_numpy_float_labels_get_numpy_advice_and_tensors_torch_advice() -> None:
    with pytest.raises(LabelsError) as from_numpy:
        as_label_tensor(np.array([0.0, 1.0]))
    assert ".long()" not in str(from_numpy.value)  # numpy arrays have no .long()
    with pytest.raises(LabelsError) as from_torch:
        as_label_tensor(torch.tensor([0.0, 1.0]))
    assert ".astype(" not in str(from_torch.value)


@pytest.mark.parametrize(
    "array",
    [
        np.array([3, 0, 300], dtype=">i8"),  # big-endian, as some .npy files are
        np.array([3, 0, 300], dtype=np.ulonglong),  # a distinct numpy type torch refuses
        np.array([3, 0, 300], dtype=object),  # Python integers (pandas object columns)
        np.ma.array([3, 0, 300], mask=[False, False, False]),  # masked, but nothing is masked
    ],
)
def test_integer_arrays_in_any_numpy_form_are_taken(array: np.ndarray[Any, Any]) -> None:
    assert as_label_tensor(array).tolist() == [3, 0, 300]


@pytest.mark.parametrize(
    "values", [[5, -3, 5, 0, 7], [10**12, -(10**12), 10**12, 7], [0, 255, 255, 1]]
)
def test_class_counts_in_blocks_match_unique(
    monkeypatch: pytest.MonkeyPatch, values: list[int]
) -> None:
    monkeypatch.setattr(labels_module, "_BLOCK", 2)  # several blocks, a partial last one
    labels = as_label_tensor(values)
    classes, counts = labels_module.class_counts(labels)
    want_classes, want_counts = torch.unique(torch.tensor(values), return_counts=True)
    assert classes.tolist() == want_classes.tolist()
    assert counts.tolist() == want_counts.tolist()


_DTYPES: st.SearchStrategy[np.dtype[Any]] = (
    hnp.scalar_dtypes()
    | hnp.byte_string_dtypes()
    | hnp.unicode_string_dtypes()
    | hnp.datetime64_dtypes()
    | hnp.timedelta64_dtypes()
    | hnp.array_dtypes(allow_subarrays=True)
    | st.sampled_from([np.dtype(np.float16), np.dtype(">i4"), np.dtype("<u8")])
)


@given(hnp.arrays(_DTYPES, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=6)))
def test_any_numpy_array_is_taken_exactly_or_refused_clearly(array: np.ndarray[Any, Any]) -> None:
    usable = array.ndim == 1 and array.size > 0 and array.dtype.kind in "biu"
    if usable and array.dtype.kind == "u" and array.size and int(array.max()) >= 2**63:
        usable = False
    if not usable:
        with pytest.raises(LabelsError, match=r"^labels: "):
            as_label_tensor(array)
        return
    labels = as_label_tensor(array)
    assert labels.ndim == 1
    assert not labels.dtype.is_floating_point
    assert labels.tolist() == [int(v) for v in array.tolist()]


@given(
    st.lists(
        st.one_of(
            st.integers(), st.booleans(), st.floats(), st.text(max_size=3), st.none(), st.binary()
        ),
        max_size=6,
    )
)
def test_any_python_list_is_taken_exactly_or_refused_clearly(values: list[Any]) -> None:
    usable = bool(values) and all(isinstance(v, int) and -(2**63) <= v < 2**63 for v in values)
    if not usable:
        with pytest.raises(LabelsError, match=r"^labels: "):
            as_label_tensor(values)
        return
    labels = as_label_tensor(values)
    assert labels.tolist() == [int(v) for v in values]


@given(
    st.lists(st.booleans(), max_size=3000),
    st.integers(0, 2**32 - 1),
)
def test_complement_reads_the_indices_outside_a_set_by_rank(mask: list[bool], seed: int) -> None:
    inside = torch.tensor(mask, dtype=torch.bool)
    complement = Complement(torch.nonzero(inside).flatten(), len(mask))
    outside = torch.nonzero(~inside).flatten()
    assert len(complement) == outside.numel()
    assert torch.equal(complement.at(torch.arange(len(complement))), outside)  # sorted path
    if len(complement):
        ranks = torch.randint(len(complement), (7,), generator=torch.Generator().manual_seed(seed))
        assert torch.equal(complement.at(ranks), outside[ranks])  # a few, in any order


@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=400),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_members_read_a_class_by_rank_as_grouped_does(
    values: list[int], seed: int, mostly_one: bool
) -> None:
    """`ClassIndex.members` equals ``grouped[offsets[k] + r]``, with or without a large class."""
    if mostly_one:  # one class holds at least half: it is packed, the others listed
        values = values + [2] * (len(values) + 1)
    labels = torch.tensor(values, dtype=torch.uint8)
    reference = ClassIndex(labels)
    half = 2 * max(reference.counts.tolist()) >= len(values)
    gen = torch.Generator().manual_seed(seed)
    klass = torch.randint(len(reference), (50,), generator=gen)
    ranks = (torch.rand(50, generator=gen, dtype=torch.float64) * reference.counts[klass]).long()
    expected = reference.grouped[reference.offsets[klass] + ranks].to(torch.int64)
    for listed in (labels_module.LISTED_BYTES, 0):  # the default lists these; 0 never does
        saved, labels_module.LISTED_BYTES = labels_module.LISTED_BYTES, listed
        try:
            index = ClassIndex(labels)
            compact = index.prepare() is not None
            assert compact == (listed == 0 and half)
            assert torch.equal(index.members(klass, ranks), expected)
            assert ("grouped" in index.__dict__) != compact  # the large class is never listed
        finally:
            labels_module.LISTED_BYTES = saved


@pytest.mark.parametrize(
    ("strategy", "options"),
    [("stratified", {}), ("class_weighted", {}), ("class_weighted", {"replacement": False})],
)
def test_reading_the_large_class_by_rank_leaves_the_batches_alone(
    strategy: str, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = ((torch.arange(3000) * 7919) % 10 < 2).to(torch.uint8)  # 80 % class 0
    labels[::7] = 2

    def epochs() -> list[list[list[int]]]:
        sampler = EpochBatchSampler(labels, strategy, batch_size=32, seed=3, **options)
        assert (sampler.strategy.class_index.prepare() is not None) == (listed == 0)
        return [list(sampler.epoch_batches(epoch)) for epoch in range(2)]

    listed = labels_module.LISTED_BYTES
    listed_epochs = epochs()
    monkeypatch.setattr(labels_module, "LISTED_BYTES", 0)
    listed = 0
    assert epochs() == listed_epochs


def test_members_and_complement_refuse_ranks_out_of_range() -> None:
    index = ClassIndex(torch.tensor([1, 0, 0, 2, 0, 0]))
    with pytest.raises(ValueError, match="klass must be in"):
        index.members(torch.tensor([3]), torch.tensor([0]))
    with pytest.raises(ValueError, match="ranks must be in"):
        index.members(torch.tensor([1]), torch.tensor([1]))  # class 1 has one sample
    with pytest.raises(ValueError, match="ranks must be in"):
        index.members(torch.tensor([0]), torch.tensor([-1]))
    with pytest.raises(ValueError, match="one length"):
        index.members(torch.tensor([0, 0]), torch.tensor([0]))
    assert index.members(torch.tensor([], dtype=torch.long), torch.tensor([])).numel() == 0
    complement = Complement(torch.tensor([1, 2, 5]), total=7)
    with pytest.raises(ValueError, match=r"ranks must be in \[0, 4\)"):
        complement.at(torch.tensor([4]))
    with pytest.raises(ValueError, match="ranks must be in"):
        complement.at(torch.tensor([-1, 0]))


@given(st.lists(st.integers(0, 2), min_size=1, max_size=600), st.integers(0, 2**32 - 1))
def test_a_label_read_listed_or_from_the_gaps_is_the_same(values: list[int], seed: int) -> None:
    """`Complement.of_label` lists the samples it reads while an index of every sample fits in
    `LISTED_BYTES`, and reads them from the bucket table beyond: both give the same samples."""
    labels = torch.tensor(values, dtype=torch.uint8)
    expected = torch.nonzero(labels == 0).flatten()
    others = torch.nonzero(labels != 0).flatten()
    gen = torch.Generator().manual_seed(seed)
    for listed in (labels_module.LISTED_BYTES, 0):
        saved = labels_module.LISTED_BYTES, labels_module._CACHED_BLOCK
        labels_module.LISTED_BYTES, labels_module._CACHED_BLOCK = listed, 64  # several blocks
        try:
            complement = Complement.of_label(labels, 0)
        finally:
            labels_module.LISTED_BYTES, labels_module._CACHED_BLOCK = saved
        assert (complement._listed is not None) == (listed > 0)
        assert len(complement) == expected.numel()
        assert torch.equal(complement.at(torch.arange(len(complement))), expected)
        assert torch.equal(complement.members(torch.arange(others.numel())), others)
        if len(complement):
            ranks = torch.randint(len(complement), (9,), generator=gen)
            assert torch.equal(complement.at(ranks), expected[ranks])
        with pytest.raises(ValueError, match="ranks must be in"):
            complement.at(torch.tensor([len(complement)]))


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.one_of(st.integers(1, 40), st.just(1 << 16))),
        max_size=40,
    ),
    st.sampled_from([0, 2, 5, 14]),
    st.integers(0, 2**32 - 1),
)
def test_a_packed_class_reads_what_listing_it_reads(
    runs: list[tuple[int, int]], shift: int, seed: int
) -> None:
    """`Packed` reads every member of a class by rank as the list of its samples does, blocks
    kept whole where a run of other samples makes one span 2**16 samples or more included."""
    labels = torch.cat(
        [torch.full((n,), v, dtype=torch.uint8) for v, n in runs]
        or [torch.zeros(0, dtype=torch.uint8)]
    )
    expected = torch.nonzero(labels == 0).flatten()
    with mock.patch.multiple(  # small blocks and steps: many of each
        labels_module, _PACK_SHIFT=shift, _CACHED_BLOCK=4096, _PACK_STEP=1 << max(shift, 6)
    ):
        data, others = pack(labels, 0, expected.numel())
        packed = Packed(data, expected.numel(), labels.numel())
        assert len(packed) == expected.numel()
        assert torch.equal(others.to(torch.int64), torch.nonzero(labels != 0).flatten())
        assert torch.equal(packed.at(torch.arange(len(packed))), expected)
        if len(packed):
            gen = torch.Generator().manual_seed(seed)
            ranks = torch.randint(len(packed), (3, 7), generator=gen)
            assert torch.equal(packed.at(ranks), expected[ranks])
        assert torch.equal(Packed.of_label(labels, 0).at(torch.arange(len(packed))), expected)


def test_a_block_spanning_a_long_run_of_others_is_kept_whole() -> None:
    # 5,000 samples of class 0, a run of 2**16 others, then 3 x 2**14 more of class 0: the
    # first block of 2**14 members spans the run.
    labels = torch.cat(
        [torch.full((n,), v, dtype=torch.uint8) for v, n in ((0, 5000), (1, 1 << 16), (0, 3 << 14))]
    )
    packed = Packed.of_label(labels, 0)
    expected = torch.nonzero(labels == 0).flatten()
    assert packed._whole.numel() == 1 << 14  # one block kept whole, the others 16 bits
    assert packed._whole.dtype == torch.int32  # whole members in the index dtype
    assert torch.equal(packed.at(torch.arange(len(packed))), expected)
    ranks = torch.tensor([0, 4999, 5000, (1 << 14) - 1, 1 << 14, len(packed) - 1])
    assert torch.equal(packed.at(ranks), expected[ranks])


def test_packing_checks_its_count_and_its_data() -> None:
    labels = torch.tensor([1, 0, 0, 2, 0], dtype=torch.uint8)
    for wrong in (2, 4):
        with pytest.raises(ValueError, match="count must be the number of samples labelled 0"):
            pack(labels, 0, wrong)
    with pytest.raises(ValueError, match="count must be"):
        pack(labels, 300, 1)  # no uint8 label is 300
    assert len(Packed.of_label(labels, 300)) == 0
    for data in (torch.zeros(2, dtype=torch.int16), torch.zeros(9, dtype=torch.int16)):
        with pytest.raises(ValueError, match="data must be what pack"):
            Packed(data, 3, 5)  # too short, or an odd tail
    with pytest.raises(ValueError, match="data must be what pack"):
        Packed(pack(labels, 0, 3)[0].to(torch.int32), 3, 5)


def test_a_rank_that_maps_the_packed_class_but_lists_the_rest_itself_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rank that maps its node's packed class and then claims the other samples' list builds
    that list from the labels alone: the same list, and the same members."""
    monkeypatch.setattr(labels_module, "LISTED_BYTES", 0)
    values = (torch.arange(50_000) * 7919 % 10).to(torch.int8)
    values[values < 7] = -1  # classes -1 (70 %), 7, 8 and 9
    index = ClassIndex(values)
    klass = torch.repeat_interleave(torch.arange(len(index)), index.counts)
    ranks = torch.cat([torch.arange(int(c)) for c in index.counts])
    expected = index.grouped.to(torch.int64)
    with nodecache.sharing(1, tmp_path, labels=values) as written:
        first = ClassIndex(values).prepare()
        assert first is not None
        listed = next(tmp_path.glob("*-rest-not-1.bin"))
        for path in (listed, listed.with_suffix(".lock")):  # as if not yet claimed
            path.unlink()
        written.remove(listed)
        with (
            mock.patch.object(labels_module, "pack", wraps=labels_module.pack) as packing,
            mock.patch.object(labels_module, "where", wraps=labels_module.where) as finding,
        ):
            second = ClassIndex(values)
            prepared = second.prepare()
        assert prepared is not None
        packing.assert_not_called()  # the class was mapped ...
        finding.assert_called_once_with(values, -1, equal=False)  # ... the rest built alone
        assert torch.equal(prepared[2], first[2])
        assert torch.equal(second.members(klass, ranks), expected)
        nodecache.release(written)


def test_a_complement_needs_its_bucket_table_or_its_list() -> None:
    gaps = Complement.gaps(torch.tensor([1, 2, 5]), 7)
    with pytest.raises(ValueError, match="starts"):
        Complement.from_gaps(gaps, 7)
    listed = Complement.from_gaps(gaps, 7, listed=torch.tensor([0, 3, 4, 6], dtype=torch.int32))
    table = Complement.from_gaps(gaps, 7, starts=Complement.starts(gaps, 7))
    assert listed.at(torch.tensor([3, 0])).tolist() == table.at(torch.tensor([3, 0])).tolist()


@pytest.mark.parametrize("options", [{"neg_ratio": 0.3}, {"neg_per_pos": 1.5, "cycle": True}])
def test_negatives_listed_or_read_from_the_gaps_give_the_same_epochs(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = ((torch.arange(3000) * 7919) % 10 < 2).to(torch.uint8)  # 20 % positives

    def epochs() -> list[list[list[int]]]:
        sampler = EpochBatchSampler(
            labels, "negative_subsampling", batch_size=32, seed=5, **options
        )
        return [list(sampler.epoch_batches(epoch)) for epoch in range(3)]

    listed_epochs = epochs()
    monkeypatch.setattr(labels_module, "LISTED_BYTES", 0)
    assert epochs() == listed_epochs


@given(
    st.sampled_from([torch.uint8, torch.int8, torch.int16, torch.int32]),
    st.lists(st.integers(-40, 40), min_size=1, max_size=300),
    st.integers(1, 50),
)
def test_class_counts_of_a_few_values_block_by_block_match_unique(
    dtype: torch.dtype, values: list[int], block: int
) -> None:
    """Few values are counted by comparing each block with each value seen so far (new ones
    appear in later blocks); beyond 16 (8 for 2-byte labels) the count falls back to bincount."""
    info = torch.iinfo(dtype)
    labels = torch.tensor([min(max(v, info.min), info.max) for v in values], dtype=dtype)
    saved, labels_module._CACHED_BLOCK = labels_module._CACHED_BLOCK, block
    try:
        classes, counts = labels_module.class_counts(labels)
        few = labels_module._few_class_counts(labels)
    finally:
        labels_module._CACHED_BLOCK = saved
    want_classes, want_counts = torch.unique(labels.long(), return_counts=True)
    assert classes.tolist() == want_classes.tolist()
    assert counts.tolist() == want_counts.tolist()
    limit = 16 // labels.element_size() if labels.element_size() <= 2 else -1
    assert (few is not None) == (want_classes.numel() <= limit)
