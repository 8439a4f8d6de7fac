"""undersample: the contract, use by name, and the declared entry point."""

import importlib.metadata

import samplekit_undersample
from hypothesis import strategies as st
from samplekit_undersample import Undersample

from samplekit import EpochBatchSampler, available_strategies
from samplekit.testing import check_strategy, labels


def test_contract():
    check_strategy(
        Undersample,
        labels=labels(max_size=200),
        without_replacement=True,
        per_class=st.none() | st.integers(1, 5),
    )


def test_by_name(samplekit_plugin_manager):
    samplekit_plugin_manager.register(samplekit_undersample)
    assert "undersample" in available_strategies()
    sampler = EpochBatchSampler([0, 0, 1, 1, 1], "undersample", batch_size=2)
    assert len(sampler) == 2


def test_entry_point_is_declared():
    (ep,) = importlib.metadata.entry_points(group="samplekit", name="undersample")
    assert ep.load() is samplekit_undersample
