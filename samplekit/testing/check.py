"""``check_strategy``: a hypothesis search for inputs on which a strategy breaks its contract.

See ``docs/testing.md`` for the list of claims checked and how to opt in to more. A feedback
strategy (``uses_feedback``) is also driven over a few epochs in which generated scores are
observed, as a training loop would report them; a strategy with random access
(``random_access``) has its ``sample_at`` read at drawn positions and compared with ``sample``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NoReturn, TypeVar

try:
    import hypothesis
except ImportError as exc:  # pragma: no cover - tested in a subprocess with hypothesis hidden
    from samplekit.testing import MISSING_HYPOTHESIS

    raise ImportError(MISSING_HYPOTHESIS) from exc
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck, Flaky, Unsatisfiable

from samplekit import selection
from samplekit.config import StrategyConfig, validate_config
from samplekit.errors import ConfigError, LabelsError, StrategyOutputError
from samplekit.feedback import FeedbackState
from samplekit.plugins import get_strategy
from samplekit.registry import validate_strategy_class
from samplekit.rng import generator
from samplekit.sampler import EpochBatchSampler
from samplekit.strategy import EpochContext, FeedbackStrategy, FeedbackView, Options, Strategy
from samplekit.testing import strategies as kit

if TYPE_CHECKING:
    from samplekit.batcher import Batcher
    from samplekit.config import SamplerConfig
    from samplekit.testing.strategies import FeedbackModel, Observation

__all__ = ["VARIES_MIN_DISTINCT", "StrategyContractError", "check_strategy"]

VARIES_MIN_DISTINCT = 16
"""``varies_between_epochs`` is checked only on epochs holding at least this many distinct indices.

Below that two honest random epochs can coincide by chance (two samples have only two orders),
so a difference cannot be demanded; from 16 distinct indices on, a shuffle repeats with
probability at most 1/16!, about 5e-14.
"""

_UNKNOWN_KEY = "samplekit_check_unknown_option"
# Global RNG seeds of the two probes that must give the same epoch.
_PROBE_SEEDS = (12345, 67890)
# A feedback strategy is driven over this many consecutive epochs, from a drawn one: mostly the
# first epochs (where options such as infobatch's run length matter), sometimes any.
_FEEDBACK_EPOCHS = st.integers(2, 3)
_FEEDBACK_START = st.one_of(st.integers(0, 3), st.integers(0, 3), kit.epochs())
# The claims of a strategy with random access (`Strategy.sample_at`), as failures name them.
_AGREES = "sample_at agrees with sample"
_NO_DRAWS = "sample_at draws nothing from ctx.generator"
# Drawn position sets hold at most this many positions (the whole epoch is read besides).
_DRAWN_POSITIONS = 16
# Numbers drawn from a context's generator before `sample_at` is given it.
_CONSUMED = 5


class StrategyContractError(AssertionError):
    """A strategy broke one claim of its contract on the inputs hypothesis reports.

    Attributes:
        strategy: the strategy's name.
        claim: the claim broken, e.g. ``"index range"`` or ``"no global RNG"``.
    """

    def __init__(self, strategy: str, claim: str, detail: str, inputs: str) -> None:
        self.strategy = strategy
        self.claim = claim
        self.detail = detail
        self.inputs = inputs
        super().__init__(
            f"strategy {strategy!r} broke the claim {claim!r}: {detail}\n    inputs: {inputs}"
        )


def check_strategy(
    strategy: type[Strategy] | str,
    /,
    *,
    labels: st.SearchStrategy[Any] | None = None,
    batch_sizes: st.SearchStrategy[int] | None = None,
    options: st.SearchStrategy[Mapping[str, Any]] | None = None,
    without_replacement: bool = False,
    permutation: bool = False,
    varies_between_epochs: bool = False,
    invalid_options: Iterable[Mapping[str, Any]] = (),
    feedback: st.SearchStrategy[FeedbackModel] | None = None,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
    **option_values: Any,
) -> None:
    """Search for inputs on which ``strategy`` breaks its contract; raise the shrunk one.

    Runs a hypothesis search over labels, batch sizes, seeds, epochs, ``drop_last`` and the
    options, checking on each example that ``sample`` returns a 1-D integer tensor of
    ``epoch_length(epoch)`` indices in range, that the sampler's ``len`` and batches match, that
    the same (seed, epoch) gives the same batches (fresh sampler and ``set_epoch``), that no
    global RNG (torch, ``random``, numpy) is read, and that bad options fail at construction.
    When the built strategy has ``random_access``, ``sample_at`` is read at drawn positions of
    two epochs (all, a subset, reversed, with repeats, none, the last) and must give
    ``sample(ctx)[positions]``, drawing nothing from ``ctx.generator``.
    Inputs the constructor refuses with ``LabelsError`` or ``ConfigError`` are skipped as
    invalid; any error later is a failure. The global RNG states are restored afterwards.

    A feedback strategy (``uses_feedback``) is then driven over two or three consecutive epochs:
    after each batch, scores from a drawn `samplekit.testing.FeedbackModel` are observed through
    ``sampler.observe``. Each epoch must keep its ``len`` and the contract given the feedback it
    was planned from, come out the same for the same observations (fresh samplers, with the
    global RNGs seeded otherwise, and ``sample`` called directly with the view), leave that view
    unchanged, give finite loss weights, > 0 for every sample it holds, and resume exactly
    from a ``state_dict()`` taken mid-epoch.

    Args:
        strategy: a `samplekit.Strategy` subclass or a registered strategy name.
        labels: label arrays to draw (default `samplekit.testing.labels`).
        batch_sizes: batch sizes to draw (default `samplekit.testing.batch_sizes`).
        options: a strategy of whole option mappings; exclusive with ``**option_values``.
        without_replacement: also claim no index appears twice within an epoch.
        permutation: also claim each epoch is a permutation of ``range(len(labels))``.
        varies_between_epochs: also claim epochs ``e`` and ``e + 1`` differ, checked on epochs
            of at least `VARIES_MIN_DISTINCT` distinct indices.
        invalid_options: option mappings, each merged over the example's options, that must
            make construction raise `samplekit.ConfigError`.
        feedback: for a feedback strategy, the score models to draw (default
            `samplekit.testing.feedback_models`); ignored for other strategies.
        max_examples: examples to try; default: the loaded hypothesis profile's.
        settings: hypothesis settings to run with; default: the loaded profile with
            ``deadline=None``. ``max_examples`` overrides its ``max_examples``. The kit always
            reports one failure (``report_multiple_bugs=False``) and skips the explain phase.
        **option_values: the strategy's options, each a fixed value or a ``SearchStrategy``
            drawn per example.

    Raises:
        StrategyContractError: naming the broken claim, after hypothesis printed the shrunk
            falsifying example.
        ConfigError: for bad kit arguments (both ``options`` and ``**option_values``, fixed
            options the strategy refuses, or a strategy refusing every generated input).
        UnknownStrategyError: for a name no plugin registered.
        TypeError: for a ``strategy`` that is neither a name nor a strategy class, or
            ``invalid_options`` entries that are not mappings.

    Examples:
        >>> from samplekit.testing import check_strategy, labels
        >>> check_strategy("stratified", labels=labels(max_size=50), permutation=True,
        ...                max_examples=5)
    """
    cls = _resolve(strategy)
    _check_option_arguments("check_strategy", options, option_values)
    invalid, all_options = _option_draws(
        "check_strategy",
        options,
        option_values,
        _mappings("check_strategy", invalid_options, "{'neg_ratio': 2.0}"),
        lambda fixed: StrategyConfig.resolve(cls, fixed),
    )
    run = _Run(
        cls,
        labels=labels,
        batch_sizes=batch_sizes,
        options=all_options,
        fixed=option_values,
        claims=(without_replacement, permutation, varies_between_epochs),
        invalid=invalid,
        feedback=feedback,
    )
    _search(
        run,
        "check_strategy",
        settings=settings,
        max_examples=max_examples,
        declare=(
            f"declare the labels and batch sizes it serves with the classmethods example_labels "
            f"and example_batch_sizes of {cls.__qualname__} (see samplekit.Strategy), or pass "
            f"labels=, batch_sizes= or options it accepts"
        ),
    )


def _check_option_arguments(
    kit_name: str, options: object, option_values: Mapping[str, Any]
) -> None:
    """Refuse ``options=`` given with option keywords, or not a hypothesis strategy."""
    if options is not None and option_values:
        msg = (
            f"{kit_name}: give the options either as keywords or as options=, not both "
            f"(got options= and {sorted(option_values)}); put the fixed ones in options= "
            f"with st.fixed_dictionaries"
        )
        raise ConfigError(msg)
    if options is not None and not isinstance(options, st.SearchStrategy):
        msg = (
            f"{kit_name}: options= must be a hypothesis SearchStrategy of option mappings "
            f"(e.g. st.just({{...}})), but got {type(options).__name__}; pass fixed options "
            f"as keywords"
        )
        raise ConfigError(msg)


def _option_draws(
    kit_name: str,
    options: st.SearchStrategy[Mapping[str, Any]] | None,
    option_values: Mapping[str, Any],
    invalid_options: Iterable[Mapping[str, Any]],
    validate: Callable[[Mapping[str, Any]], object],
) -> tuple[list[dict[str, Any]], st.SearchStrategy[Mapping[str, Any]] | None]:
    """The ``invalid_options`` entries, and the option mappings to draw (``None``: the fixed).

    Fixed options (no keyword a ``SearchStrategy``) are checked once here with ``validate``.
    """
    invalid = [dict(entry) for entry in invalid_options]
    drawn = {k: v for k, v in option_values.items() if isinstance(v, st.SearchStrategy)}
    if options is None and not drawn:
        try:
            validate(option_values)
        except ConfigError as exc:
            msg = f"{kit_name}: the options given are invalid: {exc}"
            raise ConfigError(msg) from None
    if options is None and drawn:
        return invalid, st.fixed_dictionaries(
            {k: v if k in drawn else st.just(v) for k, v in option_values.items()}
        )
    return invalid, options


def _search(
    run: _Harness[Any],
    kit_name: str,
    *,
    settings: hypothesis.settings | None,
    max_examples: int | None,
    declare: str,
) -> None:
    """Run ``run.example`` under hypothesis; report a failure as ``run.error``.

    ``declare`` says how to give the class inputs it serves, when it refuses most of them.
    """
    base = settings if settings is not None else hypothesis.settings(deadline=None)
    # One report per call, and no explain phase: it reruns the failure many times for little.
    phases = tuple(phase for phase in base.phases if phase != hypothesis.Phase.explain)
    changes: dict[str, Any] = {"report_multiple_bugs": False, "phases": phases}
    if max_examples is not None:
        changes["max_examples"] = max_examples
    test = hypothesis.settings(base, **changes)(hypothesis.given(st.data())(run.example))
    try:
        test()
    except Flaky as exc:  # a failure that did not reproduce: report the claim it broke
        found = _contract_error(exc)
        if found is None:
            raise
        detail = (
            f"{found.detail} (the failure did not reproduce on every run of the same input: "
            f"the {run.kind} is not a pure function of its inputs)"
        )
        raise run.error(found.strategy, found.claim, detail, found.inputs) from exc
    except (Unsatisfiable, FailedHealthCheck):
        # Hypothesis gives up when most inputs are rejected (its filter_too_much health check,
        # or no valid input at all); when the rejections are the class's refusals, say how
        # to give it inputs it serves instead.
        if run.refused <= run.examples:
            raise
        which = "every generated input" if not run.examples else "most generated inputs"
        msg = (
            f"{kit_name}: {run.cls.name!r} refused {which} at construction "
            f"({run.refused} refused, {run.examples} accepted; last refusal: "
            f"{run.last_refusal}); {declare}"
        )
        raise ConfigError(msg) from None


def _contract_error(exc: BaseException) -> StrategyContractError | None:
    if isinstance(exc, StrategyContractError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _contract_error(inner)
        if found is not None:
            return found
    return None


def _resolve(strategy: object) -> type[Strategy]:
    if isinstance(strategy, str):
        return get_strategy(strategy)
    if isinstance(strategy, type):
        return validate_strategy_class(strategy)
    msg = (
        f"check_strategy: expected a samplekit.Strategy subclass or a registered name, but "
        f"got {strategy!r}"
    )
    raise TypeError(msg)


def _mappings(
    kit_name: str, entries: Iterable[object], example: str
) -> Iterator[Mapping[str, Any]]:
    """``entries``, checked to be option mappings (``example`` shows one in the message)."""
    for entry in entries:
        if not isinstance(entry, Mapping):
            msg = (
                f"{kit_name}: invalid_options must hold option mappings such as "
                f"{example}, but holds {entry!r}"
            )
            raise TypeError(msg)
        yield entry


@contextlib.contextmanager
def _restored_global_rng() -> Iterator[None]:
    """Restore torch's CPU, ``random``'s and numpy's global RNG states on exit."""
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 - saved to restore the caller's state
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002 - restores the caller's state


def _seed_globals(seed: int) -> None:
    """Seed every global RNG; the kit does so only to prove the strategy ignores them."""
    torch.default_generator.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - probing that the strategy ignores numpy's global RNG


_Kit = TypeVar("_Kit", bound="type[Strategy] | type[Batcher]")


class _Harness(Generic[_Kit]):
    """What the per-example checks of `check_strategy` and `check_batcher` share.

    The class checked, its fixed options and ``invalid_options``, the tallies of examples
    accepted and refused, the inputs of the current example, and how a broken claim, a refused
    input, a failed construction and an invalid option are reported.
    """

    error: ClassVar[type[StrategyContractError]] = StrategyContractError
    """The error every broken claim is reported with."""
    kind: ClassVar[str] = "strategy"
    """What is checked, in messages: ``"strategy"`` or ``"batcher"``."""

    def __init__(
        self, cls: _Kit, *, fixed: Mapping[str, Any], invalid: list[dict[str, Any]]
    ) -> None:
        self.cls = cls
        self.fixed = dict(fixed)
        self.invalid = invalid
        self.examples = 0
        self.refused = 0
        self.last_refusal = "none"
        self.inputs = ""

    def example(self, data: st.DataObject) -> None:
        """Draw one example and check every claim on it."""
        raise NotImplementedError

    def fail(self, claim: str, detail: str) -> NoReturn:
        """Raise the one error type every broken claim is reported with."""
        raise self.error(self.cls.name, claim, detail, self.inputs)

    def refuse(self, exc: Exception) -> NoReturn:
        self.refused += 1
        text = str(exc)
        self.last_refusal = f"{type(exc).__name__}: {text[:500]}{'...' if len(text) > 500 else ''}"
        hypothesis.reject()

    def construction_failed(self, exc: Exception, *, refuse: bool, refuse_with: str) -> NoReturn:
        """Report ``exc`` raised building a sampler; with ``refuse``, skip refused inputs.

        ``refuse_with`` names the errors the constructor may refuse unusable inputs with.
        """
        if isinstance(exc, (LabelsError, ConfigError)):
            if refuse:
                self.refuse(exc)
            self.fail(
                "deterministic",
                f"construction refused inputs it accepted before: {type(exc).__name__}: {exc}",
            )
        self.fail(
            "errors only at construction",
            f"the constructor raised {type(exc).__name__}: {exc}; refuse unusable inputs "
            f"with {refuse_with}",
        )

    def check_refused(
        self,
        tries: Iterable[tuple[Mapping[str, Any], str]],
        construct: Callable[[Mapping[str, Any]], object],
    ) -> None:
        """``construct`` raises `samplekit.ConfigError` on each ``(options, what)`` of ``tries``."""
        for values, what in tries:
            try:
                construct(values)
            except ConfigError:
                continue
            except Exception as exc:
                self.fail(
                    "options validated at construction",
                    f"{what} raised {type(exc).__name__}: {exc}, not samplekit.ConfigError",
                )
            self.fail(
                "options validated at construction",
                f"{what} was accepted at construction; validate options in the Options model "
                f"or raise ConfigError from __init__",
            )

    def check_global_rng(
        self, batches: list[list[int]], again: Callable[[], list[list[int]]], source: str
    ) -> None:
        """``again()`` gives ``batches`` with every global RNG seeded otherwise.

        ``source`` names the generator to draw from instead.
        """
        _seed_globals(_PROBE_SEEDS[1])
        if again() != batches:
            self.fail(
                "no global RNG",
                "the same (seed, epoch) gave other batches after torch.manual_seed, "
                f"random.seed and numpy.random.seed changed: draw only from {source}",
            )

    def raised(self, exc: Exception, where: str) -> NoReturn:
        """Report ``exc``, raised by ``where`` once the sampler was built."""
        raise NotImplementedError

    def raised_late(self, exc: Exception, where: str, inputs: str) -> NoReturn:
        """Report ``exc``, raised by ``where`` after construction, which alone may refuse.

        ``inputs`` names what besides options the constructor should have refused.
        """
        if isinstance(exc, (ConfigError, LabelsError)):
            self.fail(
                "options validated at construction",
                f"{where} raised {type(exc).__name__}: {exc}; refuse bad options or {inputs} in "
                f"the Options model or __init__, before any epoch runs",
            )
        self.fail(
            "errors only at construction",
            f"{where} raised {type(exc).__name__}: {exc}; only the constructor may refuse inputs",
        )

    def on(self, sampler: EpochBatchSampler) -> str:
        """Where ``sampler`` runs, to begin a message with (empty: nowhere to name)."""
        return ""

    def iterate(self, sampler: EpochBatchSampler, epoch: int) -> list[list[int]]:
        """The batches ``sampler`` yields in ``epoch``, checking ``len`` before and during."""
        batches: list[list[int]] = []
        on = self.on(sampler)
        try:
            sampler.set_epoch(epoch)
            expected = len(sampler)
            for batch in sampler:
                batches.append(batch)
                if len(sampler) != expected:
                    self.fail(
                        "len(sampler)",
                        f"{on}len(sampler) was {expected} before iterating epoch {epoch} and "
                        f"{len(sampler)} after {len(batches)} batches",
                    )
        except Exception as exc:
            self.raised(exc, "iterating the sampler")
        if len(batches) != expected:
            self.fail(
                "len(sampler)",
                f"{on}len(sampler) was {expected} but epoch {epoch} yielded {len(batches)} batches",
            )
        return batches


class _Run(_Harness[type[Strategy]]):
    """The per-example checks of one `check_strategy` call."""

    def __init__(
        self,
        cls: type[Strategy],
        *,
        labels: st.SearchStrategy[Any] | None,
        batch_sizes: st.SearchStrategy[int] | None,
        options: st.SearchStrategy[Mapping[str, Any]] | None,
        fixed: Mapping[str, Any],
        claims: tuple[bool, bool, bool],
        invalid: list[dict[str, Any]],
        feedback: st.SearchStrategy[FeedbackModel] | None = None,
    ) -> None:
        super().__init__(cls, fixed=fixed, invalid=invalid)
        self.labels = labels
        self.batch_sizes = batch_sizes
        self.options = options
        self.without_replacement, self.permutation, self.varies = claims
        self.feedback = feedback

    def declared(self, what: str, options: Options) -> st.SearchStrategy[Any]:
        """The strategy's own ``example_labels`` or ``example_batch_sizes`` for ``options``."""
        method = getattr(self.cls, what)
        try:
            declared: object = method(options)
            if declared is None:  # nothing declared: the kit's own defaults
                declared = kit.labels() if what == "example_labels" else kit.batch_sizes()
        except Exception as exc:
            msg = (
                f"check_strategy: {self.cls.__qualname__}.{what}({options!r}) raised "
                f"{type(exc).__name__}: {exc}; fix the declaration or pass "
                f"{'labels' if what == 'example_labels' else 'batch_sizes'}="
            )
            raise ConfigError(msg) from exc
        if not isinstance(declared, st.SearchStrategy):
            msg = (
                f"check_strategy: {self.cls.__qualname__}.{what}() must return a hypothesis "
                f"SearchStrategy (e.g. samplekit.testing.labels(...)), but returned "
                f"{type(declared).__name__}"
            )
            raise ConfigError(msg)
        return declared

    def example(self, data: st.DataObject) -> None:
        """Draw one example and check every claim on it."""
        options = dict(self.fixed if self.options is None else data.draw(self.options, "options"))
        try:
            strategy = StrategyConfig.resolve(self.cls, options)
        except ConfigError as exc:  # a drawn option combination the Options model refuses
            self.refuse(exc)
        labels = data.draw(
            self.declared("example_labels", strategy.options) if self.labels is None
            else self.labels,
            label="labels",
        )  # fmt: skip
        batch_size = data.draw(
            self.declared("example_batch_sizes", strategy.options) if self.batch_sizes is None
            else self.batch_sizes,
            label="batch_size",
        )  # fmt: skip
        seed = data.draw(kit.seeds(), label="seed")
        epoch = data.draw(kit.epochs(), label="epoch")
        drop_last = data.draw(st.booleans(), label="drop_last")
        size = len(labels) if hasattr(labels, "__len__") else "?"
        self.inputs = (
            f"{size} labels ({type(labels).__name__}), batch_size={batch_size}, seed={seed}, "
            f"epoch={epoch}, drop_last={drop_last}, options={options!r}"
        )
        try:
            config = validate_config(
                {
                    "strategy": strategy,
                    "batch_size": batch_size,
                    "seed": seed,
                    "drop_last": drop_last,
                }
            )
        except ConfigError as exc:  # a drawn batch size the sampler's config refuses
            self.refuse(exc)
        with _restored_global_rng():
            _seed_globals(_PROBE_SEEDS[0])
            first = self.build(config, labels, refuse=True)
            self.examples += 1
            self.check_option_validation(labels, config, options)
            n = first.labels.numel()
            direct = self.sample_directly(first.strategy, config, epoch, n)
            if first.strategy.random_access:
                self.check_random_access(data, first.strategy, config, epoch, direct, n)
            _seed_globals(_PROBE_SEEDS[0])
            sampler = self.build(config, labels)
            batches = self.iterate(sampler, epoch)
            self.check_batches(sampler, epoch, batches, direct)
            _seed_globals(_PROBE_SEEDS[0])
            if self.iterate(sampler, epoch) != batches:
                self.fail(
                    "deterministic",
                    f"iterating again after set_epoch({epoch}) gave other batches than the first "
                    f"time: state kept between calls changes the output",
                )
            self.check_global_rng(
                batches, lambda: self.iterate(self.build(config, labels), epoch), "ctx.generator"
            )
            self.check_opt_in(sampler, epoch, direct, n)
            self.check_prefetch(config, labels, epoch, batches, self.iterate(sampler, epoch + 1))
            if self.cls.uses_feedback:
                self.check_feedback(data, config, labels)

    def check_prefetch(
        self,
        config: SamplerConfig,
        labels: Any,
        epoch: int,
        batches: list[list[int]],
        following: list[list[int]],
    ) -> None:
        """With ``prefetch=True`` epoch ``epoch + 1`` is built in a thread: same batches."""
        ahead = self.build(config, labels, prefetch=True)
        if self.iterate(ahead, epoch) != batches or self.iterate(ahead, epoch + 1) != following:
            self.fail(
                "prefetch",
                f"with prefetch=True (sample() called in a background thread, an epoch ahead) "
                f"epochs {epoch} and {epoch + 1} gave other batches: sample() must depend "
                f"only on ctx and what __init__ computed",
            )

    def build(
        self, config: SamplerConfig, labels: Any, *, refuse: bool = False, prefetch: bool = False
    ) -> EpochBatchSampler:
        try:
            return EpochBatchSampler.from_config(
                config, labels, rank=0, world_size=1, check_sync=False, prefetch=prefetch
            )
        except Exception as exc:
            self.construction_failed(exc, refuse=refuse, refuse_with="LabelsError or ConfigError")

    def check_option_validation(
        self, labels: Any, config: SamplerConfig, options: Mapping[str, Any]
    ) -> None:
        tries = [({**options, _UNKNOWN_KEY: 1}, "an unknown option key")]
        tries += [({**options, **bad}, f"invalid_options entry {bad!r}") for bad in self.invalid]
        self.check_refused(
            tries,
            lambda values: EpochBatchSampler.from_config(
                config.model_copy(update={"strategy": StrategyConfig.resolve(self.cls, values)}),
                labels,
                rank=0,
                world_size=1,
                check_sync=False,
            ),
        )

    @staticmethod
    def context(config: SamplerConfig, epoch: int) -> EpochContext:
        """A fresh context of ``epoch`` (its own generator), as ``sample`` is called with."""
        return EpochContext(
            epoch=epoch,
            seed=config.seed,
            batch_size=config.batch_size or 1,
            generator=generator(config.seed, epoch),
        )

    def sample_directly(
        self, strategy: Strategy, config: SamplerConfig, epoch: int, n: int
    ) -> list[int]:
        ctx = self.context(config, epoch)
        try:
            out = selection.select(strategy, ctx, num_samples=n)  # the sampler's own check
        except StrategyOutputError as exc:
            self.fail(exc.rule or "sampler accepts the output", str(exc))
        except Exception as exc:
            self.raised(exc, "sample()")
        indices: list[int] = out.tolist()
        return indices

    # --- random access: sample_at reads the epoch sample builds -----------------------------------

    def check_random_access(
        self,
        data: st.DataObject,
        strategy: Strategy,
        config: SamplerConfig,
        epoch: int,
        direct: list[int],
        n: int,
    ) -> None:
        """``sample_at`` gives ``sample``'s indices in ``epoch`` and the next, drawing nothing."""
        self.check_sample_at(data, strategy, config, epoch, direct, n)
        following = self.sample_directly(strategy, config, epoch + 1, n)
        self.check_sample_at(data, strategy, config, epoch + 1, following, n)

    def check_sample_at(
        self,
        data: st.DataObject,
        strategy: Strategy,
        config: SamplerConfig,
        epoch: int,
        direct: list[int],
        n: int,
    ) -> None:
        """Read ``epoch`` at drawn position sets, each with a fresh context, then a consumed one."""
        order = torch.tensor(direct, dtype=torch.int64)
        length = len(direct)
        sets: list[tuple[str, list[int]]] = [("no positions", [])]
        if length:
            last = length - 1
            subset = data.draw(
                st.lists(st.integers(0, last), min_size=1, max_size=_DRAWN_POSITIONS, unique=True),
                label=f"positions read in epoch {epoch}",
            )
            repeated = data.draw(
                st.lists(st.integers(0, last), min_size=1, max_size=_DRAWN_POSITIONS),
                label=f"positions read twice in epoch {epoch}",
            )
            sets += [
                ("every position", list(range(length))),
                ("drawn positions", subset),
                ("every position, reversed", list(range(last, -1, -1))),
                ("drawn positions with repeats", repeated + repeated[::-1]),
                ("the last position", [last]),
            ]
        for what, chosen in sets:
            positions = torch.tensor(chosen, dtype=torch.int64)
            got = self.read_at(strategy, self.context(config, epoch), positions, what, n)
            self.compare_at(epoch, what, chosen, got, order, _AGREES, "")
        # The same epoch read with a context whose generator was drawn from first.
        ctx = self.context(config, epoch)
        torch.randint(0, 2**31, (_CONSUMED,), generator=ctx.generator)
        state = ctx.generator.get_state()
        chosen = list(range(length))
        got = self.read_at(strategy, ctx, torch.arange(length), "every position", n)
        if not torch.equal(ctx.generator.get_state(), state):
            self.fail(
                _NO_DRAWS,
                f"sample_at(ctx, every position) of epoch {epoch} drew from ctx.generator (its "
                f"state changed): positions are read in any order, with a fresh ctx each time, so "
                f"derive keys from ctx.key(...) instead (e.g. for a "
                f"samplekit.permutation.Permutation)",
            )
        self.compare_at(
            epoch,
            "every position",
            chosen,
            got,
            order,
            _NO_DRAWS,
            f" once {_CONSUMED} numbers were drawn from ctx.generator: sample_at depends on the "
            f"generator's state; derive keys from ctx.key(...) instead",
        )

    def read_at(
        self, strategy: Strategy, ctx: EpochContext, positions: torch.Tensor, what: str, n: int
    ) -> torch.Tensor:
        """``select_at`` (the sampler's check of ``sample_at``), its errors reported."""
        shown = f"{what}: {_abbreviated(positions.tolist())}"
        try:
            return selection.select_at(strategy, ctx, positions, num_samples=n)
        except NotImplementedError as exc:
            self.fail(
                _AGREES,
                f"random_access is True but sample_at(ctx, positions) of epoch {ctx.epoch} raised "
                f"NotImplementedError ({exc}); implement sample_at (or subclass "
                f"samplekit.RandomAccessStrategy), or leave random_access False",
            )
        except StrategyOutputError as exc:
            self.fail(exc.rule or _AGREES, f"{exc} (reading {shown})")
        except Exception as exc:
            self.raised(exc, f"sample_at(ctx, positions) of epoch {ctx.epoch} ({shown})")

    def compare_at(
        self,
        epoch: int,
        what: str,
        chosen: list[int],
        got: torch.Tensor,
        order: torch.Tensor,
        claim: str,
        how: str,
    ) -> None:
        """``got`` (``sample_at`` at ``chosen``) equals ``order[chosen]``, or fail ``claim``."""
        expected = order[torch.tensor(chosen, dtype=torch.int64)]
        values = got.to(torch.int64)
        if torch.equal(values, expected):
            return
        differ = torch.nonzero(values != expected).flatten()
        i = int(differ[0])
        self.fail(
            claim,
            f"sample_at(ctx, positions) of epoch {epoch} is not sample(ctx)[positions] with the "
            f"same (seed, epoch){how}: they differ at {differ.numel()} of {len(chosen)} positions "
            f"({what}: {_abbreviated(chosen)}), first at position {chosen[i]}, where sample_at "
            f"gave index {int(values[i])} and sample index {int(expected[i])}",
        )

    def raised(self, exc: Exception, where: str, *, feedback: bool = False) -> NoReturn:
        """Report ``exc``; with ``feedback``, as raised while scores were being observed.

        A feedback strategy's output errors are reported by the rule the sampler names (such as
        ``loss_weights``, which only the sampler checks).
        """
        if isinstance(exc, StrategyContractError):
            raise exc
        if isinstance(exc, StrategyOutputError):
            rule = exc.rule if self.cls.uses_feedback else ""
            self.fail(rule or "sampler accepts the output", str(exc))
        if feedback:
            self.fail(
                "errors only at construction",
                f"{where} raised {type(exc).__name__}: {exc}; once the sampler is built nothing "
                f"may raise, whatever finite scores >= 0 were observed (ties, zeros, samples "
                f"never observed)",
            )
        self.raised_late(exc, where, "labels")

    def check_batches(
        self,
        sampler: EpochBatchSampler,
        epoch: int,
        batches: list[list[int]],
        direct: list[int],
        given: str = "the same (seed, epoch)",
    ) -> None:
        size, length = sampler.batch_size, len(direct)
        sizes = [len(b) for b in batches]
        # Where the batcher says batches start: the fixed batcher cuts the strategy's order as is.
        order = torch.tensor(direct, dtype=torch.int64)
        offsets = sampler.batcher.batch(order, torch.Generator()).offsets.tolist()
        expected = [stop - start for start, stop in itertools.pairwise(offsets)]
        if sizes != expected:
            self.fail(
                "batch sizes",
                f"batch sizes {sizes[:10]}...{sizes[-3:]} with batch_size={size}, "
                f"drop_last={sampler.drop_last}",
            )
        due = offsets[-1]
        if sum(sizes) != due:
            self.fail(
                "epoch_length",
                f"epoch_length({epoch})={length} with batch_size={size}, "
                f"drop_last={sampler.drop_last} means {due} indices, but the sampler yielded "
                f"{sum(sizes)}",
            )
        if [i for b in batches for i in b] != direct[:due]:
            self.fail(
                "deterministic",
                f"a fresh sampler's epoch {epoch} differs from sample() called directly with "
                f"{given}",
            )

    def check_opt_in(
        self, sampler: EpochBatchSampler, epoch: int, direct: list[int], n: int
    ) -> None:
        if self.without_replacement and len(set(direct)) != len(direct):
            twice = sorted({i for i in direct if direct.count(i) > 1})[:10]
            self.fail(
                "without_replacement",
                f"epoch {epoch} holds indices more than once, e.g. {twice}",
            )
        if self.permutation and sorted(direct) != list(range(n)):
            missing = sorted(set(range(n)) - set(direct))[:10]
            self.fail(
                "permutation",
                f"epoch {epoch} is not a permutation of range({n}): {len(direct)} indices, "
                f"{len(set(direct))} distinct, missing e.g. {missing}",
            )
        if self.varies and len(set(direct)) >= VARIES_MIN_DISTINCT:
            try:
                following: list[int] = sampler.epoch_indices(epoch + 1).tolist()
            except Exception as exc:
                self.raised(exc, f"sampling epoch {epoch + 1}")
            if following == direct:
                self.fail(
                    "varies_between_epochs",
                    f"epochs {epoch} and {epoch + 1} are identical ({len(direct)} indices)",
                )

    # --- feedback strategies: epochs planned from the scores the loop observed ------------------

    def check_feedback(self, data: st.DataObject, config: SamplerConfig, labels: Any) -> None:
        """Drive a feedback strategy over a few epochs of observed scores; check every claim."""
        model = data.draw(
            kit.feedback_models() if self.feedback is None else self.feedback, label="feedback"
        )
        start = data.draw(_FEEDBACK_START, label="first feedback epoch")
        count = data.draw(_FEEDBACK_EPOCHS, label="feedback epochs")
        at_epoch = data.draw(st.integers(0, count - 1), label="checkpoint epoch")
        at_batch = data.draw(st.integers(0, 2**16), label="checkpoint batch")
        epochs = list(range(start, start + count))
        self.inputs += f", feedback over epochs {epochs} from {model!r}"
        _seed_globals(_PROBE_SEEDS[0])
        sampler = self.build(config, labels)
        run = _Drive(model=model, checkpoint=(at_epoch, at_batch))
        records = self.drive(sampler, epochs, run)
        self.inputs += f", state_dict() after {run.position} batches of epoch {epochs[at_epoch]}"
        for seeds, claim, how in (
            (_PROBE_SEEDS[0], "deterministic", "global RNGs seeded as for the first run"),
            (
                _PROBE_SEEDS[1],
                "no global RNG",
                "torch.manual_seed, random.seed and numpy.random.seed changed: draw only from "
                "ctx.generator",
            ),
        ):
            _seed_globals(seeds)
            again = self.drive(self.build(config, labels), epochs, _Drive(script=records))
            self.compare_runs(
                records, again, claim, f"a fresh sampler fed the same observations ({how})"
            )
        self.check_feedback_epochs(sampler, records)
        self.check_resume(config, labels, epochs, records, run)

    def drive(
        self, sampler: EpochBatchSampler, epochs: list[int], run: _Drive
    ) -> list[_FeedbackEpoch]:
        """Iterate ``epochs`` with ``set_epoch``, observing scores after every batch and epoch.

        The observations come from ``run.model`` (before the first epoch too, as an evaluation
        pass would), or are those of ``run.script`` (one record per epoch, replayed at the same
        batch positions). With ``run.checkpoint`` = ``(k, raw)`` the state is saved in epoch
        ``k`` after ``raw % (len + 1)`` batches; with ``run.resumed`` the first epoch goes on
        from a loaded checkpoint taken after ``run.skip`` of its batches.
        """
        n = int(sampler.labels.numel())
        everything = torch.arange(n)
        records: list[_FeedbackEpoch] = []
        for k, epoch in enumerate(epochs):
            resumed = k == 0 and run.resumed
            before = [] if resumed else run.observations_before(k, n, epoch)
            try:
                sampler.set_epoch(epoch)
                for indices, scores in before:
                    sampler.observe(indices, scores)
                expected = len(sampler)
            except Exception as exc:
                self.raised(exc, f"len(sampler) before epoch {epoch}", feedback=True)
            position = run.skip if k == 0 else 0
            take_at = None
            if run.checkpoint is not None and run.checkpoint[0] == k:
                take_at = run.position = run.checkpoint[1] % (expected + 1)
            record = _FeedbackEpoch(epoch, expected, before=before)
            try:
                if take_at == position:
                    run.state = copy.deepcopy(sampler.state_dict())
                for batch in sampler:
                    record.batches.append(batch)
                    if len(sampler) != expected:
                        self.fail(
                            "len(sampler)",
                            f"len(sampler) was {expected} before epoch {epoch} and {len(sampler)} "
                            f"after {len(record.batches)} batches and the scores observed for them "
                            f"(an epoch is planned from the observations made before it began)",
                        )
                    calls = run.batch_observations(k, batch, n, epoch, position)
                    for indices, scores in calls:
                        sampler.observe(indices, scores)
                    record.observations[position] = calls
                    position += 1
                    if record.during is None:
                        record.during = sampler.loss_weights(everything)
                    if take_at == position:
                        run.state = copy.deepcopy(sampler.state_dict())
                record.weights = sampler.loss_weights(everything)
                record.order = sampler.epoch_indices(epoch).tolist()
                view = sampler.epoch_context(epoch).feedback
                record.end = run.epoch_end_observations(k, n, epoch)
                for indices, scores in record.end:
                    sampler.observe(indices, scores)
            except Exception as exc:
                self.raised(exc, f"epoch {epoch}, while scores were observed", feedback=True)
            assert view is not None  # a feedback strategy's sampler always has a view
            record.view = _copied(view)
            if not resumed and len(record.batches) != expected:
                self.fail(
                    "len(sampler)",
                    f"len(sampler) was {expected} before epoch {epoch} (after the observations of "
                    f"the epochs before) but the epoch yielded {len(record.batches)} batches",
                )
            records.append(record)
        return records

    def compare_runs(
        self,
        ran: list[_FeedbackEpoch],
        again: list[_FeedbackEpoch],
        claim: str,
        what: str,
        skip: int = 0,
    ) -> None:
        for k, (one, other) in enumerate(zip(ran, again, strict=True)):
            expected = one.batches[skip:] if k == 0 else one.batches
            if other.batches != expected:
                differ = next(
                    (
                        i
                        for i, pair in enumerate(zip(expected, other.batches, strict=False))
                        if pair[0] != pair[1]
                    ),
                    min(len(expected), len(other.batches)),
                )
                self.fail(
                    claim,
                    f"{what} yielded other batches in epoch {one.epoch}: {len(other.batches)} "
                    f"batches instead of {len(expected)}, the first difference at batch "
                    f"{differ + (skip if k == 0 else 0)}",
                )
            if not torch.equal(one.weights, other.weights):
                self.fail(claim, f"{what} gave other loss_weights in epoch {one.epoch}")

    def check_feedback_epochs(
        self, sampler: EpochBatchSampler, records: list[_FeedbackEpoch]
    ) -> None:
        """Replan every epoch from the views the observations make, with a fresh strategy."""
        n = int(sampler.labels.numel())
        mirror = FeedbackState(n)
        for record in records:
            for indices, scores in record.before:
                mirror.observe(indices, scores, epoch=record.epoch)
            mirror.apply()  # what the sampler folds in as the epoch begins
            self.check_feedback_epoch(sampler, record, mirror.view())
            for position in sorted(record.observations):
                for indices, scores in record.observations[position]:
                    mirror.observe(indices, scores, epoch=record.epoch)
            for indices, scores in record.end:
                mirror.observe(indices, scores, epoch=record.epoch)

    def check_feedback_epoch(
        self, sampler: EpochBatchSampler, record: _FeedbackEpoch, view: FeedbackView
    ) -> None:
        epoch, n = record.epoch, int(sampler.labels.numel())
        try:  # sample() may depend only on ctx and what __init__ computed: a fresh instance
            fresh = type(sampler.strategy)(sampler.labels, sampler.config.strategy.options)
        except Exception as exc:
            self.fail(
                "deterministic",
                f"building the strategy again on the same labels and options raised "
                f"{type(exc).__name__}: {exc}",
            )
        given = _copied(view)
        weights: object = None
        try:
            direct = selection.select(fresh, sampler.planner.context(epoch, given), num_samples=n)
            again = selection.select(
                fresh, sampler.planner.context(epoch, _copied(view)), num_samples=n
            )
            if isinstance(fresh, FeedbackStrategy):
                weights = fresh.loss_weights(epoch, given)
        except Exception as exc:
            self.raised(
                exc, f"sample() or loss_weights() of epoch {epoch}, given its view", feedback=True
            )
        changed = _changes(given, view)
        if changed:
            self.fail(
                "feedback view unchanged",
                f"epoch_length(), sample() or loss_weights() of epoch {epoch} wrote to the "
                f"FeedbackView it was given ({changed}); never write to ctx.feedback or "
                f"feedback: clone what you change",
            )
        changed = _changes(record.view, view)
        if changed:
            self.fail(
                "feedback view unchanged",
                f"the view the sampler planned epoch {epoch} from is not the observations made "
                f"before it began ({changed}): the strategy wrote to ctx.feedback",
            )
        if not torch.equal(direct, again):
            self.fail(
                "deterministic",
                f"sample() called twice with the same ctx (epoch {epoch}, the same feedback) "
                f"gave different indices: state kept between calls changes the output",
            )
        indices: list[int] = direct.tolist()
        if record.order != indices:
            self.fail(
                "deterministic",
                f"the sampler's epoch {epoch} ({len(record.order)} indices) differs from "
                f"sample() called directly on a fresh instance with the same (seed, epoch) and "
                f"feedback ({len(indices)} indices): state kept across epochs changes the output",
            )
        self.check_batches(
            sampler, epoch, record.batches, indices, given="the same (seed, epoch) and feedback"
        )
        self.check_loss_weights(record, weights, direct, n)

    def check_loss_weights(
        self, record: _FeedbackEpoch, direct: object, order: torch.Tensor, n: int
    ) -> None:
        epoch, weights = record.epoch, record.weights
        problem = None
        if weights.dtype != torch.float32 or weights.shape != (n,):
            problem = (
                f"sampler.loss_weights(all {n} indices) returned a {weights.dtype} tensor of "
                f"shape {tuple(weights.shape)}, not float32 of shape ({n},)"
            )
        elif not bool(torch.isfinite(weights).all()):
            i = int(torch.nonzero(~torch.isfinite(weights))[0])
            problem = f"sample {i} has the loss weight {float(weights[i])}"
        elif order.numel() and bool((weights[order.long()] <= 0).any()):
            held = order.long()
            i = int(held[weights[held] <= 0][0])
            problem = (
                f"sample {i} is in the epoch but has the loss weight {float(weights[i])}: every "
                f"sample an epoch can hold needs a weight > 0"
            )
        elif record.during is not None and not torch.equal(record.during, weights):
            problem = "the loss weights changed while the epoch ran, as scores were observed"
        elif direct is not None and not isinstance(direct, torch.Tensor):
            problem = f"strategy.loss_weights() returned {type(direct).__name__}"
        else:
            expected = torch.ones(n) if direct is None else direct.to(torch.float32)
            if expected.shape != weights.shape or not torch.equal(expected, weights):
                problem = (
                    "sampler.loss_weights() differ from strategy.loss_weights(epoch, feedback) "
                    "called directly with the epoch's view"
                )
        if problem is not None:
            self.fail("loss_weights", f"epoch {epoch}: {problem}")

    def check_resume(
        self,
        config: SamplerConfig,
        labels: Any,
        epochs: list[int],
        records: list[_FeedbackEpoch],
        run: _Drive,
    ) -> None:
        """A fresh sampler loading the mid-epoch checkpoint goes on as the run did."""
        if run.checkpoint is None or run.state is None:
            return  # no checkpoint asked for, or its epoch had fewer batches than len (failed)
        k, position = run.checkpoint[0], run.position
        what = (
            f"a fresh sampler that loaded the state_dict() taken after {position} batches of "
            f"epoch {epochs[k]}, fed the same observations"
        )
        _seed_globals(_PROBE_SEEDS[0])
        resumed = self.build(config, labels)
        try:
            resumed.load_state_dict(copy.deepcopy(run.state))
        except Exception as exc:
            self.fail("resume", f"{what}: load_state_dict raised {type(exc).__name__}: {exc}")
        replay = _Drive(script=records[k:], skip=position, resumed=True)
        rest = self.drive(resumed, epochs[k:], replay)
        self.compare_runs(records[k:], rest, "resume", what, skip=position)


@dataclasses.dataclass
class _FeedbackEpoch:
    """One epoch of a feedback run: what the sampler yielded and what the loop observed."""

    epoch: int
    length: int  # len(sampler) before the epoch
    before: list[Observation] = dataclasses.field(default_factory=list)  # after set_epoch
    batches: list[list[int]] = dataclasses.field(default_factory=list)
    observations: dict[int, list[Observation]] = dataclasses.field(default_factory=dict)
    end: list[Observation] = dataclasses.field(default_factory=list)
    weights: torch.Tensor = dataclasses.field(default_factory=lambda: torch.empty(0))
    during: torch.Tensor | None = None  # the loss weights after the first batch
    order: list[int] = dataclasses.field(default_factory=list)  # the whole epoch's indices
    view: FeedbackView | None = None  # the view the epoch was planned from (a copy)


@dataclasses.dataclass
class _Drive:
    """How `_Run.drive` runs: observations drawn or replayed, and the checkpoint to take."""

    model: FeedbackModel | None = None
    script: list[_FeedbackEpoch] | None = None
    checkpoint: tuple[int, int] | None = None  # (epoch index, raw batch count)
    skip: int = 0
    resumed: bool = False  # the sampler loaded a checkpoint taken in the first epoch
    state: dict[str, Any] | None = None  # taken at the checkpoint
    position: int = 0  # the batches of its epoch handed out when it was taken

    def observations_before(self, k: int, n: int, epoch: int) -> list[Observation]:
        """The observe calls before the ``k``-th epoch driven: the previous epoch's end pass.

        Made once, before the first epoch: the end of every later epoch's previous one made its
        own already.
        """
        if self.script is not None:
            return self.script[k].before
        if k:
            return []
        return self._model().epoch_end_observations(num_samples=n, epoch=epoch - 1)

    def batch_observations(
        self, k: int, batch: list[int], n: int, epoch: int, position: int
    ) -> list[Observation]:
        """The observe calls after batch ``position`` of the ``k``-th epoch driven."""
        if self.script is not None:
            return self.script[k].observations.get(position, [])
        return self._model().batch_observations(
            batch, num_samples=n, epoch=epoch, position=position
        )

    def epoch_end_observations(self, k: int, n: int, epoch: int) -> list[Observation]:
        """The observe calls after the last batch of the ``k``-th epoch driven."""
        if self.script is not None:
            return self.script[k].end
        return self._model().epoch_end_observations(num_samples=n, epoch=epoch)

    def _model(self) -> FeedbackModel:
        if self.model is None:  # pragma: no cover - every drive has a model or a script
            msg = "a feedback drive needs a score model or a script to replay"
            raise ValueError(msg)
        return self.model


def _abbreviated(positions: list[int], shown: int = 8) -> str:
    """``positions`` as a list, its middle elided beyond ``shown`` of them."""
    if len(positions) <= shown:
        return str(positions)
    head = ", ".join(map(str, positions[: shown - 2]))
    tail = ", ".join(map(str, positions[-2:]))
    return f"[{head}, ..., {tail}] ({len(positions)} positions)"


def _copied(view: FeedbackView) -> FeedbackView:
    return FeedbackView(view.scores.clone(), view.observed.clone())


def _changes(view: FeedbackView | None, expected: FeedbackView) -> str:
    """What differs between two views, bit for bit (NaN included); empty if nothing."""
    if view is None:
        return "no view"
    for name in ("scores", "observed"):
        got, want = getattr(view, name), getattr(expected, name)
        if got.dtype != want.dtype or got.shape != want.shape:
            return f"{name} became {got.dtype} of shape {tuple(got.shape)}"
        if got.dtype == torch.float32:  # compare bits: NaN equals NaN, a written NaN is seen
            got, want = got.view(torch.int32), want.view(torch.int32)
        differ = got != want
        if bool(differ.any()):
            i = int(torch.nonzero(differ)[0])
            value, original = getattr(view, name)[i].item(), getattr(expected, name)[i].item()
            return f"{name}[{i}] is {value}, not {original}"
    return ""
