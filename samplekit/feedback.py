"""Per-sample feedback from training, collected for the strategies that plan from it.

`WithIndices` tells the training loop which samples a batch holds; `FeedbackState` collects one
score per sample and hands it to strategies as a `samplekit.strategy.FeedbackView`.

The training loop wraps its dataset in `WithIndices`, so every batch carries the indices of its
samples, reports one score per sample (say its loss) with `FeedbackState.observe`, and at the
epoch boundary folds what it reported into the state with `FeedbackState.apply` (one process)
or `FeedbackState.sync` (every rank of a ``torch.distributed`` group, which then holds the same
state). The next epoch is planned from `FeedbackState.view`.

Examples:
    >>> import torch
    >>> from samplekit.feedback import FeedbackState, WithIndices
    >>> dataset = WithIndices(["a", "b", "c", "d"])
    >>> dataset[2]
    (2, 'c')
    >>> state = FeedbackState(4)
    >>> state.observe(torch.tensor([2, 0]), torch.tensor([0.5, 1.5]), epoch=0)
    >>> state.observe([2], torch.tensor([0.25]), epoch=0)  # later observations win
    >>> state.apply()
    >>> view = state.view()
    >>> view.scores.tolist(), view.observed.tolist(), state.version
    ([1.5, nan, 0.25, nan], [0, -1, 0, -1], 1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np
import torch
from torch.utils.data import Dataset

from samplekit.errors import ConfigError, DesyncError
from samplekit.inputs import as_int, quote
from samplekit.strategy import FeedbackView

if TYPE_CHECKING:
    from torch.distributed import ProcessGroup

__all__ = ["FeedbackState", "WithIndices", "as_view", "check_indices"]

T_co = TypeVar("T_co", covariant=True)

#: Attributes of the wrapped dataset that `WithIndices` reads through, for the sampler's sake.
FORWARDED = ("targets", "labels", "lengths")


class _MapStyle(Protocol[T_co]):
    """A map-style dataset: ``len`` and items by integer index."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> T_co: ...


class WithIndices(Dataset[tuple[int, T_co]], Generic[T_co]):
    """A dataset whose item ``i`` is ``(i, dataset[i])``: batches carry their samples' indices.

    The indices are what `FeedbackState.observe` needs. It has the wrapped dataset's ``len``,
    pickles with it (so ``DataLoader`` workers get a copy) and reads ``targets``, ``labels``
    and ``lengths`` through to it when it has them, so ``EpochBatchSampler(WithIndices(ds),
    ...)`` finds the labels as it would on ``ds``. When the wrapped dataset fetches a batch at
    once (``__getitems__``, as Hugging Face datasets do), so does the wrapper.

    Args:
        dataset: a map-style dataset (``len`` and ``dataset[i]``), such as a torch ``Dataset``.

    Attributes:
        dataset: the wrapped dataset.

    Examples:
        >>> from torch.utils.data import DataLoader
        >>> loader = DataLoader(WithIndices([10.0, 20.0, 30.0]), batch_size=2)
        >>> [(indices.tolist(), values.tolist()) for indices, values in loader]
        [([0, 1], [10.0, 20.0]), ([2], [30.0])]
    """

    def __init__(self, dataset: _MapStyle[T_co]) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[int, T_co]:
        return index, self.dataset[index]

    def __getitems__(self, indices: list[int]) -> list[tuple[int, T_co]]:
        """The items at ``indices``, fetched in one call when the wrapped dataset can."""
        fetch = getattr(self.dataset, "__getitems__", None)
        items = fetch(indices) if fetch is not None else [self.dataset[i] for i in indices]
        return list(zip(indices, items, strict=True))

    def __repr__(self) -> str:
        return f"WithIndices({self.dataset!r})"

    def _forward(self, name: str) -> Any:
        try:
            return getattr(self.dataset, name)
        except AttributeError:
            msg = f"{type(self.dataset).__name__} (wrapped by WithIndices) has no .{name}"
            raise AttributeError(msg) from None

    @property
    def targets(self) -> Any:
        """The wrapped dataset's ``targets`` (``AttributeError`` if it has none)."""
        return self._forward("targets")

    @property
    def labels(self) -> Any:
        """The wrapped dataset's ``labels`` (``AttributeError`` if it has none)."""
        return self._forward("labels")

    @property
    def lengths(self) -> Any:
        """The wrapped dataset's ``lengths`` (``AttributeError`` if it has none)."""
        return self._forward("lengths")


class FeedbackState:
    """One score per sample, as training reported it: what feedback strategies plan from.

    `observe` queues (index, score) pairs in O(batch); `apply` folds the queued pairs into the
    per-sample arrays in the order they were observed, so the latest observation of a sample wins;
    `sync` does the same across the ranks of a ``torch.distributed`` group. Strategies read a
    `view`, which stays as it was when handed out (see `view`).

    Memory: 12 bytes per sample (``scores`` float32 and ``observed`` int64, the dtypes of
    `samplekit.strategy.FeedbackView`), plus 12 bytes per pair queued since the last apply.
    While a view or state dict handed out still refers to the arrays, the next `apply` copies
    them before updating (copy on write): 24 bytes per sample for a moment, O(N) once per epoch.
    `sync` also holds 24 bytes per queued pair per rank (the largest rank's count) while it runs.

    Not thread-safe: observe, apply and sync from the training loop's thread.

    Args:
        num_samples: N, the number of samples (the dataset's length), an integer >= 1.

    Examples:
        >>> state = FeedbackState(3)
        >>> state.observe([1], torch.tensor([2.0]), epoch=0)
        >>> before = state.view()  # nothing applied yet
        >>> state.apply()
        >>> before.scores.tolist(), state.view().scores.tolist()
        ([nan, nan, nan], [nan, 2.0, nan])
    """

    def __init__(self, num_samples: int) -> None:
        number = as_int(num_samples)
        if number is None or number < 1:
            msg = (
                f"num_samples: expected an integer >= 1 (the dataset's length), but got "
                f"num_samples={quote(num_samples)} ({type(num_samples).__name__})"
            )
            raise ConfigError(msg)
        self._n = number
        self._scores = torch.full((number,), math.nan, dtype=torch.float32)
        self._observed = torch.full((number,), -1, dtype=torch.int64)
        self._pending: list[tuple[torch.Tensor, torch.Tensor, int]] = []
        self._shared = False  # a view or state dict refers to the arrays: copy before writing
        self._version = 0

    @property
    def num_samples(self) -> int:
        """N, the number of samples."""
        return self._n

    @property
    def version(self) -> int:
        """A counter that grows whenever the applied state changes (apply, sync, load).

        Two equal versions of one state mean equal views, so a planner may cache on it.
        """
        return self._version

    @property
    def num_pending(self) -> int:
        """How many (index, score) pairs were observed and not yet applied."""
        return sum(indices.numel() for indices, _, _ in self._pending)

    def observe(self, indices: Any, scores: Any, *, epoch: int) -> None:
        """Queue one score per sample of a batch, to be folded in by `apply` or `sync`.

        Args:
            indices: the batch's sample indices, a 1-D integer tensor (on any device, as a
                ``DataLoader`` over `WithIndices` yields them), numpy array or sequence of ints,
                each in ``[0, num_samples)``. Not bools, not floats.
            scores: one finite score per index (say the per-sample loss, ``reduction="none"``),
                a 1-D floating tensor on any device or a sequence of numbers; copied, detached,
                to CPU float32.
            epoch: the epoch the batch belongs to, an integer >= 0 (stored as ``observed``).

        Raises:
            ConfigError: naming the argument, the first offending position and value, when
                shapes, lengths, dtypes, ranges or finiteness are wrong; nothing is queued then.
        """
        number = as_int(epoch)
        if number is None or number < 0:
            msg = (
                f"observe: epoch must be an integer >= 0 (the epoch the batch belongs to), but "
                f"got epoch={quote(epoch)} ({type(epoch).__name__})"
            )
            raise ConfigError(msg)
        index_tensor = self.check_indices(indices)
        score_tensor = _scores(scores)
        if index_tensor.numel() != score_tensor.numel():
            msg = (
                f"observe: got {index_tensor.numel()} indices but {score_tensor.numel()} scores; "
                f"pass one score per index (a per-sample loss, reduction='none')"
            )
            raise ConfigError(msg)
        if index_tensor.numel():
            self._pending.append((index_tensor, score_tensor, number))

    def apply(self) -> None:
        """Fold every queued pair into the state, in observation order (the latest wins).

        What a single process does at each epoch boundary; under ``torch.distributed`` use
        `sync` instead. Without queued pairs the state (and `version`) stays as it is.
        """
        indices, scores, epochs = self._take_pending()
        self._fold(indices, scores, epochs)

    def sync(self, group: ProcessGroup | None = None) -> None:
        """Fold every rank's queued pairs into every rank's state: `apply` across a group.

        Each rank's pairs are exchanged with two ``all_gather`` calls (the counts, then the pairs
        padded to the largest count, as one int64 tensor holding indices, the float32 scores'
        bits and epochs: all exact). Pairs are folded rank 0 first, each rank's in observation
        order, so every rank ends with the state one process gets by observing rank 0's pairs,
        then rank 1's, and so on. Every rank of ``group`` must call it at the same point.

        Without ``torch.distributed`` initialised, or in a group of one, it is `apply`. The
        tensors exchanged are CPU tensors, which gloo (and MPI) groups carry; an NCCL-only group
        would need them on the GPU, so for NCCL training pass a gloo group,
        ``torch.distributed.new_group(backend="gloo")``, made once at start-up.

        Args:
            group: the process group, ``None`` for the default group.

        Raises:
            ConfigError: if ``group`` uses the NCCL backend alone.
            DesyncError: if the ranks' states have different ``num_samples`` (on every rank).
        """
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            self.apply()
            return
        world = dist.get_world_size(group)
        if world == 1:
            self.apply()
            return
        backend = str(dist.get_backend(group))
        if backend == "nccl":
            msg = (
                "sync: group uses the NCCL backend alone, which cannot carry the CPU tensors "
                "sync exchanges; create a gloo group once, "
                "torch.distributed.new_group(backend='gloo'), and pass it as group"
            )
            raise ConfigError(msg)
        indices, scores, epochs = self._take_pending()
        header = torch.tensor([indices.numel(), self._n], dtype=torch.int64)
        headers = [torch.empty_like(header) for _ in range(world)]
        dist.all_gather(headers, header, group=group)
        counts = [int(h[0]) for h in headers]
        sizes = [int(h[1]) for h in headers]
        if len(set(sizes)) > 1:
            msg = (
                f"sync: the ranks' FeedbackState hold different num_samples ({sizes}, by rank); "
                f"build every rank's state from the same dataset"
            )
            raise DesyncError(msg)
        width = max(counts)
        if width == 0:
            return
        payload = torch.zeros((3, width), dtype=torch.int64)
        payload[0, : indices.numel()] = indices
        # float32 bits as int32, widened exactly (sign-extended) into int64; undone below.
        payload[1, : indices.numel()] = scores.view(torch.int32).to(torch.int64)
        payload[2, : indices.numel()] = epochs
        gathered = [torch.empty_like(payload) for _ in range(world)]
        dist.all_gather(gathered, payload, group=group)
        parts = [part[:, :count] for part, count in zip(gathered, counts, strict=True)]
        merged = torch.cat(parts, dim=1)
        self._fold(merged[0], merged[1].to(torch.int32).view(torch.float32), merged[2])

    def view(self) -> FeedbackView:
        """The state applied so far, for a strategy: O(1), the arrays themselves.

        Never write to its tensors. They stay as they are: the next `apply`, `sync` or
        `load_state_dict` writes to fresh copies (copy on write), so the view handed to a
        strategy for an epoch does not change while later observations come in. Queued,
        unapplied pairs are not in it.
        """
        self._shared = True
        return FeedbackView(self._scores, self._observed)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """``{"scores": float32[N], "observed": int64[N]}``, after applying queued pairs.

        Only this process's queued pairs are applied: under ``torch.distributed``, `sync` first.
        Never write to the tensors (they are the state's own, copied on the next write).
        """
        self.apply()
        self._shared = True
        return {"scores": self._scores, "observed": self._observed}

    def load_state_dict(self, state: Any) -> None:
        """Restore what `state_dict` returned (copied to CPU); queued pairs are dropped.

        Raises:
            ConfigError: if keys, types, dtypes or shapes differ from what `state_dict` returns,
                or scores and ``observed`` disagree (a score without an epoch or the reverse).
        """
        if not isinstance(state, Mapping):
            msg = (
                f"load_state_dict: expected the dict FeedbackState.state_dict() returned, but "
                f"got {type(state).__name__}"
            )
            raise ConfigError(msg)
        if set(state) != {"scores", "observed"}:
            msg = (
                f"load_state_dict: expected the keys ['observed', 'scores'], but got "
                f"{sorted(map(str, state))[:10]}; pass what FeedbackState.state_dict() returned"
            )
            raise ConfigError(msg)
        scores = self._loaded(state["scores"], "scores", torch.float32)
        observed = self._loaded(state["observed"], "observed", torch.int64)
        never = observed == -1
        for bad, what in (
            (observed < -1, "an epoch below -1"),
            (torch.isinf(scores), "an infinite score"),
            (torch.isnan(scores) != never, "a NaN score with an epoch, or the reverse"),
        ):
            if bool(bad.any()):
                i = int(torch.nonzero(bad)[0])
                msg = (
                    f"load_state_dict: sample {i} has {what} (score {float(scores[i])}, "
                    f"observed {int(observed[i])}); pass what FeedbackState.state_dict() returned"
                )
                raise ConfigError(msg)
        self._scores, self._observed = scores, observed
        self._pending = []
        self._shared = False
        self._version += 1

    def _loaded(self, value: Any, key: str, dtype: torch.dtype) -> torch.Tensor:
        if not isinstance(value, torch.Tensor) or value.dtype != dtype or value.shape != (self._n,):
            got = (
                f"{value.dtype} tensor of shape {tuple(value.shape)}"
                if isinstance(value, torch.Tensor)
                else type(value).__name__
            )
            msg = (
                f"load_state_dict: {key} must be a {dtype} tensor of shape ({self._n},) "
                f"(num_samples={self._n}), but got a {got}; load a state saved by a "
                f"FeedbackState of the same dataset"
            )
            raise ConfigError(msg)
        return value.detach().to("cpu", copy=True)

    def check_indices(self, indices: Any, what: str = "observe") -> torch.Tensor:
        """`samplekit.feedback.check_indices` for this state's number of samples."""
        return check_indices(indices, self._n, what)

    def _take_pending(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pending, self._pending = self._pending, []
        if not pending:
            empty = torch.empty(0, dtype=torch.int64)
            return empty, torch.empty(0, dtype=torch.float32), empty
        indices = torch.cat([part[0] for part in pending])
        scores = torch.cat([part[1] for part in pending])
        sizes = torch.tensor([part[0].numel() for part in pending])
        epochs = torch.repeat_interleave(torch.tensor([part[2] for part in pending]), sizes)
        return indices, scores, epochs

    def _fold(self, indices: torch.Tensor, scores: torch.Tensor, epochs: torch.Tensor) -> None:
        """Write the pairs in order, the last pair of each index winning."""
        if indices.numel() == 0:
            return
        # index_put_ with repeated indices keeps an unspecified one: keep each index's last pair.
        order = torch.sort(indices, stable=True).indices
        ordered = indices[order]
        last = torch.ones_like(ordered, dtype=torch.bool)
        last[:-1] = ordered[1:] != ordered[:-1]
        keep = order[last]
        if self._shared:
            self._scores, self._observed = self._scores.clone(), self._observed.clone()
            self._shared = False
        self._scores[indices[keep]] = scores[keep]
        self._observed[indices[keep]] = epochs[keep]
        self._version += 1


def _scores(scores: Any) -> torch.Tensor:
    if isinstance(scores, np.ndarray) and scores.dtype != np.object_:
        scores = torch.from_numpy(scores)
    if isinstance(scores, torch.Tensor):
        if scores.is_meta:
            msg = "observe: scores are a 'meta' tensor, which holds no values; pass real losses"
            raise ConfigError(msg)
        if scores.ndim != 1:
            hint = (
                "a 0-d tensor is one number: pass per-sample losses (reduction='none')"
                if scores.ndim == 0
                else "flatten them to one score per sample"
            )
            msg = f"observe: scores must be 1-D, but got shape {tuple(scores.shape)}; {hint}"
            raise ConfigError(msg)
        if not scores.is_floating_point():
            msg = (
                f"observe: scores must be a floating tensor, but got {scores.dtype}; pass the "
                f"per-sample losses (did indices and scores swap places?)"
            )
            raise ConfigError(msg)
        result = scores.detach().to("cpu", torch.float32, copy=True)
        bad = ~torch.isfinite(result)
        if bool(bad.any()):
            position = int(torch.nonzero(bad)[0])
            _not_finite(position, scores[position].item())
        return result
    if not isinstance(scores, Sequence) or isinstance(scores, (str, bytes)):
        msg = (
            f"observe: scores must be a 1-D floating tensor or a sequence of numbers, but got "
            f"{type(scores).__name__}"
        )
        raise ConfigError(msg)
    values = []
    for position, value in enumerate(scores):
        number = value.item() if isinstance(value, np.generic) else value
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            msg = (
                f"observe: scores[{position}]={quote(value)} ({type(value).__name__}) is not a "
                f"number; pass one float per sample"
            )
            raise ConfigError(msg)
        if not -_FLOAT32_MAX <= number <= _FLOAT32_MAX:  # False for NaN too
            _not_finite(position, number)
        values.append(float(number))
    return torch.tensor(values, dtype=torch.float32)


_FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def _not_finite(position: int, value: float) -> None:
    finite = isinstance(value, int) or math.isfinite(value)
    why = f"beyond float32's range (+-{_FLOAT32_MAX:.4g})" if finite else "not finite"
    msg = (
        f"observe: scores[{position}]={quote(value)} is {why}; every score must be a finite "
        f"float32: check the loss for NaN or inf"
    )
    raise ConfigError(msg)


def as_view(feedback: FeedbackView | None, num_samples: int) -> FeedbackView:
    """``feedback`` checked for ``num_samples`` samples, or the empty view for ``None``.

    What a feedback strategy calls on the view it gets before reading it.

    Raises:
        ConfigError: if the view's tensors are not float32 and int64 of shape (num_samples,),
            or a score is infinite.

    Examples:
        >>> as_view(None, 2).scores.tolist()
        [nan, nan]
    """
    if feedback is None:
        return FeedbackView.empty(num_samples)
    for key, tensor, dtype in (
        ("scores", feedback.scores, torch.float32),
        ("observed", feedback.observed, torch.int64),
    ):
        if tensor.dtype != dtype or tensor.shape != (num_samples,):
            msg = (
                f"feedback: {key} must be a {dtype} tensor of shape ({num_samples},) (one per "
                f"sample), but got {tensor.dtype} of shape {tuple(tensor.shape)}; pass the view "
                f"of a FeedbackState(num_samples={num_samples})"
            )
            raise ConfigError(msg)
    infinite = torch.isinf(feedback.scores)
    if bool(infinite.any()):
        i = int(torch.nonzero(infinite)[0])
        msg = (
            f"feedback: sample {i} has score {float(feedback.scores[i])}; scores must be finite "
            f"(NaN for never observed)"
        )
        raise ConfigError(msg)
    return feedback


def check_indices(indices: Any, num_samples: int, what: str = "observe") -> torch.Tensor:
    """``indices`` as a CPU int64 tensor, checked to be indices of ``num_samples`` samples.

    Raises:
        ConfigError: for indices that are not a 1-D integer tensor or sequence, or out of
            range (the message starts with ``what``).
    """
    if isinstance(indices, np.ndarray):
        indices = list(indices) if indices.dtype == np.object_ else torch.from_numpy(indices)
    if isinstance(indices, torch.Tensor):
        if indices.ndim != 1:
            msg = (
                f"{what}: indices must be 1-D (one per sample), but got shape "
                f"{tuple(indices.shape)}; flatten them"
            )
            raise ConfigError(msg)
        if indices.dtype == torch.bool or indices.is_floating_point() or indices.is_complex():
            msg = (
                f"{what}: indices must be integers, but got a {indices.dtype} tensor; pass "
                f"the indices WithIndices yields (not a mask, not scores)"
            )
            raise ConfigError(msg)
        result = indices.detach().to("cpu", torch.int64, copy=True)
        bad = (result < 0) | (result >= num_samples)
        if bool(bad.any()):
            position = int(torch.nonzero(bad)[0])
            _out_of_range(num_samples, position, int(result[position]), what)
        return result
    if not isinstance(indices, Sequence) or isinstance(indices, (str, bytes)):
        msg = (
            f"{what}: indices must be a 1-D integer tensor or a sequence of ints, but got "
            f"{type(indices).__name__}"
        )
        raise ConfigError(msg)
    values = []
    for position, value in enumerate(indices):
        number = as_int(value)
        if number is None:
            msg = (
                f"{what}: indices[{position}]={quote(value)} ({type(value).__name__}) is "
                f"not an integer; pass sample indices"
            )
            raise ConfigError(msg)
        if not 0 <= number < num_samples:
            _out_of_range(num_samples, position, number, what)
        values.append(number)
    return torch.tensor(values, dtype=torch.int64)


def _out_of_range(num_samples: int, position: int, value: int, what: str) -> None:
    msg = (
        f"{what}: indices[{position}]={quote(value)} is out of range; indices must lie in "
        f"[0, {num_samples}) (num_samples={num_samples}): wrap the dataset this state is for"
    )
    raise ConfigError(msg)
