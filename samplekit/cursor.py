"""The cursor: which epoch the sampler is in, how far, and which iteration may move it.

The cursor holds ``(epoch, start, position)``: the epoch of the running (or last) iteration,
the global batch its iteration started from (0, unless a checkpoint of another world size was
loaded: an elastic resume), and how many of this rank's batches of it were handed out. Ranks
move in lockstep, so its checkpoint counts global batches (``start + position * world_size``,
every rank's share), the same on every rank.
One iteration at a time owns it: `begin` starts a new one (superseding any other), `step`
counts a batch for its owner only, and `set_epoch` or `load` supersede the running one. The
rules, in one place:

- an iteration starts at ``(epoch, position)``, or at the next epoch's first batch when every
  batch of the epoch was handed out, unless `set_epoch` chose this epoch again;
- an iteration is alive from `begin` until `end` (exhausted, closed or garbage-collected);
- `set_epoch` naming the epoch of an alive iteration changes nothing: a loop that calls it after
  its ``DataLoader`` iterator was created (Lightning's ``on_train_epoch_start``, after workers
  took their first batches) keeps its epoch. Any other `set_epoch` supersedes an alive
  iteration and starts its epoch from the first batch, except right after `load` with the
  loaded epoch (a loop resuming a checkpoint with its own epoch counter);
- the epoch moves only when an iteration begins or `set_epoch` is called, never when an
  iteration ends: ``DataLoader`` workers take an epoch's last batch while the loop is still in
  the epoch, and ``len`` must stay that epoch's.

Examples:
    >>> from samplekit.cursor import Cursor
    >>> cursor = Cursor(world_size=2)
    >>> token = cursor.begin(lambda epoch: 2)
    >>> cursor.step(token); cursor.step(token)
    >>> cursor.epoch, cursor.position, cursor.state_dict()
    (0, 2, {'epoch': 0, 'global_batches': 4})
    >>> token = cursor.begin(lambda epoch: 2)   # epoch 0 was handed out: go on with epoch 1
    >>> cursor.epoch, cursor.position
    (1, 0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samplekit.errors import StaleIteratorError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Cursor"]


class Cursor:
    """Where iteration stands: ``(epoch, position)`` and the iteration that owns it."""

    def __init__(self, world_size: int = 1) -> None:
        self.world_size = world_size
        self.epoch = 0
        self.start = 0  # the global batch this epoch's iteration starts from (elastic resume)
        self.position = 0  # this rank's batches of `epoch` handed out (or to skip on resume)
        self._pinned = False  # set_epoch chose the epoch of the next iteration
        self._resumed = False  # the position comes from load(), no iteration since
        self._owner: object | None = None  # the one iteration allowed to move the position

    def upcoming(self, num_batches: Callable[[int], int]) -> tuple[int, int]:
        """The ``(epoch, position)`` the next iteration starts from."""
        epoch, position = self.epoch, self.position
        started = position > 0 or self.start > 0  # (an elastic resume starts at `start`)
        if not self._pinned and started and position >= num_batches(epoch):
            return epoch + 1, 0
        return epoch, position

    def begin(self, num_batches: Callable[[int], int]) -> object:
        """Start an iteration at `upcoming`; return its token (it supersedes any other)."""
        epoch, self.position = self.upcoming(num_batches)
        if epoch != self.epoch:
            self.start = 0
        self.epoch = epoch
        self._pinned = self._resumed = False
        self._owner = token = object()
        return token

    def step(self, token: object) -> None:
        """Count one batch handed out by the iteration holding ``token``.

        Raises:
            StaleIteratorError: if that iteration was superseded.
        """
        if self._owner is not token:
            msg = (
                "this iteration was superseded: a newer iteration of the same sampler started, "
                "or set_epoch or load_state_dict was called. A sampler feeds one loop at a "
                "time; call set_epoch before iterating"
            )
            raise StaleIteratorError(msg)
        self.position += 1

    def end(self, token: object) -> None:
        """The iteration holding ``token`` is over (exhausted or closed); nothing is alive now."""
        if self._owner is token:
            self._owner = None

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (see the module docstring for the position)."""
        if self._owner is not None and epoch == self.epoch:
            return  # the alive iteration already is this epoch
        if not (self._resumed and epoch == self.epoch):
            self.start, self.position, self._resumed = 0, 0, False
        self.epoch, self._pinned, self._owner = epoch, True, None

    def state_dict(self) -> dict[str, int]:
        """The epoch and its global batches handed out: ``start + position * world_size``."""
        return {
            "epoch": self.epoch,
            "global_batches": self.start + self.position * self.world_size,
        }

    def load(self, epoch: int, position: int, start: int = 0) -> None:
        """Continue from a checkpoint's ``(epoch, position)``, from global batch ``start``.

        A `set_epoch` made before loading still holds when it named the loaded epoch
        (``StatefulDataLoader`` loads the sampler's state when its iterator starts, after the
        loop's ``set_epoch``).
        """
        self._pinned = self._pinned and epoch == self.epoch
        self.epoch, self.start, self.position = epoch, start, position
        self._resumed, self._owner = True, None

    def release(self) -> None:
        """Forget the running iteration (a copy of the sampler does not continue it)."""
        self._owner = None
