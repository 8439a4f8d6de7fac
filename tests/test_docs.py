"""Every example in the package's docstrings runs and prints what it shows."""

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import samplekit
from samplekit.plugins import isolated_plugin_manager

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(samplekit.__path__, prefix="samplekit.")
    if not info.name.startswith("samplekit.testing.pytest_plugin")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with isolated_plugin_manager():
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0
    assert result.attempted > 0 or ">>>" not in inspect.getsource(module)


# --- the Markdown pages: every ```python block runs, in order, one namespace per page ---------

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"^(<!-- no-run: [^>]+ -->\n)?```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in BLOCK.finditer(text)
        if not match.group(1)
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for source in sorted(ROOT.glob("plugins/*/src")):  # plugin pages run from this checkout,
        monkeypatch.syspath_prepend(str(source))  # whether or not the plugins are installed
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with isolated_plugin_manager():
        for line, code in python_blocks(page):
            try:
                exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
            except Exception as exc:  # noqa: PERF203 - one report per failing block
                pytest.fail(f"{page.name}, block at line {line}: {type(exc).__name__}: {exc}")
