r"""The ``samplekit`` command line: ``demo``, ``strategies``, ``batchers`` and ``preview``.

The commands import what they need (the sampler, numpy, the label loader) when they run. Bad
input ends with a one-line ``Error: ...`` and exit status 2, never a traceback.

Examples:
    .. code-block:: console

        $ samplekit strategies
        $ samplekit preview labels.npy --strategy negative_subsampling --batch-size 64 \
            --option neg_ratio=0.25
        $ samplekit batchers
        $ samplekit preview --lengths lengths.npy --strategy shuffle --batcher token_budget \
            --batcher-option max_tokens=4096
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    import torch

    from samplekit.config import BatcherConfig, StrategyConfig
    from samplekit.describe import BatcherDict, StrategyDict
    from samplekit.report import BatchShapes, EpochBatching, EpochComposition, EpochScores
    from samplekit.sampler import EpochBatchSampler

__all__ = ["main", "parse_option_value"]


@click.group()
@click.version_option(package_name="samplekit")
def main() -> None:
    """samplekit: per-epoch sample selection for PyTorch."""


@main.command()
@click.option("--epochs", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--seed", default=0, show_default=True, type=int)
def demo(epochs: int, seed: int) -> None:
    """Run every built-in strategy on synthetic imbalanced labels and print what each epoch holds.

    First the origin's scenario (100 samples, 20 positives, keep a quarter of the negatives,
    batches of 10), then 20,000 samples over four classes (90/7/2.5/0.5 %), batches of 256.
    """
    import torch

    from samplekit.report import composition, format_composition
    from samplekit.rng import generator
    from samplekit.sampler import EpochBatchSampler

    gen = generator(seed, "demo")
    origin = torch.tensor([0] * 80 + [1] * 20)[torch.randperm(100, generator=gen)]
    click.echo("Origin scenario: 100 samples (80 negatives, 20 positives), batch_size=10")
    click.echo("negative_subsampling(neg_ratio=0.25): all positives + a fresh 20 negatives")
    sampler = EpochBatchSampler(
        origin, "negative_subsampling", batch_size=10, seed=seed, neg_ratio=0.25
    )
    click.echo(format_composition(composition(sampler, epochs), seen=True))
    for epoch in range(2):
        sampler.set_epoch(epoch)
        click.echo(f"  epoch {epoch} batches (labels): ")
        for batch in sampler:
            click.echo("    " + "".join(str(int(origin[i])) for i in batch))

    shares = torch.tensor([0.9, 0.07, 0.025, 0.005])
    counts = (shares * 20_000).long()
    labels = torch.repeat_interleave(torch.arange(4), counts)[
        torch.randperm(int(counts.sum()), generator=gen)
    ]
    click.echo("\nImbalanced: 20,000 samples, classes 0..3 = 90 / 7 / 2.5 / 0.5 %, batch_size=256")
    runs: list[tuple[str, dict[str, Any], bool]] = [
        ("negative_subsampling", {"neg_per_pos": 1.0}, True),
        ("negative_subsampling", {"neg_ratio": 0.05, "cycle": True}, True),
        ("stratified", {}, False),
        ("class_weighted", {"class_weights": "balanced"}, True),
        (
            "class_weighted",
            {"class_weights": {0: 1, 1: 2, 2: 4, 3: 8}, "num_samples": 5000, "replacement": False},
            True,
        ),
    ]
    for name, options, seen in runs:
        sampler = EpochBatchSampler(labels, name, batch_size=256, seed=seed, **options)
        shown = ", ".join(f"{k}={v}" for k, v in options.items())
        click.echo(f"{name}({shown}): {len(sampler)} batches per epoch")
        click.echo(format_composition(composition(sampler, epochs), seen=seen))


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of strategies (see docs/cli.md)."
)
def strategies(as_json: bool) -> None:
    """List every registered strategy: source, summary and options with their constraints."""
    from samplekit.describe import describe_strategies

    described = describe_strategies()
    if as_json:
        click.echo(json.dumps(described, indent=2, ensure_ascii=False))
        return
    click.echo("\n\n".join(_format_described(strategy) for strategy in described))


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of batchers (see docs/cli.md)."
)
def batchers(as_json: bool) -> None:
    """List every registered batcher: source, summary, what it needs and its options.

    A batcher cuts each epoch into batches (`samplekit preview --batcher NAME`); one that needs
    lengths takes them from `--lengths FILE`, and `--batch-size` is given only to batchers
    that need it.
    """
    from samplekit.describe import describe_batchers

    described = describe_batchers()
    if as_json:
        click.echo(json.dumps(described, indent=2, ensure_ascii=False))
        return
    click.echo("\n\n".join(_format_described(batcher) for batcher in described))


def _format_described(item: StrategyDict | BatcherDict) -> str:
    """A strategy or batcher as `samplekit strategies` / `samplekit batchers` print it."""
    lines = [f"{item['name']}  ({item['source']})", f"  {item['summary']}"]
    if "needs_lengths" in item:  # a batcher
        batcher = cast("BatcherDict", item)
        needs = [
            what
            for what, needed in (
                ("lengths", batcher["needs_lengths"]),
                ("batch_size", batcher["needs_batch_size"]),
            )
            if needed
        ]
        line = f"  needs: {' and '.join(needs) or 'nothing'}"
        if not batcher["needs_batch_size"]:
            line += " (it sizes batches itself: no batch_size)"
        lines.append(line)
    if not item["options"]:
        lines.append("  options: none")
        return "\n".join(lines)
    lines.append("  options:")
    for option in item["options"]:
        default = "required" if option["required"] else f"default {json.dumps(option['default'])}"
        head = f"    {option['name']}: {option['type']}  ({default})"
        if option["constraints"]:
            head += f"  [{option['constraints']}]"
        lines.append(head)
        if option["description"]:
            lines.append(f"        {option['description']}")
    return "\n".join(lines)


def parse_option_value(text: str) -> Any:
    """A ``--option`` value: the JSON literal it spells, or else the text itself, as a string.

    ``0.5``, ``true``, ``null``, ``3`` and ``{"0": 1}`` are typed values (the configuration
    does not convert strings to numbers or booleans); ``linear`` is not JSON, so it stays the
    string ``"linear"``; ``"3"`` (with the quotes) is the string ``3``. ``NaN`` and
    ``Infinity`` are not JSON literals: they stay strings, which no number option accepts.

    Raises:
        ConfigError: for a JSON object that repeats a key, JSON nested more than 100 levels
            deep, or a number of more than 4,300 digits (never silently read as a string).

    Examples:
        >>> [parse_option_value(v) for v in ("0.25", "true", "null", '{"0": 1}', "balanced")]
        [0.25, True, None, {'0': 1}, 'balanced']
    """
    from samplekit.errors import ConfigError

    if _depth(text) > _MAX_DEPTH:
        msg = f"the value is nested more than {_MAX_DEPTH} levels deep; give a flatter value"
        raise ConfigError(msg)
    try:
        return json.loads(text, parse_constant=_not_json, object_pairs_hook=_unique_keys)
    except _RepeatedKeyError as exc:
        from samplekit.inputs import clip  # here: `samplekit --help` imports no numpy

        msg = f"the JSON object gives key {clip(exc.key)!r} twice; give each key once"
        raise ConfigError(msg) from None
    except ValueError as exc:
        if "digits" in str(exc):  # Python refuses int() of more than 4,300 digits
            msg = "the value has a number of more than 4,300 digits; give a smaller number"
            raise ConfigError(msg) from None
        return text


_MAX_DEPTH = 100


def _depth(text: str) -> int:
    """How deeply brackets nest in ``text`` (an upper bound: brackets in strings count too)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class _RepeatedKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKeyError(key)
        result[key] = value
    return result


def _not_json(name: str) -> Any:
    msg = f"{name} is not a JSON literal"
    raise ValueError(msg)


def _parse_assignments(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    """``--option`` / ``--batcher-option`` KEY=VALUE values as a mapping; bad keys are errors."""
    from samplekit.errors import ConfigError

    flag = f"'{param.opts[0]}'" if param.opts else "'--option'"
    example = "max_tokens=4096" if param.name == "batcher_options" else "neg_ratio=0.25"
    options: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            msg = (
                f"expected KEY=VALUE with an option name as KEY (e.g. {example}), "
                f"but got {_one_line(value)!r}"
            )
            raise InputError(msg, param=flag)
        if key in options:
            msg = f"option {key!r} is given twice; give each option once"
            raise InputError(msg, param=flag)
        try:
            options[key] = parse_option_value(text)
        except ConfigError as exc:
            msg = f"{key}: {exc}"
            raise InputError(msg, param=flag) from None
    return options


@main.command()
@click.argument("labels_file", required=False, type=click.Path(path_type=pathlib.Path))
@click.option("--strategy", "strategy_name", required=True, help="A registered strategy name.")
@click.option(
    "--batch-size",
    type=int,
    help=(
        "Samples per batch (>= 1). Required by batchers that use it (fixed, the default, and "
        "length_grouped); left out for those that size batches themselves (token_budget)."
    ),
)
@click.option(
    "--lengths",
    "lengths_file",
    type=click.Path(path_type=pathlib.Path),
    metavar="FILE",
    help=(
        "Per-sample lengths (tokens, frames, bytes): one non-negative integer per sample, in "
        "the order and formats of LABELS_FILE. Needed by length-aware batchers; adds each "
        "epoch's padding efficiency, samples and padded tokens per batch."
    ),
)
@click.option(
    "--batcher",
    "batcher_name",
    default="fixed",
    show_default=True,
    help="How each epoch is cut into batches: a registered batcher name (`samplekit batchers`).",
)
@click.option(
    "--batcher-option",
    "batcher_options",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_parse_assignments,
    help=(
        "A batcher option as KEY=VALUE (max_tokens=4096); repeatable. VALUE is read as for "
        "--option. `samplekit batchers` lists each option's type."
    ),
)
@click.option(
    "--epochs",
    default=3,
    show_default=True,
    type=int,
    help="Epochs to run, from epoch 0 (1 to 10,000).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="The sampler's seed.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_parse_assignments,
    help=(
        "A strategy option as KEY=VALUE; repeatable. VALUE is a JSON literal (0.25, 3, true, "
        'null, {"0": 1, "1": 3}); a value that is not valid JSON is taken as a string '
        '(schedule=cosine), and "3" in JSON quotes is the string 3. '
        "`samplekit strategies` lists each option's type."
    ),
)
@click.option("--drop-last", is_flag=True, help="Drop each epoch's last, smaller batch.")
@click.option(
    "--scores",
    "scores_model",
    metavar="MODEL",
    help=(
        "For a feedback strategy (infobatch, importance, hard_negatives) only: the synthetic "
        "scores reported after each batch with sampler.observe, standing in for per-sample "
        "losses. Sample i has a difficulty d_i, exponential with mean 1, seeded by --seed; "
        "seen for the (c+1)-th time it scores d_i * 0.8**c with 'decaying' (the default: "
        "what is seen gets learned) and d_i with 'constant' (nothing is learned)."
    ),
)
@click.option(
    "--plot",
    type=click.Path(path_type=pathlib.Path),
    metavar="FILE",
    help=(
        "Also draw the epochs to FILE (.png, .svg, .pdf, ...): each batch's samples per class "
        "and, for strategies that leave samples out, the share of each class seen so far; "
        "with --lengths, each batch's samples and its longest and mean length instead. "
        "Needs matplotlib (pip install matplotlib)."
    ),
)
def preview(
    labels_file: pathlib.Path | None,
    strategy_name: str,
    batch_size: int | None,
    lengths_file: pathlib.Path | None,
    batcher_name: str,
    batcher_options: dict[str, Any],
    epochs: int,
    seed: int,
    options: dict[str, Any],
    drop_last: bool,
    scores_model: str | None,
    plot: pathlib.Path | None,
) -> None:
    """Run a strategy on the labels in LABELS_FILE and print what each epoch holds.

    LABELS_FILE is a .npy array, a .pt tensor (torch.save), or a .csv/.txt file with one
    integer per line (a .csv may start with a header line). Per epoch it prints the batches,
    the samples of each class, the fewest-most of each class in any full batch and, for
    strategies that leave samples out, the share of each class seen so far. With --plot it
    also draws them to a picture (see docs/cli.md).

    With --lengths FILE it also prints how the batcher (--batcher) shapes each epoch: padding
    efficiency, samples per batch, padded tokens per batch and any budget. A strategy that
    needs no labels (shuffle) runs on the lengths alone, without LABELS_FILE.

    A feedback strategy (infobatch, importance, hard_negatives) plans each epoch from the
    scores observed before it: preview runs the epochs as a training loop, reporting the
    --scores model's score of each sample after each batch, and also prints each epoch's
    samples, loss weights and mean score (--plot adds the samples per epoch). It runs on
    labels alone, without --lengths.
    """
    from samplekit.config import BatcherConfig, StrategyConfig
    from samplekit.errors import (
        ConfigError,
        SampleKitError,
        UnknownBatcherError,
        UnknownStrategyError,
    )
    from samplekit.labelfile import load_labels, load_lengths
    from samplekit.report import (
        batching,
        composition,
        epoch_tallies,
        feedback_tallies,
        format_batching,
        format_composition,
        format_label_counts,
        format_length_counts,
        format_scores,
        leaves_samples_out,
    )
    from samplekit.scoremodel import ScoreModel

    if not 1 <= epochs <= 10_000:
        msg = f"expected 1 to 10,000 epochs, but got {epochs}"
        raise InputError(msg, param="'--epochs'")
    plot_format = None if plot is None else _check_plot_path(plot)
    labels = None
    if labels_file is not None:
        try:
            labels = load_labels(labels_file)
        except SampleKitError as exc:
            raise InputError(str(exc), param="'LABELS_FILE'") from None
    try:
        config = StrategyConfig.resolve(strategy_name, options)
    except UnknownStrategyError as exc:
        raise InputError(str(exc), param="'--strategy'") from None
    except ConfigError as exc:
        raise InputError(str(exc), param="'--option'") from None
    model_name = _check_scores(config, scores_model, lengths_file)
    if "name" in batcher_options:
        msg = "name=... is not a batcher option; choose the batcher with --batcher NAME"
        raise InputError(msg, param="'--batcher-option'")
    try:
        batcher = BatcherConfig(**{"name": batcher_name, **batcher_options})
    except UnknownBatcherError as exc:
        raise InputError(str(exc), param="'--batcher'") from None
    except ConfigError as exc:
        raise InputError(str(exc), param="'--batcher-option'") from None
    if labels is None and (config.strategy_class.needs_labels or lengths_file is None):
        why = (
            f"the {config.name!r} strategy needs one class label per sample; give a labels "
            f"file, or a strategy that needs none (shuffle) with --lengths FILE"
            if config.strategy_class.needs_labels
            else "give a labels file, or --lengths FILE, so that the samples are known"
        )
        msg = f"Missing argument 'LABELS_FILE': {why}"
        raise InputError(msg)
    lengths = None
    if lengths_file is not None:
        try:
            lengths = load_lengths(lengths_file, count=None if labels is None else labels.numel())
        except SampleKitError as exc:
            raise InputError(str(exc), param="'--lengths'") from None
    elif batcher.batcher_class.needs_lengths:
        msg = (
            f"Missing option '--lengths': the {batcher.name!r} batcher needs per-sample "
            f"lengths; give --lengths FILE (one non-negative integer per sample)"
        )
        raise InputError(msg)
    try:
        sampler, notes = _sampler(
            labels, config, batcher, lengths, batch_size, seed=seed, drop_last=drop_last
        )
        first_batches = len(sampler)  # before a feedback strategy's epochs move the sampler
        tallies: list[tuple[EpochComposition, torch.Tensor]] = []
        rows: list[EpochComposition] = []
        shapes: list[tuple[EpochBatching, BatchShapes]] = []
        scored: list[EpochScores] = []
        if labels is not None and model_name is not None:
            model = ScoreModel(labels.numel(), seed=seed, model=model_name)
            for row, counts, epoch_scores in feedback_tallies(
                sampler, epochs, model, keep_counts=plot is not None
            ):
                tallies.append((row, counts))
                rows.append(row)
                scored.append(epoch_scores)
        elif labels is not None:
            if plot is None or lengths is not None:
                rows = composition(sampler, epochs)
            else:  # one run of the epochs for both the table and the picture
                tallies = list(epoch_tallies(sampler, epochs))
                rows = [row for row, _ in tallies]
        if lengths is not None:
            shapes = list(batching(sampler, epochs))
    except SampleKitError as exc:  # the strategy cannot work with these labels or settings
        raise InputError(str(exc)) from None
    described = _describe(config, options, batch_size, batcher, batcher_options, seed, drop_last)
    if model_name is not None:
        described += f", scores={model_name}"
    if plot is not None:  # saved before any output, so that a failed write is the only line
        _save_plot(tallies, shapes, scored, plot, plot_format, title=described)
    if labels is not None:
        click.echo(f"labels: {labels_file}: {format_label_counts(labels)}")
    if lengths is not None:
        click.echo(f"lengths: {lengths_file}: {format_length_counts(lengths)}")
    for note in notes:
        click.echo(f"warning: {note}")
    click.echo(f"{described}: {first_batches} batches in epoch 0")
    if labels is not None:
        seen = leaves_samples_out(rows)
        click.echo(
            "per class (label:count); per batch = fewest-most of each class in a full batch"
            + ("; seen = share of each class drawn at least once so far" if seen else "")
        )
        click.echo(format_composition(rows, seen=seen))
    if scored:
        click.echo(
            f"per epoch, training with --scores {model_name}: samples = the samples in its "
            f"batches (share of the dataset); loss weights = lowest-highest of "
            f"sampler.loss_weights; mean score = mean of the scores observed in it"
        )
        click.echo(format_scores(scored))
    if lengths is not None:
        measured = [row for row, _ in shapes]
        click.echo(
            "per batch, from the lengths: padding efficiency = real / padded tokens (padded = "
            "longest length x samples); samples per batch = min / mean / max; padded tokens "
            "per batch = mean / max"
            + (
                "; budget = the batcher's most per batch, and the batches over it"
                if any(row.budget is not None for row in measured)
                else ""
            )
            + (
                "; left out = samples of the epoch in no batch"
                if any(row.left_out for row in measured)
                else ""
            )
        )
        click.echo(format_batching(measured))
    if plot is not None:
        click.echo(f"plot: {plot}")


def _sampler(
    labels: torch.Tensor | None,
    config: StrategyConfig,
    batcher: BatcherConfig,
    lengths: torch.Tensor | None,
    batch_size: int | None,
    *,
    seed: int,
    drop_last: bool,
) -> tuple[EpochBatchSampler, list[str]]:
    """The sampler, and the warnings building it gave (shown as lines, not as tracebacks)."""
    import warnings

    from samplekit.sampler import EpochBatchSampler

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)  # e.g. token_budget's OversizeWarning
        sampler = EpochBatchSampler(
            labels,
            config,
            batch_size=batch_size,
            seed=seed,
            drop_last=drop_last,
            lengths=lengths,
            batcher=batcher,
        )
    return sampler, [_one_line(str(warning.message)) for warning in caught]


def _check_scores(
    config: StrategyConfig, scores_model: str | None, lengths_file: pathlib.Path | None
) -> str | None:
    """The score model a feedback strategy runs with (``None`` for other strategies)."""
    from samplekit.scoremodel import DEFAULT_MODEL, MODELS

    if not config.strategy_class.uses_feedback:
        if scores_model is not None:
            msg = (
                f"the {config.name!r} strategy does not plan from feedback, so it takes no "
                f"scores; leave out --scores, or preview a feedback strategy (infobatch, "
                f"importance, hard_negatives)"
            )
            raise InputError(msg, param="'--scores'")
        return None
    if scores_model is not None and scores_model not in MODELS:
        choices = ", ".join(repr(name) for name in MODELS)
        msg = f"unknown score model {scores_model!r}; choose one of {choices}"
        raise InputError(msg, param="'--scores'")
    if lengths_file is not None:
        msg = (
            f"the {config.name!r} strategy plans from feedback, which preview runs on labels "
            f"alone; leave out --lengths (and --batcher options that need lengths)"
        )
        raise InputError(msg, param="'--lengths'")
    return scores_model or DEFAULT_MODEL


def _describe(
    config: StrategyConfig,
    options: dict[str, Any],
    batch_size: int | None,
    batcher: BatcherConfig,
    batcher_options: dict[str, Any],
    seed: int,
    drop_last: bool,
) -> str:
    """``strategy(given options), batch_size=..., batcher=name(given options), seed=...``.

    The batcher is named unless it is the default ``fixed`` without options, so that what
    ``preview`` printed before batchers existed reads the same.
    """
    shown = _given(config.options.model_dump(mode="json"), options)
    text = f"{config.name}({shown})"
    if batch_size is not None:
        text += f", batch_size={batch_size}"
    if batcher.name != "fixed" or batcher_options:
        given = _given(batcher.options.model_dump(mode="json"), batcher_options)
        text += f", batcher={batcher.name}({given})"
    return f"{text}, seed={seed}{', drop_last' if drop_last else ''}"


def _given(validated: dict[str, Any], given: dict[str, Any]) -> str:
    """The options that were given, with their validated values, as ``key=JSON`` pairs."""
    return ", ".join(f"{key}={json.dumps(validated[key])}" for key in given)


def _check_plot_path(path: pathlib.Path) -> str:
    """The format of the ``--plot`` file, checked before any epoch runs."""
    from samplekit.errors import ConfigError
    from samplekit.plot import check_plot_path

    try:
        return check_plot_path(path)
    except ModuleNotFoundError:
        msg = "--plot needs matplotlib: pip install matplotlib"
        raise InputError(msg, param="'--plot'") from None
    except ConfigError as exc:
        raise InputError(str(exc), param="'--plot'") from None


def _save_plot(
    tallies: list[tuple[EpochComposition, torch.Tensor]],
    shapes: list[tuple[EpochBatching, BatchShapes]],
    scored: list[EpochScores],
    path: pathlib.Path,
    fmt: str | None,
    *,
    title: str,
) -> None:
    """Draw the batches' shapes when there are lengths, else their class composition.

    For a feedback strategy, the composition with the samples of each epoch.
    """
    from samplekit.plot import batching_figure, composition_figure, feedback_figure

    try:
        if shapes:
            figure = batching_figure(shapes, title=title)
        elif scored:
            figure = feedback_figure(tallies, scored, title=title)
        else:
            figure = composition_figure(tallies, title=title)
        figure.savefig(path, format=fmt)
    except (OSError, RuntimeError) as exc:  # RuntimeError: e.g. .pgf without a LaTeX install
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        msg = f"could not write {str(path)!r}: {reason}"
        raise InputError(msg, param="'--plot'") from None


class InputError(click.ClickException):
    """Bad input to a command: shown as one ``Error: ...`` line, exit status 2, no usage text."""

    exit_code = 2

    def __init__(self, message: str, *, param: str | None = None) -> None:
        message = _one_line(message)
        super().__init__(f"Invalid value for {param}: {message}" if param else message)


def _one_line(text: str) -> str:
    """``text`` with its line breaks (and the indentation after them) turned into spaces."""
    return re.sub(r"\s*\n\s*", " ", text.strip())
