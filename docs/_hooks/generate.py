"""Write the parts of the docs that come from the code into the Markdown files themselves.

Run it from the repository's root (or anywhere: paths are taken from this file's place)::

    python docs/_hooks/generate.py          # rewrite every generated block and picture
    python docs/_hooks/generate.py --check  # change nothing; exit 1 if anything is stale

It needs the ``docs`` extra and the plugin packages of ``plugins/`` installed
(``pip install -e ".[dev]" -e plugins/samplekit-mperclass -e plugins/samplekit-curriculum``),
since the pages show their strategies as an installed user sees them.

Pages are ``README.md``, ``docs/**/*.md`` and ``plugins/*/README.md``. In them, a block starts
with one of these lines and ends with the next ``<!-- end -->`` line; what lies between is
generated, so the page reads fully on GitHub as well as on the site (both lines are HTML
comments, which neither shows):

- ``<!-- options: NAME -->``: the options table of strategy ``NAME``, of batcher ``BATCHER``
  when ``NAME`` is ``batcher:BATCHER`` (say ``batcher:token_budget``), or of the pydantic model
  ``NAME`` when it is a dotted path such as ``samplekit.config.SamplerConfig``, made by
  `samplekit.describe.options_table`.
- ``<!-- samplekit: ARGS -->``: the command ``samplekit ARGS`` and what it prints. The commands
  run in a folder holding the files of `LABEL_FILES`, `LENGTH_FILES` and `TEXT_FILES`; a
  command that fails stops the run. If ``ARGS`` has ``--plot NAME.png``, the picture it draws
  is committed as ``docs/img/NAME.png`` and shown above the command, whose output is folded
  away.
- ``<!-- samplekit-error: ARGS -->``: the same for a command that must fail with exit status 2
  (bad input) and the error it prints; one that succeeds, or fails otherwise, stops the run.
- ``<!-- include: PATH -->``: the file ``PATH`` (from the repository's root) as a code block,
  for files that the tests run as they are (a script, the example plugin package).

What ``--check`` compares, and how far it can be trusted:

- Every page's text is regenerated and compared byte for byte; a stale page is named with a
  short diff. This covers options tables, help texts, command outputs and included files.
- A picture's bytes depend on the matplotlib (and FreeType) that drew it, so they are compared
  byte for byte only when the committed picture was drawn by the matplotlib version installed
  here (PNG files record it). Otherwise the check says so and relies on the rest: each picture
  block records a fingerprint of everything the picture is drawn from (what each
  ``samplekit.plot.*_figure`` function was given: the batches' class counts or shapes of every
  epoch drawn, and the title; and the source of `samplekit.plot`), which is part of the page's
  text and so compared byte for byte; and every picture must exist and be referenced,
  and no unreferenced picture may remain in ``docs/img``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import hashlib
import importlib
import importlib.metadata
import json
import os
import posixpath
import re
import shlex
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from unittest import mock

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img"  # where the pictures are committed
OPEN = re.compile(r"^<!-- (options|samplekit|samplekit-error|include): (.*?) -->$", re.MULTILINE)
END = "<!-- end -->"
LABEL_FILES: dict[str, list[int]] = {
    # file name -> samples of class 0, 1, ... (in that order: every strategy shuffles)
    "binary.npy": [900, 100],
    "four-classes.npy": [700, 200, 80, 20],
    "eight-classes.npy": [40] * 8,
    "labels.npy": [800, 150, 50],
    "labels.csv": [800, 150, 50],  # one label per line
}
TEXT_FILES: dict[str, str] = {"bad.csv": "label\n0\n1\n2.5\n"}  # for the docs' error examples
LENGTH_FILES: dict[str, tuple[int, float, float]] = {
    # file name -> (samples, mu, sigma): integer lengths 1 + lognormal(mu, sigma), seeded, as
    # token counts of text often are (many short samples, a long tail)
    "lengths.npy": (1000, 4.0, 0.8),  # as many samples as labels.npy
}
WIDTH = 100  # terminal columns for the commands' output
REGENERATE = "python docs/_hooks/generate.py"
BATCHER = "batcher:"  # ``<!-- options: batcher:NAME -->``: the options of batcher NAME


class GenerateError(Exception):
    """A page or command the generator cannot work with; the message says which and why."""


def pages(root: Path = ROOT) -> list[Path]:
    """Every Markdown page that may hold generated blocks."""
    found = [root / "README.md", *root.glob("docs/**/*.md"), *root.glob("plugins/*/README.md")]
    return sorted(path for path in found if path.is_file())


def blocks(text: str, page: str) -> Iterator[tuple[re.Match[str], int]]:
    """Each opening marker of ``text`` with the offset of its ``<!-- end -->`` line."""
    for match in OPEN.finditer(text):
        end = text.find(f"\n{END}", match.end())
        following = OPEN.search(text, match.end())
        if end == -1 or (following is not None and following.start() < end):
            line = text.count("\n", 0, match.start()) + 1
            msg = f"{page}, line {line}: {match.group(0)} has no {END} line before the next block"
            raise GenerateError(msg)
        yield match, end + 1


@dataclasses.dataclass
class Picture:
    """A picture a command drew: its file name, bytes and the fingerprint of its data."""

    name: str
    content: bytes
    fingerprint: str


class Generator:
    """Makes the content of each block; runs each command once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pictures: dict[str, Picture] = {}
        self._drawn_by: dict[str, str] = {}
        self._runs: dict[tuple[str, int], tuple[str, Picture | None]] = {}
        for name, counts in LABEL_FILES.items():
            labels = np.repeat(np.arange(len(counts)), counts)
            if name.endswith(".csv"):
                np.savetxt(folder / name, labels, fmt="%d")
            else:
                np.save(folder / name, labels)
        for name, text in TEXT_FILES.items():
            (folder / name).write_text(text, encoding="utf-8")
        for name, (count, mu, sigma) in LENGTH_FILES.items():
            np.save(folder / name, synthetic_lengths(count, mu, sigma))

    def render(self, text: str, page: str) -> str:
        """``text`` with the content of every block made anew."""
        parts, last = [], 0
        for match, end in blocks(text, page):
            kind, arguments = match.groups()
            body = self.content(kind, arguments, page)
            parts += [text[last : match.end()], f"\n\n{body.strip()}\n\n"]
            last = end
        return "".join([*parts, text[last:]])

    def content(self, kind: str, arguments: str, page: str) -> str:
        """What the block ``<!-- KIND: ARGUMENTS -->`` of ``page`` holds."""
        if kind == "options":
            return _options(arguments)
        if kind == "include":
            path = ROOT / arguments
            if not path.is_file():
                msg = f"{page}: {arguments} is not a file of the repository"
                raise GenerateError(msg)
            language = {".py": "python", ".toml": "toml"}.get(path.suffix, "text")
            return f'```{language} title="{arguments}"\n{path.read_text("utf-8").rstrip()}\n```'
        output, picture = self.run(arguments, page, status=2 if kind == "samplekit-error" else 0)
        console = f"```console\n$ samplekit {arguments}\n{output.rstrip()}\n```"
        if picture is None:
            return console
        uri = posixpath.relpath(f"docs/img/{picture.name}", posixpath.dirname(page))
        return (
            f"<!-- picture data: {picture.fingerprint}; redraw: {REGENERATE} -->\n"
            f"![samplekit {arguments}]({uri})\n\n"
            f"<details markdown>\n<summary>The command that drew it, and its output</summary>\n\n"
            f"{console}\n\n</details>"
        )

    def run(self, arguments: str, page: str, status: int = 0) -> tuple[str, Picture | None]:
        """The output of ``samplekit ARGUMENTS`` (exiting with ``status``) and its picture."""
        if (arguments, status) not in self._runs:
            words = shlex.split(arguments)
            name = _picture_name(words, page)
            if name in self._drawn_by:
                msg = f"{page}: --plot {name} is also drawn by {self._drawn_by[name]}"
                raise GenerateError(msg)
            output, drawn = _run(words, self.folder, status)
            picture = None
            if name is not None:
                self._drawn_by[name] = arguments
                picture = Picture(name, _strip_png((self.folder / name).read_bytes()), drawn)
                self.pictures[name] = picture
            self._runs[arguments, status] = (output, picture)
        return self._runs[arguments, status]


def synthetic_lengths(count: int, mu: float, sigma: float, seed: int = 0) -> np.ndarray:
    """``count`` integer lengths ``1 + floor(lognormal(mu, sigma))``, the same on every machine."""
    rng = np.random.default_rng(seed)
    return (1 + rng.lognormal(mu, sigma, count)).astype(np.int64)


def _picture_name(words: list[str], page: str) -> str | None:
    """The file name given to ``--plot`` (a plain ``.png`` name), or None."""
    given = [w.partition("=")[2] for w in words if w.startswith("--plot=")]
    given += [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--plot"]
    if (
        "--plot" in words[-1:]
        or len(given) > 1
        or any("/" in name or not name.endswith(".png") for name in given)
    ):
        msg = f"{page}: expected at most one --plot NAME.png with a plain file name in {words}"
        raise GenerateError(msg)
    return given[0] if given else None


def _options(name: str) -> str:
    from samplekit.describe import options_table
    from samplekit.plugins import get_batcher, get_strategy

    if name.startswith(BATCHER):
        model: Any = get_batcher(name.removeprefix(BATCHER)).Options
    elif "." in name:
        module, _, attribute = name.rpartition(".")
        model = getattr(importlib.import_module(module), attribute)
    else:
        model = get_strategy(name).Options
    return options_table(model)


def _run(arguments: list[str], folder: Path, status: int = 0) -> tuple[str, str]:
    """What ``samplekit ARGUMENTS`` prints in ``folder``, and the fingerprint of what it drew.

    Raises:
        GenerateError: if the command does not exit with ``status``.
    """
    from click.testing import CliRunner

    import samplekit.plot
    from samplekit.cli import main

    drawn: list[str] = []
    previous = Path.cwd()
    os.chdir(folder)
    try:
        with contextlib.ExitStack() as stack:
            for name in _figure_functions():
                recording = _recording(name, getattr(samplekit.plot, name), drawn)
                stack.enter_context(mock.patch.object(samplekit.plot, name, recording))
            result = CliRunner().invoke(
                main, arguments, prog_name="samplekit", terminal_width=WIDTH
            )
    finally:
        os.chdir(previous)
    if result.exit_code != status:
        error = result.exception if result.exit_code == 1 else None  # 1: an uncaught exception
        detail = f"{type(error).__name__}: {error}" if error else result.output.strip()
        msg = (
            f"samplekit {shlex.join(arguments)} exited with {result.exit_code}, expected "
            f"{status}: {detail}"
        )
        raise GenerateError(msg)
    return result.output, "".join(drawn)


def _figure_functions() -> list[str]:
    """The functions of `samplekit.plot` that draw a figure: ``*_figure``."""
    import samplekit.plot

    return sorted(
        name
        for name in vars(samplekit.plot)
        if name.endswith("_figure")
        and not name.startswith("_")
        and callable(getattr(samplekit.plot, name))
    )


def _recording(name: str, draw: Any, drawn: list[str]) -> Any:
    """``draw``, which also appends the fingerprint of what it is given to ``drawn``."""

    def recording(*args: Any, **kwargs: Any) -> Any:
        if name == "composition_figure":  # the fingerprint its pictures have always had
            drawn.append(_fingerprint(args[0], kwargs.get("title")))
        else:
            drawn.append(_fingerprint_of(name, args, kwargs))
        return draw(*args, **kwargs)

    return recording


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data: dataclasses, arrays and tensors by their contents."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # numpy arrays, torch tensors
        return value.tolist()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return type(value).__qualname__  # no repr: it may hold a memory address


def _fingerprint_of(name: str, args: Any, kwargs: Any) -> str:
    """A digest of what ``samplekit.plot.NAME`` is given, and of the code that draws it."""
    import samplekit.plot

    data = {
        "figure": name,
        "args": _plain(args),
        "kwargs": _plain(kwargs),
        "plot": hashlib.sha256(Path(samplekit.plot.__file__).read_bytes()).hexdigest(),
    }
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode())
    return f"sha256 {digest.hexdigest()[:16]}"


def _fingerprint(tallies: Any, title: str | None) -> str:
    """A digest of what a picture is drawn from, and of the code that draws it."""
    import samplekit.plot

    data = {
        "title": title,
        "epochs": [[dataclasses.asdict(row), counts.tolist()] for row, counts in tallies],
        "plot": hashlib.sha256(Path(samplekit.plot.__file__).read_bytes()).hexdigest(),
    }
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
    return f"sha256 {digest.hexdigest()[:16]}"


_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _png_chunks(content: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(type, data, whole chunk) of each chunk of a PNG file."""
    if content[:8] != b"\x89PNG\r\n\x1a\n":
        msg = "expected a PNG file"
        raise GenerateError(msg)
    offset = 8
    while offset < len(content):
        (length,) = struct.unpack(">I", content[offset : offset + 4])
        kind = content[offset + 4 : offset + 8]
        yield (
            kind,
            content[offset + 8 : offset + 8 + length],
            content[offset : offset + 12 + length],
        )
        offset += 12 + length


def _strip_png(content: bytes) -> bytes:
    """The PNG with one text chunk, the matplotlib version that drew it (and no date)."""
    import matplotlib

    chunks = [whole for kind, _, whole in _png_chunks(content) if kind not in _TEXT_CHUNKS]
    text = b"Software\0matplotlib " + matplotlib.__version__.encode()
    chunk = b"tEXt" + text
    crc = struct.pack(">I", zlib.crc32(chunk))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunks[0]
        + struct.pack(">I", len(text))
        + chunk
        + crc
        + b"".join(chunks[1:])
    )


def drawn_with(content: bytes) -> str | None:
    """The matplotlib version a picture written by `_strip_png` records, or None."""
    for kind, data, _ in _png_chunks(content):
        if kind == b"tEXt" and data.startswith(b"Software\0matplotlib "):
            return data.split(b" ", 1)[1].decode()
    return None


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _check_plugins_installed(root: Path) -> None:
    """Refuse to run unless every plugin package of ``plugins/`` is installed."""
    missing = [
        f"plugins/{project.parent.name}"
        for project in sorted(root.glob("plugins/*/pyproject.toml"))
        if not _installed(project.parent.name)
    ]
    if missing:
        msg = (
            "the docs show the plugins' strategies as installed; install them first: "
            f"pip install {' '.join(f'-e {path}' for path in missing)}"
        )
        raise GenerateError(msg)


def _diff(old: str, new: str, name: str, limit: int = 40) -> str:
    """A short unified diff from the committed ``old`` to the generated ``new``."""
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"{name} (committed)",
            f"{name} (generated)",
            lineterm="",
            n=1,
        )
    )
    if len(lines) > limit:
        lines[limit:] = [f"... {len(lines) - limit} more lines"]
    return "\n".join(lines)


def _compare_picture(picture: Picture, path: Path, root: Path) -> tuple[str | None, str | None]:
    """(why the committed picture is stale, or None; a note on what was not compared)."""
    import matplotlib

    label = path.relative_to(root).as_posix()
    if not path.is_file():
        return f"{label} (missing)", None
    committed = path.read_bytes()
    if committed == picture.content:
        return None, None
    version = drawn_with(committed)
    if version == matplotlib.__version__:
        return f"{label} (differs from what matplotlib {version} draws now)", None
    return None, (
        f"{label}: drawn with matplotlib {version}, here {matplotlib.__version__}: bytes not "
        "compared, only the fingerprint of its data recorded in the page"
    )


def generate(*, check: bool, root: Path = ROOT, out: TextIO = sys.stdout) -> int:
    """Rewrite (or, with ``check``, compare) every page and picture under ``root``.

    Returns:
        The exit status: 1 if ``check`` found anything stale, else 0.
    """
    _check_plugins_installed(root)
    stale: list[str] = []
    images = root / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        generator = Generator(Path(tmp))
        for page in pages(root):
            name = page.relative_to(root).as_posix()
            text = page.read_text(encoding="utf-8")
            new = generator.render(text, name)
            if new != text:
                stale.append(name)
                if check:
                    print(_diff(text, new, name), file=out)
                else:
                    page.write_text(new, encoding="utf-8")
        for name, picture in sorted(generator.pictures.items()):
            path = images / name
            if check:
                problem, note = _compare_picture(picture, path, root)
                stale += [problem] if problem else []
                if note:
                    print(f"note: {note}", file=out)
            elif not path.is_file() or path.read_bytes() != picture.content:
                images.mkdir(parents=True, exist_ok=True)
                path.write_bytes(picture.content)
                stale.append(path.relative_to(root).as_posix())
    for path in sorted(images.glob("*")) if images.is_dir() else []:
        if path.name not in generator.pictures:
            stale.append(f"{path.relative_to(root).as_posix()} (no page draws it)")
            if not check:
                path.unlink()
    if check and stale:
        print(f"stale: {', '.join(stale)}; regenerate with: {REGENERATE}", file=out)
        return 1
    if check:
        print("generated docs are current", file=out)
    else:
        print(f"rewrote: {', '.join(stale)}" if stale else "nothing to rewrite", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: ``--check`` compares instead of writing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a page or picture is stale"
    )
    options = parser.parse_args(argv)
    os.environ.pop("SAMPLEKIT_LOAD_PLUGINS", None)  # every installed plugin, as documented
    try:
        return generate(check=options.check)
    except GenerateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
