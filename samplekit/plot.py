"""Pictures of what a sampler's epochs hold, for ``samplekit preview --plot`` (needs matplotlib).

matplotlib is optional (``pip install matplotlib``, or the ``plot`` extra). It is imported only
when a
figure is drawn or a path is checked, and only through its object-oriented API (no pyplot): a
`matplotlib.figure.Figure` is built and saved without touching the user's backend or any
global matplotlib state, so this works headless.

The figure has one or two panels:

- top: the class composition of every batch, all epochs left to right, epochs separated by thin
  lines and labelled at the top. Stacked steps (one colour per class, one step per batch; the
  height of a class's band is its samples in that batch) for up to `MAX_STACKED_CLASSES`
  classes and `MAX_STACKED_BATCHES` batches in all; otherwise a heat map (class x batch,
  colour = samples of the class in the batch).
- bottom, only when the strategy leaves samples out (`samplekit.report.leaves_samples_out`):
  the share of each class's samples seen at least once so far, after each epoch. With more
  than `MAX_STACKED_CLASSES` classes every class is a thin grey line and the
  `HIGHLIGHTED_CLASSES` least seen at the last epoch are drawn in colour and named in the
  legend.

For a feedback strategy, `feedback_figure` (``preview --plot`` of ``infobatch``, ``importance``
or ``hard_negatives``) adds a panel between the two: the samples of each epoch, with the
dataset's size dashed.

With per-sample lengths, `batching_figure` (``preview --lengths ... --plot``) draws how the
batcher shapes the batches instead, in two panels over every batch of all epochs: the samples
in each batch (top), and each batch's longest and mean length (bottom: the gap between them is
the padding).

Examples:
    >>> from samplekit import EpochBatchSampler
    >>> from samplekit.plot import plot_composition
    >>> sampler = EpochBatchSampler([0] * 80 + [1] * 20, "negative_subsampling",
    ...                             batch_size=10, neg_ratio=0.25)
    >>> fig = plot_composition(sampler, epochs=3)   # no path: draw only
    >>> len(fig.axes)                               # batches; seen so far (it subsamples)
    2
"""

from __future__ import annotations

import json
import math
import pathlib
from typing import TYPE_CHECKING

from samplekit.errors import ConfigError

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

    import numpy as np
    import pydantic
    import torch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from samplekit.report import BatchShapes, EpochBatching, EpochComposition, EpochScores
    from samplekit.sampler import EpochBatchSampler

__all__ = [
    "HIGHLIGHTED_CLASSES",
    "MAX_STACKED_BATCHES",
    "MAX_STACKED_CLASSES",
    "batching_figure",
    "check_plot_path",
    "composition_figure",
    "feedback_figure",
    "plot_batching",
    "plot_composition",
]

MAX_STACKED_CLASSES = 10
"""Most classes drawn as stacked steps with a legend; more make a heat map."""

MAX_STACKED_BATCHES = 5_000
"""Most batches (all epochs together) drawn as stacked steps; more make a heat map."""

HIGHLIGHTED_CLASSES = 5
"""With many classes, how many of the least-seen are coloured in the seen panel."""

_MISSING = "samplekit.plot needs matplotlib: pip install matplotlib"
_WIDTH = 11.0  # inches, at matplotlib's default 100 dpi: 1100 pixels
_EPOCH_LABELS = 12  # most epoch labels along the top; more epochs label every k-th
_EPOCH_LINES = 100  # most epochs separated by lines; more would paint the panel grey
_BATCH_GAPS = 150  # most batches drawn with a gap between them (narrower ones merge anyway)


def check_plot_path(path: str | os.PathLike[str]) -> str:
    """Check that a figure can be saved at ``path``, before any work is done; return its format.

    Args:
        path: the file to write; its suffix names the format (``.png``, ``.svg``, ``.pdf``...).

    Returns:
        The format, as matplotlib names it (``"png"``).

    Raises:
        ModuleNotFoundError: if matplotlib is not installed.
        ConfigError: if the suffix is not a format matplotlib writes, the path is a directory,
            or its parent directory does not exist.

    Examples:
        >>> from samplekit.plot import check_plot_path
        >>> check_plot_path("composition.PNG")
        'png'
        >>> check_plot_path("composition.txt")
        Traceback (most recent call last):
        ...
        samplekit.errors.ConfigError: expected a file name ending in a format matplotlib ...
    """
    try:
        import matplotlib  # noqa: F401 - a loaded submodule must not hide a missing package
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as exc:
        raise ModuleNotFoundError(_MISSING, name="matplotlib") from exc
    path = pathlib.Path(path)
    formats = FigureCanvasBase.get_supported_filetypes()
    fmt = path.suffix[1:].lower()
    if fmt not in formats:
        msg = (
            f"expected a file name ending in a format matplotlib writes, such as .png "
            f"(all: {', '.join('.' + f for f in sorted(formats))}), but got {str(path)!r}"
        )
        raise ConfigError(msg)
    if path.is_dir():
        msg = f"expected a file to write the plot to, but {str(path)!r} is a directory"
        raise ConfigError(msg)
    if not path.parent.is_dir():
        msg = (
            f"the directory {str(path.parent)!r} of {str(path)!r} does not exist; "
            "create it first or choose another path"
        )
        raise ConfigError(msg)
    return fmt


def plot_composition(
    sampler: EpochBatchSampler,
    epochs: int,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Draw epochs ``0 .. epochs - 1`` of ``sampler`` and save the figure to ``path``, if given.

    The epochs come from ``sampler.epoch_batches`` through `samplekit.report.epoch_tallies`
    (``sampler.epoch`` does not move). The path is checked before any epoch is run.

    Args:
        sampler: the sampler to draw.
        epochs: how many epochs, from epoch 0.
        path: where to save the figure (the suffix names the format); ``None`` only draws it.
        title: the figure's title; default: the strategy, the options that differ from their
            defaults, batch_size and seed.

    Returns:
        The figure (a `matplotlib.figure.Figure`, not attached to pyplot).

    Raises:
        ModuleNotFoundError: if matplotlib is not installed.
        ConfigError: for ``epochs`` below 1, or a path `check_plot_path` refuses.
    """
    from samplekit.report import epoch_tallies

    return _plot_epochs(
        sampler,
        epochs,
        path,
        title,
        lambda text: composition_figure(list(epoch_tallies(sampler, epochs)), title=text),
    )


def _plot_epochs(
    sampler: EpochBatchSampler,
    epochs: int,
    path: str | os.PathLike[str] | None,
    title: str | None,
    draw: Callable[[str], Figure],
) -> Figure:
    """``draw(title)`` after ``epochs`` and ``path`` are checked; saved to ``path``, if given.

    ``title`` defaults to the description of ``sampler``.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        msg = f"expected epochs to be an integer >= 1, but got epochs={epochs!r}"
        raise ConfigError(msg)
    fmt = None if path is None else check_plot_path(path)
    figure = draw(_describe(sampler) if title is None else title)
    if path is not None:
        figure.savefig(path, format=fmt)
    return figure


def composition_figure(
    tallies: Sequence[tuple[EpochComposition, torch.Tensor]], *, title: str | None = None
) -> Figure:
    """The figure of epochs already run: the items of `samplekit.report.epoch_tallies`.

    Drawing from tallies lets a caller that also prints `samplekit.report.composition`
    run each epoch once (``samplekit preview --plot`` does).

    Args:
        tallies: ``(row, batch counts)`` of consecutive epochs, in order, from one sampler.
        title: the figure's title, if any.

    Raises:
        ModuleNotFoundError: if matplotlib is not installed.
        ConfigError: if ``tallies`` is empty.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.plot import composition_figure
        >>> from samplekit.report import epoch_tallies
        >>> sampler = EpochBatchSampler([0] * 8 + [1] * 2, "stratified", batch_size=4)
        >>> fig = composition_figure(list(epoch_tallies(sampler, 2)), title="stratified")
        >>> len(fig.axes)                  # batches only: stratified sees every sample
        1
    """
    return _composition(tallies, None, title)


def feedback_figure(
    tallies: Sequence[tuple[EpochComposition, torch.Tensor]],
    scores: Sequence[EpochScores],
    *,
    title: str | None = None,
) -> Figure:
    """The figure of a feedback strategy's epochs: `composition_figure` and each epoch's size.

    Between the batches (top) and, if the strategy leaves samples out, the share seen so far
    (bottom), a panel shows the samples of each epoch, with the dataset's size dashed: how a
    strategy such as ``infobatch`` shrinks its epochs as samples become well-learned, and
    grows them back when annealing.

    Args:
        tallies: ``(row, batch counts)`` of consecutive epochs, as
            `samplekit.report.feedback_tallies` yields them.
        scores: the `samplekit.report.EpochScores` of the same epochs.
        title: the figure's title, if any.

    Raises:
        ModuleNotFoundError: if matplotlib is not installed.
        ConfigError: if ``tallies`` is empty or ``scores`` is not of the same epochs.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.plot import feedback_figure
        >>> from samplekit.report import feedback_tallies
        >>> from samplekit.scoremodel import ScoreModel
        >>> sampler = EpochBatchSampler([0] * 80 + [1] * 20, "infobatch", batch_size=10,
        ...                             epochs=4)
        >>> run = list(feedback_tallies(sampler, 4, ScoreModel(100, seed=0)))
        >>> fig = feedback_figure([(row, counts) for row, counts, _ in run],
        ...                       [scores for _, _, scores in run])
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['samples in the batch', 'samples in the epoch']
    """
    if [row.epoch for row, _ in tallies] != [row.epoch for row in scores]:
        msg = "expected the scores of the same epochs as the tallies, in the same order"
        raise ConfigError(msg)
    return _composition(tallies, scores, title)


def _composition(
    tallies: Sequence[tuple[EpochComposition, torch.Tensor]],
    scores: Sequence[EpochScores] | None,
    title: str | None,
) -> Figure:
    """`composition_figure`, with the panel of each epoch's samples when ``scores`` are given."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ModuleNotFoundError(_MISSING, name="matplotlib") from exc
    import torch

    from samplekit.report import leaves_samples_out

    if not tallies:
        msg = "expected the tallies of at least one epoch, but got none"
        raise ConfigError(msg)
    rows = [row for row, _ in tallies]
    classes = list(rows[0].class_counts)
    counts = torch.cat([c for _, c in tallies]).numpy()  # [all batches, classes]
    few_classes = len(classes) <= MAX_STACKED_CLASSES
    stacked = few_classes and 0 < len(counts) <= MAX_STACKED_BATCHES
    seen = leaves_samples_out(rows)
    top_height = 3.6 if few_classes else min(7.0, 2.0 + 0.12 * len(classes))
    heights = [top_height, *([2.2] if scores is not None else []), *([2.6] if seen else [])]
    figure = Figure(figsize=(_WIDTH, sum(heights)), layout="constrained")
    panels = list(figure.subplots(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0])
    top = panels.pop(0)
    sizes = panels.pop(0) if scores is not None else None
    bottom = panels.pop(0) if seen else None
    colours = _class_colours(len(classes)) if few_classes else []
    top.set_xlabel("batch (all epochs in order)")
    if not len(counts):  # e.g. drop_last with fewer samples than a batch
        top.text(0.5, 0.5, "no batches", transform=top.transAxes, ha="center", va="center")
        top.set_xticks([])
        top.set_yticks([])
    else:
        if stacked:
            _draw_stacked(top, counts, classes, colours)
        else:
            _draw_heat_map(top, counts, classes)
        top.set_xlim(-0.5, len(counts) - 0.5)
        _mark_epochs(
            top, [(row.epoch, len(c)) for row, c in tallies], colour="black" if stacked else "white"
        )
    if sizes is not None and scores is not None:
        _draw_epoch_sizes(sizes, scores)
    if bottom is not None:
        _draw_seen(bottom, rows, classes, colours, legend=not stacked)
    if title:
        figure.suptitle(title)
    return figure


def plot_batching(
    sampler: EpochBatchSampler,
    epochs: int,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Draw the batch shapes of epochs ``0 .. epochs - 1`` of a sampler that has lengths.

    As `plot_composition`, from `samplekit.report.batching`: each batch's samples, and its
    longest and mean length.

    Raises:
        ModuleNotFoundError: if matplotlib is not installed.
        ConfigError: for ``epochs`` below 1, a path `check_plot_path` refuses, or a sampler
            without lengths.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.plot import plot_batching
        >>> sampler = EpochBatchSampler(None, "shuffle", lengths=[5, 1, 4, 2, 3, 3],
        ...                             batcher={"name": "token_budget", "max_tokens": 8})
        >>> fig = plot_batching(sampler, epochs=2)
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['samples in the batch', 'length']
    """
    from samplekit.report import batching

    return _plot_epochs(
        sampler,
        epochs,
        path,
        title,
        lambda text: batching_figure(list(batching(sampler, epochs)), title=text),
    )


def batching_figure(
    measured: Sequence[tuple[EpochBatching, BatchShapes]], *, title: str | None = None
) -> Figure:
    """The figure of the items of `samplekit.report.batching`: how each batch is shaped.

    Two panels, x = batch (all epochs in order, epochs marked as in `composition_figure`):
    the samples in each batch (top), and each batch's longest length (filled) with its mean
    length (a line) below it (bottom). Every panel is one step artist
    (`matplotlib.patches.StepPatch`) per quantity, however many batches.

    Args:
        measured: ``(row, shapes)`` of consecutive epochs, in order, from one sampler.
        title: the figure's title, if any.

    Raises:
        ModuleNotFoundError: if matplotlib is not installed.
        ConfigError: if ``measured`` is empty.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> from samplekit.plot import batching_figure
        >>> from samplekit.report import batching
        >>> sampler = EpochBatchSampler(None, "shuffle", lengths=[3, 3, 3, 3, 3], batch_size=2)
        >>> fig = batching_figure(list(batching(sampler, 2)))
        >>> [patch.get_data().values.tolist() for patch in fig.axes[0].patches]
        [[2, 2, 1, 2, 2, 1]]
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ModuleNotFoundError(_MISSING, name="matplotlib") from exc
    import numpy as np
    import torch

    if not measured:
        msg = "expected the batch shapes of at least one epoch, but got none"
        raise ConfigError(msg)
    sizes = torch.cat([shapes.sizes for _, shapes in measured]).numpy()
    longest = torch.cat([shapes.longest for _, shapes in measured]).numpy()
    tokens = torch.cat([shapes.tokens for _, shapes in measured]).numpy()
    figure = Figure(figsize=(_WIDTH, 6.0), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.set_ylabel("samples in the batch")
    bottom.set_ylabel("length")
    bottom.set_xlabel("batch (all epochs in order)")
    if not len(sizes):  # e.g. drop_last with fewer samples than a batch
        for ax in (top, bottom):
            ax.text(0.5, 0.5, "no batches", transform=ax.transAxes, ha="center", va="center")
            ax.set_xticks([])
            ax.set_yticks([])
    else:
        edges = np.arange(len(sizes) + 1) - 0.5
        top.stairs(sizes, edges, fill=True, color="tab:blue", label="samples", lw=0, aa=False)
        bottom.stairs(longest, edges, fill=True, color="tab:orange", label="longest", lw=0)
        bottom.stairs(tokens / sizes, edges, color="black", label="mean", lw=1.0)
        if len(sizes) <= _BATCH_GAPS:  # white gaps so that each batch reads as a bar
            top.vlines(edges[1:-1], 0, sizes.max(), colors="white", linewidths=1.0)
        top.set_ylim(0, max(1, int(sizes.max())) * 1.05)
        bottom.set_ylim(0, max(1, int(longest.max())) * 1.05)
        bottom.set_xlim(-0.5, len(sizes) - 0.5)
        epochs = [(row.epoch, row.batches) for row, _ in measured]
        _mark_epochs(top, epochs, colour="black")
        _mark_epochs(bottom, epochs, colour="black", labels=False)
        bottom.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0)
    figure.align_ylabels([top, bottom])
    if title:
        figure.suptitle(title)
    return figure


def _class_colours(n: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    tab10 = colormaps["tab10"]
    return [tab10(i) for i in range(n)]


def _draw_stacked(
    ax: Axes,
    counts: np.ndarray,
    classes: list[int],
    colours: list[tuple[float, float, float, float]],
) -> None:
    """Top panel, few classes: one band per class, its height the class's samples per batch."""
    import numpy as np

    edges = np.arange(len(counts) + 1) - 0.5
    below = np.zeros(len(counts), dtype=counts.dtype)
    for column, (value, colour) in enumerate(zip(classes, colours, strict=True)):
        above = below + counts[:, column]
        # Steps, not bars: one artist per class however many batches. Without antialiasing
        # adjacent bands meet without a seam (their edges are vertical and horizontal).
        ax.stairs(
            above, edges, baseline=below, fill=True, color=colour, label=str(value), lw=0, aa=False
        )
        below = above
    if len(counts) <= _BATCH_GAPS:  # white gaps so that each batch reads as a bar
        ax.vlines(edges[1:-1], 0, below.max(), colors="white", linewidths=1.0)
    ax.set_ylim(0, below.max())
    ax.set_ylabel("samples in the batch")
    ax.legend(title="class", loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0)


def _draw_heat_map(ax: Axes, counts: np.ndarray, classes: list[int]) -> None:
    """Top panel, many classes or batches: class x batch, colour = samples of the class."""
    from matplotlib.ticker import MaxNLocator

    image = ax.imshow(
        counts.T,
        aspect="auto",
        interpolation="nearest",
        origin="lower",
        cmap="viridis",
        extent=(-0.5, len(counts) - 0.5, -0.5, len(classes) - 0.5),
    )
    step = math.ceil(len(classes) / 30)  # at most 30 class names along the side
    ax.set_yticks(range(0, len(classes), step), [str(v) for v in classes[::step]])
    ax.set_ylabel("class")
    # In an inset, the colour bar sits next to the map whatever the panel below puts in the
    # right margin, and figure.axes stays [batches, seen].
    colorbar = ax.figure.colorbar(image, cax=ax.inset_axes((1.01, 0.0, 0.015, 1.0)))
    colorbar.set_label("samples of the class in the batch")
    colorbar.locator = MaxNLocator(integer=True)


def _mark_epochs(
    ax: Axes, epochs: list[tuple[int, int]], *, colour: str, labels: bool = True
) -> None:
    """Thin lines between epochs and ``epoch e`` labels above them; ``(epoch, batches)`` pairs."""
    import numpy as np

    lengths = [batches for _, batches in epochs]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    if 1 < len(lengths) <= _EPOCH_LINES:
        ax.vlines(
            starts[1:-1] - 0.5,
            0,
            1,
            transform=ax.get_xaxis_transform(),
            colors=colour,
            linewidths=1.0,
            zorder=3,
        )
    step = math.ceil(len(lengths) / _EPOCH_LABELS)
    for i in range(0, len(lengths) if labels else 0, step):
        ax.text(
            (starts[i] + starts[i + 1] - 1) / 2,
            1.01,
            f"epoch {epochs[i][0]}",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="small",
        )


def _draw_epoch_sizes(ax: Axes, scores: Sequence[EpochScores]) -> None:
    """Middle panel of `feedback_figure`: the samples of each epoch, the dataset's size dashed."""
    from matplotlib.ticker import MaxNLocator

    epochs = [row.epoch for row in scores]
    samples = [row.samples for row in scores]
    total = scores[0].num_samples
    ax.bar(epochs, samples, width=0.6, color="tab:blue", label="samples in the epoch")
    ax.axhline(total, color="black", linestyle="--", linewidth=1.0, label=f"dataset ({total})")
    ax.set_ylim(0, max(total, *samples) * 1.08)
    ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("samples in the epoch")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0)


def _draw_seen(
    ax: Axes,
    rows: list[EpochComposition],
    classes: list[int],
    colours: list[tuple[float, float, float, float]],
    *,
    legend: bool,
) -> None:
    """Bottom panel: share of each class seen at least once, after each epoch."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    epochs = [row.epoch for row in rows]
    shares = np.array([[row.seen_share[c] for c in classes] for row in rows]) * 100
    marker = "o" if len(rows) <= 50 else None
    scale = 1.0 if len(rows) <= 12 else 0.6  # smaller markers when they crowd
    named = []  # the lines the legend names
    if (
        len(classes) <= MAX_STACKED_CLASSES
    ):  # each line thinner than the one before, so that lines on top of others show
        for column, (value, colour) in enumerate(zip(classes, colours, strict=True)):
            named += ax.plot(
                epochs,
                shares[:, column],
                marker=marker,
                color=colour,
                label=str(value),
                linewidth=3.5 - 2.3 * column / max(1, len(classes) - 1),
                markersize=scale * (11.0 - 7.0 * column / max(1, len(classes) - 1)),
            )
    else:  # every class in grey, then the least seen at the end on top, in colour
        lowest = np.argsort(shares[-1], kind="stable")[:HIGHLIGHTED_CLASSES].tolist()
        for column, value in enumerate(classes):
            if column not in lowest:
                ax.plot(epochs, shares[:, column], color="0.75", linewidth=0.8, label=str(value))
        for column, colour in zip(lowest, _class_colours(len(lowest)), strict=True):
            named += ax.plot(
                epochs,
                shares[:, column],
                marker=marker,
                markersize=scale * 6.0,
                color=colour,
                label=str(classes[column]),
            )
    ax.set_ylim(-3, 103)
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("seen at least once")
    ax.grid(alpha=0.3)
    if legend or len(classes) > MAX_STACKED_CLASSES:
        ax.legend(
            handles=named,
            title="class" if len(classes) <= MAX_STACKED_CLASSES else "least seen",
            loc="upper left",
            bbox_to_anchor=(1.005, 1.0),
            borderaxespad=0.0,
        )


def _describe(sampler: EpochBatchSampler) -> str:
    """``name(options not at their defaults), batch_size=..., batcher=..., seed=...``.

    ``batch_size`` is left out when the batcher sizes batches itself, and the batcher when it
    is the default ``fixed``.
    """
    config = sampler.config
    text = f"{config.strategy.name}({_non_default(config.strategy.options)})"
    if sampler.batch_size is not None:
        text += f", batch_size={sampler.batch_size}"
    batcher_options = _non_default(config.batcher.options)
    if config.batcher.name != "fixed" or batcher_options:
        text += f", batcher={config.batcher.name}({batcher_options})"
    drop_last = ", drop_last" if sampler.drop_last else ""
    return f"{text}, seed={sampler.seed}{drop_last}"


def _non_default(options: pydantic.BaseModel) -> str:
    """The options that differ from their defaults, as ``key=JSON`` pairs."""
    values = options.model_dump(mode="json", exclude_defaults=True)
    return ", ".join(f"{key}={json.dumps(value)}" for key, value in values.items())
