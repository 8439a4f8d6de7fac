"""check_batcher: it passes the built-in batchers and catches each kind of broken one."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

import samplekit
from samplekit import ConfigError, EpochBatchSampler
from samplekit.batcher import Batcher, Batches
from samplekit.batchers.fixed import Fixed
from samplekit.batchers.grouping import reorder
from samplekit.batchers.token_budget import TokenBudget
from samplekit.errors import UnknownBatcherError
from samplekit.testing import (
    BatcherContractError,
    StrategyContractError,
    check_batcher,
    lengths,
)
from samplekit.testing.batchers import fit_labels

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samplekit.hookspecs import RegisterBatcher
    from samplekit.plugins import PluginManager

FEW = 30  # examples per check of a broken batcher: enough to find it, fast to shrink
SHORT = lengths(max_size=300, max_value=200)  # lengths every budget below can hold
BUDGET = st.integers(200, 2000)


def expect_broken(
    batcher: type[Batcher] | str, claim: str, *also: str, **kwargs: Any
) -> BatcherContractError:
    """The kit fails ``batcher`` on ``claim`` (or, where either is right, one of ``also``)."""
    kwargs.setdefault("max_examples", FEW)
    with pytest.raises(BatcherContractError) as info:
        check_batcher(batcher, **kwargs)
    assert info.value.claim in {claim, *also}, str(info.value)
    assert f"batcher {info.value.batcher!r} broke the claim '{info.value.claim}'" in str(info.value)
    return info.value


class PaddedBudget(Batcher):
    """Consecutive samples while longest x count fits max_tokens; the order is kept.

    A batcher written from scratch, as a plugin would: no count(), a budget, oversized samples
    refused at construction.
    """

    name = "padded_budget"
    needs_lengths: ClassVar[bool] = True
    regroups: ClassVar[bool] = False

    class Options(samplekit.Options):
        max_tokens: int = Field(ge=1)

    def __init__(self, options: Any, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        assert self.lengths is not None
        if int(self.lengths.max()) > options.max_tokens:
            msg = f"max_tokens={options.max_tokens} is below the longest sample"
            raise ConfigError(msg)

    @property
    def budget(self) -> float:
        return float(self.options.max_tokens)

    def fits(self, longest: int, count: int, length: int) -> bool:
        return bool(max(longest, length) * (count + 1) <= self.options.max_tokens)

    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        assert self.lengths is not None
        sizes: list[int] = self.lengths[order].tolist()
        starts, longest, count = [0], 0, 0
        for position, length in enumerate(sizes):
            if count and not self.fits(longest, count, length):
                starts.append(position)
                longest, count = 0, 0
            longest, count = max(longest, length), count + 1
        if sizes:
            starts.append(len(sizes))
        return Batches(order, torch.tensor(starts, dtype=torch.int64))


def fixed_variant(name: str, batch: Any, **body: Any) -> type[Fixed]:
    """A ``fixed`` batcher whose ``batch`` (and maybe more) is replaced."""
    return type(name, (Fixed,), {"name": name, "batch": batch, **body})


def cut(batcher: Batcher, order: torch.Tensor) -> Batches:
    """``order`` cut as the ``fixed`` batcher with ``batcher``'s batch size and drop_last would."""
    fixed = Fixed(Fixed.Options(), batch_size=batcher.batch_size, drop_last=batcher.drop_last)
    return fixed.batch(order, torch.Generator())


def shuffled_batches(batches: Batches, permutation: torch.Tensor) -> Batches:
    order, offsets = reorder(batches.order, batches.offsets, permutation)
    return Batches(order, offsets)


# --- the built-ins and a correct plugin pass ----------------------------------------------------


def test_fixed_passes() -> None:
    check_batcher("fixed", max_examples=40)


def test_length_grouped_passes_with_windows_and_balance_drawn() -> None:
    check_batcher(
        "length_grouped", window=st.integers(1, 64) | st.just(65536), balance=st.integers(1, 9)
    )


def test_token_budget_passes_dropping_oversized_samples() -> None:
    check_batcher(
        "token_budget",
        max_tokens=st.integers(1, 5000),
        oversize="drop",
        window=st.integers(1, 64) | st.just(65536),
        invalid_options=[{"max_tokens": 0}, {"oversize": "keep"}],
        max_examples=40,
    )


def test_token_budget_passes_with_every_option_drawn() -> None:
    check_batcher(
        "token_budget",
        options=st.fixed_dictionaries(
            {"max_tokens": BUDGET, "oversize": st.just("drop")},
            optional={
                "max_batch_size": st.integers(1, 64),
                "batch_size_multiple": st.integers(1, 8),
                "quadratic": st.floats(1.0, 1000.0),
                "window": st.integers(1, 64),
                "balance": st.integers(1, 8),
            },
        ),
        max_examples=40,
    )


def test_token_budget_refusing_oversized_samples_passes_on_lengths_that_fit() -> None:
    check_batcher("token_budget", max_tokens=BUDGET, lengths=SHORT, max_examples=20)


@pytest.mark.parametrize(
    ("batcher", "options"),
    [
        ("fixed", {}),
        ("length_grouped", {"balance": 1}),
        ("length_grouped", {"window": st.integers(1, 8)}),
        ("token_budget", {"max_tokens": BUDGET, "oversize": "drop", "balance": 1}),
    ],
)
def test_built_ins_vary_between_epochs(batcher: str, options: dict[str, Any]) -> None:
    check_batcher(batcher, varies_between_epochs=True, max_examples=20, **options)


def test_a_correct_plugin_batcher_without_count_passes() -> None:
    check_batcher(PaddedBudget, max_tokens=BUDGET, lengths=SHORT, max_examples=40)


def test_registered_name_works_inside_an_isolated_plugin_manager(
    samplekit_plugin_manager: PluginManager,
) -> None:
    class Plugin:
        @samplekit.hookimpl
        def samplekit_register_batchers(self, register: RegisterBatcher) -> None:
            register(PaddedBudget)

    samplekit_plugin_manager.register(Plugin())
    check_batcher("padded_budget", max_tokens=BUDGET, lengths=SHORT, max_examples=5)


# --- deliberately broken batchers are caught, naming the claim ----------------------------------


def test_catches_a_batch_over_budget() -> None:
    class SumBudget(PaddedBudget):
        """Packs by the sum of lengths, but claims the padded cost: over budget."""

        name = "sum_budget"

        def fits(self, longest: int, count: int, length: int) -> bool:
            return bool(longest * count + length <= self.options.max_tokens)

    error = expect_broken(SumBudget, "budget", max_tokens=BUDGET, lengths=SHORT)
    assert "> budget" in error.detail


def test_catches_an_oversized_sample_kept() -> None:
    class KeepsOversized(PaddedBudget):
        """Accepts samples longer than max_tokens, and puts each in a batch of its own."""

        name = "keeps_oversized"

        def __init__(self, options: Any, **kwargs: Any) -> None:
            Batcher.__init__(self, options, **kwargs)

    error = expect_broken(KeepsOversized, "budget", max_tokens=BUDGET)
    assert "1 samples of lengths" in error.detail


def test_catches_a_lost_sample() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        assert self.lengths is not None
        return cut(self, order[self.lengths[order] > 0])  # zero-length samples vanish

    drops_empty = fixed_variant(
        "drops_empty", batch, needs_lengths=True, count=lambda self, n: None
    )
    error = expect_broken(drops_empty, "every sample once")
    assert "in no batch" in error.detail


def test_catches_a_tail_dropped_without_drop_last() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        out = cut(self, order)
        if order.numel() % self.size and out.num_batches > 1:
            return Batches(out.order, out.offsets[:-1])  # the short batch always goes
        return out

    drops_tail = fixed_variant("drops_tail", batch, count=lambda self, n: None)
    error = expect_broken(drops_tail, "every sample once")
    assert "in no batch" in error.detail


def test_catches_a_duplicated_sample() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        order = order.clone()
        if order.numel() > 1:
            order[-1] = order[0]
        return Fixed.batch(self, order, generator)

    error = expect_broken(fixed_variant("duplicates", batch), "every sample once")
    assert "never repeats a sample" in error.detail


def test_catches_a_count_that_lies() -> None:
    class EstimatedCount(TokenBudget):
        """Counts batches as if each held the nominal batch size: not what batch() does."""

        name = "estimated_count"

        def count(self, n: int) -> int:
            return -(-n // self.nominal_batch_size)

    error = expect_broken(
        EstimatedCount, "count()", max_tokens=st.integers(1, 5000), oversize="drop"
    )
    assert "count(" in error.detail


def test_catches_offsets_of_the_wrong_dtype() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        out = Fixed.batch(self, order, generator)
        return Batches(out.order, out.offsets.to(torch.int32))

    error = expect_broken(fixed_variant("int32_offsets", batch), "offsets valid")
    assert "not torch.int64" in error.detail


def test_catches_something_other_than_batches() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Any:
        return (order, torch.tensor([0, order.numel()]))  # a tuple, not Batches

    expect_broken(fixed_variant("splits", batch), "offsets valid")


@pytest.mark.parametrize("draw", ["torch", "random", "numpy"])
def test_catches_global_rng(draw: str) -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        out = Fixed.batch(self, order, generator)
        count = out.num_batches
        if draw == "torch":
            permutation = torch.randperm(count)  # no generator: torch's global RNG
        elif draw == "random":
            permutation = torch.tensor(random.sample(range(count), count), dtype=torch.int64)
        else:
            permutation = torch.from_numpy(np.random.permutation(count))
        return shuffled_batches(out, permutation)

    expect_broken(fixed_variant(f"global_{draw}", batch), "no global RNG")


def test_catches_a_batcher_seeded_from_a_global_counter() -> None:
    counter = itertools.count()

    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        out = Fixed.batch(self, order, generator)
        gen = torch.Generator().manual_seed(next(counter))
        return shuffled_batches(out, torch.randperm(out.num_batches, generator=gen))

    expect_broken(fixed_variant("counted", batch), "deterministic")


def test_catches_a_batcher_that_keeps_state_between_calls() -> None:
    def batch(self: Any, order: torch.Tensor, generator: torch.Generator) -> Batches:
        self.calls = getattr(self, "calls", 0) + 1  # each sampler's batcher starts afresh
        out = Fixed.batch(self, order, generator)
        gen = torch.Generator().manual_seed(self.calls)
        return shuffled_batches(out, torch.randperm(out.num_batches, generator=gen))

    error = expect_broken(fixed_variant("stateful", batch), "deterministic")
    assert "same instance" in error.detail


def test_catches_an_error_raised_while_batching() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        if order.numel() > 100:
            msg = "too many samples"
            raise ValueError(msg)
        return Fixed.batch(self, order, generator)

    error = expect_broken(fixed_variant("raises", batch), "errors only at construction")
    assert "ValueError: too many samples" in error.detail


def test_catches_options_validated_only_when_batching() -> None:
    class Limit(samplekit.Options):
        limit: int = 1

    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        if self.options.limit < 1:
            msg = "limit must be at least 1"
            raise ConfigError(msg)
        return Fixed.batch(self, order, generator)

    late = fixed_variant("late_check", batch, Options=Limit)
    check_batcher(late, max_examples=5)
    expect_broken(late, "options validated at construction", invalid_options=[{"limit": 0}])
    expect_broken(late, "options validated at construction", limit=st.integers(-1, 1))


def test_catches_the_same_batches_every_epoch_under_varies_between_epochs() -> None:
    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        assert self.lengths is not None
        ordered = torch.sort(order).values  # the whole epoch sorted: no randomness left
        by_length = torch.sort(self.lengths[ordered], stable=True).indices
        return Fixed.batch(self, ordered[by_length], generator)

    sorts_all = fixed_variant("sorts_all", batch, needs_lengths=True)
    check_batcher(sorts_all, strategies=st.just("shuffle"), max_examples=10)
    expect_broken(
        sorts_all,
        "varies_between_epochs",
        strategies=st.just("shuffle"),
        varies_between_epochs=True,
    )


# --- inputs: declared lengths, strategies, refusals ---------------------------------------------


class EvenLengths(Fixed):
    """Refuses odd lengths at construction, and declares the even lengths it serves."""

    name = "even_lengths"
    needs_lengths: ClassVar[bool] = True

    def __init__(self, options: Any, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        assert self.lengths is not None
        if bool((self.lengths % 2).any()):
            msg = "lengths must be even"
            raise ConfigError(msg)

    @classmethod
    def example_lengths(cls, options: Any) -> SearchStrategy[Any]:
        return lengths(max_value=1000).map(lambda values: [2 * (v // 2) for v in values])


def test_the_lengths_a_batcher_declares_are_drawn() -> None:
    check_batcher(EvenLengths, max_examples=20)


def test_a_batcher_refusing_most_inputs_is_a_config_error_naming_the_fix() -> None:
    odd = st.lists(st.integers(0, 99).map(lambda v: 2 * v + 1), min_size=1, max_size=9)
    with pytest.raises(ConfigError, match="example_lengths") as info:
        check_batcher(EvenLengths, lengths=odd, strategies=st.just("shuffle"), max_examples=20)
    assert "lengths must be even" in str(info.value)


def test_a_broken_declaration_is_a_config_error() -> None:
    class Declares(Fixed):
        name = "declares_a_list"

        @classmethod
        def example_lengths(cls, options: Any) -> Any:
            return [1, 2, 3]

    with pytest.raises(ConfigError, match="must return a hypothesis SearchStrategy"):
        check_batcher(Declares, max_examples=2)


def test_strategies_and_world_sizes_can_be_chosen() -> None:
    strategies = st.sampled_from(
        ["stratified", {"name": "negative_subsampling", "neg_per_pos": 1.0}]
    )
    check_batcher("fixed", strategies=strategies, world_sizes=st.just(3), max_examples=20)


@settings(max_examples=50)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=30), st.integers(1, 40), st.integers(0, 9))
def test_fit_labels_keeps_every_class_it_can(y: list[int], n: int, seed: int) -> None:
    fitted = fit_labels(y, n, seed)
    assert fitted.numel() == n
    assert set(fitted.tolist()) <= set(y)
    assert len(set(fitted.tolist())) == min(len(set(y)), n)


# --- bad kit arguments --------------------------------------------------------------------------


def test_unknown_name_is_an_unknown_batcher_error() -> None:
    with pytest.raises(UnknownBatcherError):
        check_batcher("no_such_batcher")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"options": st.just({}), "max_tokens": 5}, ConfigError, "not both"),
        ({"options": {"max_tokens": 5}}, ConfigError, "SearchStrategy of option mappings"),
        ({}, ConfigError, "options given are invalid"),
        ({"max_tokens": 5, "batch_sizes": st.just(2)}, ConfigError, "leave batch_sizes= out"),
        ({"max_tokens": 5, "invalid_options": [5]}, TypeError, "option mappings"),
    ],
)
def test_bad_arguments_are_clear(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        check_batcher("token_budget", **kwargs)


def test_a_batcher_that_is_not_a_class_or_name_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Batcher subclass or a registered name"):
        check_batcher(Fixed(Fixed.Options(), batch_size=2))  # type: ignore[arg-type]


def test_the_error_is_a_strategy_contract_error_naming_the_batcher() -> None:
    error = BatcherContractError("b", "budget", "too much", "inputs")
    assert isinstance(error, StrategyContractError)
    assert isinstance(error, AssertionError)
    assert str(error) == "batcher 'b' broke the claim 'budget': too much\n    inputs: inputs"


def test_global_rng_states_are_restored() -> None:
    torch.manual_seed(3)
    random.seed(3)
    np.random.seed(3)
    key = np.random.get_state(legacy=False)["state"]["key"]
    before = (torch.get_rng_state(), random.getstate(), key.copy())
    check_batcher("length_grouped", max_examples=5)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert random.getstate() == before[1]
    assert np.array_equal(np.random.get_state(legacy=False)["state"]["key"], before[2])


def test_max_examples_and_settings_are_used() -> None:
    calls: list[int] = []

    def batch(self: Fixed, order: torch.Tensor, generator: torch.Generator) -> Batches:
        calls.append(1)
        return Fixed.batch(self, order, generator)

    counting = fixed_variant("counting", batch)
    check_batcher(counting, max_examples=3)
    few = len(calls)
    calls.clear()
    check_batcher(counting, settings=settings(max_examples=9, database=None))
    assert 0 < few < len(calls)


# --- the lengths strategy -----------------------------------------------------------------------


@settings(max_examples=50)
@given(lengths(min_size=3, max_size=200, min_value=2, max_value=5000))
def test_lengths_respect_their_bounds(values: list[int]) -> None:
    assert 3 <= len(values) <= 200
    assert all(isinstance(v, int) and 2 <= v <= 5000 for v in values)
    assert EpochBatchSampler(None, "shuffle", lengths=values, batch_size=4).lengths is not None


def test_lengths_have_a_long_tail_and_ties() -> None:
    drawn: list[list[int]] = []

    @settings(max_examples=100, database=None)
    @given(lengths(min_size=20))
    def collect(values: list[int]) -> None:
        drawn.append(values)

    collect()
    spread = [max(v) / max(1, int(np.median(v))) for v in drawn]
    assert max(spread) > 20  # a tail far beyond the typical length
    assert any(len(set(v)) <= 4 for v in drawn)  # many ties
    assert any(len(set(v)) > len(v) // 2 for v in drawn)  # and mostly distinct lengths


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_size": 0}, "min_size must be >= 1"),
        ({"min_size": 5, "max_size": 4}, "raise max_size"),
        ({"min_value": -1}, "min_value must be >= 0"),
        ({"min_value": 9, "max_value": 3}, "raise max_value"),
        ({"max_value": 2.5}, "max_value must be an integer"),
    ],
)
def test_lengths_refuse_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        lengths(**kwargs)


def test_samplekit_testing_imports_hypothesis_only_when_the_batcher_kit_is_used() -> None:
    code = textwrap.dedent(
        """
        import sys
        import samplekit.testing
        assert "hypothesis" not in sys.modules
        samplekit.testing.check_batcher, samplekit.testing.lengths
        assert "hypothesis" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
