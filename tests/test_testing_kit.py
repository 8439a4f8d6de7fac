"""The property-testing kit: it passes correct strategies and catches each kind of broken one."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck

import samplekit
from samplekit import ConfigError, EpochContext, UnknownStrategyError
from samplekit.testing import (
    SamplerInputs,
    StrategyContractError,
    batch_sizes,
    check_strategy,
    labels,
    sampler_inputs,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from samplekit.hookspecs import Register
    from samplekit.plugins import PluginManager

SMALL = labels(max_size=200)
FEW = 30  # examples per check of a broken strategy: enough to find it, fast to shrink


class Shuffle(samplekit.Strategy):
    """Every sample once per epoch, shuffled: satisfies every claim."""

    name = "shuffle_for_kit"

    def epoch_length(self, epoch: int) -> int:
        return self.labels.numel()

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        return torch.randperm(self.labels.numel(), generator=ctx.generator)


def broken(
    name: str,
    sample: Callable[..., Any],
    epoch_length: Callable[..., Any] | None = None,
    options: type[samplekit.Options] | None = None,
) -> type[Shuffle]:
    """A Shuffle variant whose ``sample`` (and maybe ``epoch_length``) is replaced."""
    body: dict[str, Any] = {"name": name, "sample": sample}
    if epoch_length is not None:
        body["epoch_length"] = epoch_length
    if options is not None:
        body["Options"] = options
    return type(name, (Shuffle,), body)


def expect_broken(
    strategy: type[samplekit.Strategy] | str, claim: str, *also: str, **kwargs: Any
) -> StrategyContractError:
    """The kit fails ``strategy`` on ``claim`` (or, where either is right, one of ``also``)."""
    kwargs.setdefault("labels", SMALL)
    kwargs.setdefault("max_examples", FEW)
    with pytest.raises(StrategyContractError) as info:
        check_strategy(strategy, **kwargs)
    assert info.value.claim in {claim, *also}, str(info.value)
    assert f"'{info.value.claim}'" in str(info.value)
    return info.value


# --- correct strategies pass --------------------------------------------------------------------


def test_a_correct_strategy_passes_every_claim() -> None:
    check_strategy(
        Shuffle,
        labels=SMALL,
        permutation=True,
        without_replacement=True,
        varies_between_epochs=True,
        max_examples=40,
    )


def test_registered_name_works_inside_an_isolated_plugin_manager(
    samplekit_plugin_manager: PluginManager,
) -> None:
    class Plugin:
        @samplekit.hookimpl
        def samplekit_register_strategies(self, register: Register) -> None:
            register(Shuffle)

    samplekit_plugin_manager.register(Plugin())
    assert "shuffle_for_kit" in samplekit.available_strategies()
    check_strategy("shuffle_for_kit", labels=SMALL, permutation=True, max_examples=5)


def test_the_isolated_plugin_manager_forgets_test_strategies() -> None:
    assert "shuffle_for_kit" not in samplekit.available_strategies()


# --- deliberately broken strategies are caught, naming the claim --------------------------------


def test_catches_off_by_one_epoch_length() -> None:
    strategy = broken(
        "off_by_one",
        Shuffle.sample,
        epoch_length=lambda self, epoch: self.labels.numel() + 1,
    )
    expect_broken(strategy, "epoch_length")


def test_catches_global_rng() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        return torch.randperm(self.labels.numel())  # no generator: torch's global RNG

    expect_broken(broken("global_torch", sample), "no global RNG")


@pytest.mark.parametrize("draw", ["random", "numpy"])
def test_catches_python_and_numpy_global_rng(draw: str) -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        n = self.labels.numel()
        if draw == "random":
            return torch.tensor(random.sample(range(n), n))
        return torch.from_numpy(np.random.permutation(n))

    expect_broken(broken(f"global_{draw}", sample), "no global RNG")


def test_catches_an_index_out_of_range_only_on_small_inputs() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        out = Shuffle.sample(self, ctx)
        n = self.labels.numel()
        if n < 5:
            out[0] = n
        return out

    strategy = broken("small_oob", sample)
    check_strategy(strategy, labels=labels(min_size=5, max_size=2000), max_examples=FEW)
    error = expect_broken(strategy, "index range", labels=labels(max_size=2000))
    assert "outside [0, " in str(error)


def test_catches_a_float_tensor() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        return Shuffle.sample(self, ctx).float()

    expect_broken(broken("floats", sample), "sample returns a 1-D integer tensor")


def test_catches_a_2d_tensor() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        return Shuffle.sample(self, ctx).view(1, -1)

    error = expect_broken(broken("two_d", sample), "sample returns a 1-D integer tensor")
    assert "not 1-D" in str(error)


def test_catches_something_other_than_a_tensor() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> list[Any]:
        return Shuffle.sample(self, ctx).tolist()

    expect_broken(broken("a_list", sample), "sample returns a 1-D integer tensor")


def test_catches_a_strategy_seeded_from_a_global_counter() -> None:
    counter = itertools.count()

    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        gen = torch.Generator().manual_seed(next(counter))
        return torch.randperm(self.labels.numel(), generator=gen)

    # Every call differs, so the global-RNG or the prefetch comparison may be the first to see
    # it: also right.
    expect_broken(broken("counted", sample), "deterministic", "no global RNG", "prefetch")


def test_catches_a_strategy_that_depends_on_the_calling_thread() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        order = Shuffle.sample(self, ctx)
        in_main = threading.current_thread() is threading.main_thread()
        return order if in_main else order.flip(0)  # e.g. per-thread caches gone wrong

    expect_broken(broken("thread_bound", sample), "prefetch")


def test_catches_a_strategy_seeded_from_an_instance_counter() -> None:
    def sample(self: Any, ctx: EpochContext) -> torch.Tensor:  # sets an attribute Shuffle lacks
        self.calls = getattr(self, "calls", 0) + 1
        gen = torch.Generator().manual_seed(ctx.seed + self.calls)
        return torch.randperm(self.labels.numel(), generator=gen)

    expect_broken(broken("instance_counted", sample), "deterministic", "no global RNG", "prefetch")


class NeedsPositiveK(samplekit.Options):
    k: int = 1  # no ge=1: the bug under test is validating it only in sample()


def validates_late(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
    if self.options.k < 1:
        msg = f"k must be >= 1, got {self.options.k}"
        raise ConfigError(msg)
    return Shuffle.sample(self, ctx)


def test_catches_options_validated_only_at_sample_time_via_invalid_options() -> None:
    strategy = broken("late_validation", validates_late, options=NeedsPositiveK)
    error = expect_broken(strategy, "options validated at construction", invalid_options=[{"k": 0}])
    assert "{'k': 0}" in str(error)


def test_catches_options_validated_only_at_sample_time_via_drawn_options() -> None:
    strategy = broken("late_validation", validates_late, options=NeedsPositiveK)
    error = expect_broken(strategy, "options validated at construction", k=st.integers(-3, 3))
    assert "ConfigError" in str(error)


def test_catches_an_error_raised_while_sampling() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        if self.labels.numel() < 4:
            return torch.randperm(3, generator=ctx.generator)[torch.tensor([5])]  # IndexError
        return Shuffle.sample(self, ctx)

    expect_broken(broken("crashes", sample), "errors only at construction", max_examples=80)


def test_catches_duplicates_under_without_replacement() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        n = self.labels.numel()
        return torch.randint(n, (n,), generator=ctx.generator)

    strategy = broken("with_replacement", sample)
    check_strategy(strategy, labels=SMALL, max_examples=10)  # fine without the claim
    expect_broken(strategy, "without_replacement", without_replacement=True)


def test_catches_a_subset_under_permutation() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        n = self.labels.numel()
        return torch.randperm(n, generator=ctx.generator)[: max(1, n - 1)]

    def epoch_length(self: Shuffle, epoch: int) -> int:
        return max(1, self.labels.numel() - 1)

    strategy = broken("subset", sample, epoch_length=epoch_length)
    check_strategy(strategy, labels=SMALL, without_replacement=True, max_examples=10)
    expect_broken(strategy, "permutation", permutation=True)


def test_catches_the_same_epoch_every_time_under_varies_between_epochs() -> None:
    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        gen = torch.Generator().manual_seed(ctx.seed % 2**32)  # ignores the epoch
        return torch.randperm(self.labels.numel(), generator=gen)

    strategy = broken("same_every_epoch", sample)
    check_strategy(strategy, labels=SMALL, permutation=True, max_examples=10)
    expect_broken(strategy, "varies_between_epochs", varies_between_epochs=True)


def test_varies_between_epochs_is_not_demanded_of_tiny_epochs() -> None:
    check_strategy(
        Shuffle,
        labels=labels(max_size=3),
        varies_between_epochs=True,
        max_examples=20,
    )


# --- construction-time refusals are invalid inputs, not failures --------------------------------


class NeedsTwoClasses(Shuffle):
    name = "needs_two_classes"

    def __init__(self, labels: torch.Tensor, options: Any) -> None:
        super().__init__(labels, options)
        if len(self.class_index) < 2:
            msg = "needs_two_classes: need at least two classes"
            raise samplekit.LabelsError(msg)

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % 2:
            msg = f"batch_size must be even, got {batch_size}"
            raise ConfigError(msg)


def test_construction_time_refusals_are_skipped() -> None:
    check_strategy(NeedsTwoClasses, labels=SMALL, permutation=True, max_examples=10)


def test_a_strategy_refusing_everything_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="refused every generated input"):
        check_strategy(NeedsTwoClasses, labels=labels(max_classes=1), max_examples=10)


class RefusesMost(Shuffle):
    """Refuses every label array whose size is not a multiple of 16."""

    name = "refuses_most"

    def __init__(self, labels: torch.Tensor, options: samplekit.Options) -> None:
        super().__init__(labels, options)
        if labels.numel() % 16:
            msg = f"wants a multiple of 16 labels, got {labels.numel()}"
            raise samplekit.LabelsError(msg)


def test_a_strategy_refusing_most_inputs_is_a_config_error_naming_the_fix() -> None:
    derandomized = settings(derandomize=True, database=None, deadline=None)
    with pytest.raises(ConfigError) as info:
        check_strategy(RefusesMost, max_examples=40, settings=derandomized)
    message = str(info.value)
    # How many inputs hypothesis draws before giving up differs between its versions: all of
    # them may be refused (a few are accepted with others).
    assert "refused most generated inputs" in message or "refused every generated input" in message
    assert "wants a multiple of 16 labels" in message  # the last refusal
    assert "example_labels" in message
    assert "labels=" in message
    assert not isinstance(info.value.__cause__, FailedHealthCheck)


class Tagged(Shuffle):
    """Needs a sample labelled ``tag`` and one labelled ``tag + 1``, nothing else."""

    name = "tagged"
    seen: ClassVar[list[Any]] = []

    class Options(samplekit.Options):
        tag: int = 7

    def __init__(self, labels: torch.Tensor, options: Any) -> None:
        super().__init__(labels, options)
        if set(labels.tolist()) != {options.tag, options.tag + 1}:
            msg = f"needs exactly labels {options.tag} and {options.tag + 1}"
            raise samplekit.LabelsError(msg)

    @classmethod
    def example_labels(cls, options: Any) -> st.SearchStrategy[Any]:
        cls.seen.append(options)
        return labels(values=[options.tag, options.tag + 1], min_classes=2)


def test_check_strategy_draws_the_labels_a_strategy_declares() -> None:
    Tagged.seen.clear()
    check_strategy(Tagged, tag=st.integers(-300, 300), max_examples=15, permutation=True)
    assert Tagged.seen
    assert all(isinstance(options, Tagged.Options) for options in Tagged.seen)
    assert len({options.tag for options in Tagged.seen}) > 1  # called per drawn options


class EvenBatches(Shuffle):
    """Refuses odd batch sizes and declares even ones."""

    name = "even_batches"

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % 2:
            msg = f"batch_size must be even, got {batch_size}"
            raise ConfigError(msg)

    @classmethod
    def example_batch_sizes(cls, options: Any) -> st.SearchStrategy[int]:
        return st.integers(1, 50).map(lambda half: 2 * half)


def test_check_strategy_draws_the_batch_sizes_a_strategy_declares() -> None:
    check_strategy(EvenBatches, labels=SMALL, max_examples=15)
    with pytest.raises(ConfigError, match=r"refused (every|most) generated input"):
        check_strategy(
            EvenBatches,
            labels=SMALL,
            batch_sizes=st.integers(0, 200).map(lambda n: 2 * n + 1),
            max_examples=10,
        )


class BadDeclaration(Shuffle):
    name = "bad_declaration"

    @classmethod
    def example_labels(cls, options: Any) -> st.SearchStrategy[Any]:
        msg = "declaration exploded"
        raise RuntimeError(msg)


class NotAStrategyDeclaration(Shuffle):
    name = "not_a_strategy_declaration"

    @classmethod
    def example_labels(cls, options: Any) -> Any:
        return [0, 1, 2]


def test_explicit_labels_replace_the_declaration() -> None:
    check_strategy(BadDeclaration, labels=SMALL, max_examples=5)


@pytest.mark.parametrize(
    ("strategy", "match"),
    [
        (BadDeclaration, r"BadDeclaration.example_labels\(.*\) raised RuntimeError"),
        (NotAStrategyDeclaration, "must return a hypothesis SearchStrategy.*returned list"),
    ],
)
def test_a_broken_declaration_is_a_config_error(strategy: type[Shuffle], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_strategy(strategy, max_examples=5)


def test_a_strategy_declaring_nothing_draws_the_default_labels() -> None:
    assert Shuffle.example_labels(Shuffle.Options()) is None  # nothing declared ...
    assert Shuffle.example_batch_sizes(Shuffle.Options()) is None
    check_strategy(Shuffle, max_examples=10)  # ... so the kit draws its own labels() and sizes


# --- bad kit arguments ----------------------------------------------------------------------------


def test_unknown_name_is_an_unknown_strategy_error() -> None:
    with pytest.raises(UnknownStrategyError, match="did you mean 'stratified'"):
        check_strategy("stratifed")


def test_options_and_keyword_options_are_exclusive() -> None:
    with pytest.raises(ConfigError, match="not both"):
        check_strategy("negative_subsampling", options=st.just({"neg_ratio": 0.5}), neg_ratio=0.5)


def test_invalid_fixed_options_fail_before_the_search() -> None:
    with pytest.raises(ConfigError, match="neg_ratio"):
        check_strategy("negative_subsampling", neg_ratio=2.0)


def test_bad_argument_types_are_clear() -> None:
    with pytest.raises(TypeError, match="Strategy subclass or a registered name"):
        check_strategy(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="SearchStrategy"):
        check_strategy("stratified", options={"a": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="option mappings"):
        check_strategy("stratified", invalid_options=["neg_ratio"])  # type: ignore[list-item]


# --- the kit leaves global state alone and respects settings ------------------------------------


def test_global_rng_states_are_restored() -> None:
    torch.manual_seed(3)
    random.seed(3)
    np.random.seed(3)
    # The Mersenne Twister key, get_state()[1], read from the dict form numpy types correctly.
    key = np.random.get_state(legacy=False)["state"]["key"]
    before = (torch.get_rng_state(), random.getstate(), key.copy())
    check_strategy(Shuffle, labels=SMALL, max_examples=5)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert random.getstate() == before[1]
    assert np.array_equal(np.random.get_state(legacy=False)["state"]["key"], before[2])


def test_settings_and_max_examples_are_used() -> None:
    calls: list[int] = []

    def sample(self: Shuffle, ctx: EpochContext) -> torch.Tensor:
        calls.append(1)
        return Shuffle.sample(self, ctx)

    check_strategy(broken("counting_calls", sample), labels=SMALL, max_examples=3)
    per_example = len(calls)
    calls.clear()
    check_strategy(
        broken("counting_calls", sample),
        labels=SMALL,
        settings=settings(max_examples=6, database=None),
    )
    assert 0 < per_example < len(calls)


# --- the hypothesis strategies ------------------------------------------------------------------


@settings(max_examples=50)
@given(labels(min_size=4, max_size=300, min_classes=2, max_classes=3, min_per_class=2), st.data())
def test_labels_respect_their_bounds(y: Any, data: st.DataObject) -> None:
    tensor = samplekit.EpochBatchSampler(y, "stratified", batch_size=1).labels
    assert 4 <= tensor.numel() <= 300
    values, counts = torch.unique(tensor, return_counts=True)
    assert 2 <= values.numel() <= 3
    assert int(counts.min()) >= 2
    assert isinstance(y, (torch.Tensor, np.ndarray, list))


@settings(max_examples=30)
@given(labels(values=[-5, 0, 300], min_classes=3, dtypes=[torch.int8, torch.int16, list]))
def test_labels_with_fixed_values_use_only_dtypes_that_hold_them(y: Any) -> None:
    assert not (isinstance(y, torch.Tensor) and y.dtype == torch.int8)
    assert sorted({int(v) for v in y}) == [-5, 0, 300]


@settings(max_examples=30)
@given(sampler_inputs(batch_sizes=batch_sizes(max_value=4)))
def test_sampler_inputs_build_a_sampler(inputs: SamplerInputs) -> None:
    sampler = inputs.sampler("stratified")
    assert sampler.epoch == inputs.epoch
    assert sampler.batch_size is not None
    assert 1 <= sampler.batch_size <= 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_size": 0}, "min_size must be an integer >= 1"),
        ({"min_size": 5, "max_size": 4}, "raise max_size"),
        ({"min_classes": 3, "max_classes": 2}, "raise max_classes"),
        ({"values": [1, 1]}, "distinct"),
        ({"values": [0, 1], "min_classes": 3}, "give more values"),
        ({"values": [-1], "dtypes": [torch.uint8]}, "no dtype"),
        ({"dtypes": [torch.float32]}, "integer dtypes"),
        ({"dtypes": ["nope"]}, "integer numpy dtype"),
        ({"min_classes": 3, "min_per_class": 5, "max_size": 10}, "max_size >= 15"),
    ],
)
def test_labels_refuse_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        labels(**kwargs)


@settings(max_examples=40)
@given(labels(required=[-4, 200], max_classes=5, dtypes=[torch.int8, torch.int16, list]))
def test_labels_hold_every_required_value(y: Any) -> None:
    assert not (isinstance(y, torch.Tensor) and y.dtype == torch.int8)
    present = {int(v) for v in y}
    assert {-4, 200} <= present
    assert 2 <= len(present) <= 5


@settings(max_examples=30)
@given(labels(required=[3], values=[1, 2, 3], min_per_class=2))
def test_labels_required_among_fixed_values(y: Any) -> None:
    present = [int(v) for v in y]
    assert present.count(3) >= 2
    assert set(present) <= {1, 2, 3}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"required": [5], "values": [0, 1]}, "not among values"),
        ({"required": [0, 1, 2], "max_classes": 2}, "max_classes >= 3"),
        ({"required": ["0"]}, "must hold integers"),
        ({"required": 0}, "sequence of integers"),
        ({"required": [-1], "dtypes": [torch.uint8]}, "no dtype"),
    ],
)
def test_labels_refuse_bad_required_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        labels(**kwargs)


# --- packaging: the extra, the pytest plugin ------------------------------------------------------


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


@pytest.mark.slow
def test_import_samplekit_does_not_import_hypothesis_and_the_kit_names_the_extra() -> None:
    result = run_python(
        """
        import sys
        import samplekit
        assert "hypothesis" not in sys.modules, "samplekit imported hypothesis"
        sys.modules["hypothesis"] = None  # as if the extra were not installed
        try:
            from samplekit.testing.strategies import labels
        except ImportError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "samplekit[testing]"' in result.stdout


@pytest.mark.slow
def test_strategies_and_their_declarations_do_not_import_hypothesis() -> None:
    result = run_python(
        """
        import sys
        import samplekit
        for name in samplekit.available_strategies():
            cls = samplekit.get_strategy(name)
            assert callable(cls.example_labels), name
        sampler = samplekit.EpochBatchSampler([0, 1] * 8, "negative_subsampling", batch_size=4,
                                              neg_ratio=0.5)
        list(sampler)
        assert "hypothesis" not in sys.modules, "declaring example labels imported hypothesis"
        """
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("asked", [True, False])
def test_pytest_plugin_registers_the_profile_only_when_asked(tmp_path: Path, asked: bool) -> None:
    # Never loaded unless asked for (hypothesis itself may load its own "ci" profile under CI=1).
    compare = "==" if asked else "!="
    (tmp_path / "test_profile.py").write_text(
        textwrap.dedent(
            f"""
            from hypothesis import HealthCheck, settings

            def test_profile():
                assert settings.get_current_profile_name() {compare} "samplekit-ci"
                if {asked}:
                    assert settings.default.derandomize and settings.default.deadline is None
                    assert settings.default.print_blob
                    assert HealthCheck.too_slow in settings.default.suppress_health_check
            """
        )
    )
    option = ["--hypothesis-profile=samplekit-ci"] if asked else []
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path), *option],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_pytest_plugin_import_is_cheap() -> None:
    result = run_python(
        """
        import sys
        import samplekit.testing.pytest_plugin
        assert "hypothesis" not in sys.modules, "the pytest plugin imported hypothesis"
        sys.modules["hypothesis"] = None  # as if the extra were not installed
        import samplekit.testing.pytest_plugin  # still loads
        try:
            from samplekit.testing import check_strategy
        except ImportError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "samplekit[testing]"' in result.stdout
