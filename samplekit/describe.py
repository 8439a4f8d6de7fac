"""Readable descriptions of strategies, batchers and their options, from their ``Options`` models.

``samplekit strategies`` and ``samplekit batchers`` print these, their ``--json`` forms dump them,
and the docs' options tables are generated from them. Everything returned is plain, JSON-able
data.

Examples:
    >>> from samplekit import get_strategy
    >>> from samplekit.describe import describe_options
    >>> options = describe_options(get_strategy("negative_subsampling").Options)
    >>> [(o.name, o.type, o.constraints) for o in options[:2]]  # doctest: +NORMALIZE_WHITESPACE
    [('neg_ratio', 'float | None', '0 < neg_ratio <= 1'),
     ('neg_per_pos', 'float | None', 'neg_per_pos > 0, finite')]
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
import types
import typing
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Union, cast

import pydantic_core
from pydantic.fields import FieldInfo

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pydantic

    from samplekit.batcher import Batcher
    from samplekit.registry import BatcherInfo, StrategyInfo
    from samplekit.strategy import Strategy

__all__ = [
    "BatcherDict",
    "OptionDict",
    "OptionInfo",
    "StrategyDict",
    "describe_batcher",
    "describe_batchers",
    "describe_options",
    "describe_strategies",
    "describe_strategy",
    "markdown_text",
    "options_table",
    "type_name",
]


class OptionDict(TypedDict):
    """One option as JSON: the fields of `OptionInfo`, in that order."""

    name: str
    type: str
    required: bool
    default: Any
    constraints: str
    description: str


# Functional syntax, because "class" is a keyword.
StrategyDict = TypedDict(
    "StrategyDict",
    {"name": str, "source": str, "summary": str, "class": str, "options": list[OptionDict]},
)
StrategyDict.__doc__ = """One strategy as JSON, as ``samplekit strategies --json`` prints it.

Keys: ``name`` (the registered name), ``source`` (``"built-in"``, ``"<distribution> <version>"``
or ``"plugin <name>"``), ``summary`` (first line of the class docstring, its reST literals made
Markdown code spans), ``class`` (``module.QualName`` of the strategy class) and ``options`` (a
list of `OptionDict`, in the model's field order).
"""

BatcherDict = TypedDict(
    "BatcherDict",
    {
        "name": str,
        "source": str,
        "summary": str,
        "class": str,
        "needs_lengths": bool,
        "needs_batch_size": bool,
        "options": list[OptionDict],
    },
)
BatcherDict.__doc__ = """One batcher as JSON, as ``samplekit batchers --json`` prints it.

Keys: ``name``, ``source``, ``summary``, ``class`` and ``options`` as in `StrategyDict`;
``needs_lengths`` (whether the sampler must get per-sample lengths) and ``needs_batch_size``
(whether ``batch_size`` is required; when false the batcher sizes batches itself and refuses
it), in between.
"""


@dataclasses.dataclass(frozen=True)
class OptionInfo:
    """One field of a strategy's or batcher's ``Options`` model, described for people.

    Attributes:
        name: the option's name (the keyword or ``--option`` key).
        type: the annotation as a readable string, e.g. ``"float | None"`` or
            ``"'balanced' | dict[int, float (>= 0, finite)]"`` (``Literal`` values are quoted;
            constraints on nested items are shown in brackets after their type).
        required: whether the option must be given (then ``default`` is None).
        default: the default, converted to JSON-able data (mapping keys become strings).
        constraints: the field's own bounds as a readable string, e.g. ``"0 < neg_ratio <= 1"``,
            ``"num_samples >= 1"``, ``"one of 'a', 'b'"``; empty when there are none.
        description: the field's ``description`` (reST literals as Markdown code spans, see
            `markdown_text`), or an empty string.
    """

    name: str
    type: str
    required: bool
    default: Any
    constraints: str
    description: str

    def as_dict(self) -> OptionDict:
        """This option as a JSON-able mapping with the attribute names as keys."""
        return cast("OptionDict", dataclasses.asdict(self))  # the same fields, in order


_TAKES_VALIDATED_DATA = "validated_data" in inspect.signature(FieldInfo.get_default).parameters


def describe_options(options_model: type[pydantic.BaseModel]) -> list[OptionInfo]:
    """Describe every field of a strategy's or batcher's ``Options`` model, in declaration order.

    Args:
        options_model: a pydantic model class, normally a strategy's or batcher's ``Options``.

    Returns:
        One `OptionInfo` per field.

    Examples:
        >>> from pydantic import Field
        >>> import samplekit
        >>> class Options(samplekit.Options):
        ...     size: int = Field(ge=1, le=10, description="How many.")
        ...     mode: typing.Literal["a", "b"] = "a"
        >>> [o.as_dict() for o in describe_options(Options)]  # doctest: +NORMALIZE_WHITESPACE
        [{'name': 'size', 'type': 'int', 'required': True, 'default': None,
          'constraints': '1 <= size <= 10', 'description': 'How many.'},
         {'name': 'mode', 'type': "'a' | 'b'", 'required': False, 'default': 'a',
          'constraints': "one of 'a', 'b'", 'description': ''}]
    """
    described = []
    for name, field in options_model.model_fields.items():
        required = field.is_required()
        default: Any = None
        if not required:
            value = field.default
            if field.default_factory is not None:
                # pydantic >= 2.10 passes factories the validated data; older ones take none.
                extra: dict[str, Any] = {"validated_data": {}} if _TAKES_VALIDATED_DATA else {}
                value = field.get_default(call_default_factory=True, **extra)
            default = pydantic_core.to_jsonable_python(value, fallback=repr)
        constraints = _constraints(field.metadata, name)
        choices = _literal_choices(field.annotation)
        if choices is not None:
            constraints = ", ".join(c for c in (constraints, choices) if c)
        described.append(
            OptionInfo(
                name=name,
                type=type_name(field.annotation),
                required=required,
                default=default,
                constraints=constraints,
                description=markdown_text(field.description or ""),
            )
        )
    return described


def describe_strategy(info: StrategyInfo) -> StrategyDict:
    """Describe a registered strategy as JSON-able data (see `StrategyDict`).

    Examples:
        >>> from samplekit import strategy_info
        >>> from samplekit.describe import describe_strategy
        >>> described = describe_strategy(strategy_info("stratified"))
        >>> described["source"], described["class"], described["options"]
        ('built-in', 'samplekit.strategies.stratified.Stratified', [])
    """
    return cast("StrategyDict", _describe_class(info.name, info.source, info.strategy))


def describe_strategies(infos: Iterable[StrategyInfo] | None = None) -> list[StrategyDict]:
    """Describe ``infos``, by default every registered strategy (sorted by name).

    Examples:
        >>> from samplekit.describe import describe_strategies
        >>> [(s["name"], s["source"]) for s in describe_strategies()][:2]
        [('class_weighted', 'built-in'), ('hard_negatives', 'built-in')]
    """
    if infos is None:
        from samplekit.plugins import available_strategies, strategy_info

        infos = [strategy_info(name) for name in available_strategies()]
    return [describe_strategy(info) for info in infos]


def describe_batcher(info: BatcherInfo) -> BatcherDict:
    """Describe a registered batcher as JSON-able data (see `BatcherDict`).

    Examples:
        >>> from samplekit import batcher_info
        >>> from samplekit.describe import describe_batcher
        >>> described = describe_batcher(batcher_info("token_budget"))
        >>> described["needs_lengths"], described["needs_batch_size"]
        (True, False)
        >>> [(o["name"], o["required"]) for o in described["options"]][:2]
        [('max_tokens', True), ('max_batch_size', False)]
    """
    cls = info.batcher
    described = _describe_class(info.name, info.source, cls)
    options = described.pop("options")
    needs = {"needs_lengths": cls.needs_lengths, "needs_batch_size": cls.needs_batch_size}
    return cast("BatcherDict", {**described, **needs, "options": options})


def describe_batchers(infos: Iterable[BatcherInfo] | None = None) -> list[BatcherDict]:
    """Describe ``infos``, by default every registered batcher (sorted by name).

    Examples:
        >>> from samplekit.describe import describe_batchers
        >>> [(b["name"], b["source"]) for b in describe_batchers()]
        [('fixed', 'built-in'), ('length_grouped', 'built-in'), ('token_budget', 'built-in')]
    """
    if infos is None:
        from samplekit.plugins import available_batchers, batcher_info

        infos = [batcher_info(name) for name in available_batchers()]
    return [describe_batcher(info) for info in infos]


def _describe_class(name: str, source: str, cls: type[Strategy] | type[Batcher]) -> dict[str, Any]:
    """The keys strategies and batchers share: name, source, summary, class and options."""
    return {
        "name": name,
        "source": source,
        "summary": markdown_text(cls.summary()),
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "options": [option.as_dict() for option in describe_options(cls.Options)],
    }


def options_table(options_model: type[pydantic.BaseModel]) -> str:
    r"""A Markdown table of a model's options, as the docs show under each strategy.

    Columns: option, type, default (as JSON; "required" when it must be given), constraints
    and description. The docs generator (``python docs/_hooks/generate.py``) writes every
    options table of the pages with this, and CI checks they are current, so the docs cannot
    drift from the code. A pipe in a type, default or constraint is written outside the code
    span and escaped, so that the table reads the same on GitHub and on the site.

    Args:
        options_model: a pydantic model class, normally a strategy's nested ``Options``.

    Returns:
        The table, or a sentence saying there are no options.

    Examples:
        >>> from samplekit import get_strategy
        >>> print(options_table(get_strategy("class_weighted").Options))  # doctest: +ELLIPSIS
        | option | type | default | constraints | description |
        | --- | --- | --- | --- | --- |
        | `class_weights` | `'balanced'` \| `dict[int, float (>= 0, finite)]` | `"balanced"` | ...
        >>> options_table(get_strategy("stratified").Options)
        'No options.'
    """
    options = describe_options(options_model)
    if not options:
        return "No options."
    rows = [
        "| option | type | default | constraints | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for option in options:
        default = "required" if option.required else _code(json.dumps(option.default))
        constraints = _code(option.constraints) if option.constraints else ""
        description = " ".join(option.description.split()).replace("|", "\\|")
        cells = (_code(option.name), _code(option.type), default, constraints, description)
        rows.append(f"| {' | '.join(cells)} |")
    return "\n".join(rows)


def _code(text: str) -> str:
    """``text`` as code in a table cell that both GitHub and Python-Markdown read alike.

    GitHub ends a cell at a pipe even inside a code span unless it is escaped, and Python-Markdown
    shows the escape inside a code span literally: so each pipe stays outside the code, escaped.
    """
    return " \\| ".join(f"`{part}`" for part in re.split(r"\s*\|\s*", text))


_REST_LITERAL = re.compile(r"``(?!`)(.+?)(?<!`)``(?!`)", re.DOTALL)
_BACKTICKS = re.compile(r"`{2,}")


def markdown_text(text: str) -> str:
    """``text`` with reST inline literals (double backticks) turned into Markdown code spans.

    Summaries and option descriptions are shown in terminals, JSON and Markdown tables, where
    reST markup reads as noise; strategy authors may still write docstrings in reST. Any other
    run of backticks becomes one, so the result never holds two backticks in a row.

    Examples:
        >>> markdown_text("Draw ``num_samples`` samples; `m` stays.")
        'Draw `num_samples` samples; `m` stays.'
    """
    return _BACKTICKS.sub("`", _REST_LITERAL.sub(r"`\1`", text))


def type_name(annotation: Any) -> str:
    """A readable string for a type annotation.

    Examples:
        >>> type_name(int | None), type_name(dict[int, list[str]])
        ('int | None', 'dict[int, list[str]]')
        >>> type_name(typing.Literal[1, "x"])
        "1 | 'x'"
    """
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = type_name(args[0])
        bounds = _constraints(args[1:], None)
        return f"{inner} ({bounds})" if bounds else inner
    if origin is Literal:
        return " | ".join(repr(_plain(arg)) for arg in args)
    if origin is Union or origin is types.UnionType:
        return " | ".join(type_name(arg) for arg in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if not args:
            return str(name)
        inner = "..." if args == (...,) else ", ".join(type_name(arg) for arg in args)
        return f"{name}[{inner}]"
    if annotation is Ellipsis:
        return "..."
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


_BOUNDS = ("gt", "ge", "lt", "le")
_SIGN = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_FLIPPED = {"gt": "<", "ge": "<="}


def _constraints(metadata: Iterable[Any], name: str | None) -> str:
    """``metadata`` (annotated-types / pydantic constraint objects) as a readable string."""
    found: dict[str, Any] = {}
    for item in _flatten(metadata):
        for key in (*_BOUNDS, "multiple_of", "min_length", "max_length", "pattern"):
            value = getattr(item, key, None)
            if value is not None:
                found[key] = value
        if getattr(item, "allow_inf_nan", None) is False:
            found["finite"] = True
    subject = name or "x"
    parts = []
    lower: str | None = next((k for k in ("gt", "ge") if k in found), None)
    upper: str | None = next((k for k in ("lt", "le") if k in found), None)
    if lower and upper:
        low, high = _number(found[lower]), _number(found[upper])
        parts.append(f"{low} {_FLIPPED[lower]} {subject} {_SIGN[upper]} {high}")
    elif lower or upper:
        side = lower or upper or ""
        bound = f"{_SIGN[side]} {_number(found[side])}"
        parts.append(f"{name} {bound}" if name else bound)
    if found.get("finite") and not (lower and upper):
        parts.append("finite")
    if "multiple_of" in found:
        parts.append(f"multiple of {_number(found['multiple_of'])}")
    if "min_length" in found:
        parts.append(f"length >= {found['min_length']}")
    if "max_length" in found:
        parts.append(f"length <= {found['max_length']}")
    if "pattern" in found:
        parts.append(f"matches {found['pattern']!r}")
    return ", ".join(parts)


def _flatten(metadata: Iterable[Any]) -> Iterable[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from item.metadata
        else:
            yield item


def _literal_choices(annotation: Any) -> str | None:
    """``"one of ..."`` when ``annotation`` is a Literal (optionally with None), else None."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in args if arg is not type(None)]
        if len(members) != 1:
            return None
        annotation = members[0]
        args = typing.get_args(annotation)
    if typing.get_origin(annotation) is not Literal:
        return None
    return "one of " + ", ".join(repr(_plain(arg)) for arg in args)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _number(value: Any) -> str:
    return str(value)
