"""Property tests with samplekit's kit: the contract holds for any labels, schedule and epoch."""

import pytest
import samplekit_curriculum
from hypothesis import given, settings
from hypothesis import strategies as st
from samplekit_curriculum import CurriculumNegatives

from samplekit import EpochBatchSampler, LabelsError
from samplekit.testing import check_strategy, labels

ratios = st.floats(0.01, 1.0)


def test_contract_holds():
    check_strategy(
        CurriculumNegatives,
        labels=labels(min_size=3, max_size=300, values=[0, 3, 7], min_classes=3),
        batch_sizes=st.integers(1, 32),
        without_replacement=True,
        varies_between_epochs=True,
        start_ratio=ratios,
        end_ratio=ratios,
        epochs=st.integers(1, 6),
        schedule=st.sampled_from(["linear", "cosine"]),
    )


def test_contract_holds_by_name(samplekit_plugin_manager):
    # In process, on an isolated manager: the test does not depend on what is installed.
    samplekit_plugin_manager.register(samplekit_curriculum)
    check_strategy(
        "curriculum_negatives",
        labels=labels(min_size=2, max_size=100, values=[0, 1], min_classes=2),
        batch_sizes=st.integers(1, 16),
        without_replacement=True,
        start_ratio=0.2,
        end_ratio=0.8,
        epochs=3,
    )


def test_invalid_options_are_refused():
    check_strategy(
        CurriculumNegatives,
        labels=labels(min_size=2, max_size=50, values=[0, 5], min_classes=2),
        batch_sizes=st.integers(1, 8),
        invalid_options=(
            {"start_ratio": 0.0},
            {"end_ratio": 1.01},
            {"epochs": 0},
            {"schedule": "exponential"},
            {"unknown": 1},
        ),
        start_ratio=0.5,
        end_ratio=0.5,
        epochs=2,
    )


@settings(deadline=None)  # torch work per example: timing is not the claim
@given(
    data=labels(min_size=2, max_size=200, values=[0, 1, 2], min_classes=1),
    start=ratios,
    end=ratios,
    epochs=st.integers(1, 8),
    schedule=st.sampled_from(["linear", "cosine"]),
    batch_size=st.integers(1, 20),
    drop_last=st.booleans(),
)
def test_len_matches_the_batches_in_every_epoch(
    data, start, end, epochs, schedule, batch_size, drop_last
):
    values = [int(v) for v in data]
    n_neg = values.count(0)
    if n_neg in (0, len(values)):
        with pytest.raises(LabelsError):
            EpochBatchSampler(
                values, CurriculumNegatives, batch_size=batch_size, start_ratio=start,
                end_ratio=end, epochs=epochs,
            )  # fmt: skip
        return
    sampler = EpochBatchSampler(
        values, CurriculumNegatives, batch_size=batch_size, drop_last=drop_last,
        start_ratio=start, end_ratio=end, epochs=epochs, schedule=schedule,
    )  # fmt: skip
    low, high = sorted((start, end))
    for epoch in range(epochs + 2):
        sampler.set_epoch(epoch)
        expected = len(sampler)  # before iterating: a finished iteration moves to the next epoch
        batches = list(sampler)
        assert len(batches) == expected
        k = sampler.strategy.negatives_in(epoch)
        assert 1 <= k <= n_neg
        assert round(n_neg * low) - 1 <= k <= round(n_neg * high) + 1
        indices = [i for batch in batches for i in batch]
        assert len(indices) == len(set(indices))
        if not drop_last:
            assert sorted(i for i in indices if values[i] != 0) == [
                i for i, v in enumerate(values) if v != 0
            ]
            assert sum(values[i] == 0 for i in indices) == k


def test_contract_holds_with_the_labels_it_declares():
    # No labels=: CurriculumNegatives.example_labels holds negative_label and a positive.
    check_strategy(
        CurriculumNegatives,
        max_examples=20,
        without_replacement=True,
        start_ratio=0.1,
        end_ratio=0.9,
        epochs=3,
        negative_label=st.integers(-5, 5),
    )
