"""curriculum_negatives: the schedule, exact lengths in every epoch, draws and errors."""

import math

import pytest
import torch
from samplekit_curriculum import CurriculumNegatives

from samplekit import ConfigError, EpochBatchSampler, LabelsError

LABELS = [0] * 200 + [1] * 30 + [2] * 20  # 200 negatives, 50 positives


def make(labels=LABELS, batch_size=16, **options):
    return EpochBatchSampler(labels, CurriculumNegatives, batch_size=batch_size, **options)


def expected_k(n_neg, start, end, epochs, schedule, epoch):
    t = 1.0 if epochs == 1 else min(epoch, epochs - 1) / (epochs - 1)
    shape = t if schedule == "linear" else (1 - math.cos(math.pi * t)) / 2
    ratio = end if t == 1 else start + (end - start) * shape
    return min(n_neg, max(1, round(n_neg * ratio)))


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize(("start", "end", "epochs"), [(0.1, 0.9, 5), (1.0, 0.05, 4), (0.3, 0.3, 2)])
def test_k_follows_the_schedule(schedule, start, end, epochs):
    sampler = make(start_ratio=start, end_ratio=end, epochs=epochs, schedule=schedule)
    strategy = sampler.strategy
    for epoch in range(epochs + 3):
        k = expected_k(200, start, end, epochs, schedule, epoch)
        assert strategy.negatives_in(epoch) == k
        assert strategy.epoch_length(epoch) == 50 + k
    assert strategy.ratio(0) == start
    assert strategy.ratio(epochs - 1) == strategy.ratio(10**6) == end


def test_linear_and_cosine_values():
    linear = make(start_ratio=0.1, end_ratio=0.5, epochs=5).strategy
    cosine = make(start_ratio=0.1, end_ratio=0.5, epochs=5, schedule="cosine").strategy
    assert [linear.negatives_in(e) for e in range(6)] == [20, 40, 60, 80, 100, 100]
    # cosine: 0.1 + 0.4 * (1 - cos(pi t)) / 2 at t = 0, 1/4, 1/2, 3/4, 1
    assert [cosine.negatives_in(e) for e in range(6)] == [20, 32, 60, 88, 100, 100]


def test_one_epoch_schedule_is_end_ratio_from_the_start():
    strategy = make(start_ratio=0.1, end_ratio=0.6, epochs=1).strategy
    assert [strategy.negatives_in(e) for e in range(3)] == [120, 120, 120]


def test_k_is_at_least_one_and_at_most_all():
    labels = [0] * 3 + [1] * 5
    low = make(labels, start_ratio=0.01, end_ratio=0.01, epochs=1).strategy
    assert low.negatives_in(0) == 1
    high = make(labels, start_ratio=1.0, end_ratio=1.0, epochs=3).strategy
    assert high.negatives_in(1) == 3


@pytest.mark.parametrize("drop_last", [False, True])
def test_len_is_exact_in_every_epoch_through_set_epoch(drop_last):
    sampler = make(
        batch_size=7, start_ratio=0.05, end_ratio=1.0, epochs=6, schedule="cosine",
        drop_last=drop_last,
    )  # fmt: skip
    lengths = []
    for epoch in range(9):
        sampler.set_epoch(epoch)
        expected = len(sampler)  # before iterating: a finished iteration moves to the next epoch
        batches = list(sampler)
        assert len(batches) == expected
        n = sampler.strategy.epoch_length(epoch)
        assert sum(map(len, batches)) == (n // 7 * 7 if drop_last else n)
        lengths.append(expected)
    assert lengths == sorted(lengths)
    assert lengths[-1] == lengths[-2] == lengths[-3]


def test_every_positive_once_and_distinct_negatives_in_every_epoch():
    sampler = make(start_ratio=0.2, end_ratio=0.8, epochs=4, seed=9)
    positives = [i for i, label in enumerate(LABELS) if label != 0]
    for epoch in range(6):
        indices = sampler.epoch_indices(epoch).tolist()
        assert len(indices) == len(set(indices))
        assert sorted(i for i in indices if LABELS[i] != 0) == positives
        negatives = [i for i in indices if LABELS[i] == 0]
        assert len(negatives) == sampler.strategy.negatives_in(epoch)


def test_negatives_are_redrawn_and_reproducible():
    a = make(start_ratio=0.3, end_ratio=0.3, epochs=1, seed=2)
    b = make(start_ratio=0.3, end_ratio=0.3, epochs=1, seed=2)
    assert torch.equal(a.epoch_indices(3), b.epoch_indices(3))
    first, second = (set(a.epoch_indices(e).tolist()) for e in (0, 1))
    assert first != second


def test_other_negative_label():
    labels = [5] * 40 + [0] * 10
    strategy = make(labels, start_ratio=0.5, end_ratio=0.5, epochs=1, negative_label=5).strategy
    assert strategy.epoch_length(0) == 10 + 20


def test_no_negatives_is_a_labels_error():
    with pytest.raises(LabelsError, match=r"no sample has negative_label=7 \(labels present"):
        make(start_ratio=0.5, end_ratio=0.5, epochs=2, negative_label=7)


@pytest.mark.parametrize(
    ("labels", "negative_label"), [([0, 255], -1), ([0, 1], 256), ([-1, 127], -129)]
)
def test_a_negative_label_outside_the_labels_dtype_does_not_wrap_around(labels, negative_label):
    # The sampler stores [0, 255] as uint8 and [-1, 127] as int8, where -1 == 255 and 256 == 0.
    with pytest.raises(LabelsError, match=f"no sample has negative_label={negative_label} "):
        make(labels, start_ratio=0.5, end_ratio=0.5, epochs=1, negative_label=negative_label)


def test_no_positives_is_a_labels_error():
    with pytest.raises(LabelsError, match="no positives"):
        make([0] * 10, start_ratio=0.5, end_ratio=0.5, epochs=2)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"start_ratio": 0, "end_ratio": 0.5, "epochs": 2}, "start_ratio"),
        ({"start_ratio": 0.5, "end_ratio": 1.5, "epochs": 2}, "end_ratio"),
        ({"start_ratio": 0.5, "end_ratio": math.nan, "epochs": 2}, "end_ratio"),
        ({"start_ratio": 0.5, "end_ratio": 0.5, "epochs": 0}, "epochs"),
        ({"start_ratio": 0.5, "end_ratio": 0.5, "epochs": 2, "schedule": "step"}, "schedule"),
        ({"end_ratio": 0.5, "epochs": 2}, "start_ratio"),
        ({"start_ratio": 0.5, "end_ratio": 0.5, "epochs": 2, "ratio": 1}, "ratio"),
    ],
)
def test_bad_options_are_config_errors(options, field):
    with pytest.raises(ConfigError, match=field):
        make(**options)
