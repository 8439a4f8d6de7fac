"""The kit drives feedback strategies: it passes correct ones and catches each kind of broken one.

`check_strategy` observes generated scores between and within epochs; every broken strategy here
passes the checks made without feedback, so only that drive can catch it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import torch
from hypothesis import find, given, settings
from hypothesis import strategies as st

import samplekit
from samplekit import ConfigError, EpochContext, FeedbackStrategy, FeedbackView
from samplekit.feedback import as_view
from samplekit.rng import generator
from samplekit.testing import (
    SCORE_DISTRIBUTIONS,
    FeedbackModel,
    StrategyContractError,
    check_strategy,
    feedback_models,
    labels,
)

if TYPE_CHECKING:
    from collections.abc import Callable

SMALL = labels(max_size=200)
FEW = 30  # examples per check of a broken strategy: enough to find it, fast to shrink


class SkipsEasy(FeedbackStrategy):
    """Every sample but the observed ones scored below the observed mean, shuffled."""

    name = "skips_easy_for_kit"

    def easy(self, feedback: FeedbackView | None) -> torch.Tensor:
        scores = as_view(feedback, self.labels.numel()).scores.to(torch.float64)
        scored = ~torch.isnan(scores)
        if not bool(scored.any()):
            return torch.zeros(self.labels.numel(), dtype=torch.bool)
        return scores < scores[scored].mean()

    def epoch_length(self, epoch: int, feedback: FeedbackView | None = None) -> int:
        return self.labels.numel() - int(self.easy(feedback).sum())

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        kept = torch.nonzero(~self.easy(ctx.feedback)).flatten()
        return kept[torch.randperm(kept.numel(), generator=ctx.generator)]

    def loss_weights(self, epoch: int, feedback: FeedbackView) -> torch.Tensor | None:
        # 0 is fine for the samples the epoch leaves out: they never reach the loss.
        return (~self.easy(feedback)).to(torch.float32)


def broken(name: str, **methods: Callable[..., Any]) -> type[SkipsEasy]:
    """A SkipsEasy variant with some methods replaced."""
    return type(name, (SkipsEasy,), {"name": name, **methods})


def observed(feedback: FeedbackView | None) -> bool:
    return feedback is not None and bool((feedback.observed >= 0).any())


def expect_broken(
    strategy: type[samplekit.Strategy], claim: str, *also: str, **kwargs: Any
) -> StrategyContractError:
    """The kit fails ``strategy`` on ``claim`` (or, where either is right, one of ``also``)."""
    kwargs.setdefault("labels", SMALL)
    kwargs.setdefault("max_examples", FEW)
    with pytest.raises(StrategyContractError) as info:
        check_strategy(strategy, **kwargs)
    assert info.value.claim in {claim, *also}, str(info.value)
    assert f"'{info.value.claim}'" in str(info.value)
    assert "feedback over epochs" in info.value.inputs, info.value.inputs
    return info.value


# --- correct strategies pass ---------------------------------------------------------------------


def test_a_correct_feedback_strategy_passes_every_claim() -> None:
    check_strategy(SkipsEasy, labels=SMALL, without_replacement=True, max_examples=FEW)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("infobatch", {"epochs": 4}),
        ("importance", {}),
        ("hard_negatives", {"neg_ratio": 0.5}),
    ],
)
def test_the_builtin_feedback_strategies_pass(name: str, options: dict[str, Any]) -> None:
    check_strategy(name, max_examples=20, **options)


def test_the_builtins_pass_with_drawn_options() -> None:
    check_strategy(
        "infobatch",
        epochs=st.integers(1, 6),
        prune_ratio=st.floats(0.01, 0.99),
        anneal=st.sampled_from([0.0, 0.125, 1.0]),
        rescale=st.booleans(),
        without_replacement=True,
        max_examples=15,
    )
    check_strategy(
        "importance",
        num_samples=st.none() | st.integers(1, 300),
        alpha=st.sampled_from([0.0, 1.0, 3.0]),
        smoothing=st.sampled_from([0.0, 0.5]),
        uniform=st.sampled_from([0.01, 0.1, 1.0]),
        max_examples=15,
    )
    check_strategy(
        "hard_negatives",
        neg_ratio=st.floats(0.01, 1.0),
        hard_fraction=st.sampled_from([0.0, 0.5, 1.0]),
        without_replacement=True,
        max_examples=15,
    )


# --- broken strategies are caught by the claim they break ----------------------------------------


def test_catches_an_epoch_length_that_ignores_the_feedback() -> None:
    # The epoch shrinks with the feedback, but epoch_length (so len(sampler)) does not.
    def epoch_length(self: SkipsEasy, epoch: int, feedback: FeedbackView | None = None) -> int:
        return self.labels.numel()

    lies = broken("length_ignores_feedback", epoch_length=epoch_length)
    expect_broken(lies, "epoch_length", "len(sampler)")


def test_catches_a_len_that_changes_while_scores_come_in() -> None:
    # epoch_length reads the scores observed last (kept by sample), not the epoch's view.
    class Latest(SkipsEasy):
        name = "reads_latest_scores"
        latest: FeedbackView | None = None

        def epoch_length(self, epoch: int, feedback: FeedbackView | None = None) -> int:
            return super().epoch_length(epoch, feedback if self.latest is None else self.latest)

        def sample(self, ctx: EpochContext) -> torch.Tensor:
            self.latest = ctx.feedback
            return super().sample(ctx)

    expect_broken(Latest, "epoch_length", "len(sampler)", "deterministic", "resume")


def sample_with_global_rng_once_observed(self: SkipsEasy, ctx: EpochContext) -> torch.Tensor:
    kept = torch.nonzero(~self.easy(ctx.feedback)).flatten()
    if observed(ctx.feedback):  # only once scores came in: the checks without feedback pass
        return kept[torch.randperm(kept.numel())]
    return kept[torch.randperm(kept.numel(), generator=ctx.generator)]


def test_catches_global_rng_read_only_once_scores_were_observed() -> None:
    strategy = broken("global_rng_with_feedback", sample=sample_with_global_rng_once_observed)
    expect_broken(strategy, "no global RNG")


@pytest.mark.parametrize(
    ("what", "bad"),
    [("nan", float("nan")), ("negative", -1.0), ("inf", float("inf")), ("zero", 0.0)],
)
def test_catches_loss_weights_that_are_not_finite_and_positive(what: str, bad: float) -> None:
    def loss_weights(self: SkipsEasy, epoch: int, feedback: FeedbackView) -> torch.Tensor:
        weights = torch.ones(self.labels.numel())
        if observed(feedback):
            weights[~self.easy(feedback)] = bad  # samples the epoch holds
        return weights

    expect_broken(broken(f"weights_{what}", loss_weights=loss_weights), "loss_weights")


def test_catches_loss_weights_that_are_not_one_per_sample() -> None:
    def loss_weights(self: SkipsEasy, epoch: int, feedback: FeedbackView) -> torch.Tensor:
        return torch.ones(self.labels.numel() + int(observed(feedback)))

    expect_broken(broken("weights_too_many", loss_weights=loss_weights), "loss_weights")


def sample_writing_to_the_view(self: SkipsEasy, ctx: EpochContext) -> torch.Tensor:
    out = SkipsEasy.sample(self, ctx)
    if ctx.feedback is not None:
        ctx.feedback.observed.clamp_(min=0)  # "never observed" overwritten in place
    return out


def loss_weights_writing_to_the_view(
    self: SkipsEasy, epoch: int, feedback: FeedbackView
) -> torch.Tensor | None:
    feedback.observed.add_(1)  # in place: "never observed" (-1) becomes epoch 0
    return None


@pytest.mark.parametrize(
    "strategy",
    [
        broken("writes_view_in_sample", sample=sample_writing_to_the_view),
        broken("writes_view_in_loss_weights", loss_weights=loss_weights_writing_to_the_view),
    ],
)
def test_catches_a_strategy_that_writes_to_its_view(strategy: type[SkipsEasy]) -> None:
    failure = expect_broken(strategy, "feedback view unchanged")
    assert "never write to ctx.feedback" in failure.detail or "wrote to" in failure.detail


class CountsCalls(SkipsEasy):
    """Seeds each epoch from how many epochs this instance planned: hidden state."""

    name = "counts_calls"
    calls = 0

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        self.calls += 1
        kept = torch.nonzero(~self.easy(ctx.feedback)).flatten()
        return kept[torch.randperm(kept.numel(), generator=generator(ctx.seed, self.calls))]


class RemembersScores(SkipsEasy):
    """Skips what was easy in any epoch this instance planned: state kept across epochs."""

    name = "remembers_scores"

    def __init__(self, labels: torch.Tensor, options: Any) -> None:
        super().__init__(labels, options)
        self.ever_easy = torch.zeros(labels.numel(), dtype=torch.bool)

    def easy(self, feedback: FeedbackView | None) -> torch.Tensor:
        return self.ever_easy | super().easy(feedback)

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        out = super().sample(ctx)
        self.ever_easy = self.easy(ctx.feedback)
        return out


@pytest.mark.parametrize("strategy", [CountsCalls, RemembersScores])
def test_catches_state_kept_across_epochs(strategy: type[SkipsEasy]) -> None:
    # State across epochs shows only when an instance plans epochs in another order than a
    # fresh one: the derandomized CI search needs more than FEW examples to meet that.
    expect_broken(
        strategy, "deterministic", "resume", "epoch_length", "len(sampler)", max_examples=60
    )


def test_catches_an_error_raised_on_some_scores() -> None:
    def sample(self: SkipsEasy, ctx: EpochContext) -> torch.Tensor:
        if ctx.feedback is not None and bool((ctx.feedback.scores == 0).any()):
            msg = "a zero score"
            raise ValueError(msg)
        return SkipsEasy.sample(self, ctx)

    failure = expect_broken(broken("fails_on_zero", sample=sample), "errors only at construction")
    assert "ValueError: a zero score" in failure.detail


# --- the score model and the kit's arguments ------------------------------------------------------


def test_non_feedback_strategies_draw_no_score_model() -> None:
    check_strategy("stratified", labels=SMALL, feedback=st.nothing(), max_examples=5)


def test_the_score_model_can_be_replaced() -> None:
    # Nothing is ever observed: a strategy broken only by observed scores passes.
    silent = st.just(FeedbackModel(observed_share=0.0, epoch_end_share=0.0))
    strategy = broken("global_rng_unobserved", sample=sample_with_global_rng_once_observed)
    check_strategy(strategy, labels=SMALL, feedback=silent, max_examples=10)
    expect_broken(strategy, "no global RNG", feedback=st.just(FeedbackModel(epoch_end_share=1.0)))


@settings(max_examples=40, database=None)
@given(feedback_models(), st.integers(1, 300), st.integers(0, 5), st.data())
def test_the_score_model_makes_valid_observations(
    model: FeedbackModel, n: int, epoch: int, data: st.DataObject
) -> None:
    batch = data.draw(st.lists(st.integers(0, n - 1), max_size=40))
    calls = model.batch_observations(batch, num_samples=n, epoch=epoch, position=3)
    assert len(calls) <= model.calls + 1  # the splits, and one call of repeats
    assert {i for indices, _ in calls for i in indices.tolist()} <= set(batch)
    again = model.batch_observations(batch, num_samples=n, epoch=epoch, position=3)
    assert len(again) == len(calls)
    for one, two in zip(calls, again, strict=True):
        assert torch.equal(one[0], two[0])
        assert torch.equal(one[1], two[1])
    end = model.epoch_end_observations(num_samples=n, epoch=epoch)
    assert len(end) <= 1
    for indices, scores in calls + end:
        assert indices.dtype == torch.int64
        assert scores.dtype == torch.float32
        assert indices.numel() == scores.numel() > 0
        assert bool(((indices >= 0) & (indices < n)).all())
        assert bool(torch.isfinite(scores).all())
        assert bool((scores >= 0).all())


def test_the_score_model_draws_ties_zeros_long_tails_and_gaps() -> None:
    def scores(model: FeedbackModel) -> torch.Tensor:
        calls = model.batch_observations(range(200), num_samples=200, epoch=0, position=0)
        return torch.cat([s for _, s in calls]) if calls else torch.empty(0)

    def reported(model: FeedbackModel) -> set[int]:
        calls = model.batch_observations(range(200), num_samples=200, epoch=0, position=0)
        return {i for indices, _ in calls for i in indices.tolist()}

    def repeats(model: FeedbackModel) -> bool:
        calls = model.batch_observations(range(200), num_samples=200, epoch=0, position=0)
        seen = [i for indices, _ in calls for i in indices.tolist()]
        return len(seen) > len(set(seen))

    quick = settings(database=None, max_examples=500)
    find(feedback_models(), lambda m: bool((scores(m) == 0).any()), settings=quick)
    find(feedback_models(), lambda m: 0 < len(set(scores(m).tolist())) < 5, settings=quick)
    find(feedback_models(), lambda m: max(scores(m).tolist(), default=0) > 1e5, settings=quick)
    find(feedback_models(), lambda m: 0 < len(reported(m)) < 150, settings=quick)
    find(feedback_models(), repeats, settings=quick)


def test_a_repeated_observation_is_reported_later_with_another_score() -> None:
    model = FeedbackModel(repeat_share=1.0, calls=2, distribution="levels", scale=1.0)
    calls = model.batch_observations([0, 1, 2, 3], num_samples=4, epoch=0, position=0)
    assert [indices.tolist() for indices, _ in calls] == [[0, 1], [2, 3], [0, 1, 2, 3]]
    first = torch.cat([calls[0][1], calls[1][1]])
    assert torch.equal(calls[2][1], first * 0.5)
    assert torch.equal(model.difficulty(4), first)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"distribution": "normal"}, "distribution"),
        ({"scale": 0.0}, "scale"),
        ({"scale": float("inf")}, "scale"),
        ({"calls": 0}, "calls"),
        ({"calls": True}, "calls"),
        ({"observed_share": 1.5}, "observed_share"),
        ({"repeat_share": float("nan")}, "repeat_share"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_a_bad_score_model_is_a_config_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        FeedbackModel(**kwargs)


def test_the_distributions_are_listed() -> None:
    for distribution in SCORE_DISTRIBUTIONS:
        values = FeedbackModel(distribution=distribution).difficulty(50)
        assert values.shape == (50,)
        assert bool(torch.isfinite(values).all())
        assert bool((values >= 0).all())
