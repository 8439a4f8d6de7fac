"""``samplekit preview`` of feedback strategies, with a synthetic score model between epochs.

Every number the command prints is checked against the sampler run directly, as a training loop
runs it, with the same `ScoreModel`; InfoBatch's epoch sizes also against its rule computed from
the difficulties alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import samplekit.plot
from samplekit import EpochBatchSampler
from samplekit.cli import main
from samplekit.errors import ConfigError
from samplekit.plugins import isolated_plugin_manager
from samplekit.report import EpochScores, feedback_tallies
from samplekit.scoremodel import DECAY, ScoreModel

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result

LABELS = np.repeat([0, 1], [900, 100])
N = len(LABELS)


@pytest.fixture(autouse=True)
def builtins_only() -> Iterator[None]:
    with isolated_plugin_manager():
        yield


@pytest.fixture
def labels_file(tmp_path: Path) -> str:
    path = tmp_path / "binary.npy"
    np.save(path, LABELS)
    return str(path)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def trained(
    strategy: str, run_epochs: int, *, seed: int = 0, model: str = "decaying", **options: Any
) -> list[dict[str, Any]]:
    """What each epoch held when the sampler is trained directly with the score model."""
    sampler = EpochBatchSampler(
        torch.as_tensor(LABELS), strategy, batch_size=50, seed=seed, **options
    )
    scores = ScoreModel(N, seed=seed, model=model)
    result = []
    for epoch in range(run_epochs):
        sampler.set_epoch(epoch)
        samples, weights, observed, classes = 0, [], [], torch.zeros(2, dtype=torch.int64)
        batches = 0
        for batch in sampler:
            index = torch.tensor(batch)
            weights.append(sampler.loss_weights(index))
            reported = scores.scores(index)
            sampler.observe(index, reported)
            observed.append(reported)
            samples += len(batch)
            batches += 1
            classes += torch.bincount(torch.as_tensor(LABELS)[index], minlength=2)
        every = torch.cat(weights)
        result.append(
            {
                "batches": batches,
                "samples": samples,
                "classes": classes.tolist(),
                "weights": (float(every.min()), float(every.max())),
                "mean": float(torch.cat(observed).double().mean()),
            }
        )
    return result


SCORE_LINE = re.compile(
    r"^  epoch (\d+): +(\d+) samples \(([\d.]+)% of (\d+)\) \| loss weights (\S+)-(\S+) \| "
    r"mean score (\S+)$",
    re.MULTILINE,
)
CLASS_LINE = re.compile(
    r"^  epoch (\d+): +(\d+) batches \| classes 0:(\d+)  1:(\d+) ", re.MULTILINE
)


def check_against(output: str, expected: list[dict[str, Any]]) -> None:
    scored = SCORE_LINE.findall(output)
    classes = CLASS_LINE.findall(output)
    assert len(scored) == len(classes) == len(expected), output
    for epoch, (line, row, want) in enumerate(zip(scored, classes, expected, strict=True)):
        assert int(line[0]) == int(row[0]) == epoch
        assert int(line[1]) == want["samples"]
        assert line[2] == f"{want['samples'] / N:.1%}"[:-1]
        assert int(line[3]) == N
        assert (line[4], line[5]) == tuple(f"{w:.3g}" for w in want["weights"])
        assert line[6] == f"{want['mean']:.3g}"
        assert int(row[1]) == want["batches"]
        assert [int(row[2]), int(row[3])] == want["classes"]


# --- what preview prints -------------------------------------------------------------------


def test_infobatch_epochs_shrink_then_anneal_as_trained_directly(labels_file: str) -> None:
    result = run(
        "preview", labels_file, "--strategy", "infobatch", "--batch-size", "50",
        "--option", "epochs=8", "--epochs", "8",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "infobatch(epochs=8), batch_size=50, seed=0, scores=decaying: 20 batches" in (
        result.output
    )
    expected = trained("infobatch", 8, epochs=8)
    check_against(result.output, expected)
    sizes = [row["samples"] for row in expected]
    # From the rule alone: epoch 0 has no feedback (all N); after it every sample was observed
    # once, at its difficulty, so epoch 1 prunes round(0.5 * k) of the k below the mean; the
    # last round(0.125 * 8) = 1 epoch anneals to full data with weights 1.
    difficulty = ScoreModel(N, seed=0).difficulty.double()
    k = int((difficulty < difficulty.mean()).sum())
    assert sizes[0] == N
    assert sizes[1] == N - round(0.5 * k)
    assert sizes[7] == N
    assert all(size < N for size in sizes[1:7])
    assert [row["weights"] for row in expected] == [(1.0, 1.0)] + [(1.0, 2.0)] * 6 + [(1.0, 1.0)]


def test_importance_weights_follow_the_scores(labels_file: str) -> None:
    result = run(
        "preview", labels_file, "--strategy", "importance", "--batch-size", "50",
        "--option", "uniform=0.2", "--epochs", "3", "--scores", "constant",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = trained("importance", 3, model="constant", uniform=0.2)
    check_against(result.output, expected)
    assert expected[0]["weights"] == (1.0, 1.0)  # nothing observed before epoch 0: uniform
    assert expected[1]["weights"][1] <= 1 / 0.2 + 1e-4  # every weight is at most 1 / uniform
    assert "seen = share of each class" in result.output  # drawn with replacement


def test_hard_negatives_take_the_highest_scored_negatives(labels_file: str) -> None:
    result = run(
        "preview", labels_file, "--strategy", "hard_negatives", "--batch-size", "50",
        "--option", "neg_ratio=0.2", "--option", "hard_fraction=0.5", "--epochs", "3",
        "--scores", "constant", "--seed", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "seed=3, scores=constant" in result.output
    expected = trained(
        "hard_negatives", 3, seed=3, model="constant", neg_ratio=0.2, hard_fraction=0.5
    )
    check_against(result.output, expected)
    assert [row["samples"] for row in expected] == [100 + 180] * 3


def test_the_seed_seeds_the_scores(labels_file: str) -> None:
    args = ["preview", labels_file, "--strategy", "infobatch", "--batch-size", "50"]
    args += ["--option", "epochs=4", "--epochs", "3"]
    outputs = [run(*args, "--seed", str(seed)).output for seed in (0, 1)]
    check_against(outputs[1], trained("infobatch", 3, seed=1, epochs=4))
    assert SCORE_LINE.findall(outputs[0]) != SCORE_LINE.findall(outputs[1])


def test_plot_draws_the_samples_of_each_epoch(labels_file: str, tmp_path: Path) -> None:
    drawn: list[Any] = []
    draw = samplekit.plot.feedback_figure

    def recording(tallies: Any, scores: Any, **kwargs: Any) -> Any:
        drawn.append((tallies, scores))
        return draw(tallies, scores, **kwargs)

    picture = tmp_path / "infobatch.png"
    with mock.patch.object(samplekit.plot, "feedback_figure", recording):
        result = run(
            "preview", labels_file, "--strategy", "infobatch", "--batch-size", "50",
            "--option", "epochs=4", "--epochs", "4", "--plot", str(picture),
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert picture.stat().st_size > 0
    ((tallies, scores),) = drawn
    expected = trained("infobatch", 4, epochs=4)
    assert [row.samples for row in scores] == [row["samples"] for row in expected]
    assert [len(counts) for _, counts in tallies] == [row["batches"] for row in expected]
    assert [int(counts.sum()) for _, counts in tallies] == [row["samples"] for row in expected]


def test_a_feedback_figure_has_the_epoch_size_panel() -> None:
    pytest.importorskip("matplotlib")
    sampler = EpochBatchSampler(torch.as_tensor(LABELS), "importance", batch_size=50)
    run_ = list(feedback_tallies(sampler, 2, ScoreModel(N, seed=0)))
    figure = samplekit.plot.feedback_figure(
        [(row, counts) for row, counts, _ in run_], [scores for _, _, scores in run_]
    )
    labels = [ax.get_ylabel() for ax in figure.axes]
    assert labels == ["samples in the batch", "samples in the epoch", "seen at least once"]
    with pytest.raises(ConfigError, match="same epochs"):
        samplekit.plot.feedback_figure([(row, counts) for row, counts, _ in run_], [])


# --- strict input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--strategy", "stratified", "--scores", "decaying"],
            "Invalid value for '--scores': the 'stratified' strategy does not plan from feedback",
        ),
        (
            ["--strategy", "infobatch", "--option", "epochs=2", "--scores", "learning"],
            "Invalid value for '--scores': unknown score model 'learning'; choose one of "
            "'decaying', 'constant'",
        ),
        (
            ["--strategy", "infobatch", "--option", "epochs=2", "--lengths", "LABELS"],
            "Invalid value for '--lengths': the 'infobatch' strategy plans from feedback",
        ),
        (
            ["--strategy", "infobatch"],
            "Invalid value for '--option': ",  # epochs is required
        ),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    labels_file: str, args: list[str], message: str
) -> None:
    args = [labels_file if arg == "LABELS" else arg for arg in args]
    result = run("preview", labels_file, "--batch-size", "50", *args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: {message}"), result.output
    assert result.output.count("\n") == 1


def test_non_feedback_strategies_print_no_scores(labels_file: str) -> None:
    result = run("preview", labels_file, "--strategy", "stratified", "--batch-size", "50")
    assert result.exit_code == 0, result.output
    assert "scores" not in result.output


# --- the score model -------------------------------------------------------------------------


def test_score_model_decays_each_sighting_and_is_seeded() -> None:
    model = ScoreModel(5, seed=7)
    d = model.difficulty.double()
    assert bool((d >= 0).all())
    assert torch.equal(ScoreModel(5, seed=7).difficulty, model.difficulty)
    assert not torch.equal(ScoreModel(5, seed=8).difficulty, model.difficulty)
    first = model.scores([4, 0, 4]).double()
    assert torch.allclose(first, torch.stack([d[4], d[0], d[4] * DECAY]), rtol=1e-6)
    second = model.scores(torch.tensor([4, 1])).double()
    assert torch.allclose(second, torch.stack([d[4] * DECAY**2, d[1]]), rtol=1e-6)
    assert model.seen.tolist() == [1, 1, 0, 0, 3]
    assert model.scores([]).numel() == 0
    constant = ScoreModel(5, seed=7, model="constant")
    assert torch.equal(constant.scores([2, 2, 2]), model.difficulty[[2, 2, 2]])


def test_feedback_tallies_refuses_a_strategy_without_feedback() -> None:
    sampler = EpochBatchSampler(torch.as_tensor(LABELS), "stratified", batch_size=50)
    with pytest.raises(ConfigError, match="does not plan from feedback"):
        next(feedback_tallies(sampler, 1, ScoreModel(N, seed=0)))


def test_epoch_scores_of_an_empty_epoch_format() -> None:
    from samplekit.report import format_scores

    line = format_scores([EpochScores(0, 0, 10, 1.0, 1.0, None)])
    assert line == "  epoch 0: 0 samples (0.0% of 10) | loss weights 1-1 | mean score -"
