"""MkDocs hook: the parts of the docs generated from the code while the site is built.

Three kinds of HTML comment in a page are replaced (on GitHub they stay invisible):

- ``<!-- options: NAME -->``: the options table of strategy ``NAME``, or of the pydantic model
  ``NAME`` when it is a dotted path such as ``samplekit.config.SamplerConfig``, made by
  `samplekit.describe.options_table`.
- ``<!-- samplekit: ARGS -->``: the command ``samplekit ARGS``, run during the build, and what
  it printed. If ``ARGS`` has ``--plot NAME.png``, the picture it drew is shown above (and the
  output is folded away). The commands run in a folder holding the synthetic label files of
  `LABEL_FILES`; a command that fails stops the build.
- ``<!-- include: PATH -->``: the file ``PATH`` (from the repository's root) as a code block, for
  files that the tests run as they are (a script, the example plugin package).

The strategies of the plugin packages under ``plugins/`` are registered from the checkout when
they are not installed, so their pages build either way.
"""

from __future__ import annotations

import importlib
import os
import posixpath
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from click.testing import CliRunner
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
DIRECTIVE = re.compile(r"^<!-- (options|samplekit|include): (.*?) -->$", re.MULTILINE)
LABEL_FILES: dict[str, list[int]] = {
    # file name -> samples of class 0, 1, ... (in that order: every strategy shuffles)
    "binary.npy": [900, 100],
    "four-classes.npy": [700, 200, 80, 20],
    "eight-classes.npy": [40] * 8,
    "labels.npy": [800, 150, 50],
    "labels.csv": [800, 150, 50],  # one label per line
}
IMAGES = "img"  # where the pictures go in the site
WIDTH = 100  # terminal columns for the commands' output

_runs: dict[str, tuple[str, str | None]] = {}  # ARGS -> (output, picture's uri or None)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Make the strategies of ``plugins/*`` available, installed or not."""
    from samplekit.plugins import get_plugin_manager

    manager = get_plugin_manager()  # loads the installed plugins first
    for package in sorted(ROOT.glob("plugins/*/src/*/__init__.py")):
        source = str(package.parent.parent)
        if source not in sys.path:
            sys.path.append(source)  # after site-packages: an installed copy wins
        module = importlib.import_module(package.parent.name)
        if not manager.is_registered(module):
            manager.register(module, package.parent.name)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Run every command the pages show; add the pictures they draw to the site."""
    _runs.clear()
    pictures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, counts in LABEL_FILES.items():
            labels = np.repeat(np.arange(len(counts)), counts)
            if name.endswith(".csv"):
                np.savetxt(folder / name, labels, fmt="%d")
            else:
                np.save(folder / name, labels)
        for page in files.documentation_pages():
            text = Path(page.abs_src_path or "").read_text(encoding="utf-8")
            for kind, arguments in DIRECTIVE.findall(text):
                if kind != "samplekit" or arguments in _runs:
                    continue
                words = shlex.split(arguments)
                picture = _picture(words, page.src_uri)
                if picture in pictures:
                    msg = f"{page.src_uri}: --plot {picture} is also drawn by {pictures[picture]}"
                    raise PluginError(msg)
                output = _run(words, folder)
                uri = None
                if picture:
                    pictures[picture] = arguments
                    uri = f"{IMAGES}/{picture}"
                    content = (folder / picture).read_bytes()
                    files.append(File.generated(config, uri, content=content))
                _runs[arguments] = (output, uri)
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace the page's directives by what they generate."""

    def replace(match: re.Match[str]) -> str:
        kind, arguments = match.groups()
        if kind == "options":
            return _options(arguments)
        if kind == "include":
            language = {".py": "python", ".toml": "toml"}.get(Path(arguments).suffix, "text")
            text = (ROOT / arguments).read_text(encoding="utf-8").rstrip()
            return f'```{language} title="{arguments}"\n{text}\n```'

        output, uri = _runs[arguments]
        console = f"```console\n$ samplekit {arguments}\n{output.rstrip()}\n```"
        if uri is None:
            return console
        image = posixpath.relpath(uri, posixpath.dirname(page.file.src_uri))
        folded = "\n".join(f"    {line}".rstrip() for line in console.splitlines())
        return (
            f"![samplekit {arguments}]({image})\n\n"
            f'??? example "Drawn while the docs were built: `samplekit {arguments}`"\n\n'
            f"{folded}\n"
        )

    return DIRECTIVE.sub(replace, markdown)


def _picture(words: list[str], page: str) -> str | None:
    """The file name given to ``--plot`` (a plain name: pictures go to `IMAGES`), or None."""
    given = [w.partition("=")[2] for w in words if w.startswith("--plot=")]
    given += [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--plot"]
    if "--plot" in words[-1:] or len(given) > 1 or any("/" in name for name in given):
        msg = f"{page}: expected at most one --plot NAME.png with a plain file name in {words}"
        raise PluginError(msg)
    return given[0] if given else None


def _options(name: str) -> str:
    from samplekit.describe import options_table
    from samplekit.registry import get_strategy

    if "." in name:
        module, _, attribute = name.rpartition(".")
        model: Any = getattr(importlib.import_module(module), attribute)
    else:
        model = get_strategy(name).Options
    return options_table(model)


def _run(arguments: list[str], folder: Path) -> str:
    """What ``samplekit ARGUMENTS`` prints, run in ``folder``; a failure stops the build."""
    from samplekit.cli import main

    previous = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, arguments, prog_name="samplekit", terminal_width=WIDTH)
    finally:
        os.chdir(previous)
    if result.exit_code != 0:
        msg = f"samplekit {shlex.join(arguments)} failed ({result.exit_code}): {result.output}"
        raise PluginError(msg)
    return result.output
