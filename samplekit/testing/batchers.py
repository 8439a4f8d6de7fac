"""``check_batcher``: a hypothesis search for inputs on which a batcher breaks its contract.

See ``docs/testing.md`` ("Property-testing a batcher") for the claims checked and the rule for
samples a batcher may leave out.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from typing import TYPE_CHECKING, Any, NoReturn, cast

try:
    import hypothesis
except ImportError as exc:  # pragma: no cover - tested in a subprocess with hypothesis hidden
    from samplekit.testing import MISSING_HYPOTHESIS

    raise ImportError(MISSING_HYPOTHESIS) from exc
import torch
from hypothesis import strategies as st

from samplekit.batcher import Batcher, Batches
from samplekit.config import BatcherConfig, StrategyConfig, validate_config
from samplekit.errors import ConfigError, StrategyOutputError
from samplekit.labels import as_label_tensor
from samplekit.plan import check_batches
from samplekit.plugins import get_batcher
from samplekit.registry import validate_batcher_class
from samplekit.rng import generator
from samplekit.sampler import EpochBatchSampler
from samplekit.sharding import rank_batch_ids
from samplekit.testing import strategies as kit
from samplekit.testing.check import (
    _PROBE_SEEDS,
    VARIES_MIN_DISTINCT,
    StrategyContractError,
    _check_option_arguments,
    _Harness,
    _mappings,
    _option_draws,
    _restored_global_rng,
    _search,
    _seed_globals,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from samplekit.config import SamplerConfig
    from samplekit.strategy import Options

__all__ = ["DEFAULT_STRATEGIES", "BatcherContractError", "check_batcher", "fit_labels"]

DEFAULT_STRATEGIES: st.SearchStrategy[Mapping[str, Any]] = st.one_of(
    st.just({"name": "shuffle"}),
    st.fixed_dictionaries(
        {"name": st.just("negative_subsampling"), "neg_ratio": st.floats(0.05, 1.0)}
    ),
    st.just({"name": "class_weighted"}),
)
"""The strategies `check_batcher` combines a batcher with by default.

``shuffle`` (every sample once, no labels), ``negative_subsampling`` (a random subset, some
epochs smaller than others) and ``class_weighted`` (draws with replacement: an epoch may hold
a sample several times).
"""

# Batches compared per epoch in messages: enough to see the difference, short to read.
_SHOWN = 3


class BatcherContractError(StrategyContractError):
    """A batcher broke one claim of its contract on the inputs hypothesis reports.

    A `samplekit.testing.StrategyContractError`, so tests catching that catch this too; its
    ``strategy`` attribute holds the batcher's name as well.

    Attributes:
        batcher: the batcher's name.
        claim: the claim broken, e.g. ``"budget"`` or ``"every sample once"``.
    """

    def __init__(self, batcher: str, claim: str, detail: str, inputs: str) -> None:
        super().__init__(batcher, claim, detail, inputs)
        self.batcher = batcher
        self.args = (
            f"batcher {batcher!r} broke the claim {claim!r}: {detail}\n    inputs: {inputs}",
        )


def check_batcher(
    batcher: type[Batcher] | str,
    /,
    *,
    lengths: st.SearchStrategy[Any] | None = None,
    batch_sizes: st.SearchStrategy[int] | None = None,
    strategies: st.SearchStrategy[Any] | None = None,
    world_sizes: st.SearchStrategy[int] | None = None,
    options: st.SearchStrategy[Mapping[str, Any]] | None = None,
    varies_between_epochs: bool = False,
    invalid_options: Iterable[Mapping[str, Any]] = (),
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
    **option_values: Any,
) -> None:
    """Search for inputs on which ``batcher`` breaks its contract; raise the shrunk one.

    Runs a hypothesis search over per-sample lengths, batch sizes (for a batcher that
    ``needs_batch_size``), the strategy whose epochs are cut (with labels fitted to it), seeds,
    epochs, ``drop_last``, world sizes and the options. On each example it builds
    ``EpochBatchSampler(labels, strategy, lengths=..., batcher=...)`` and checks that the
    batcher's `samplekit.batcher.Batches` are valid, that no batch costs more than ``budget``
    (by the batcher's ``cost``), that every sample of the strategy's epoch is in exactly one
    batch (as often as the epoch holds it) but for the samples the batcher may leave out (see
    below), that ``count(n)`` is exact when not ``None``, that ``len(sampler)`` is exact before
    and during iteration on every rank and the same on all of them, that the same (seed, epoch)
    gives the same batches, and that no global RNG (torch, ``random``, numpy) is read.

    A batcher may leave out of its batches only (a) samples that alone cost more than
    ``budget`` (``cost(lengths[[i]]) > budget``: they fit no batch); and (b) with ``drop_last``,
    the samples of one last batch too small to keep: fewer than ``batch_size`` of them, or, for
    a batcher without a batch size, samples that cost at most ``budget`` together. Left-out
    samples may stay in ``Batches.order`` past the last offset or be removed from it; every
    other sample of the order the batcher was given must be in a batch.

    Inputs the sampler refuses at construction (``ConfigError``, ``LabelsError``) are skipped as
    invalid; any error later is a failure. Warnings raised while a sampler is built (such as
    ``token_budget``'s ``OversizeWarning``) are silenced. The global RNG states are restored
    afterwards.

    Args:
        batcher: a `samplekit.batcher.Batcher` subclass or a registered batcher name.
        lengths: per-sample lengths to draw; default: the batcher's classmethod
            ``example_lengths(options)`` when it returns a strategy, else
            `samplekit.testing.lengths`. The number of samples is the lengths' count.
        batch_sizes: batch sizes to draw for a batcher that ``needs_batch_size`` (default
            `samplekit.testing.batch_sizes`); refused for one that sizes batches itself.
        strategies: strategies whose epochs are cut, as a hypothesis strategy of anything
            ``EpochBatchSampler`` takes as ``strategy`` (a name, a mapping
            ``{"name": ..., **options}`` or a class); default `DEFAULT_STRATEGIES`. Labels
            for a strategy that needs them are drawn from its ``example_labels`` and fitted to
            the lengths' count (repeated, or cut keeping one sample of every class).
        world_sizes: world sizes to check every rank of (default 1 to 4).
        options: a strategy of whole option mappings; exclusive with ``**option_values``.
        varies_between_epochs: also claim epochs ``e`` and ``e + 1`` give different batches,
            checked on epochs of at least `VARIES_MIN_DISTINCT` distinct batches.
        invalid_options: option mappings, each merged over the example's options, that must
            make construction raise `samplekit.ConfigError`.
        max_examples: examples to try; default: the loaded hypothesis profile's.
        settings: hypothesis settings to run with; default: the loaded profile with
            ``deadline=None``. ``max_examples`` overrides its ``max_examples``. The kit always
            reports one failure (``report_multiple_bugs=False``) and skips the explain phase.
        **option_values: the batcher's options, each a fixed value or a ``SearchStrategy``
            drawn per example.

    Raises:
        BatcherContractError: naming the broken claim (a `StrategyContractError`), after
            hypothesis printed the shrunk falsifying example.
        ConfigError: for bad kit arguments (both ``options`` and ``**option_values``, fixed
            options the batcher refuses, ``batch_sizes`` for a batcher without batch size, or a
            batcher refusing every generated input).
        UnknownBatcherError: for a name no plugin registered.
        TypeError: for a ``batcher`` that is neither a name nor a batcher class, or
            ``invalid_options`` entries that are not mappings.

    Examples:
        >>> from hypothesis import strategies as st
        >>> from samplekit.testing import check_batcher
        >>> check_batcher("token_budget", max_tokens=st.integers(1, 5000), oversize="drop",
        ...               max_examples=5)
    """
    cls = _resolve(batcher)
    _check_option_arguments("check_batcher", options, option_values)
    if batch_sizes is not None and not cls.needs_batch_size:
        msg = (
            f"check_batcher: the {cls.name!r} batcher sizes batches itself and takes no "
            f"batch_size; leave batch_sizes= out"
        )
        raise ConfigError(msg)
    invalid, all_options = _option_draws(
        "check_batcher",
        options,
        option_values,
        _mappings("check_batcher", invalid_options, "{'max_tokens': 0}"),
        lambda fixed: _batcher_config(cls, fixed),
    )
    run = _Run(
        cls,
        draws=_Draws(
            lengths=lengths,
            batch_sizes=batch_sizes,
            strategies=DEFAULT_STRATEGIES if strategies is None else strategies,
            world_sizes=st.integers(1, 4) if world_sizes is None else world_sizes,
            options=all_options,
        ),
        fixed=option_values,
        varies=varies_between_epochs,
        invalid=invalid,
    )
    _search(
        run,
        "check_batcher",
        settings=settings,
        max_examples=max_examples,
        declare=(
            f"declare the lengths it serves with the classmethod example_lengths of "
            f"{cls.__qualname__} (see samplekit.batcher.Batcher), or pass lengths=, "
            f"batch_sizes=, strategies= or options it accepts"
        ),
    )


def _resolve(batcher: object) -> type[Batcher]:
    if isinstance(batcher, str):
        return get_batcher(batcher)
    if isinstance(batcher, type):
        return validate_batcher_class(batcher)
    msg = (
        f"check_batcher: expected a samplekit.batcher.Batcher subclass or a registered name, "
        f"but got {batcher!r}"
    )
    raise TypeError(msg)


def _batcher_config(cls: type[Batcher], options: Mapping[str, Any]) -> BatcherConfig:
    """``cls`` with ``options`` validated (works for a class no plugin registered)."""
    return BatcherConfig.model_construct(**BatcherConfig._fields(cls, dict(options)))


def fit_labels(labels: Any, n: int, seed: int) -> torch.Tensor:
    """``labels`` resized to ``n``: repeated when longer, else cut keeping every class if it can.

    Cut labels keep one (random) sample of each class first, then random others; the result
    is shuffled by ``seed``.

    Examples:
        >>> sorted(fit_labels([0, 0, 0, 0, 1], 2, seed=0).tolist())
        [0, 1]
        >>> sorted(fit_labels([3, 4], 5, seed=0).tolist())
        [3, 3, 3, 4, 4]
    """
    y = as_label_tensor(labels).to(torch.int64)
    m = y.numel()
    gen = torch.Generator().manual_seed(seed)
    if n >= m:
        picked = torch.arange(n) % m
    else:
        order = torch.randperm(m, generator=gen)
        classes = torch.unique(y, return_inverse=True)[1][order]
        first = torch.full((int(classes.max()) + 1,), m, dtype=torch.int64)
        first = first.scatter_reduce(0, classes, torch.arange(m), reduce="amin")
        is_first = torch.zeros(m, dtype=torch.bool)
        is_first[first] = True
        picked = torch.cat([order[is_first], order[~is_first]])[:n]
    return y[picked[torch.randperm(n, generator=gen)]]


@dataclasses.dataclass(frozen=True)
class _Uncounted:
    """Stands for a batcher in `check_batches` so that only the structure is checked."""

    name: str

    def count(self, n: int) -> int | None:
        return None


@dataclasses.dataclass(frozen=True)
class _Draws:
    """What `check_batcher` draws from, apart from seeds, epochs and ``drop_last``."""

    lengths: st.SearchStrategy[Any] | None
    batch_sizes: st.SearchStrategy[int] | None
    strategies: st.SearchStrategy[Any]
    world_sizes: st.SearchStrategy[int]
    options: st.SearchStrategy[Mapping[str, Any]] | None


def _construct(
    config: SamplerConfig, inputs: tuple[Any, Any], *, rank: int = 0, world_size: int = 1
) -> EpochBatchSampler:
    """A sampler on ``inputs`` (labels, lengths), its construction warnings silenced."""
    labels, lengths = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. token_budget's OversizeWarning
        return EpochBatchSampler.from_config(
            config, labels, lengths=lengths, rank=rank, world_size=world_size, check_sync=False
        )


def _as_lists(batches: Batches) -> list[list[int]]:
    bounds: list[int] = batches.offsets.tolist()
    return [batches.order[a:b].tolist() for a, b in itertools.pairwise(bounds)]


class _Run(_Harness[type[Batcher]]):
    """The per-example checks of one `check_batcher` call."""

    error = BatcherContractError
    kind = "batcher"

    def __init__(
        self,
        cls: type[Batcher],
        *,
        draws: _Draws,
        fixed: Mapping[str, Any],
        varies: bool,
        invalid: list[dict[str, Any]],
    ) -> None:
        super().__init__(cls, fixed=fixed, invalid=invalid)
        self.draws = draws
        self.varies = varies

    def declared_lengths(self, options: Options) -> st.SearchStrategy[Any]:
        """The batcher's ``example_lengths(options)``, or the kit's `lengths`."""
        try:
            declared: object = self.cls.example_lengths(options)
        except Exception as exc:
            msg = (
                f"check_batcher: {self.cls.__qualname__}.example_lengths({options!r}) raised "
                f"{type(exc).__name__}: {exc}; fix the declaration or pass lengths="
            )
            raise ConfigError(msg) from exc
        if declared is None:
            return kit.lengths()
        if not isinstance(declared, st.SearchStrategy):
            msg = (
                f"check_batcher: {self.cls.__qualname__}.example_lengths() must return a "
                f"hypothesis SearchStrategy (e.g. samplekit.testing.lengths(...)) or None, but "
                f"returned {type(declared).__name__}"
            )
            raise ConfigError(msg)
        return declared

    def example(self, data: st.DataObject) -> None:
        """Draw one example and check every claim on it."""
        draws = self.draws
        options = dict(self.fixed if draws.options is None else data.draw(draws.options, "options"))
        try:
            batcher_config = _batcher_config(self.cls, options)
        except ConfigError as exc:  # a drawn option combination the Options model refuses
            self.refuse(exc)
        lengths = data.draw(
            self.declared_lengths(batcher_config.options) if draws.lengths is None
            else draws.lengths,
            label="lengths",
        )  # fmt: skip
        n = len(lengths)
        spec = data.draw(draws.strategies, label="strategy")
        try:
            strategy = StrategyConfig.resolve(spec)
        except ConfigError as exc:
            self.refuse(exc)
        labels = None
        if strategy.strategy_class.needs_labels:
            declared = strategy.strategy_class.example_labels(strategy.options)
            drawn = data.draw(kit.labels() if declared is None else declared, label="labels")
            labels = fit_labels(drawn, n, data.draw(st.integers(0, 2**32 - 1), label="fit seed"))
        batch_size = None
        if self.cls.needs_batch_size:
            sizes = kit.batch_sizes() if draws.batch_sizes is None else draws.batch_sizes
            batch_size = data.draw(sizes, label="batch_size")
        seed = data.draw(kit.seeds(), label="seed")
        epoch = data.draw(kit.epochs(), label="epoch")
        drop_last = data.draw(st.booleans(), label="drop_last")
        world_size = data.draw(draws.world_sizes, label="world_size")
        self.inputs = (
            f"{n} samples ({_describe(lengths)}), strategy={strategy.model_dump(mode='json')!r}, "
            f"batch_size={batch_size}, seed={seed}, epoch={epoch}, drop_last={drop_last}, "
            f"world_size={world_size}, options={options!r}"
        )
        try:
            config = validate_config(
                {
                    "strategy": strategy,
                    "batcher": batcher_config,
                    "batch_size": batch_size,
                    "seed": seed,
                    "drop_last": drop_last,
                }
            )
        except ConfigError as exc:
            self.refuse(exc)
        if not isinstance(world_size, int) or world_size < 1:
            msg = f"check_batcher: world_sizes must draw ints >= 1, but drew {world_size!r}"
            raise ConfigError(msg)
        with _restored_global_rng():
            self.check(config, labels, lengths, epoch, world_size, options)

    def check(
        self,
        config: SamplerConfig,
        labels: Any,
        lengths: Any,
        epoch: int,
        world_size: int,
        options: Mapping[str, Any],
    ) -> None:
        """Every claim on one example (inside restored global RNG states)."""
        inputs = (labels, lengths)
        _seed_globals(_PROBE_SEEDS[0])
        sampler = self.build(config, inputs, refuse=True)
        self.examples += 1
        self.check_option_validation(config, inputs, options)
        direct = self.check_direct(sampler, config, epoch)
        _seed_globals(_PROBE_SEEDS[0])
        batches = self.iterate(self.build(config, inputs), epoch)
        if batches != direct:
            self.fail(
                "deterministic",
                f"the sampler's epoch {epoch} has other batches than batch() called directly "
                f"on the strategy's order with the same generator ({_diff(direct, batches)})",
            )
        _seed_globals(_PROBE_SEEDS[0])
        again = self.iterate(self.build(config, inputs), epoch)
        if again != batches:
            self.fail(
                "deterministic",
                f"two fresh samplers gave epoch {epoch} other batches with the same (seed, "
                f"epoch) and global RNG states ({_diff(batches, again)}): the batcher depends "
                f"on something besides its inputs and generator",
            )
        self.check_global_rng(
            batches,
            lambda: self.iterate(self.build(config, inputs), epoch),
            "the generator batch() is given",
        )
        if world_size > 1:
            self.check_ranks(config, inputs, epoch, world_size, batches)
        if self.varies:
            self.check_varies(config, inputs, epoch, batches)

    def build(
        self,
        config: SamplerConfig,
        inputs: tuple[Any, Any],
        *,
        refuse: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> EpochBatchSampler:
        try:
            return _construct(config, inputs, rank=rank, world_size=world_size)
        except Exception as exc:
            self.construction_failed(exc, refuse=refuse, refuse_with="ConfigError")

    def check_option_validation(
        self, config: SamplerConfig, inputs: tuple[Any, Any], options: Mapping[str, Any]
    ) -> None:
        self.check_refused(
            [({**options, **bad}, f"invalid_options entry {bad!r}") for bad in self.invalid],
            lambda values: _construct(
                config.model_copy(update={"batcher": _batcher_config(self.cls, values)}), inputs
            ),
        )

    def check_direct(
        self, sampler: EpochBatchSampler, config: SamplerConfig, epoch: int
    ) -> list[list[int]]:
        """The claims on ``batch()`` called directly on the strategy's order of ``epoch``."""
        batcher = sampler.batcher
        try:
            order = sampler.planner.indices(epoch)
        except Exception as exc:
            self.fail(
                "errors only at construction",
                f"the strategy raised {type(exc).__name__}: {exc} (check the strategy with "
                f"check_strategy, or pass strategies= it serves)",
            )
        given = order.numel()
        out = self.call_batch(batcher, order, config.seed, epoch)
        try:
            check_batches(
                out,
                batcher=cast("Batcher", _Uncounted(batcher.name)),
                epoch=epoch,
                given=given,
                num_samples=sampler.labels.numel(),
            )
        except StrategyOutputError as exc:
            self.fail("offsets valid", str(exc))
        lengths = sampler.lengths
        assert lengths is not None  # the kit always passes lengths
        self.check_budget(batcher, out, lengths)
        self.check_every_sample_once(batcher, order, out, lengths, sampler.labels.numel())
        self.check_count(batcher, given, out.num_batches)
        if not _same(out, self.call_batch(batcher, order, config.seed, epoch)):
            self.fail(
                "deterministic",
                "batch() gave other batches when called again on the same instance with the "
                "same order and generator: state kept between calls, or randomness not drawn "
                "from the generator, changes the output",
            )
        return _as_lists(out)

    def call_batch(self, batcher: Batcher, order: torch.Tensor, seed: int, epoch: int) -> Any:
        """``batcher.batch`` on a copy of ``order``, with the generator the sampler gives it.

        The global RNGs are seeded as for the sampler's own call, so that only state kept
        between calls, not global RNG use, makes two calls differ.
        """
        _seed_globals(_PROBE_SEEDS[0])
        try:
            return batcher.batch(order.clone(), generator(seed, epoch, "batcher"))
        except Exception as exc:
            self.raised(exc, "batch()")

    def check_budget(self, batcher: Batcher, out: Batches, lengths: torch.Tensor) -> None:
        budget = batcher.budget
        if budget is None:
            return
        bounds: list[int] = out.offsets.tolist()
        for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
            sizes = lengths[out.order[start:stop]]
            cost = self.cost(batcher, sizes)
            if not cost <= budget:
                shown = sizes.tolist()
                self.fail(
                    "budget",
                    f"batch {number} of {out.num_batches} costs {cost} > budget {budget}: "
                    f"{len(shown)} samples of lengths {_clip(shown)}",
                )

    def cost(self, batcher: Batcher, sizes: torch.Tensor) -> float:
        try:
            return float(batcher.cost(sizes))
        except Exception as exc:
            self.raised(exc, "cost()")

    def check_every_sample_once(
        self,
        batcher: Batcher,
        order: torch.Tensor,
        out: Batches,
        lengths: torch.Tensor,
        num_samples: int,
    ) -> None:
        """Batched samples are the epoch's, as often, but for those the rule lets it leave out."""
        wanted = torch.bincount(order.to(torch.int64), minlength=num_samples)
        held = torch.bincount(out.order.to(torch.int64), minlength=num_samples)
        extra = torch.nonzero(held > wanted).view(-1)
        if extra.numel():
            i = int(extra[0])
            self.fail(
                "every sample once",
                f"sample {i} is {int(held[i])} time(s) in Batches.order but "
                f"{int(wanted[i])} time(s) in the strategy's epoch ({extra.numel()} such "
                f"samples): a batcher rearranges the order it is given, never repeats a sample",
            )
        batched = out.order[: int(out.offsets[-1])].to(torch.int64)
        missing = wanted - torch.bincount(batched, minlength=num_samples)
        budget = batcher.budget
        left = [
            i
            for i in torch.nonzero(missing).view(-1).tolist()
            if budget is None or not self.cost(batcher, lengths[i : i + 1]) > budget
        ]  # samples costing more than the budget alone fit no batch: they may be left out
        if not left:
            return
        i, dropped = left[0], int(missing[left].sum())
        where = (
            f"{dropped} sample(s) of the strategy's epoch are in no batch, e.g. sample {i} "
            f"(length {int(lengths[i])}, {int(wanted[i])} time(s) in the epoch, "
            f"{int(wanted[i] - missing[i])} in the batches)"
        )
        if not batcher.drop_last:
            rule = "only samples that alone cost more than the budget may be left out"
            self.fail("every sample once", f"{where}, without drop_last: {rule}")
        size = batcher.batch_size
        if size is not None and dropped >= size:
            self.fail(
                "every sample once",
                f"{where}: drop_last drops only a last batch smaller than batch_size={size}",
            )
        if size is None and budget is not None:
            rest = torch.repeat_interleave(torch.tensor(left), missing[left])
            cost = self.cost(batcher, lengths[rest])
            if cost > budget:
                self.fail(
                    "every sample once",
                    f"{where}; they cost {cost} together, more than one batch's budget "
                    f"{budget}: drop_last drops only one last batch",
                )

    def check_count(self, batcher: Batcher, given: int, produced: int) -> None:
        try:
            counted: object = batcher.count(given)
        except Exception as exc:
            self.raised(exc, f"count({given})")
        if counted is None:
            return
        if isinstance(counted, bool) or not isinstance(counted, int) or counted != produced:
            self.fail(
                "count()",
                f"count({given}) returned {counted!r}, but batch() cut the epoch of {given} "
                f"samples into {produced} batches",
            )

    def raised(self, exc: Exception, where: str) -> NoReturn:
        if isinstance(exc, StrategyContractError):
            raise exc
        if isinstance(exc, StrategyOutputError):
            claim = "offsets valid" if exc.rule == "batches" else "errors only at construction"
            self.fail(claim, str(exc))
        self.raised_late(exc, where, "lengths")

    def on(self, sampler: EpochBatchSampler) -> str:
        return f"on rank {sampler.rank} of {sampler.world_size}, "

    def check_ranks(
        self,
        config: SamplerConfig,
        inputs: tuple[Any, Any],
        epoch: int,
        world_size: int,
        batches: list[list[int]],
    ) -> None:
        """Every rank of ``world_size``: exact ``len``, one count, the global plan's batches."""
        counts = []
        for rank in range(world_size):
            _seed_globals(_PROBE_SEEDS[0])
            sampler = self.build(config, inputs, rank=rank, world_size=world_size)
            yielded = self.iterate(sampler, epoch)
            counts.append(len(yielded))
            ids = rank_batch_ids(
                len(batches), rank=rank, world_size=world_size, drop_last=config.drop_last
            )
            if yielded != [batches[i] for i in ids]:
                self.fail(
                    "deterministic",
                    f"rank {rank} of {world_size} yielded batches that are not its share of "
                    f"the epoch's batches (as one rank computes them): the batcher's output "
                    f"differs between samplers",
                )
        if len(set(counts)) > 1:
            self.fail(
                "len(sampler)",
                f"the {world_size} ranks yield different numbers of batches: {counts}",
            )

    def check_varies(
        self,
        config: SamplerConfig,
        inputs: tuple[Any, Any],
        epoch: int,
        batches: list[list[int]],
    ) -> None:
        if len({tuple(b) for b in batches}) < VARIES_MIN_DISTINCT:
            return
        following = self.iterate(self.build(config, inputs), epoch + 1)
        if following == batches:
            self.fail(
                "varies_between_epochs",
                f"epochs {epoch} and {epoch + 1} gave the same {len(batches)} batches",
            )


def _same(a: Batches, b: object) -> bool:
    """Whether ``b`` is `Batches` equal to ``a`` (same dtypes, shapes and values)."""
    return isinstance(b, Batches) and all(
        isinstance(y, torch.Tensor) and x.dtype == y.dtype and bool(torch.equal(x, y))
        for x, y in ((a.order, b.order), (a.offsets, b.offsets))
    )


def _describe(lengths: Any) -> str:
    try:
        values = as_label_tensor(lengths).to(torch.int64)
    except Exception:  # the sampler reports unusable lengths itself
        return "lengths not readable"
    return (
        f"lengths {int(values.min())} to {int(values.max())}, "
        f"{int(torch.unique(values).numel())} distinct"
    )


def _clip(values: list[int]) -> str:
    return str(values) if len(values) <= 10 else f"{str(values[:10])[:-1]}, ...]"


def _diff(first: list[list[int]], second: list[list[int]]) -> str:
    for number, (a, b) in enumerate(zip(first, second, strict=False)):
        if a != b:
            return f"batch {number}: {_clip(a)} vs {_clip(b)}"
    return f"{len(first)} vs {len(second)} batches"
