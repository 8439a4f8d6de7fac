"""Configuration: strict types, numeric limits, bounded error messages, nesting, repr."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field

import samplekit
from samplekit import ConfigError, EpochBatchSampler, StrategyConfig
from samplekit.config import validate_config

BINARY = [0] * 8 + [1] * 2
CLASSES = [0] * 6 + [1] * 6 + [2] * 6
REQUIRED: dict[str, dict[str, Any]] = {
    "stratified": {},
    "negative_subsampling": {"neg_ratio": 0.5},
    "class_weighted": {},
    "m_per_class": {"m": 2},
    "curriculum_negatives": {"start_ratio": 0.1, "end_ratio": 0.9, "epochs": 3},
}


def config(strategy: Any = "stratified", **settings: Any) -> dict[str, Any]:
    return {"strategy": strategy, "batch_size": 2, **settings}


def refused(data: Any, *fragments: str) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(data)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --- strict types ---------------------------------------------------------------------------------

SAMPLER_TYPES = [
    # (setting, value, type named in the message)
    ("batch_size", True, "bool"),
    ("batch_size", 2.0, "float"),
    ("batch_size", 2.5, "float"),
    ("batch_size", "2", "str"),
    ("batch_size", None, "None"),
    ("seed", 1.0, "float"),
    ("seed", "1", "str"),
    ("seed", False, "bool"),
    ("drop_last", 0, "int"),
    ("drop_last", "no", "str"),
    ("drop_last", "true", "str"),
    ("batch_size", np.float64(2.0), "float"),  # an np.float64 is no int either
]


@pytest.mark.parametrize(("setting", "value", "type_name"), SAMPLER_TYPES)
def test_sampler_settings_are_strict_in_python(setting: str, value: Any, type_name: str) -> None:
    settings: dict[str, Any] = {"batch_size": 2, setting: value}
    with pytest.raises(ConfigError) as info:
        EpochBatchSampler(BINARY, "stratified", **settings)
    message = str(info.value)
    assert f"{setting}=" in message
    assert f"but got {type_name}" in message


@pytest.mark.parametrize(("setting", "value", "type_name"), SAMPLER_TYPES)
def test_sampler_settings_are_strict_in_json_and_dicts(
    setting: str, value: Any, type_name: str
) -> None:
    data = config(**{setting: value.item() if isinstance(value, np.generic) else value})
    text = json.dumps(data)
    for given_config in (text, json.loads(text)):
        refused(given_config, f"{setting}=", f"but got {type_name}")


OPTION_TYPES = [
    # (strategy, option, value, type named in the message)
    ("negative_subsampling", "neg_ratio", "0.5", "str"),
    ("negative_subsampling", "neg_ratio", True, "bool"),
    ("negative_subsampling", "cycle", "yes", "str"),
    ("negative_subsampling", "cycle", 1, "int"),
    ("negative_subsampling", "negative_label", 0.0, "float"),
    ("negative_subsampling", "negative_label", True, "bool"),
    ("class_weighted", "replacement", 0, "int"),
    ("class_weighted", "replacement", "no", "str"),
    ("class_weighted", "num_samples", 10.0, "float"),
    ("class_weighted", "num_samples", True, "bool"),
    ("class_weighted", "class_weights", {0: "1", 1: 1.0, 2: 1.0}, "str"),
    ("class_weighted", "class_weights", {0: True, 1: 1.0, 2: 1.0}, "bool"),
    ("class_weighted", "class_weights", {"0.0": 1.0, 1: 1.0, 2: 1.0}, "str"),
    ("class_weighted", "class_weights", 5, "int"),
    ("m_per_class", "m", 2.0, "float"),
    ("m_per_class", "m", True, "bool"),
    ("m_per_class", "replacement", "false", "str"),
    ("curriculum_negatives", "epochs", 3.0, "float"),
    ("curriculum_negatives", "start_ratio", "0.1", "str"),
    ("curriculum_negatives", "schedule", 1, "int"),
]


@pytest.mark.parametrize(("strategy", "option", "value", "type_name"), OPTION_TYPES)
def test_strategy_options_are_strict(
    strategy: str, option: str, value: Any, type_name: str
) -> None:
    options = {**REQUIRED[strategy], option: value}
    with pytest.raises(ConfigError) as info:
        EpochBatchSampler(CLASSES, strategy, batch_size=2, **options)
    message = str(info.value)
    assert option in message
    assert f"but got {type_name}" in message
    refused(config({"name": strategy, **options}), option, f"but got {type_name}")


def test_third_party_options_inherit_strict_types() -> None:
    class Every(samplekit.Strategy):
        """Every sample."""

        name = "every_strict"

        class Options(samplekit.Options):
            k: int = Field(1, ge=1)
            share: float = 0.5
            names: dict[str, int] = Field(default_factory=dict)

        def epoch_length(self, epoch: int) -> int:
            return int(self.labels.numel())

        def sample(self, ctx: samplekit.EpochContext) -> Any:
            return self.labels.new_tensor(range(int(self.labels.numel())))

    for bad in ({"k": True}, {"k": 2.0}, {"k": "2"}, {"share": "0.5"}, {"names": {"a": 1.0}}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            EpochBatchSampler(BINARY, Every, batch_size=2, **bad)
    sampler = EpochBatchSampler(BINARY, Every, batch_size=2, k=np.int16(3), share=1)
    got = sampler.config.strategy.options.model_dump()
    assert (type(got["k"]), got["k"], type(got["share"])) == (int, 3, float)
    # Integer strings become keys only where the keys are integers: these stay strings.
    keep = EpochBatchSampler(BINARY, Every, batch_size=2, names={"3": 1})
    assert keep.config.strategy.options.model_dump()["names"] == {"3": 1}


def test_numpy_scalars_count_as_python_scalars() -> None:
    numpy_settings: dict[str, Any] = {
        "batch_size": np.int64(3),
        "seed": np.uint64(2**64 - 1),
        "drop_last": np.bool_(True),
    }
    sampler = EpochBatchSampler(
        BINARY,
        "negative_subsampling",
        **numpy_settings,
        neg_ratio=np.float32(0.5),
        negative_label=np.int8(0),
        cycle=np.bool_(False),
    )
    cfg = sampler.config
    values = [cfg.batch_size, cfg.seed, cfg.drop_last, *cfg.strategy.options.model_dump().values()]
    assert [type(v) for v in values] == [int, int, bool, float, type(None), int, bool]
    assert (cfg.batch_size, cfg.seed, cfg.strategy.options.model_dump()["neg_ratio"]) == (
        3,
        2**64 - 1,
        0.5,
    )
    weighted = EpochBatchSampler(
        BINARY, "class_weighted", batch_size=2, class_weights={np.int64(0): np.float16(1), 1: 2}
    )
    weights = weighted.config.strategy.options.model_dump(mode="python")["class_weights"]
    assert weights == {0: 1.0, 1: 2.0}
    assert isinstance(weights, dict)
    assert {(type(k), type(v)) for k, v in weights.items()} == {(int, float)}


def test_an_int_is_fine_for_a_float_option_and_becomes_a_float() -> None:
    sampler = EpochBatchSampler(BINARY, "negative_subsampling", batch_size=2, neg_per_pos=3)
    value = sampler.config.strategy.options.model_dump()["neg_per_pos"]
    assert (type(value), value) == (float, 3.0)


def test_json_round_trips_with_integer_string_keys() -> None:
    sampler = EpochBatchSampler(
        CLASSES, "class_weighted", batch_size=4, seed=5, class_weights={0: 1, 1: 2.5, 2: 0}
    )
    text = sampler.config.model_dump_json()
    assert json.loads(text)["strategy"]["class_weights"] == {"0": 1.0, "1": 2.5, "2": 0.0}
    expected = list(sampler)
    for given_config in (text, json.loads(text)):
        again = EpochBatchSampler.from_config(given_config, CLASSES)
        assert again.config == sampler.config
        assert list(again) == expected


# --- numeric limits -------------------------------------------------------------------------------

LIMITS = [
    # (strategy, settings and options, fragments: the field and the limit)
    ("negative_subsampling", {"neg_per_pos": 1e308}, ["neg_per_pos", "<= 4"]),
    ("negative_subsampling", {"neg_per_pos": 5}, ["neg_per_pos", "<= 4"]),
    ("stratified", {"batch_size": 2**64}, ["batch_size", "2**64 - 1"]),
    ("stratified", {"batch_size": 2**31}, ["batch_size", "2147483647"]),
    ("class_weighted", {"num_samples": 10**12}, ["num_samples", "2147483647", "fewer samples"]),
    ("stratified", {"seed": 10**5000}, ["seed", "2**64 - 1"]),
    ("stratified", {"seed": 2**64}, ["seed", "2**64 - 1"]),
    ("stratified", {"seed": -(2**63) - 1}, ["seed", "-2**63"]),
    ("negative_subsampling", {"neg_ratio": 0.5, "negative_label": 2**63}, ["negative_label"]),
    ("m_per_class", {"m": 2**40}, ["m=", "2147483647"]),
    ("m_per_class", {"m": 2, "num_samples": 2**40}, ["num_samples", "2147483647"]),
    ("curriculum_negatives", {"start_ratio": 0.1, "end_ratio": 1, "epochs": 10**30}, ["epochs"]),
]


@pytest.mark.parametrize(("strategy", "settings", "fragments"), LIMITS)
def test_numbers_beyond_the_limits_are_refused_at_construction(
    strategy: str, settings: dict[str, Any], fragments: list[str]
) -> None:
    settings = {"batch_size": 2, **settings}
    with pytest.raises(ConfigError) as info:
        EpochBatchSampler(BINARY, strategy, **settings)
    message = str(info.value)
    assert len(message) < 1000
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("seed", [-(2**63), 2**64 - 1, 0])
def test_seeds_at_the_ends_of_the_range_work(seed: int) -> None:
    sampler = EpochBatchSampler(BINARY, "stratified", batch_size=2**31 - 1, seed=seed)
    assert sorted(i for batch in sampler for i in batch) == list(range(len(BINARY)))
    assert EpochBatchSampler.from_config(sampler.config.model_dump_json(), BINARY).seed == seed


def test_a_json_integer_of_thousands_of_digits_is_a_config_error() -> None:
    text = '{"strategy": "stratified", "batch_size": 2, "seed": ' + "9" * 5000 + "}"
    refused(text, "5000 digits")


# --- error size and nesting -----------------------------------------------------------------------


def test_two_hundred_thousand_unknown_keys_give_a_short_message() -> None:
    keys = {f"key{i}": i for i in range(200_000)}
    for data in (
        {**config(), **keys},
        config({"name": "negative_subsampling", "neg_ratio": 0.5, **keys}),
    ):
        message = refused(data, "200000 unknown keys", "key0", "199990 more")
        assert len(message) < 1000
        message = refused(json.dumps(data), "200000 unknown keys")
        assert len(message) < 1000


def test_many_bad_values_and_long_values_are_cut_short() -> None:
    weights = dict.fromkeys(range(50_000), "heavy")
    message = refused(config({"name": "class_weighted", "class_weights": weights}), "more errors")
    assert len(message) < 2000
    message = refused(config(batch_size="x" * 1_000_000), "batch_size", "1000000 characters")
    assert len(message) < 1000
    message = refused(config(typo=list(range(100_000))), "typo", "100000 items")
    assert len(message) < 1000


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [20, 100_000])
def test_deep_nesting_is_a_config_error(depth: int) -> None:
    refused(config(seed=nested(depth)), "nested deeper than 10 levels")
    options = {"name": "class_weighted", "class_weights": nested(depth)}
    refused(config(options), "nested deeper than 10 levels")
    with pytest.raises(ConfigError, match="nested deeper"):
        EpochBatchSampler(BINARY, "class_weighted", batch_size=2, class_weights=nested(depth))
    deep_list: Any = 1
    for _ in range(depth):
        deep_list = [deep_list]
    refused(config(seed=deep_list), "nested deeper than 10 levels")


def test_deeply_nested_json_is_a_config_error() -> None:
    text = '{"a":' * 100_000 + "1" + "}" * 100_000
    refused(text, "nest")
    shallow_enough = json.dumps(config(seed=nested(50)))
    refused(shallow_enough, "nested deeper than 10 levels")


# --- repr ----------------------------------------------------------------------------------------


def test_strategy_config_repr_is_the_flat_shape_that_round_trips() -> None:
    sampler = EpochBatchSampler(
        CLASSES, "class_weighted", batch_size=2, class_weights={0: 1, 1: 2, 2: 3}, num_samples=7
    )
    strategy = sampler.config.strategy
    text = repr(strategy)
    assert text.startswith("StrategyConfig({'name': 'class_weighted', 'class_weights': {0: 1.0")
    assert "options=" not in text
    assert "options=" not in repr(sampler.config)
    rebuilt = eval(text, {"StrategyConfig": StrategyConfig})
    assert rebuilt == strategy
    flat = eval(text.removeprefix("StrategyConfig"))
    again = EpochBatchSampler.from_config({"strategy": flat, "batch_size": 2}, CLASSES)
    assert again.config == sampler.config
    assert str(strategy) == text


# --- fuzz ----------------------------------------------------------------------------------------

scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=5),
    st.sampled_from(["0", "1", "2.5", "true", "balanced", "linear", "cosine"]),
    st.none(),
    st.builds(np.int64, st.integers(-(2**63), 2**63 - 1)),
    st.builds(np.float32, st.floats(width=32)),
    st.builds(np.bool_, st.booleans()),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(scalars, inner, max_size=3),
    max_leaves=6,
)
OPTIONS = {
    "negative_subsampling": ["neg_ratio", "neg_per_pos", "negative_label", "cycle"],
    "class_weighted": ["class_weights", "num_samples", "replacement"],
    "m_per_class": ["m", "num_samples", "replacement"],
    "curriculum_negatives": ["start_ratio", "end_ratio", "epochs", "schedule", "negative_label"],
}
TYPES = {
    "neg_ratio": (float, type(None)),
    "neg_per_pos": (float, type(None)),
    "negative_label": (int,),
    "cycle": (bool,),
    "replacement": (bool,),
    "num_samples": (int, type(None)),
    "m": (int,),
    "start_ratio": (float,),
    "end_ratio": (float,),
    "epochs": (int,),
    "schedule": (str,),
    "class_weights": (str, dict),
}


VALID: dict[str, dict[str, Any]] = {
    "negative_subsampling": {"neg_ratio": 0.5, "negative_label": 0, "cycle": False},
    "class_weighted": {"class_weights": {0: 1.0, "1": 2}, "num_samples": 10, "replacement": True},
    "m_per_class": {"m": 2, "num_samples": 8, "replacement": False},
    "curriculum_negatives": {
        "start_ratio": 0.1,
        "end_ratio": 0.9,
        "epochs": 3,
        "schedule": "cosine",
        "negative_label": 0,
    },
}


def as_json(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:  # numpy scalars
        return repr(value)


def lookalikes(value: Any) -> st.SearchStrategy[Any]:
    """``value`` and values of other types that a lax parser would take for it."""
    near: list[Any] = [value, str(value), [value], {"value": value}, None, as_json(value)]
    if isinstance(value, bool):
        near += [int(value), float(value), np.bool_(value), "yes" if value else "no"]
    elif isinstance(value, int):
        near += [float(value), bool(value), np.int64(value), np.float64(value), value + 0.5]
    elif isinstance(value, float):
        near += [int(value), np.float32(value), np.float64(value), bool(value)]
    return st.sampled_from(near)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid config with one to three values swapped for look-alikes or arbitrary values."""
    name = draw(st.sampled_from(sorted(VALID)))
    settings: dict[str, Any] = {"batch_size": 4, "seed": 7, "drop_last": True}
    options = dict(VALID[name])
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from([settings, options]))
        key = draw(st.sampled_from(sorted(target)))
        target[key] = draw(lookalikes(target[key]) | values)
    return {"strategy": {"name": name, **options}, **settings}


def exact_types(value: Any) -> bool:
    if type(value) in (int, float, bool, str, type(None)):
        return not isinstance(value, float) or math.isfinite(value)
    if type(value) is dict:
        return all(exact_types(k) and exact_types(v) for k, v in value.items())
    return False


def as_given(given: Any, held: Any) -> bool:
    """Whether ``held`` is ``given`` unconverted (numpy scalars and int -> float aside)."""
    if isinstance(given, np.generic):
        given = given.item()
    if type(given) is int and type(held) is float:
        return float(given) == held
    if type(given) is not type(held):
        return False
    if isinstance(given, dict):
        keys = {int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k for k in given}
        return len(keys) == len(given) == len(held) and all(
            as_given(v, held[int(k) if isinstance(k, str) else k]) for k, v in given.items()
        )
    return bool(given == held)


@given(configs())
def test_fuzz_a_config_is_refused_with_a_config_error_or_exactly_typed(
    data: dict[str, Any],
) -> None:
    try:
        cfg = validate_config(data)
    except ConfigError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert len(refusal) < 3000
        return
    # Nothing was converted: what was given is what the config holds (an int may be a float).
    given = {key: value for key, value in data.items() if key != "strategy"}
    given.update(options=data["strategy"])
    held = {key: value for key, value in cfg.model_dump(mode="python").items() if key != "strategy"}
    held.update(options={"name": cfg.strategy.name, **cfg.strategy.options.model_dump()})
    for key, value in given.items():
        if key == "options":
            for option, option_value in value.items():
                assert as_given(option_value, held["options"][option]), (option, option_value)
        else:
            assert as_given(value, held[key]), (key, value)
    assert (type(cfg.batch_size), type(cfg.seed), type(cfg.drop_last)) == (int, int, bool)
    assert cfg.batch_size is not None  # the fixed batcher's
    assert 1 <= cfg.batch_size <= 2**31 - 1
    assert -(2**63) <= cfg.seed <= 2**64 - 1
    for key, value in cfg.strategy.options.model_dump().items():
        assert type(value) in TYPES[key], (key, value)
        assert exact_types(value), (key, value)
        if isinstance(value, int) and not isinstance(value, bool):
            assert -(2**63) <= value <= 2**63 - 1
    if isinstance(cfg.strategy.options.model_dump().get("class_weights"), dict):
        weights = cfg.strategy.options.model_dump()["class_weights"]
        assert all(type(k) is int and type(v) is float for k, v in weights.items())
    text = cfg.model_dump_json()
    assert validate_config(text) == cfg
    assert validate_config(json.loads(text)) == cfg
    assert validate_config(cfg.model_dump()) == cfg
