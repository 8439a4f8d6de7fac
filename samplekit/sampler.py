"""The `EpochBatchSampler`: a batch sampler whose epochs come from a named strategy."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Sampler

from samplekit import distributed, nodecache, sharding
from samplekit.config import SamplerConfig, StrategyConfig, validate_config
from samplekit.cursor import Cursor
from samplekit.errors import ConfigError, LabelsError
from samplekit.feedback import check_indices
from samplekit.inputs import as_int, quote
from samplekit.labels import as_label_tensor
from samplekit.lengths import as_length_tensor
from samplekit.observing import EpochFeedback, loss_weights_for
from samplekit.plan import EpochPlan, EpochReader, Planner
from samplekit.prefetch import Prefetcher
from samplekit.state import MAX_EPOCH, STATE_VERSION, check_state, digest, labels_digest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Self

    from samplekit.batcher import Batcher
    from samplekit.strategy import EpochContext, FeedbackView, Strategy

__all__ = ["EpochBatchSampler"]


class EpochBatchSampler(Sampler[list[int]]):
    """Yields batches of sample indices; each epoch's selection comes from a strategy.

    Pass it to ``DataLoader(dataset, batch_sampler=sampler)``. Epoch ``e`` is a pure function of
    (labels, configuration, seed, e): randomness comes from a ``torch.Generator`` seeded from
    ``(seed, e)``, never from global RNG state.

    Args:
        labels: one integer class label per sample (list, numpy array, integer tensor), or a
            dataset exposing them as ``.targets`` or ``.labels``. Never iterated. ``None`` for
            a strategy that needs no labels (``shuffle``): the samples are then counted from
            ``lengths``.
        strategy: a registered strategy name, a mapping ``{"name": ..., **options}``, a
            `samplekit.config.StrategyConfig`, or a `samplekit.Strategy` class.
        batch_size: samples per batch, at least 1; required by batchers that use it (the
            default ``fixed``, ``length_grouped``) and refused by others (``token_budget``).
        seed: seed of every epoch's generator.
        drop_last: drop the last batch of an epoch when it is smaller than ``batch_size``
            (and, with several ranks, the batches beyond the last whole step).
        lengths: per-sample sizes (tokens, frames, bytes) as non-negative integers, one per
            sample, or a dataset exposing them as ``.lengths`` or ``.sizes``; needed by
            length-aware batchers.
        batcher: how each epoch is cut into batches: a registered batcher name
            (``samplekit batchers`` lists them), a mapping ``{"name": ..., **options}``, a
            `samplekit.config.BatcherConfig`, or a `samplekit.batcher.Batcher` class.
            Default: ``"fixed"``, batches of ``batch_size`` in the strategy's order.
        rank: this process's rank; default: ``torch.distributed``'s if initialised, else 0.
        world_size: number of ranks; default: ``torch.distributed``'s if initialised, else 1.
            Each rank yields every ``world_size``-th whole batch of the shared global epoch
            (see `samplekit.distributed` for the padding rule).
        check_sync: when ``torch.distributed`` is initialised, check once, with one small
            collective, that every rank has the same seed, configuration and labels (every
            rank must then construct the sampler). ``False`` skips it.
        prefetch: while an epoch is iterated, prepare the next one's indices in a background
            thread (one epoch ahead at most), so iteration does not wait at the boundary.
            Batches are unchanged; the strategy's ``sample`` then runs in that thread, ahead of
            time. It costs memory for one more epoch of indices, and at interpreter exit Python
            waits for an epoch being prepared. With ``DataLoader(num_workers > 0)`` prefer
            ``persistent_workers=True``, so workers are not forked while the thread runs.
        **options: the strategy's options (see ``samplekit strategies``).

    Raises:
        ConfigError: for an invalid setting or option (the message names field and value),
            or unusable lengths.
        LabelsError: for unusable labels, or labels that the strategy cannot work with.
        UnknownStrategyError: for a strategy name no plugin registered.
        UnknownBatcherError: for a batcher name no plugin registered.

    Examples:
        >>> from samplekit import EpochBatchSampler
        >>> labels = [0] * 80 + [1] * 20
        >>> sampler = EpochBatchSampler(labels, "negative_subsampling", batch_size=10,
        ...                             neg_ratio=0.25)
        >>> len(sampler)
        4
        >>> batches = list(sampler)              # epoch 0
        >>> sum(len(b) for b in batches), sampler.epoch
        (40, 0)
        >>> list(sampler) != batches, sampler.epoch   # the next iteration draws epoch 1
        (True, 1)
        >>> sampler.set_epoch(0)
        >>> list(sampler) == batches
        True

        Batches by a token budget, from per-sample lengths:

        >>> lengths = [12, 40, 7, 33, 25, 18, 9, 30]
        >>> sampler = EpochBatchSampler(None, "shuffle", lengths=lengths,
        ...                             batcher={"name": "token_budget", "max_tokens": 64})
        >>> all(max(lengths[i] for i in b) * len(b) <= 64 for b in sampler)
        True
    """

    def __init__(
        self,
        labels: Any,
        strategy: Any,
        *,
        batch_size: int | None = None,
        seed: int = 0,
        drop_last: bool = False,
        rank: int | None = None,
        world_size: int | None = None,
        check_sync: bool = True,
        prefetch: bool = False,
        lengths: Any = None,
        batcher: Any = None,
        **options: Any,
    ) -> None:
        given = {
            "strategy": StrategyConfig.resolve(strategy, options),
            "batch_size": batch_size,
            "seed": seed,
            "drop_last": drop_last,
        }
        config = validate_config(given if batcher is None else {**given, "batcher": batcher})
        self._setup(config, labels, lengths, rank, world_size, check_sync, prefetch)

    @classmethod
    def from_config(
        cls,
        config: SamplerConfig | Mapping[str, Any] | str,
        labels: Any,
        *,
        lengths: Any = None,
        rank: int | None = None,
        world_size: int | None = None,
        check_sync: bool = True,
        prefetch: bool = False,
    ) -> Self:
        """Build a sampler from a `SamplerConfig`, a mapping or a JSON string.

        ``lengths``, ``rank``, ``world_size``, ``check_sync`` and ``prefetch`` are as in the
        constructor.

        Examples:
            >>> from samplekit import EpochBatchSampler
            >>> sampler = EpochBatchSampler.from_config(
            ...     {"strategy": {"name": "stratified"}, "batch_size": 4, "drop_last": True},
            ...     [0, 1] * 5)
            >>> len(sampler)
            2
        """
        sampler = cls.__new__(cls)
        sampler._setup(
            validate_config(config), labels, lengths, rank, world_size, check_sync, prefetch
        )
        return sampler

    def _setup(
        self,
        config: SamplerConfig,
        labels: Any,
        lengths: Any,
        rank: int | None,
        world_size: int | None,
        check_sync: bool,
        prefetch: bool,
    ) -> None:
        for name, flag in (("check_sync", check_sync), ("prefetch", prefetch)):
            if type(flag) not in (bool, np.bool_):  # not 0, 1 or "no"
                msg = (
                    f"{name}: expected True or False, but got {name}={quote(flag)} "
                    f"({type(flag).__name__})"
                )
                raise ConfigError(msg)
        self._config = config
        self._rank, self._world_size = distributed.resolve_rank(rank, world_size)
        strategy_class = config.strategy.strategy_class
        self._labels, self._lengths = _inputs(labels, lengths, strategy_class)
        batcher_class = config.batcher.batcher_class
        if batcher_class.needs_lengths and self._lengths is None:
            msg = (
                f"lengths: the {config.batcher.name!r} batcher needs per-sample lengths; pass "
                f"lengths=... (one non-negative integer per sample: tokens, frames, bytes)"
            )
            raise ConfigError(msg)
        self._fingerprint: dict[str, Any] = {
            "config": config.model_dump(mode="json"),
            "labels": {
                "count": int(self._labels.numel()),
                "digest": 0 if labels is None else labels_digest(self._labels),
            },
        }
        if self._lengths is not None:
            self._fingerprint["lengths"] = {"digest": labels_digest(self._lengths)}
        sync = bool(check_sync) and distributed.in_default_group(self._rank, self._world_size)
        # Per-node data (a per-class index) is built once per node when every rank builds the
        # sampler (the sync below) and there are labels (samplekit.nodecache).
        where = (
            nodecache.directory() if sync and self._world_size > 1 and labels is not None else None
        )
        with nodecache.sharing(
            self._fingerprint["labels"]["digest"], where, labels=self._labels
        ) as written:
            try:
                self._build(config, strategy_class, batcher_class)
                if sync:
                    distributed.check_in_sync(
                        {
                            "seed": digest(str(config.seed).encode()),
                            "configuration": digest(
                                config.model_dump_json(exclude={"seed"}).encode()
                            ),
                            "labels": self._fingerprint["labels"]["digest"],
                            "lengths": self._fingerprint.get("lengths", {"digest": 0})["digest"],
                        }
                    )
            finally:  # every rank has built its strategy (or this one failed): files can go
                nodecache.release(written)
        # A feedback strategy's next epoch waits for the observations of this one: no prefetch.
        use_prefetch = bool(prefetch) and self._feedback is None
        self._prefetch = Prefetcher(self._planner.reader) if use_prefetch else None

    def _build(
        self, config: SamplerConfig, strategy_class: type[Strategy], batcher_class: type[Batcher]
    ) -> None:
        """The strategy, the batcher, the planner, the feedback and the cursor."""
        self._strategy: Strategy = strategy_class(self._labels, config.strategy.options)
        self._batcher: Batcher = batcher_class(
            config.batcher.options,
            lengths=self._lengths,
            batch_size=config.batch_size,
            drop_last=config.drop_last,
        )
        _check_batch_size(self._strategy, self._batcher, config)
        self._planner = Planner(
            self._strategy, self._batcher, seed=config.seed, num_samples=self._labels.numel()
        )
        self._feedback = self._feedback_for(strategy_class)
        self._cursor = Cursor(self._world_size)

    def _feedback_for(self, strategy_class: type[Strategy]) -> EpochFeedback | None:
        if not strategy_class.uses_feedback:
            return None
        exchange = distributed.in_default_group(self._rank, self._world_size)
        if self._world_size > 1 and not exchange:
            msg = (
                f"strategy {strategy_class.name!r} plans from training feedback, which ranks "
                f"exchange through torch.distributed, but world_size={self._world_size} is not "
                f"this process's default process group; initialise torch.distributed and let "
                f"the sampler take rank and world_size from it"
            )
            raise ConfigError(msg)
        return EpochFeedback(int(self._labels.numel()), exchange=exchange and self._world_size > 1)

    def _view(self, epoch: int) -> tuple[FeedbackView, int] | None:
        return None if self._feedback is None else self._feedback.view_for(epoch)

    def observe(self, indices: Any, scores: Any) -> None:
        """Report one score per sample (say its loss) for a feedback strategy to plan from.

        Call it from the training loop, as often as you like, with the indices of a batch (as
        `samplekit.WithIndices` yields them: a tensor or a list) and a 1-D float tensor of
        scores (any device; a detached copy is kept). O(batch). Epoch ``e`` is planned from
        every observation made before ``e`` began; under ``torch.distributed`` the ranks'
        observations are exchanged then, with one collective, so every rank plans the same
        epoch.

        Raises:
            ConfigError: if the strategy does not use feedback, or for bad input (lengths that
                differ, an index out of range, a NaN or infinite score, a 2-D tensor).
        """
        if self._feedback is None:
            msg = (
                f"observe: the {self._strategy.name!r} strategy does not plan from feedback, "
                f"so observations would be lost; use a feedback strategy (infobatch, "
                f"importance, hard_negatives) or drop the observe() call"
            )
            raise ConfigError(msg)
        self._feedback.observe(indices, scores, epoch=self._cursor.epoch)

    def loss_weights(self, indices: Any) -> torch.Tensor:
        """Per-sample loss multipliers of the running epoch for ``indices`` (float32).

        All ones unless a feedback strategy reweights the samples it keeps (``infobatch`` with
        ``rescale``, ``importance``), so that ``(loss * sampler.loss_weights(idx)).mean()``
        stays an unbiased estimate of the full-data loss. On the device of ``indices``.

        Raises:
            ConfigError: for indices that are not sample indices.
        """
        index = check_indices(indices, int(self._labels.numel()), "loss_weights")
        weights = None
        if self._feedback is not None:
            epoch = self._cursor.epoch
            weights = self._planner.plan(epoch, self._view(epoch)).weights
        return loss_weights_for(index, indices, weights)

    @property
    def config(self) -> SamplerConfig:
        """The validated configuration (``config.model_dump_json()`` rebuilds this sampler)."""
        return self._config

    @property
    def strategy(self) -> Strategy:
        """The strategy instance building the epochs."""
        return self._strategy

    @property
    def labels(self) -> torch.Tensor:
        """The validated 1-D integer label tensor (zeros when the sampler got ``None``)."""
        return self._labels

    @property
    def lengths(self) -> torch.Tensor | None:
        """The validated per-sample lengths, or ``None``."""
        return self._lengths

    @property
    def batch_size(self) -> int | None:
        """Samples per batch, or ``None`` for a batcher that sizes batches itself."""
        return self._config.batch_size

    @property
    def batcher(self) -> Batcher:
        """The batcher instance cutting each epoch into batches (see `samplekit.batcher`)."""
        return self._batcher

    @property
    def planner(self) -> Planner:
        """Builds each epoch's global plan from the strategy and the batcher."""
        return self._planner

    @property
    def drop_last(self) -> bool:
        """Whether the last, smaller batch of an epoch is dropped."""
        return self._config.drop_last

    @property
    def seed(self) -> int:
        """The seed every epoch's generator is derived from."""
        return self._config.seed

    @property
    def rank(self) -> int:
        """This process's rank among ``world_size``."""
        return self._rank

    @property
    def world_size(self) -> int:
        """How many ranks share each epoch."""
        return self._world_size

    @property
    def epoch(self) -> int:
        """The epoch of the running iteration, or of the last one; `len` is this epoch's.

        It moves only when an iteration starts (or `set_epoch` is called): after a whole epoch
        it still names that epoch, because a ``DataLoader`` with workers takes every batch from
        the sampler while the training loop is still in the epoch. The next iteration then goes
        on with the next epoch, unless `set_epoch` asked for this one again.
        """
        return self._cursor.epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch`` (for exact reproducibility).

        The next iteration yields the whole of epoch ``epoch``, with one exception: right after
        `load_state_dict`, setting the checkpoint's own epoch resumes where it stopped (and
        yields nothing if the checkpoint was taken after its last batch), so a loop that calls
        ``set_epoch`` with its own counter resumes exactly.

        Calling this is optional: each iteration continues where the last one stopped, and one
        that starts after an epoch's last batch was handed out goes on with the next epoch (even
        if the consumer stopped without exhausting the iterator, as Lightning does), so a loop
        that runs whole epochs draws a fresh one each time.

        An iteration still alive when this is called (not exhausted, not closed) is left alone
        if it already is epoch ``epoch`` (a loop that calls ``set_epoch`` just after creating
        its ``DataLoader`` iterator, as Lightning's ``on_train_epoch_start`` does). Otherwise it
        is over: asked for another batch, it raises `samplekit.errors.StaleIteratorError`.
        Call ``set_epoch`` before iterating, as with ``DistributedSampler``.

        Raises:
            ConfigError: if ``epoch`` is not an integer from 0 to 2**63 - 1.
        """
        value = as_int(epoch)
        if value is None or not 0 <= value <= MAX_EPOCH:
            msg = (
                f"epoch: expected an int from 0 to 2**63 - 1, but got epoch={quote(epoch)} "
                f"({type(epoch).__name__})"
            )
            raise ConfigError(msg)
        self._cursor.set_epoch(value)

    def num_batches(self, epoch: int) -> int:
        """How many batches this rank yields in epoch ``epoch``.

        After a checkpoint of another world size was loaded mid-epoch, the loaded epoch counts
        the batches left (its iteration starts where the checkpoint stopped).

        Computed without sampling when the batcher counts batches from the epoch's length (the
        ``fixed`` and ``length_grouped`` batchers); otherwise the epoch is planned once and the
        plan is kept for its iteration.
        """
        return sharding.rank_batch_count(
            self._planner.count(epoch, self._view(epoch)),
            self._world_size,
            drop_last=self.drop_last,
            start=self._start(epoch),
        )

    def _start(self, epoch: int) -> int:
        """The global batch ``epoch``'s iteration starts from (0 unless elastically resumed)."""
        return self._cursor.start if epoch == self._cursor.epoch else 0

    def __len__(self) -> int:
        return self.num_batches(self._cursor.epoch)

    def epoch_context(self, epoch: int) -> EpochContext:
        """The context the strategy gets to build epoch ``epoch`` (a fresh generator each call)."""
        view = self._view(epoch)
        return self._planner.context(epoch, None if view is None else view[0])

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """All indices of epoch ``epoch`` in batch order, checked against the contracts.

        The strategy's order cut by the batcher (the same order for the ``fixed`` batcher);
        it does not change `epoch`.

        Raises:
            StrategyOutputError: if the strategy returned something other than
                ``epoch_length(epoch)`` integer indices in ``[0, len(labels))``, or the batcher
                broke its contract.
        """
        return self._plan(epoch).order

    def _plan(self, epoch: int) -> EpochPlan:
        return self._planner.plan(epoch, self._view(epoch))

    def epoch_batches(self, epoch: int, start: int = 0) -> Iterator[list[int]]:
        """This rank's batches of epoch ``epoch`` from its ``start``-th, without changing state."""
        return self._batches(epoch, start, self._reader)

    def _reader(self, epoch: int) -> EpochReader:
        return self._planner.reader(epoch, self._view(epoch))

    def _batches(
        self, epoch: int, start: int, plan_of: Callable[[int], EpochReader]
    ) -> Iterator[list[int]]:
        ids = sharding.rank_batch_ids(
            self._planner.count(epoch, self._view(epoch)),
            rank=self._rank,
            world_size=self._world_size,
            drop_last=self.drop_last,
            start=self._start(epoch),
        )[start:]
        if ids:
            yield from plan_of(epoch).batches(ids)

    def __iter__(self) -> Iterator[list[int]]:
        # Runs from the first next(): the iteration that begins last owns the cursor (see
        # samplekit.cursor), and one that was superseded raises instead of moving it.
        token = self._cursor.begin(self.num_batches)
        if self._feedback is not None:  # pins every observation so far, of all ranks (once)
            self._feedback.begin(self._cursor.epoch)
        try:
            for batch in self._batches(
                self._cursor.epoch, self._cursor.position, self._plan_for_iteration
            ):
                self._cursor.step(token)
                yield batch
        finally:  # exhausted, closed, or dropped by a loop that broke out
            self._cursor.end(token)

    def _plan_for_iteration(self, epoch: int) -> EpochReader:
        if self._prefetch is None:
            return self._reader(epoch)
        plan = self._prefetch.take(epoch)
        self._prefetch.start(epoch + 1)
        return plan

    def state_dict(self) -> dict[str, Any]:
        """A small JSON-serialisable checkpoint of where this sampler is.

        Holds the cursor (the epoch, and the global batches of it already handed out over all
        ranks: see `samplekit.cursor`), the world size, and fingerprints of the labels and
        configuration. Ranks advance in lockstep, so any rank's state resumes every rank.

        A feedback strategy's checkpoint also holds its ``feedback``: the scores the running
        epoch was planned from and every score observed since (two float32 and two int64
        tensors, one entry per sample; save it with ``torch.save``). Under
        ``torch.distributed`` it first exchanges the ranks' latest observations, a collective:
        call ``state_dict()`` on every rank, as with ``torch.distributed.checkpoint``.

        Examples:
            >>> from samplekit import EpochBatchSampler
            >>> sampler = EpochBatchSampler([0, 1] * 20, "stratified", batch_size=4)
            >>> it = iter(sampler); first = [next(it), next(it)]
            >>> state = sampler.state_dict()
            >>> state["cursor"]
            {'epoch': 0, 'global_batches': 2}
            >>> resumed = EpochBatchSampler([0, 1] * 20, "stratified", batch_size=4)
            >>> resumed.load_state_dict(state)
            >>> list(resumed) == list(it)
            True
        """
        return {
            "version": STATE_VERSION,
            "cursor": self._cursor.state_dict(),
            "world_size": self._world_size,
            **self._fingerprint,
            **({} if self._feedback is None else {"feedback": self._feedback.state_dict()}),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from `state_dict`: the next iteration yields what that epoch had left.

        The checkpoint may come from any world size (elastic resume): it counts the global
        batches handed out, so the ranks here continue the same global batch sequence, every
        remaining batch once over all ranks, each rank the same number (padded or dropped as
        ``drop_last`` says). Checkpoints of earlier samplekit versions (1, 2) load as well.

        Raises:
            ConfigError: if the state comes from other labels, lengths or configuration
                (naming what differs), or is malformed.
        """
        expected = self._fingerprint
        feedback = self._feedback
        if feedback is not None:
            if not isinstance(state, Mapping) or "feedback" not in state:
                msg = (
                    f"state: the {self._strategy.name!r} strategy plans from feedback, but the "
                    f"checkpoint holds none; pass the state_dict() of a sampler with this strategy"
                )
                raise ConfigError(msg)
            feedback = EpochFeedback(int(self._labels.numel()), exchange=feedback.exchange)
            feedback.load_state_dict(state["feedback"])  # used only if the whole state is valid
            state = {key: value for key, value in state.items() if key != "feedback"}

        def global_batches(epoch: int) -> int:
            view = None if feedback is None else feedback.view_for(epoch)
            return self._planner.count(epoch, view)

        epoch, handed = check_state(state, expected, global_batches, drop_last=self.drop_last)
        self._feedback = feedback
        world = self._world_size
        total = global_batches(epoch)
        if handed >= total:  # the epoch was handed out whole: the next iteration goes on
            done = sharding.rank_batch_count(total, world, drop_last=self.drop_last)
            self._cursor.load(epoch, done)
        elif handed % world == 0:  # a step boundary of this world size
            self._cursor.load(epoch, handed // world)
        else:  # elastic: this epoch's iteration starts at global batch `handed`
            self._cursor.load(epoch, 0, start=handed)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_prefetch"] = self._prefetch is not None  # threads do not pickle: start afresh
        state["_cursor"] = copy.copy(self._cursor)
        state["_cursor"].release()  # an iteration does not travel with a copy
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        prefetch = state.pop("_prefetch")
        self.__dict__.update(state)
        self._prefetch = Prefetcher(self._planner.reader) if prefetch else None

    def __repr__(self) -> str:
        strategy = self._config.strategy.model_dump(mode="json")  # as from_config takes it
        batcher = self._config.batcher.model_dump(mode="json")
        shown = "" if batcher == {"name": "fixed"} else f"batcher={batcher!r}, "
        return (
            f"{type(self).__name__}(strategy={strategy!r}, {shown}"
            f"batch_size={self.batch_size}, seed={self.seed}, drop_last={self.drop_last}, "
            f"num_samples={self._labels.numel()}, epoch={self._cursor.epoch})"
        )


def _inputs(
    labels: Any, lengths: Any, strategy: type[Strategy]
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The validated labels (zeros of no memory for ``labels=None``) and lengths."""
    if labels is None:
        if strategy.needs_labels:
            msg = (
                f"labels: the {strategy.name!r} strategy needs one class label per sample, but "
                f"got None; pass the labels (or a dataset with .targets or .labels), or use a "
                f"strategy that needs none, such as 'shuffle'"
            )
            raise LabelsError(msg)
        if lengths is None:
            msg = (
                "labels: got None and no lengths, so the number of samples is unknown; pass "
                "lengths=... (one per sample) or the labels"
            )
            raise LabelsError(msg)
        sizes = as_length_tensor(lengths)
        return torch.zeros(1, dtype=torch.uint8).expand(sizes.numel()), sizes
    tensor = as_label_tensor(labels)
    if lengths is None:
        return tensor, None
    return tensor, as_length_tensor(lengths, count=tensor.numel())


def _check_batch_size(strategy: Strategy, batcher: Batcher, config: SamplerConfig) -> None:
    """The strategy's `check_batch_size` of the batch size it will be told, at construction."""
    try:
        strategy.check_batch_size(batcher.nominal_batch_size)
    except ConfigError as exc:
        if config.batch_size is not None:
            raise
        msg = (
            f"{exc} (the {config.batcher.name!r} batcher sizes batches itself and tells the "
            f"strategy a nominal batch size of {batcher.nominal_batch_size}; see its options)"
        )
        raise ConfigError(msg) from None
