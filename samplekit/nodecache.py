"""One copy per node: what grows with the labels, built once and mapped by every rank of a node.

A strategy's per-class index (`samplekit.labels.ClassIndex.grouped`, 4 bytes per sample, or
what `samplekit.labels.ClassIndex.members` reads when one class is most of the samples) and
``negative_subsampling``'s positives (and, up to `samplekit.labels.LISTED_BYTES`, its listed
negatives) are the same on every rank. Under ``torch.distributed``,
when the sampler checks that ranks agree (``check_sync=True``, every rank builds it), they are
built through `shared` and held once per node:

- the first rank of a node to claim ``<dir>/samplekit-<labels digest>-<name>.bin`` (an
  exclusive lock file) builds it and writes it there (a temporary file, then renamed);
- the other ranks of the node wait for that file and map it (``torch.from_file(shared=True)``):
  the page cache holds one copy for the node;
- once every rank has built its sampler (the sampler's sync collective, which follows), the
  rank that wrote a file deletes it. The mappings stay valid until the processes exit, and the
  directory is left as it was.

``dir`` is the ``SAMPLEKIT_NODE_CACHE`` environment variable if set (``off`` disables sharing),
else ``/dev/shm`` when it is a writable directory (memory, not disk), else sharing is off.

When the node-local build fails (the directory is full or not writable, the builder died: its
lock names a process that no longer runs, or no file came within ``SAMPLEKIT_NODE_CACHE_TIMEOUT``
seconds, default 600), each rank builds its own copy and a `SharingWarning` says why: slower and
more memory, never wrong, as the content is a pure function of the labels.

Examples:
    >>> import torch
    >>> from samplekit.nodecache import shared
    >>> labels = torch.tensor([2, 0, 2])
    >>> shared("squares", torch.int32, lambda: labels.to(torch.int32) ** 2, of=labels).tolist()
    [4, 0, 4]
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import pathlib
import time
import warnings
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["SharingWarning", "directory", "shared", "sharing"]

_TIMEOUT = 600.0  # seconds a rank waits for its node's builder
_POLL = 0.05


class SharingWarning(UserWarning):
    """A rank built its own copy of per-node data (the node-local build failed)."""


@dataclasses.dataclass
class _Scope:
    directory: pathlib.Path
    digest: int
    labels: torch.Tensor
    written: list[pathlib.Path] = dataclasses.field(default_factory=list)


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("samplekit_node_cache")


def directory() -> pathlib.Path | None:
    """Where ranks share per-node data, or ``None`` when sharing is off (see module docs)."""
    chosen = os.environ.get("SAMPLEKIT_NODE_CACHE")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else pathlib.Path(chosen)
    shm = pathlib.Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


@contextlib.contextmanager
def sharing(
    digest: int, where: pathlib.Path | None, *, labels: torch.Tensor
) -> Iterator[list[pathlib.Path]]:
    """Within it, `shared` shares per-node data of ``labels`` (of ``digest``) through ``where``.

    Yields the list of files this process wrote: delete them (`release`) once every rank of the
    node has built what it needs. ``where=None`` shares nothing.
    """
    scope = None if where is None else _Scope(where, digest, labels)
    token = _SCOPE.set(scope)
    try:
        yield [] if scope is None else scope.written
    finally:
        _SCOPE.reset(token)


def release(written: list[pathlib.Path]) -> None:
    """Delete the files this process wrote (and their locks); other ranks keep their maps."""
    for path in written:
        for each in (path, path.with_suffix(".lock")):
            with contextlib.suppress(OSError):
                each.unlink()
    written.clear()


def shared(
    name: str, dtype: torch.dtype, build: Callable[[], torch.Tensor], *, of: torch.Tensor
) -> torch.Tensor:
    """``build()`` (a 1-D tensor of ``dtype``, a function of the labels ``of``), once per node.

    Shared inside `sharing` when ``of`` is the very tensor of labels it shares (the files are
    named by those labels' digest); otherwise, say for a per-class index of other labels that a
    strategy builds, and when sharing fails (with a `SharingWarning`), it is ``build()``.
    """
    scope = _SCOPE.get(None)
    if scope is None or of is not scope.labels:
        return build()
    path = scope.directory / f"samplekit-{scope.digest:016x}-{name}.bin"
    lock = path.with_suffix(".lock")
    while True:
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            found = _wait(path, lock, dtype)
            if found is not None:
                return found
            if lock.exists():  # the builder failed: build here
                _warn(f"the rank building {path.name} on this node failed or timed out")
                return build()
            continue  # a stale lock was removed: claim it again
        except OSError as exc:
            _warn(f"cannot create {lock} ({exc})")
            return build()
        with os.fdopen(handle, "w") as out:
            out.write(str(os.getpid()))
        return _build_and_write(path, lock, dtype, build, scope)


def _build_and_write(
    path: pathlib.Path,
    lock: pathlib.Path,
    dtype: torch.dtype,
    build: Callable[[], torch.Tensor],
    scope: _Scope,
) -> torch.Tensor:
    tensor = build()
    assert tensor.dtype == dtype  # the callers' contract
    assert tensor.ndim == 1
    temporary = path.with_suffix(".tmp")
    try:
        tensor.contiguous().numpy().tofile(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        path.with_suffix(".failed").touch()
        _warn(f"cannot write {path} ({exc})")
        return tensor
    scope.written.append(path)
    mapped = _map(path, dtype)
    return tensor if mapped is None else mapped


def _wait(path: pathlib.Path, lock: pathlib.Path, dtype: torch.dtype) -> torch.Tensor | None:
    """Map ``path`` once its builder wrote it; ``None`` if it failed, died or timed out."""
    timeout = float(os.environ.get("SAMPLEKIT_NODE_CACHE_TIMEOUT", _TIMEOUT))
    deadline = time.monotonic() + timeout
    failed = path.with_suffix(".failed")
    while time.monotonic() < deadline:
        if path.exists():
            return _map(path, dtype)
        if failed.exists():
            return None
        if not _alive(lock):
            if path.exists():  # written just before its lock's process ended
                return _map(path, dtype)
            with contextlib.suppress(OSError):
                lock.unlink()  # stale: left by a process that died while building
            return None
        time.sleep(_POLL)
    return None


def _alive(lock: pathlib.Path) -> bool:
    """Whether the process named in ``lock`` still runs (or the lock is being written)."""
    try:
        text = lock.read_text().strip()
    except FileNotFoundError:
        return False
    if not text:
        return True  # just created, its pid not yet written
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def _map(path: pathlib.Path, dtype: torch.dtype) -> torch.Tensor | None:
    itemsize = torch.empty(0, dtype=dtype).element_size()
    try:
        size = path.stat().st_size
        if size % itemsize:
            _warn(f"{path} has {size} bytes, not a whole number of {dtype} values")
            return None
        if size == 0:
            return torch.empty(0, dtype=dtype)
        return torch.from_file(str(path), shared=True, size=size // itemsize, dtype=dtype)
    except (OSError, RuntimeError) as exc:
        _warn(f"cannot map {path} ({exc})")
        return None


def _warn(reason: str) -> None:
    warnings.warn(
        f"samplekit: {reason}; this rank builds its own copy of the per-node data (more "
        f"memory, same batches). Set SAMPLEKIT_NODE_CACHE to a writable node-local directory, "
        f"or to 'off' to silence this",
        SharingWarning,
        stacklevel=3,
    )
