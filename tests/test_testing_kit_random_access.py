"""The kit checks random access: ``sample_at`` is ``sample(ctx)[positions]`` and draws nothing."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from pydantic import Field

import samplekit
from samplekit import EpochContext
from samplekit.permutation import Permutation
from samplekit.plugins import get_strategy
from samplekit.testing import StrategyContractError, check_strategy, labels

SMALL = labels(max_size=200)
FEW = 30  # examples per check of a broken strategy: enough to find it, fast to shrink
AGREES = "sample_at agrees with sample"
NO_DRAWS = "sample_at draws nothing from ctx.generator"


class Keyed(samplekit.RandomAccessStrategy):
    """Every sample once per epoch, in the order of a keyed permutation: satisfies every claim."""

    name = "keyed_for_kit"

    def epoch_length(self, epoch: int) -> int:
        return int(self.labels.numel())

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        return Permutation(int(self.labels.numel()), ctx.key(self.name))(positions)


class BothWays(samplekit.Strategy):
    """Random access declared on a plain strategy, ``sample`` built whole: also correct."""

    name = "both_ways_for_kit"
    random_access = True

    def epoch_length(self, epoch: int) -> int:
        return int(self.labels.numel())

    def permutation(self, ctx: EpochContext) -> Permutation:
        return Permutation(int(self.labels.numel()), ctx.key(self.name))

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        return self.permutation(ctx).range(0, int(self.labels.numel()))

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        return self.permutation(ctx)(positions)


def expect_broken(strategy: type[samplekit.Strategy], claim: str) -> StrategyContractError:
    with pytest.raises(StrategyContractError) as info:
        check_strategy(strategy, labels=SMALL, max_examples=FEW)
    assert info.value.claim == claim, str(info.value)
    assert f"strategy {strategy.name!r} broke the claim {claim!r}" in str(info.value)
    return info.value


# --- correct strategies pass --------------------------------------------------------------------


@pytest.mark.parametrize("strategy", [Keyed, BothWays])
def test_a_correct_random_access_strategy_passes(strategy: type[samplekit.Strategy]) -> None:
    check_strategy(
        strategy,
        labels=SMALL,
        permutation=True,
        varies_between_epochs=True,
        max_examples=FEW,
    )


class Recording(Keyed):
    """`Keyed`, recording every position set `sample_at` is given."""

    name = "recording_for_kit"
    calls: list[list[int]] = []  # noqa: RUF012 - reset by the test

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        Recording.calls.append(positions.tolist())
        return super().sample_at(ctx, positions)


def test_sample_at_is_read_at_every_kind_of_position_set() -> None:
    Recording.calls = []
    check_strategy(Recording, labels=labels(min_size=3, max_size=50), max_examples=5)
    calls = Recording.calls
    assert [] in calls
    assert any(len(c) > 1 and c == sorted(c, reverse=True) and c[-1] == 0 for c in calls)
    assert any(len(set(c)) < len(c) for c in calls)  # repeats
    assert any(len(c) == 1 and c[0] > 0 for c in calls)  # a single (last) position


@pytest.mark.parametrize("name", ["shuffle", "negative_subsampling"])
def test_the_random_access_built_ins_are_checked_by_the_rule(name: str) -> None:
    # test_builtins_kit.py runs check_strategy on each; the rule applies as they have random
    # access (read off the built instance).
    cls = get_strategy(name)
    assert cls.random_access
    options: dict[str, Any] = {"neg_ratio": 0.5} if name == "negative_subsampling" else {}
    check_strategy(name, max_examples=10, **options)


# --- broken ones are caught, naming the claim ---------------------------------------------------


def test_catches_sample_at_off_by_one_position() -> None:
    class OffByOne(BothWays):
        name = "off_by_one_at"

        def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
            n = int(self.labels.numel())
            return self.permutation(ctx)((positions + 1) % n)

    error = expect_broken(OffByOne, AGREES)
    text = str(error)
    assert "is not sample(ctx)[positions]" in text
    assert "sample_at(ctx, positions) of epoch " in text
    assert "where sample_at gave index" in text


def test_catches_sample_at_that_sorts_its_positions() -> None:
    class Sorting(Keyed):  # sample reads positions in order, so only other orders differ
        name = "sorting_at"

        def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
            return super().sample_at(ctx, positions.sort().values)

    expect_broken(Sorting, AGREES)


def test_catches_sample_at_that_drops_repeated_positions() -> None:
    class Unique(Keyed):
        name = "unique_at"

        def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
            return super().sample_at(ctx, torch.unique_consecutive(positions))

    error = expect_broken(Unique, "epoch_length")
    assert "sample_at returned" in str(error)


def test_catches_sample_at_drawing_from_ctx_generator() -> None:
    # With a fresh ctx per call this agrees with sample; a drawn-from generator gives it away.
    class Drawing(samplekit.RandomAccessStrategy):
        name = "drawing_at"

        def epoch_length(self, epoch: int) -> int:
            return int(self.labels.numel())

        def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
            return torch.randperm(int(self.labels.numel()), generator=ctx.generator)[positions]

    error = expect_broken(Drawing, NO_DRAWS)
    assert "drew from ctx.generator" in str(error)


def test_catches_sample_at_touching_ctx_generator_without_using_it() -> None:
    class Touching(Keyed):
        name = "touching_at"

        def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
            torch.rand(1, generator=ctx.generator)
            return super().sample_at(ctx, positions)

    expect_broken(Touching, NO_DRAWS)


def test_catches_a_subclass_that_overrides_sample_but_inherits_random_access() -> None:
    class Overrides(Keyed):  # e.g. a feedback variant of a random-access built-in
        name = "overrides_sample"

        def sample(self, ctx: EpochContext) -> torch.Tensor:
            return torch.randperm(int(self.labels.numel()), generator=ctx.generator)

    expect_broken(Overrides, AGREES)


def test_random_access_without_sample_at_is_reported_clearly() -> None:
    class Claims(BothWays):
        name = "claims_random_access"
        sample_at = samplekit.Strategy.sample_at

    error = expect_broken(Claims, AGREES)
    text = str(error)
    assert "random_access is True but sample_at" in text
    assert "NotImplementedError" in text


class PerInstance(BothWays):
    """Random access set per instance, from an option; ``sample_at`` is wrong."""

    name = "optional_random_access"
    random_access = False

    class Options(samplekit.Options):
        random_access: bool = Field(False, description="Declare random access.")

    def __init__(self, labels: torch.Tensor, options: PerInstance.Options) -> None:
        super().__init__(labels, options)
        self.random_access = options.random_access

    def sample_at(self, ctx: EpochContext, positions: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(positions)


def test_the_rule_follows_random_access_of_the_built_instance() -> None:
    check_strategy(PerInstance, labels=SMALL, max_examples=10)
    with pytest.raises(StrategyContractError) as info:
        check_strategy(PerInstance, labels=SMALL, max_examples=FEW, random_access=True)
    assert info.value.claim == AGREES
