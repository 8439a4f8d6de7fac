"""Raw configuration input made plain for strict validation, and short quotes of it.

Before pydantic validates a config strictly, `plain_input` turns what users pass into plain
Python data: numpy scalars become the Python scalars they hold, mappings (an OmegaConf node, say)
become dicts, nesting is bounded, integers must fit their range, and integer-valued string keys
of ``dict[int, ...]`` fields (as JSON writes every key) become integers. `load_json` parses a
JSON config with the same bounds. `quote`, `quote_keys` and `shorten` keep what an error message
quotes short, however large the input.

Examples:
    >>> import numpy as np
    >>> from samplekit.inputs import plain_input, quote
    >>> from samplekit.strategies.class_weighted import ClassWeighted
    >>> plain_input(ClassWeighted.Options, {"class_weights": {"0": np.float32(1.0)}},
    ...             integers=(-(2**63), 2**63 - 1))
    {'class_weights': {0: 1.0}}
    >>> quote(list(range(100))), quote(10**5000)
    ('[0, 1, 2, 3, 4, 5, ...] (100 items)', '<an integer of 16610 bits>')
"""

from __future__ import annotations

import json
import operator
import re
import reprlib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Union

import numpy as np

from samplekit.errors import ConfigError

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "LISTED",
    "MAX_DEPTH",
    "as_int",
    "clip",
    "load_json",
    "plain_input",
    "quote",
    "quote_keys",
    "shorten",
]

#: The range of every integer strategy option: int64, what a label or index tensor holds.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: How deeply a config may nest mappings and lists (a real one nests three levels).
MAX_DEPTH = 10
#: Errors an error message lists at most; the rest are counted.
LISTED = 10


def as_int(value: Any) -> int | None:
    """``value`` as an ``int`` if it is an integer, else ``None``.

    Python and numpy integers and 0-d integer tensors are integers; a bool, a float (even
    ``2.0``) or a string is not.

    Examples:
        >>> import numpy as np
        >>> from samplekit.inputs import as_int
        >>> as_int(np.int64(3)), as_int(True), as_int(2.0), as_int("2")
        (3, None, None, None)
    """
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def plain_input(model: type[pydantic.BaseModel], data: Any, *, integers: tuple[int, int]) -> Any:
    """The input of ``model`` as plain Python data, for strict validation.

    numpy scalars become the Python scalars they hold, mappings (an OmegaConf node, say) become
    dicts and lists stay lists, at most `MAX_DEPTH` levels deep; every integer must lie in
    ``integers`` (inclusive). In a field typed ``dict[int, ...]`` (possibly within a union),
    keys that are integers written as strings (``"3"``, ``"-1"``), as JSON writes every key,
    become integers; nowhere else does a string count as a number.

    Args:
        model: the pydantic model ``data`` is for (its field types say which keys to convert).
        data: the raw input; anything but a mapping is returned as it is.
        integers: the inclusive range every integer in ``data`` must lie in.

    Raises:
        ValueError: naming the field, for nesting too deep or an integer out of range (pydantic
            wraps it; `validate_config` reports it as a `samplekit.errors.ConfigError`).
    """
    if not isinstance(data, Mapping):
        return data
    if model.model_config.get("extra") == "forbid":
        unknown = [key for key in data if key not in model.model_fields]
        if len(unknown) > LISTED:  # a flood: say so in a line, not a line per key
            msg = (
                f"{len(unknown)} unknown keys {quote_keys(unknown)}; remove them (known keys: "
                f"{', '.join(model.model_fields) or 'none'})"
            )
            raise ValueError(msg)
    plain = _plain(data, "", 1, integers)
    for name, field in model.model_fields.items():
        value = plain.get(name)
        if isinstance(value, dict) and _int_keyed(field.annotation):
            plain[name] = _int_keys(name, value)
    return plain


def _int_keys(name: str, mapping: dict[Any, Any]) -> dict[Any, Any]:
    converted: dict[Any, Any] = {}
    for key, item in mapping.items():
        new = int(key) if isinstance(key, str) and _INT_KEY.fullmatch(key) else key
        if new in converted:  # {1: ..., "1": ...}: one label given twice
            msg = f"{name}: keys {new!r} and {str(new)!r} name the same label; give it once"
            raise ValueError(msg)
        converted[new] = item
    return converted


def _plain(value: Any, path: str, depth: int, integers: tuple[int, int]) -> Any:
    if type(value) in _SCALARS or (type(value) is int and integers[0] <= value <= integers[1]):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = integers
        if not low <= value <= high:
            msg = (
                f"{path or 'value'}={quote(value)}: out of range; integers here must lie "
                f"from {_power(low)} to {_power(high)}"
            )
            raise ValueError(msg)
        return value
    if isinstance(value, (Mapping, list, tuple)) or _is_sequence_node(value):
        if depth > MAX_DEPTH:
            msg = (
                f"{path or 'configuration'}: nested deeper than {MAX_DEPTH} levels; a samplekit "
                f"configuration nests a few mappings at most, so check what was passed"
            )
            raise ValueError(msg)
        if isinstance(value, Mapping):
            items = {}
            for key, item in value.items():
                key = _plain(key, _join(path, key), depth + 1, integers)
                items[key] = _plain(item, _join(path, key), depth + 1, integers)
            return items
        items_list = [
            _plain(item, _join(path, i), depth + 1, integers) for i, item in enumerate(value)
        ]
        return tuple(items_list) if isinstance(value, tuple) else items_list
    return value


_SCALARS = frozenset({str, float, bool, type(None)})


def _is_sequence_node(value: Any) -> bool:
    """An OmegaConf ``ListConfig`` or similar list-like node (not a string or bytes)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray, range))


def _join(path: str, key: Any) -> str:
    text = key if isinstance(key, str) and len(key) <= 40 else quote(key)
    return f"{path}.{text}" if path else str(text)


def _power(bound: int) -> str:
    for base in (63, 64, 31):
        for value, text in ((2**base - 1, f"2**{base} - 1"), (-(2**base), f"-2**{base}")):
            if bound == value:
                return text
    return str(bound)


_INT_KEY = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")


def _int_keyed(annotation: Any) -> bool:
    """Whether ``annotation`` takes a ``dict[int, ...]`` and no dict with string keys."""
    keys = _dict_key_types(annotation)
    return int in keys and str not in keys


def _dict_key_types(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _dict_key_types(args[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_dict_key_types(arg) for arg in args))
    if isinstance(origin, type) and issubclass(origin, Mapping) and args:
        key = args[0]
        return {typing.get_args(key)[0] if typing.get_origin(key) is Annotated else key}
    return set()


def load_json(text: str | bytes | bytearray) -> Any:
    """Parse a JSON config, refusing integers beyond 40 digits and too deep nesting.

    Raises:
        ConfigError: for malformed JSON, a huge integer or nesting too deep to parse.
    """
    try:
        return json.loads(text, parse_int=_parse_int)
    except _LongInteger as exc:
        msg = (
            f"configuration: the JSON holds an integer of {exc.digits} digits; every integer "
            f"in a configuration fits in 64 bits"
        )
    except RecursionError:
        msg = (
            f"configuration: the JSON nests too deeply to parse; a samplekit configuration "
            f"nests at most {MAX_DEPTH} levels"
        )
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        msg = f"configuration: not valid JSON ({shorten(str(exc))}); check the text or file"
    raise ConfigError(msg) from None


class _LongInteger(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 40:  # far beyond 64 bits; int() of thousands of digits is slow
        raise _LongInteger(len(text.lstrip("-")))
    return int(text)


class _Quoter(reprlib.Repr):
    """``repr`` with a bounded length: long strings, containers and integers are cut short."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 6
        self.maxstring = 60
        self.maxother = 80
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 256:  # repr() of thousands of digits is slow, then refused
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_QUOTER = _Quoter()


def quote(value: Any) -> str:
    """A short ``repr`` of ``value``, saying how much was left out."""
    text = _QUOTER.repr(value)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) and len(value) > 6:
        text += f" ({len(value)} items)"
    elif isinstance(value, str) and len(value) > _QUOTER.maxstring:
        text += f" ({len(value)} characters)"
    return text


def quote_keys(keys: Any) -> str:
    """At most `LISTED` keys, sorted, then how many more there are."""
    shown = sorted(str(key) for key in keys)[:LISTED]
    listed = ", ".join(quote(key) for key in shown)
    rest = len(keys) - len(shown)
    return f"[{listed}{f', ... and {rest} more' if rest else ''}]"


def clip(text: str, limit: int = 60) -> str:
    """``text``, cut to ``limit`` characters ending in ``...`` when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shorten(text: str, limit: int = 200) -> str:
    """``text``, cut after ``limit`` characters with a note of its length."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
