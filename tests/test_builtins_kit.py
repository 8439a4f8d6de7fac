"""The built-in strategies pass the same property-testing kit that plugin authors use."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from samplekit import available_strategies
from samplekit.testing import check_strategy, labels

shares = st.floats(0.01, 1.0)
negatives_and_positives = labels(values=[0, 1], min_classes=2)


def test_stratified() -> None:
    check_strategy(
        "stratified",
        permutation=True,
        varies_between_epochs=True,
        invalid_options=[{"unknown": 1}],
    )


def test_negative_subsampling_neg_ratio() -> None:
    check_strategy(
        "negative_subsampling",
        labels=negatives_and_positives,
        neg_ratio=shares,
        without_replacement=True,
        varies_between_epochs=True,
        invalid_options=[{"neg_ratio": 0}, {"neg_ratio": 1.5}, {"neg_ratio": float("nan")}],
    )


def test_negative_subsampling_neg_per_pos_and_cycle() -> None:
    # No labels=: the strategy's own example_labels hold its negative_label and enough
    # negatives for neg_per_pos (fixed label values would leave most drawn options refused).
    check_strategy(
        "negative_subsampling",
        options=st.fixed_dictionaries(
            {"neg_per_pos": st.floats(0.01, 3.0), "cycle": st.booleans()},
            optional={"negative_label": st.sampled_from([1, 2, -7])},
        ),
        without_replacement=True,
        varies_between_epochs=True,
        invalid_options=[{"neg_per_pos": 0}, {"neg_ratio": 0.5}, {"neg_per_pos": -1.0}],
    )


def test_class_weighted_with_replacement() -> None:
    check_strategy(
        "class_weighted",
        num_samples=st.none() | st.integers(1, 500),
        varies_between_epochs=True,
        invalid_options=[{"num_samples": 0}, {"class_weights": "uniform"}],
    )


def test_class_weighted_without_replacement_and_explicit_weights() -> None:
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


def test_class_weighted_without_replacement_never_repeats() -> None:
    check_strategy(
        "class_weighted",
        replacement=False,
        num_samples=st.none() | st.integers(1, 3),
        without_replacement=True,
    )


# --- every installed strategy passes the kit with only its required options ---------------------

# The fewest options each installed strategy needs; a strategy missing here is checked with none.
# The feedback strategies (infobatch, importance, hard_negatives) are driven with observed scores
# too; infobatch's run length leaves its first epochs pruning and the later ones annealing.
REQUIRED_OPTIONS: dict[str, dict[str, Any]] = {
    "negative_subsampling": {"neg_ratio": 0.5},
    "curriculum_negatives": {"start_ratio": 0.1, "end_ratio": 0.9, "epochs": 3},
    "m_per_class": {"m": 2},
    "infobatch": {"epochs": 4},
    "hard_negatives": {"neg_ratio": 0.5},
}


@pytest.mark.parametrize("name", available_strategies())
def test_every_installed_strategy_passes_with_its_required_options_only(name: str) -> None:
    check_strategy(name, max_examples=25, **REQUIRED_OPTIONS.get(name, {}))


def test_the_obvious_call_for_negative_subsampling_passes() -> None:
    check_strategy("negative_subsampling", neg_ratio=0.5)


@pytest.mark.parametrize(
    "options",
    [
        {"neg_ratio": 0.3, "negative_label": -7},
        {"neg_ratio": 0.9, "negative_label": 255, "cycle": True},
        {"neg_per_pos": 0.5},
    ],
)
def test_negative_subsampling_declares_labels_holding_its_negative_label(
    options: dict[str, Any],
) -> None:
    check_strategy("negative_subsampling", max_examples=20, **options)


@pytest.mark.parametrize("options", [{"m": 3}, {"m": 4, "replacement": True}, {"m": 1}])
def test_m_per_class_declares_its_labels_and_batch_sizes(options: dict[str, Any]) -> None:
    check_strategy("m_per_class", max_examples=15, **options)


def test_class_weighted_with_a_weight_mapping_declares_exactly_those_classes() -> None:
    check_strategy(
        "class_weighted",
        max_examples=15,
        class_weights={-3: 0.0, 5: 2.0, 1000: 1.0},
        replacement=st.booleans(),
    )
