"""`samplekit.describe`: option descriptions, type names and Markdown text, called directly."""

from __future__ import annotations

from typing import Literal

from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field

import samplekit
from samplekit.describe import describe_options, markdown_text, type_name


def test_describe_options_and_type_names() -> None:
    class Options(samplekit.Options):
        a: float = Field(0.5, gt=0, lt=1)
        b: int = Field(3, le=5)
        c: list[int] = Field(default_factory=lambda: [1, 2], min_length=1)
        d: Literal["x"] = "x"

    described = {o.name: o for o in describe_options(Options)}
    assert described["a"].constraints == "0 < a < 1"
    assert described["b"].constraints == "b <= 5"
    assert (described["c"].default, described["c"].constraints) == ([1, 2], "length >= 1")
    assert (described["d"].type, described["d"].constraints) == ("'x'", "one of 'x'")
    assert type_name(dict[str, tuple[int, ...]]) == "dict[str, tuple[int, ...]]"


@given(st.text(alphabet=st.sampled_from("`a |\n"), max_size=40))
def test_markdown_text_never_leaves_double_backticks(text: str) -> None:
    converted = markdown_text(text)
    assert "``" not in converted
    assert converted.replace("`", "") == text.replace("`", "")  # only backticks change


def test_markdown_text_turns_rest_literals_into_code_spans() -> None:
    assert markdown_text("keep ``m`` of ``batch_size // m``") == "keep `m` of `batch_size // m`"
