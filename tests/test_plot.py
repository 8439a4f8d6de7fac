"""``samplekit.plot`` and ``samplekit preview --plot``: the picture shows the sampler's batches."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from matplotlib.image import AxesImage
from matplotlib.patches import StepPatch

from samplekit import EpochBatchSampler
from samplekit.cli import main
from samplekit.plot import (
    HIGHLIGHTED_CLASSES,
    MAX_STACKED_CLASSES,
    batching_figure,
    check_plot_path,
    composition_figure,
    plot_batching,
    plot_composition,
)
from samplekit.plugins import isolated_plugin_manager
from samplekit.report import batch_class_counts, composition, epoch_tallies

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from samplekit.plugins import PluginManager

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def builtins_only() -> Iterator[PluginManager]:
    with isolated_plugin_manager() as manager:
        yield manager


def shuffled(counts: list[int], seed: int = 5) -> list[int]:
    labels = [c for c, n in enumerate(counts) for _ in range(n)]
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    return [labels[i] for i in order.tolist()]


LABELS = shuffled([45, 12, 3])  # three classes, 60 samples


def counted(sampler: EpochBatchSampler, labels: list[int], epochs: int) -> np.ndarray:
    """Samples of each class in each batch, all epochs in order, tallied here from the batches."""
    classes = sorted(set(labels))
    rows = []
    for epoch in range(epochs):
        for batch in sampler.epoch_batches(epoch):
            tally = Counter(labels[i] for i in batch)
            rows.append([tally[c] for c in classes])
    return np.array(rows)


def stacked_counts(ax: Axes) -> tuple[list[str], np.ndarray]:
    """Class names and [batches, classes] heights of the stacked steps of the top panel."""
    steps = [p for p in ax.patches if isinstance(p, StepPatch)]
    columns = []
    for step in steps:
        values, edges, baseline = step.get_data()
        np.testing.assert_array_equal(edges, np.arange(len(values) + 1) - 0.5)
        columns.append(values - baseline)
    return [str(s.get_label()) for s in steps], np.stack(columns, axis=1)


def seen_lines(ax: Axes) -> dict[int, np.ndarray]:
    return {int(str(line.get_label())): np.asarray(line.get_ydata()) for line in ax.get_lines()}


def epoch_labels(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_text().startswith("epoch")]


# --- what is drawn ------------------------------------------------------------------------


def test_stacked_steps_are_the_class_counts_of_every_batch() -> None:
    sampler = EpochBatchSampler(LABELS, "negative_subsampling", batch_size=8, seed=3, neg_ratio=0.2)
    figure = plot_composition(sampler, 3)
    top = figure.axes[0]
    names, heights = stacked_counts(top)
    assert names == ["0", "1", "2"]
    expected = counted(sampler, LABELS, 3)
    np.testing.assert_array_equal(heights, expected)
    assert epoch_labels(top) == ["epoch 0", "epoch 1", "epoch 2"]
    legend = top.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["0", "1", "2"]
    assert not top.images


def test_a_smaller_last_batch_shows() -> None:
    sampler = EpochBatchSampler(LABELS, "stratified", batch_size=25, seed=1)
    _, heights = stacked_counts(plot_composition(sampler, 2).axes[0])
    assert heights.sum(1).tolist() == [25, 25, 10] * 2
    np.testing.assert_array_equal(heights, counted(sampler, LABELS, 2))


def test_batch_class_counts_are_the_sampler_batches_and_leave_the_epoch_alone() -> None:
    sampler = EpochBatchSampler(LABELS, "class_weighted", batch_size=7, seed=2, num_samples=30)
    sampler.set_epoch(4)
    classes, counts = batch_class_counts(sampler, 1)
    assert classes == [0, 1, 2]
    np.testing.assert_array_equal(counts.numpy(), counted(sampler, LABELS, 2)[5:])
    assert sampler.epoch == 4
    rows = composition(sampler, 2)
    assert [row for row, _ in epoch_tallies(sampler, 2)] == rows
    assert rows[1].class_counts == dict(zip(classes, counts.sum(0).tolist(), strict=True))


@pytest.mark.parametrize(
    ("strategy", "options", "subsamples"),
    [
        ("negative_subsampling", {"neg_ratio": 0.2}, True),
        ("negative_subsampling", {"neg_per_pos": 0.5, "cycle": True}, True),
        ("stratified", {}, False),
    ],
)
def test_seen_panel_exactly_for_strategies_that_leave_samples_out(
    strategy: str, options: dict[str, Any], subsamples: bool
) -> None:
    sampler = EpochBatchSampler(LABELS, strategy, batch_size=8, seed=4, **options)
    figure = plot_composition(sampler, 4)
    assert len(figure.axes) == (2 if subsamples else 1)
    if subsamples:
        rows = composition(sampler, 4)
        lines = seen_lines(figure.axes[1])
        assert sorted(lines) == [0, 1, 2]
        for label, shares in lines.items():
            np.testing.assert_allclose(shares, [100 * row.seen_share[label] for row in rows])
        np.testing.assert_array_equal(figure.axes[1].get_lines()[0].get_xdata(), [0, 1, 2, 3])


def test_many_classes_make_a_heat_map_and_name_the_least_seen() -> None:
    labels = shuffled([6] * 9 + [3] * 5 + [20])  # 15 classes
    sampler = EpochBatchSampler(labels, "class_weighted", batch_size=10, seed=0, num_samples=40)
    figure = plot_composition(sampler, 3)
    top, seen = figure.axes
    (image,) = top.images
    assert isinstance(image, AxesImage)
    np.testing.assert_array_equal(image.get_array(), counted(sampler, labels, 3).T)
    assert [t.get_text() for t in top.get_yticklabels()] == [str(c) for c in range(15)]
    assert not [p for p in top.patches if isinstance(p, StepPatch)]
    assert epoch_labels(top) == ["epoch 0", "epoch 1", "epoch 2"]
    rows = composition(sampler, 3)
    lines = seen_lines(seen)
    assert sorted(lines) == list(range(15))
    for label, shares in lines.items():
        np.testing.assert_allclose(shares, [100 * row.seen_share[label] for row in rows])
    final = rows[-1].seen_share
    least = sorted(final, key=lambda c: (final[c], c))[:HIGHLIGHTED_CLASSES]
    legend = seen.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [str(c) for c in least]
    assert len(final) > MAX_STACKED_CLASSES


def test_many_batches_make_a_heat_map_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("samplekit.plot.MAX_STACKED_BATCHES", 10)
    sampler = EpochBatchSampler(LABELS, "negative_subsampling", batch_size=4, neg_ratio=0.2)
    figure = plot_composition(sampler, 2)
    (image,) = figure.axes[0].images
    np.testing.assert_array_equal(image.get_array(), counted(sampler, LABELS, 2).T)
    assert figure.axes[1].get_legend() is not None  # the classes' colours are named below


def test_epochs_without_batches_draw_an_empty_panel() -> None:
    sampler = EpochBatchSampler([0, 1, 0], "stratified", batch_size=5, drop_last=True)
    figure = plot_composition(sampler, 2)
    assert [t.get_text() for t in figure.axes[0].texts] == ["no batches"]


def test_title_defaults_to_strategy_options_batch_size_and_seed() -> None:
    sampler = EpochBatchSampler(
        LABELS, "negative_subsampling", batch_size=8, seed=9, neg_ratio=0.5, drop_last=True
    )
    assert plot_composition(sampler, 1).get_suptitle() == (
        "negative_subsampling(neg_ratio=0.5), batch_size=8, seed=9, drop_last"
    )
    assert plot_composition(sampler, 1, title="mine").get_suptitle() == "mine"


def test_bad_epochs_and_empty_tallies_are_config_errors() -> None:
    sampler = EpochBatchSampler(LABELS, "stratified", batch_size=8)
    with pytest.raises(ValueError, match="epochs=0"):
        plot_composition(sampler, 0)
    with pytest.raises(ValueError, match="at least one epoch"):
        composition_figure([])


# --- reproducible, and no global state ------------------------------------------------------


def drawn_data(figure: Figure) -> list[np.ndarray]:
    data = []
    for ax in figure.axes:
        # get_data() is a (values, edges, baseline) named tuple; matplotlib types it a plain tuple.
        data += [np.asarray(p.get_data()[0]) for p in ax.patches if isinstance(p, StepPatch)]
        data += [np.asarray(p.get_data()[2]) for p in ax.patches if isinstance(p, StepPatch)]
        data += [np.asarray(image.get_array()) for image in ax.images]
        data += [np.asarray(line.get_ydata()) for line in ax.get_lines()]
    return data


def global_rng_states() -> tuple[torch.Tensor, np.ndarray, tuple[Any, ...]]:
    # The Mersenne Twister key, get_state()[1], read from the dict form numpy types correctly.
    key = np.random.get_state(legacy=False)["state"]["key"]
    return torch.get_rng_state(), key.copy(), random.getstate()


def test_same_seed_same_figure_and_no_global_rng_touched(tmp_path: Path) -> None:
    torch.manual_seed(11)
    np.random.seed(11)
    random.seed(11)
    before = global_rng_states()

    def draw(seed: int, name: str) -> Figure:
        sampler = EpochBatchSampler(
            LABELS, "negative_subsampling", batch_size=8, seed=seed, neg_ratio=0.2
        )
        return plot_composition(sampler, 3, tmp_path / name)

    first, again, other = draw(0, "a.png"), draw(0, "b.png"), draw(1, "c.png")
    for x, y in zip(drawn_data(first), drawn_data(again), strict=True):
        np.testing.assert_array_equal(x, y)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    differs = [
        not np.array_equal(x, y) for x, y in zip(drawn_data(first), drawn_data(other), strict=True)
    ]
    assert any(differs)  # another seed draws other batches
    after = global_rng_states()
    assert torch.equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2] == after[2]


@pytest.mark.slow
def test_no_matplotlib_at_import_and_no_pyplot_when_drawing(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import samplekit.plot\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at import time'\n"
        "from samplekit import EpochBatchSampler\n"
        "sampler = EpochBatchSampler([0] * 8 + [1] * 2, 'stratified', batch_size=4)\n"
        f"samplekit.plot.plot_composition(sampler, 2, {str(tmp_path / 'x.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "x.png").read_bytes().startswith(PNG_SIGNATURE)


def test_check_plot_path(tmp_path: Path) -> None:
    assert check_plot_path(tmp_path / "a.PNG") == "png"
    assert check_plot_path(str(tmp_path / "a.svg")) == "svg"
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        check_plot_path(tmp_path / "folder.png")
    with pytest.raises(ValueError, match=r"such as \.png .*\.svg.*but got"):
        check_plot_path(tmp_path / "a.txt")
    with pytest.raises(ValueError, match="does not exist"):
        check_plot_path(tmp_path / "nope" / "a.png")


# --- the command line -----------------------------------------------------------------------


def preview(labels_path: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main,
        ["preview", str(labels_path), "--strategy", "negative_subsampling", "--batch-size", "8",
         "--option", "neg_ratio=0.2", "--seed", "3", *extra],
    )  # fmt: skip


@pytest.fixture
def labels_path(tmp_path: Path) -> Path:
    path = tmp_path / "labels.npy"
    np.save(path, np.array(LABELS))
    return path


def test_cli_writes_a_png_after_the_unchanged_text(labels_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "composition.png"
    plain = preview(labels_path)
    result = preview(labels_path, "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == plain.output + f"plot: {out}\n"
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000


def test_cli_plot_draws_the_same_as_the_library(
    labels_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[Figure] = []
    monkeypatch.setattr("matplotlib.figure.Figure.savefig", lambda fig, *a, **k: drawn.append(fig))
    assert preview(labels_path, "--plot", str(tmp_path / "a.svg")).exit_code == 0
    (figure,) = drawn
    sampler = EpochBatchSampler(LABELS, "negative_subsampling", batch_size=8, seed=3, neg_ratio=0.2)
    np.testing.assert_array_equal(stacked_counts(figure.axes[0])[1], counted(sampler, LABELS, 3))
    assert figure.get_suptitle() == "negative_subsampling(neg_ratio=0.2), batch_size=8, seed=3"


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("no matplotlib", "'--plot': --plot needs matplotlib: pip install matplotlib\n"),
        ("suffix", "such as .png"),
        ("no suffix", "such as .png"),
        ("no directory", "does not exist"),
    ],
)
def test_cli_plot_errors_come_before_any_epoch(
    case: str,
    fragment: str,
    labels_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = {
        "no matplotlib": tmp_path / "a.png",
        "suffix": tmp_path / "a.txt",
        "no suffix": tmp_path / "a",
        "no directory": tmp_path / "missing" / "a.png",
    }[case]
    if case == "no matplotlib":
        monkeypatch.setitem(sys.modules, "matplotlib", None)

    def no_epochs(self: EpochBatchSampler, epoch: int) -> NoReturn:
        raise AssertionError("an epoch ran before --plot was checked")

    monkeypatch.setattr(EpochBatchSampler, "epoch_indices", no_epochs)
    result = preview(labels_path, "--plot", str(target))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: Invalid value for '--plot': ")
    assert fragment in result.output
    assert not target.exists()


def test_epoch_labels_name_the_epochs_drawn() -> None:
    sampler = EpochBatchSampler([0] * 30 + [1] * 10, "stratified", batch_size=10)
    figure = composition_figure(list(epoch_tallies(sampler, 2, start=5)))
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == ["epoch 5", "epoch 6"]


# --- batch shapes, from lengths -----------------------------------------------------------

LENGTHS = torch.randint(1, 300, (60,), generator=torch.Generator().manual_seed(3)).tolist()


def batch_steps(figure: Figure) -> dict[str, np.ndarray]:
    found = {}
    for ax in figure.axes:
        for patch in ax.patches:
            if isinstance(patch, StepPatch):
                values, edges, _ = patch.get_data()
                np.testing.assert_array_equal(edges, np.arange(len(values) + 1) - 0.5)
                found[str(patch.get_label())] = np.asarray(values)
    return found


@pytest.mark.parametrize(
    ("batcher", "batch_size"),
    [
        ("fixed", 8),
        ({"name": "length_grouped", "window": 24}, 8),
        ({"name": "token_budget", "max_tokens": 900, "window": 20}, None),
    ],
)
def test_batching_steps_are_the_size_and_lengths_of_every_batch(
    batcher: Any, batch_size: int | None
) -> None:
    sampler = EpochBatchSampler(
        None, "shuffle", lengths=LENGTHS, batcher=batcher, batch_size=batch_size, seed=2
    )
    figure = plot_batching(sampler, 3)
    batches = [b for epoch in range(3) for b in sampler.epoch_batches(epoch)]
    drawn = batch_steps(figure)
    np.testing.assert_array_equal(drawn["samples"], [len(b) for b in batches])
    np.testing.assert_array_equal(drawn["longest"], [max(LENGTHS[i] for i in b) for b in batches])
    np.testing.assert_allclose(
        drawn["mean"], [sum(LENGTHS[i] for i in b) / len(b) for b in batches]
    )
    top, bottom = figure.axes
    assert epoch_labels(top) == ["epoch 0", "epoch 1", "epoch 2"]
    assert epoch_labels(bottom) == []
    legend = bottom.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["longest", "mean"]


def test_batching_title_names_the_batcher_and_leaves_out_an_unused_batch_size() -> None:
    sampler = EpochBatchSampler(
        None, "shuffle", lengths=LENGTHS, seed=1,
        batcher={"name": "token_budget", "max_tokens": 900, "oversize": "error"},
    )  # fmt: skip
    assert plot_batching(sampler, 1).get_suptitle() == (
        "shuffle(), batcher=token_budget(max_tokens=900), seed=1"
    )
    grouped = EpochBatchSampler(
        None, "shuffle", lengths=LENGTHS, batch_size=4, batcher="length_grouped"
    )
    assert plot_batching(grouped, 1, title="mine").get_suptitle() == "mine"
    assert plot_batching(grouped, 1).get_suptitle() == (
        "shuffle(), batch_size=4, batcher=length_grouped(), seed=0"
    )


def test_batching_without_batches_draws_empty_panels() -> None:
    sampler = EpochBatchSampler(None, "shuffle", lengths=[3, 1], batch_size=5, drop_last=True)
    figure = plot_batching(sampler, 2)
    assert [[t.get_text() for t in ax.texts] for ax in figure.axes] == [["no batches"]] * 2


def test_batching_needs_epochs_lengths_and_shapes() -> None:
    with_lengths = EpochBatchSampler(None, "shuffle", lengths=LENGTHS, batch_size=8)
    with pytest.raises(ValueError, match="epochs=0"):
        plot_batching(with_lengths, 0)
    with pytest.raises(ValueError, match="no lengths"):
        plot_batching(EpochBatchSampler(LABELS, "stratified", batch_size=8), 1)
    with pytest.raises(ValueError, match="at least one epoch"):
        batching_figure([])


def test_batching_plot_writes_a_png(tmp_path: Path) -> None:
    sampler = EpochBatchSampler(None, "shuffle", lengths=LENGTHS, batch_size=8)
    plot_batching(sampler, 2, tmp_path / "batches.png")
    assert (tmp_path / "batches.png").read_bytes().startswith(PNG_SIGNATURE)
