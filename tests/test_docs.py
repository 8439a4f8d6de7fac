"""Every example in the package's docstrings runs and prints what it shows."""

import contextlib
import doctest
import importlib
import importlib.util
import inspect
import io
import os
import pkgutil
import re
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

import samplekit
from samplekit.describe import describe_strategies
from samplekit.plugins import isolated_plugin_manager

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(samplekit.__path__, prefix="samplekit.")
    if not info.name.startswith("samplekit.testing.pytest_plugin")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    with isolated_plugin_manager():
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0
    assert result.attempted > 0 or ">>>" not in inspect.getsource(module)


# --- the Markdown pages: every ```python block runs, in order, one namespace per page ---------

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_PAGES = sorted(ROOT.glob("plugins/*/README.md"))
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *PLUGIN_PAGES])


def load_generator() -> ModuleType:
    """docs/_hooks/generate.py, which writes the generated blocks of the pages (not a package)."""
    spec = importlib.util.spec_from_file_location(
        "docs_generate", ROOT / "docs" / "_hooks" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generate = load_generator()


def without_generated(text: str) -> str:
    """``text`` with the content of each generated block blanked (its line breaks kept)."""
    for match, end in reversed(list(generate.blocks(text, "page"))):
        content = text[match.end() : end]
        text = text[: match.end()] + "\n" * content.count("\n") + text[end:]
    return text


# A fence may be indented (inside a list item); its code is dedented by the same amount.
BLOCK = re.compile(
    r"^( *<!-- no-run: [^>]+ -->\n)?( *)```python\n(.*?)^\2```", re.DOTALL | re.MULTILINE
)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """The ```python blocks a person wrote on ``page`` (generated ones run in their own tests)."""
    text = without_generated(page.read_text())
    return [
        (text.count("\n", 0, match.start()) + 1, textwrap.dedent(match.group(3)))
        for match in BLOCK.finditer(text)
        if not match.group(1)
    ]


def test_python_blocks_finds_indented_fences() -> None:
    page = "x\n```python\na = 1\n```\n- item\n\n  ```python\n  b = 2\n  ```\n"
    blocks = BLOCK.finditer(page)
    assert [textwrap.dedent(m.group(3)) for m in blocks] == ["a = 1\n", "b = 2\n"]


def test_python_blocks_skips_generated_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\na = 1\n```\n<!-- include: x.py -->\n\n```python\nb = 2\n```\n\n"
        "<!-- end -->\n```python\nc = 3\n```\n"
    )
    assert python_blocks(page) == [(1, "a = 1\n"), (11, "c = 3\n")]


@contextlib.contextmanager
def restored_profile(name: str) -> Iterator[None]:
    try:
        yield
    finally:
        settings.load_profile(name)


def run_page(page: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Run the page's python blocks in order, in one namespace; return the namespace."""
    # Plugin pages run from this checkout, whether or not the plugins are installed.
    for source in sorted([*ROOT.glob("plugins/*/src"), *ROOT.glob("docs/examples/*/src")]):
        monkeypatch.syspath_prepend(str(source))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    profile = settings.get_current_profile_name()  # a page may load another hypothesis profile
    with isolated_plugin_manager() as manager, restored_profile(profile):
        if page in PLUGIN_PAGES:  # a plugin's README uses its strategy by name, as installed
            package = next(page.parent.glob("src/*/__init__.py")).parent
            manager.register(importlib.import_module(package.name))
        for line, code in python_blocks(page):
            try:
                exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"{page.name}, block at line {line}: {type(exc).__name__}: {exc}")
    return namespace


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_page(page, monkeypatch)


def test_readme_inline_config_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's bullets show `EpochBatchSampler.from_config(...)` inline, after its example.
    monkeypatch.chdir(tmp_path)
    readme = ROOT / "README.md"
    calls = re.findall(r"`(EpochBatchSampler\.from_config\(.*?\))`", readme.read_text(), re.DOTALL)
    assert calls, "README shows no EpochBatchSampler.from_config(...) call"
    namespace = run_page(readme, monkeypatch)
    with isolated_plugin_manager():
        for call in calls:
            sampler = eval(call, namespace)  # the README's own labels
            assert len(list(sampler)) == len(sampler) > 0, call


# --- generated blocks: what docs/_hooks/generate.py writes must be on every strategy's pages ---

# The opening line of a generated block; the block ends at the next "<!-- end -->" line
DIRECTIVE = generate.OPEN


def documented_strategies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The built-ins plus every strategy of the plugin packages in this checkout."""
    with isolated_plugin_manager() as manager:
        for package in sorted(ROOT.glob("plugins/*/src/*/__init__.py")):
            monkeypatch.syspath_prepend(str(package.parent.parent))
            manager.register(importlib.import_module(package.parent.name))
        return samplekit.available_strategies()


def test_every_strategy_has_a_generated_options_table_and_a_picture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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


def preview_draws_batchers() -> bool:
    """Whether ``samplekit preview`` takes ``--batcher`` (then batcher pages draw pictures)."""
    from samplekit.cli import main

    preview = main.commands["preview"]
    return any("--batcher" in getattr(param, "opts", ()) for param in preview.params)


def test_every_batcher_has_a_page_with_a_generated_options_table_and_a_picture() -> None:
    with isolated_plugin_manager():
        names = samplekit.available_batchers()
    assert {"fixed", "length_grouped", "token_budget"} <= set(names)
    folder = ROOT / "docs" / "batchers"
    index = (folder / "index.md").read_text()
    choosing = (ROOT / "docs" / "choosing.md").read_text()
    nav = (ROOT / "mkdocs.yml").read_text()
    for name in names:
        page = folder / f"{name}.md"
        assert page.is_file(), f"docs/batchers/{name}.md is missing"
        directives = DIRECTIVE.findall(page.read_text())
        assert ("options", f"batcher:{name}") in directives, f"{name}.md has no options table"
        assert f"]({name}.md)" in index, f"batchers/index.md does not link {name}"
        assert f"](batchers/{name}.md)" in choosing, f"choosing.md does not link {name}"
        assert f"batchers/{name}.md" in nav, f"mkdocs.yml has no {name} page"
        if preview_draws_batchers():
            drawn = [
                arguments
                for kind, arguments in directives
                if kind == "samplekit" and "--plot" in arguments.split()
            ]
            assert any(f"--batcher {name}" in arguments for arguments in drawn), (
                f"{name}.md draws no picture with samplekit preview --batcher {name}"
            )


def test_the_shuffle_strategy_has_its_page() -> None:
    with isolated_plugin_manager():
        assert "shuffle" in samplekit.available_strategies()
    page = (ROOT / "docs" / "strategies" / "shuffle.md").read_text()
    assert ("options", "shuffle") in DIRECTIVE.findall(page)
    assert "strategies/shuffle.md" in (ROOT / "mkdocs.yml").read_text()


def test_no_page_hand_writes_an_options_table() -> None:
    for page in PAGES:
        assert "| option |" not in without_generated(page.read_text()), page.name


def test_included_files_exist_and_are_run_by_a_test() -> None:
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


def test_every_generated_block_is_closed_and_filled() -> None:
    found = 0
    for page in PAGES:
        text = page.read_text()
        for match, end in generate.blocks(text, page.name):  # raises on an unclosed block
            found += 1
            assert text[match.end() : end].strip(), f"{page.name}: {match.group(0)} is empty"
    assert found >= 20


def test_every_picture_is_committed_and_shown_where_it_is_drawn() -> None:
    drawn = set()
    for page in PAGES:
        text = page.read_text()
        for match, end in generate.blocks(text, page.name):
            words = match.group(2).split()
            if match.group(1) == "samplekit" and "--plot" in words:
                name = words[words.index("--plot") + 1]
                drawn.add(name)
                assert (ROOT / "docs" / "img" / name).is_file(), name
                # from a page in docs/ img/NAME, from docs/batchers/ ../img/NAME
                uri = Path(os.path.relpath(ROOT / "docs" / "img" / name, page.parent)).as_posix()
                assert f"]({uri})" in text[match.end() : end], f"{page.name} shows no {name}"
                assert "<!-- picture data: sha256 " in text[match.end() : end], name
    assert {"negative_subsampling.png", "m_per_class.png"} <= drawn
    assert {p.name for p in (ROOT / "docs" / "img").iterdir()} == drawn


def test_no_page_tells_to_pip_install_samplekit_or_a_plugin_from_an_index() -> None:
    # Neither is on an index, and there the name samplekit belongs to an unrelated project.
    plugins = [p.name for p in ROOT.glob("plugins/*") if (p / "pyproject.toml").is_file()]
    assert plugins
    for page in PAGES:
        text = without_generated(page.read_text())  # what the code prints is checked elsewhere
        text = re.sub(r"^Error: .*$", "", text, flags=re.MULTILINE)  # a message the CLI prints
        assert not re.search(r"pip install [\"']?samplekit\[", text), page.name
        for plugin in plugins:
            assert not re.search(rf"pip install [\"']?{plugin}\b", text), (page.name, plugin)
    assert (
        "pip install -e plugins/samplekit-mperclass"
        in (ROOT / "docs/strategies/m_per_class.md").read_text()
    )


def test_readme_setup_shows_the_cpu_only_torch_command() -> None:
    setup = (ROOT / "README.md").read_text().split("## Set-up", 1)[1]
    command = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
    assert command in setup
    assert setup.index(command) < setup.index('pip install -e ".[dev]"')
    block = setup.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert commands == ['pip install -e ".[dev]"', "samplekit demo", "pytest"]  # the set-up


# --- the generator itself, on pages made here ------------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder laid out like the repository, holding one page with one generated block."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "# x\n\n<!-- options: stratified -->\n\nold table\n\n<!-- end -->\n\ntail\n"
    )
    return tmp_path


def test_check_names_a_stale_page_with_a_diff_and_changes_nothing(checkout: Path) -> None:
    before = (checkout / "README.md").read_text()
    out = io.StringIO()
    with isolated_plugin_manager():
        assert generate.generate(check=True, root=checkout, out=out) == 1
    assert (checkout / "README.md").read_text() == before
    report = out.getvalue()
    assert "README.md (committed)" in report
    assert "-old table" in report
    assert "+No options." in report
    assert "stale: README.md" in report
    assert "python docs/_hooks/generate.py" in report


def test_generate_rewrites_only_the_blocks_then_check_passes(checkout: Path) -> None:
    with isolated_plugin_manager():
        assert generate.generate(check=False, root=checkout, out=io.StringIO()) == 0
        expected = "# x\n\n<!-- options: stratified -->\n\nNo options.\n\n<!-- end -->\n\ntail\n"
        assert (checkout / "README.md").read_text() == expected
        out = io.StringIO()
        assert generate.generate(check=True, root=checkout, out=out) == 0
    assert "current" in out.getvalue()


def test_check_fails_on_a_missing_or_unreferenced_picture(checkout: Path) -> None:
    images = checkout / "docs" / "img"
    images.mkdir()
    shutil.copy(ROOT / "docs" / "img" / "stratified.png", images / "left-over.png")
    (checkout / "docs" / "page.md").write_text(
        "<!-- samplekit: preview labels.npy --strategy stratified --batch-size 100 --epochs 1"
        " --plot p.png -->\n<!-- end -->\n"
    )
    out = io.StringIO()
    with isolated_plugin_manager():
        assert generate.generate(check=True, root=checkout, out=out) == 1
        assert "docs/img/p.png (missing)" in out.getvalue()
        assert "docs/img/left-over.png (no page draws it)" in out.getvalue()
        assert generate.generate(check=False, root=checkout, out=io.StringIO()) == 0
        assert generate.generate(check=True, root=checkout, out=io.StringIO()) == 0
    assert sorted(p.name for p in images.iterdir()) == ["p.png"]
    assert generate.drawn_with((images / "p.png").read_bytes()) is not None


def test_a_batcher_options_block_gets_the_batchers_table(checkout: Path) -> None:
    (checkout / "README.md").write_text(
        "<!-- options: batcher:fixed -->\n<!-- end -->\n"
        "<!-- options: batcher:token_budget -->\n<!-- end -->\n"
    )
    with isolated_plugin_manager():
        assert generate.generate(check=False, root=checkout, out=io.StringIO()) == 0
        text = (checkout / "README.md").read_text()
        assert text.startswith("<!-- options: batcher:fixed -->\n\nNo options.\n\n<!-- end -->")
        assert "| `max_tokens` | `int` | required |" in text
        assert generate.generate(check=True, root=checkout, out=io.StringIO()) == 0
        with pytest.raises(samplekit.UnknownBatcherError):
            generate.Generator(checkout).content("options", "batcher:no_such", "page.md")


def test_an_unclosed_block_is_an_error() -> None:
    text = "<!-- options: stratified -->\n\n<!-- options: class_weighted -->\n<!-- end -->\n"
    with pytest.raises(generate.GenerateError, match="line 1: <!-- options: stratified -->"):
        list(generate.blocks(text, "page.md"))


def test_pictures_are_reproducible_and_their_fingerprint_follows_the_data(tmp_path: Path) -> None:
    command = "preview binary.npy --strategy stratified --batch-size 50 --epochs 2"
    drawn = []
    with isolated_plugin_manager():
        for folder, seed in [("a", 0), ("b", 0), ("c", 1)]:
            (tmp_path / folder).mkdir()
            generator = generate.Generator(tmp_path / folder)
            generator.run(f"{command} --seed {seed} --plot x.png", "page.md")
            drawn.append(generator.pictures["x.png"])
    assert drawn[0].content == drawn[1].content  # byte for byte, with the same matplotlib
    assert drawn[0].fingerprint == drawn[1].fingerprint
    assert drawn[0].fingerprint != drawn[2].fingerprint  # other batches, another fingerprint


# --- summaries and option descriptions are plain Markdown ------------------------------------


def test_no_strategy_summary_or_option_description_shows_rest_markup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documented_strategies(monkeypatch)  # puts the plugin packages of this checkout on sys.path
    with isolated_plugin_manager() as manager:
        for package in sorted(ROOT.glob("plugins/*/src/*/__init__.py")):
            manager.register(importlib.import_module(package.parent.name))
        described = describe_strategies()
    assert len(described) >= 5
    for strategy in described:
        texts = [strategy["summary"], *(o["description"] for o in strategy["options"])]
        for text in texts:
            assert "``" not in text, (strategy["name"], text)
    weighted = next(s for s in described if s["name"] == "class_weighted")
    assert weighted["summary"].startswith("Draw `num_samples` samples per epoch")
