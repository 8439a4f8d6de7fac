import numpy as np
import pytest
import torch

from samplekit import labels as labels_module
from samplekit.errors import LabelsError
from samplekit.labels import ClassIndex, as_label_tensor
from samplekit.sampler import EpochBatchSampler


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
def test_labels_are_held_in_the_smallest_dtype(values, dtype):
    labels = as_label_tensor(np.array(values, dtype=np.int64))
    assert labels.dtype == dtype
    assert labels.tolist() == values


def test_unsigned_numpy_dtypes_are_widened_without_loss():
    labels = as_label_tensor(np.array([0, 2**40], dtype=np.uint64))
    assert labels.tolist() == [0, 2**40]


def test_uint64_labels_beyond_int64_are_refused_not_wrapped():
    with pytest.raises(LabelsError, match="2\\*\\*63"):
        as_label_tensor(np.array([0, 2**63], dtype=np.uint64))


@pytest.mark.parametrize("n_classes", [3, 40])  # the mask path and the sort path
def test_class_index(n_classes):
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


def test_wide_label_values_use_the_sort_path():
    labels = as_label_tensor(torch.tensor([10**12, -(10**12), 10**12, 7]))
    index = ClassIndex(labels)
    assert index.classes.tolist() == [-(10**12), 7, 10**12]
    assert index.counts.tolist() == [1, 1, 2]


def test_labels_are_not_copied_from_a_dataset_attribute_when_compact():
    targets = torch.zeros(10, dtype=torch.uint8)

    class Data:
        pass

    data = Data()
    data.targets = targets
    assert as_label_tensor(data).data_ptr() == targets.data_ptr()


@pytest.mark.parametrize("equal", [True, False])
def test_where_in_blocks_matches_nonzero(monkeypatch, equal):
    monkeypatch.setattr(labels_module, "_BLOCK", 7)  # many blocks, a partial last one
    labels = torch.randint(0, 3, (100,), generator=torch.Generator().manual_seed(0))
    labels = labels.to(torch.uint8)
    got = labels_module.where(labels, 1, equal=equal)
    assert got.dtype == torch.int32
    assert got.tolist() == torch.nonzero((labels == 1) == equal).flatten().tolist()
    outside = labels_module.where(labels, 256, equal=equal)  # 256 would wrap to 0 in uint8
    assert outside.tolist() == ([] if equal else list(range(100)))


def test_read_only_arrays_are_taken_without_a_warning():
    # memory maps and Arrow columns (Hugging Face datasets) are read-only; pytest turns warnings
    # into errors here, so torch's "not writable" warning would fail this test
    array = np.array([0, 1, 1, 0, 2], dtype=np.int64)
    array.flags.writeable = False
    sampler = EpochBatchSampler(array, "stratified", batch_size=2)
    assert sampler.labels.tolist() == [0, 1, 1, 0, 2]
