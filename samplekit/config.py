"""Validated configuration: `SamplerConfig` and the `StrategyConfig` inside it.

A config is plain data (JSON, YAML, a Hydra/OmegaConf node turned into a dict) and round-trips:
``EpochBatchSampler.from_config(sampler.config.model_dump_json(), labels)`` builds an identical
sampler, and so does ``from_config(json.loads(...))`` of the same text.

Validation is strict, as PyTorch's samplers are: a bool is not an int, a string is not a number
or a bool, a float is not an int (``batch_size=2.0`` and ``seed=1.0`` are refused), while an int
is fine where a float is expected. numpy scalars count as the Python scalars they hold. Every
integer must fit in 64 bits and a config nests at most `MAX_DEPTH` levels. Every refusal is a
`samplekit.errors.ConfigError` naming the field, the value (shortened when long) and the type.

Examples:
    >>> from samplekit import SamplerConfig
    >>> config = SamplerConfig.model_validate(
    ...     {"strategy": {"name": "negative_subsampling", "neg_ratio": 0.25}, "batch_size": 10})
    >>> config.strategy.options.neg_ratio
    0.25
    >>> config.model_dump()["strategy"]["name"]
    'negative_subsampling'
    >>> config.strategy
    StrategyConfig({'name': 'negative_subsampling', 'neg_ratio': 0.25, 'neg_per_pos': None, \
'negative_label': 0, 'cycle': False})
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pydantic
from pydantic import Field

from samplekit.batcher import Batcher
from samplekit.errors import ConfigError, SampleKitError
from samplekit.inputs import (
    INT64_MAX,
    INT64_MIN,
    LISTED,
    MAX_DEPTH,
    load_json,
    plain_input,
    quote,
    quote_keys,
)
from samplekit.plugins import get_batcher, get_strategy
from samplekit.registry import validate_batcher_class, validate_strategy_class
from samplekit.strategy import Options, Strategy

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_BATCH_SIZE",
    "MAX_DEPTH",
    "MAX_EPOCH_SAMPLES",
    "SEED_MAX",
    "SEED_MIN",
    "SamplerConfig",
    "StrategyConfig",
    "validate_config",
]

#: The range of ``seed``: what ``torch.Generator.manual_seed`` accepts (it is mixed with the epoch
#: into a 64-bit seed by `samplekit.rng.derive_seed`).
SEED_MIN, SEED_MAX = -(2**63), 2**64 - 1
#: The largest ``batch_size``: a batch is a list of indices held in memory.
MAX_BATCH_SIZE = 2**31 - 1
#: The largest number of samples an option may ask of one epoch (``num_samples``): the epoch's
#: indices are held in memory, 8 bytes each, so 2**31 - 1 of them already take 16 GiB.
MAX_EPOCH_SAMPLES = 2**31 - 1


class _Named(pydantic.BaseModel):
    """A registered name with its validated options (shared by strategies and batchers)."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    _kind: ClassVar[str]
    _example: ClassVar[str]

    name: str
    options: Options

    def __init__(self, data: Any = None, /, **values: Any) -> None:
        """Validate from one positional name, mapping or class, or from keywords.

        Raises:
            ConfigError: for invalid options, or for both a positional value and keywords.
            UnknownStrategyError: for a name no plugin registered (`UnknownBatcherError`
                for a batcher).
        """
        if data is not None and values:
            msg = (
                f"{type(self).__name__}: give a name, a mapping or a class, or keywords, not "
                f"both (got {quote(data)} and keywords {quote_keys(values)})"
            )
            raise ConfigError(msg)
        try:
            self.__pydantic_validator__.validate_python(
                values if data is None else data, self_instance=self
            )
        except pydantic.ValidationError as exc:
            _raise_cause(exc)
            raise

    @pydantic.model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        return cls._fields(data, {})

    @classmethod
    def _fields(cls, value: Any, options: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    @pydantic.model_serializer(mode="plain")
    def _flat(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.model_dump(mode="json")}

    def __repr__(self) -> str:
        flat = {"name": self.name, **self.options.model_dump()}
        return f"{type(self).__name__}({flat!r})"

    def __str__(self) -> str:
        return repr(self)


class StrategyConfig(_Named):
    """A strategy name with its validated options.

    Validates from a registered name (``"stratified"``), a mapping ``{"name": ..., **options}``,
    or a strategy class; serialises to the flat mapping ``{"name": ..., **options}``, which is
    also what its ``repr`` shows: ``StrategyConfig({'name': 'stratified'})`` rebuilds it.

    Attributes:
        name: the strategy's registered name.
        options: the strategy's validated ``Options`` instance.
        strategy_class: the strategy class (not serialised; resolved from ``name``).
    """

    _kind = "strategy"
    _example = "stratified"

    strategy_class: type[Strategy] = Field(exclude=True, repr=False)

    @classmethod
    def _fields(cls, value: Any, options: dict[str, Any]) -> dict[str, Any]:
        fields = _resolve_fields(value, options, cls, get_strategy, validate_strategy_class)
        fields["strategy_class"] = fields.pop("cls")
        return fields

    @classmethod
    def resolve(cls, strategy: Any, options: Mapping[str, Any] | None = None) -> StrategyConfig:
        """Build from a name, a mapping, a strategy class or a StrategyConfig, plus options.

        Raises:
            ConfigError: for options that fail validation or are given twice.
            UnknownStrategyError: for a name no plugin registered.
        """
        if isinstance(strategy, StrategyConfig):
            if not options:
                return strategy
            strategy = {"name": strategy.name, **strategy.options.model_dump()}
        return cls.model_construct(**cls._fields(strategy, dict(options or {})))


class BatcherConfig(_Named):
    """A batcher name with its validated options, as `StrategyConfig` is for strategies.

    Attributes:
        name: the batcher's registered name.
        options: the batcher's validated ``Options`` instance.
        batcher_class: the batcher class (not serialised; resolved from ``name``).

    Examples:
        >>> from samplekit.config import BatcherConfig
        >>> BatcherConfig({"name": "token_budget", "max_tokens": 4096}).options.max_tokens
        4096
    """

    _kind = "batcher"
    _example = "fixed"

    batcher_class: type[Batcher] = Field(exclude=True, repr=False)

    @classmethod
    def _fields(cls, value: Any, options: dict[str, Any]) -> dict[str, Any]:
        fields = _resolve_fields(value, options, cls, get_batcher, validate_batcher_class)
        fields["batcher_class"] = fields.pop("cls")
        return fields


def _resolve_fields(
    value: Any,
    options: dict[str, Any],
    model: type[_Named],
    get: Callable[[str], type[Any]],
    validate: Callable[[Any], type[Any]],
) -> dict[str, Any]:
    kind, given = model._kind, {}
    if isinstance(value, str):
        cls = get(value)
    elif isinstance(value, type):
        cls = validate(value)
    elif isinstance(value, Mapping):
        given = dict(value)
        if "name" not in given:
            msg = (
                f"{kind}: a mapping must hold the {kind}'s 'name', but got keys "
                f"{quote_keys(given)}; e.g. {{'name': {model._example!r}}}"
            )
            raise ConfigError(msg)
        name = given.pop("name")
        if not isinstance(name, str):
            msg = (
                f"{kind}.name: expected a registered {kind} name (a string), but got "
                f"{quote(name)} ({_type_name(name)})"
            )
            raise ConfigError(msg)
        cls = get(name)
    else:
        base = "samplekit.Strategy" if kind == "strategy" else "samplekit.batcher.Batcher"
        msg = (
            f"{kind}: expected a registered name, a mapping {{'name': ..., **options}} or a "
            f"{base} subclass, but got {quote(value)} ({_type_name(value)})"
        )
        raise ConfigError(msg)
    twice = set(given) & set(options)
    if twice:
        msg = (
            f"{kind} {cls.name!r}: options given twice (in the mapping and as keywords): "
            f"{quote_keys(twice)}; give each once"
        )
        raise ConfigError(msg)
    values = {**given, **options}
    try:
        validated = cls.Options.model_validate(values)
    except pydantic.ValidationError as exc:
        fields = ", ".join(cls.Options.model_fields) or "none"
        msg = (
            f"{kind} {cls.name!r}: invalid options: {_describe(exc, cls.Options)} "
            f"(its options: {fields}; `samplekit {kind.replace('y', 'ie')}s` lists their "
            f"types and ranges)"
        )
        raise ConfigError(msg) from None
    return {"name": cls.name, "options": validated, "cls": cls}


class SamplerConfig(pydantic.BaseModel):
    """Everything that defines an `samplekit.EpochBatchSampler` apart from the labels.

    Types are strict (see the module docstring): ``batch_size=True``, ``batch_size=2.0`` or
    ``seed="1"`` are each a `samplekit.errors.ConfigError`.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    strategy: StrategyConfig = Field(
        description="The strategy: a registered name, or a mapping {'name': ..., **options}."
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        le=MAX_BATCH_SIZE,
        strict=True,
        description="Samples per batch (the last may be smaller), at most 2**31 - 1: a batch is "
        "a list of indices held in memory. Required by batchers that use it (fixed, "
        "length_grouped); refused by those that size batches otherwise (token_budget).",
    )
    batcher: BatcherConfig = Field(
        default_factory=lambda: BatcherConfig.model_validate("fixed"),
        description="How each epoch is cut into batches: a registered batcher name, or a "
        "mapping {'name': ..., **options}; default 'fixed' (batches of batch_size in the "
        "strategy's order).",
    )
    seed: int = Field(
        0,
        ge=SEED_MIN,
        le=SEED_MAX,
        strict=True,
        description="Seed of every epoch's generator, mixed with the epoch; an integer from "
        "-2**63 to 2**64 - 1, the range a torch.Generator accepts as a seed.",
    )
    drop_last: bool = Field(
        False,
        strict=True,
        description="Drop the last batch of an epoch when it is smaller than batch_size.",
    )

    @pydantic.model_validator(mode="before")
    @classmethod
    def _plain_input(cls, data: Any) -> Any:
        return plain_input(cls, data, integers=(SEED_MIN, SEED_MAX))

    @pydantic.model_validator(mode="after")
    def _batch_size_fits_batcher(self) -> SamplerConfig:
        batcher = self.batcher
        needs = batcher.batcher_class.needs_batch_size
        if needs and self.batch_size is None:
            msg = (
                f"batch_size: required by the {batcher.name!r} batcher (samples per batch), but "
                f"got None; pass batch_size=..., or a batcher that sizes batches itself, e.g. "
                f"batcher={{'name': 'token_budget', 'max_tokens': ...}}"
            )
            raise ConfigError(msg)
        if not needs and self.batch_size is not None:
            msg = (
                f"batch_size: the {batcher.name!r} batcher sizes batches itself and does not "
                f"use batch_size={self.batch_size}; leave batch_size out (its options, such as "
                f"a largest batch size, are listed by `samplekit batchers`)"
            )
            raise ConfigError(msg)
        return self


def validate_config(data: Any) -> SamplerConfig:
    """Validate a `SamplerConfig` from a model, a mapping or a JSON string.

    A JSON string validates exactly as the mapping ``json.loads`` makes of it.

    Raises:
        ConfigError: naming each invalid field and value (the first few, when there are many),
            for malformed JSON, and for nesting deeper than `MAX_DEPTH`.
        UnknownStrategyError: if the strategy name is not registered.
    """
    if isinstance(data, SamplerConfig):
        return data
    if isinstance(data, (str, bytes, bytearray)):
        data = load_json(data)
    try:
        return SamplerConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        _raise_cause(exc)
        msg = f"invalid sampler configuration: {_describe(exc, SamplerConfig)}"
        raise ConfigError(msg) from None


# --- error messages ------------------------------------------------------------------------------


def _raise_cause(exc: pydantic.ValidationError) -> None:
    """Re-raise a samplekit error that a validator raised (say, an unknown strategy name)."""
    if exc.error_count() > LISTED:  # a flood of field errors, not one raised by a validator
        return
    for error in exc.errors(include_url=False):
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, SampleKitError):
            raise cause from None


_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a bool (true or false)",
    "string_type": "a string",
    "dict_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a tuple",
}
_BOUNDS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
# A union member's tag in an error's location, such as "literal['balanced']" or "dict[int,float]".
_TAG = re.compile(r"[\w-]+\[.*\]")


def _describe(exc: pydantic.ValidationError, model: type[pydantic.BaseModel]) -> str:
    """The errors of ``exc`` in one line: the first `LISTED`, then a count of the others.

    When every member of a union refuses a value's type, the refusals become one ("expected
    'balanced' or a mapping"); when one member got further (a mapping with a bad weight), only
    its errors are told.
    """
    errors = exc.errors(include_url=False)
    members: dict[Any, list[Any]] = {}
    deeper = set()
    for error in errors:
        loc = error["loc"]
        if _is_member_refusal(loc):
            members.setdefault(loc[0], []).append(error)
        elif len(loc) > 2:
            deeper.add(loc[0])
    parts: list[str] = []
    told = 0
    for error in errors:
        loc = error["loc"]
        if _is_member_refusal(loc):
            if loc[0] in deeper or members[loc[0]][0] is not error:
                continue
            told += 1
            if len(parts) < LISTED:
                parts.append(_describe_union(members[loc[0]]))
        else:
            told += 1
            if len(parts) < LISTED:
                parts.append(_describe_one(error, model))
    if told > len(parts):
        parts.append(f"and {told - len(parts)} more errors")
    return "; ".join(parts)


def _is_member_refusal(loc: tuple[Any, ...]) -> bool:
    return len(loc) == 2 and isinstance(loc[1], str) and _TAG.fullmatch(loc[1]) is not None


def _describe_union(errors: list[Any]) -> str:
    value = errors[0].get("input")
    expected = []
    for error in errors:
        if error["type"] == "literal_error":
            expected.append(str(error.get("ctx", {}).get("expected", error["msg"])))
        else:
            expected.append(_EXPECTED.get(error["type"], str(error["msg"]).lower()))
    return (
        f"{errors[0]['loc'][0]}={quote(value)}: expected {' or '.join(expected)}, but got "
        f"{_type_name(value)}"
    )


def _describe_one(error: Any, model: type[pydantic.BaseModel]) -> str:
    loc = [part for part in error["loc"] if not (isinstance(part, str) and _TAG.fullmatch(part))]
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    field = ".".join(str(part) if len(str(part)) <= 40 else quote(part) for part in loc)
    kind = error["type"]
    value = error.get("input")
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"{field} is required"
    if kind == "extra_forbidden":
        hint = ""
        if isinstance(loc[-1], str) and len(loc[-1]) <= 100:
            close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{field}={quote(value)}: unknown key{hint}; check its spelling or remove it"
    if not loc:
        return message
    if is_key:
        parent = ".".join(str(part) for part in loc[:-1]) or "mapping"
        what = f"{parent}: key {quote(value)}"
    else:
        what = f"{field}={quote(value)}"
    if kind in _EXPECTED:
        return (
            f"{what}: expected {_EXPECTED[kind]}, but got {_type_name(value)}{_hint(kind, value)}"
        )
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{what}: expected {expected}, but got {_type_name(value)}"
    text = f"{what}: {message}"
    if kind in _BOUNDS and len(loc) == 1:
        info = model.model_fields.get(str(loc[0]))
        if info is not None and info.description:
            text += f" [{field}: {info.description.rstrip('.')}]"
    return text


def _hint(kind: str, value: Any) -> str:
    if isinstance(value, bool) and kind in ("int_type", "float_type"):
        return "; a bool is not a number here"
    if isinstance(value, str) and kind in ("int_type", "float_type", "bool_type"):
        return "; a string is not a number or a bool: write the value without quotes"
    if isinstance(value, int) and kind == "bool_type":
        return "; an integer is not a bool here: write true or false"
    if isinstance(value, float) and kind == "int_type":
        if value.is_integer() and abs(value) < 2**63:
            return f"; write {int(value)} (no decimal point) for an integer"
        return "; an integer is required"
    return ""


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__
