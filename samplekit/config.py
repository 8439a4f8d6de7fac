"""Validated configuration: `SamplerConfig` and the `StrategyConfig` inside it.

A config is plain data (JSON, YAML, a Hydra/OmegaConf node turned into a dict) and round-trips:
``EpochBatchSampler.from_config(sampler.config.model_dump_json(), labels)`` builds an identical
sampler.

Examples:
    >>> from samplekit import SamplerConfig
    >>> config = SamplerConfig.model_validate(
    ...     {"strategy": {"name": "negative_subsampling", "neg_ratio": 0.25}, "batch_size": 10})
    >>> config.strategy.options.neg_ratio
    0.25
    >>> config.model_dump()["strategy"]["name"]
    'negative_subsampling'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic import Field

from samplekit.errors import ConfigError, SampleKitError
from samplekit.registry import get_strategy, validate_strategy_class
from samplekit.strategy import Options, Strategy

__all__ = ["SamplerConfig", "StrategyConfig", "validate_config"]


class StrategyConfig(pydantic.BaseModel):
    """A strategy name with its validated options.

    Validates from a registered name (``"stratified"``), a mapping ``{"name": ..., **options}``,
    or a strategy class; serialises to the flat mapping ``{"name": ..., **options}``.

    Attributes:
        name: the strategy's registered name.
        options: the strategy's validated ``Options`` instance.
        strategy_class: the strategy class (not serialised; resolved from ``name``).
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    options: Options
    strategy_class: type[Strategy] = Field(exclude=True, repr=False)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        if isinstance(data, StrategyConfig):
            return data
        return _resolve_fields(data, {})

    @pydantic.model_serializer(mode="plain")
    def _flat(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.model_dump(mode="json")}

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
        return cls.model_construct(**_resolve_fields(strategy, dict(options or {})))


def _resolve_fields(strategy: Any, options: dict[str, Any]) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if isinstance(strategy, str):
        cls = get_strategy(strategy)
    elif isinstance(strategy, type):
        cls = validate_strategy_class(strategy)
    elif isinstance(strategy, Mapping):
        given = dict(strategy)
        if "name" not in given:
            msg = (
                f"strategy: a mapping must hold the strategy's 'name', but got keys "
                f"{sorted(given)}; e.g. {{'name': 'stratified'}}"
            )
            raise ConfigError(msg)
        name = given.pop("name")
        if not isinstance(name, str):
            msg = f"strategy.name: expected a registered strategy name, but got {name!r}"
            raise ConfigError(msg)
        cls = get_strategy(name)
    else:
        msg = (
            f"strategy: expected a registered name, a mapping {{'name': ..., **options}} or a "
            f"samplekit.Strategy subclass, but got {strategy!r}"
        )
        raise ConfigError(msg)
    twice = sorted(set(given) & set(options))
    if twice:
        msg = (
            f"strategy {cls.name!r}: options given twice (in the mapping and as keywords): {twice}"
        )
        raise ConfigError(msg)
    values = {**given, **options}
    try:
        validated = cls.Options.model_validate(values)
    except pydantic.ValidationError as exc:
        fields = ", ".join(cls.Options.model_fields) or "none"
        msg = (
            f"strategy {cls.name!r}: invalid options: {_describe(exc)} "
            f"(its options: {fields}; `samplekit strategies` lists their types and ranges)"
        )
        raise ConfigError(msg) from None
    return {"name": cls.name, "options": validated, "strategy_class": cls}


class SamplerConfig(pydantic.BaseModel):
    """Everything that defines an `samplekit.EpochBatchSampler` apart from the labels."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    strategy: StrategyConfig = Field(
        description="The strategy: a registered name, or a mapping {'name': ..., **options}."
    )
    batch_size: int = Field(ge=1, description="Samples per batch (the last may be smaller).")
    seed: int = Field(0, description="Seed of every epoch's generator, mixed with the epoch.")
    drop_last: bool = Field(
        False, description="Drop the last batch of an epoch when it is smaller than batch_size."
    )


def validate_config(data: Any) -> SamplerConfig:
    """Validate a `SamplerConfig` from a model, a mapping or a JSON string.

    Raises:
        ConfigError: naming each invalid field and value.
        UnknownStrategyError: if the strategy name is not registered.
    """
    if isinstance(data, SamplerConfig):
        return data
    try:
        if isinstance(data, (str, bytes)):
            return SamplerConfig.model_validate_json(data)
        return SamplerConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, SampleKitError):
                raise cause from None
        msg = f"invalid sampler configuration: {_describe(exc)}"
        raise ConfigError(msg) from None


def _describe(exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "options"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            parts.append(f"{field} is required")
        elif error["type"] == "extra_forbidden":
            parts.append(
                f"{field}={error['input']!r}: unknown key; check its spelling or remove it"
            )
        elif error["loc"]:
            parts.append(f"{field}={error['input']!r}: {message}")
        else:
            parts.append(f"{message}")
    return "; ".join(parts)
