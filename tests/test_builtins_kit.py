"""The built-in strategies pass the same property-testing kit that plugin authors use."""

from __future__ import annotations

from hypothesis import strategies as st

from samplekit.testing import check_strategy, labels

shares = st.floats(0.01, 1.0)
negatives_and_positives = labels(values=[0, 1], min_classes=2)


def test_stratified():
    check_strategy(
        "stratified",
        permutation=True,
        varies_between_epochs=True,
        invalid_options=[{"unknown": 1}],
    )


def test_negative_subsampling_neg_ratio():
    check_strategy(
        "negative_subsampling",
        labels=negatives_and_positives,
        neg_ratio=shares,
        without_replacement=True,
        varies_between_epochs=True,
        invalid_options=[{"neg_ratio": 0}, {"neg_ratio": 1.5}, {"neg_ratio": float("nan")}],
    )


def test_negative_subsampling_neg_per_pos_and_cycle():
    check_strategy(
        "negative_subsampling",
        labels=labels(values=[0, 1, 2, -7], min_classes=2),
        options=st.fixed_dictionaries(
            {"neg_per_pos": st.floats(0.01, 3.0), "cycle": st.booleans()},
            optional={"negative_label": st.sampled_from([1, 2, -7])},
        ),
        without_replacement=True,
        varies_between_epochs=True,
        invalid_options=[{"neg_per_pos": 0}, {"neg_ratio": 0.5}, {"neg_per_pos": -1.0}],
    )


def test_class_weighted_with_replacement():
    check_strategy(
        "class_weighted",
        num_samples=st.none() | st.integers(1, 500),
        varies_between_epochs=True,
        invalid_options=[{"num_samples": 0}, {"class_weights": "uniform"}],
    )


def test_class_weighted_without_replacement_and_explicit_weights():
    weight = st.sampled_from([0.0, 0.5, 1.0, 20.0])
    check_strategy(
        "class_weighted",
        labels=labels(values=[0, 1, 2], min_classes=3),
        class_weights=st.just("balanced")
        | st.fixed_dictionaries({0: weight, 1: weight, 2: weight}),
        num_samples=st.none() | st.integers(1, 300),
        replacement=st.booleans(),
        varies_between_epochs=True,
        invalid_options=[{"class_weights": {0: -1.0, 1: 1.0, 2: 1.0}}, {"replacement": "maybe"}],
    )


def test_class_weighted_without_replacement_never_repeats():
    check_strategy(
        "class_weighted",
        replacement=False,
        num_samples=st.none() | st.integers(1, 3),
        without_replacement=True,
    )
