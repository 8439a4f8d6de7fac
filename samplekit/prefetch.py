"""Prefetch: the next epoch's plan, prepared in a background thread.

Examples:
    >>> import torch
    >>> from samplekit.prefetch import Prefetcher
    >>> prefetch = Prefetcher(lambda epoch: torch.arange(3) + epoch)
    >>> prefetch.start(1)
    >>> prefetch.take(1).tolist(), prefetch.take(2).tolist()
    ([1, 2, 3], [2, 3, 4])
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

__all__ = ["Prefetcher"]


class Prefetcher(Generic[T]):
    """Prepares the next epoch (its plan) in a background thread, one epoch at most.

    ``take(epoch)`` hands over the prepared epoch when it is the one asked for, and otherwise
    computes it in the caller, leaving the prepared one in place (a loop stopped mid-epoch
    replays that epoch first, then wants the prepared one). ``start(epoch)`` does nothing while
    ``epoch`` is prepared or under way, or while another epoch is still being prepared: a
    sampler never has more than one thread and one spare epoch.

    The thread is not a daemon: at interpreter exit Python waits for an epoch in flight rather
    than tearing torch down underneath it.
    """

    def __init__(self, compute: Callable[[int], T]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._pending: tuple[int, Future[T]] | None = None

    def start(self, epoch: int) -> None:
        """Prepare ``epoch`` in a background thread, unless one is prepared or under way."""
        with self._lock:
            pending = self._pending
            if pending is not None and (pending[0] == epoch or not pending[1].done()):
                return
            future: Future[T] = Future()
            self._pending = (epoch, future)
        thread = threading.Thread(
            target=self._run, args=(epoch, future), name="samplekit-prefetch", daemon=False
        )
        thread.start()

    def _run(self, epoch: int, future: Future[T]) -> None:
        try:
            future.set_result(self._compute(epoch))
        except BaseException as exc:  # handed to the consumer by take()
            future.set_exception(exc)

    def take(self, epoch: int) -> T:
        """``epoch``'s result: the prepared one if it is that epoch's, else computed now."""
        with self._lock:
            pending = self._pending
            if pending is not None and pending[0] == epoch:
                self._pending = None
            else:
                pending = None
        if pending is not None:
            return pending[1].result()
        return self._compute(epoch)
