"""``torch.distributed`` for the sampler: this process's rank, and checking ranks agree.

Which batches each rank yields is `samplekit.sharding`'s job; this module only talks to
``torch.distributed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from samplekit.errors import ConfigError, DesyncError
from samplekit.inputs import as_int, quote

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["check_in_sync", "in_default_group", "resolve_rank"]


def _initialised() -> bool:
    return bool(torch.distributed.is_available() and torch.distributed.is_initialized())


def resolve_rank(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """The (rank, world_size) to use: given values, else ``torch.distributed``'s, else (0, 1).

    With ``torch.distributed`` initialised, a sampler spanning the whole default group (the
    group's ``world_size``) must take this process's own rank: any other would make two
    processes yield the same batches. A different ``world_size`` (a data-parallel sub-group,
    where the processes of one model replica share a rank) is taken as given.

    Raises:
        ConfigError: if ``world_size < 1``, ``rank`` is not in ``[0, world_size)``, or ``rank``
            is not this process's rank in a default group of ``world_size`` processes.
    """
    if world_size is None:
        world_size = torch.distributed.get_world_size() if _initialised() else 1
    if rank is None:
        rank = torch.distributed.get_rank() if _initialised() else 0
    checked = []
    for name, value in (("world_size", world_size), ("rank", rank)):
        number = as_int(value)
        if number is None:
            msg = (
                f"{name}: expected an integer, but got {name}={quote(value)} "
                f"({type(value).__name__})"
            )
            raise ConfigError(msg)
        checked.append(number)  # numpy integers count as the ints they hold
    world_size, rank = checked
    if world_size < 1:
        msg = f"world_size: expected an integer >= 1, but got world_size={world_size}"
        raise ConfigError(msg)
    if not 0 <= rank < world_size:
        msg = (
            f"rank: expected 0 <= rank < world_size={world_size}, but got rank={rank}; "
            f"pass the process's rank, or leave both unset to read them from torch.distributed"
        )
        raise ConfigError(msg)
    if _initialised() and world_size == torch.distributed.get_world_size():
        own = torch.distributed.get_rank()
        if rank != own:
            msg = (
                f"rank: got rank={rank}, but this process is rank {own} of the "
                f"{world_size} in torch.distributed's default group, so another process would "
                f"yield the same batches; leave rank unset (or pass rank={own}), or pass the "
                f"rank and world_size of a data-parallel sub-group"
            )
            raise ConfigError(msg)
    return rank, world_size


def in_default_group(rank: int, world_size: int) -> bool:
    """Whether (rank, world_size) are this process's place in the default process group."""
    return (
        _initialised()
        and torch.distributed.get_world_size() == world_size
        and torch.distributed.get_rank() == rank
    )


def check_in_sync(fingerprint: Mapping[str, int]) -> None:
    """All-gather ``fingerprint`` over the default group; raise on every rank if ranks differ.

    One small collective (an ``all_gather`` of a few integers). Every rank must call it, which
    is why the sampler runs it at construction. A rank that does not (it built no sampler, or
    passed ``check_sync=False``) leaves the others waiting until the process group's timeout
    (``init_process_group(timeout=...)``); they then raise `DesyncError` saying so.

    Raises:
        DesyncError: naming each part that differs and the ranks that hold each value, or when
            the collective fails or times out.
    """
    dist = torch.distributed
    names = sorted(fingerprint)
    device = torch.device("cpu")
    if dist.get_backend() == "nccl":  # NCCL moves CUDA tensors only
        device = torch.device("cuda", torch.cuda.current_device())
    mine = torch.tensor([fingerprint[name] for name in names], dtype=torch.int64, device=device)
    gathered = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    try:
        dist.all_gather(gathered, mine)
    except RuntimeError as exc:  # torch.distributed.DistError and backend errors derive from it
        msg = (
            f"EpochBatchSampler could not check that ranks agree: the all_gather of rank "
            f"{dist.get_rank()} failed ({type(exc).__name__}: {str(exc).strip()[:300]}). The "
            f"likely cause: another rank did not construct its sampler with check_sync=True at "
            f"the same point (every rank must build it the same way), or a rank exited"
        )
        raise DesyncError(msg) from exc
    table = torch.stack(gathered).cpu()
    problems = []
    for column, name in enumerate(names):
        values = table[:, column].tolist()
        if len(set(values)) > 1:
            groups: dict[int, list[int]] = {}
            for rank, value in enumerate(values):
                groups.setdefault(value, []).append(rank)
            shown = "; ".join(f"ranks {ranks} have {value:#x}" for value, ranks in groups.items())
            problems.append(f"{name} differs ({shown})")
    if problems:
        msg = (
            f"EpochBatchSampler is out of sync across ranks: {', '.join(problems)}. Every rank "
            f"must build the sampler from the same labels, configuration and seed, or ranks "
            f"would train on overlapping or missing data. Pass check_sync=False to skip this check."
        )
        raise DesyncError(msg)
