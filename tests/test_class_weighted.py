"""class_weighted with extreme weights: exact probabilities, no NaN/inf, never a wrong draw."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from samplekit import EpochBatchSampler
from samplekit.errors import ConfigError
from samplekit.strategies.class_weighted import ClassWeighted

# Positive weights across the whole float64 range, and exact zeros.
positive_weights = st.floats(1e-300, 1e308, allow_nan=False, allow_infinity=False)
weights_or_zero = positive_weights | st.just(0.0) | st.sampled_from([5e-324, 1e-308, 1.0])


@st.composite
def weighted_labels(draw: st.DrawFn) -> tuple[torch.Tensor, dict[int, float]]:
    """Labels of 2..5 classes of 1..40 samples each, and a weight per class (one positive)."""
    sizes = draw(st.lists(st.integers(1, 40), min_size=2, max_size=5))
    weights = draw(st.lists(weights_or_zero, min_size=len(sizes), max_size=len(sizes)))
    if not any(w > 0 for w in weights):
        weights[draw(st.integers(0, len(sizes) - 1))] = draw(positive_weights)
    labels = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(len(labels)))
    return labels[order], dict(enumerate(weights))


def strategy_of(sampler: EpochBatchSampler) -> ClassWeighted:
    strategy = sampler.strategy
    assert isinstance(strategy, ClassWeighted)
    return strategy


def drawn_labels(sampler: EpochBatchSampler, epoch: int) -> list[int]:
    labels = sampler.labels
    return [int(labels[i]) for i in sampler.epoch_indices(epoch).tolist()]


def exact_probabilities(labels: torch.Tensor, weights: dict[int, float]) -> dict[int, float]:
    """P(class c) = w_c n_c / sum(w n), in exact rational arithmetic."""
    counts = Counter(labels.tolist())
    mass = {c: Fraction(weights[c]) * counts[c] for c in counts}
    total = sum(mass.values())
    return {c: float(m / total) for c, m in mass.items()}


def test_huge_equal_weights_draw_both_classes() -> None:
    labels = [0] * 50 + [1] * 50
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=10,
        num_samples=2000,
        class_weights={0: 1e308, 1: 1e308},
    )
    counts = Counter(drawn_labels(sampler, 0))
    assert 850 < counts[0] < 1150
    assert 850 < counts[1] < 1150


def test_tiny_against_huge_weight_without_replacement_takes_the_heavy_class_first() -> None:
    labels = [0] * 50 + [1] * 50
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=10,
        num_samples=60,
        replacement=False,
        class_weights={0: 1e-50, 1: 1e39},
    )
    light = []
    for epoch in range(4):
        drawn = sampler.epoch_indices(epoch).tolist()
        assert len(set(drawn)) == 60
        assert sum(labels[i] for i in drawn) == 50  # every sample of class 1
        light.append(frozenset(i for i in drawn if labels[i] == 0))
    assert len(set(light)) > 1  # which 10 of class 0 is drawn afresh


def test_equal_tiny_weights_without_replacement_vary_between_epochs() -> None:
    sampler = EpochBatchSampler(
        [0] * 50 + [1] * 50,
        "class_weighted",
        batch_size=10,
        num_samples=10,
        replacement=False,
        class_weights={0: 1e-50, 1: 1e-50},
    )
    draws = {frozenset(sampler.epoch_indices(epoch).tolist()) for epoch in range(4)}
    assert len(draws) == 4


def test_zero_weight_never_drawn_beside_a_tiny_one() -> None:
    labels = [0] * 30 + [1] * 30 + [2] * 30
    weights = {0: 0.0, 1: 1e-50, 2: 1.0}
    for num in (35, 60):
        sampler = EpochBatchSampler(
            labels,
            "class_weighted",
            batch_size=5,
            num_samples=num,
            replacement=False,
            class_weights=weights,
        )
        for epoch in range(3):
            counts = Counter(drawn_labels(sampler, epoch))
            assert counts[0] == 0
            assert counts[2] == 30
            assert counts[1] == num - 30


def test_subnormal_weight_is_drawn_once_the_heavy_class_is_used_up() -> None:
    labels = [0] * 10 + [1] * 10 + [2] * 10
    sampler = EpochBatchSampler(
        labels,
        "class_weighted",
        batch_size=5,
        num_samples=15,
        replacement=False,
        class_weights={0: 5e-324, 1: 1e308, 2: 0.0},
    )
    counts = Counter(drawn_labels(sampler, 0))
    assert counts == Counter({1: 10, 0: 5})


def test_all_zero_weights_refused_with_a_short_message() -> None:
    labels = torch.arange(200_000)
    with pytest.raises(ConfigError, match="are all zero") as caught:
        EpochBatchSampler(
            labels, "class_weighted", batch_size=4, class_weights=dict.fromkeys(range(200_000), 0.0)
        )
    assert len(str(caught.value)) < 1000


@given(weighted_labels(), st.booleans(), st.integers(0, 2**32), st.integers(0, 1000))
def test_extreme_weights_are_finite_reproducible_and_never_draw_weight_zero(
    case: tuple[torch.Tensor, dict[int, float]], replacement: bool, seed: int, epoch: int
) -> None:
    labels, weights = case
    drawable = sum(int((labels == c).sum()) for c, w in weights.items() if w > 0)
    num = drawable if replacement else max(1, drawable // 2)

    def build() -> EpochBatchSampler:
        return EpochBatchSampler(
            labels,
            "class_weighted",
            batch_size=7,
            seed=seed,
            class_weights=weights,
            replacement=replacement,
            num_samples=num,
        )

    sampler = build()
    strategy = strategy_of(sampler)
    cdf = strategy.class_cdf
    assert bool(torch.isfinite(cdf).all())
    assert bool((cdf[1:] >= cdf[:-1]).all())
    assert float(cdf[-1]) == 1.0
    assert not bool(torch.isnan(strategy.log_weight).any())
    assert bool((strategy.log_weight <= 0).all())

    drawn = sampler.epoch_indices(epoch)
    assert drawn.numel() == num
    assert all(weights[int(labels[i])] > 0 for i in drawn.tolist())
    if not replacement:
        assert len(set(drawn.tolist())) == num
    assert torch.equal(build().epoch_indices(epoch), drawn)


@given(weighted_labels(), st.integers(0, 2**32))
def test_with_replacement_class_shares_match_exact_probabilities(
    case: tuple[torch.Tensor, dict[int, float]], seed: int
) -> None:
    labels, weights = case
    num = 4000
    sampler = EpochBatchSampler(
        labels, "class_weighted", batch_size=100, seed=seed, class_weights=weights, num_samples=num
    )
    counts = Counter(drawn_labels(sampler, 0))
    for c, p in exact_probabilities(labels, weights).items():
        spread = 6 * math.sqrt(p * (1 - p) / num) + 1 / num
        assert abs(counts[c] / num - p) <= spread, (c, p, counts)


@given(weighted_labels(), st.integers(0, 2**32))
def test_without_replacement_a_vastly_heavier_class_comes_first(
    case: tuple[torch.Tensor, dict[int, float]], seed: int
) -> None:
    labels, weights = case
    heavy = max(weights, key=lambda c: weights[c])
    others = [w for c, w in weights.items() if c != heavy and w > 0]
    weights[heavy] = 1e308
    others_max = max(others, default=0.0)
    if others_max > 1e280:  # keep a gap of 28 orders of magnitude at least
        weights = {c: (w * 1e-28 if c != heavy else w) for c, w in weights.items()}
    n_heavy = int((labels == heavy).sum())
    drawable = sum(int((labels == c).sum()) for c, w in weights.items() if w > 0)
    for num in {max(1, n_heavy // 2), n_heavy, drawable}:
        sampler = EpochBatchSampler(
            labels,
            "class_weighted",
            batch_size=3,
            seed=seed,
            class_weights=weights,
            num_samples=num,
            replacement=False,
        )
        counts = Counter(drawn_labels(sampler, 0))
        assert counts[heavy] == min(num, n_heavy)
        assert sum(counts.values()) == num
