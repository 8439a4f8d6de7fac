"""Every example in the package's docstrings runs and prints what it shows."""

import contextlib
import doctest
import importlib
import inspect
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

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
# A fence may be indented (inside a list item); its code is dedented by the same amount.
BLOCK = re.compile(
    r"^( *<!-- no-run: [^>]+ -->\n)?( *)```python\n(.*?)^\2```", re.DOTALL | re.MULTILINE
)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, textwrap.dedent(match.group(3)))
        for match in BLOCK.finditer(text)
        if not match.group(1)
    ]


def test_python_blocks_finds_indented_fences():
    page = "x\n```python\na = 1\n```\n- item\n\n  ```python\n  b = 2\n  ```\n"
    blocks = BLOCK.finditer(page)
    assert [textwrap.dedent(m.group(3)) for m in blocks] == ["a = 1\n", "b = 2\n"]


@contextlib.contextmanager
def restored_profile(name: str):
    try:
        yield
    finally:
        settings.load_profile(name)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Plugin pages run from this checkout, whether or not the plugins are installed.
    for source in sorted([*ROOT.glob("plugins/*/src"), *ROOT.glob("docs/examples/*/src")]):
        monkeypatch.syspath_prepend(str(source))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    profile = settings.get_current_profile_name()  # a page may load another hypothesis profile
    with isolated_plugin_manager(), restored_profile(profile):
        for line, code in python_blocks(page):
            try:
                exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
            except Exception as exc:  # noqa: PERF203 - one report per failing block
                pytest.fail(f"{page.name}, block at line {line}: {type(exc).__name__}: {exc}")


# --- the site: what the docs build generates must be asked for on every strategy's pages -----

# The comments docs/_hooks/generate.py replaces while the site is built
DIRECTIVE = re.compile(r"^<!-- (options|samplekit|include): (.*?) -->$", re.MULTILINE)


def documented_strategies(monkeypatch) -> list[str]:
    """The built-ins plus every strategy of the plugin packages in this checkout."""
    with isolated_plugin_manager() as manager:
        for package in sorted(ROOT.glob("plugins/*/src/*/__init__.py")):
            monkeypatch.syspath_prepend(str(package.parent.parent))
            manager.register(importlib.import_module(package.parent.name))
        return samplekit.available_strategies()


def test_every_strategy_has_a_generated_options_table_and_a_picture(monkeypatch):
    names = documented_strategies(monkeypatch)
    assert {"m_per_class", "curriculum_negatives"} < set(names)
    choosing = (ROOT / "docs" / "choosing.md").read_text()
    pictures = {
        arguments.split("--strategy ")[1].split()[0]
        for kind, arguments in DIRECTIVE.findall(choosing)
        if kind == "samplekit" and "--plot" in arguments
    }
    for name in names:
        page = (ROOT / "docs" / "strategies" / f"{name}.md").read_text()
        assert ("options", name) in DIRECTIVE.findall(page), f"{name}.md has no options table"
        assert f"](strategies/{name}.md)" in choosing, f"choosing.md does not link {name}"
        assert name in pictures, f"choosing.md draws no picture of {name}"


def test_no_page_hand_writes_an_options_table():
    for page in PAGES:
        assert "| option | type |" not in page.read_text(), page.name


def test_included_files_exist_and_are_run_by_a_test():
    included = [
        arguments
        for page in PAGES
        for kind, arguments in DIRECTIVE.findall(page.read_text())
        if kind == "include"
    ]
    assert included
    tests = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    ci = (ROOT / ".ci" / "run").read_text()
    for path in included:
        assert (ROOT / path).is_file(), path
        package = re.match(r"docs/examples/[^/]+/", path)
        if package:  # an example package: .ci/run installs it and runs its tests
            assert (ROOT / package.group(0) / "tests").is_dir(), path
            assert "docs/examples/*/" in ci, "no CI step runs the example packages' tests"
        else:
            assert Path(path).name in tests, f"no test runs {path}"
