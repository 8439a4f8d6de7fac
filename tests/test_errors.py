"""Every bad input fails at construction with a ValueError naming the field and value."""

from typing import Any

import numpy as np
import pytest
import torch

from samplekit import (
    ConfigError,
    EpochBatchSampler,
    LabelsError,
    SampleKitError,
    UnknownStrategyError,
)

BINARY = [0] * 8 + [1] * 2

CASES = [
    # (labels, strategy, settings and options, error type, fragments the message must hold)
    (
        BINARY,
        "negative_sampling",
        {},
        UnknownStrategyError,
        ["'negative_sampling'", "negative_subsampling", "did you mean"],
    ),
    (BINARY, "stratified", {"batch_size": 0}, ConfigError, ["batch_size", "0"]),
    (BINARY, "stratified", {"batch_size": -3}, ConfigError, ["batch_size", "-3"]),
    (BINARY, "stratified", {"batch_size": 2.5}, ConfigError, ["batch_size", "2.5"]),
    (BINARY, "stratified", {"batch_size": 2, "seed": "abc"}, ConfigError, ["seed", "abc"]),
    (BINARY, "stratified", {"shuffle": True}, ConfigError, ["shuffle", "stratified"]),
    (BINARY, "negative_subsampling", {"neg_ratio": 1.5}, ConfigError, ["neg_ratio", "1.5"]),
    (BINARY, "negative_subsampling", {"neg_ratio": 0}, ConfigError, ["neg_ratio", "0"]),
    (
        BINARY,
        "negative_subsampling",
        {"neg_ratio": float("nan")},
        ConfigError,
        ["neg_ratio", "nan"],
    ),
    (BINARY, "negative_subsampling", {"neg_ratio": "lots"}, ConfigError, ["neg_ratio", "lots"]),
    (BINARY, "negative_subsampling", {}, ConfigError, ["neg_ratio", "neg_per_pos", "neither"]),
    (
        BINARY,
        "negative_subsampling",
        {"neg_ratio": 0.5, "neg_per_pos": 1},
        ConfigError,
        ["neg_ratio", "neg_per_pos", "both"],
    ),
    (
        BINARY,
        "negative_subsampling",
        {"neg_per_pos": 5},
        ConfigError,
        ["neg_per_pos", "5", "only 8"],
    ),
    (BINARY, "negative_subsampling", {"neg_per_pos": -1}, ConfigError, ["neg_per_pos", "-1"]),
    (
        BINARY,
        "negative_subsampling",
        {"neg_ratio": 0.5, "negative_label": 7},
        LabelsError,
        ["negative_label=7"],
    ),
    # labels are held as uint8 here: labels outside that range must not wrap onto 0 or 255
    (
        BINARY,
        "negative_subsampling",
        {"neg_ratio": 0.5, "negative_label": 256},
        LabelsError,
        ["negative_label=256"],
    ),
    (
        [0, 1, 255],
        "negative_subsampling",
        {"neg_ratio": 0.5, "negative_label": -1},
        LabelsError,
        ["negative_label=-1"],
    ),
    (
        [0] * 10,
        "negative_subsampling",
        {"neg_ratio": 0.5},
        LabelsError,
        ["no positives", "negative_label=0"],
    ),
    ([1] * 10, "negative_subsampling", {"neg_ratio": 0.5}, LabelsError, ["negative_label=0"]),
    (
        BINARY,
        "negative_subsampling",
        {"neg_ratio": 0.5, "cycle": "sometimes"},
        ConfigError,
        ["cycle", "sometimes"],
    ),
    (
        BINARY,
        "class_weighted",
        {"class_weights": {0: 1, 1: 1, 5: 2}},
        ConfigError,
        ["class_weights", "[5]"],
    ),
    (BINARY, "class_weighted", {"class_weights": {0: 1}}, ConfigError, ["class_weights", "[1]"]),
    (
        BINARY,
        "class_weighted",
        {"class_weights": {0: -1, 1: 1}},
        ConfigError,
        ["class_weights", "-1"],
    ),
    (
        BINARY,
        "class_weighted",
        {"class_weights": {0: float("nan"), 1: 1}},
        ConfigError,
        ["class_weights", "nan"],
    ),
    (
        BINARY,
        "class_weighted",
        {"class_weights": {0: 0, 1: 0}},
        ConfigError,
        ["class_weights", "all zero"],
    ),
    (
        BINARY,
        "class_weighted",
        {"class_weights": "inverse"},
        ConfigError,
        ["class_weights", "inverse"],
    ),
    (BINARY, "class_weighted", {"num_samples": 0}, ConfigError, ["num_samples", "0"]),
    (
        BINARY,
        "class_weighted",
        {"num_samples": 11, "replacement": False},
        ConfigError,
        ["num_samples=11", "replacement"],
    ),
    (
        BINARY,
        "class_weighted",
        {"class_weights": {0: 0, 1: 1}, "num_samples": 3, "replacement": False},
        ConfigError,
        ["num_samples=3", "2"],
    ),
    ([], "stratified", {}, LabelsError, ["labels", "empty"]),
    ([[0, 1], [1, 0]], "stratified", {}, LabelsError, ["labels", "1-D", "(2, 2)"]),
    ([0.0, 1.0, 1.0], "stratified", {}, LabelsError, ["labels", "float"]),
    (np.array([0.5, 1.5]), "stratified", {}, LabelsError, ["labels", "float64"]),
    (torch.zeros(3, 2, dtype=torch.long), "stratified", {}, LabelsError, ["labels", "1-D"]),
    (["cat", "dog"], "stratified", {}, LabelsError, ["labels"]),
    (object(), "stratified", {}, LabelsError, ["labels", ".targets", "object"]),
    (BINARY, 42, {}, ConfigError, ["strategy", "42"]),
    (BINARY, {"neg_ratio": 0.5}, {}, ConfigError, ["strategy", "'name'"]),
    (
        BINARY,
        {"name": "negative_subsampling", "neg_ratio": 0.5},
        {"neg_ratio": 0.2},
        ConfigError,
        ["neg_ratio", "twice"],
    ),
]


@pytest.mark.parametrize(("labels", "strategy", "kwargs", "error", "fragments"), CASES)
def test_bad_input_raises_at_construction(
    labels: Any, strategy: str, kwargs: dict[str, Any], error: type[Exception], fragments: list[str]
) -> None:
    kwargs = {"batch_size": 4, **kwargs}
    with pytest.raises(error) as info:
        EpochBatchSampler(labels, strategy, **kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SampleKitError)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize(
    ("config", "fragments"),
    [
        ({"strategy": "stratified"}, ["batch_size", "required"]),
        ({"strategy": "stratified", "batch_size": 4, "epochs": 3}, ["epochs"]),
        ({"batch_size": 4}, ["strategy", "required"]),
        ({"strategy": {"name": "stratified", "bogus": 1}, "batch_size": 4}, ["bogus"]),
        ({"strategy": {"name": "nope"}, "batch_size": 4}, ["'nope'", "available"]),
        ('{"strategy": "stratified", "batch_size": "x"}', ["batch_size", "'x'"]),
        ("{not json", ["json"]),
    ],
)
def test_bad_config_raises_with_the_field(
    config: dict[str, Any] | str, fragments: list[str]
) -> None:
    with pytest.raises(ValueError) as info:  # noqa: PT011 - the message is checked below
        EpochBatchSampler.from_config(config, BINARY)
    assert isinstance(info.value, SampleKitError)
    for fragment in fragments:
        assert fragment.lower() in str(info.value).lower()


@pytest.mark.parametrize("epoch", [-1, 1.5, "2", True])
def test_set_epoch_refuses_non_epochs(epoch: Any) -> None:
    sampler = EpochBatchSampler(BINARY, "stratified", batch_size=2)
    with pytest.raises(ConfigError, match="epoch"):
        sampler.set_epoch(epoch)
