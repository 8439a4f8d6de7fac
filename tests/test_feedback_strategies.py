"""infobatch, importance and hard_negatives, driven directly with hand-made feedback."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from samplekit.errors import ConfigError, LabelsError
from samplekit.feedback import FeedbackState
from samplekit.rng import generator
from samplekit.strategies import hard_negatives, importance, infobatch
from samplekit.strategies.hard_negatives import HardNegatives
from samplekit.strategies.importance import Importance
from samplekit.strategies.infobatch import InfoBatch
from samplekit.strategy import EpochContext, FeedbackStrategy, FeedbackView
from samplekit.testing import check_strategy

NAN = math.nan


def context(epoch: int, feedback: FeedbackView | None, seed: int = 0) -> EpochContext:
    return EpochContext(
        epoch=epoch, seed=seed, batch_size=8, generator=generator(seed, epoch), feedback=feedback
    )


def view_of(scores: list[float]) -> FeedbackView:
    """A view with these scores (NaN: never observed), observed in epoch 0."""
    tensor = torch.tensor(scores, dtype=torch.float32)
    observed = torch.where(torch.isnan(tensor), -1, 0).to(torch.int64)
    return FeedbackView(tensor, observed)


def make_options(cls: type[Any], **values: Any) -> Any:
    """``cls``'s validated options (mypy sees no defaults in pydantic fields without a plugin)."""
    return cls.Options.model_validate(values)


def zeros(n: int) -> torch.Tensor:
    return torch.zeros(n, dtype=torch.int64)


# Scores on a coarse grid (exact float32 and exact float64 sums), with ties, or never observed.
grid_score = st.integers(0, 80).map(lambda i: i / 4)
score_lists = st.lists(st.one_of(st.just(NAN), grid_score), min_size=1, max_size=120)


@pytest.mark.parametrize(
    ("module", "cls"),
    [(infobatch, InfoBatch), (importance, Importance), (hard_negatives, HardNegatives)],
)
def test_each_module_registers_its_feedback_strategy(module: Any, cls: type[Any]) -> None:
    registered: list[type[Any]] = []
    module.samplekit_register_strategies(register=registered.append)
    assert registered == [cls]
    assert issubclass(cls, FeedbackStrategy)
    assert cls.uses_feedback
    for name, field in cls.Options.model_fields.items():
        assert field.description, name


@pytest.mark.parametrize(
    ("cls", "options"),
    [
        (InfoBatch, {}),  # epochs is required
        (InfoBatch, {"epochs": True}),
        (InfoBatch, {"epochs": 2.0}),
        (InfoBatch, {"epochs": 0}),
        (InfoBatch, {"epochs": 5, "prune_ratio": 0}),
        (InfoBatch, {"epochs": 5, "prune_ratio": 1}),
        (InfoBatch, {"epochs": 5, "anneal": 1.5}),
        (InfoBatch, {"epochs": 5, "rescale": 1}),
        (Importance, {"num_samples": 0}),
        (Importance, {"num_samples": 2**31}),
        (Importance, {"alpha": -1.0}),
        (Importance, {"alpha": math.inf}),
        (Importance, {"smoothing": -0.5}),
        (Importance, {"uniform": 1.01}),
        (Importance, {"uniform": 0.0}),
        (Importance, {"uniform": True}),
        (HardNegatives, {"hard_fraction": 0.5}),  # neither neg_ratio nor neg_per_pos
        (HardNegatives, {"neg_ratio": 0.5, "hard_fraction": 1.5}),
        (HardNegatives, {"neg_ratio": 0.5, "cycle": True}),
        (HardNegatives, {"neg_ratio": 0.5, "unknown": 1}),
    ],
)
def test_options_are_strict(cls: type[Any], options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        cls.Options(**options)


@pytest.mark.parametrize(
    ("cls", "options"),
    [
        (InfoBatch, {"epochs": 3}),
        (Importance, {}),
        (HardNegatives, {"neg_ratio": 0.5}),
    ],
)
def test_no_feedback_is_the_empty_view(cls: type[Any], options: dict[str, Any]) -> None:
    labels = torch.tensor([0, 1] * 20)
    strategy = cls(labels, cls.Options(**options))
    empty = FeedbackView.empty(40)
    assert strategy.epoch_length(0) == strategy.epoch_length(0, None)
    assert strategy.epoch_length(0, None) == strategy.epoch_length(0, empty)
    assert torch.equal(strategy.sample(context(0, None)), strategy.sample(context(0, empty)))
    with pytest.raises(ConfigError, match=r"feedback: scores must be a torch.float32 tensor"):
        strategy.sample(context(0, FeedbackView.empty(39)))


@pytest.mark.slow
def test_strategies_pass_the_contract_kit_without_feedback() -> None:
    check_strategy(InfoBatch, epochs=st.integers(1, 4), permutation=True, max_examples=15)
    check_strategy(Importance, alpha=st.floats(0, 3), max_examples=15)
    check_strategy(HardNegatives, neg_ratio=0.5, without_replacement=True, max_examples=15)


# --- infobatch -----------------------------------------------------------------------------


def reference_well_learned(scores: list[float]) -> set[int]:
    """Observed scores strictly below the observed scores' mean, in exact arithmetic."""
    seen = {i: Fraction(s) for i, s in enumerate(scores) if not math.isnan(s)}
    if not seen:
        return set()
    mean = sum(seen.values()) / len(seen)
    return {i for i, s in seen.items() if s < mean}


@given(
    scores=score_lists,
    ratio=st.floats(0.01, 0.99),
    epoch=st.integers(0, 12),
    epochs=st.integers(1, 10),
    anneal=st.sampled_from([0.0, 0.125, 0.3, 1.0]),
    seed=st.integers(0, 3),
)
@settings(max_examples=60)
def test_infobatch_prunes_exactly_round_r_k_of_the_well_learned(
    scores: list[float], ratio: float, epoch: int, epochs: int, anneal: float, seed: int
) -> None:
    n = len(scores)
    options = make_options(InfoBatch, prune_ratio=ratio, epochs=epochs, anneal=anneal)
    strategy = InfoBatch(zeros(n), options)
    view = view_of(scores)
    out = strategy.sample(context(epoch, view, seed))
    kept = out.tolist()
    assert len(kept) == len(set(kept)) == strategy.epoch_length(epoch, view)
    well = reference_well_learned(scores)
    annealing = epoch >= epochs - round(anneal * epochs)
    pruned = set(range(n)) - set(kept)
    if annealing:
        assert not pruned
    else:
        assert len(pruned) == round(ratio * len(well))
        assert pruned <= well  # unobserved and not-well-learned samples are always kept
    assert torch.equal(out, strategy.sample(context(epoch, view, seed)))  # deterministic
    weights = strategy.loss_weights(epoch, view)
    assert weights.dtype == torch.float32
    assert weights.shape == (n,)
    big = torch.tensor(1 / (1 - ratio), dtype=torch.float32)
    for i in range(n):
        wanted = big if i in well and not annealing else torch.tensor(1.0)
        assert weights[i] == wanted


def test_infobatch_annealing_epochs_and_the_weights_after_them() -> None:
    view = view_of([0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 4.0, 4.0, NAN])
    strategy = InfoBatch(zeros(9), make_options(InfoBatch, prune_ratio=0.5, epochs=8, anneal=0.25))
    assert strategy.anneal_start == 6
    lengths = [strategy.epoch_length(e, view) for e in range(12)]
    assert lengths == [7] * 6 + [9] * 6  # 2 of the 4 well-learned pruned until epoch 6
    assert strategy.loss_weights(5, view).tolist() == [2.0] * 4 + [1.0] * 5
    for epoch in (6, 7, 8, 100):  # annealing and beyond the run: full data, weights back to 1
        assert sorted(strategy.sample(context(epoch, view)).tolist()) == list(range(9))
        assert strategy.loss_weights(epoch, view).tolist() == [1.0] * 9
    unscaled = InfoBatch(zeros(9), make_options(InfoBatch, epochs=8, rescale=False))
    assert unscaled.loss_weights(0, view).tolist() == [1.0] * 9


@pytest.mark.parametrize(
    ("epochs", "anneal", "start"),
    [(4, 0.125, 4), (12, 0.125, 10), (20, 0.125, 18), (200, 0.125, 175), (3, 1.0, 0), (5, 0, 5)],
)
def test_infobatch_annealing_start_rounds_half_to_even(
    epochs: int, anneal: float, start: int
) -> None:
    strategy = InfoBatch(zeros(3), make_options(InfoBatch, epochs=epochs, anneal=anneal))
    assert strategy.anneal_start == start
    assert strategy.annealing(start)
    assert not strategy.annealing(start - 1)


@pytest.mark.parametrize(
    ("k", "ratio", "pruned"), [(1, 0.5, 0), (3, 0.5, 2), (5, 0.5, 2), (4, 0.3, 1)]
)
def test_infobatch_pruned_count_is_pythons_round(k: int, ratio: float, pruned: int) -> None:
    scores = [0.0] * k + [10.0] * (k + 1)
    strategy = InfoBatch(zeros(2 * k + 1), make_options(InfoBatch, prune_ratio=ratio, epochs=5))
    assert strategy.epoch_length(0, view_of(scores)) == 2 * k + 1 - pruned


def test_infobatch_equal_scores_prune_nothing() -> None:
    # As InfoBatch's initial state (every score equal): nothing lies below the mean.
    strategy = InfoBatch(zeros(6), make_options(InfoBatch, epochs=5))
    view = view_of([3.0] * 6)
    assert strategy.epoch_length(0, view) == 6
    assert strategy.loss_weights(0, view).tolist() == [1.0] * 6
    assert sorted(strategy.sample(context(0, view)).tolist()) == list(range(6))


def test_infobatch_prunes_each_well_learned_sample_equally_often() -> None:
    scores = [0.0] * 10 + [5.0] * 10
    strategy = InfoBatch(zeros(20), make_options(InfoBatch, prune_ratio=0.3, epochs=1000))
    view = view_of(scores)
    pruned: Counter[int] = Counter()
    for epoch in range(600):
        kept = set(strategy.sample(context(epoch, view)).tolist())
        pruned.update(set(range(20)) - kept)
    assert set(pruned) <= set(range(10))
    for i in range(10):  # 3 of 10 per epoch: 180 expected, sd about 11
        assert 130 < pruned[i] < 230, pruned


def test_infobatch_with_a_feedback_state_across_epochs() -> None:
    state = FeedbackState(10)
    strategy = InfoBatch(zeros(10), make_options(InfoBatch, epochs=4, anneal=0.25))
    seen: list[int] = []
    for epoch in range(4):
        view = state.view()
        order = strategy.sample(context(epoch, view))
        assert len(order) == strategy.epoch_length(epoch, view)
        seen.append(len(order))
        state.observe(order, order.float(), epoch=epoch)  # score = index: low indices learned
        state.apply()
    assert seen[0] == 10  # nothing observed yet
    assert seen[1] == 10 - round(0.5 * 5)  # 0..4 lie below the mean 4.5
    assert seen[3] == 10  # annealing


# --- importance ----------------------------------------------------------------------------


@given(
    scores=st.lists(st.one_of(st.just(NAN), st.floats(0, 1e6, width=32)), min_size=1, max_size=80),
    alpha=st.floats(0, 5),
    smoothing=st.sampled_from([0.0, 1e-3, 1.0]),
    uniform=st.sampled_from([1e-9, 0.05, 0.5, 1.0]),
)
@settings(max_examples=60)
def test_importance_weights_are_unbiased(
    scores: list[float], alpha: float, smoothing: float, uniform: float
) -> None:
    n = len(scores)
    options = make_options(Importance, alpha=alpha, smoothing=smoothing, uniform=uniform)
    strategy = Importance(zeros(n), options)
    view = view_of(scores)
    p = strategy.probabilities(view)
    assert p.dtype == torch.float64
    assert not bool(torch.isnan(p).any())
    assert math.isclose(float(p.sum()), 1.0, rel_tol=1e-9)
    assert bool((p >= uniform / n * (1 - 1e-12)).all())
    weights = strategy.loss_weights(0, view)
    assert weights.dtype == torch.float32
    drawable = p > 0
    product = n * p[drawable] * weights[drawable].double()
    assert torch.allclose(product, torch.ones_like(product), rtol=1e-6)
    assert bool((weights[~drawable] == 0).all())
    out = strategy.sample(context(0, view))
    assert len(out) == strategy.epoch_length(0, view) == n
    assert bool(drawable[out.long()].all())  # a sample of p = 0 is never drawn


def test_importance_probabilities_follow_the_formula() -> None:
    view = view_of([0.0, 1.0, 4.0, NAN])  # the unobserved one counts as 4.0
    strategy = Importance(zeros(4), make_options(Importance, alpha=0.5, smoothing=0.0, uniform=0.2))
    q = torch.tensor([0.0, 1.0, 2.0, 2.0], dtype=torch.float64) / 5
    assert torch.allclose(strategy.probabilities(view), 0.8 * q + 0.05)
    assert strategy.probabilities(None).tolist() == [0.25] * 4  # no observation: uniform
    flat = Importance(zeros(4), make_options(Importance, alpha=0.0, uniform=1e-9))
    assert flat.probabilities(view).tolist() == pytest.approx([0.25] * 4)
    zero = Importance(zeros(3), make_options(Importance, uniform=1e-9))
    assert zero.probabilities(view_of([0.0, 0.0, NAN])).tolist() == pytest.approx([1 / 3] * 3)
    steep = Importance(zeros(3), make_options(Importance, alpha=1e300, uniform=1e-9))
    got = steep.probabilities(view_of([1.0, 2.0, 1.5])).tolist()
    assert got == pytest.approx([1e-9 / 3, 1 - 2e-9 / 3, 1e-9 / 3], abs=1e-12)


def test_importance_frequencies_follow_p() -> None:
    view = view_of([0.5, 1.0, 2.0, 4.0, NAN, 0.0])
    strategy = Importance(zeros(6), make_options(Importance, num_samples=200_000, uniform=0.1))
    p = strategy.probabilities(view)
    counts = torch.bincount(strategy.sample(context(3, view)).long(), minlength=6).double()
    expected = p * 200_000
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 25.7  # 5 degrees of freedom: exceeded with probability 1e-4


def test_importance_refuses_negative_scores_when_planning() -> None:
    strategy = Importance(zeros(3), make_options(Importance))
    view = view_of([1.0, -0.5, NAN])
    assert strategy.epoch_length(0, view) == 3
    match = r"importance: sample 1 has the score -0.5.*scores >= 0"
    with pytest.raises(ConfigError, match=match):
        strategy.sample(context(0, view))
    with pytest.raises(ConfigError, match=match):
        strategy.loss_weights(0, view)


def test_importance_num_samples_and_determinism() -> None:
    strategy = Importance(zeros(5), make_options(Importance, num_samples=17))
    view = view_of([1.0, 2.0, 3.0, 4.0, 5.0])
    out = strategy.sample(context(2, view))
    assert len(out) == strategy.epoch_length(2, view) == 17
    assert torch.equal(out, strategy.sample(context(2, view)))
    assert not torch.equal(out, strategy.sample(context(3, view)))


def test_importance_draws_beyond_two_to_the_24() -> None:
    n = 2**24 + 5  # past torch.multinomial's limit, and past float32's exact integers
    scores = torch.zeros(n, dtype=torch.float32)
    scores[n - 2] = 1.0
    view = FeedbackView(scores, torch.zeros(n, dtype=torch.int64))
    strategy = Importance(
        torch.zeros(n, dtype=torch.uint8), make_options(Importance, num_samples=50, uniform=1e-9)
    )
    assert strategy.sample(context(0, view)).tolist() == [n - 2] * 50


# --- hard_negatives ------------------------------------------------------------------------


@st.composite
def negatives_case(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    """Labels of negatives (0) and positives (1, 2), and a score or NaN per sample."""
    values = draw(st.lists(st.sampled_from([0, 0, 0, 1, 2]), max_size=98))
    labels = draw(st.permutations([*values, 0, 1]))  # at least one negative and one positive
    scores = draw(
        st.lists(st.one_of(st.just(NAN), grid_score), min_size=len(labels), max_size=len(labels))
    )
    return labels, scores


def reference_hard(labels: list[int], scores: list[float], count: int) -> list[int]:
    seen = [
        i
        for i, (lab, s) in enumerate(zip(labels, scores, strict=True))
        if lab == 0 and not math.isnan(s)
    ]
    return sorted(seen, key=lambda i: (-scores[i], i))[:count]


@given(
    case=negatives_case(), ratio=st.floats(0.01, 1.0), hard=st.floats(0, 1), seed=st.integers(0, 3)
)
@settings(max_examples=60)
def test_hard_negatives_holds_the_positives_the_top_scored_and_random_others(
    case: tuple[list[int], list[float]], ratio: float, hard: float, seed: int
) -> None:
    labels, scores = case
    options = make_options(HardNegatives, neg_ratio=ratio, hard_fraction=hard)
    strategy = HardNegatives(torch.tensor(labels), options)
    view = view_of(scores)
    out = strategy.sample(context(seed, view, seed)).tolist()
    assert len(out) == len(set(out)) == strategy.epoch_length(seed, view)
    positives = {i for i, label in enumerate(labels) if label != 0}
    negatives = set(out) - positives
    assert positives <= set(out)
    assert len(negatives) == strategy.k
    assert all(labels[i] == 0 for i in negatives)
    wanted = reference_hard(labels, scores, round(hard * strategy.k))
    assert strategy.hard_negatives(view).tolist() == wanted
    assert set(wanted) <= negatives
    assert torch.equal(torch.tensor(out), strategy.sample(context(seed, view, seed)))


def test_hard_negatives_ties_go_to_the_lower_index_and_unobserved_are_never_hard() -> None:
    labels = torch.tensor([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    scores = [0.0, 2.0, 5.0, 5.0, NAN, 5.0, 1.0, NAN, 0.0, 2.0]
    view = view_of(scores)
    strategy = HardNegatives(labels, make_options(HardNegatives, neg_ratio=0.5, hard_fraction=1.0))
    assert strategy.k == 4  # round(0.5 * 9) == 4, halves to even
    assert strategy.hard_negatives(view).tolist() == [2, 3, 5, 1]
    for epoch in range(5):  # every negative of the epoch is hard: always the same set
        assert set(strategy.sample(context(epoch, view)).tolist()) == {0, 1, 2, 3, 5}
    assert strategy.hard_negatives(None).tolist() == []
    few = view_of([NAN] * 9 + [3.0])  # fewer observed than asked for: all of them are hard
    assert strategy.hard_negatives(few).tolist() == [9]
    assert 9 in strategy.sample(context(0, few)).tolist()


def test_hard_negatives_zero_fraction_is_negative_subsampling() -> None:
    labels = torch.tensor([0] * 30 + [1] * 5)
    strategy = HardNegatives(
        labels, make_options(HardNegatives, neg_per_pos=2.0, hard_fraction=0.0)
    )
    view = view_of([float(i) for i in range(35)])
    assert strategy.hard_negatives(view).tolist() == []
    assert strategy.epoch_length(0, view) == 15
    seen: set[int] = set()
    for epoch in range(40):
        seen |= set(strategy.sample(context(epoch, view)).tolist())
    assert seen == set(range(35))  # random negatives: every one comes up


def test_hard_negatives_errors_name_hard_negatives() -> None:
    with pytest.raises(LabelsError, match=r"^hard_negatives: no sample has negative_label=0"):
        HardNegatives(torch.tensor([1, 2]), make_options(HardNegatives, neg_ratio=0.5))
    with pytest.raises(ConfigError, match=r"^hard_negatives: neg_per_pos=5.0 asks for 5"):
        HardNegatives(torch.tensor([0, 0, 1]), make_options(HardNegatives, neg_per_pos=5.0))
    with pytest.raises(ValidationError, match=r"cycle=True is not supported by hard_negatives"):
        make_options(HardNegatives, neg_ratio=0.5, cycle=True)
