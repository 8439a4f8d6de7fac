"""Property tests with samplekit's kit: the contract holds for any labels and batch size."""

from collections import Counter

import pytest
import samplekit_mperclass
from hypothesis import given, settings
from hypothesis import strategies as st
from samplekit_mperclass import MPerClass

from samplekit import ConfigError, EpochBatchSampler, LabelsError
from samplekit.testing import check_strategy, labels


@pytest.mark.parametrize("m", [1, 2, 3])
def test_contract_holds(m):
    # Batch sizes are multiples of m and need at most 4 classes, so few inputs are refused.
    check_strategy(
        MPerClass,
        labels=labels(min_size=4, max_size=200, min_classes=4, max_classes=8, min_per_class=m),
        batch_sizes=st.integers(1, 4).map(lambda per_batch: per_batch * m),
        varies_between_epochs=True,
        m=m,
        replacement=st.booleans(),
        num_samples=st.none() | st.integers(1, 300),
    )


def test_contract_holds_with_small_classes_drawn_with_replacement():
    check_strategy(
        MPerClass,
        labels=labels(min_size=2, max_size=100, min_classes=2, max_classes=6),
        batch_sizes=st.sampled_from([3, 6]),
        m=3,
        replacement=True,
    )


def test_contract_holds_by_name(samplekit_plugin_manager):
    # In process, on an isolated manager: the test does not depend on what is installed.
    samplekit_plugin_manager.register(samplekit_mperclass)
    check_strategy(
        "m_per_class",
        labels=labels(min_size=4, max_size=100, min_classes=2, max_classes=5),
        batch_sizes=st.sampled_from([2, 4]),
        m=2,
        replacement=True,
    )


def test_invalid_options_are_refused():
    check_strategy(
        MPerClass,
        labels=labels(max_size=50, min_classes=2),
        batch_sizes=st.integers(1, 2),
        invalid_options=({"m": 0}, {"m": -1}, {"m": 2, "num_samples": 0}, {"m": 1, "x": 1}),
        m=1,
    )


@settings(deadline=None)  # torch work per example: timing is not the claim
@given(
    data=labels(min_size=1, max_size=300, max_classes=10),
    m=st.integers(1, 4),
    per_batch=st.integers(1, 5),
    seed=st.integers(0, 2**32),
    epoch=st.integers(0, 50),
)
def test_every_batch_is_groups_of_m_from_distinct_classes(data, m, per_batch, seed, epoch):
    values = [int(v) for v in data]
    try:
        sampler = EpochBatchSampler(
            values, MPerClass, batch_size=m * per_batch, m=m, seed=seed, replacement=True
        )
    except ConfigError:
        assert per_batch > len(set(values))
        return
    batches = list(sampler.epoch_batches(epoch))
    assert sum(map(len, batches)) == m * max(1, len(values) // m)
    for batch in batches:
        counts = Counter(values[i] for i in batch)
        assert set(counts.values()) == {m}
        assert len(counts) == (per_batch if len(batch) == m * per_batch else len(batch) // m)


@settings(deadline=None)  # torch work per example: timing is not the claim
@given(data=labels(min_size=1, max_size=100, max_classes=6), m=st.integers(2, 5))
def test_small_classes_are_refused_without_replacement(data, m):
    values = [int(v) for v in data]
    smallest = min(Counter(values).values())
    if smallest < m:
        with pytest.raises(LabelsError, match=f"m={m} samples of each class"):
            EpochBatchSampler(values, MPerClass, batch_size=m, m=m)
    else:
        EpochBatchSampler(values, MPerClass, batch_size=m, m=m)


@pytest.mark.parametrize("options", [{"m": 2}, {"m": 3, "replacement": True}])
def test_contract_holds_with_the_inputs_it_declares(options):
    # No labels= or batch_sizes=: MPerClass.example_labels / example_batch_sizes supply them.
    check_strategy(MPerClass, max_examples=20, **options)
