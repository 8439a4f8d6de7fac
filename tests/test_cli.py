"""The ``samplekit`` command line: ``strategies``, ``preview`` and ``demo``."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from pydantic import Field

import samplekit
from samplekit import EpochBatchSampler, EpochContext, available_strategies
from samplekit.cli import main, parse_option_value
from samplekit.describe import describe_strategies, markdown_text
from samplekit.plugins import isolated_plugin_manager

if TYPE_CHECKING:
    from collections.abc import Iterator

    from click.testing import Result

    from samplekit.hookspecs import Register
    from samplekit.plugins import PluginManager

BUILT_INS = [
    "class_weighted",
    "hard_negatives",
    "importance",
    "infobatch",
    "negative_subsampling",
    "shuffle",
    "stratified",
]


@pytest.fixture(autouse=True)
def builtins_only() -> Iterator[PluginManager]:
    with isolated_plugin_manager() as manager:
        yield manager


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# --- a strategy registered in process ---------------------------------------------------------


class EveryKth(samplekit.Strategy):
    """Every k-th sample, in a fresh order each epoch."""

    name = "every_kth"

    class Options(samplekit.Options):
        k: int = Field(ge=1, lt=100, description="Keep every k-th sample.")
        order: Literal["shuffled", "ascending"] | None = Field(None, description="Order.")
        weights: dict[int, float] = Field(default_factory=dict, description="Unused.")

    def epoch_length(self, epoch: int) -> int:
        return len(range(0, len(self.labels), self.options.k))

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        kept = torch.arange(0, len(self.labels), self.options.k)
        if self.options.order == "ascending":
            return kept
        return kept[torch.randperm(len(kept), generator=ctx.generator)]


class EveryKthPlugin:
    @samplekit.hookimpl
    def samplekit_register_strategies(self, register: Register) -> None:
        register(EveryKth)


@pytest.fixture
def plugin(builtins_only: PluginManager) -> str:
    builtins_only.register(EveryKthPlugin(), name="every_kth_plugin")
    return "every_kth"


# --- strategies ---------------------------------------------------------------------------


def test_strategies_lists_every_builtin_with_source_summary_and_constraints() -> None:
    result = run("strategies")
    assert result.exit_code == 0, result.output
    for name in BUILT_INS:
        assert f"{name}  (built-in)" in result.output
        assert markdown_text(samplekit.get_strategy(name).summary()) in result.output
    assert "neg_ratio: float | None  (default null)  [0 < neg_ratio <= 1]" in result.output
    assert "num_samples: int | None  (default null)  [1 <= num_samples <= " in result.output
    assert "class_weights: 'balanced' | dict[int, float (>= 0, finite)]" in result.output
    assert "Share of the negatives kept each epoch" in result.output
    stratified = result.output.split("stratified  (built-in)")[1]
    assert "options: none" in stratified


def test_strategies_json_shape() -> None:
    result = run("strategies", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [s["name"] for s in listed] == available_strategies() == BUILT_INS
    for strategy in listed:
        assert list(strategy) == ["name", "source", "summary", "class", "options"]
        assert strategy["source"] == "built-in"
        for option in strategy["options"]:
            assert list(option) == [
                "name",
                "type",
                "required",
                "default",
                "constraints",
                "description",
            ]
            assert option["description"]
    options = {s["name"]: {o["name"]: o for o in s["options"]} for s in listed}
    assert options["negative_subsampling"]["neg_ratio"] == {
        "name": "neg_ratio",
        "type": "float | None",
        "required": False,
        "default": None,
        "constraints": "0 < neg_ratio <= 1",
        "description": "Share of the negatives kept each epoch, 0 < neg_ratio <= 1.",
    }
    assert options["negative_subsampling"]["neg_per_pos"]["constraints"] == (
        "neg_per_pos > 0, finite"
    )
    assert options["class_weighted"]["class_weights"]["default"] == "balanced"
    assert options["class_weighted"]["replacement"]["default"] is True
    assert options["stratified"] == {}
    assert listed == describe_strategies()


def test_strategy_registered_in_process_is_listed_with_its_source(plugin: str) -> None:
    listed = {s["name"]: s for s in json.loads(run("strategies", "--json").output)}
    assert set(listed) == {*BUILT_INS, plugin}
    mine = listed[plugin]
    assert mine["source"] == "plugin every_kth_plugin"
    assert mine["summary"] == "Every k-th sample, in a fresh order each epoch."
    assert mine["class"] == f"{__name__}.EveryKth"
    k, order, weights = mine["options"]
    assert (k["required"], k["default"], k["constraints"]) == (True, None, "1 <= k < 100")
    assert order["type"] == "'shuffled' | 'ascending' | None"
    assert order["constraints"] == "one of 'shuffled', 'ascending'"
    assert (weights["type"], weights["default"]) == ("dict[int, float]", {})
    plain = run("strategies").output
    assert "every_kth  (plugin every_kth_plugin)" in plain
    assert "k: int  (required)  [1 <= k < 100]" in plain


# --- preview: label files -------------------------------------------------------------------

LABELS = [0] * 45 + [1] * 12 + [2] * 3
ORDER = torch.randperm(len(LABELS), generator=torch.Generator().manual_seed(5)).tolist()
SHUFFLED = [LABELS[i] for i in ORDER]


def write_labels(directory: Path, fmt: str, labels: list[int]) -> Path:
    path = directory / f"labels.{fmt}"
    if fmt == "npy":
        np.save(path, np.array(labels, dtype=np.int16))
    elif fmt == "pt":
        torch.save(torch.tensor(labels), path)
    elif fmt == "csv":
        path.write_text("label\r\n" + "\r\n".join(map(str, labels)) + "\r\n\r\n")
    else:
        path.write_text(
            "\n".join(map(str, labels[:10])) + "\n\n" + "\n".join(map(str, labels[10:]))
        )
    return path


EPOCH_LINE = re.compile(
    r"^  epoch (\d+): +(\d+) batches \| classes (.*?) \| per batch (.*?)(?: \| seen (.*))?$"
)


def parse_preview(output: str) -> list[dict[str, Any]]:
    def pairs(text: str) -> dict[int, str]:
        return {int(k): v for k, v in (item.split(":") for item in text.split())}

    rows = []
    for line in output.splitlines():
        match = EPOCH_LINE.match(line)
        if match:
            epoch, batches, classes, spread, seen = match.groups()
            rows.append(
                {
                    "epoch": int(epoch),
                    "batches": int(batches),
                    "classes": {k: int(v) for k, v in pairs(classes).items()},
                    "spread": {
                        k: tuple(int(x) for x in v.split("-")) for k, v in pairs(spread).items()
                    },
                    "seen": None if seen is None else pairs(seen),
                }
            )
    return rows


def expected_rows(
    labels: list[int],
    strategy: str,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    drop_last: bool = False,
    **options: Any,
) -> list[dict[str, Any]]:
    """The preview table computed independently from the sampler's batches."""
    sampler = EpochBatchSampler(
        labels, strategy, batch_size=batch_size, seed=seed, drop_last=drop_last, **options
    )
    classes = sorted(set(labels))
    seen: set[int] = set()
    rows = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        seen.update(i for batch in batches for i in batch)
        full = [b for b in batches if len(b) == batch_size] or batches
        per_batch = [Counter(labels[i] for i in batch) for batch in full]
        totals = Counter(labels)
        seen_counts = Counter(labels[i] for i in seen)
        rows.append(
            {
                "epoch": epoch,
                "batches": len(batches),
                "classes": {c: sum(labels[i] == c for b in batches for i in b) for c in classes},
                "spread": {
                    c: (min(b[c] for b in per_batch), max(b[c] for b in per_batch)) for c in classes
                },
                "seen": {c: f"{seen_counts[c] / totals[c]:.0%}" for c in classes},
            }
        )
    return rows


@pytest.mark.parametrize("fmt", ["npy", "pt", "csv", "txt"])
def test_preview_reads_each_format_and_reports_what_the_sampler_yields(
    fmt: str, tmp_path: Path
) -> None:
    path = write_labels(tmp_path, fmt, SHUFFLED)
    result = run(
        "preview", str(path), "--strategy", "negative_subsampling", "--batch-size", "8",
        "--epochs", "4", "--seed", "3", "--option", "neg_ratio=0.2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"labels: {path}: 60 samples, 3 classes: 0:45  1:12  2:3" in result.output
    assert "negative_subsampling(neg_ratio=0.2), batch_size=8, seed=3: 3 batches" in result.output
    rows = parse_preview(result.output)
    assert rows == expected_rows(SHUFFLED, "negative_subsampling", 4, 8, seed=3, neg_ratio=0.2)
    assert rows[0]["classes"] == {0: 9, 1: 12, 2: 3}  # every positive, a fifth of the negatives


def test_preview_of_a_strategy_that_keeps_every_sample_omits_seen(tmp_path: Path) -> None:
    path = write_labels(tmp_path, "npy", SHUFFLED)
    result = run("preview", str(path), "--strategy", "stratified", "--batch-size", "20")
    assert result.exit_code == 0, result.output
    rows = parse_preview(result.output)
    assert len(rows) == 3
    expected = expected_rows(SHUFFLED, "stratified", 3, 20)
    for row, want in zip(rows, expected, strict=True):
        assert row["seen"] is None
        assert {k: v for k, v in row.items() if k != "seen"} == {
            k: v for k, v in want.items() if k != "seen"
        }
    assert rows[0]["spread"] == {0: (15, 15), 1: (4, 4), 2: (1, 1)}
    assert "seen" not in result.output


def test_preview_json_options_and_drop_last(tmp_path: Path) -> None:
    path = write_labels(tmp_path, "csv", SHUFFLED)
    result = run(
        "preview", str(path), "--strategy", "class_weighted", "--batch-size", "16",
        "--option", 'class_weights={"0": 1, "1": 2, "2": 0}', "--option", "num_samples=50",
        "--option", "replacement=false", "--drop-last", "--epochs", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        'class_weighted(class_weights={"0": 1.0, "1": 2.0, "2": 0.0}, num_samples=50, '
        "replacement=false), batch_size=16, seed=0, drop_last: 3 batches" in result.output
    )
    rows = parse_preview(result.output)
    options: dict[str, Any] = {
        "class_weights": {0: 1, 1: 2, 2: 0},
        "num_samples": 50,
        "replacement": False,
    }
    assert rows == expected_rows(SHUFFLED, "class_weighted", 2, 16, drop_last=True, **options)
    assert all(row["classes"][2] == 0 for row in rows)


def test_preview_string_option_and_in_process_strategy(tmp_path: Path, plugin: str) -> None:
    path = write_labels(tmp_path, "txt", SHUFFLED)
    result = run(
        "preview", str(path), "--strategy", plugin, "--batch-size", "5",
        "--option", "k=3", "--option", "order=ascending", "--epochs", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    kept = Counter(SHUFFLED[i] for i in range(0, 60, 3))
    assert parse_preview(result.output)[0]["classes"] == {c: kept[c] for c in (0, 1, 2)}


def test_option_values_are_json_when_they_parse() -> None:
    assert parse_option_value("3") == 3
    assert parse_option_value("[1, 2]") == [1, 2]
    assert parse_option_value("false") is False
    assert parse_option_value("balanced") == "balanced"
    assert parse_option_value("") == ""


@pytest.mark.parametrize(
    ("strategy", "options", "shown"),
    [
        ("negative_subsampling", ["neg_ratio=0.5", "cycle=true", "negative_label=0"],
         "neg_ratio=0.5, cycle=true, negative_label=0"),
        ("negative_subsampling", ["neg_per_pos=2"], "neg_per_pos=2.0"),
        ("class_weighted", ['class_weights={"0": 1, "1": 3, "2": 0}', "num_samples=30"],
         'class_weights={"0": 1.0, "1": 3.0, "2": 0.0}, num_samples=30'),
        ("class_weighted", ["class_weights=balanced", "replacement=false"],
         'class_weights="balanced", replacement=false'),
        ("stratified", [], ""),
    ],
)  # fmt: skip
def test_preview_hands_typed_option_values_to_each_builtin(
    tmp_path: Path, strategy: str, options: list[str], shown: str
) -> None:
    # The configuration takes no string for a number or a bool: VALUE must arrive typed.
    path = write_labels(tmp_path, "npy", SHUFFLED)
    flags = [arg for option in options for arg in ("--option", option)]
    result = run("preview", str(path), "--strategy", strategy, "--batch-size", "8", *flags)
    assert result.exit_code == 0, result.output
    assert f"{strategy}({shown}), batch_size=8, seed=0:" in result.output
    assert len(parse_preview(result.output)) == 3


def test_option_values_that_are_not_json_literals_stay_strings() -> None:
    assert parse_option_value("NaN") == "NaN"  # not JSON: no number option takes it
    assert parse_option_value("-Infinity") == "-Infinity"
    assert parse_option_value('"3"') == "3"
    assert parse_option_value("cosine") == "cosine"


@pytest.mark.parametrize(
    ("option", "fragments"),
    [
        ("neg_ratio=" + "[" * 100_000, ["neg_ratio: the value is nested more than 100 levels"]),
        ("neg_ratio=" + "9" * 5000, ["neg_ratio: the value has a number of more than 4,300"]),
        ('class_weights={"0": 1, "0": 3}', ["class_weights: the JSON object gives key '0' twice"]),
        ("neg_ratio=NaN", ["neg_ratio='NaN'", "expected a number"]),
        ("neg_ratio=true", ["neg_ratio=True"]),
    ],
)
def test_bad_option_values_give_one_line_errors_naming_the_option(
    tmp_path: Path, option: str, fragments: list[str]
) -> None:
    path = write_labels(tmp_path, "npy", SHUFFLED)
    result = run(
        "preview", str(path), "--strategy", "negative_subsampling", "--batch-size", "4",
        "--option", option,
    )  # fmt: skip
    assert_one_line_error(result, "'--option'", *fragments)


def test_option_help_says_how_values_are_read() -> None:
    result = run("preview", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "VALUE is a JSON literal" in text
    assert "a value that is not valid JSON is taken as a string" in text


# --- preview: bad input ---------------------------------------------------------------------


def bad_files(directory: Path) -> dict[str, Path]:
    def text(name: str, content: str) -> Path:
        path = directory / name
        path.write_text(content)
        return path

    def npy(name: str, array: np.ndarray, **kwargs: Any) -> Path:
        path = directory / name
        np.save(path, array, **kwargs)
        return path

    def pt(name: str, obj: object) -> Path:
        path = directory / name
        torch.save(obj, path)
        return path

    (directory / "folder.csv").mkdir()
    (directory / "latin1.csv").write_bytes(b"label\n0\n\xe9t\xe9\n")
    return {
        "missing": directory / "nope.npy",
        "not utf-8": directory / "latin1.csv",
        "directory": directory / "folder.csv",
        "extension": text("labels.json", "[0, 1]"),
        "no extension": text("labels", "0\n1\n"),
        "float csv": text("float.csv", "label\n0\n1.5\n"),
        "word txt": text("word.txt", "label\n0\n1\n"),
        "two headers": text("headers.csv", "a\nb\n0\n"),
        "two columns": text("columns.csv", "a,b\n0,1\n"),
        "huge label": text("huge.txt", "0\n99999999999999999999\n"),
        "empty csv": text("empty.csv", ""),
        "header only": text("header.csv", "label\n\n"),
        "float npy": npy("float.npy", np.array([0.0, 1.0])),
        "2-D npy": npy("matrix.npy", np.zeros((3, 2), dtype=np.int64)),
        "empty npy": npy("empty.npy", np.zeros(0, dtype=np.int64)),
        "object npy": npy("object.npy", np.array([0, "a"], dtype=object), allow_pickle=True),
        "corrupt npy": text("corrupt.npy", "not numpy"),
        "2-D pt": pt("matrix.pt", torch.zeros(2, 2, dtype=torch.long)),
        "float pt": pt("float.pt", torch.tensor([0.5, 1.0])),
        "dict pt": pt("dict.pt", {"labels": torch.tensor([0, 1])}),
        "corrupt pt": text("corrupt.pt", "not torch"),
        "npz as npy": npz_as_npy(directory),
        "5000 digits": text("digits.txt", "0\n" + "9" * 5000 + "\n"),
        "string npy": npy("strings.npy", np.array(["cat", "dog"])),
        "datetime npy": npy("dates.npy", np.array(["2020-01-01"], dtype="datetime64[D]")),
        "structured npy": npy("records.npy", np.zeros(3, dtype=[("label", "i4")])),
        "truncated npy": truncated_npy(directory),
        "object int npy": npy("ints.npy", np.array([0, 1], dtype=object), allow_pickle=True),
        "sparse pt": pt("sparse.pt", torch.tensor([0, 1, 1]).to_sparse()),
        "quantized pt": pt("quantized.pt", quantized()),
        "nested pt": pt("nested.pt", nested()),
        "meta pt": pt("meta.pt", torch.zeros(3, dtype=torch.long, device="meta")),
    }


def npz_as_npy(directory: Path) -> Path:
    np.savez(directory / "archive.npz", labels=np.arange(3))
    return (directory / "archive.npz").rename(directory / "archive.npy")


def truncated_npy(directory: Path) -> Path:
    np.save(directory / "whole.npy", np.arange(10))
    path = directory / "truncated.npy"
    path.write_bytes((directory / "whole.npy").read_bytes()[:-8])
    return path


def quantized() -> torch.Tensor:
    with warnings.catch_warnings():  # quantized dtypes are deprecated: users may still have them
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(torch.tensor([0.0, 1.0]), 1.0, 0, torch.quint8)


def nested() -> torch.Tensor:
    with warnings.catch_warnings():  # nested tensors are a prototype: users may still have them
        warnings.simplefilter("ignore")
        return torch.nested.nested_tensor([torch.tensor([0, 1]), torch.tensor([1])])


FILE_ERRORS = {
    "huge label": "does not fit a 64-bit integer",
    "missing": "does not exist",
    "not utf-8": "could not be read as text (UnicodeDecodeError",
    "directory": "is not a regular file",
    "extension": "unsupported extension '.json'",
    "no extension": "unsupported extension '(none)'",
    "float csv": "line 3: expected an integer",
    "word txt": "line 1: expected an integer",
    "two headers": "line 2: expected an integer",
    "two columns": "line 2: expected one column",
    "empty csv": "holds no labels",
    "header only": "holds no labels",
    "float npy": "got dtype float64; convert them first, e.g. labels.astype(numpy.int64)",
    "2-D npy": "expected a 1-D array of labels, but got shape (3, 2)",
    "empty npy": "holds no labels",
    "object npy": "holds Python objects (dtype object)",
    "corrupt npy": "is not a .npy file",
    "2-D pt": "expected a 1-D array of labels, but got shape (2, 2)",
    "float pt": "got dtype torch.float32; convert them first, e.g. labels.long()",
    "dict pt": "expected a saved 1-D integer tensor, but it holds a dict",
    "corrupt pt": "could not be read with torch.load(weights_only=True)",
    "npz as npy": "is a .npz archive",
    "5000 digits": "line 2: label 99999999999999999999... (5000 digits) does not fit",
    "string npy": "got strings (e.g. 'cat'); map them to integers first, e.g. classes, "
    "labels = numpy.unique(labels, return_inverse=True)",
    "datetime npy": "got dtype datetime64[D]; map the values to integer class ids",
    "structured npy": "a structured array with fields ('label'); pass the field",
    "truncated npy": "could not be read as a .npy array",
    "object int npy": "holds Python objects (dtype object)",
    "sparse pt": "got a sparse tensor (torch.sparse_coo); pass a dense one, e.g. labels.to_dense()",
    "quantized pt": "got a quantized tensor (torch.quint8)",
    "nested pt": "got a nested tensor",
    "meta pt": "got a 'meta' tensor, which has a shape but no values",
}


def assert_one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    if "Missing option" not in errors[0]:  # click's own usage errors come with usage lines
        assert result.output.strip() == errors[0], "not a one-line error"
    assert result.output.rstrip("\n").endswith(errors[0])  # nothing follows the message
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("case", sorted(FILE_ERRORS))
def test_bad_label_files_give_one_line_errors(case: str, tmp_path: Path) -> None:
    path = bad_files(tmp_path)[case]
    result = run("preview", str(path), "--strategy", "stratified", "--batch-size", "4")
    expected = FILE_ERRORS[case]
    if case == "quantized pt" and not _LOADS_QUANTIZED:  # refused by torch.load itself
        expected = "could not be read with torch.load(weights_only=True)"
    line = assert_one_line_error(result, "'LABELS_FILE'", str(path), expected)
    assert "allow_pickle" not in line  # never advise loading an untrusted file unsafely


def _weights_only_loads_quantized() -> bool:
    """Whether this torch's ``torch.load(weights_only=True)`` reads quantized tensors (older
    releases refuse them as pickled objects)."""
    buffer = io.BytesIO()
    torch.save(quantized(), buffer)
    buffer.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.load(buffer, weights_only=True)
    except Exception:
        return False
    return True


_LOADS_QUANTIZED = _weights_only_loads_quantized()


BAD_ARGUMENTS = [
    (["--strategy", "stratifed"], ["'--strategy'", "available: class_weighted", "'stratified'?"]),
    (["--strategy", "stratified", "--option", "speed=3"], ["'--option'", "speed=3: unknown key"]),
    (
        ["--strategy", "negative_subsampling", "--option", "neg_ratio=abc"],
        ["'--option'", "neg_ratio='abc'", "expected a number"],
    ),
    (
        ["--strategy", "negative_subsampling", "--option", "neg_ratio=1.5"],
        ["'--option'", "neg_ratio=1.5", "less than or equal to 1"],
    ),
    (
        ["--strategy", "negative_subsampling"],
        ["'--option'", "give exactly one of neg_ratio", "but got neither"],
    ),
    (["--strategy", "stratified", "--option", "neg_ratio"], ["'--option'", "KEY=VALUE"]),
    (["--strategy", "stratified", "--option", "=3"], ["'--option'", "but got '=3'"]),
    (
        ["--strategy", "class_weighted", "--option", "num_samples=5", "--option", "num_samples=6"],
        ["'--option'", "'num_samples' is given twice"],
    ),
    (
        ["--strategy", "stratified", "--batch-size", "0"],
        ["batch_size=0", "greater than or equal to 1"],
    ),
    (["--strategy", "stratified", "--batch-size", "-3"], ["batch_size=-3"]),
    (["--strategy", "stratified", "--epochs", "0"], ["'--epochs'", "got 0"]),
    ([], ["Missing option '--strategy'"]),
    (
        [
            "--strategy",
            "negative_subsampling",
            "--option",
            "neg_ratio=0.5",
            "--option",
            "negative_label=7",
        ],
        ["no sample has negative_label=7"],
    ),
    (
        ["--strategy", "class_weighted", "--option", 'class_weights={"0": 1, "9": 1}'],
        ["class_weights gives weights for labels [9]"],
    ),
    (
        [
            "--strategy",
            "class_weighted",
            "--option",
            "num_samples=500",
            "--option",
            "replacement=false",
        ],
        ["num_samples=500 exceeds the 60 samples"],
    ),
]


@pytest.mark.parametrize(("extra", "fragments"), BAD_ARGUMENTS)
def test_bad_arguments_give_one_line_errors(
    extra: list[str], fragments: list[str], tmp_path: Path
) -> None:
    path = write_labels(tmp_path, "npy", SHUFFLED)
    if "--batch-size" not in extra:
        extra = [*extra, "--batch-size", "4"]
    assert_one_line_error(run("preview", str(path), *extra), *fragments)


def test_long_library_messages_stay_on_one_line(
    tmp_path: Path, builtins_only: PluginManager
) -> None:
    class Picky(samplekit.Strategy):
        """Refuses everything, at length."""

        name = "picky"

        def __init__(self, labels: torch.Tensor, options: Any) -> None:
            raise samplekit.LabelsError("first line\n    second line\nthird")

        def epoch_length(self, epoch: int) -> int:
            raise NotImplementedError

        def sample(self, ctx: EpochContext) -> torch.Tensor:
            raise NotImplementedError

    class Plugin:
        @samplekit.hookimpl
        def samplekit_register_strategies(self, register: Register) -> None:
            register(Picky)

    builtins_only.register(Plugin())
    path = write_labels(tmp_path, "npy", SHUFFLED)
    result = run("preview", str(path), "--strategy", "picky", "--batch-size", "4")
    assert assert_one_line_error(result).endswith("first line second line third")


# --- the installed console script, and demo ---------------------------------------------------


def script() -> str:
    path = Path(sys.executable).parent / ("samplekit.exe" if os.name == "nt" else "samplekit")
    if not path.exists():
        pytest.skip("the samplekit console script is not installed next to this Python")
    return str(path)


@pytest.mark.slow
def test_console_script_preview_and_error(tmp_path: Path) -> None:
    path = write_labels(tmp_path, "csv", SHUFFLED)
    env = {**os.environ, "SAMPLEKIT_LOAD_PLUGINS": ""}
    ok = subprocess.run(
        [script(), "preview", str(path), "--strategy", "stratified", "--batch-size", "20"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert parse_preview(ok.stdout)[2]["spread"] == {0: (15, 15), 1: (4, 4), 2: (1, 1)}
    bad = subprocess.run(
        [script(), "preview", str(path), "--strategy", "nope", "--batch-size", "20"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert bad.stderr.splitlines()[-1].startswith("Error: Invalid value for '--strategy'")
    assert sum(line.startswith("Error:") for line in bad.stderr.splitlines()) == 1


def test_demo_still_runs() -> None:
    result = run("demo", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert "Origin scenario" in result.output
    assert "epoch 0:    4 batches | classes 0:20  1:20" in result.output
