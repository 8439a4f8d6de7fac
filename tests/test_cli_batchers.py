"""The command line's batchers: ``samplekit batchers`` and ``preview --lengths/--batcher``."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from matplotlib.patches import StepPatch
from pydantic import Field
from test_cli import SHUFFLED, assert_one_line_error, expected_rows, parse_preview, write_labels

import samplekit
from samplekit import EpochBatchSampler, available_batchers
from samplekit.batcher import Batcher, Batches
from samplekit.batchers.token_budget import OversizeWarning
from samplekit.cli import main
from samplekit.describe import describe_batchers, markdown_text
from samplekit.plugins import isolated_plugin_manager

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result
    from matplotlib.figure import Figure

    from samplekit.hookspecs import RegisterBatcher
    from samplekit.plugins import PluginManager

BUILT_INS = ["fixed", "length_grouped", "token_budget"]


@pytest.fixture(autouse=True)
def builtins_only() -> Iterator[PluginManager]:
    with isolated_plugin_manager() as manager:
        yield manager


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# --- a batcher registered in process ----------------------------------------------------------


class Halves(Batcher):
    """Two batches per epoch, in the strategy's order."""

    name = "halves"
    needs_lengths = True

    class Options(samplekit.Options):
        shift: int = Field(0, ge=0, le=10, description="Samples moved to the second half.")

    def count(self, n: int) -> int:
        return 2 if n >= 2 else n

    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        n = order.numel()
        if n < 2:
            return Batches(order, torch.arange(n + 1, dtype=torch.int64))
        middle = min(max(1, n // 2 - self.options.shift), n - 1)
        return Batches(order, torch.tensor([0, middle, n], dtype=torch.int64))


class HalvesPlugin:
    @samplekit.hookimpl
    def samplekit_register_batchers(self, register: RegisterBatcher) -> None:
        register(Halves)


@pytest.fixture
def plugin(builtins_only: PluginManager) -> str:
    builtins_only.register(HalvesPlugin(), name="halves_plugin")
    return "halves"


# --- samplekit batchers -------------------------------------------------------------------


def test_batchers_lists_every_builtin_with_needs_and_constraints() -> None:
    result = run("batchers")
    assert result.exit_code == 0, result.output
    for name in BUILT_INS:
        assert f"{name}  (built-in)" in result.output
        assert markdown_text(samplekit.get_batcher(name).summary()) in result.output
    blocks = {block.split("  (", 1)[0]: block for block in result.output.strip().split("\n\n")}
    assert list(blocks) == BUILT_INS
    assert "needs: batch_size\n  options: none" in blocks["fixed"]
    assert "needs: lengths and batch_size" in blocks["length_grouped"]
    assert (
        "window: int  (default 65536)  [1 <= window <= 1099511627776]" in blocks["length_grouped"]
    )
    assert "needs: lengths (it sizes batches itself: no batch_size)" in blocks["token_budget"]
    assert "    max_tokens: int  (required)  [1 <= max_tokens <= " in blocks["token_budget"]
    assert "oversize: 'error' | 'drop'  (default \"error\")" in blocks["token_budget"]


def test_batchers_json_shape() -> None:
    result = run("batchers", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [b["name"] for b in listed] == available_batchers() == BUILT_INS
    for batcher in listed:
        assert list(batcher) == [
            "name",
            "source",
            "summary",
            "class",
            "needs_lengths",
            "needs_batch_size",
            "options",
        ]
        assert batcher["source"] == "built-in"
        assert all(option["description"] for option in batcher["options"])
    by_name = {b["name"]: b for b in listed}
    assert (by_name["fixed"]["needs_lengths"], by_name["fixed"]["needs_batch_size"]) == (
        False,
        True,
    )
    assert by_name["fixed"]["options"] == []
    assert by_name["length_grouped"]["needs_lengths"] is True
    token_budget = by_name["token_budget"]
    assert token_budget["class"] == "samplekit.batchers.token_budget.TokenBudget"
    assert (token_budget["needs_lengths"], token_budget["needs_batch_size"]) == (True, False)
    options = {o["name"]: o for o in token_budget["options"]}
    assert (options["max_tokens"]["required"], options["max_tokens"]["default"]) == (True, None)
    assert options["oversize"]["constraints"] == "one of 'error', 'drop'"
    assert options["quadratic"]["type"] == "float | None"
    assert listed == describe_batchers()


def test_batcher_registered_in_process_is_listed_with_its_source(plugin: str) -> None:
    listed = {b["name"]: b for b in json.loads(run("batchers", "--json").output)}
    assert set(listed) == {*BUILT_INS, plugin}
    mine = listed[plugin]
    assert mine["source"] == "plugin halves_plugin"
    assert mine["summary"] == "Two batches per epoch, in the strategy's order."
    assert mine["class"] == f"{__name__}.Halves"
    assert (mine["needs_lengths"], mine["needs_batch_size"]) == (True, False)
    (shift,) = mine["options"]
    assert (shift["default"], shift["constraints"]) == (0, "0 <= shift <= 10")
    plain = run("batchers").output
    assert "halves  (plugin halves_plugin)" in plain
    assert "shift: int  (default 0)  [0 <= shift <= 10]" in plain


def test_strategies_listing_is_unchanged_by_batchers() -> None:
    plain = run("strategies").output
    assert "needs:" not in plain
    assert "stratified  (built-in)" in plain


# --- preview with lengths -------------------------------------------------------------------

LENGTHS = torch.randint(1, 200, (60,), generator=torch.Generator().manual_seed(7)).tolist()


def write_lengths(directory: Path, fmt: str, lengths: list[int] | np.ndarray) -> Path:
    path = directory / f"lengths.{fmt}"
    if fmt == "npy":
        np.save(path, np.asarray(lengths))
    elif fmt == "pt":
        torch.save(torch.as_tensor(lengths), path)
    else:
        header = "length\n" if fmt == "csv" else ""
        path.write_text(header + "\n".join(map(str, lengths)) + "\n")
    return path


BATCHING_LINE = re.compile(
    r"^  epoch (\d+): +(\d+) batches \| padding efficiency ([\d.]+)% \| samples per batch "
    r"(\d+) / ([\d.]+) / (\d+) \| padded tokens per batch ([\d.]+) / (\d+)"
    r"(?: \| budget (\d+): (\d+) over)?(?: \| left out (\d+))?$"
)


def parse_batching(output: str) -> list[dict[str, Any]]:
    rows = []
    for line in output.splitlines():
        match = BATCHING_LINE.match(line)
        if match:
            groups = match.groups()
            rows.append(
                {
                    "epoch": int(groups[0]),
                    "batches": int(groups[1]),
                    "efficiency": float(groups[2]) / 100,
                    "sizes": (int(groups[3]), float(groups[4]), int(groups[5])),
                    "padded": (float(groups[6]), int(groups[7])),
                    "budget": None if groups[8] is None else (int(groups[8]), int(groups[9])),
                    "left_out": int(groups[10] or 0),
                }
            )
    return rows


def direct(
    sampler: EpochBatchSampler, lengths: list[int], epochs: int, budget: int | None = None
) -> list[dict[str, Any]]:
    """Each epoch's figures computed here, from the sampler's batches and the lengths."""
    rows = []
    for epoch in range(epochs):
        batches = list(sampler.epoch_batches(epoch))
        sizes = [len(b) for b in batches]
        padded = [max(lengths[i] for i in b) * len(b) for b in batches]
        real = sum(lengths[i] for b in batches for i in b)
        rows.append(
            {
                "epoch": epoch,
                "batches": len(batches),
                "efficiency": real / sum(padded),
                "sizes": (min(sizes), sum(sizes) / len(sizes), max(sizes)),
                "padded": (sum(padded) / len(padded), max(padded)),
                "budget": None
                if budget is None
                else (budget, sum(cost > budget for cost in padded)),
                "in_batches": sum(sizes),
            }
        )
    return rows


def assert_matches(measured: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(measured) == len(expected)
    for got, want in zip(measured, expected, strict=True):
        assert (got["epoch"], got["batches"]) == (want["epoch"], want["batches"])
        assert got["efficiency"] == pytest.approx(want["efficiency"], abs=0.000501)
        assert (got["sizes"][0], got["sizes"][2]) == (want["sizes"][0], want["sizes"][2])
        assert got["sizes"][1] == pytest.approx(want["sizes"][1], abs=0.0501)
        assert got["padded"][0] == pytest.approx(want["padded"][0], abs=0.0501)
        assert got["padded"][1] == want["padded"][1]
        assert got["budget"] == want["budget"]


def preview(*args: str) -> Result:
    return run("preview", *args)


@pytest.mark.parametrize("fmt", ["npy", "pt", "csv", "txt"])
def test_fixed_batcher_with_labels_and_lengths_keeps_the_composition(
    fmt: str, tmp_path: Path
) -> None:
    labels = write_labels(tmp_path, "npy", SHUFFLED)
    lengths = write_lengths(tmp_path, fmt, LENGTHS)
    result = preview(
        str(labels), "--lengths", str(lengths), "--strategy", "stratified",
        "--batch-size", "8", "--seed", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"labels: {labels}: 60 samples, 3 classes: 0:45  1:12  2:3"
    total = sum(LENGTHS)
    assert lines[1] == (
        f"lengths: {lengths}: 60 samples, lengths {min(LENGTHS)} to {max(LENGTHS)} "
        f"(mean {total / 60:.1f}), {total} in all"
    )
    assert lines[2] == "stratified(), batch_size=8, seed=2: 8 batches in epoch 0"
    rows = parse_preview(result.output)
    assert all(row.pop("seen") is None for row in rows)  # stratified sees every sample
    expected = expected_rows(SHUFFLED, "stratified", 3, 8, seed=2)
    assert rows == [{k: v for k, v in row.items() if k != "seen"} for row in expected]
    sampler = EpochBatchSampler(SHUFFLED, "stratified", batch_size=8, seed=2, lengths=LENGTHS)
    measured = parse_batching(result.output)
    assert_matches(measured, direct(sampler, LENGTHS, 3))
    assert all(row["left_out"] == 0 for row in measured)
    assert "budget" not in result.output


def test_length_grouped_without_labels(tmp_path: Path) -> None:
    lengths = write_lengths(tmp_path, "npy", LENGTHS)
    result = preview(
        "--lengths", str(lengths), "--strategy", "shuffle", "--batcher", "length_grouped",
        "--batch-size", "6", "--batcher-option", "window=24", "--epochs", "4",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "labels:" not in result.output
    assert "per class" not in result.output  # no labels, no composition
    assert "shuffle(), batch_size=6, batcher=length_grouped(window=24), seed=0: 10 batches" in (
        result.output
    )
    sampler = EpochBatchSampler(
        None, "shuffle", lengths=LENGTHS, batch_size=6,
        batcher={"name": "length_grouped", "window": 24},
    )  # fmt: skip
    assert_matches(parse_batching(result.output), direct(sampler, LENGTHS, 4))
    shuffled = EpochBatchSampler(None, "shuffle", lengths=LENGTHS, batch_size=6)
    grouped_padding = [row["efficiency"] for row in parse_batching(result.output)]
    plain_padding = [row["efficiency"] for row in direct(shuffled, LENGTHS, 4)]
    assert min(grouped_padding) > max(plain_padding)  # sorting by length pads less


@pytest.mark.parametrize("max_tokens", [200, 450, 4096])
def test_token_budget_reports_its_budget_and_no_batch_over_it(
    tmp_path: Path, max_tokens: int
) -> None:
    lengths = write_lengths(tmp_path, "txt", LENGTHS)
    result = preview(
        "--lengths", str(lengths), "--strategy", "shuffle", "--batcher", "token_budget",
        "--batcher-option", f"max_tokens={max_tokens}", "--batcher-option", "window=32",
        "--seed", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sampler = EpochBatchSampler(
        None, "shuffle", lengths=LENGTHS, seed=5,
        batcher={"name": "token_budget", "max_tokens": max_tokens, "window": 32},
    )  # fmt: skip
    assert (
        f"shuffle(), batcher=token_budget(max_tokens={max_tokens}, window=32), seed=5: "
        f"{len(sampler)} batches in epoch 0"
    ) in result.output
    measured = parse_batching(result.output)
    assert_matches(measured, direct(sampler, LENGTHS, 3, budget=max_tokens))
    assert all(row["budget"] == (max_tokens, 0) for row in measured)
    assert all(row["padded"][1] <= max_tokens for row in measured)
    assert "budget = the batcher's most per batch" in result.output
    assert "warning" not in result.output


def test_token_budget_dropping_oversized_samples_counts_them(tmp_path: Path) -> None:
    lengths = write_lengths(tmp_path, "npy", LENGTHS)
    too_long = sum(length > 150 for length in LENGTHS)
    assert too_long > 0
    result = preview(
        "--lengths", str(lengths), "--strategy", "shuffle", "--batcher", "token_budget",
        "--batcher-option", "max_tokens=150", "--batcher-option", "oversize=drop",
        "--epochs", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    warning = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1
    assert f"token_budget: {too_long} sample(s) cost more than max_tokens=150" in warning[0]
    assert 'batcher=token_budget(max_tokens=150, oversize="drop")' in result.output
    measured = parse_batching(result.output)
    assert [row["left_out"] for row in measured] == [too_long, too_long]
    with pytest.warns(OversizeWarning):
        sampler = EpochBatchSampler(
            None, "shuffle", lengths=LENGTHS,
            batcher={"name": "token_budget", "max_tokens": 150, "oversize": "drop"},
        )  # fmt: skip
    expected = direct(sampler, LENGTHS, 2, budget=150)
    assert_matches(measured, expected)
    assert all(row["in_batches"] == 60 - too_long for row in expected)
    assert "left out = samples of the epoch in no batch" in result.output


def test_a_batcher_registered_in_process_runs_in_preview(tmp_path: Path, plugin: str) -> None:
    lengths = write_lengths(tmp_path, "npy", LENGTHS)
    result = preview(
        "--lengths", str(lengths), "--strategy", "shuffle", "--batcher", plugin,
        "--batcher-option", "shift=3", "--epochs", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = parse_batching(result.output)
    assert (row["batches"], row["sizes"]) == (2, (27, 30.0, 33))


def test_invocations_without_the_new_options_print_what_they_did(tmp_path: Path) -> None:
    labels = write_labels(tmp_path, "npy", SHUFFLED)
    args = [str(labels), "--strategy", "stratified", "--batch-size", "8"]
    plain = preview(*args)
    explicit = preview(*args, "--batcher", "fixed")
    assert plain.exit_code == explicit.exit_code == 0
    assert plain.output == explicit.output
    assert "batcher" not in plain.output
    assert "padding" not in plain.output


# --- preview: bad input ---------------------------------------------------------------------


def bad_lengths(directory: Path) -> dict[str, Path]:
    def text(name: str, content: str) -> Path:
        path = directory / name
        path.write_text(content)
        return path

    np.save(directory / "negative.npy", np.array([*LENGTHS[:-1], -4]))
    np.save(directory / "float.npy", np.array(LENGTHS, dtype=np.float64))
    np.save(directory / "short.npy", np.array(LENGTHS[:-1]))
    np.save(directory / "bool.npy", np.ones(60, dtype=bool))
    torch.save(torch.tensor(LENGTHS).reshape(6, 10), directory / "matrix.pt")
    return {
        "negative": directory / "negative.npy",
        "float": directory / "float.npy",
        "wrong count": directory / "short.npy",
        "bool": directory / "bool.npy",
        "2-D": directory / "matrix.pt",
        "float csv": text("float.csv", "length\n3\n2.5\n"),
        "empty": text("empty.txt", ""),
        "missing": directory / "nope.npy",
        "extension": text("lengths.json", "[1, 2]"),
    }


LENGTH_ERRORS = {
    "negative": "expected non-negative integers, but sample 59 has length -4",
    "float": "expected integer lengths, but got dtype float64",
    "wrong count": "expected one length per sample, 60 as the labels hold, but got 59",
    "bool": "holds booleans, not lengths",
    "2-D": "expected a 1-D array of lengths, but got shape (6, 10)",
    "float csv": "line 3: expected an integer (one integer length per line), but got '2.5'",
    "empty": "holds no lengths",
    "missing": "does not exist",
    "extension": "unsupported extension '.json'",
}


@pytest.mark.parametrize("case", sorted(LENGTH_ERRORS))
def test_bad_lengths_files_give_one_line_errors(case: str, tmp_path: Path) -> None:
    labels = write_labels(tmp_path, "npy", SHUFFLED)
    path = bad_lengths(tmp_path)[case]
    result = preview(
        str(labels), "--lengths", str(path), "--strategy", "stratified", "--batch-size", "4"
    )
    assert_one_line_error(result, "'--lengths'", f"lengths file {str(path)!r}", LENGTH_ERRORS[case])
    assert "labels" not in result.output.replace("as the labels hold", "")


BAD_BATCHING = [
    (["--batcher", "length_grouped"], ["batch_size: required by the 'length_grouped' batcher"]),
    (["--batcher", "fixed"], ["batch_size: required by the 'fixed' batcher"]),
    (
        ["--batcher", "token_budget", "--batch-size", "8", "--batcher-option", "max_tokens=500"],
        ["the 'token_budget' batcher sizes batches itself", "does not use batch_size=8"],
    ),
    (
        ["--batcher", "token_budet"],
        ["'--batcher'", "token_budet", "did you mean 'token_budget'?"],
    ),
    (
        ["--batcher", "token_budget"],
        ["'--batcher-option'", "token_budget", "max_tokens", "required"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens=abc"],
        ["'--batcher-option'", "max_tokens='abc'"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens=true"],
        ["'--batcher-option'", "max_tokens=True"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens=0"],
        ["'--batcher-option'", "max_tokens=0", "greater than or equal to 1"],
    ),
    (
        ["--batcher", "length_grouped", "--batch-size", "4", "--batcher-option", "speed=3"],
        ["'--batcher-option'", "speed=3: unknown key", "its options: window, balance"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens"],
        ["'--batcher-option'", "KEY=VALUE", "e.g. max_tokens=4096", "but got 'max_tokens'"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens=1",
         "--batcher-option", "max_tokens=2"],
        ["'--batcher-option'", "'max_tokens' is given twice"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "name=fixed"],
        ["'--batcher-option'", "not a batcher option", "--batcher NAME"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens=" + "9" * 5000],
        ["'--batcher-option'", "max_tokens: the value has a number of more than 4,300"],
    ),
    (
        ["--batcher", "token_budget", "--batcher-option", "max_tokens=100"],
        ["token_budget:", "cost more than max_tokens=100 alone", "oversize='drop'"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "fragments"), BAD_BATCHING)
def test_bad_batching_arguments_give_one_line_errors(
    extra: list[str], fragments: list[str], tmp_path: Path
) -> None:
    lengths = write_lengths(tmp_path, "npy", LENGTHS)
    result = preview("--lengths", str(lengths), "--strategy", "shuffle", *extra)
    assert_one_line_error(result, *fragments)


def test_missing_labels_or_lengths_say_what_to_give(tmp_path: Path) -> None:
    lengths = write_lengths(tmp_path, "npy", LENGTHS)
    labels = write_labels(tmp_path, "npy", SHUFFLED)
    needs_labels = preview(
        "--lengths", str(lengths), "--strategy", "stratified", "--batch-size", "4"
    )
    assert_one_line_error(
        needs_labels, "Missing argument 'LABELS_FILE'", "'stratified' strategy needs one class"
    )
    nothing = preview("--strategy", "shuffle", "--batch-size", "4")
    assert_one_line_error(nothing, "Missing argument 'LABELS_FILE'", "or --lengths FILE")
    no_lengths = preview(
        str(labels), "--strategy", "stratified", "--batcher", "token_budget",
        "--batcher-option", "max_tokens=100",
    )  # fmt: skip
    assert_one_line_error(
        no_lengths, "Missing option '--lengths'", "'token_budget' batcher needs per-sample"
    )


def test_shuffle_runs_on_labels_alone(tmp_path: Path) -> None:
    labels = write_labels(tmp_path, "npy", SHUFFLED)
    result = preview(str(labels), "--strategy", "shuffle", "--batch-size", "16", "--epochs", "1")
    assert result.exit_code == 0, result.output
    (row,) = parse_preview(result.output)
    (expected,) = expected_rows(SHUFFLED, "shuffle", 1, 16)
    assert row == {**expected, "seen": None}


# --- preview --plot with lengths ------------------------------------------------------------


def drawn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Figure:
    figures: list[Figure] = []
    monkeypatch.setattr(
        "matplotlib.figure.Figure.savefig", lambda fig, *a, **k: figures.append(fig)
    )
    result = preview(*args, "--plot", str(tmp_path / "batches.png"))
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"plot: {tmp_path / 'batches.png'}\n")
    (figure,) = figures
    return figure


def steps(figure: Figure) -> dict[str, np.ndarray]:
    found = {}
    for ax in figure.axes:
        for patch in ax.patches:
            if isinstance(patch, StepPatch):
                values, edges, _ = patch.get_data()
                np.testing.assert_array_equal(edges, np.arange(len(values) + 1) - 0.5)
                found[str(patch.get_label())] = np.asarray(values)
    return found


@pytest.mark.parametrize(
    ("batcher", "extra"),
    [
        ("fixed", ["--batch-size", "7"]),
        ("length_grouped", ["--batch-size", "7", "--batcher-option", "window=21"]),
        ("token_budget", ["--batcher-option", "max_tokens=600"]),
    ],
)
def test_plot_with_lengths_draws_each_batch_of_the_sampler(
    batcher: str, extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lengths = write_lengths(tmp_path, "npy", LENGTHS)
    figure = drawn(
        tmp_path, monkeypatch, "--lengths", str(lengths), "--strategy", "shuffle",
        "--batcher", batcher, "--seed", "4", "--epochs", "2", *extra,
    )  # fmt: skip
    options = dict(item.split("=") for item in extra[1::2] if "=" in item)
    sampler = EpochBatchSampler(
        None, "shuffle", lengths=LENGTHS, seed=4,
        batch_size=7 if batcher != "token_budget" else None,
        batcher={"name": batcher, **{k: int(v) for k, v in options.items()}},
    )  # fmt: skip
    batches = [b for epoch in range(2) for b in sampler.epoch_batches(epoch)]
    drawn_steps = steps(figure)
    assert sorted(drawn_steps) == ["longest", "mean", "samples"]
    np.testing.assert_array_equal(drawn_steps["samples"], [len(b) for b in batches])
    np.testing.assert_array_equal(
        drawn_steps["longest"], [max(LENGTHS[i] for i in b) for b in batches]
    )
    np.testing.assert_allclose(
        drawn_steps["mean"], [sum(LENGTHS[i] for i in b) / len(b) for b in batches]
    )
    top = figure.axes[0]
    assert [t.get_text() for t in top.texts] == ["epoch 0", "epoch 1"]
    assert figure.get_suptitle().startswith("shuffle(), ")


def test_plot_without_lengths_is_the_class_composition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = write_labels(tmp_path, "npy", SHUFFLED)
    figure = drawn(
        tmp_path, monkeypatch, str(labels), "--strategy", "stratified", "--batch-size", "8"
    )
    assert sorted(steps(figure)) == ["0", "1", "2"]  # one band per class
